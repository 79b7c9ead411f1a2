"""Rules between options live in the config models: CLI, TOML and Python refuse the same way.

Each case is one inconsistency written four ways: as `gep account` options, as a run.toml,
as a RunConfig built in Python and through the public API (gep.account). All give the same problem code and the same key
(column), exit 2 from the CLI, and nothing is written.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gep.account.step import Config as AccountConfig
from gep.cli.main import main
from gep.config import InputsSection, RunConfig, RunSection, load_config
from gep.errors import InputError
from gep.pipeline import execute

import gep

LC = "region_id,year,class,area_ha\n510104,2020,旱地,100\n"
PI = "year,index\n2020,100\n"

# (name, CLI options, TOML text, python (run, inputs, account), expected column)
CASES = [
    ("price base year without index", ["--method", "equivalent-factor", "--landcover", "{lc}", "--price-base-year", "2020"],
     '[run]\nprice_base_year = 2020\n[inputs]\nlandcover = ["{lc}"]\n[account]\nmethods = ["equivalent_factor"]\n',
     ({"price_base_year": 2020}, {"landcover": ["{lc}"]}, {"methods": ["equivalent_factor"]}), "account.price_index"),
    ("imported without function value", ["--method", "equivalent-factor", "--landcover", "{lc}", "--imported", "{lc}"],
     '[inputs]\nlandcover = ["{lc}"]\n[account]\nmethods = ["equivalent_factor"]\nimported = ["{lc}"]\n',
     ({}, {"landcover": ["{lc}"]}, {"methods": ["equivalent_factor"], "imported": ["{lc}"]}), "account.imported"),
    ("equivalent factor without land cover", ["--method", "equivalent-factor"],
     '[account]\nmethods = ["equivalent_factor"]\n',
     ({}, {}, {"methods": ["equivalent_factor"]}), "inputs.landcover"),
    ("transitions without land cover", ["--method", "function-value", "--transitions", "{lc}"],
     '[account]\nmethods = ["function_value"]\ntransitions = "{lc}"\n',
     ({}, {}, {"methods": ["function_value"], "transitions": "{lc}"}), "account.transitions"),
    ("equivalent overrides unused", ["--method", "function-value", "--equivalent-overrides", "{lc}"],
     '[account]\nmethods = ["function_value"]\nequivalent_overrides = "{lc}"\n',
     ({}, {}, {"methods": ["function_value"], "equivalent_overrides": "{lc}"}), "account.equivalent_overrides"),
    ("function-value overrides unused", ["--method", "equivalent-factor", "--landcover", "{lc}",
                                         "--function-value-overrides", "{lc}"],
     '[inputs]\nlandcover = ["{lc}"]\n[account]\nmethods = ["equivalent_factor"]\nfunction_value_overrides = "{lc}"\n',
     ({}, {"landcover": ["{lc}"]}, {"methods": ["equivalent_factor"], "function_value_overrides": "{lc}"}),
     "account.function_value_overrides"),
    ("sheet without land cover", ["--method", "function-value", "--sheet", "Sheet1"],
     '[inputs]\nsheet = "Sheet1"\n[account]\nmethods = ["function_value"]\n',
     ({}, {"sheet": "Sheet1"}, {"methods": ["function_value"]}), "inputs.sheet"),
    ("roll-up without registry", ["--method", "equivalent-factor", "--landcover", "{lc}", "--level", "province"],
     '[inputs]\nlandcover = ["{lc}"]\n[account]\nmethods = ["equivalent_factor"]\nlevel = "province"\n',
     ({}, {"landcover": ["{lc}"]}, {"methods": ["equivalent_factor"], "level": "province"}), "account.level"),
]


def _fill(obj, lc: str):
    if isinstance(obj, str):
        return obj.replace("{lc}", lc)
    if isinstance(obj, list):
        return [_fill(x, lc) for x in obj]
    if isinstance(obj, dict):
        return {k: _fill(v, lc) for k, v in obj.items()}
    return obj


@pytest.mark.parametrize("name,cli,toml,py,column", CASES, ids=[c[0] for c in CASES])
def test_same_rule_from_cli_toml_and_python(tmp_path: Path, name, cli, toml, py, column):
    lc = tmp_path / "lc.csv"
    lc.write_text(LC, encoding="utf-8")
    (tmp_path / "pi.csv").write_text(PI, encoding="utf-8")
    lcs = lc.as_posix()

    res = CliRunner().invoke(main, ["account", *_fill(cli, lcs), "--out", str(tmp_path / "cli")])
    assert res.exit_code == 2, res.output
    assert "BAD_OPTION" in res.output and f"column '{column}'" in res.output
    assert not (tmp_path / "cli").exists()

    cfg_path = tmp_path / "run.toml"
    cfg_path.write_text(_fill(toml, lcs), encoding="utf-8")
    with pytest.raises(InputError) as toml_err:
        load_config(cfg_path)
    [p_toml] = toml_err.value.problems
    assert (p_toml.code, p_toml.column) == ("BAD_OPTION", column)
    assert p_toml.file == str(cfg_path) and p_toml.row is not None

    run, inputs, account = _fill(py, lcs)
    cfg = RunConfig(run=RunSection(report=False, **run), inputs=InputsSection(**inputs),
                    steps={"account": AccountConfig(**account)})
    with pytest.raises(InputError) as py_err:
        execute(cfg, tmp_path / "py")
    [p_py] = py_err.value.problems
    assert (p_py.code, p_py.column, p_py.message) == (p_toml.code, p_toml.column, p_toml.message)
    assert not (tmp_path / "py").exists()

    if "sheet" not in inputs:  # the public API (gep.account), where it can express the case
        kwargs = dict(account)
        methods = kwargs.pop("methods")
        landcover = inputs["landcover"][0] if inputs.get("landcover") else None
        with pytest.raises(InputError) as api_err:
            gep.account(landcover, methods=methods, price_base_year=run.get("price_base_year"),
                        out=tmp_path / "api", **kwargs)
        [p_api] = api_err.value.problems
        assert (p_api.code, p_api.column, p_api.message) == (p_toml.code, p_toml.column, p_toml.message)
        assert not (tmp_path / "api").exists()


def test_consistent_options_pass(tmp_path: Path):
    """The rules do not refuse a consistent config (so they cannot pass by refusing everything)."""
    (tmp_path / "pi.csv").write_text(PI, encoding="utf-8")
    cfg = RunConfig(run=RunSection(price_base_year=2020), inputs=InputsSection(landcover=["x.csv"]),
                    steps={"account": AccountConfig(methods=["equivalent_factor"], price_index="pi.csv")})
    assert cfg.consistency_problems() == []
