"""Carbon stocks: Σ area × (c_above + c_below + c_soil + c_dead), in t C.

Method: InVEST Carbon 3.20 storage (user guide "carbonstorage", c_storage = sum of
the four pools × area) = IPCC 2006 GL Vol 4 Eq 2.3 pools summed over strata (Eq 2.2).
"""

from __future__ import annotations

import polars as pl

from gep.carbon.params import POOLS

STOCK_COLUMNS: tuple[str, ...] = ("region_id", "year", "class", "pool", "c_t")


def densities_total(densities: pl.DataFrame) -> pl.DataFrame:
    """``class, density_t_c_ha`` = c_above + c_below + c_soil + c_dead (t C/ha)."""
    return densities.select("class", pl.sum_horizontal(*POOLS).alias("density_t_c_ha"))


def carbon_stock(extent: pl.DataFrame, densities: pl.DataFrame) -> pl.DataFrame:
    """Carbon stock per region, year, class and pool, in t C (long table, tables/carbon_stock.csv).

    ``extent``: region_id, year, class, area_ha; ``densities``: class, c_above..c_dead (t C/ha).
    c_t = area_ha × pool density. Sorted by region_id, year, class, pool (stable bytes).
    """
    long = densities.unpivot(index="class", on=list(POOLS), variable_name="pool", value_name="t_c_ha")
    return (
        extent.select("region_id", pl.col("year").cast(pl.Int32), "class", "area_ha")
        .join(long, on="class", how="inner")
        .with_columns((pl.col("area_ha") * pl.col("t_c_ha")).alias("c_t"))
        .select(*STOCK_COLUMNS)
        .sort(["region_id", "year", "class", "pool"])
    )


def stock_totals(stock: pl.DataFrame) -> pl.DataFrame:
    """Total carbon stock per region and year (t C): the sum of every class and pool."""
    return (
        stock.group_by("region_id", "year").agg(pl.col("c_t").sum())
        .sort(["region_id", "year"])
    )
