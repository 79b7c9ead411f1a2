"""Nothing lost, nothing mislabelled: demo: inputs are synthetic everywhere, user files survive a rerun,
run folders record input paths relative to themselves (so a project folder can be moved or shared)."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest

from tests._e2e import gep, read_csv

DEMO_LC = "demo:sichuan_landcover_synthetic.csv"


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    target = tmp_path / "county"
    assert gep("init", target, "-q").exit_code == 0
    return target


def test_demo_inputs_are_labelled_synthetic_without_asking(tmp_path: Path) -> None:
    r = gep("account", "--landcover", DEMO_LC, "--crosswalk", "tnls", "--method", "equivalent_factor",
            "--out", tmp_path / "a", "-q")
    assert r.exit_code == 0, r.output
    assert "SYNTHETIC DEMO DATA" in r.stdout
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["synthetic"] is True and "合成演示数据" in manifest["data_label"]
    assert {row["data_status"] for row in read_csv(tmp_path / "a" / "tables" / "gep.csv")} == {"synthetic"}
    html = (tmp_path / "a" / "report.html").read_text(encoding="utf-8")
    assert "合成演示数据" in html


def test_validate_of_demo_data_says_synthetic() -> None:
    r = gep("validate", DEMO_LC)
    assert r.exit_code == 0 and "SYNTHETIC DEMO DATA" in r.output


def test_own_inputs_are_not_labelled(project: Path, tmp_path: Path) -> None:
    r = gep("account", "--landcover", project / "inputs" / "landcover.csv", "--crosswalk", "tnls",
            "--method", "equivalent_factor", "--out", tmp_path / "own", "-q")
    assert r.exit_code == 0 and "SYNTHETIC" not in r.stdout
    assert json.loads((tmp_path / "own" / "manifest.json").read_text(encoding="utf-8"))["synthetic"] is False


def test_rerun_keeps_files_the_user_added(project: Path) -> None:
    run = project / "run"
    assert gep("run", project / "run.toml", "-q").exit_code == 0
    (run / "notes.txt").write_text("meeting 3 March: check 水田", encoding="utf-8")
    (run / "analysis").mkdir()
    (run / "analysis" / "chart.png").write_bytes(b"\x89PNG")
    (run / "tables" / "my_extra.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (run / "report.html").write_text("stale", encoding="utf-8")
    assert gep("run", project / "run.toml", "-q").exit_code == 0
    assert (run / "notes.txt").read_text(encoding="utf-8") == "meeting 3 March: check 水田"
    assert (run / "analysis" / "chart.png").read_bytes() == b"\x89PNG"
    assert (run / "tables" / "my_extra.csv").read_text(encoding="utf-8") == "a,b\n1,2\n"
    assert (run / "report.html").read_text(encoding="utf-8") != "stale"  # gep's own outputs are replaced
    assert not [p for p in project.iterdir() if p.name.startswith(".")]


def test_paths_are_relative_to_the_run_file_and_a_moved_project_reruns(project: Path, tmp_path: Path) -> None:
    assert gep("run", project / "run.toml", "-q").exit_code == 0
    run = project / "run"
    resolved = tomllib.loads((run / "run.toml").read_text(encoding="utf-8"))
    assert resolved["inputs"]["landcover"] == ["../inputs/landcover.csv"]
    assert resolved["account"]["quantities"] == ["../inputs/quantities.csv"]
    assert resolved["run"]["out"] == "."
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert {i["path"] for i in manifest["inputs"] if i["role"] == "landcover"} == {"../inputs/landcover.csv"}
    assert str(tmp_path) not in (run / "run.toml").read_text(encoding="utf-8")
    before = {p.name: p.read_bytes() for p in (run / "tables").glob("*.csv")}
    moved = tmp_path / "shared" / "county"
    shutil.move(str(project), moved)
    r = gep("run", moved / "run" / "run.toml", "-q")
    assert r.exit_code == 0, r.output
    after = {p.name: p.read_bytes() for p in (moved / "run" / "tables").glob("*.csv")}
    assert after == before
