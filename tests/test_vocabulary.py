"""One vocabulary: method names spelled one way in options, config keys and outputs; old spellings work, with a note."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from gep.vocabulary import respell_section, spelled

from tests._e2e import gep


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("vocab") / "p"
    assert gep("init", target, "-q").exit_code == 0
    return target


def test_spelled() -> None:
    assert spelled("equivalent-factor") == "equivalent_factor"
    assert spelled("gain-loss") == "gain_loss"
    assert spelled("equivalent_factor") == "equivalent_factor"
    assert spelled("tax-2018") == "tax-2018"  # not a method: untouched


def test_respell_section_renames_keys_and_values_with_notes() -> None:
    data, notes = respell_section("uncertainty", {"models": ["function-value"], "draws": 10})
    assert data == {"methods": ["function_value"], "draws": 10}
    assert len(notes) == 2 and "'models' is now spelled 'methods'" in notes[0]
    assert respell_section("uncertainty", {"methods": ["auto"]}) == ({"methods": ["auto"]}, [])


def test_every_method_option_offers_the_one_spelling() -> None:
    for args, word in ((["account", "--help"], "function_value"), (["carbon", "--help"], "stock_difference"),
                       (["uncertainty", "--help"], "--method"), (["sensitivity", "--help"], "--method")):
        r = gep(*args)
        assert r.exit_code == 0 and word in r.output, args


def test_old_spellings_in_a_config_run_with_a_note(project: Path, tmp_path: Path) -> None:
    text = (project / "run.toml").read_text(encoding="utf-8")
    text = text.replace('methods = ["function_value", "equivalent_factor"]', 'methods = ["function-value"]')
    text = text.replace('method = "both"', 'method = "stock-difference"')
    old = project / "old.toml"
    old.write_text(text + '\n[uncertainty]\nmodels = ["equivalent-factor"]\ndraws = 20\nseed = 1\n', encoding="utf-8")
    r = gep("run", old, "--out", tmp_path / "old", "-q")
    assert r.exit_code == 0, r.output
    manifest = json.loads((tmp_path / "old" / "manifest.json").read_text(encoding="utf-8"))
    notes = [w["message"] for w in manifest["warnings"] if w["code"] == "OLD_SPELLING"]
    assert any("'function-value' is now spelled 'function_value'" in n for n in notes)
    assert any("'stock-difference' is now spelled 'stock_difference'" in n for n in notes)
    assert any("'models' is now spelled 'methods'" in n for n in notes)
    assert "OLD_SPELLING" in r.output  # printed after the run
    resolved = tomllib.loads((tmp_path / "old" / "run.toml").read_text(encoding="utf-8"))
    assert resolved["account"]["methods"] == ["function_value"]
    assert resolved["carbon"]["method"] == "stock_difference"
    assert resolved["uncertainty"]["methods"] == ["equivalent_factor"] and "models" not in resolved["uncertainty"]


def test_old_cli_spelling_same_numbers_and_a_note(project: Path, tmp_path: Path) -> None:
    lc = project / "inputs" / "landcover.csv"
    new = gep("account", "--landcover", lc, "--crosswalk", "tnls", "--method", "equivalent_factor",
              "--out", tmp_path / "new", "-q")
    old = gep("account", "--landcover", lc, "--crosswalk", "tnls", "--method", "equivalent-factor",
              "--out", tmp_path / "old", "-q")
    assert new.exit_code == old.exit_code == 0
    assert "OLD_SPELLING" in old.output and "OLD_SPELLING" not in new.output
    a = (tmp_path / "new" / "tables" / "gep.csv").read_bytes()
    assert a == (tmp_path / "old" / "tables" / "gep.csv").read_bytes()


def test_demo_config_uses_the_one_spelling() -> None:
    root = Path(__file__).resolve().parents[1] / "gep" / "demo_data" / "config"
    for f in root.glob("*.toml"):
        data = tomllib.loads(f.read_text(encoding="utf-8"))
        for section, values in data.items():
            _, notes = respell_section(section, values)
            assert notes == [], (f.name, notes)
