"""The ``[carbon]`` step of a gep run: stocks, flux (stock difference and/or gain–loss),
valuation, summaries and the GEP quantities (docs/carbon.md).

Outputs: tables ``carbon_stock`` (region_id, year, class, pool, c_t), ``carbon_flux``
(region_id, year_from, year_to, method, class_from, class_to, delta_c_t, co2e_t, value_cny,
npv_cny), ``carbon_flux_summary`` and ``carbon_gep_quantities``. Positive = removal (sink).
Methods: InVEST Carbon 3.20; IPCC 2006 GL Vol 4 Eq 2.5, 2.9–2.14, 2.25; Wetlands Supplement 2013.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gep.carbon import gainloss as GL
from gep.carbon import link, params
from gep.carbon import transitions as TR
from gep.carbon import valuation as V
from gep.carbon.stock import carbon_stock
from gep.coefficients import apply_overrides, load_set
from gep.context import RunContext
from gep.errors import InputError, Problem, fmt_amount
from gep.inputkinds import (
    Checker,
    InputKind,
    Options,
    class_problems,
    raise_if,
    reads,
    region_problems,
    regions_summary,
    years_summary,
)
from gep.readers import ROW
from gep.vocabulary import spelled, spelled_any
from gep.tablespec import ColumnSpec, TableSpec

FLUX_COLUMNS: tuple[str, ...] = ("region_id", "year_from", "year_to", "method", "class_from", "class_to",
                                 "delta_c_t", "co2e_t", "value_cny", "npv_cny")

Method = Literal["stock_difference", "gain_loss", "both"]


class Config(BaseModel):
    """``[carbon]`` section: every field documented in docs/carbon.md."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    coefficients: str = Field(params.DEFAULT_SET, description="carbon coefficient set id or folder, or an InVEST "
                              "carbon pool CSV (lucode, c_above, c_below, c_soil, c_dead[, lulc_name]) for the pools", json_schema_extra=reads("carbon-pools"))
    overrides: str | None = Field(None, description="override table (CSV/XLSX: table, key columns, value[, unit, "
                                  "source, verification]) applied to the set; the derived set '<id>+overrides' and "
                                  "every overridden row are recorded in the manifest")
    method: Method = Field("stock_difference", description="stock_difference (from transitions or extent), "
                           "gain_loss (area × rate, IPCC where inputs exist), or both (stock-difference and "
                           "gain-loss, the old spellings, are accepted)")
    @field_validator("method", mode="before")
    @classmethod
    def _one_spelling(cls, v: Any) -> Any:
        return spelled_any(v)

    transitions: str | None = Field(None, description="transition table (region_id, year_from, year_to, class_from, "
                                    "class_to, area_ha); must reconcile with the land cover", json_schema_extra=reads("transitions"))
    rates: str | None = Field(None, description="sequestration rates t C/ha/yr by class or ecosystem type, "
                              "optionally per region (replace the set's rates)", json_schema_extra=reads("carbon-rates"))
    forest_inventory: str | None = Field(None, description="IPCC Tier 1 forest gain/loss inputs (docs/carbon.md)", json_schema_extra=reads("forest-inventory"))
    grassland_management: str | None = Field(None, description="grassland management change (IPCC Eq 2.25)", json_schema_extra=reads("grassland-management"))
    wetland_ch4_ef: str | None = Field(None, description="key of the set's wetland_ch4 table; empty = no CH4 term")
    ch4_groups: list[str] = Field(default_factory=lambda: ["wetland"], description="ecosystem groups that emit CH4")
    gwp: str = Field("AR6", description="GWP100 set for CH4: AR6 or AR5")
    price_per_tc: float | None = Field(None, description="carbon price, CNY per t C (overrides the set)")
    price_per_tco2: float | None = Field(None, description="carbon price, CNY per t CO2 (overrides the set)")
    price_market: str = Field("CEA", description="market of the set's price table when no price is given")
    price_year: int | None = Field(None, description="year of the set's price (default: [run] price_base_year, "
                                   "else the latest year of the market)")
    discount_rate: float = Field(0.0, description="InVEST NPV discount rate, percent per year")
    price_change: float = Field(0.0, description="InVEST NPV annual change of the carbon price, percent")

    @model_validator(mode="after")
    def _one_price(self) -> Config:
        if self.price_per_tc is not None and self.price_per_tco2 is not None:
            raise ValueError("give price_per_tc or price_per_tco2, not both")
        if self.discount_rate <= -100 or self.price_change <= -100:
            raise ValueError("discount_rate and price_change are percentages above -100")
        return self


@dataclass(frozen=True)
class CarbonResult:
    """All carbon tables of one run."""

    stock: pl.DataFrame
    flux: pl.DataFrame
    summary: pl.DataFrame
    quantities: pl.DataFrame


def compute(
    extent: pl.DataFrame,
    densities: pl.DataFrame,
    cset: params.CarbonSet,
    price: V.CarbonPrice,
    *,
    method: Method = "stock_difference",
    transitions: pl.DataFrame | None = None,
    transitions_file: str = "transitions",
    user_rates: pl.DataFrame | None = None,
    forest: pl.DataFrame | None = None,
    grassland: pl.DataFrame | None = None,
    ch4: tuple[float, float] | None = None,
    ch4_groups: tuple[str, ...] = ("wetland",),
    discount_rate: float = 0.0,
    price_change: float = 0.0,
    groups: pl.DataFrame | None = None,
) -> CarbonResult:
    """Pure calculation of every carbon table from loaded inputs (no I/O).

    ``extent``: region_id, year, class, ecosystem_type, area_ha; ``densities``: class, c_above..c_dead
    (t C/ha); ``ch4``: (EF t CH4/ha/yr, GWP). Transitions, when given, are reconciled first.
    """
    groups = groups if groups is not None else params.ecosystem_groups()
    extent = extent.with_columns(pl.col("year").cast(pl.Int32))
    stock = carbon_stock(extent, densities)
    parts: list[pl.DataFrame] = []
    if transitions is not None and transitions.height:  # checked whatever the method
        TR.require_classes(transitions, densities, transitions_file)
        TR.reconcile(extent, transitions, file=transitions_file)
    method = spelled(method)  # type: ignore[assignment]
    if method in ("stock_difference", "both"):
        skip = None
        if transitions is not None and transitions.height:
            sd = TR.stock_difference_from_transitions(transitions, densities)
            parts.append(sd)
            skip = transitions.select("region_id", "year_from", "year_to").unique()
        parts.append(TR.stock_difference_from_extent(extent, densities, skip_periods=skip))
        parts = [p.with_columns(pl.lit("stock_difference").alias("method")) for p in parts]
    if method in ("gain_loss", "both"):
        covered: list[pl.DataFrame] = []
        if forest is not None and forest.height:
            f_rows, f_cov = GL.forest_ipcc_flux(forest, extent, cset, densities)
            parts.append(f_rows)
            covered.append(f_cov)
        if grassland is not None and grassland.height:
            g_rows, g_cov = GL.grassland_soc_flux(grassland, cset)
            parts.append(g_rows)
            covered.append(g_cov)
        rates = GL.resolve_rates(extent, cset, user_rates)
        parts.append(GL.rate_flux(extent, rates, pl.concat(covered) if covered else None))
        if ch4 is not None:
            parts.append(GL.wetland_ch4_flux(extent, groups, ch4[0], ch4[1], ch4_groups))
    flux = pl.concat([p.select(*GL.FLOW_COLUMNS) for p in parts], how="vertical_relaxed") if parts else \
        pl.DataFrame(schema={c: pl.Utf8 for c in GL.FLOW_COLUMNS})
    flux = V.value_flux(flux, price, discount_rate, price_change)
    flux_g = link.with_groups(flux, extent, groups)
    flux_out = flux.select(*FLUX_COLUMNS).sort(["region_id", "year_from", "year_to", "method", "class_from", "class_to"])
    return CarbonResult(stock=stock, flux=flux_out, summary=link.flux_summary(flux_g), quantities=link.gep_quantities(flux_g))


def resolve_price(cfg: Config, cset: params.CarbonSet, price_base_year: int | None) -> V.CarbonPrice:
    """The carbon price of a run: explicit per t C or per t CO2, else the set's market price."""
    if cfg.price_per_tc is not None:
        return V.CarbonPrice(cfg.price_per_tc, None, "user: price per t C", "user")
    if cfg.price_per_tco2 is not None:
        return V.CarbonPrice(V.price_from_unit(cfg.price_per_tco2, "CNY/t CO2"), None, "user: price per t CO2", "user")
    year = cfg.price_year if cfg.price_year is not None else price_base_year
    try:
        return V.price_from_set(cset, cfg.price_market, year)
    except InputError:
        if cfg.price_year is None and year is not None:  # base year not covered by the market: latest year
            return V.price_from_set(cset, cfg.price_market, None)
        raise


def invest_pool_densities(extent: pl.DataFrame, invest: pl.DataFrame, file: str) -> pl.DataFrame:
    """Densities from an InVEST table for every class of the extent; a class with area only 0 needs no row (→ 0)."""
    present = extent.filter(pl.col("area_ha") > 0).select("class").unique()
    dens = params.invest_densities(present, invest, file)
    absent = extent.select("class").unique().join(dens.select("class"), on="class", how="anti")
    if absent.height:
        dens = pl.concat([dens, absent.with_columns([pl.lit(0.0).alias(p) for p in params.POOLS])])
    return dens.sort("class")


def load_coefficients(spec: str, ctx: RunContext | None = None, overrides: str | None = None) -> params.CarbonSet:
    """The carbon set of a run: loaded through gep.coefficients.load_set (id or folder), with an
    override table applied when given (derived set ``<id>+overrides``, base id/version and every
    overridden row in its manifest). The override file is read through ``ctx.read_input`` so its
    sha256 is in the run manifest."""

    cs = load_set(spec)
    if overrides:
        path = ctx.read_input(overrides, "coefficient overrides") if ctx is not None else Path(overrides)
        cs = apply_overrides(cs, path, file=overrides)
    return params.from_coefficient_set(cs)


def run_step(cfg: Config, ctx: RunContext) -> None:
    """Run the carbon step inside a gep run (see docs/contracts.md §8)."""
    if ctx.extent is None:
        raise InputError([Problem("BAD_CONFIG", "the carbon step needs land cover: set [inputs] landcover",
                                  column="inputs.landcover", expected="one or more land-cover tables")])
    extent: pl.DataFrame = ctx.extent
    coef = cfg.coefficients
    invest_path: Path | None = None
    set_ref = coef
    if coef.startswith("demo:") or Path(coef).suffix or "/" in coef or "\\" in coef:
        p = ctx.resolve(coef)
        if p.is_file():
            if not params.is_invest_table(p):
                raise InputError([Problem(
                    "BAD_COEFFICIENTS", "this file is not an InVEST carbon pool table", file=coef,
                    expected="columns lucode, c_above, c_below, c_soil, c_dead (t C/ha), optional lulc_name; "
                    "or a coefficient-set folder with set.toml")])
            invest_path = ctx.read_input(coef, "carbon_pools")
            set_ref = params.DEFAULT_SET
        else:
            set_ref = str(p)
            if hasattr(ctx, "resolved_paths") and not coef.startswith("demo:"):
                ctx.resolved_paths[coef] = str(p.resolve())  # run.toml repeats the run from anywhere
    cset = load_coefficients(set_ref, ctx, cfg.overrides)
    if invest_path is not None:
        densities = invest_pool_densities(extent, params.load_invest_table(invest_path, display_name=coef), coef)
    else:
        densities = params.set_densities(extent, cset, ctx.warnings)
    ctx.record_coefficient_set(cset.raw)

    problems: list[Problem] = []

    def _load(path: str | None, role: str, loader: Any) -> pl.DataFrame | None:
        if not path:
            return None
        try:
            return loader(ctx.read_input(path, role), display_name=path)  # type: ignore[no-any-return]
        except InputError as exc:  # collect the problems of every input file before stopping
            problems.extend(exc.problems)
            return None

    transitions = _load(cfg.transitions, "transitions", TR.load_transitions)
    user_rates = _load(cfg.rates, "carbon_rates", GL.load_rates)
    forest = _load(cfg.forest_inventory, "forest_inventory", GL.load_forest_inventory)
    grass = _load(cfg.grassland_management, "grassland_management", GL.load_grassland_management)
    if problems:
        raise InputError(problems)
    ch4 = None
    if cfg.wetland_ch4_ef:
        ef, _ver = GL.ch4_factor_t_ch4(cset, cfg.wetland_ch4_ef)
        ch4 = (ef, GL.gwp_value(cset, cfg.gwp))
        if str(cfg.wetland_ch4_ef).startswith(("rewetted", "drained", "reservoir")):
            ctx.warnings.append(Problem(
                "CH4_FACTOR_ASSUMPTION",
                f"wetland CH4 factor '{cfg.wetland_ch4_ef}' is an IPCC Tier 1 factor for managed land (2013 Wetlands "
                "Supplement: rewetted or drained organic soils; 2019 Refinement: flooded land). Applied to the natural "
                f"wetlands of the groups {', '.join(cfg.ch4_groups)} it is a modelling assumption, not an inventory "
                "factor: IPCC does not report CH4 of unmanaged natural wetlands (carbon.md §1.4)",
                column="wetland_ch4_ef", value=str(cfg.wetland_ch4_ef),
                expected="a measured or literature CH4 flux for the county's natural wetlands, or no CH4 term"))
    price = resolve_price(cfg, cset, ctx.price_base_year)
    base = ctx.price_base_year
    if base is not None and price.year is not None and price.year != base:
        ctx.warnings.append(Problem(
            "PRICE_YEAR_DIFFERS",
            f"carbon is valued at the {cfg.price_market} price of {price.year}, not of the run's price base year {base} "
            "(the market has no price for that year, or another year was asked for); carbon values are not at "
            "the constant prices of the GEP accounts", column="price_year", value=str(price.year),
            expected=f"a price for {base} (--price-per-tco2 / price_per_tco2) to compare with GEP at {base} prices"))
    if price.verification not in ("verified", "user"):
        ctx.warnings.append(Problem("UNVERIFIED_COEFFICIENT", f"carbon price {price.source} is {price.verification}",
                                    column="price"))
    res = compute(extent, densities, cset, price, method=cfg.method, transitions=transitions,
                  transitions_file=cfg.transitions or "transitions", user_rates=user_rates, forest=forest,
                  grassland=grass, ch4=ch4, ch4_groups=tuple(cfg.ch4_groups), discount_rate=cfg.discount_rate,
                  price_change=cfg.price_change)
    types_used = pl.col("ecosystem_type").is_in(extent["ecosystem_type"].drop_nulls().unique().to_list())
    unverified = pl.col("verification") == "unverified"
    placeholder = []
    if invest_path is None and params.set_rows_used(cset, "pools", types_used & unverified).height:
        placeholder.append("pools")
    if cfg.method in ("gain_loss", "both") and params.set_rows_used(cset, "rates", types_used & unverified).height:
        placeholder.append("rates")
    if placeholder:
        ctx.warnings.append(Problem(
            "UNVERIFIED_COEFFICIENT",
            f"carbon set '{cset.id}': the {' and '.join(placeholder)} used include unverified values (placeholders "
            "in carbon_default); results are illustrative (give checked values before official use)",
            column="coefficients", value=cset.id))
    ctx.tables["carbon_stock"] = res.stock
    ctx.tables["carbon_flux"] = res.flux
    ctx.tables["carbon_flux_summary"] = res.summary
    ctx.tables["carbon_gep_quantities"] = res.quantities
    ctx.tables["carbon_parameters"] = run_parameters(cfg, price, ch4, cset)


def _verification(cset: params.CarbonSet, table: str, filt: pl.Expr) -> str:
    rows = params.set_rows_used(cset, table, filt)
    return str(rows["verification"][0]) if rows.height else "unverified"


def run_parameters(cfg: Config, price: V.CarbonPrice, ch4: tuple[float, float] | None,
                   cset: params.CarbonSet) -> pl.DataFrame:
    """The scalar parameters a carbon run used (price, NPV rates, GWP set, CH4 factor), for the report."""
    rows: list[tuple[str, float | None, str, str, str]] = [
        ("price_per_t_c", price.per_t_c, "CNY/t C", price.source, price.verification),
        ("price_per_t_co2", price.per_t_co2, "CNY/t CO2", price.source, price.verification),
        ("price_year", float(price.year) if price.year is not None else None, "yr", price.source, price.verification),
        ("discount_rate", cfg.discount_rate, "%/yr", "user (InVEST NPV)", "user"),
        ("price_change", cfg.price_change, "%/yr", "user (InVEST NPV)", "user"),
    ]
    if ch4 is not None:
        ef_ver = _verification(cset, "wetland_ch4", pl.col("ef_key") == cfg.wetland_ch4_ef)
        gwp_ver = _verification(cset, "gwp", (pl.col("gwp_set") == cfg.gwp) & (pl.col("gas") == "CH4"))
        rows.append(("wetland_ch4_ef", ch4[0], "t CH4/ha/yr", f"{cset.id} wetland_ch4: {cfg.wetland_ch4_ef}", ef_ver))
        rows.append(("gwp_ch4", ch4[1], "t CO2e/t CH4", f"{cset.id} gwp: GWP100 {cfg.gwp}", gwp_ver))
    return pl.DataFrame(rows, schema={"parameter": pl.Utf8, "value": pl.Float64, "unit": pl.Utf8, "source": pl.Utf8,
                                      "verification": pl.Utf8}, orient="row")


# ---------------------------------------------------------------------------
# input kinds of the carbon step (collected by ``gep validate``)


def _check_transitions(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:
    df = TR.load_transitions(path, display_name=file)
    problems = region_problems(df, file, opts)
    problems += class_problems(df, file, opts, "class_from") + class_problems(df, file, opts, "class_to")
    raise_if(problems)
    periods = df.select("year_from", "year_to").unique().sort("year_from", "year_to")
    summary = (f"{df.height} rows{regions_summary(df)}, periods "
               + ", ".join(f"{a}→{b}" for a, b in periods.iter_rows())
               + f", {fmt_amount(df['area_ha'].sum())} ha")
    if opts.landcover is not None:
        TR.reconcile(opts.landcover, df, file=file, extent_file=", ".join(opts.landcover_files) or "land cover")
        summary += "; opening and closing areas reconcile with the land cover (tolerance 0.01 ha)"
    else:
        summary += "; not reconciled (give --landcover to check opening/closing areas)"
    return summary, df


def _check_invest_pools(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:
    df = params.load_invest_table(path, display_name=file)
    summary = f"{df.height} land-cover codes with c_above, c_below, c_soil, c_dead (t C/ha)"
    if opts.landcover is not None:
        params.invest_densities(opts.landcover.select("class").unique(), df, file)
        summary += "; every class of the land cover has a row"
    return summary, df


def _carbon_checker(loader_name: str, what: str) -> Checker:
    def check(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:
        df = getattr(GL, loader_name)(path, display_name=file)
        problems = region_problems(df, file, opts) if ROW in df.columns else []
        if ROW in df.columns:
            problems += class_problems(df, file, opts, "class")
        raise_if(problems)
        return f"{df.height} {what}{regions_summary(df)}{years_summary(df)}", df

    return check


def _invest_spec() -> TableSpec:
    return TableSpec(name="InVEST carbon pools", columns=(
        ColumnSpec(name="lucode"), ColumnSpec(name="lulc_name", required=False),
        *(ColumnSpec(name=p) for p in params.POOLS)))


INPUT_KINDS: tuple[InputKind, ...] = (
    InputKind("transitions", "land-cover transitions (class_from → class_to, area)", "docs/carbon.md",
              _check_transitions, TR.TRANSITIONS_SPEC),
    InputKind("carbon-pools", "InVEST carbon pool table (lucode, c_above, c_below, c_soil, c_dead)",
              "docs/carbon.md", _check_invest_pools, _invest_spec()),
    InputKind("carbon-rates", "carbon sequestration rates (t C/ha/yr)", "docs/carbon.md",
              _carbon_checker("load_rates", "rates"), GL.RATES_SPEC),
    InputKind("forest-inventory", "forest inventory for the IPCC gain-loss method", "docs/carbon.md",
              _carbon_checker("load_forest_inventory", "rows"), GL.FOREST_SPEC,
              signature=tuple(c.name for c in GL.FOREST_SPEC.columns if c.name not in
                              ("region_id", "year", "class", "area_ha"))),
    InputKind("grassland-management", "grassland management change (IPCC stock-change factors)",
              "docs/carbon.md", _carbon_checker("load_grassland_management", "rows"), GL.GRASSLAND_SPEC),
)
"""The carbon step's input tables, as ``gep validate`` detects and checks them."""
