"""Account tables built from the services table: GEP totals, SEEA EA tables, roll-up, constant prices, change decomposition.

SEEA EA: United Nations et al. 2021, System of Environmental-Economic Accounting—
Ecosystem Accounting (extent account; physical and monetary ecosystem-services supply
tables; formulas in docs/formulas.md §3). Every builder checks its identities
with :mod:`gep.account.identities`.
"""

from __future__ import annotations

import polars as pl

from gep.account._order import keyed_like, sum_by
from gep.account.catalog import CATEGORIES, IMPORTED_DEDUCTION, METHOD_FUNCTION_VALUE
from gep.account.equivalent import SERVICES_SCHEMA, conform_services, decode_services, encode_services
from gep.account.extent_flows import (
    _check,
    _classes_per_region,
    gross_additions_reductions,
)
from gep.account.identities import (
    AccountIdentityError,
    assert_row_sum,
    assert_sums_equal,
    assert_unique,
)
from gep.errors import ProblemCollector

CATEGORY_COLUMNS: list[str] = [f"{c}_cny" for c in CATEGORIES]
DEDUCTION_COLUMN = f"{IMPORTED_DEDUCTION}_cny"  # GB/T 46869-2025: value of ecosystem products from outside the region
GEP_KEYS: list[str] = ["region_id", "year", "method"]
UNATTRIBUTED = "(unattributed)"  # ecosystem_type label for values given without an ecosystem type


def gep_totals(
    services: pl.DataFrame,
    *,
    area_km2: pl.DataFrame | None = None,
    socio: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """GEP per region, year and method (CNY): one column per category, imported_deduction_cny and total_cny; 欧阳志云 2013 GEP = EMV + ERV + ECV, GB/T 46869-2025 minus products from outside.

    ``area_km2``: region_id [, year], area_km2 → gep_per_km2_cny. ``socio``: region_id,
    year, population (people) and/or gdp_cny → gep_per_capita_cny, gep_gdp_ratio.
    ``imported_deduction_cny`` (≥ 0, 0 when none) = −Σ value_cny of the services rows with
    category ``imported_deduction``. Identities: Σ services = each category;
    total = Σ categories − imported deduction.
    """
    wide = (
        services.group_by([*GEP_KEYS, "category"])
        .agg(pl.col("value_cny").sum())
        .pivot(on="category", index=GEP_KEYS, values="value_cny")
    )
    for cat in (*CATEGORIES, IMPORTED_DEDUCTION):
        if cat not in wide.columns:
            wide = wide.with_columns(pl.lit(0.0).alias(cat))
    out = wide.select(
        *GEP_KEYS,
        *[pl.col(c).fill_null(0.0).cast(pl.Float64).alias(f"{c}_cny") for c in CATEGORIES],
        pl.when(pl.col(IMPORTED_DEDUCTION).fill_null(0.0) == 0.0).then(0.0)  # never −0.0 in the CSV
        .otherwise(-pl.col(IMPORTED_DEDUCTION).cast(pl.Float64)).alias(DEDUCTION_COLUMN),
    ).with_columns((pl.sum_horizontal(CATEGORY_COLUMNS) - pl.col(DEDUCTION_COLUMN)).alias("total_cny"))
    out = decode_services(out.with_columns(pl.col("year").cast(pl.Int32)))  # one row per region: text again
    if area_km2 is not None:
        keys = [k for k in ("region_id", "year") if k in area_km2.columns]
        out = out.join(area_km2.with_columns([pl.col("year").cast(pl.Int32)] if "year" in keys else []), on=keys, how="left")
    else:
        out = out.with_columns(pl.lit(None, dtype=pl.Float64).alias("area_km2"))
    out = out.with_columns((pl.col("total_cny") / pl.col("area_km2")).alias("gep_per_km2_cny"))
    socio = socio if socio is not None else pl.DataFrame(schema={"region_id": pl.Utf8, "year": pl.Int32})
    socio = socio.with_columns(pl.col("year").cast(pl.Int32))
    for col in ("population", "gdp_cny"):
        if col not in socio.columns:
            socio = socio.with_columns(pl.lit(None, dtype=pl.Float64).alias(col))
    out = out.join(socio.select("region_id", "year", "population", "gdp_cny"), on=["region_id", "year"], how="left")
    out = out.with_columns(
        (pl.col("total_cny") / pl.col("population")).alias("gep_per_capita_cny"),
        (pl.col("total_cny") / pl.col("gdp_cny")).alias("gep_gdp_ratio"),
    ).sort(GEP_KEYS)
    check_gep(services, out)
    return out


def own_supply(services: pl.DataFrame) -> pl.DataFrame:
    """The services rows that are not imported-deduction rows (the table itself, not a copy, when there are none)."""
    deduction = pl.col("category") == IMPORTED_DEDUCTION
    return services.filter(~deduction) if services.select(deduction.any()).item() else services


def check_gep(services: pl.DataFrame, gep: pl.DataFrame) -> None:
    """Identities: components → services → categories; total = Σ categories − imported deduction; ecosystem attribution → total.

    The services table holds one row per component; a service's value is the sum of
    its components, which is summed to categories here independently of the pivot in
    :func:`gep_totals` and compared with the GEP columns. Deduction rows are never
    positive, and the deduction column equals minus their sum.
    """
    known = [*CATEGORIES, IMPORTED_DEDUCTION]
    other = services.filter(~pl.col("category").is_in(known))
    if other.height:
        raise AccountIdentityError(f"identity failed: services rows with an unknown category:\n{other.head(5)}")
    positive = services.filter((pl.col("category") == IMPORTED_DEDUCTION) & (pl.col("value_cny") > 0))
    if positive.height:
        raise AccountIdentityError(f"identity failed: imported-deduction rows must be ≤ 0 CNY:\n{positive.head(5)}")
    long = gep.unpivot(index=GEP_KEYS, on=CATEGORY_COLUMNS, variable_name="cat", value_name="v").with_columns(
        pl.col("cat").str.strip_suffix("_cny").alias("category")
    )
    own = own_supply(services)
    by_service = own.group_by([*GEP_KEYS, "category", "service"]).agg(pl.col("value_cny").sum())
    assert_sums_equal(by_service, long, [*GEP_KEYS, "category"], "value_cny", "v",
                      "components and services sum to their category")
    deducted = services.filter(pl.col("category") == IMPORTED_DEDUCTION).with_columns(-pl.col("value_cny"))
    assert_sums_equal(deducted, gep, GEP_KEYS, "value_cny", DEDUCTION_COLUMN,
                      "imported_deduction_cny = − Σ imported-deduction rows")
    assert_row_sum(gep.with_columns((-pl.col(DEDUCTION_COLUMN)).alias("_minus_deduction")),
                   [*CATEGORY_COLUMNS, "_minus_deduction"], "total_cny",
                   "total = Σ categories − imported deduction")
    by_eco = services.group_by([*GEP_KEYS, "ecosystem_type"]).agg(pl.col("value_cny").sum())
    assert_sums_equal(by_eco, gep, GEP_KEYS, "value_cny", "total_cny", "attribution by ecosystem type sums to the total")
    assert_unique(gep, GEP_KEYS, "one GEP row per region, year and method")


def extent_account(extent: pl.DataFrame, flows: pl.DataFrame | None = None) -> pl.DataFrame:
    """SEEA EA extent account (ha) per region, period and ecosystem type: opening, additions, reductions, net change, closing.

    Periods: consecutive years of the extent, plus every period of ``flows``. ``flows``
    (optional): type flows of :func:`gep.account.extent_flows.type_flows` (region_id,
    year_from, year_to, ecosystem_type_from, ecosystem_type_to, area_ha). Where a period
    has flows, additions and reductions are the gross flows between types
    (``flow_basis = gross_transitions``); otherwise they are the net change split by sign
    (``flow_basis = net_change``). Null ecosystem_type (no service value) is its own row.
    Identities: opening + additions − reductions = closing (exact for net rows, within the
    transitions' reconciliation tolerance for gross rows); gross additions ≥ net increase and
    gross reductions ≥ net decrease. SEEA EA 2021 ch. 4 (United Nations et al. 2021).
    """

    by_type = (
        extent.group_by(["region_id", "year", "ecosystem_type"]).agg(pl.col("area_ha").sum()).with_columns(
            pl.col("year").cast(pl.Int32)
        )
    )
    years = by_type.select("region_id", "year").unique()
    pairs = (
        years.sort(["region_id", "year"])
        .with_columns(pl.col("year").shift(-1).over("region_id").alias("year_to"))
        .filter(pl.col("year_to").is_not_null())
        .rename({"year": "year_from"})
        .select("region_id", pl.col("year_from").cast(pl.Int32), pl.col("year_to").cast(pl.Int32))
    )
    gross = None
    if flows is not None and flows.height:
        gross = gross_additions_reductions(flows)
        pairs = pl.concat([pairs, flows.select("region_id", pl.col("year_from").cast(pl.Int32),
                                               pl.col("year_to").cast(pl.Int32))]).unique()
    if not pairs.height:
        return pl.DataFrame(
            schema={"region_id": pl.Utf8, "year_from": pl.Int32, "year_to": pl.Int32, "ecosystem_type": pl.Utf8,
                    "opening_ha": pl.Float64, "additions_ha": pl.Float64, "reductions_ha": pl.Float64,
                    "net_change_ha": pl.Float64, "closing_ha": pl.Float64, "flow_basis": pl.Utf8}
        )
    types = by_type.select("region_id", "ecosystem_type")
    if gross is not None:
        types = pl.concat([types, gross.select("region_id", "ecosystem_type")])
    grid = pairs.join(types.unique(), on="region_id", how="inner")
    opening = by_type.rename({"year": "year_from", "area_ha": "opening_ha"})
    closing = by_type.rename({"year": "year_to", "area_ha": "closing_ha"})
    acc = (
        grid.join(opening, on=["region_id", "year_from", "ecosystem_type"], how="left", nulls_equal=True)
        .join(closing, on=["region_id", "year_to", "ecosystem_type"], how="left", nulls_equal=True)
        .with_columns(pl.col("opening_ha").fill_null(0.0), pl.col("closing_ha").fill_null(0.0))
        .with_columns((pl.col("closing_ha") - pl.col("opening_ha")).alias("net_change_ha"))
    )
    net_add = pl.col("net_change_ha").clip(lower_bound=0.0)
    net_red = (-pl.col("net_change_ha")).clip(lower_bound=0.0)
    if gross is not None:
        periods = gross.select("region_id", "year_from", "year_to").unique().with_columns(pl.lit(True).alias("_g"))
        acc = (acc.join(periods, on=["region_id", "year_from", "year_to"], how="left")
               .join(gross, on=["region_id", "year_from", "year_to", "ecosystem_type"], how="left", nulls_equal=True)
               .with_columns(
                   pl.when(pl.col("_g")).then(pl.col("additions_ha").fill_null(0.0)).otherwise(net_add)
                   .alias("additions_ha"),
                   pl.when(pl.col("_g")).then(pl.col("reductions_ha").fill_null(0.0)).otherwise(net_red)
                   .alias("reductions_ha"),
                   pl.when(pl.col("_g")).then(pl.lit("gross_transitions")).otherwise(pl.lit("net_change"))
                   .alias("flow_basis")))
    else:
        acc = acc.with_columns(net_add.alias("additions_ha"), net_red.alias("reductions_ha"),
                               pl.lit("net_change").alias("flow_basis"))
    acc = (
        acc.select("region_id", pl.col("year_from").cast(pl.Int32), pl.col("year_to").cast(pl.Int32), "ecosystem_type",
                   "opening_ha", "additions_ha", "reductions_ha", "net_change_ha", "closing_ha", "flow_basis")
        .sort(["region_id", "year_from", "year_to", "ecosystem_type"], nulls_last=True)
    )
    recon = acc.with_columns((pl.col("opening_ha") + pl.col("additions_ha") - pl.col("reductions_ha")).alias("_c"))
    net_rows = recon.filter(pl.col("flow_basis") == "net_change")
    assert_sums_equal(net_rows, net_rows, ["region_id", "year_from", "year_to", "ecosystem_type"], "_c", "closing_ha",
                      "opening + additions − reductions = closing")
    gross_rows = recon.filter(pl.col("flow_basis") == "gross_transitions").join(_classes_per_region(extent),
                                                                              on="region_id", how="left")
    gross_rows = gross_rows.with_columns(pl.col("_ncls").fill_null(1.0))
    _check(gross_rows, "_c", "closing_ha", "opening + gross additions − gross reductions = closing")
    _check(gross_rows.with_columns(net_add.alias("_na")).filter(pl.col("additions_ha") < pl.col("_na")),
           "additions_ha", "_na", "gross additions ≥ net increase")
    _check(gross_rows.with_columns(net_red.alias("_nr")).filter(pl.col("reductions_ha") < pl.col("_nr")),
           "reductions_ha", "_nr", "gross reductions ≥ net decrease")
    return acc


def seea_supply_tables(services: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """SEEA EA physical and monetary ecosystem-services supply tables (service × ecosystem type), long format.

    Physical: region_id, year, method, category, service, component, ecosystem_type,
    quantity, quantity_unit (function-value rows with a physical quantity only: the
    equivalent-factor "quantity" is an equivalent-weighted area, not a service flow). Monetary: region_id,
    year, method, category, service, ecosystem_type, value_cny. Values given without an
    ecosystem type supply from the column ``(unattributed)``. Pivot service × ecosystem_type for the SEEA layout.
    Imported-deduction rows are not supply of the region's ecosystems and are left out, so the
    monetary table sums to GEP before the deduction (Σ category columns of gep.csv).
    """
    services = own_supply(services)  # supply by the region's own ecosystems
    svc = services.with_columns(pl.col("ecosystem_type").fill_null(UNATTRIBUTED))
    physical = sum_by(
        svc.filter(pl.col("quantity").is_not_null(), pl.col("method") == METHOD_FUNCTION_VALUE),
        [*GEP_KEYS, "category", "service", "component", "ecosystem_type", "quantity_unit"], ["quantity"],
        nulls_last=False,
    ).select(*GEP_KEYS, "category", "service", "component", "ecosystem_type", "quantity", "quantity_unit")
    monetary = sum_by(svc, [*GEP_KEYS, "category", "service", "ecosystem_type"], ["value_cny"], nulls_last=False)
    totals = services.group_by(GEP_KEYS).agg(pl.col("value_cny").sum())
    assert_sums_equal(monetary, totals, GEP_KEYS, "value_cny", "value_cny", "monetary supply table sums to GEP")
    return physical, monetary


def region_parents(registry: object, level: str) -> pl.DataFrame:
    """Map county ids to the ids of the requested level (county | prefecture | province) from a RegionRegistry."""
    counties: pl.DataFrame = registry.counties  # type: ignore[attr-defined]
    if level == "county":
        return counties.select("region_id", pl.col("region_id").alias("parent_id"))
    if level == "prefecture":
        return counties.select("region_id", "parent_id")
    if level == "province":
        return counties.select("region_id", (pl.col("region_id").str.slice(0, 2) + "0000").alias("parent_id"))
    raise ValueError(f"unknown level {level!r}")


def rollup_services(services: pl.DataFrame, parents: pl.DataFrame, *, file: str | None = None) -> pl.DataFrame:
    """Sum a county services table to the parents in ``parents`` (region_id → parent_id) without double counting.

    Every region must map to exactly one parent (UNKNOWN_REGION otherwise); a parent id
    that also appears as an input region would count its area twice (REGION_COUNTED_TWICE).
    Identity: Σ members = roll-up, per parent, year, method, service, component, ecosystem type.
    """
    assert_unique(parents, ["region_id"], "each region has one parent")
    problems = ProblemCollector()
    regions = decode_services(services.select(pl.col("region_id").unique())).sort("region_id")
    unknown = regions.join(parents, on="region_id", how="anti")
    for rid in unknown["region_id"].to_list():
        problems.add("UNKNOWN_REGION", f"region '{rid}' is not a county of the region registry, so it cannot be rolled up",
                     file=file, column="region_id", value=rid, expected="a county id of the registry")
    as_parent = regions.join(parents.select(pl.col("parent_id").alias("region_id")).unique(), on="region_id", how="semi")
    as_parent = as_parent.join(parents.filter(pl.col("region_id") == pl.col("parent_id")), on="region_id", how="anti")
    for rid in as_parent["region_id"].to_list():
        problems.add("REGION_COUNTED_TWICE", f"region '{rid}' appears together with its own member counties; "
                     "its value would be counted twice", file=file, column="region_id", value=rid,
                     expected="county rows only")
    problems.raise_if_any()
    keys = ["year", "ecosystem_type", "category", "service", "component", "quantity_unit", "price", "price_unit",
            "method", "price_year"]
    parents = keyed_like(parents, services, ["region_id"])
    rolled = (
        services.join(parents, on="region_id", how="inner")
        .sort(["parent_id", *keys, "region_id"], nulls_last=True)  # fixed summation order
        .group_by(["parent_id", *keys])
        .agg(
            pl.when(pl.col("quantity").count() > 0).then(pl.col("quantity").sum()).alias("quantity"),
            pl.col("value_cny").sum(),
            pl.col("coefficient_id").sort().first(),
        )
        .rename({"parent_id": "region_id"})
    )
    rolled = encode_services(conform_services(rolled.select(list(SERVICES_SCHEMA))))
    members = services.join(parents, on="region_id", how="inner").drop("region_id").rename({"parent_id": "region_id"})
    assert_sums_equal(members, rolled.group_by(GEP_KEYS).agg(pl.col("value_cny").sum()), GEP_KEYS, "value_cny",
                      "value_cny", "roll-up equals the sum of its members")
    return rolled


def to_constant_prices(services: pl.DataFrame, price_index: pl.DataFrame, base_year: int) -> pl.DataFrame:
    """Rebase value_cny from each row's price_year to ``base_year``: value × I(base)/I(price_year); 王航 et al. 2017 (CPI chain index).

    ``price_index``: year, index [, region_id] (any base; only ratios matter). Missing
    index years are MISSING_VALUE input problems naming the year. price and price_year
    are rebased too, so quantity × price = value still holds.
    """
    keys = ["region_id"] if "region_id" in price_index.columns else []
    idx = keyed_like(price_index.select(*keys, pl.col("year").cast(pl.Int32), pl.col("index").cast(pl.Float64)),
                     services, keys)
    base = idx.filter(pl.col("year") == base_year).select(*keys, pl.col("index").alias("_ib"))
    df = services.join(idx.rename({"year": "price_year", "index": "_ip"}), on=[*keys, "price_year"], how="left")
    df = df.join(base, on=keys, how="left") if keys else df.join(base, how="cross") if base.height else df.with_columns(
        pl.lit(None, dtype=pl.Float64).alias("_ib"))
    problems = ProblemCollector()
    if not base.height:
        problems.add("MISSING_VALUE", f"the price index has no value for the base year {base_year}",
                     column="year", value=base_year, expected=f"a row for year {base_year}")
    for y in df.filter(pl.col("_ip").is_null())["price_year"].unique().sort().to_list():
        problems.add("MISSING_VALUE", f"the price index has no value for year {y}, needed to rebase values to {base_year}",
                     column="year", value=y, expected=f"a row for year {y}")
    problems.raise_if_any()
    ratio = pl.col("_ib") / pl.col("_ip")
    return conform_services(
        df.with_columns(
            (pl.col("value_cny") * ratio).alias("value_cny"),
            (pl.col("price") * ratio).alias("price"),
            pl.lit(base_year).cast(pl.Int32).alias("price_year"),
        )
    )


def change_decomposition(services: pl.DataFrame, extent: pl.DataFrame, year_from: int, year_to: int) -> pl.DataFrame:
    """Split ΔV between two years into area effect and unit-value (price/coefficient) effect: midpoint (two-factor Shapley) decomposition, exact.

    Per region, method and ecosystem type k with area A and unit value u = V/A (CNY/ha):
    area effect = ΔA·(u0+u1)/2, unit-value effect = Δu·(A0+A1)/2, so their sum is
    exactly ΔV. A type absent in one year takes the other year's u (no price effect).
    Values without an ecosystem type (statistics, county quantities) go to
    ``unattributed_change_cny``. Identity: area + unit value + unattributed = total change.
    A region (and method) with no data at all in one of the two years gets no row: a missing
    year is not a GEP of zero (see :func:`missing_years`; the step warns about it).
    """
    return change_decompositions(services, extent, [(year_from, year_to)])


def change_decompositions(services: pl.DataFrame, extent: pl.DataFrame,
                          pairs: list[tuple[int, int]]) -> pl.DataFrame:
    """:func:`change_decomposition` for several year pairs, stacked in pair order.

    The services table is aggregated once to region × year × method × ecosystem type and
    split by year; each pair then joins two small per-year frames, so the cost is linear in
    the number of years instead of re-reading the whole services table for every pair.
    """
    val = decode_services(sum_by(services, ["region_id", "year", "method", "ecosystem_type"], ["value_cny"]))
    area = (
        extent.filter(pl.col("ecosystem_type").is_not_null())
        .group_by(["region_id", pl.col("year").cast(pl.Int32), "ecosystem_type"])
        .agg(pl.col("area_ha").sum())
    )
    # one packed integer key instead of four text columns; sorted: fixed summation order below
    typed = val.filter(pl.col("ecosystem_type").is_not_null()).join(area, on=["region_id", "year", "ecosystem_type"],
                                                                     how="left")
    tot = val.group_by(["region_id", "method", "year"]).agg(pl.col("value_cny").sum())
    typed_by_year = {k[0]: v for k, v in typed.partition_by("year", as_dict=True, maintain_order=True).items()}
    tot_by_year = {k[0]: v for k, v in tot.partition_by("year", as_dict=True, maintain_order=True).items()}
    present = regions_present(val, extent)  # the aggregate has every region, year and method of the services
    frames = [_change_pair(typed_by_year, tot_by_year, present, typed, tot, a, b) for a, b in pairs]
    return pl.concat(frames, how="vertical")


def _change_pair(typed_by_year: dict, tot_by_year: dict, present: pl.DataFrame, typed: pl.DataFrame,
                 tot: pl.DataFrame, year_from: int, year_to: int) -> pl.DataFrame:
    def side(y: int, tag: str) -> pl.DataFrame:
        return typed_by_year.get(y, typed.clear()).select(
            "region_id", "method", "ecosystem_type", pl.col("value_cny").alias(f"v{tag}"), pl.col("area_ha").alias(f"a{tag}")
        )

    t = side(year_from, "0").join(side(year_to, "1"), on=["region_id", "method", "ecosystem_type"], how="full",
                                  coalesce=True)
    t = t.with_columns([pl.col(c).fill_null(0.0) for c in ("v0", "v1", "a0", "a1")])
    u0 = pl.when(pl.col("a0") > 0).then(pl.col("v0") / pl.col("a0"))
    u1 = pl.when(pl.col("a1") > 0).then(pl.col("v1") / pl.col("a1"))
    t = t.with_columns(u0.fill_null(u1).fill_null(0.0).alias("u0"), u1.fill_null(u0).fill_null(0.0).alias("u1"))
    t = t.with_columns(
        ((pl.col("a1") - pl.col("a0")) * (pl.col("u0") + pl.col("u1")) / 2).alias("area_effect_cny"),
        ((pl.col("u1") - pl.col("u0")) * (pl.col("a0") + pl.col("a1")) / 2).alias("unit_value_effect_cny"),
        # a typed value without any area (should not happen) is carried as residual-free unattributed change
        pl.when((pl.col("a0") == 0) & (pl.col("a1") == 0)).then(pl.col("v1") - pl.col("v0")).otherwise(0.0).alias("_u"),
    )
    t = t.sort(["region_id", "method", "ecosystem_type"])  # fixed summation order → byte-identical output
    typed_sum = t.group_by(["region_id", "method"]).agg(
        pl.col("area_effect_cny").sum(), pl.col("unit_value_effect_cny").sum(), pl.col("_u").sum()
    )
    v0 = tot_by_year.get(year_from, tot.clear()).select("region_id", "method", pl.col("value_cny").alias("value_from_cny"))
    v1 = tot_by_year.get(year_to, tot.clear()).select("region_id", "method", pl.col("value_cny").alias("value_to_cny"))
    out = (
        v0.join(v1, on=["region_id", "method"], how="full", coalesce=True)
        .join(typed_sum, on=["region_id", "method"], how="left")
        .with_columns([pl.col(c).fill_null(0.0) for c in ("value_from_cny", "value_to_cny", "area_effect_cny",
                                                           "unit_value_effect_cny", "_u")])
        .with_columns((pl.col("value_to_cny") - pl.col("value_from_cny")).alias("total_change_cny"))
        .with_columns(
            (pl.col("total_change_cny") - pl.col("area_effect_cny") - pl.col("unit_value_effect_cny")).alias(
                "unattributed_change_cny"
            )
        )
        .with_columns(  # float round-off (< 1e-6 CNY) of exact identities is shown as 0
            [
                pl.when(pl.col(c).abs() < 1e-6).then(0.0).otherwise(pl.col(c)).alias(c)
                for c in ("area_effect_cny", "unit_value_effect_cny", "unattributed_change_cny")
            ]
        )
        .select("region_id", "method", pl.lit(year_from).cast(pl.Int32).alias("year_from"),
                pl.lit(year_to).cast(pl.Int32).alias("year_to"), "value_from_cny", "value_to_cny", "total_change_cny",
                "area_effect_cny", "unit_value_effect_cny", "unattributed_change_cny")
        .sort(["region_id", "method"])
    )
    gaps = missing_years(present, year_from, year_to)
    out = out.join(gaps.select("region_id", "method"), on=["region_id", "method"], how="anti")
    # exactness of the typed part: area + unit effect = Δ typed value (checked, not assumed)
    typed_delta = t.with_columns((pl.col("v1") - pl.col("v0") - pl.col("_u")).alias("_d"))
    check = typed_delta.with_columns((pl.col("area_effect_cny") + pl.col("unit_value_effect_cny")).alias("_e"))
    assert_sums_equal(check, check, ["region_id", "method", "ecosystem_type"], "_d", "_e",
                      "area effect + unit-value effect = change of ecosystem-typed value")
    return out


# ---------------------------------------------------------------------------
# nesting, roll-up coverage, comparable years


def adcode_ancestors(region_ids: pl.DataFrame) -> pl.DataFrame:
    """region_id → ancestor_id by the GB/T 2260 code structure: ABCDEF lies in prefecture ABCD00 and province AB0000.

    Only 6-digit numeric ids are used; an id is never its own ancestor. For runs without a region registry.
    """
    ids = region_ids.select(pl.col("region_id").cast(pl.Utf8)).unique().filter(
        pl.col("region_id").str.contains(r"^\d{6}$"))
    return (
        pl.concat([
            ids.select("region_id", (pl.col("region_id").str.slice(0, 4) + "00").alias("ancestor_id")),
            ids.select("region_id", (pl.col("region_id").str.slice(0, 2) + "0000").alias("ancestor_id")),
        ])
        .filter(pl.col("ancestor_id") != pl.col("region_id"))
        .unique()
        .sort(["region_id", "ancestor_id"])
    )


def registry_ancestors(registry: object) -> pl.DataFrame:
    """region_id → ancestor_id from a RegionRegistry: county → its prefecture and province, prefecture → province."""
    counties: pl.DataFrame = registry.counties  # type: ignore[attr-defined]
    province = (pl.col("region_id").str.slice(0, 2) + "0000").alias("ancestor_id")
    parts = [counties.select("region_id", pl.col("parent_id").cast(pl.Utf8).alias("ancestor_id")),
             counties.select("region_id", province)]
    prefectures = getattr(registry, "prefectures", None)
    if isinstance(prefectures, pl.DataFrame) and "region_id" in prefectures.columns:
        parts.append(prefectures.select("region_id", province))
    return (pl.concat(parts).drop_nulls().filter(pl.col("ancestor_id") != pl.col("region_id"))
            .unique().sort(["region_id", "ancestor_id"]))


def nested_regions(region_ids: pl.DataFrame, ancestors: pl.DataFrame) -> pl.DataFrame:
    """Pairs (region_id, ancestor_id) where a region and a region containing it are both present: counted twice in any sum."""
    present = region_ids.select(pl.col("region_id").cast(pl.Utf8)).unique()
    return (
        ancestors.join(present, on="region_id", how="semi")
        .join(present.rename({"region_id": "ancestor_id"}), on="ancestor_id", how="semi")
        .select("region_id", "ancestor_id")
        .sort(["ancestor_id", "region_id"])
    )


def rollup_coverage(present: pl.DataFrame, parents: pl.DataFrame) -> pl.DataFrame:
    """Members with data per parent and year: parent_id, year, members_with_data, members_total, missing (sorted ids).

    ``present``: region_id, year of the member regions that have any data; ``parents``: region_id → parent_id
    (every member of the registry). Only parents with at least one member with data appear.
    """
    members = parents.select("region_id", "parent_id").unique()
    have = present.select("region_id", pl.col("year").cast(pl.Int32)).unique().join(members, on="region_id", how="inner")
    years = have.select("parent_id", "year").unique()
    grid = years.join(members, on="parent_id", how="inner")
    grid = grid.join(have.with_columns(pl.lit(True).alias("_has")), on=["parent_id", "year", "region_id"], how="left")
    return (
        grid.sort(["parent_id", "year", "region_id"])
        .group_by(["parent_id", "year"], maintain_order=True)
        .agg(
            pl.col("_has").is_not_null().sum().cast(pl.Int64).alias("members_with_data"),
            pl.len().cast(pl.Int64).alias("members_total"),
            pl.col("region_id").filter(pl.col("_has").is_null()).sort().alias("missing"),
        )
        .sort(["parent_id", "year"])
    )


def regions_present(services: pl.DataFrame, extent: pl.DataFrame | None) -> pl.DataFrame:
    """region_id, method, year with any data: services rows of that method, or land cover of that region and year.

    ``services`` may be any table with region_id, year and method of the services rows (the services table
    itself, or an aggregate of it such as the gep table: same regions, years and methods, far fewer rows).
    """
    svc = decode_services(services.select("region_id", "method", pl.col("year").cast(pl.Int32)).unique())
    if extent is None or not extent.height:
        return svc
    methods = decode_services(services.select(pl.col("method").unique()))
    ext = extent.select("region_id", pl.col("year").cast(pl.Int32)).unique().join(methods, how="cross")
    return pl.concat([svc, ext.select(svc.columns)]).unique().sort(["region_id", "method", "year"])


def missing_years(present: pl.DataFrame, year_from: int, year_to: int) -> pl.DataFrame:
    """region_id, method, missing_year for regions with data in only one of the two years (not comparable)."""
    per = present.filter(pl.col("year").is_in([year_from, year_to])).group_by(["region_id", "method"]).agg(
        pl.col("year").unique().alias("_y"))
    return (
        per.filter(pl.col("_y").list.len() == 1)
        .select("region_id", "method",
                pl.when(pl.col("_y").list.first() == year_from).then(pl.lit(year_to)).otherwise(pl.lit(year_from))
                .cast(pl.Int32).alias("missing_year"))
        .sort(["region_id", "method"])
    )
