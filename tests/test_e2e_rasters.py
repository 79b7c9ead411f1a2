"""One `gep run` from rasters to a report: [extent] (land-cover rasters → extent and transitions),
[biophysical] (P, ET, DEM, K, R, NEP rasters → quantities), [account] function value priced on those
quantities, and both reports. All demo rasters are synthetic."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from gep.cli.main import main

BIO = "demo:rasters/biophysical/"
CONFIG = f'''
[run]
title = "rasters to report (synthetic)"
synthetic = true
regions = "sichuan"

[extent]
landcover_rasters = {{ 2015 = "demo:rasters/synthetic_clcd_2015.tif", 2020 = "demo:rasters/synthetic_clcd_2020.tif" }}
regions = "sichuan"
crosswalk = "clcd"
scheduler = "inline"

[biophysical]
year = 2020
zones = "{BIO}zones_synthetic.tif"
landcover = "{BIO}landcover_synthetic.tif"
landcover_classes = "{BIO}landcover_classes_synthetic.csv"
precipitation = "{BIO}precipitation_mm_synthetic.tif"
et = "{BIO}et_mm_synthetic.tif"
dem = "{BIO}dem_m_synthetic.tif"
r_factor = "{BIO}r_factor_synthetic.tif"
k_factor = "{BIO}k_factor_synthetic.tif"
nep = "{BIO}nep_gc_m2_synthetic.tif"
slope_length_m = 60.0

[account]
methods = ["function_value", "equivalent_factor"]
'''


def test_one_run_from_rasters_to_report(tmp_path: Path) -> None:
    cfg = tmp_path / "run.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    res = CliRunner().invoke(main, ["run", str(cfg), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    out = tmp_path / "out"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {"extent", "biophysical", "account"} <= set(manifest["steps"])
    rasters = [i for i in manifest["inputs"] if i["path"].endswith(".tif")]
    assert rasters and all(len(i["sha256"]) == 64 for i in rasters)
    extent = pl.read_csv(out / "tables" / "extent.csv")
    assert set(extent["year"].unique().to_list()) == {2015, 2020}
    bio = pl.read_csv(out / "tables" / "biophysical_quantities.csv", infer_schema=False)
    services = pl.read_csv(out / "tables" / "services.csv", infer_schema=False)
    fv = services.filter(pl.col("method") == "function_value")
    # the modelled water-conservation quantities (synthetic 汶川/理县/茂县 zones) are what the account prices
    water_bio = bio.filter(pl.col("service") == "water_conservation")
    assert water_bio.height > 0
    for region in water_bio["region_id"].unique().to_list():
        want = water_bio.filter(pl.col("region_id") == region)["quantity"].cast(pl.Float64).sum()
        got = fv.filter((pl.col("region_id") == region) & (pl.col("year") == "2020")
                        & (pl.col("service") == "water_conservation"))["quantity"].cast(pl.Float64).sum()
        assert want > 0 and abs(got - want) <= 1e-9 * want, (region, got, want)
    assert (out / "report.xlsx").stat().st_size > 0 and (out / "report.html").stat().st_size > 0
