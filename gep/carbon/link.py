"""Carbon flux summaries and the link to the function-value GEP (固碳 quantity).

GEP link rule (no double counting): the GEP indicator ``carbon_sequestration`` takes ONE
annual quantity per region and year from ONE method: gain–loss rows (already annual) when
the run has them, otherwise the stock-difference change divided by its years and reported
for ``year_to``. Stocks never enter GEP (they are assets, not flows). Handed to the account
step as a quantities table, it overrides the account's own area × rate estimate of the same
service (account precedence: statistics > quantities > rates), so the carbon is counted once.
Method: 《生态产品总值核算规范（试行）》 2022 固碳: Q_CO2 = C × 44/12.
"""

from __future__ import annotations

import polars as pl

SUMMARY_COLUMNS = ("region_id", "year_from", "year_to", "method", "group", "delta_c_t", "co2e_t", "value_cny")
QUANTITY_COLUMNS = ("region_id", "year", "service", "component", "ecosystem_type", "quantity", "unit")


def method_family(method: pl.Expr) -> pl.Expr:
    """'stock_difference' or 'gain_loss' (rate, IPCC forest/grassland and wetland CH4 rows)."""
    return pl.when(method == "stock_difference").then(pl.lit("stock_difference")).otherwise(pl.lit("gain_loss"))


def with_groups(flux: pl.DataFrame, class_types: pl.DataFrame, groups: pl.DataFrame) -> pl.DataFrame:
    """Add ``ecosystem_type`` and ``group`` (forest/grassland/wetland/cropland/desert/water/glacier/other)
    of ``class_to``.

    IPCC convention: land converted to X is reported under X (2006 GL Vol 4 Ch 3); classes with
    no ecosystem type (built-up) are 'other'.
    """
    ct = class_types.select("class", "ecosystem_type").unique("class", keep="first").join(groups, on="ecosystem_type", how="left")
    return flux.join(ct.select(pl.col("class").alias("class_to"), "ecosystem_type", "group"), on="class_to",
                     how="left").with_columns(pl.col("group").fill_null("other"))


def flux_summary(flux_g: pl.DataFrame) -> pl.DataFrame:
    """Forest, grassland, wetland (and every other group) separately, plus 'all' = together.

    Input: flux rows with ``group``; sums delta_c_t, co2e_t, value_cny per region, period, method family, group.
    """
    base = flux_g.with_columns(method_family(pl.col("method")).alias("method"))
    keys = ["region_id", "year_from", "year_to", "method"]
    by_group = base.group_by(*keys, "group").agg(pl.col("delta_c_t", "co2e_t", "value_cny").sum())
    total = base.group_by(*keys).agg(pl.col("delta_c_t", "co2e_t", "value_cny").sum()).with_columns(pl.lit("all").alias("group"))
    return pl.concat([by_group.select(*SUMMARY_COLUMNS), total.select(*SUMMARY_COLUMNS)]).sort(
        ["region_id", "year_from", "year_to", "method", "group"])


def gep_quantities(flux_g: pl.DataFrame) -> pl.DataFrame:
    """Carbon sequestration quantities for the function-value GEP, in t CO2 per year.

    Columns region_id, year, service='carbon_sequestration', component='co2' (the component the
    function-value set prices per t CO2), ecosystem_type (of class_to; empty for built-up), quantity,
    unit='t CO2'. Per region: gain–loss rows when there are any (annual flows, year = year_to),
    otherwise the stock-difference change / (year_to − year_from), reported for year_to. Net of wetland CH4.
    """
    fam = flux_g.with_columns(method_family(pl.col("method")).alias("family"))
    has_gl = fam.filter(pl.col("family") == "gain_loss").select("region_id").unique().with_columns(pl.lit(True).alias("_gl"))
    fam = fam.join(has_gl, on="region_id", how="left").with_columns(pl.col("_gl").fill_null(False))
    chosen = fam.filter((pl.col("family") == "gain_loss") == pl.col("_gl"))
    annual = chosen.with_columns(
        (pl.col("co2e_t") / (pl.col("year_to") - pl.col("year_from")).cast(pl.Float64)).alias("quantity"))
    return (
        annual.group_by("region_id", pl.col("year_to").alias("year"), "ecosystem_type")
        .agg(pl.col("quantity").sum())
        .with_columns(pl.lit("carbon_sequestration").alias("service"), pl.lit("co2").alias("component"),
                      pl.lit("t CO2").alias("unit"))
        .select(*QUANTITY_COLUMNS)
        .sort(["region_id", "year", "ecosystem_type"], nulls_last=True)
    )
