"""Build the SYNTHETIC demo inputs of the carbon gain-loss paths (gep/demo_data/carbon/).

* ``sichuan_forest_inventory_synthetic.csv``: IPCC 2006 GL Vol 4 Tier 1 forest inputs
  (Eq 2.9/2.10 gain from the volume increment I_V, Eq 2.12 wood removals, Eq 2.14
  disturbance) for 乔木林地 in the counties of 雅安 (5118) and 阿坝 (5132), 2020 and 2025;
* ``sichuan_grassland_management_synthetic.csv``: grassland management change (IPCC Eq 2.25
  stock-change factors; degraded or overgrazed 天然牧草地 restored to nominal or improved) in the
  counties of 阿坝 (5132) and 甘孜 (5133) with 天然牧草地, 2020 and 2025.

Deterministic (numpy seed 20261128, inputs sorted): same script → same bytes. None of these
numbers is an observation: every file name says ``synthetic`` and every row carries
``data_status = synthetic``. Areas follow the synthetic land cover
(gep/demo_data/sichuan_landcover_synthetic.csv) so every row matches a class of that year.

Run: python scripts/make_demo_carbon_data.py [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "gep" / "demo_data"
SEED = 20261128
YEARS = [2020, 2025]
FOREST_PREFECTURES = ("5118", "5132")  # 雅安市, 阿坝州
GRASS_PREFECTURES = ("5132", "5133")  # 阿坝州, 甘孜州


def _area(lc: pl.DataFrame, cls: str, prefectures: tuple[str, ...]) -> pl.DataFrame:
    """region_id, year, area_ha of one class in the given prefectures and YEARS, sorted."""
    return (
        lc.filter((pl.col("class") == cls) & pl.col("year").is_in(YEARS)
                  & pl.col("region_id").str.slice(0, 4).is_in(list(prefectures)) & (pl.col("area_ha") > 0))
        .select("region_id", pl.col("year").cast(pl.Int32), "area_ha")
        .sort(["region_id", "year"])
    )


def forest_inventory(lc: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Volume increment 2.5–6 m3/ha/yr; removals 2–10 % of the increment (natural-forest logging ban);
    disturbance (fire, pests) on 0.05–0.3 % of the area in about one county-year in three, fd = 0.3."""
    a = _area(lc, "乔木林地", FOREST_PREFECTURES)
    n = a.height
    iv = np.round(rng.uniform(2.5, 6.0, n), 2)
    share = rng.uniform(0.02, 0.10, n)
    disturbed = rng.uniform(0.0, 1.0, n) < 1 / 3
    dist_share = rng.uniform(0.0005, 0.003, n)
    return a.with_columns(
        pl.lit("乔木林地").alias("class"),
        pl.Series("iv_m3_ha_yr", iv),
        (pl.col("area_ha") * pl.Series(iv) * pl.Series(share)).round(0).cast(pl.Int64).alias("harvest_m3"),
        pl.when(pl.Series(disturbed)).then((pl.col("area_ha") * pl.Series(dist_share)).round(2))
        .otherwise(None).alias("disturbance_area_ha"),
        pl.when(pl.Series(disturbed)).then(pl.lit(0.3)).otherwise(None).alias("disturbance_fd"),
        pl.lit("synthetic").alias("data_status"),
    ).select("region_id", "year", "class", "iv_m3_ha_yr", "harvest_m3", "disturbance_area_ha", "disturbance_fd",
             "data_status")


def grassland_management(lc: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """2–8 % of each county's 天然牧草地 changes management in the year: from severely_degraded (40 %)
    or high_intensity_grazing to nominal, or (one row in ten) to improved with medium input;
    climate cool_temperate_moist, soil HAC (the plateau pastures are cool and moist)."""
    a = _area(lc, "天然牧草地", GRASS_PREFECTURES)
    n = a.height
    share = rng.uniform(0.02, 0.08, n)
    degraded = rng.uniform(0.0, 1.0, n) < 0.4
    improved = rng.uniform(0.0, 1.0, n) < 0.1
    return a.with_columns(
        pl.lit("天然牧草地").alias("class"),
        (pl.col("area_ha") * pl.Series(share)).round(2).alias("area_ha"),
        pl.lit("cool_temperate_moist").alias("climate_zone"),
        pl.lit("HAC").alias("soil_type"),
        pl.when(pl.Series(degraded)).then(pl.lit("severely_degraded")).otherwise(pl.lit("high_intensity_grazing"))
        .alias("mg_from"),
        pl.when(pl.Series(improved)).then(pl.lit("improved")).otherwise(pl.lit("nominal")).alias("mg_to"),
        pl.when(pl.Series(improved)).then(pl.lit("medium")).otherwise(None).alias("input_to"),
        pl.lit("synthetic").alias("data_status"),
    ).select("region_id", "year", "class", "area_ha", "climate_zone", "soil_type", "mg_from", "mg_to", "input_to",
             "data_status")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEMO / "carbon")
    args = ap.parse_args(argv)
    lc = pl.read_csv(DEMO / "sichuan_landcover_synthetic.csv", schema_overrides={"region_id": pl.Utf8})
    rng = np.random.default_rng(SEED)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    forest_inventory(lc, rng).write_csv(out / "sichuan_forest_inventory_synthetic.csv", float_precision=None)
    grassland_management(lc, rng).write_csv(out / "sichuan_grassland_management_synthetic.csv", float_precision=None)


if __name__ == "__main__":
    main()
