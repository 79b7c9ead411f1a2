"""Build the SYNTHETIC demo statistics of the GEP accounts (gep/demo_data/account/).

Deterministic (numpy seed 20260101, inputs sorted): same script → same bytes.
None of these numbers is an official statistic; every file name says
``synthetic`` and every row carries ``data_status = synthetic``.

Sizes follow the synthetic land cover (gep/demo_data/sichuan_landcover_synthetic.csv):
provisioning output values scale with cropland, forest and grassland area;
water use and hydropower scale with county area; tourism revenue is random.

Run: python scripts/make_demo_account_data.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "gep" / "demo_data"
OUT = DEMO / "account"
SEED = 20260101
YEARS = [2015, 2020, 2025]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    lc = pl.read_csv(DEMO / "sichuan_landcover_synthetic.csv", schema_overrides={"region_id": pl.Utf8})
    crop = {"水田", "旱地", "水浇地"}
    forest = {"乔木林地", "竹林地", "灌木林地", "其他林地"}
    grass = {"天然牧草地", "人工牧草地", "其他草地"}
    water = {"坑塘水面", "水库水面", "河流水面", "湖泊水面"}
    agg = (
        lc.group_by(["region_id", "year"])
        .agg(
            pl.col("area_ha").filter(pl.col("class").is_in(crop)).sum().alias("crop_ha"),
            pl.col("area_ha").filter(pl.col("class").is_in(forest)).sum().alias("forest_ha"),
            pl.col("area_ha").filter(pl.col("class").is_in(grass)).sum().alias("grass_ha"),
            pl.col("area_ha").filter(pl.col("class").is_in(water)).sum().alias("water_ha"),
            pl.col("area_ha").sum().alias("total_ha"),
        )
        .sort(["region_id", "year"])
    )
    rng = np.random.default_rng(SEED)
    n = agg.height
    growth = agg["year"].to_numpy().astype(float) - 2015.0
    agg = agg.with_columns(
        pl.Series("u_agri", rng.uniform(0.8, 1.2, n)),
        pl.Series("u_tour", rng.lognormal(0.0, 0.8, n)),
        pl.Series("u_pop", rng.uniform(0.5, 1.5, n)),
        pl.Series("u_hydro", rng.uniform(0.0, 1.0, n)),
        pl.Series("g", 1.0 + 0.04 * growth),
    )
    # statistics: direct values in 万元 (synthetic output value per ha × area)
    stats = pl.concat(
        [
            agg.select("region_id", "year", pl.lit(svc).alias("service"), pl.lit("").alias("component"),
                       (expr * pl.col("g")).round(1).alias("value"), pl.lit("万元").alias("unit"))
            for svc, expr in [
                ("agricultural_products", pl.col("crop_ha") * 1.6 * pl.col("u_agri")),
                ("forestry_products", pl.col("forest_ha") * 0.05 * pl.col("u_agri")),
                ("livestock_products", (pl.col("grass_ha") * 0.15 + pl.col("crop_ha") * 0.4) * pl.col("u_agri")),
                ("fishery_products", pl.col("water_ha") * 1.2 * pl.col("u_agri")),
                ("recreation", pl.col("total_ha") * 0.2 * pl.col("u_tour")),
            ]
        ]
    ).with_columns(pl.lit("synthetic").alias("data_status")).sort(["region_id", "year", "service"])
    stats.write_csv(OUT / "sichuan_account_statistics_synthetic.csv")
    # quantities: water use (万m3) by use, hydropower (万kWh) in the larger counties
    pop_people = (agg["total_ha"] * 0.6 * agg["u_pop"]).round(0)
    agg = agg.with_columns(pl.Series("pop", pop_people))
    q = pl.concat(
        [
            agg.select("region_id", "year", pl.lit("water_supply").alias("service"), pl.lit("domestic").alias("component"),
                       (pl.col("pop") * 45.0 / 1e4).round(2).alias("quantity"), pl.lit("万m3").alias("unit")),
            agg.select("region_id", "year", pl.lit("water_supply").alias("service"), pl.lit("industrial").alias("component"),
                       (pl.col("pop") * 30.0 * pl.col("u_agri") / 1e4).round(2).alias("quantity"), pl.lit("万m3").alias("unit")),
            agg.select("region_id", "year", pl.lit("水资源").alias("service"), pl.lit("agricultural").alias("component"),
                       (pl.col("crop_ha") * 4500.0 / 1e4).round(2).alias("quantity"), pl.lit("万m3").alias("unit")),
            agg.filter(pl.col("u_hydro") > 0.6).select(
                "region_id", "year", pl.lit("ecological_energy").alias("service"), pl.lit("hydropower").alias("component"),
                (pl.col("total_ha") * 2.0 * pl.col("u_hydro") * pl.col("g")).round(1).alias("quantity"),
                pl.lit("万kWh").alias("unit")),
        ]
    ).with_columns(pl.lit("synthetic").alias("data_status")).sort(["region_id", "year", "service", "component"])
    q.write_csv(OUT / "sichuan_account_quantities_synthetic.csv")
    # population (people) and GDP (万元)
    socio = agg.select(
        "region_id", "year", pl.col("pop").cast(pl.Int64).alias("population"),
        (pl.col("pop") * 5.0 * pl.col("g") * pl.col("u_agri")).round(1).alias("GDP(万元)"),
        pl.lit("synthetic").alias("data_status"),
    )
    socio.write_csv(OUT / "sichuan_population_gdp_synthetic.csv")
    # price index (synthetic, CPI-like, 2010 = 100)
    pl.DataFrame(
        {"year": [2010, 2015, 2020, 2025], "index": [100.0, 114.1, 127.7, 133.5],
         "data_status": ["synthetic"] * 4}
    ).write_csv(OUT / "price_index_synthetic.csv")


if __name__ == "__main__":
    main()
