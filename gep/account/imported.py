"""Imported-products deduction of GEP (区域外生态产品扣减), CNY: GEP = Σ values supplied in the region − value of products from outside; GB/T 46869-2025 §3 definition.

GB/T 46869-2025 《生态系统评估 陆域生态产品总值核算技术指南》 defines GEP as the value of all
ecosystem products supplied by the ecosystems of a region in the accounting period
**minus** the value of ecosystem products that come from outside the region
(standard detail page on main.spc.net.cn, ✅ definition only; how a county measures the
imported part is not operationalised there, ⚠️). The county gives the imported products
as money values (元/万元/亿元) or as quantities priced with the same prices as its own
quantities. They become rows of the services table with category
``imported_deduction``, a negative ``value_cny`` (and negative ``quantity``, so
quantity × price = value still holds) and the method tag ``function_value``.
"""

from __future__ import annotations

import polars as pl

from gep.account.catalog import IMPORTED_DEDUCTION, METHOD_FUNCTION_VALUE
from gep.account.equivalent import SERVICES_SCHEMA, conform_services
from gep.account.function_value import (
    _category_of,
    _with_location,
    apply_unit_factors,
    match_prices,
    statistics_values,
)
from gep.errors import ProblemCollector

_OUT = [c for c in SERVICES_SCHEMA if c != "method"]


def _file_row_id(prefix: str) -> pl.Expr:
    """``<prefix>:<file name>:row N`` (the spreadsheet row of the input, header = row 1)."""
    name = pl.col("source_file").fill_null("imported").str.replace_all("\\\\", "/").str.split("/").list.last()
    return pl.format("{}:{}:row {}", pl.lit(prefix), name, pl.col("source_row").fill_null(0))


def imported_deduction_services(
    imported: pl.DataFrame,
    indicators: pl.DataFrame,
    prices: pl.DataFrame,
) -> pl.DataFrame:
    """Services rows of the imported-products deduction (value_cny ≤ 0); GB/T 46869-2025 GEP definition.

    ``imported``: region_id, year, service, component, value, quantity, unit [, ecosystem_type,
    source_row, source_file] (one of value / quantity per row, see
    :func:`gep.account.inputs.read_imported`). ``indicators``: service, category of the
    function-value set (the service must be one of its indicators). ``prices``: as for
    :func:`gep.account.function_value.function_value_services`.
    Money rows: value_cny = −value × money factor (coefficient_id ``imported:<file>:row N``).
    Quantity rows: value_cny = −quantity × price × unit factor (coefficient_id
    ``imported|<price id>``). Raises InputError (UNKNOWN_SERVICE, MISSING_COEFFICIENT,
    UNIT_MISMATCH, UNKNOWN_UNIT) with every problem collected.
    """
    problems = ProblemCollector()
    df = _with_location(imported)
    for col, dtype in (("value", pl.Float64()), ("quantity", pl.Float64()), ("ecosystem_type", pl.Utf8())):
        if col not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=dtype).alias(col))
    df = _category_of(df, indicators, problems, "imported-products table")
    parts: list[pl.DataFrame] = []
    money = df.filter(pl.col("value").is_not_null())
    if money.height:
        mv = statistics_values(money.drop("quantity"), problems).with_columns(
            _file_row_id("imported").alias("coefficient_id"))
        parts.append(mv.select(_OUT))
    phys = df.filter(pl.col("value").is_null() & pl.col("quantity").is_not_null())
    if phys.height:
        q = phys.rename({"unit": "quantity_unit"}).with_columns(
            pl.lit("imported").cast(pl.Categorical).alias("rate_id"))
        priced = apply_unit_factors(match_prices(q, prices, problems), problems)
        priced = priced.with_columns(
            pl.format("{}|{}", pl.col("rate_id"), pl.col("price_id")).alias("coefficient_id"),
            pl.col("price_year").fill_null(pl.col("year")),
        )
        parts.append(priced.select([pl.col(c).cast(SERVICES_SCHEMA[c]) for c in _OUT]))
    problems.raise_if_any()
    if not parts:
        return pl.DataFrame(schema=SERVICES_SCHEMA)
    out = pl.concat([p.select([pl.col(c).cast(SERVICES_SCHEMA[c]) for c in _OUT]) for p in parts], how="vertical")
    return conform_services(out.with_columns(
        (-pl.col("quantity")).alias("quantity"),
        (-pl.col("value_cny")).alias("value_cny"),
        pl.lit(IMPORTED_DEDUCTION).alias("category"),
        pl.lit(METHOD_FUNCTION_VALUE).alias("method"),
    ))


def deduction_without_account(deduction: pl.DataFrame, services: pl.DataFrame) -> pl.DataFrame:
    """Region-years that have a deduction but no function-value service rows (likely a typo in region_id or year)."""
    own = services.filter(pl.col("method") == METHOD_FUNCTION_VALUE, pl.col("category") != IMPORTED_DEDUCTION)
    return (deduction.select("region_id", "year").unique()
            .join(own.select("region_id", "year").unique(), on=["region_id", "year"], how="anti")
            .sort(["region_id", "year"]))
