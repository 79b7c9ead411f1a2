"""Build the SYNTHETIC demo statistics of the GEP accounts (gep/demo_data/account/).

Deterministic (numpy seed 20260101, inputs sorted): same script → same bytes.
None of these numbers is an official statistic; every file name says
``synthetic`` and every row carries ``data_status = synthetic``.

Sizes follow the synthetic land cover (gep/demo_data/sichuan_landcover_synthetic.csv):
provisioning output values scale with cropland, forest and grassland area;
water use and hydropower scale with county area; tourism revenue is random. Population and GDP
(socio table) are synthetic county shares scaled so that the provincial sums equal Sichuan's published
2020 totals (census 83.67 million people; GDP 4.86 万亿元); see :func:`socio_table`.

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


# Provincial totals the synthetic county figures are scaled to. 2020: 第七次全国人口普查 (Sichuan resident
# population 83,674,866) and 四川省 2020 年国民经济和社会发展统计公报 (GDP 48,598.8 亿元). The published sources we checked # give no population or GDP for 2015 or 2025, so those years keep the 2020
# population and the synthetic GDP growth of the demo (4 % of the 2015 level per year); they are not anchored.
PROVINCE_POPULATION_2020 = 83_674_866
PROVINCE_GDP_2020_WAN = 48_598.8 * 1e4  # 亿元 → 万元
GDP_GROWTH = {2015: 1.00, 2020: 1.20, 2025: 1.40}  # synthetic, relative to 2015 (= the demo's factor g)
SOCIO_SEED = 20260102


def socio_table(lc: pl.DataFrame, agg: pl.DataFrame) -> pl.DataFrame:
    """Synthetic county population and GDP whose provincial sums equal the published 2020 totals.

    County shares: population ∝ (cropland + 8 × built-up land) × a county factor (people live where farmland
    and settlements are, not where the mountains are); GDP per person ∝ (1 + 4 × built-up share of the
    county's farmland and settlements) × a county factor. One factor per county (not per year), so a county
    keeps its size across years. Sums per year: population = 83,674,866; GDP = 48,598.8 亿元 × growth/1.2.
    Own random stream (seed 20260102), so the other demo tables are unchanged.
    """
    built = {"城镇村及工矿用地"}
    crop = {"水田", "旱地", "水浇地"}
    w = (lc.group_by(["region_id", "year"])
         .agg(pl.col("area_ha").filter(pl.col("class").is_in(crop)).sum().alias("c"),
              pl.col("area_ha").filter(pl.col("class").is_in(built)).sum().alias("b"))
         .sort(["region_id", "year"]))
    counties = w["region_id"].unique().sort()
    rng = np.random.default_rng(SOCIO_SEED)
    factors = pl.DataFrame({"region_id": counties,
                            "u_p": rng.uniform(0.7, 1.3, counties.len()),
                            "u_g": rng.uniform(0.7, 1.3, counties.len())})
    w = w.join(factors, on="region_id").with_columns(
        ((pl.col("c") + 8.0 * pl.col("b")) * pl.col("u_p")).alias("wp"),
    ).with_columns(
        (pl.col("wp") * (1.0 + 4.0 * pl.col("b") / (pl.col("b") + pl.col("c"))) * pl.col("u_g")).alias("wg"),
        pl.col("year").replace_strict(GDP_GROWTH, return_dtype=pl.Float64).alias("growth"),
    )
    # whole people by largest remainder, so each year sums to the census total exactly
    w = w.with_columns((pl.col("wp") / pl.col("wp").sum().over("year") * PROVINCE_POPULATION_2020).alias("_p"))
    w = w.with_columns(pl.col("_p").floor().alias("_f"), (pl.col("_p") - pl.col("_p").floor()).alias("_r"))
    w = w.with_columns((PROVINCE_POPULATION_2020 - pl.col("_f").sum().over("year")).alias("_left"),
                       pl.col("_r").rank("ordinal", descending=True).over("year").alias("_rank"))
    w = w.with_columns(
        (pl.col("_f") + (pl.col("_rank") <= pl.col("_left")).cast(pl.Float64)).alias("population"),
        (pl.col("wg") / pl.col("wg").sum().over("year") * PROVINCE_GDP_2020_WAN * pl.col("growth") / 1.2)
        .round(1).alias("GDP(万元)"),
    )
    assert agg.select("region_id", "year").equals(w.select("region_id", "year"))
    return w.select("region_id", "year", pl.col("population").cast(pl.Int64), "GDP(万元)",
                    pl.lit("synthetic").alias("data_status"))


# Synthetic emissions per resident and year (kg), an invented order of magnitude — not 环境统计 data.
EMISSION_KG_PER_PERSON = {"二氧化硫": 2.0, "氮氧化物": 4.0, "颗粒物": 2.5, "化学需氧量": 15.0, "氨氮": 1.5, "总磷": 0.2}
EMISSIONS_SEED = 20260103


def emissions_table(socio: pl.DataFrame) -> pl.DataFrame:
    """Synthetic 环境统计-style emissions (region_id, year, pollutant, amount in t): population × a per-person
    rate × a county factor (own seed). They cap the demo's air and water purification."""
    rng = np.random.default_rng(EMISSIONS_SEED)
    rows = []
    for pollutant, kg in EMISSION_KG_PER_PERSON.items():
        f = rng.uniform(0.5, 1.5, socio.height)
        rows.append(socio.select("region_id", "year", pl.lit(pollutant).alias("污染物"),
                                 (pl.col("population") * kg * pl.Series(f) / 1000.0).round(2).alias("排放量"),
                                 pl.lit("t").alias("单位")))
    return (pl.concat(rows).with_columns(pl.lit("synthetic").alias("data_status"))
            .sort(["region_id", "year"], maintain_order=True))


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
    # population (people) and GDP (万元): synthetic county shares scaled to the province's published totals
    socio = socio_table(lc, agg)
    socio.write_csv(OUT / "sichuan_population_gdp_synthetic.csv")
    emissions_table(socio).write_csv(OUT / "sichuan_emissions_synthetic.csv")
    # price index (synthetic, CPI-like, 2010 = 100)
    pl.DataFrame(
        {"year": [2010, 2015, 2020, 2025], "index": [100.0, 114.1, 127.7, 133.5],
         "data_status": ["synthetic"] * 4}
    ).write_csv(OUT / "price_index_synthetic.csv")


if __name__ == "__main__":
    main()
