"""Totals above the reporting level and growth between accounting years, built from the ``gep`` table.

``gep_level_totals`` sums the per-region GEP table to each province (by the GB/T 2260 code:
ABCDEF lies in AB0000) and to all regions of the run; ``gep_growth`` compares each region and
each total with the previous accounting year it has (增长率, 欧阳志云 et al. 2013 multi-year
accounts). The reports lay these tables out; they compute no totals of their own.
Formulas: docs/formulas.md §3 (AT6, AT7).
"""

from __future__ import annotations

import polars as pl

from gep.account.tables import CATEGORY_COLUMNS, DEDUCTION_COLUMN

LEVELS: dict[str, int] = {"all": 0, "province": 1, "region": 2}  # sort order of the levels
ALL_REGIONS = "all"
MONEY_COLUMNS: list[str] = [*CATEGORY_COLUMNS, DEDUCTION_COLUMN, "total_cny"]
# additive denominators of the gep table: summed only when every member region has them
DENOMINATORS: list[str] = ["area_km2", "population", "gdp_cny"]


def exact_sum(name: str) -> pl.Expr:
    """Σ of a float column that does not depend on the summation order (byte-identical outputs).

    Polars' parallel group_by adds partial float sums in a scheduling-dependent order, so
    the last digit of a group sum can change between runs. Summing as Decimal(38, 6) (each
    value rounded to 10⁻⁶ of its unit: micro-yuan, micro-tonnes, micro-hectares) is exact
    integer arithmetic, hence order-independent; the result is returned as Float64.
    """
    return pl.col(name).cast(pl.Decimal(38, 6), strict=False).sum().cast(pl.Float64).alias(name)


def province_id(region_id: pl.Expr) -> pl.Expr:
    """Province code of a GB/T 2260 county or prefecture code ("510104" → "510000"); else null."""
    return (pl.when(region_id.str.contains(r"^\d{6}$") & ~region_id.str.ends_with("0000"))
            .then(region_id.str.slice(0, 2) + "0000").otherwise(None))


def _complete_sum(name: str) -> pl.Expr:
    """Σ of ``name`` when no member has it missing, else null (a partial area is no area)."""
    return (pl.when(pl.col(name).null_count() == 0).then(exact_sum(name))
            .otherwise(None).alias(name))


def gep_level_totals(gep: pl.DataFrame) -> pl.DataFrame:
    """GEP per province and for all regions of the run, per year and method (CNY); 欧阳志云 2013 GEP summed over regions.

    ``gep`` is the engine's gep (or gep_constant) table, one row per region, year, method.
    Level "province": Σ over the regions whose GB/T 2260 code lies in province AB0000 (regions
    that are provinces themselves, or whose ids are not codes, have none); level "all": Σ over
    every region (id "all"). Columns: level, region_id, year, method, n_regions, the category
    columns, imported_deduction_cny, total_cny [CNY]; area_km2, population, gdp_cny summed when
    every member has them; gep_per_km2_cny, gep_per_capita_cny, gep_gdp_ratio recomputed from
    the sums; price_base_year kept when the input has it. Identity: Σ members = total, per column.
    Sorted: level "all" first, then provinces by id; each by year and method.
    """
    money = [c for c in MONEY_COLUMNS if c in gep.columns]
    denom = [c for c in DENOMINATORS if c in gep.columns]
    extra = ["price_base_year"] if "price_base_year" in gep.columns else []
    aggs = [pl.len().cast(pl.Int32).alias("n_regions"), *(exact_sum(c) for c in money),
            *(_complete_sum(c) for c in denom), *(pl.col(c).max() for c in extra)]
    keys = ["year", "method"]
    base = gep.with_columns(pl.col("region_id").cast(pl.Utf8))
    provinces = (base.with_columns(province_id(pl.col("region_id")).alias("region_id"))
                 .filter(pl.col("region_id").is_not_null())
                 .group_by(["region_id", *keys]).agg(aggs)
                 .with_columns(pl.lit("province").alias("level")))
    everything = (base.group_by(keys).agg(aggs)
                  .with_columns(pl.lit("all").alias("level"), pl.lit(ALL_REGIONS).alias("region_id")))
    cols = ["level", "region_id", *keys, "n_regions", *money, *denom, *extra]
    out = pl.concat([everything.select(cols), provinces.select(cols)])
    ratios = []
    if "total_cny" in money:
        for den, name in (("area_km2", "gep_per_km2_cny"), ("population", "gep_per_capita_cny"),
                          ("gdp_cny", "gep_gdp_ratio")):
            if den in denom:
                ratios.append((pl.col("total_cny") / pl.col(den)).alias(name))
    out = out.with_columns(ratios).with_columns(pl.col("year").cast(pl.Int32))
    rank = pl.col("level").replace_strict(LEVELS, return_dtype=pl.Int32)
    return out.sort([rank, "region_id", *keys], nulls_last=True)


def gep_growth(gep: pl.DataFrame, totals: pl.DataFrame | None = None,
               value: str = "total_cny") -> pl.DataFrame:
    """GEP change between consecutive accounting years per region, province and all regions (增长率; 欧阳志云 2013 multi-year GEP).

    ``gep`` is the gep or gep_constant table (CNY), ``totals`` its :func:`gep_level_totals`
    (computed when not given). For each level, region and method, each year is compared with
    the previous year that entity has: change_cny = to − from; change_pct = change / |from| × 100
    (null when from = 0); annual_pct = ((to/from)^(1/Δyears) − 1) × 100, the average annual
    rate (null when from ≤ 0 or to < 0). Columns: level ("all" | "province" | "region"),
    region_id, method, year_from, year_to, value_from_cny, value_to_cny, change_cny,
    change_pct, annual_pct (+ price_base_year when ``gep`` has it). Identity: the change of a
    total = Σ of its members' changes when every member has both years.
    """
    if totals is None:
        totals = gep_level_totals(gep)
    extra = ["price_base_year"] if "price_base_year" in gep.columns else []

    def pick(df: pl.DataFrame, level: pl.Expr) -> pl.DataFrame:
        return df.select(level.alias("level"), pl.col("region_id").cast(pl.Utf8),
                         pl.col("method").cast(pl.Utf8), pl.col("year").cast(pl.Int32),
                         pl.col(value).cast(pl.Float64).alias("v"), *extra)

    both = pl.concat([pick(totals, pl.col("level")), pick(gep, pl.lit("region"))])
    keys = ["level", "region_id", "method"]
    out = (both.sort([*keys, "year"], nulls_last=True)
           .with_columns(pl.col("year").shift(1).over(keys).alias("year_from"),
                         pl.col("v").shift(1).over(keys).alias("value_from_cny"))
           .filter(pl.col("year_from").is_not_null())
           .rename({"year": "year_to", "v": "value_to_cny"}))
    d = pl.col("value_to_cny") - pl.col("value_from_cny")
    n = (pl.col("year_to") - pl.col("year_from")).cast(pl.Float64)
    ok = (pl.col("value_from_cny") > 0) & (pl.col("value_to_cny") >= 0)
    out = out.with_columns(
        d.alias("change_cny"),
        pl.when(pl.col("value_from_cny") != 0).then(d / pl.col("value_from_cny").abs() * 100)
        .otherwise(None).alias("change_pct"),
        pl.when(ok & (n > 0))
        .then(((pl.col("value_to_cny") / pl.col("value_from_cny")).pow(1 / n) - 1) * 100)
        .otherwise(None).alias("annual_pct"))
    rank = pl.col("level").replace_strict(LEVELS, return_dtype=pl.Int32)
    return out.select(*keys, "year_from", "year_to", "value_from_cny", "value_to_cny",
                      "change_cny", "change_pct", "annual_pct", *extra).sort(
        [rank, "region_id", "method", "year_from"], nulls_last=True)
