"""[extent] step: Config validation, run_step on the synthetic demo raster pair, later steps run on ctx.extent."""

from __future__ import annotations

import polars as pl
import pytest
from pydantic import ValidationError

from gep.carbon.step import Config as CarbonConfig
from gep.carbon.step import run_step as carbon_step
from gep.config import InputsSection, RunConfig, RunSection
from gep.pipeline import RunContext, load_registry_or_none
from gep.spatial.step import Config, run_step

DEMO = {2015: "demo:rasters/synthetic_clcd_2015.tif", 2020: "demo:rasters/synthetic_clcd_2020.tif"}


def test_config_rules() -> None:
    with pytest.raises(ValidationError):
        Config()
    with pytest.raises(ValidationError):
        Config(landcover_rasters=DEMO, landuse_polygons="lu.gpkg")
    with pytest.raises(ValidationError):
        Config(landuse_polygons="lu.gpkg", class_column="DLBM")  # no year
    with pytest.raises(ValidationError):
        Config(landcover_rasters=DEMO, zones="z.gpkg")  # no zone_id
    with pytest.raises(ValidationError):
        Config(landcover_rasters=DEMO, unknown=1)
    assert Config(landcover_rasters={"2015": "a.tif"}).landcover_rasters == {2015: "a.tif"}


def test_run_step_on_demo_rasters_feeds_carbon() -> None:
    cfg = RunConfig(run=RunSection(regions="sichuan", synthetic=True, report=False),
                    inputs=InputsSection(crosswalk="clcd"), steps={})
    ctx = RunContext(config=cfg)
    ctx.registry = load_registry_or_none("sichuan", ctx)
    run_step(Config(landcover_rasters=DEMO, scheduler="inline"), ctx)
    ext = ctx.extent
    assert ext is not None and ext.columns == ["region_id", "year", "class", "ecosystem_type", "area_ha"]
    assert sorted(ext["region_id"].unique().to_list()) == ["511802", "511803", "511826"]
    cov = ctx.tables["extent_coverage"].filter(pl.col("region_id").is_in(["511802", "511803", "511826"]))
    assert cov["covered_share"].to_list() == pytest.approx([1.0] * 6, abs=1e-3)  # ellipsoidal rows vs Geod polygons
    rasters = [i for i in ctx.inputs if i["role"] == "landcover_raster"]
    assert [r["crs"] for r in rasters] == ["EPSG:4326", "EPSG:4326"] and all(len(r["sha256"]) == 64 for r in rasters)
    assert rasters[0]["coverage_rule"] == "centre"
    tr = ctx.tables["transitions"]
    assert tr.filter((pl.col("class_from") == "Cropland") & (pl.col("class_to") == "Impervious")).height >= 2
    carbon_step(CarbonConfig(), ctx)  # the stock-difference carbon step runs on the raster extent
    assert ctx.tables["carbon_stock"].height > 0
