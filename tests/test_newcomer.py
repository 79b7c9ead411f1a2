"""A newcomer's two paths, without reading code: gep init → fill the templates → run → report,
and a notebook: a county account from DataFrames, one coefficient overridden, rerun, compared."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import polars as pl
import pytest

import gep
from tests._e2e import gep as gep_cli
from tests._e2e import read_csv


def _fill(project: Path) -> None:
    """What a county statistician does: own figures in the templates (here: the land cover written in 亩, as
    the county's 三调 summary gives it, and the yearbook's output values, here the example values doubled),
    and synthetic = false."""
    inputs = project / "inputs"
    lc = pl.read_csv(inputs / "landcover.csv", infer_schema_length=0)
    lc = lc.with_columns((pl.col("面积(公顷)").cast(pl.Float64) * 15).round(4).alias("面积(公顷)"),
                         pl.lit("三调 2025").alias("data_status")).rename({"面积(公顷)": "面积(亩)"})
    lc.write_csv(inputs / "landcover.csv")
    st = pl.read_csv(inputs / "statistics.csv", infer_schema_length=0)
    st = st.with_columns((pl.col("价值量").cast(pl.Float64) * 2).alias("价值量"),
                         pl.lit("统计年鉴 2025").alias("data_status"))
    st.write_csv(inputs / "statistics.csv")
    toml = project / "run.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("synthetic = true", "synthetic = false")
                    .replace('title = "County GEP account (example rows: synthetic)"', 'title = "汶川县 GEP 2025"'),
                    encoding="utf-8")


def test_init_fill_run_report(tmp_path: Path) -> None:
    project = tmp_path / "汶川"
    r = gep_cli("init", project, "--region", "513221")
    assert r.exit_code == 0, r.output
    assert gep_cli("run", project / "run.toml", "--out", project / "example", "-q").exit_code == 0
    example = read_csv(project / "example" / "tables" / "gep.csv")

    _fill(project)
    check = gep_cli("validate", *sorted((project / "inputs").glob("*.csv")), "--regions", "sichuan",
                    "--crosswalk", "tnls", "--landcover", project / "inputs" / "landcover.csv")
    assert check.exit_code == 0, check.output
    r = gep_cli("run", project / "run.toml")
    assert r.exit_code == 0, r.output
    run = project / "run"
    assert "SYNTHETIC" not in r.stdout
    assert r.stdout.splitlines()[0] == f"wrote {run}"
    assert any(line.startswith("GEP 2025 (513221): ") for line in r.stdout.splitlines())
    assert r.stdout.splitlines()[-1] == f"open {run / 'report.html'}"
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["synthetic"] is False and manifest["title"] == "汶川县 GEP 2025"
    left = {w["file"] for w in manifest["warnings"] if w["code"] == "SYNTHETIC_ROWS"}
    assert "inputs/landcover.csv" not in left and "inputs/statistics.csv" not in left  # filled in
    assert {"inputs/quantities.csv", "inputs/emissions.csv"} <= left  # example rows not yet replaced: pointed out
    assert "SYNTHETIC_ROWS" in r.output
    own = read_csv(run / "tables" / "gep.csv")
    def totals(rows: list[dict[str, str]], method: str) -> dict[str, float]:
        return {r["year"]: float(r["total_cny"]) for r in rows if r["method"] == method}

    ef, ef_example = totals(own, "equivalent_factor"), totals(example, "equivalent_factor")
    assert ef.keys() == ef_example.keys() == {"2015", "2020", "2025"}
    for year, value in ef.items():  # the same areas in 亩: the same equivalent-factor GEP
        assert value == pytest.approx(ef_example[year], rel=1e-9)
    fv, fv_example = totals(own, "function_value"), totals(example, "function_value")
    services = pl.read_csv(project / "example" / "tables" / "services.csv", infer_schema_length=0)
    from_statistics = (services.filter(pl.col("coefficient_id") == "statistics")
                       .group_by("year").agg(pl.col("value_cny").cast(pl.Float64).sum()))
    for year, added in from_statistics.iter_rows():  # doubling the yearbook values adds them once more
        assert fv[year] - fv_example[year] == pytest.approx(added, rel=1e-9)

    r = gep_cli("report", run, "--lang", "zh")
    assert r.exit_code == 0, r.output
    assert f"wrote {run / 'report.xlsx'}" in r.output and f"open {run / 'report.html'}" in r.output
    assert "汶川县 GEP 2025" in (run / "report.html").read_text(encoding="utf-8")
    resolved = tomllib.loads((run / "run.toml").read_text(encoding="utf-8"))
    assert resolved["inputs"]["landcover"] == ["../inputs/landcover.csv"]


def test_notebook_account_override_rerun_compare(tmp_path: Path) -> None:
    assert gep_cli("init", tmp_path / "p", "-q").exit_code == 0
    inputs = tmp_path / "p" / "inputs"
    landcover = pl.read_csv(inputs / "landcover.csv", schema_overrides={"地区代码": pl.Utf8})
    statistics = pl.read_csv(inputs / "statistics.csv", schema_overrides={"地区代码": pl.Utf8}).to_pandas()
    kwargs = dict(crosswalk="tnls", methods=["equivalent_factor", "function_value"], regions="sichuan",
                  statistics=statistics)
    base = gep.account(landcover, **kwargs)
    override = pl.DataFrame({"ecosystem_type": ["草甸"], "service": ["food_production"], "value": [0.30],
                             "source": ["my survey"], "verification": ["secondary"]})
    changed = gep.account(landcover, equivalent_overrides=override, **kwargs)
    compare = (base["gep"].select("year", "method", pl.col("total_cny").alias("before"))
               .join(changed["gep"].select("year", "method", pl.col("total_cny").alias("after")), on=["year", "method"])
               .with_columns((pl.col("after") - pl.col("before")).alias("change")))
    ef = compare.filter(pl.col("method") == "equivalent_factor")
    fv = compare.filter(pl.col("method") == "function_value")
    assert ef.height == 3 and (ef["change"] > 0).all()
    assert (fv["change"] == 0).all()  # the override touches the equivalent-factor set only
    sets = [s["id"] for s in changed.manifest["coefficient_sets"]]
    assert "xie2015+overrides" in sets and "xie2015" not in sets
