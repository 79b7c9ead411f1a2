"""Input tables of the GEP accounts: specs (columns, Chinese aliases, units) and loaders.

I/O edge of :mod:`gep.account`: every loader reads one file through
:func:`gep.loaders.load_table`, maps Chinese service names to codes, and keeps the
spreadsheet row (``source_row``) so later checks can point at the cell to fix.
Column aliases are listed in docs/account.md.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl

from gep.account.catalog import ADJUSTMENT_ALIASES, service_aliases
from gep.coefficients.ranges import column_bounds, may_be_negative, sign_problems
from gep.errors import Problem, ProblemCollector, UnitError, fmt_number
from gep.coefficients import load_set
from gep.inputkinds import (
    Checker,
    InputKind,
    Options,
    null_key_duplicate_problems,
    region_problems,
    regions_summary,
    years_summary,
)
from gep.tablespec import REGION_ID, ROW, YEAR, ColumnSpec, TableSpec, load_table_collect
from gep.units import conversion_factor, parse_compound, parse_price_unit, value_factor

SERVICE = ColumnSpec(name="service", aliases=("服务", "指标", "核算指标", "生态产品", "服务类型", "indicator"),
                     description="service code (snake_case) or its Chinese name")
COMPONENT = ColumnSpec(name="component", required=False, allow_null=True,
                       aliases=("组分", "分项", "子项", "components"), description="component (free text; may be empty)")
UNIT = ColumnSpec(name="unit", aliases=("单位", "计量单位", "units"), description="unit of the number in this row")
ECOSYSTEM = ColumnSpec(name="ecosystem_type", required=False, allow_null=True,
                       aliases=("生态系统类型", "生态系统"), description="ecosystem type (optional attribution)")

QUANTITIES_SPEC = TableSpec(
    name="quantities",
    description="physical quantities (功能量) measured or modelled by the county",
    columns=(REGION_ID, YEAR, SERVICE, COMPONENT,
             ColumnSpec(name="quantity", dtype="float", aliases=("功能量", "实物量", "数量"),
                        description="physical quantity in `unit`"),
             UNIT, ECOSYSTEM),
    keys=("region_id", "year", "service", "component", "ecosystem_type"),
)
PRICES_SPEC = TableSpec(
    name="prices",
    description="unit prices (价格) per service and component; they replace the coefficient set's prices",
    columns=(SERVICE, COMPONENT,
             ColumnSpec(name="price", dtype="float", aliases=("价格", "单价", "value"), **column_bounds("price"),
                        description="price in `unit` (CNY/<quantity unit> or 元/<quantity unit>)"),
             UNIT,
             ColumnSpec(name="price_year", dtype="int", required=False, allow_null=True,
                        aliases=("价格年份", "价格基年"), description="year of the price level (empty: run year)")),
    keys=("service", "component"),
)
STATISTICS_SPEC = TableSpec(
    name="statistics",
    description="values given directly (价值量) in 元, 万元 or 亿元, e.g. provisioning output value, tourism revenue",
    columns=(REGION_ID, YEAR, SERVICE, COMPONENT,
             ColumnSpec(name="value", dtype="float", aliases=("价值", "价值量", "产值", "金额"),
                        description="money value in `unit` (元/万元/亿元/CNY)"),
             UNIT, ECOSYSTEM),
    keys=("region_id", "year", "service", "component", "ecosystem_type"),
)
IMPORTED_SPEC = TableSpec(
    name="imported ecosystem products",
    description="ecosystem products that come from outside the region (区域外生态产品), deducted from GEP as in "
                "GB/T 46869-2025: either a money value (元/万元/亿元) or a quantity priced like other quantities",
    columns=(REGION_ID, YEAR, SERVICE, COMPONENT,
             ColumnSpec(name="value", dtype="float", required=False, allow_null=True, nonnegative=True,
                        aliases=("价值", "价值量", "金额", "调入价值"),
                        description="money value of the imported products in `unit` (元/万元/亿元/CNY)"),
             ColumnSpec(name="quantity", dtype="float", required=False, allow_null=True, nonnegative=True,
                        aliases=("功能量", "实物量", "数量", "调入量"),
                        description="physical quantity in `unit`, priced with the prices of the function-value method"),
             UNIT, ECOSYSTEM),
    keys=("region_id", "year", "service", "component", "ecosystem_type"),
)
EMISSIONS_SPEC = TableSpec(
    name="emissions",
    description="pollutant emissions of the region (排放量, from 环境统计): they cap air and water purification, "
                "which the function-value standards count as min(purification capacity × area, emissions)",
    columns=(REGION_ID, YEAR,
             ColumnSpec(name="pollutant", aliases=("污染物", "污染物名称", "指标"),
                        description="so2 (二氧化硫), nox (氮氧化物), dust (烟粉尘/颗粒物), cod (化学需氧量), "
                                    "nh3n (氨氮), tp (总磷)"),
             ColumnSpec(name="amount", dtype="float", aliases=("排放量", "排放总量", "数量", "quantity", "value"),
                        nonnegative=True, description="emitted mass in `unit` per year"),
             UNIT),
    keys=("region_id", "year", "pollutant"),
)
# pollutant spelling → (service, component) of the function-value indicator list
POLLUTANTS: dict[str, tuple[str, str]] = {
    "so2": ("air_purification", "so2"), "二氧化硫": ("air_purification", "so2"),
    "nox": ("air_purification", "nox"), "氮氧化物": ("air_purification", "nox"),
    "dust": ("air_purification", "dust"), "烟粉尘": ("air_purification", "dust"),
    "颗粒物": ("air_purification", "dust"), "工业粉尘": ("air_purification", "dust"),
    "烟尘": ("air_purification", "dust"), "粉尘": ("air_purification", "dust"),
    "particulates": ("air_purification", "dust"), "pm": ("air_purification", "dust"),
    "cod": ("water_purification", "cod"), "化学需氧量": ("water_purification", "cod"),
    "nh3n": ("water_purification", "nh3n"), "nh3-n": ("water_purification", "nh3n"),
    "氨氮": ("water_purification", "nh3n"),
    "tp": ("water_purification", "tp"), "总磷": ("water_purification", "tp"),
}
RATES_SPEC = TableSpec(
    name="rates",
    description="per-area rates (quantity per hm2 and year) by ecosystem type; optional region_id for region-specific rates",
    columns=(ColumnSpec(name="region_id", required=False, allow_null=True, aliases=REGION_ID.aliases),
             ColumnSpec(name="ecosystem_type", aliases=("生态系统类型", "生态系统")), SERVICE, COMPONENT,
             ColumnSpec(name="rate", dtype="float", aliases=("value", "单位面积功能量", "速率")),
             ColumnSpec(name="unit", aliases=("单位",), description="quantity per area, e.g. t/hm2, m3/hm2")),
    keys=("region_id", "ecosystem_type", "service", "component"),
)
GRAIN_SPEC = TableSpec(
    name="grain statistics",
    description="grain crops for the standard equivalent value (1/7 of output value, or weighted net profit)",
    columns=(ColumnSpec(name="region_id", required=False, allow_null=True, aliases=REGION_ID.aliases),
             ColumnSpec(name="year", dtype="int", required=False, allow_null=True, aliases=YEAR.aliases),
             ColumnSpec(name="crop", aliases=("作物", "粮食作物", "品种")),
             ColumnSpec(name="sown_area_ha", dtype="float", aliases=("播种面积",), dimension="area",
                        canonical_unit="ha", nonnegative=True),
             ColumnSpec(name="yield_kg_per_ha", dtype="float", required=False, allow_null=True,
                        aliases=("单产", "单产(kg/hm2)", "yield"), nonnegative=True),
             ColumnSpec(name="price_cny_per_kg", dtype="float", required=False, allow_null=True,
                        aliases=("价格(元/kg)", "单价", "price"), nonnegative=True),
             ColumnSpec(name="net_profit_cny_per_ha", dtype="float", required=False, allow_null=True,
                        aliases=("净利润", "净利润(元/hm2)", "net_profit"))),
    keys=("region_id", "year", "crop"),
)
ADJUSTMENTS_SPEC = TableSpec(
    name="adjustment factors",
    description="regional ratios (Xie 2015): npp, precipitation, soil — region value / reference mean",
    columns=(REGION_ID, ColumnSpec(name="year", dtype="int", required=False, allow_null=True, aliases=YEAR.aliases),
             ColumnSpec(name="factor", aliases=("因子", "调整因子")),
             ColumnSpec(name="ratio", dtype="float", aliases=("value", "比值", "系数"),
                        **column_bounds("adjustment_ratio"))),
    keys=("region_id", "year", "factor"),
)
PRICE_INDEX_SPEC = TableSpec(
    name="price index",
    description="price index by year (any base; CPI or a GDP deflator) for constant prices",
    columns=(ColumnSpec(name="region_id", required=False, allow_null=True, aliases=REGION_ID.aliases), YEAR,
             ColumnSpec(name="index", dtype="float", aliases=("价格指数", "指数", "cpi", "deflator"),
                        **column_bounds("price_index"))),
    keys=("region_id", "year"),
)
SOCIO_SPEC = TableSpec(
    name="socio-economic statistics",
    description="population (people) and GDP for per-capita GEP and GEP/GDP",
    columns=(REGION_ID, YEAR,
             ColumnSpec(name="population", dtype="float", required=False, allow_null=True,
                        aliases=("人口", "常住人口", "户籍人口", "population_people"), nonnegative=True),
             ColumnSpec(name="gdp_cny", dtype="float", required=False, allow_null=True,
                        aliases=("GDP", "地区生产总值", "gdp"), dimension="money", canonical_unit="CNY")),
    keys=("region_id", "year"),
)


def _read(path: Path, spec: TableSpec, display: str | None, p: ProblemCollector | None = None,
          registry: Any = None) -> pl.DataFrame:
    """Read ``path`` with ``spec`` → the table with ``source_row`` and ``source_file``, collecting into ``p``.

    One pass: cell type problems, empty optional keys given twice and (with a ``registry``) unknown region
    ids are all collected; cells that broke their type are empty so the caller's row checks go on. Without
    ``p`` the problems are raised at the end. When no table could be read the problems are raised at once.
    """
    collect = p if p is not None else ProblemCollector()
    file = display or str(path)
    df, problems = load_table_collect(path, spec, keep_rows=True, display_name=display, headers=collect.headers)
    collect.extend(problems)  # every problem of this table is raised with the user's header (collect.headers)
    if df is None:  # no table to check further (a problem says why)
        collect.raise_if_any()
        raise AssertionError("a table that could not be read comes with its problems")
    seen = {(q.code, q.row) for q in problems}
    collect.extend(q for q in null_key_duplicate_problems(df, file, spec) if (q.code, q.row) not in seen)
    if registry is not None and "region_id" in df.columns:
        collect.extend(region_problems(df, file, Options(registry=registry)))
    if p is None:
        collect.raise_if_any()
    return df.rename({ROW: "source_row"}).with_columns(pl.lit(file).alias("source_file"))


def _norm_services(df: pl.DataFrame, problems: ProblemCollector, file: str) -> pl.DataFrame:
    aliases = service_aliases()
    out = df.with_columns(
        pl.col("service").str.strip_chars().replace_strict(aliases, default=None).alias("_svc"),
        pl.col("component").fill_null("").str.strip_chars().alias("component")
        if "component" in df.columns else pl.lit("").alias("component"),
    )
    for r in out.filter(pl.col("_svc").is_null() & pl.col("service").is_not_null()).iter_rows(named=True):
        problems.add("UNKNOWN_SERVICE", f"'{r['service']}' is not a service gep knows", file=file,
                     row=r["source_row"], column="service", value=r["service"],
                     expected="a service code such as water_conservation or its Chinese name (水源涵养)")
    return out.with_columns(pl.col("_svc").alias("service")).drop("_svc")


def _finish(df: pl.DataFrame, problems: ProblemCollector) -> pl.DataFrame:
    problems.raise_if_any()
    return df


def read_quantities(path: Path, display: str | None = None, *, registry: Any = None,
                    indicators: pl.DataFrame | None = None) -> pl.DataFrame:
    """Quantities table → region_id, year, service, component, quantity, unit, ecosystem_type, source_row, source_file.

    All problems in one pass: cell types, unknown services, signs (coefficients/ranges.csv), units gep does
    not know, units of the wrong kind for the service's indicator and values that overflow when converted to
    it (``indicators``: service, quantity_unit, basis of the coefficient set; default: function_value_cn),
    and with a ``registry`` unknown region ids.
    """
    p = ProblemCollector()
    file = display or str(path)
    df = _read(path, QUANTITIES_SPEC, display, p, registry)
    df = _norm_services(df, p, file)
    _check_signs(df, "quantity", p, file)
    bad_units = _check_units(df, "unit", parse_compound, p, file)
    p.extend(indicator_unit_problems(df, "quantity", "unit", default_indicators() if indicators is None
                                     else indicators, file, skip_units=bad_units))
    return _finish(df.with_columns(pl.col("year").cast(pl.Int32)), p)


DEFAULT_FUNCTION_VALUE_SET = "function_value_cn"
"""The function-value set a run uses unless ``[account] function_value_set`` names another."""


@lru_cache(maxsize=1)
def default_indicators() -> pl.DataFrame:
    """Indicator list (service, quantity_unit, basis, …) of the default function-value set."""
    return load_set(DEFAULT_FUNCTION_VALUE_SET).tables["indicators"]


def indicator_unit_problems(df: pl.DataFrame, value: str, unit: str, indicators: pl.DataFrame, file: str, *,
                            skip_units: frozenset[str] = frozenset()) -> list[Problem]:
    """Units checked against the indicator they will meet: UNIT_MISMATCH where a row's unit is of another kind
    than the service's ``quantity_unit`` (元/kg for water supply, measured in m3), VALUE_OUT_OF_RANGE where the
    value does not fit a number once converted to it (1e308 亿m3). ``value`` is ``quantity`` (unit: a
    quantity unit) or ``price`` (unit: a price unit such as 元/m3). First row of each bad (service, unit)."""
    if "quantity_unit" not in indicators.columns or unit not in df.columns:
        return []
    ind = indicators.filter(pl.col("quantity_unit").is_not_null() & (pl.col("quantity_unit") != "CNY"))
    ind = ind.select("service", pl.col("quantity_unit").alias("_iu")).unique(subset="service", keep="first")
    d = df.filter(pl.col(unit).is_not_null() & ~pl.col(unit).is_in(list(skip_units))).join(ind, on="service")
    if not d.height:
        return []
    firsts = d.group_by("service", unit, "_iu").agg(pl.col("source_row").min()).sort("source_row")
    problems: list[Problem] = []
    factors: list[tuple[str, str, float]] = []
    for r in firsts.iter_rows(named=True):
        qu, pu = (r[unit], "CNY/" + r["_iu"]) if value == "quantity" else (r["_iu"], r[unit])
        try:
            f = value_factor(qu, pu)
            factors.append((r["service"], r[unit], f))
        except UnitError as exc:
            for pr in exc.problems:
                problems.append(Problem(
                    pr.code,
                    f"service '{r['service']}' is measured in {r['_iu']}: {value} unit '{r[unit]}' does not fit it"
                    + (f" ({pr.message})" if pr.code != "UNIT_MISMATCH" else ""),
                    file=file, row=r["source_row"], column=unit, value=r[unit],
                    expected=(f"a unit convertible to {r['_iu']}" if value == "quantity"
                              else f"a price per {r['_iu']} (or a convertible unit), e.g. 元/{r['_iu']}")))
    if factors:
        fac = pl.DataFrame(factors, schema={"service": pl.Utf8, unit: pl.Utf8, "_f": pl.Float64}, orient="row")
        over = (d.join(fac, on=["service", unit]).filter(pl.col(value).is_not_null()
                                                         & ~(pl.col(value) * pl.col("_f")).is_finite())
                .sort("source_row"))
        for r in over.head(20).iter_rows(named=True):
            problems.append(Problem(
                "VALUE_OUT_OF_RANGE",
                f"service '{r['service']}': {value} {fmt_number(r[value])} {r[unit]} does not fit a number after "
                f"unit conversion to {r['_iu']}", file=file, row=r["source_row"], column=value,
                value=fmt_number(r[value]), expected="a value below about 1e+308 once converted"))
    return problems


MAY_BE_NEGATIVE: frozenset[str] = may_be_negative("quantity")
"""Services whose physical quantity may be net negative (declared in coefficients/ranges.csv: carbon flux)."""


def _check_units(df: pl.DataFrame, column: str, parse: Any, p: ProblemCollector, file: str) -> frozenset[str]:
    """Every distinct unit of ``column`` parses (as a run will parse it), the first row of each bad one named;
    returns the units that did not parse."""
    if column not in df.columns:
        return frozenset()
    bad: set[str] = set()
    firsts = df.filter(pl.col(column).is_not_null()).group_by(column).agg(pl.col("source_row").min())
    for r in firsts.sort("source_row").iter_rows(named=True):
        try:
            parse(r[column])
        except UnitError as exc:
            bad.add(r[column])
            for pr in exc.problems:
                p.add(pr.code, pr.message, file=file, row=r["source_row"], column=column, value=pr.value,
                      expected=pr.expected)
    return frozenset(bad)


def _check_signs(df: pl.DataFrame, column: str, p: ProblemCollector, file: str) -> None:
    """Values breaking their service's declared sign or range rule (coefficients/ranges.csv), located."""
    p.extend(sign_problems(df.filter(pl.col("service").is_not_null()), column, file))


def read_statistics(path: Path, display: str | None = None, *, registry: Any = None) -> pl.DataFrame:
    """Statistics table (direct values) → region_id, year, service, component, value, unit, ecosystem_type, source_row."""
    p = ProblemCollector()
    df = _read(path, STATISTICS_SPEC, display, p, registry)
    df = _norm_services(df, p, display or str(path))
    _check_signs(df, "value", p, display or str(path))
    return _finish(df.with_columns(pl.col("year").cast(pl.Int32)), p)


def read_imported(path: Path, display: str | None = None, *, registry: Any = None) -> pl.DataFrame:
    """Imported-products table → region_id, year, service, component, value, quantity, unit, ecosystem_type, source_row, source_file.

    Each row gives exactly one of ``value`` (money) or ``quantity`` (physical); a row with
    both or neither is an INVALID_VALUE / MISSING_VALUE problem naming the row.
    """
    p = ProblemCollector()
    file = display or str(path)
    df = _read(path, IMPORTED_SPEC, display, p, registry)
    df = _norm_services(df, p, file)
    for r in df.filter(pl.col("value").is_not_null() & pl.col("quantity").is_not_null()).iter_rows(named=True):
        p.add("INVALID_VALUE", "the row gives both a value and a quantity; give one of them", file=file,
              row=r["source_row"], column="quantity", value=r["quantity"],
              expected="either value (元/万元/亿元) or quantity (with its unit), not both")
    for r in df.filter(pl.col("value").is_null() & pl.col("quantity").is_null()).iter_rows(named=True):
        p.add("MISSING_VALUE", "the row gives neither a value nor a quantity", file=file, row=r["source_row"],
              column="value", expected="a money value (元/万元/亿元) or a quantity with its unit")
    return _finish(df.with_columns(pl.col("year").cast(pl.Int32)), p)


def read_prices(path: Path, display: str | None = None, *, registry: Any = None,
                indicators: pl.DataFrame | None = None) -> pl.DataFrame:
    """User prices → service, component, price, price_unit, price_year, coefficient_id (``prices:<file>:row N``).

    Price units are checked against the indicator they will meet (``indicators`` of the run's function-value
    set; default function_value_cn): a price in 元/kg for a service measured in m3 is refused here, on the
    prices file and row.
    """
    p = ProblemCollector()
    file = display or str(path)
    df = _read(path, PRICES_SPEC, display, p, registry)
    df = _norm_services(df, p, file)
    bad_units = _check_units(df, "unit", parse_price_unit, p, file)
    p.extend(indicator_unit_problems(df, "price", "unit", default_indicators() if indicators is None
                                     else indicators, file, skip_units=bad_units))
    return _finish(
        df.select(
            "service", "component", "price", pl.col("unit").alias("price_unit"),
            pl.col("price_year").cast(pl.Int32),
            pl.format("prices:{}:row {}", pl.lit(Path(file).name), pl.col("source_row")).alias("coefficient_id"),
        ),
        p,
    )


def read_rates(path: Path, display: str | None = None, *, registry: Any = None) -> pl.DataFrame:
    """User per-area rates → region_id, ecosystem_type, service, component, rate, rate_unit, coefficient_id."""
    p = ProblemCollector()
    file = display or str(path)
    df = _read(path, RATES_SPEC, display, p, registry)
    df = _norm_services(df, p, file)
    return _finish(
        df.select(
            "region_id", "ecosystem_type", "service", "component", "rate", pl.col("unit").alias("rate_unit"),
            pl.format("rates:{}:row {}", pl.lit(Path(file).name), pl.col("source_row")).alias("coefficient_id"),
        ),
        p,
    )


def read_grain(path: Path, display: str | None = None, *, registry: Any = None) -> pl.DataFrame:
    """Grain statistics for the standard equivalent value (see :mod:`gep.account.equivalent`)."""
    df = _read(path, GRAIN_SPEC, display, registry=registry)
    if df["region_id"].is_null().all():
        df = df.drop("region_id")
    if df["year"].is_null().all():
        df = df.drop("year")
    else:
        df = df.with_columns(pl.col("year").cast(pl.Int32))
    return df


def read_adjustments(path: Path, display: str | None = None, *, registry: Any = None) -> pl.DataFrame:
    """Regional adjustment ratios → region_id, [year,] factor (npp|precipitation|soil), ratio."""
    p = ProblemCollector()
    file = display or str(path)
    df = _read(path, ADJUSTMENTS_SPEC, display, p, registry)
    df = df.with_columns(
        pl.col("factor").str.strip_chars().str.to_lowercase().replace_strict(ADJUSTMENT_ALIASES, default=None).alias("_f")
    )
    for r in df.filter(pl.col("_f").is_null()).iter_rows(named=True):
        p.add("INVALID_VALUE", f"unknown adjustment factor '{r['factor']}'", file=file, row=r["source_row"],
              column="factor", value=r["factor"], expected="npp, precipitation or soil (or 降水, 土壤保持, NPP)")
    df = df.with_columns(pl.col("_f").alias("factor")).drop("_f")
    if df["year"].is_null().all():
        df = df.drop("year")
    else:
        df = df.with_columns(pl.col("year").cast(pl.Int32))
    return _finish(df, p)


def read_price_index(path: Path, display: str | None = None, *, registry: Any = None) -> pl.DataFrame:
    """Price index → [region_id,] year, index."""
    df = _read(path, PRICE_INDEX_SPEC, display, registry=registry)
    if df["region_id"].is_null().all():
        df = df.drop("region_id")
    return df.with_columns(pl.col("year").cast(pl.Int32))


def read_socio(path: Path, display: str | None = None, *, registry: Any = None) -> pl.DataFrame:
    """Population (people) and GDP (CNY, converted from 万元/亿元) → region_id, year, population, gdp_cny."""
    return _read(path, SOCIO_SPEC, display, registry=registry).select(
        "region_id", pl.col("year").cast(pl.Int32), "population", "gdp_cny"
    )


def read_emissions(path: Path, display: str | None = None, *, registry: Any = None) -> pl.DataFrame:
    """Emissions (环境统计) → region_id, year, pollutant, service, component, emissions_t, source_row, source_file.

    ``amount`` is converted from ``unit`` (t, kg, 万t …) to tonnes; an unknown pollutant or a unit
    that is not a mass is an input problem naming the row.
    """

    p = ProblemCollector()
    file = display or str(path)
    df = _read(path, EMISSIONS_SPEC, display, p, registry)
    df = df.with_columns(
        pl.col("pollutant").str.strip_chars().str.to_lowercase().str.replace_all(" ", "").alias("_p"))
    mapped = df["_p"].replace_strict({k.lower(): v[0] for k, v in POLLUTANTS.items()}, default=None)
    comps = df["_p"].replace_strict({k.lower(): v[1] for k, v in POLLUTANTS.items()}, default=None)
    df = df.with_columns(mapped.alias("service"), comps.alias("component"))
    for r in df.filter(pl.col("service").is_null()).iter_rows(named=True):
        p.add("INVALID_VALUE", f"unknown pollutant '{r['pollutant']}'", file=file, row=r["source_row"],
              column="pollutant", value=r["pollutant"],
              expected="so2, nox, dust, cod, nh3n or tp (or 二氧化硫, 氮氧化物, 烟粉尘, 化学需氧量, 氨氮, 总磷)")
    factors: dict[str, float] = {}
    for unit, row in df.group_by("unit").agg(pl.col("source_row").min()).sort("unit").iter_rows():
        try:
            factors[unit] = conversion_factor(unit, "t")
        except (UnitError, ValueError, KeyError):
            p.add("UNIT_MISMATCH", f"emission unit '{unit}' is not a mass", file=file, row=row, column="unit",
                  value=unit, expected="a mass unit: t, kg, 万t")
    p.raise_if_any()
    dup = df.filter(pl.struct("region_id", "year", "service", "component").is_duplicated())
    for r in dup.sort("source_row").iter_rows(named=True):
        p.add("DUPLICATE_KEY", f"pollutant '{r['component']}' of {r['region_id']} in {r['year']} is given twice",
              file=file, row=r["source_row"], column="pollutant", value=r["pollutant"],
              expected="one row per region, year and pollutant")
    p.raise_if_any()
    return df.select(
        "region_id", pl.col("year").cast(pl.Int32), "pollutant", "service", "component",
        (pl.col("amount") * pl.col("unit").replace_strict(factors, return_dtype=pl.Float64)).alias("emissions_t"),
        "source_row", "source_file",
    )


# ---------------------------------------------------------------------------
# input kinds of the account (collected by ``gep validate`` through the step module)


def _account_checker(reader_name: str, what: str, spec: TableSpec) -> Checker:
    def check(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:
        reader = globals()[reader_name]
        kw = {"indicators": opts.indicators} if reader_name in ("read_quantities", "read_prices") else {}
        df = reader(path, file, registry=opts.registry, **kw)  # the reader a run uses, with every check it applies
        extra = ""
        if "service" in df.columns:
            extra = f", {df['service'].n_unique()} services"
        elif "crop" in df.columns:
            extra = f", {df['crop'].n_unique()} crops"
        elif "factor" in df.columns:
            extra = ", factors " + ", ".join(sorted(set(df["factor"].drop_nulls().to_list())))
        return f"{df.height} {what}{regions_summary(df)}{years_summary(df)}{extra}", df

    return check


def _check_socio(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:
    df = read_socio(path, file, registry=opts.registry)
    have = [c for c in ("population", "gdp_cny") if df[c].null_count() < df.height]
    return f"{df.height} rows{regions_summary(df)}{years_summary(df)}, columns {', '.join(have) or 'none filled'}", df


INPUT_KINDS: tuple[InputKind, ...] = (
    InputKind("quantities", "physical quantities (功能量)", "docs/account.md",
              _account_checker("read_quantities", "quantity rows", QUANTITIES_SPEC), QUANTITIES_SPEC),
    InputKind("statistics", "values given directly (价值量)", "docs/account.md",
              _account_checker("read_statistics", "value rows", STATISTICS_SPEC), STATISTICS_SPEC),
    InputKind("prices", "unit prices (价格)", "docs/account.md",
              _account_checker("read_prices", "prices", PRICES_SPEC), PRICES_SPEC),
    InputKind("rates", "per-area rates by ecosystem type (account)", "docs/account.md",
              _account_checker("read_rates", "rates", RATES_SPEC), RATES_SPEC),
    InputKind("grain", "grain statistics for the standard equivalent", "docs/account.md",
              _account_checker("read_grain", "crop rows", GRAIN_SPEC), GRAIN_SPEC),
    InputKind("adjustments", "regional adjustment ratios (npp, precipitation, soil)", "docs/account.md",
              _account_checker("read_adjustments", "ratios", ADJUSTMENTS_SPEC), ADJUSTMENTS_SPEC),
    InputKind("price-index", "price index by year", "docs/account.md",
              _account_checker("read_price_index", "index rows", PRICE_INDEX_SPEC), PRICE_INDEX_SPEC),
    InputKind("emissions", "pollutant emissions (环境统计) capping air and water purification", "docs/account.md",
              _account_checker("read_emissions", "emission rows", EMISSIONS_SPEC), EMISSIONS_SPEC,
              signature=("pollutant",)),
    InputKind("socio", "population and GDP", "docs/account.md", _check_socio, SOCIO_SPEC,
              signature=("population", "gdp_cny")),
)
"""The account's input tables, as ``gep validate`` detects and checks them."""
