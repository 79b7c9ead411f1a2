"""Function-value GEP (功能量 × 价格): value_cny = quantity × unit price × unit factor, per indicator and component.

Method: 欧阳志云 et al. 2013 生态学报 33(21):6747-6761 (GEP = provisioning + regulating +
cultural; physical quantity → price → value); formulas and prices as in 白玛卓嘎 et al.
2017 生态学报 37(19):6302-6312 (prices Table 3; docs/formulas.md §2). Quantities come from
area × per-area rate, from a county quantities table, or the value is given directly
in a statistics table (元/万元/亿元). Priority for one region, year and service:
statistics > quantities > rates. Unit algebra goes through :mod:`gep.units`.
"""

from __future__ import annotations

import re

import polars as pl

from gep.account.catalog import METHOD_FUNCTION_VALUE
from gep.account.equivalent import SERVICES_SCHEMA, conform_services
from gep.errors import ProblemCollector, UnitError, fmt_number
from gep.units import conversion_factor, money_factor, parse_compound, value_factor

_REGION_KEYS = ["region_id", "year", "service"]
_QCOLS = ["region_id", "year", "ecosystem_type", "category", "service", "component", "quantity", "quantity_unit",
          "rate_id", "source_row", "source_file"]


def _opt(df: pl.DataFrame, name: str, dtype: pl.DataType) -> pl.Expr:
    return pl.col(name).cast(dtype) if name in df.columns else pl.lit(None, dtype=dtype).alias(name)


def _with_location(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(_opt(df, "source_row", pl.Int64()), _opt(df, "source_file", pl.Utf8()))


def _category_of(df: pl.DataFrame, indicators: pl.DataFrame, problems: ProblemCollector, what: str) -> pl.DataFrame:
    """Attach the indicator category; services not in the indicator list are input problems."""
    cats = indicators.select("service", "category").unique(subset="service", keep="first")
    out = df.join(cats, on="service", how="left")
    for r in out.filter(pl.col("category").is_null()).iter_rows(named=True):
        problems.add(
            "UNKNOWN_SERVICE",
            f"service '{r['service']}' in the {what} is not in the indicator list of the coefficient set",
            file=r.get("source_file"),
            row=r.get("source_row"),
            column="service",
            value=r["service"],
            expected="one of: " + ", ".join(sorted(cats["service"].to_list())),
        )
    return out.filter(pl.col("category").is_not_null())


def rate_quantities(extent: pl.DataFrame, rates: pl.DataFrame) -> pl.DataFrame:
    """Physical quantities = area × per-area rate (e.g. t/hm2, m3/hm2), by region, year, ecosystem type; rate form of 白玛卓嘎 et al. 2017, 生态学报 37(19):6302-6312.

    ``rates``: ecosystem_type, service, component, rate, rate_unit (quantity/area),
    coefficient_id, optional region_id (region-specific rows replace the generic row
    of the same ecosystem type, service and component for that region).
    Returns region_id, year, ecosystem_type, service, component, quantity, quantity_unit, coefficient_id.
    """
    problems = ProblemCollector()
    area = (
        extent.filter(pl.col("ecosystem_type").is_not_null())
        .group_by(["region_id", "year", "ecosystem_type"])
        .agg(pl.col("area_ha").sum())
    )
    units = []
    for unit in rates["rate_unit"].unique().sort().to_list():
        try:
            cu = parse_compound(unit, context="rates")
            if len(cu.denominators) != 1 or cu.denominators[0].dimension != "area":
                problems.add(
                    "UNIT_MISMATCH",
                    f"rate unit '{unit}' must be a quantity per area, such as t/hm2 or m3/hm2",
                    column="unit",
                    value=unit,
                    expected="<quantity unit>/<area unit>",
                )
                continue
            units.append((unit, cu.numerator.text, conversion_factor("ha", cu.denominators[0].text)))
        except UnitError as exc:
            problems.extend(exc.problems)
    problems.raise_if_any()
    unit_map = pl.DataFrame(units, schema={"rate_unit": pl.Utf8, "quantity_unit": pl.Utf8, "_af": pl.Float64}, orient="row")
    r = rates.join(unit_map, on="rate_unit", how="left")
    has_region = "region_id" in r.columns
    generic = r.filter(pl.col("region_id").is_null()).drop("region_id") if has_region else r
    specific = r.filter(pl.col("region_id").is_not_null()) if has_region else r.clear()
    keys = ["region_id", "year", "ecosystem_type", "service", "component"]
    q_generic = area.join(generic, on="ecosystem_type", how="inner")
    if has_region and specific.height:
        q_specific = area.join(specific, on=["region_id", "ecosystem_type"], how="inner")
        q_generic = q_generic.join(q_specific.select(keys), on=keys, how="anti")
        q = pl.concat([q_generic.select(q_specific.columns), q_specific], how="vertical")
    else:
        q = q_generic
    return q.select(
        *keys,
        (pl.col("area_ha") * pl.col("_af") * pl.col("rate")).alias("quantity"),
        "quantity_unit",
        pl.col("coefficient_id").cast(pl.Categorical).alias("rate_id"),  # long ids: dictionary-encoded
    )


def _drop_covered(df: pl.DataFrame, covered: pl.DataFrame) -> pl.DataFrame:
    if not covered.height or not df.height:
        return df
    return df.join(covered.select(_REGION_KEYS).unique(), on=_REGION_KEYS, how="anti")


def price_map(keys: pl.DataFrame, prices: pl.DataFrame) -> pl.DataFrame:
    """Resolve prices for distinct quantity keys (service, component) → rows (service, component, price_component, …).

    Order: exact (service, component) price; a service-level price (empty component)
    for a named component; a quantity without component is valued once per priced
    component of its service (shared basis, e.g. soil retained × sediment, N, P prices).
    Keys without any price are absent from the result.
    """
    p = prices.select("service", "component", "price", "price_unit", "price_year",
                      pl.col("coefficient_id").cast(pl.Categorical).alias("price_id"))
    exact = keys.join(p, on=["service", "component"], how="inner").with_columns(
        pl.col("component").alias("price_component"))
    rest = keys.join(exact.select("service", "component"), on=["service", "component"], how="anti")
    fallback = (
        rest.filter(pl.col("component") != "")
        .join(p.filter(pl.col("component") == "").drop("component"), on="service", how="inner")
        .with_columns(pl.col("component").alias("price_component"))
    )
    rest = rest.join(fallback.select("service", "component"), on=["service", "component"], how="anti")
    expanded = (
        rest.filter(pl.col("component") == "")
        .join(p.filter(pl.col("component") != "").rename({"component": "price_component"}), on="service", how="inner")
    )
    cols = ["service", "component", "price_component", "price", "price_unit", "price_year", "price_id"]
    return pl.concat([exact.select(cols), fallback.select(cols), expanded.select(cols)], how="vertical")


def match_prices(quantities: pl.DataFrame, prices: pl.DataFrame, problems: ProblemCollector) -> pl.DataFrame:
    """Attach a unit price to every quantity row (rules of :func:`price_map`, resolved on distinct keys, then one join).

    A component without a price is a MISSING_COEFFICIENT problem naming it (first row where it occurs).
    """
    keys = quantities.select("service", "component").unique()
    pm = price_map(keys, prices)
    missing = keys.join(pm.select("service", "component").unique(), on=["service", "component"], how="anti")
    if missing.height:
        firsts = (
            quantities.join(missing, on=["service", "component"], how="semi")
            .group_by(["service", "component", "source_file"])
            .agg(pl.col("source_row").min())
            .sort(["source_file", "source_row", "service", "component"], nulls_last=True)
        )
        for r in firsts.iter_rows(named=True):
            comp = f", component '{r['component']}'" if r["component"] else ""
            problems.add(
                "MISSING_COEFFICIENT",
                f"no unit price for service '{r['service']}'{comp}: add a row to the prices table "
                "(service, component, price, unit) or use a coefficient set that prices it",
                file=r.get("source_file"),
                row=r.get("source_row"),
                column="component" if r["component"] else "service",
                value=f"{r['service']}/{r['component']}" if r["component"] else r["service"],
                expected="a price in the prices table or the coefficient set",
            )
    return (
        quantities.join(pm, on=["service", "component"], how="inner")
        .drop("component")
        .rename({"price_component": "component"})
    )


def apply_unit_factors(df: pl.DataFrame, problems: ProblemCollector) -> pl.DataFrame:
    """value_cny = quantity × price × value_factor(quantity_unit, price_unit); mismatches are UNIT_MISMATCH problems naming both units."""
    rows = []
    pairs = df.group_by(["quantity_unit", "price_unit"]).agg(
        pl.col("source_file").first(), pl.col("source_row").min(), pl.col("service").first(),
        pl.col("price_id").first() if "price_id" in df.columns else pl.lit(None, pl.Utf8).alias("price_id"),
    )
    for r in pairs.sort(["quantity_unit", "price_unit"]).iter_rows(named=True):
        try:
            rows.append((r["quantity_unit"], r["price_unit"], value_factor(r["quantity_unit"], r["price_unit"])))
        except UnitError as exc:
            for pr in exc.problems:
                file, row = r["source_file"], r["source_row"]
                m = re.match(r"^prices:(.*):row (\d+)$", str(r["price_id"] or ""))
                if m and pr.value and pr.value in r["price_unit"] and pr.value not in r["quantity_unit"]:
                    file, row = m.group(1), int(m.group(2))  # the price's unit is wrong: blame the prices table
                problems.add(
                    pr.code,
                    f"service '{r['service']}': {pr.message}",
                    file=file,
                    row=row,
                    column="unit",
                    value=pr.value,
                    expected=pr.expected,
                )
    factors = pl.DataFrame(
        rows, schema={"quantity_unit": pl.Utf8, "price_unit": pl.Utf8, "_vf": pl.Float64}, orient="row"
    )
    out = df.join(factors, on=["quantity_unit", "price_unit"], how="inner").with_columns(
        (pl.col("quantity") * pl.col("price") * pl.col("_vf")).alias("value_cny")
    )
    bad = out.filter(~pl.col("value_cny").is_finite())
    for r in bad.sort(["source_file", "source_row"], nulls_last=True).head(20).iter_rows(named=True):
        problems.add(
            "VALUE_OUT_OF_RANGE",
            f"service '{r['service']}': quantity × price does not fit a number after unit conversion "
            f"({fmt_number(r['quantity'])} {r['quantity_unit']} × {fmt_number(r['price'])} {r['price_unit']})",
            file=r["source_file"], row=r["source_row"], column="quantity", value=fmt_number(r["quantity"]),
            expected="a quantity and price whose product in 元 is below about 1e+308",
        )
    return out.filter(pl.col("value_cny").is_finite())


def statistics_values(statistics: pl.DataFrame, problems: ProblemCollector) -> pl.DataFrame:
    """Direct values (元/万元/亿元/CNY) converted to CNY; quantity and price stay empty."""
    rows = []
    stats = _with_location(statistics)
    for r in stats.group_by("unit").agg(pl.col("source_file").first(), pl.col("source_row").min()).sort("unit").iter_rows(
        named=True
    ):
        try:
            rows.append((r["unit"], money_factor(r["unit"], context="statistics")))
        except UnitError as exc:
            for pr in exc.problems:
                problems.add(pr.code, pr.message, file=r["source_file"], row=r["source_row"], column="unit",
                             value=pr.value, expected=pr.expected)
    mf = pl.DataFrame(rows, schema={"unit": pl.Utf8, "_mf": pl.Float64}, orient="row")
    return stats.join(mf, on="unit", how="inner").with_columns(
        (pl.col("value") * pl.col("_mf")).alias("value_cny"),
        pl.lit(None, dtype=pl.Float64).alias("quantity"),
        pl.lit(None, dtype=pl.Utf8).alias("quantity_unit"),
        pl.lit(None, dtype=pl.Float64).alias("price"),
        pl.lit(None, dtype=pl.Utf8).alias("price_unit"),
        pl.col("year").cast(pl.Int32).alias("price_year"),
        pl.lit("statistics").alias("coefficient_id"),
    )


def function_value_services(
    indicators: pl.DataFrame,
    prices: pl.DataFrame,
    *,
    extent: pl.DataFrame | None = None,
    rates: pl.DataFrame | None = None,
    quantities: pl.DataFrame | None = None,
    statistics: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Services table by the function-value method, CNY; V = Σ Q·P per indicator/component (欧阳志云 2013; 白玛卓嘎 2017 Table 3).

    ``indicators``: service, category (the indicator list of the set). ``prices``:
    service, component, price, price_unit, price_year, coefficient_id. ``quantities``:
    region_id, year, service, component, quantity, unit [, ecosystem_type, source_row, source_file].
    ``statistics``: region_id, year, service, component, value, unit [, ecosystem_type, …].
    Raises InputError (UNKNOWN_SERVICE, MISSING_COEFFICIENT, UNIT_MISMATCH, UNKNOWN_UNIT) after collecting all.
    """
    problems = ProblemCollector()
    parts: list[pl.DataFrame] = []
    stats = quant = None
    if statistics is not None and statistics.height:
        stats = _category_of(_with_location(statistics), indicators, problems, "statistics table")
        stats = statistics_values(stats, problems).with_columns(_opt(stats, "ecosystem_type", pl.Utf8()))
        parts.append(stats)
    if quantities is not None and quantities.height:
        quant = _with_location(quantities).rename({"unit": "quantity_unit"}).with_columns(
            _opt(quantities, "ecosystem_type", pl.Utf8()), pl.lit("quantities").cast(pl.Categorical).alias("rate_id")
        )
        quant = _category_of(quant, indicators, problems, "quantities table").select(_QCOLS)
        if stats is not None:
            quant = _drop_covered(quant, stats)
    if extent is not None and rates is not None and rates.height:
        rq = _with_location(rate_quantities(extent, rates))
        rq = rq.join(indicators.select("service", "category").unique(subset="service", keep="first"), on="service", how="inner")
        for covered in (stats, quant):
            if covered is not None:
                rq = _drop_covered(rq, covered)
        quant = rq.select(_QCOLS) if quant is None else pl.concat([quant, rq.select(_QCOLS)], how="vertical")
        del rq
    if quant is not None and quant.height:
        priced = match_prices(quant, prices, problems)
        del quant
        valued = apply_unit_factors(priced, problems)
        del priced
        # coefficient ids built once per distinct (rate, price) pair, joined back dictionary-encoded
        ids = valued.select("rate_id", "price_id").unique().with_columns(
            pl.format("{}|{}", pl.col("rate_id"), pl.col("price_id")).cast(pl.Categorical).alias("coefficient_id")
        )
        valued = valued.join(ids, on=["rate_id", "price_id"], how="left").with_columns(
            # a user price without a price year is taken to be at the prices of the accounting year
            pl.col("price_year").fill_null(pl.col("year")),
        )
        parts.append(valued.select([c for c in valued.columns if c in _CAST]))
        del valued
    problems.raise_if_any()
    if not parts:
        return pl.DataFrame(schema=SERVICES_SCHEMA)
    cols = ["region_id", "year", "ecosystem_type", "category", "service", "component", "quantity", "quantity_unit",
            "price", "price_unit", "value_cny", "coefficient_id", "price_year"]
    out = pl.concat([p.select([pl.col(c).cast(t) for c, t in _CAST.items() if c in cols]) for p in parts], how="vertical")
    parts.clear()
    return conform_services(out.with_columns(pl.lit(METHOD_FUNCTION_VALUE).alias("method")))


_CAST: dict[str, pl.DataType] = {c: t for c, t in SERVICES_SCHEMA.items() if c != "method"}
"""Columns (and types) of the per-source parts before the method column is added."""


PURIFICATION_SERVICES: tuple[str, ...] = ("air_purification", "water_purification")
"""Services whose physical quantity is capped at the region's emissions (min(capacity × area, emissions))."""


def cap_purification(services: pl.DataFrame, emissions: pl.DataFrame | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Air and water purification = min(purification capacity × area, emissions), per region, year and pollutant.

    The function-value standards count as purified only what is emitted (大气净化 "amount =
    local emission amount (capped by purification capacity)", 水质净化 "= emissions"). Capped are the rows
    computed from per-area capacities (area × rate); county quantities and statistics are taken as given.
    ``emissions``: region_id, year, service, component, emissions_t, source_row, source_file
    (:func:`gep.account.inputs.read_emissions`); None means no table. For every (region, year, service,
    component) the capacity rows of all ecosystem types are scaled by min(1, E / capacity), so quantity,
    value and quantity × price = value keep holding; each row whose cap binds cites the emission row
    (``…|emissions:<file>:row N``). Capacity rows without an emission row are removed: a per-area capacity
    alone is not a purification amount. Returns (services, not_computed) where ``not_computed`` lists
    region_id, year, service, component, capacity_t of the removed groups.
    """
    keys = ["region_id", "year", "service", "component"]
    cid = pl.col("coefficient_id").cast(pl.Utf8)
    eligible = (pl.col("method") == METHOD_FUNCTION_VALUE) & pl.col("service").is_in(PURIFICATION_SERVICES) & (
        cid.is_not_null() & ~cid.str.starts_with("quantities") & (cid != "statistics"))
    part = services.filter(eligible)
    empty = pl.DataFrame(schema={"region_id": pl.Utf8, "year": pl.Int32, "service": pl.Utf8, "component": pl.Utf8,
                                 "capacity_t": pl.Float64})
    if not part.height:
        return services, empty
    rest = services.filter(~eligible)
    to_t = {u: conversion_factor(u, "t") for u in part["quantity_unit"].unique().drop_nulls().to_list()}
    part = part.with_columns((pl.col("quantity") * pl.col("quantity_unit").replace_strict(
        to_t, return_dtype=pl.Float64)).alias("_t"))
    cap = part.group_by(keys).agg(pl.col("_t").sum().alias("capacity_t"))
    if emissions is None or not emissions.height:
        return rest, cap.select(empty.columns).sort(keys)
    em = emissions.select(*keys, "emissions_t",
                          pl.format("emissions:{}:row {}",
                                    pl.col("source_file").str.replace_all("\\", "/", literal=True)
                                    .str.split("/").list.last(), pl.col("source_row")).alias("_eid"))
    cap = cap.join(em, on=keys, how="left")
    missing = cap.filter(pl.col("emissions_t").is_null())
    factor = cap.filter(pl.col("emissions_t").is_not_null()).with_columns(
        pl.when(pl.col("capacity_t") > pl.col("emissions_t"))
        .then(pl.col("emissions_t") / pl.col("capacity_t")).otherwise(1.0).alias("_f"))
    capped = part.join(factor.select(*keys, "_f", "_eid"), on=keys, how="inner").with_columns(
        (pl.col("quantity") * pl.col("_f")).alias("quantity"),
        (pl.col("value_cny") * pl.col("_f")).alias("value_cny"),
        # the emission row is cited where it decided the value (the cap binds); elsewhere the capacity did
        pl.when(pl.col("_f") < 1.0).then(pl.format("{}|{}", cid, pl.col("_eid"))).otherwise(cid)
        .alias("coefficient_id"),
    )
    out = pl.concat([rest, capped.select(services.columns)], how="vertical_relaxed")
    return conform_services(out), missing.select(empty.columns).sort(keys)
