"""Display views of engine tables: groupings and pivots for the report layouts.

Pure functions, Polars in, Polars out. They only regroup what the engine wrote
(sums of ``value_cny`` over ecosystem types and components for the county account
layout of 欧阳志云 et al. 2013 / 规范 2022 总表); every figure traces to a table row.
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl

from gep.account.totals import ALL_REGIONS, exact_sum, gep_growth, gep_level_totals
from gep.units import conversion_factor

WAN = conversion_factor("CNY", "万CNY")
"""CNY → 万元 (1e-4): money in the reports' tables and charts."""
INJECTION_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""Text starting with these could run as a spreadsheet formula: written with Excel's quote prefix."""

CATEGORY_ORDER: dict[str, int] = {
    "provisioning": 0, "物质产品": 0, "regulating": 1, "调节服务": 1,
    "cultural": 2, "文化服务": 2, "supporting": 3, "支持服务": 3,
    "imported_deduction": 4,  # GB/T 46869-2025: products from outside, deducted (≤ 0 rows)
}
DEDUCTION = "imported_deduction"
PRICING_COLUMNS = ("pricing_method", "valuation_method", "price_method")
# services columns the county account layout needs (others are optional)
ACCOUNT_COLUMNS = frozenset({"region_id", "year", "category", "service", "value_cny"})
PIVOT_COLUMNS = frozenset({"region_id", "year", "ecosystem_type", "value_cny"})


def row_sums(df: pl.DataFrame, columns: list[str]) -> list[float]:
    """Σ of ``columns`` per row (nulls as 0), correctly rounded with math.fsum.

    ``pl.sum_horizontal`` may add in a scheduling-dependent order, so the last digit of a
    row total (a cached formula value in report.xlsx) could change between runs; fsum's
    result does not depend on the order (byte-identical reports).
    """
    return [math.fsum(0.0 if x is None else float(x) for x in row)
            for row in df.select(columns).iter_rows()]


def _col_or_null(df: pl.DataFrame, name: str, dtype: Any = pl.Utf8) -> pl.Expr:
    return pl.col(name) if name in df.columns else pl.lit(None, dtype=dtype).alias(name)


def _unique_or_null(name: str) -> pl.Expr:
    """The single distinct non-null value of ``name`` in the group, else null."""
    return (pl.when(pl.col(name).drop_nulls().n_unique() == 1)
            .then(pl.col(name).drop_nulls().first()).otherwise(None).alias(name))


def category_rank(expr: pl.Expr) -> pl.Expr:
    """Sort rank of a GEP category: provisioning, regulating, cultural, supporting, others."""
    return expr.replace_strict(CATEGORY_ORDER, default=9, return_dtype=pl.Int32)


VERIFICATION_RANK: dict[str, int] = {"verified": 0, "secondary": 1, "unverified": 2}


def _worst_verification() -> pl.Expr:
    rank = pl.col("verification").replace_strict(VERIFICATION_RANK, default=None,
                                                 return_dtype=pl.Int32)
    inv = {v: k for k, v in VERIFICATION_RANK.items()}
    return rank.max().replace_strict(inv, default=None, return_dtype=pl.Utf8).alias(
        "verification")


def coefficient_flags(coefficients: pl.DataFrame | None,
                      ids: pl.Series | None = None) -> pl.DataFrame | None:
    """coefficient_id → source, verification (worst of the rows it cites), one row per id.

    Either the coefficient table has a ``coefficient_id`` column, or it is the engine's
    coefficients_used (set_id, table, key "v1 | v2 | …") and ``ids`` are the services'
    references "set:table:v1/v2[|set:table:…]" whose key values are a prefix of ``key``.
    """
    if coefficients is None:
        return None
    cols = [c for c in ("source", "verification") if c in coefficients.columns]
    if "coefficient_id" in coefficients.columns:
        return (coefficients.select(["coefficient_id", *cols])
                .unique("coefficient_id", keep="first", maintain_order=True))
    if ids is None or not {"set_id", "table", "key", "source", "verification"} <= set(
            coefficients.columns):
        return None
    refs = (pl.DataFrame({"coefficient_id": ids.drop_nulls().unique().sort()})
            .with_columns(pl.col("coefficient_id").str.split("|").alias("ref")).explode("ref")
            .filter(pl.col("ref").str.contains(":"))
            .with_columns(pl.col("ref").str.splitn(":", 3).struct.rename_fields(
                ["set_id", "table", "keys"])).unnest("ref")
            .with_columns(pl.col("keys").str.split("/").list.len().alias("n")))
    if refs.height == 0:
        return None
    coef = coefficients.select("set_id", "table", pl.col("key").cast(pl.Utf8).str.split(" | ")
                               .alias("kp"), "source", "verification")
    ns = sorted(set(refs.get_column("n").to_list()))
    long = pl.concat([coef.with_columns(pl.lit(n, dtype=pl.UInt32).alias("n"),
                                        pl.col("kp").list.head(n).list.join("/").alias("keys"))
                      for n in ns]).drop("kp")
    matched = refs.with_columns(pl.col("n").cast(pl.UInt32)).join(
        long, on=["set_id", "table", "n", "keys"], how="inner")
    return matched.group_by("coefficient_id").agg(
        pl.col("source").drop_nulls().unique().sort().str.join("; "), _worst_verification())


def account_items(services: pl.DataFrame, coefficients: pl.DataFrame | None = None) -> pl.DataFrame:
    """County account rows: one per region, year, method, category, service.

    Sums value_cny [CNY] (and quantity, when the group has one unit) over ecosystem
    types and components; price is shown only when the group has a single price.
    Columns: region_id, year, method, category, service, quantity, quantity_unit,
    pricing_method, price, price_unit, value_cny, source, unverified.
    """
    df = services.with_columns(
        _col_or_null(services, "method"),
        _col_or_null(services, "quantity", pl.Float64),
        _col_or_null(services, "quantity_unit"),
        _col_or_null(services, "price", pl.Float64),
        _col_or_null(services, "price_unit"),
        _col_or_null(services, "coefficient_id"),
        pl.coalesce([pl.col(c) for c in PRICING_COLUMNS if c in services.columns]
                    + [pl.lit(None, dtype=pl.Utf8)]).alias("pricing_method"),
    )
    flags = coefficient_flags(coefficients, df.get_column("coefficient_id"))
    if flags is not None:
        df = df.join(flags, on="coefficient_id", how="left")
    df = df.with_columns(
        _col_or_null(df, "source"),
        (_col_or_null(df, "verification").fill_null("") == "unverified").alias("_unverified"),
    )
    keys = ["region_id", "year", "method", "category", "service"]
    out = df.group_by(keys, maintain_order=True).agg(
        # no quantity (values from statistics) stays null: a blank cell, never 0.00
        pl.when((pl.col("quantity_unit").drop_nulls().n_unique() <= 1)
                & pl.col("quantity").is_not_null().any())
        .then(exact_sum("quantity")).otherwise(None).alias("quantity"),
        _unique_or_null("quantity_unit"),
        pl.col("pricing_method").drop_nulls().unique().sort().str.join("; ").alias("pricing_method"),
        _unique_or_null("price"),
        _unique_or_null("price_unit"),
        exact_sum("value_cny"),
        # one source: show it; several (one per ecosystem type, say): name the coefficient
        # tables they come from; the full texts are on the coefficients sheet
        pl.when(pl.col("source").drop_nulls().n_unique() <= 1)
        .then(pl.coalesce(pl.col("source").drop_nulls().first(),
                          pl.col("coefficient_id").drop_nulls().unique().sort().str.join("; ")))
        .otherwise(pl.col("coefficient_id").str.split("|").explode()
                   .str.extract(r"^([^:]+:[^:]+):", 1).drop_nulls().unique().sort()
                   .str.join("; "))
        .alias("source"),
        pl.col("_unverified").any().alias("unverified"),
    )
    return out.sort(["region_id", "year", "method", category_rank(pl.col("category")),
                     "category", "service"], nulls_last=True)


def ecosystem_pivot(services: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """value_cny [CNY] by region, year, method (rows) × ecosystem_type (columns)."""
    df = services.with_columns(_col_or_null(services, "method"),
                               pl.col("ecosystem_type").fill_null("(unattributed)"))
    types = sorted(df.get_column("ecosystem_type").unique().to_list())
    long = df.group_by(["region_id", "year", "method", "ecosystem_type"]).agg(
        exact_sum("value_cny"))
    wide = long.pivot(on="ecosystem_type", index=["region_id", "year", "method"],
                      values="value_cny", sort_columns=True)
    for t in types:
        if t not in wide.columns:
            wide = wide.with_columns(pl.lit(None, dtype=pl.Float64).alias(t))
    return wide.select(["region_id", "year", "method", *types]).sort(
        ["region_id", "year", "method"], nulls_last=True), types


def payer_payee_matrix(ledger: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """Σ amount_cny [CNY] by payer (rows) × payee (columns) from the compensation ledger."""
    long = ledger.group_by(["payer", "payee"]).agg(exact_sum("amount_cny"))
    payees = sorted(long.get_column("payee").drop_nulls().unique().to_list())
    wide = long.pivot(on="payee", index="payer", values="amount_cny", sort_columns=True)
    for p in payees:
        if p not in wide.columns:
            wide = wide.with_columns(pl.lit(None, dtype=pl.Float64).alias(p))
    return wide.select(["payer", *payees]).sort("payer"), payees


def flows(ledger: pl.DataFrame, limit: int = 40) -> pl.DataFrame:
    """payer → payee flows Σ amount_cny [CNY], largest first (ties by name), at most ``limit``."""
    return (ledger.group_by(["payer", "payee"]).agg(exact_sum("amount_cny"))
            .filter(pl.col("amount_cny") != 0)
            .sort(["amount_cny", "payer", "payee"], descending=[True, False, False])
            .head(limit))


def primary(df: pl.DataFrame, column: str) -> Any:
    """The first value of ``column`` in table order (the engine's primary method), or None."""
    if column not in df.columns or df.height == 0:
        return None
    return df.get_column(column).drop_nulls().first() if df.get_column(column).drop_nulls().len() else None


def latest_year(df: pl.DataFrame, column: str = "year") -> Any:
    """The largest year in ``df`` or None."""
    if column not in df.columns or df.height == 0:
        return None
    return df.get_column(column).max()


def select_slice(df: pl.DataFrame, year: Any, method: Any) -> pl.DataFrame:
    """Rows of one year and one method (when the table has those columns)."""
    out = df
    if year is not None and "year" in df.columns:
        out = out.filter(pl.col("year") == year)
    if method is not None and "method" in df.columns:
        out = out.filter(pl.col("method") == method)
    return out


def sum_by(df: pl.DataFrame, key: str, value: str = "value_cny") -> pl.DataFrame:
    """Σ ``value`` by ``key``, largest first (ties by key)."""
    return (df.group_by(key).agg(exact_sum(value))
            .sort([value, key], descending=[True, False], nulls_last=True))


def per_km2_column(gep: pl.DataFrame) -> str | None:
    """The engine's GEP-per-km² column in gep.csv, if it wrote one."""
    cands = [c for c in gep.columns if "per_km2" in c]
    for c in cands:
        if c.startswith(("total", "gep")):
            return c
    return cands[0] if cands else None


def money_columns(df: pl.DataFrame) -> list[str]:
    """Columns holding money in CNY (names ending in ``_cny``), in table order."""
    return [c for c in df.columns if c.endswith("_cny") and "_per_" not in c
            and df.schema[c].is_numeric()]


def category_columns(df: pl.DataFrame) -> list[str]:
    """The per-category money columns of gep.csv (``<category>_cny``), in report order.

    ``imported_deduction_cny`` is not a category (it is subtracted from their sum).
    """
    cols = [c for c in money_columns(df) if c[: -len("_cny")] in CATEGORY_ORDER
            and c != f"{DEDUCTION}_cny"]
    return sorted(cols, key=lambda c: (CATEGORY_ORDER[c[: -len("_cny")]], c))


DECOMPOSITION_PARTS = ("area_effect_cny", "unit_value_effect_cny", "unattributed_change_cny")


def decomposition_totals(dec: pl.DataFrame) -> pl.DataFrame:
    """Σ over regions of change_decomposition.csv per method and period (CNY).

    Columns: method, year_from, year_to, total_change_cny and whichever of the effect
    columns (area, unit value/price-coefficient, unattributed) the table has.
    """
    parts = [c for c in ("total_change_cny", *DECOMPOSITION_PARTS) if c in dec.columns]
    keys = [k for k in ("method", "year_from", "year_to") if k in dec.columns]
    return dec.group_by(keys).agg([exact_sum(c) for c in parts]).sort(keys, nulls_last=True)


def with_intervals(gep: pl.DataFrame, unc: pl.DataFrame | None) -> pl.DataFrame:
    """gep with total_p5_cny / total_p95_cny from uncertainty.csv (service "total") when present.

    The Monte Carlo P5/P95 of each region's total GEP (CNY) joined on region, year and
    method; gep is returned unchanged when the uncertainty table has no such rows.
    """
    if unc is None or not {"region_id", "year", "service", "p5_cny", "p95_cny"} <= set(
            unc.columns) or "year" not in gep.columns:
        return gep
    keys = ["region_id", "year"] + (["method"] if "method" in unc.columns
                                    and "method" in gep.columns else [])
    tot = unc.filter(pl.col("service") == "total").select(
        *keys, pl.col("p5_cny").alias("total_p5_cny"), pl.col("p95_cny").alias("total_p95_cny"))
    if tot.height == 0:
        return gep
    tot = tot.with_columns(pl.col("year").cast(gep.schema["year"]))
    return gep.join(tot, on=keys, how="left", maintain_order="left")


TYPE_FROM, TYPE_TO = "ecosystem_type_from", "ecosystem_type_to"


def change_matrix(flows: pl.DataFrame) -> list[tuple[tuple[Any, Any], pl.DataFrame]]:
    """Ecosystem type change matrices Σ area_ha [ha] over regions, one per period (SEEA EA).

    ``flows`` is extent_change_matrix.csv (region_id, year_from, year_to,
    ecosystem_type_from, ecosystem_type_to, area_ha). Each matrix has one row per opening
    type (column ``ecosystem_type_from``) and one column per closing type, in sorted order,
    covering every type seen on either side.
    """
    if not {TYPE_FROM, TYPE_TO, "area_ha"} <= set(flows.columns):
        return []
    keys = [k for k in ("year_from", "year_to") if k in flows.columns]
    df = flows.with_columns(pl.col(TYPE_FROM).fill_null("(none)"),
                            pl.col(TYPE_TO).fill_null("(none)"))
    types = sorted(set(df.get_column(TYPE_FROM).to_list()) | set(df.get_column(TYPE_TO).to_list()))
    out = []
    periods = df.select(keys).unique().sort(keys).rows() if keys else [()]
    for period in periods:
        part = df
        for k, v in zip(keys, period, strict=True):
            part = part.filter(pl.col(k) == v)
        long = part.group_by([TYPE_FROM, TYPE_TO]).agg(exact_sum("area_ha"))
        grid = pl.DataFrame({TYPE_FROM: types}).join(pl.DataFrame({TYPE_TO: types}), how="cross")
        full = grid.join(long, on=[TYPE_FROM, TYPE_TO], how="left").with_columns(
            pl.col("area_ha").fill_null(0.0))
        wide = full.pivot(on=TYPE_TO, index=TYPE_FROM, values="area_ha", sort_columns=True)
        wide = wide.select(TYPE_FROM, *types).sort(TYPE_FROM)
        out.append(((period[0] if period else None, period[-1] if period else None), wide))
    return out


def _memo(run: Any, key: str, compute: Any) -> Any:
    """``compute()`` once per run (kept in ``run.derived`` when the run has it)."""
    memo = getattr(run, "derived", None)
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def level_totals(run: Any) -> pl.DataFrame | None:
    """The engine's gep_totals table (province and all-region GEP per year and method, CNY).

    For a run folder written before that table existed, the same engine function
    (:func:`gep.account.totals.gep_level_totals`) applied to gep. None without a gep table
    that has region_id, year and total_cny.
    """
    t = run.table("gep_totals")
    if t is not None and {"level", "region_id", "year", "total_cny"} <= set(t.columns):
        return t if "method" in t.columns else t.with_columns(pl.lit(None, pl.Utf8).alias("method"))
    gep = run.table("gep")
    if gep is None or not {"region_id", "year", "total_cny"} <= set(gep.columns):
        return None
    if "method" not in gep.columns:
        gep = gep.with_columns(pl.lit(None, pl.Utf8).alias("method"))
    return _memo(run, "level_totals", lambda: gep_level_totals(gep))


def all_regions_total(totals: pl.DataFrame | None, year: Any, method: Any) -> dict[str, Any]:
    """The all-regions row of gep_totals for one year and method, as a dict (empty when absent)."""
    if totals is None:
        return {}
    part = select_slice(totals.filter(pl.col("level") == "all"), year, method)
    return part.row(0, named=True) if part.height else {}


def growth_table(run: Any) -> tuple[pl.DataFrame, bool] | None:
    """The engine's growth table (增长率) and whether it is at constant prices.

    ``gep_growth`` as the account step wrote it; for a run folder written before that table
    existed, the same engine function (:func:`gep.account.totals.gep_growth`) applied to
    gep_constant (else gep). None when there are fewer than two years.
    """
    g = run.table("gep_growth")
    if g is not None and {"level", "region_id", "year_from", "year_to", "change_cny"} <= set(g.columns):
        return g, "price_base_year" in g.columns
    need = {"region_id", "year", "total_cny"}
    src = run.table("gep_constant")
    constant = src is not None and need <= set(src.columns)
    if not constant:
        src = run.table("gep")
    if src is None or not need <= set(src.columns) or src.get_column("year").n_unique() < 2:
        return None
    if "method" not in src.columns:
        src = src.with_columns(pl.lit(None, pl.Utf8).alias("method"))
    return _memo(run, "growth", lambda: gep_growth(src)), constant


def growth_shown(g: pl.DataFrame) -> pl.DataFrame:
    """Growth rows to lay out: the "all regions" total is left out when it is one province's total.

    With exactly one province in the table and the same values as all regions (every region
    lies in it), the two totals are the same rows; the province (with its name) is shown.
    """
    prov = g.filter(pl.col("level") == "province")
    every = g.filter(pl.col("level") == "all")
    if prov.get_column("region_id").n_unique() != 1 or prov.height != every.height:
        return g
    keys = ["method", "year_from", "year_to"]
    same = prov.join(every, on=keys, how="inner", nulls_equal=True, suffix="_all").filter(
        (pl.col("value_from_cny") == pl.col("value_from_cny_all"))
        & (pl.col("value_to_cny") == pl.col("value_to_cny_all")))
    return g.filter(pl.col("level") != "all") if same.height == every.height else g


def growth_totals(g: pl.DataFrame, shown: pl.DataFrame | None = None) -> pl.DataFrame:
    """The total rows of a growth table to chart: the single province, else all regions.

    ``shown``: :func:`growth_shown` of ``g`` when the caller has it already.
    """
    shown = growth_shown(g) if shown is None else shown
    prov = shown.filter(pl.col("level") == "province")
    if prov.height and shown.filter(pl.col("level") == "all").height == 0:
        return prov
    return shown.filter(pl.col("region_id") == ALL_REGIONS)


MAX_COMPENSATION_TORNADOS = 4


def tornado_outputs(sens: pl.DataFrame) -> list[str]:
    """Outputs to draw as tornados: the first non-compensation output, then compensation ones.

    Compensation outputs (``compensation/…``, CNY) get their own tornado each, at most
    MAX_COMPENSATION_TORNADOS, in table order.
    """
    if "output" not in sens.columns:
        return []
    df = sens.filter(pl.col("analysis") == "oat") if "analysis" in sens.columns else sens
    outs = [str(o) for o in df.get_column("output").drop_nulls().unique(maintain_order=True)]
    comp = [o for o in outs if o.startswith("compensation/")]
    other = [o for o in outs if not o.startswith("compensation/")]
    return other[:1] + comp[:MAX_COMPENSATION_TORNADOS]


def net_year_matrix(by_year: pl.DataFrame) -> pl.DataFrame:
    """Party × year nets [CNY] beside the term total, from compensation_net_by_year.

    Rows: agreement_id, party, party_name; one column per year, then 合计 (the term). Values are
    the exact decimal nets (Σ of every year column and of 合计 over an agreement's parties is 0.00).
    """
    need = {"agreement_id", "year", "party", "party_name", "net_cny"}
    if not need <= set(by_year.columns) or by_year.height == 0:
        return pl.DataFrame()
    years = sorted(y for y in by_year.get_column("year").unique().to_list() if y != "合计")
    wide = by_year.pivot(on="year", index=["agreement_id", "party", "party_name"], values="net_cny",
                         aggregate_function="first", maintain_order=True)
    cols = [c for c in [*years, "合计"] if c in wide.columns]
    return wide.select("agreement_id", "party", "party_name", *cols)
