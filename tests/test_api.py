"""The Python API (gep/api.py): DataFrames or paths in, a Result out, the CLI's errors and numbers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import polars as pl
import pytest
from gep.context import demo_data_dir
from gep.errors import InputError

import gep
from tests._e2e import gep as gep_cli


@pytest.fixture(scope="module")
def landcover() -> pl.DataFrame:
    return (pl.read_csv(demo_data_dir() / "sichuan_landcover_synthetic.csv", schema_overrides={"region_id": pl.Utf8})
            .filter(pl.col("region_id").is_in(["513221", "511802"])).select("region_id", "year", "class", "area_ha"))


def test_import_gep_is_cheap() -> None:
    code = "import sys, gep; assert 'polars' not in sys.modules and 'gep.api' not in sys.modules; print(gep.__all__)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "account" in r.stdout and "validate" in r.stdout


def test_account_from_a_dataframe_equals_the_cli(tmp_path: Path, landcover: pl.DataFrame) -> None:
    res = gep.account(landcover, crosswalk="tnls", methods=["equivalent_factor"], regions="sichuan")
    assert res.out is None and not res.synthetic
    csv = tmp_path / "lc.csv"
    landcover.write_csv(csv)
    r = gep_cli("account", "--landcover", csv, "--crosswalk", "tnls", "--method", "equivalent_factor",
                "--regions", "sichuan", "--out", tmp_path / "cli")
    assert r.exit_code == 0, r.output
    cli = pl.read_parquet(tmp_path / "cli" / "tables" / "gep.parquet")
    assert res["gep"].equals(cli)
    assert res.manifest["inputs"][0]["role"] == "landcover"


def test_pandas_and_polars_give_the_same_result(landcover: pl.DataFrame) -> None:
    a = gep.account(landcover, crosswalk="tnls", methods=["equivalent_factor"])
    b = gep.account(landcover.to_pandas(), crosswalk="tnls", methods=["equivalent_factor"])
    assert isinstance(landcover.to_pandas(), pd.DataFrame)
    assert a["gep"].equals(b["gep"])


def test_override_changes_only_what_it_touches(landcover: pl.DataFrame) -> None:
    base = gep.account(landcover, crosswalk="tnls", methods=["equivalent_factor"])
    override = pl.DataFrame({"ecosystem_type": ["草甸"], "service": ["food_production"], "value": [0.30],
                             "source": ["test"], "verification": ["secondary"]})
    changed = gep.account(landcover, crosswalk="tnls", methods=["equivalent_factor"], equivalent_overrides=override)
    diff = (changed["services"].join(base["services"], on=["region_id", "year", "ecosystem_type", "service"],
                                     suffix="_base")
            .filter(pl.col("value_cny") != pl.col("value_cny_base")))
    assert diff.height > 0
    assert set(diff["service"]) == {"food_production"}
    assert "xie2015+overrides" in [s["id"] for s in changed.manifest["coefficient_sets"]]


def test_dataframe_errors_have_the_cli_codes_and_rows(tmp_path: Path, landcover: pl.DataFrame) -> None:
    broken = landcover.with_columns(pl.when(pl.col("class") == "水田").then(-5.0).otherwise(pl.col("area_ha"))
                                    .alias("area_ha"))
    with pytest.raises(InputError) as exc:
        gep.account(broken, crosswalk="tnls", methods=["equivalent_factor"])
    csv = tmp_path / "broken.csv"
    broken.write_csv(csv)
    r = gep_cli("account", "--landcover", csv, "--crosswalk", "tnls", "--method", "equivalent_factor",
                "--out", tmp_path / "o")
    assert r.exit_code == 2
    api = [(p.code, p.row, p.column) for p in exc.value.problems]
    assert api and all(f"row {row}" in r.output for _, row, _ in api)
    assert {p.file for p in exc.value.problems} == {"<DataFrame landcover>"}
    first = broken.with_row_index().filter(pl.col("area_ha") < 0)["index"][0]
    assert exc.value.problems[0].row == first + 2


def test_validate_dataframes_and_paths(landcover: pl.DataFrame) -> None:
    checked = gep.validate(landcover, "demo:account/sichuan_emissions_synthetic.csv", regions="sichuan")
    assert [c.kind for c in checked] == ["landcover", "emissions"]
    assert checked[0].file == "<DataFrame table1>"
    with pytest.raises(InputError) as exc:
        gep.validate(landcover.with_columns(pl.lit("999999").alias("region_id")), regions="sichuan")
    assert "UNKNOWN_REGION" in exc.value.codes


def test_out_keeps_the_run_folder(tmp_path: Path, landcover: pl.DataFrame) -> None:
    res = gep.account(landcover, crosswalk="tnls", methods=["equivalent_factor"], out=tmp_path / "run",
                      report=True)
    assert res.out == tmp_path / "run"
    assert (res.out / "report.html").is_file() and (res.out / "tables" / "gep.csv").is_file()


def test_run_a_config_and_carbon(tmp_path: Path, landcover: pl.DataFrame) -> None:
    assert gep_cli("init", tmp_path / "p").exit_code == 0
    res = gep.run(tmp_path / "p" / "run.toml")
    assert res.synthetic and {"gep", "carbon_flux"} <= set(res)
    assert not (tmp_path / "p" / "run").exists()  # nothing on disk without out=
    transitions = pl.read_csv(tmp_path / "p" / "inputs" / "transitions.csv")
    lc = pl.read_csv(tmp_path / "p" / "inputs" / "landcover.csv")
    carbon = gep.carbon(lc, crosswalk="tnls", method="stock_difference", transitions=transitions)
    assert carbon["carbon_stock"].height > 0


def test_account_is_both_the_function_and_the_package() -> None:
    import gep.account.tables as tables

    assert callable(gep.account) and gep.account.tables is tables


def test_a_misspelt_option_is_named_with_the_nearest_one_as_run_toml_does(tmp_path: Path,
                                                                             landcover: pl.DataFrame) -> None:
    """gep.account(method=…) and [account] method = … get the same words: no such key, did you mean 'methods'."""
    with pytest.raises(InputError) as api:
        gep.account(landcover, crosswalk="tnls", method="equivalent_factor")
    (p,) = api.value.problems
    assert p.code == "BAD_OPTION" and p.column == "account.method"
    assert "gep.account() has no option 'method'; did you mean 'methods'?" in p.render()
    toml = tmp_path / "run.toml"
    toml.write_text('[inputs]\nlandcover = ["demo:landcover"]\ncrosswalk = "tnls"\n\n[account]\n'
                    'method = ["equivalent_factor"]\n', encoding="utf-8")
    with pytest.raises(InputError) as cfg:
        gep.run(toml)
    (q,) = cfg.value.problems
    assert q.code == "BAD_CONFIG" and q.column == "account.method" and q.row == 6
    assert "[account] has no key 'method'; did you mean 'methods'?" in q.render()
    assert p.expected == q.expected  # the same list of known keys
