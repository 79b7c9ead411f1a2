"""The ``[account]`` step of a gep run: GEP accounts by county (function-value and/or equivalent-factor).

Reads the optional county tables named in :class:`Config`, computes the services
table per method (never mixing methods in one total), rolls up to the requested
level, and adds the tables ``services``, ``gep``, ``seea_physical_supply``,
``seea_monetary_supply``, ``extent_account`` and ``change_decomposition`` (≥ 2 years),
``extent_change_matrix`` (with a transition table), ``gep_constant`` (with ``[run] price_base_year`` and a price index),
``gep_totals`` (province and all-region totals) and ``gep_growth`` (≥ 2 years; constant prices when there are any) to the run.
Methods: 谢高地 et al. 2015 (equivalent factor); 欧阳志云 et al. 2013 (GEP); GB/T 46869-2025
(imported-products deduction); SEEA EA 2021 (extent account, type change matrix, supply tables).
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator

from gep.account import inputs as I
from gep.account._order import keyed_like
from gep.account.catalog import METHOD_EQUIVALENT_FACTOR, METHOD_FUNCTION_VALUE
from gep.account.equivalent import (
    adjustment_table,
    conform_services,
    decode_services,
    encode_services,
    equivalent_factor_services,
    standard_value_net_profit,
    standard_value_one_seventh,
)
from gep.account.extent_flows import extent_change_matrix, rollup_flows, type_flows
from gep.account.function_value import cap_purification, function_value_services
from gep.account.imported import deduction_without_account, imported_deduction_services
from gep.account.tables import (
    adcode_ancestors,
    change_decompositions,
    extent_account,
    gep_totals,
    missing_years,
    nested_regions,
    region_parents,
    regions_present,
    registry_ancestors,
    rollup_coverage,
    rollup_services,
    seea_supply_tables,
    to_constant_prices,
)
from gep.account.totals import gep_growth, gep_level_totals
from gep.carbon.transitions import load_transitions, reconcile
from gep.coefficients import apply_overrides, list_sets, load_set
from gep.coefficients.ranges import coefficient_problems
from gep.coefficients.sets import equivalents_by_type
from gep.context import RunContext
from gep.errors import InputError, Problem
from gep.inputkinds import ConfigCheck, raise_if, reads
from gep.loaders import LANDCOVER_SPEC
from gep.tablespec import ROW, load_table
from gep.vocabulary import spelled, spelled_any

Method = Literal["equivalent_factor", "function_value"]


def _default_methods() -> list[Method]:
    return ["function_value"]


INPUT_KINDS = I.INPUT_KINDS
"""The input kinds this step reads (declared with their specs in :mod:`gep.account.inputs`)."""


class Config(BaseModel):
    """``[account]`` section: which methods, which coefficient sets, which county tables."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    methods: list[Method] = Field(
        default_factory=lambda: _default_methods(),
        description="accounting methods, each giving its own totals: function_value, equivalent_factor",
    )
    level: Literal["county", "prefecture", "province"] = Field(
        "county", description="reporting level; prefecture/province roll counties up through the region registry"
    )
    equivalent_set: str = Field("xie2015", description="equivalent-factor coefficient set (id or folder)")
    function_value_set: str = Field("function_value_cn", description="function-value coefficient set (id or folder)")
    equivalent_overrides: str | None = Field(
        None, description="override table for the equivalent-factor set (key columns + value; docs/coefficients.md); "
        "the derived set '<id>+overrides' and every overridden row are recorded in the manifest")
    function_value_overrides: str | None = Field(
        None, description="override table for the function-value set (key columns + value; docs/coefficients.md)")
    standard_value: float | None = Field(
        None, description="standard equivalent value in CNY/hm2 (overrides the set's 3406.5 CNY/hm2, 2010)"
    )
    standard_value_price_year: int | None = Field(None, description="price year of `standard_value`")
    grain: str | None = Field(None, description="grain statistics table to derive the standard value", json_schema_extra=reads("grain"))
    grain_rule: Literal["one_seventh", "net_profit"] = Field(
        "one_seventh", description="1/7 of grain output value (Xie 2003/2008) or weighted grain net profit (Xie 2015)"
    )
    adjustments: str | None = Field(None, description="regional adjustment ratios table (npp, precipitation, soil)", json_schema_extra=reads("adjustments"))
    quantities: list[str] = Field(default_factory=list, description="county quantities tables (功能量)", json_schema_extra=reads("quantities"))
    statistics: list[str] = Field(default_factory=list, description="county statistics tables (direct values)", json_schema_extra=reads("statistics"))
    prices: str | None = Field(None, description="prices table, or a price set (prices_cn: LY/T 1721-2008 and "
                               "pollution-equivalent prices); replaces set prices for the same service/component", json_schema_extra=reads("prices"))
    pollution_price_basis: str | None = Field(
        None, description="with a price set: schedule of its pollution_rates table for the purification prices "
        "(fee_2003 = the set's default, tax_2018_min, tax_2018_max, tax_2018_sichuan)")
    env_tax_rate_air: float | None = Field(
        None, gt=0, description="the province's 环境保护税 rate for air pollutants, CNY per pollution equivalent (2018 law: 1.2-12)")
    env_tax_rate_water: float | None = Field(
        None, gt=0, description="the province's 环境保护税 rate for water pollutants, CNY per pollution equivalent (1.4-14)")
    prices_to_accounting_year: bool = Field(
        False, description="convert every value from its price year to the prices of its accounting year with "
        "`price_index` (current-price accounts)")
    rates: str | None = Field(None, description="per-area rates table (optionally region-specific); replaces set rates", json_schema_extra=reads("rates"))
    use_set_rates: bool = Field(True, description="value area × the set's per-area rates where nothing else is given")
    use_biophysical_quantities: bool = Field(
        True, description="use the [biophysical] step's modelled quantities (water conservation, soil retention, "
        "carbon/oxygen, climate regulation) where no county quantity of the same service is given")
    use_carbon_quantities: bool = Field(
        True, description="use the carbon step's carbon_gep_quantities (if that step ran first) as quantities"
    )
    emissions: list[str] = Field(
        default_factory=list,
        description="pollutant emissions (环境统计: region_id, year, pollutant, amount, unit); air and water "
        "purification = min(capacity × area, emissions); without them those services are not computed from rates", json_schema_extra=reads("emissions"))
    imported: list[str] = Field(
        default_factory=list,
        description="imported ecosystem products (区域外生态产品) deducted from function-value GEP, GB/T 46869-2025: "
        "region_id, year, service, component, value (元/万元/亿元) or quantity, unit")
    transitions: str | None = Field(
        None, description="land-cover transition table (region_id, year_from, year_to, class_from, class_to, area) "
        "for gross additions/reductions in the extent account; empty: [carbon] transitions if given, else net change", json_schema_extra=reads("transitions"))
    use_carbon_transitions: bool = Field(
        True, description="use the [carbon] transitions table for the extent account when [account] transitions is empty")
    price_index: str | None = Field(None, description="price index table for constant prices ([run] price_base_year)", json_schema_extra=reads("price-index"))
    socio: str | None = Field(None, description="population and GDP table (per-capita GEP, GEP/GDP)", json_schema_extra=reads("socio"))

    @field_validator("methods", mode="before")
    @classmethod
    def _methods(cls, v: Any) -> Any:
        return spelled_any([v] if isinstance(v, str) else v)

    @field_validator("grain_rule", mode="before")
    @classmethod
    def _grain_rule(cls, v: Any) -> Any:
        return spelled(v)

    @field_validator("quantities", "statistics", "imported", "emissions", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    def consistency_problems(self, run: Any, inputs: Any, steps: Any = ()) -> list[Problem]:
        """Rules between this section's options and ``[run]`` / ``[inputs]``; the one place they live.

        The run checks them before anything is read, whatever built the config (``gep account``,
        a TOML file, Python), so the same inconsistency fails identically everywhere (``BAD_OPTION``).
        ``run`` and ``inputs`` are the run's ``[run]`` and ``[inputs]`` sections, ``steps`` the names of its
        step sections (an ``[extent]`` step provides the land cover).
        """
        out: list[Problem] = []
        has_landcover = bool(inputs.landcover) or "extent" in steps

        def bad(key: str, message: str, expected: str, value: Any = None) -> None:
            out.append(Problem("BAD_OPTION", message, column=key, expected=expected,
                               value=None if value is None else str(value)))

        methods = set(self.methods)
        if run.price_base_year is not None and not self.price_index:
            bad("account.price_index", "[run] price_base_year (--price-base-year) asks for constant prices, which "
                "needs a price index table to convert values", "[account] price_index = \"FILE\" (--price-index FILE: "
                "year, index)", run.price_base_year)
        if self.prices_to_accounting_year and not self.price_index:
            bad("account.price_index", "prices_to_accounting_year (--prices-to-accounting-year) converts values to "
                "the prices of their accounting year, which needs a price index table", "[account] price_index = "
                "\"FILE\" (--price-index FILE: year, index)")
        if self.emissions and METHOD_FUNCTION_VALUE not in methods:
            bad("account.emissions", "emissions (--emissions) cap the purification services of function-value GEP, "
                "but the function-value method is not in the run", "methods including \"function_value\" "
                "(--method function-value), or no emissions table", ", ".join(self.emissions))
        if self.imported and METHOD_FUNCTION_VALUE not in methods:
            bad("account.imported", "the imported-products deduction (GB/T 46869-2025; --imported) applies to "
                "function-value GEP, but the function-value method is not in the run",
                "methods including \"function_value\" (--method function-value), or no imported table",
                ", ".join(self.imported))
        if self.transitions and not has_landcover:
            bad("account.transitions", "a transition table (--transitions) needs the land-cover table it reconciles "
                "with", "[inputs] landcover = [\"FILE\"] (--landcover FILE)", self.transitions)
        if self.equivalent_overrides and METHOD_EQUIVALENT_FACTOR not in methods:
            bad("account.equivalent_overrides", "an override table for the equivalent-factor set "
                "(--equivalent-overrides) changes a set that is not used", "methods including "
                "\"equivalent_factor\" (--method equivalent-factor)", self.equivalent_overrides)
        if self.function_value_overrides and METHOD_FUNCTION_VALUE not in methods:
            bad("account.function_value_overrides", "an override table for the function-value set "
                "(--function-value-overrides) changes a set that is not used", "methods including "
                "\"function_value\" (--method function-value)", self.function_value_overrides)
        if METHOD_EQUIVALENT_FACTOR in methods and not has_landcover:
            bad("inputs.landcover", "the equivalent-factor method values land-cover areas, but no land-cover table "
                "was given", "[inputs] landcover = [\"FILE\"] (--landcover FILE)")
        if self.level != "county" and not run.regions:
            bad("account.level", f"level '{self.level}' rolls counties up through a region registry, but none is "
                "named", "[run] regions = \"sichuan\" (--regions sichuan)", self.level)
        return out


# ---------------------------------------------------------------------------
# coefficient sets


def _set_spec(spec: str, ctx: RunContext | None) -> str:
    """A coefficient-set id as it is; a set folder given by a relative path resolved from the run config's folder
    (like every other input, and as ``gep validate`` reads it)."""
    if ctx is not None and spec not in list_sets() and not Path(spec).is_absolute() and ctx.resolve(spec).is_dir():
        return str(ctx.resolve(spec))
    return spec


def load_coefficient_set(spec: str, ctx: RunContext | None = None, overrides: str | None = None) -> Any:
    """Load a coefficient set (id or folder) through gep.coefficients; apply an override table if given.

    The override file is recorded as an input of the run (sha256 in the manifest) and the derived
    set ``<id>+overrides`` carries its base id/version and every overridden row. A set folder given
    by a relative path starts at the run config's folder, like every other input (and as ``gep validate``
    reads it).
    """
    cset = load_set(_set_spec(spec, ctx))
    if overrides:
        path = ctx.read_input(overrides, "coefficient overrides") if ctx is not None else Path(overrides)
        cset = apply_overrides(cset, path, file=overrides)
    return cset


def _set_id(cset: Any) -> str:
    return str(cset.manifest.id)


def fv_parameters(cset: Any) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(indicators, prices, rates) of a function-value set in the shapes function_value_services expects."""
    sid = _set_id(cset)
    ind = cset.tables["indicators"].filter(pl.col("value").cast(pl.Float64) > 0).select("service", "category")
    prices = cset.tables["prices"].select(
        "service",
        pl.col("component").fill_null(""),
        pl.col("value").cast(pl.Float64).alias("price"),
        pl.col("unit").alias("price_unit"),
        pl.col("price_year").cast(pl.Int32),
        pl.format("{}:prices:{}/{}", pl.lit(sid), pl.col("service"), pl.col("component").fill_null("")).alias(
            "coefficient_id"
        ),
    )
    rates_tab = cset.tables.get("rates")
    rates = (
        rates_tab.select(
            pl.lit(None, dtype=pl.Utf8).alias("region_id"),
            "ecosystem_type",
            "service",
            pl.col("component").fill_null(""),
            pl.col("value").cast(pl.Float64).alias("rate"),
            pl.col("unit").alias("rate_unit"),
            pl.format("{}:rates:{}/{}/{}", pl.lit(sid), pl.col("ecosystem_type"), pl.col("service"),
                      pl.col("component").fill_null("")).alias("coefficient_id"),
        )
        if rates_tab is not None
        else pl.DataFrame(schema={"region_id": pl.Utf8, "ecosystem_type": pl.Utf8, "service": pl.Utf8,
                                  "component": pl.Utf8, "rate": pl.Float64, "rate_unit": pl.Utf8,
                                  "coefficient_id": pl.Utf8})
    )
    return ind, prices, rates


def merge_override(base: pl.DataFrame, user: pl.DataFrame | None, keys: list[str]) -> pl.DataFrame:
    """User rows replace set rows with the same keys; other set rows stay."""
    if user is None or not user.height:
        return base
    kept = base.join(user.select(keys).unique(), on=keys, how="anti", nulls_equal=True)
    return pl.concat([kept, user.select(base.columns)], how="vertical_relaxed")


# ---------------------------------------------------------------------------
# the step


def _read_all(paths: list[str], reader: Any, role: str, ctx: RunContext, **kw: Any) -> pl.DataFrame | None:
    """Every file of ``paths`` through its reader (the one ``gep validate`` uses), with the run's registry."""
    frames = [reader(ctx.read_input(p, role), p, registry=ctx.registry, **kw) for p in paths]
    return pl.concat(frames, how="vertical_relaxed") if frames else None


def _opt_read(path: str | None, reader: Any, role: str, ctx: RunContext, **kw: Any) -> pl.DataFrame | None:
    return reader(ctx.read_input(path, role), path, registry=ctx.registry, **kw) if path else None


def compute_services(cfg: Config, ctx: RunContext) -> pl.DataFrame:
    """Services table (both methods stacked, each row tagged with its method) at county level."""
    parts: list[pl.DataFrame] = []
    extent = ctx.extent
    if METHOD_EQUIVALENT_FACTOR in cfg.methods:
        if extent is None:
            raise InputError([Problem("MISSING_INPUT", "the equivalent-factor method needs a land-cover table",
                                      column="landcover", expected="[inputs] landcover or --landcover FILE")])
        cset = load_coefficient_set(cfg.equivalent_set, ctx, cfg.equivalent_overrides)
        ctx.record_coefficient_set(cset)
        sv, price_year = _standard_value(cfg, cset, ctx)
        adj = _opt_read(cfg.adjustments, I.read_adjustments, "adjustment factors", ctx)
        eq_services = equivalent_factor_services(
            extent, equivalents_table(cset), sv, price_year=price_year,
            adjustments=adjustment_table(adj) if adj is not None else None, set_id=_set_id(cset), encoded=True,
        )
        warn_unverified(cset, eq_services, ctx)
        parts.append(_with_pricing_method(eq_services, None))
    if METHOD_FUNCTION_VALUE in cfg.methods:
        cset = load_coefficient_set(cfg.function_value_set, ctx, cfg.function_value_overrides)
        ctx.record_coefficient_set(cset)
        ind, prices, rates = fv_parameters(cset)
        prices = merge_override(prices, user_prices(cfg, ctx, cset.tables["indicators"]), ["service", "component"])
        user_rates = _opt_read(cfg.rates, I.read_rates, "rates", ctx)
        rates = rates if cfg.use_set_rates else rates.clear()
        rates = merge_override(rates, user_rates.filter(pl.col("region_id").is_null()) if user_rates is not None else None,
                               ["ecosystem_type", "service", "component"])
        if user_rates is not None:
            rates = pl.concat([rates, user_rates.filter(pl.col("region_id").is_not_null()).select(rates.columns)],
                              how="vertical_relaxed")
        quantities = _read_all(cfg.quantities, I.read_quantities, "quantities", ctx, indicators=cset.tables["indicators"])
        bio_q = ctx.tables.get("biophysical_quantities") if cfg.use_biophysical_quantities else None
        if bio_q is not None and bio_q.height:
            bq = bio_q.select("region_id", pl.col("year").cast(pl.Int32), "service",
                              pl.col("component").fill_null(""), pl.col("quantity").cast(pl.Float64), "unit").with_columns(
                pl.lit("biophysical step").alias("source_file"))
            if quantities is not None:  # county quantities of the same service win over the models
                bq = bq.join(quantities.select("region_id", "year", "service").unique(),
                             on=["region_id", "year", "service"], how="anti")
            quantities = bq if quantities is None else pl.concat([quantities, bq], how="diagonal_relaxed")
        carbon_q = ctx.tables.get("carbon_gep_quantities") if cfg.use_carbon_quantities else None
        if carbon_q is not None and carbon_q.height:
            cq = carbon_q.select("region_id", pl.col("year").cast(pl.Int32), "service",
                                 pl.col("component").fill_null(""), "quantity", "unit").with_columns(
                pl.lit("carbon step").alias("source_file"))
            cq = pl.concat([cq, oxygen_from_carbon(cq)], how="vertical_relaxed")
            if quantities is not None:  # county (or biophysical) quantities of the same service win: carbon once
                cq = cq.join(quantities.select("region_id", "year", "service").unique(),
                             on=["region_id", "year", "service"], how="anti")
            quantities = cq if quantities is None else pl.concat([quantities, cq], how="diagonal_relaxed")
        statistics = _read_all(cfg.statistics, I.read_statistics, "statistics", ctx)
        if extent is None and quantities is None and statistics is None:
            raise InputError([Problem("MISSING_INPUT", "the function-value method needs a land-cover table, "
                                      "a quantities table or a statistics table", column="landcover",
                                      expected="--landcover, --quantities or --statistics")])
        fv = function_value_services(ind, prices, extent=extent, rates=rates, quantities=quantities,
                                     statistics=statistics)
        warn_carbon_not_computed(fv, extent, ind, ctx)
        emissions = _read_all(cfg.emissions, I.read_emissions, "emissions", ctx)
        fv, not_computed = cap_purification(fv, emissions)
        warn_purification_not_computed(not_computed, emissions is not None, ctx)
        imported = _read_all(cfg.imported, I.read_imported, "imported products", ctx)
        if imported is not None:
            deduction = imported_deduction_services(imported, ind, prices)
            for r in deduction_without_account(deduction, fv).iter_rows(named=True):
                ctx.warnings.append(Problem(
                    "DEDUCTION_WITHOUT_ACCOUNT",
                    f"imported products are deducted for region {r['region_id']} in {r['year']}, which has no other "
                    "function-value rows: its GEP is only the (negative) deduction — check region_id and year",
                    column="region_id", value=r["region_id"], expected="a region and year of the account"))
            fv = conform_services(pl.concat([fv, deduction], how="vertical"))
        warn_unverified(cset, fv, ctx)
        if _is_price_set(cfg.prices, ctx):
            warn_unverified(load_coefficient_set(str(cfg.prices), ctx), fv, ctx)
        parts.append(_with_pricing_method(encode_services(fv), cset.tables["indicators"]))
    return pl.concat(parts, how="vertical") if parts else pl.DataFrame()


def _standard_value(cfg: Config, cset: Any, ctx: RunContext) -> tuple[float | pl.DataFrame, int | None]:
    """Standard equivalent value D (CNY/hm2) and its price year (None: the accounting year of each row).

    Order: grain statistics (1/7 rule or net profit), ``standard_value``, the set's ``standard_value``
    table. A set without one (xie2003, a user table) needs the run to give it: MISSING_COEFFICIENT.
    """
    sv, year = _standard_value_any(cfg, cset, ctx)
    values = sv["standard_value_cny_per_hm2"].to_list() if isinstance(sv, pl.DataFrame) else [sv]
    raise_if(coefficient_problems("standard_value_cny_per_hm2", values, file=cfg.grain, column="standard_value"))
    return sv, year


def _standard_value_any(cfg: Config, cset: Any, ctx: RunContext) -> tuple[float | pl.DataFrame, int | None]:
    set_year = getattr(cset.manifest, "price_year", None)
    if cfg.grain:
        grain = I.read_grain(ctx.read_input(cfg.grain, "grain statistics"), cfg.grain)
        sv: float | pl.DataFrame = (standard_value_one_seventh(grain) if cfg.grain_rule == "one_seventh"
                                    else standard_value_net_profit(grain))
        if not any(k in sv.columns for k in ("region_id", "year")):
            sv = float(sv["standard_value_cny_per_hm2"][0])
        return sv, cfg.standard_value_price_year
    if cfg.standard_value is not None:
        # a value given without a price year is taken to be at the prices of the accounting year
        return cfg.standard_value, cfg.standard_value_price_year
    tab = cset.tables.get("standard_value")
    if tab is not None and tab.height:
        year = tab["price_year"][0] if "price_year" in tab.columns else None
        return float(tab["value"][0]), int(year) if year is not None else (int(set_year) if set_year else None)
    raise InputError([Problem(
        "MISSING_COEFFICIENT",
        f"the equivalent-factor set '{_set_id(cset)}' ships no standard equivalent value (CNY/hm2 per equivalent)",
        column="standard_value", value=_set_id(cset),
        expected="--standard-value N [--standard-value-year Y], [account] standard_value, or a grain table")])


def equivalents_table(cset: Any) -> pl.DataFrame:
    """Equivalents keyed by the 14 ecosystem types, with ``coefficient_id``, from any equivalent-factor set.

    A set keyed by its own groups (``xie2003``, ``xie2008``: 森林 草地 …) goes through its ``type_map``
    (:func:`gep.coefficients.sets.equivalents_by_type`); each row's id then cites the group row and
    the type-map row: ``xie2008:equivalents:森林/gas_regulation|xie2008:type_map:针叶/森林``.
    """

    sid = _set_id(cset)
    table = cset.tables["equivalents"]
    if "ecosystem_type" in table.columns:
        return table
    mapped = equivalents_by_type(cset)
    group_key = next(k for k in cset.keys("equivalents") if k != "service")
    tm = cset.manifest.type_map
    ids = [  # a small table (14 types × services): plain Python is clearest
        "|".join([f"{sid}:equivalents:{g}/{s}" for g in grp.split("+")]
                 + [f"{sid}:{tm}:{et}/{g}" for g in grp.split("+")])
        for et, grp, s in zip(mapped["ecosystem_type"], mapped[group_key], mapped["service"], strict=True)
    ]
    return mapped.with_columns(pl.Series("coefficient_id", ids, dtype=pl.Utf8))


def _is_price_set(spec: str | None, ctx: RunContext | None = None) -> bool:
    """True when ``spec`` names a price set: a built-in set id, or a set folder (relative paths start at the run
    config's folder, like every other input)."""
    if not spec:
        return False
    if spec in list_sets():
        return True
    path = Path(_set_spec(spec, ctx))
    return path.is_dir() and (path / "set.toml").exists()


# pollutant of a price set's pollution_equivalents → (service, component, medium of pollution_rates)
_PURIFICATION_COMPONENTS: dict[str, tuple[str, str, str]] = {
    "so2": ("air_purification", "so2", "air"), "nox": ("air_purification", "nox", "air"),
    "dust": ("air_purification", "dust", "air"), "cod": ("water_purification", "cod", "water"),
    "nh3n": ("water_purification", "nh3n", "water"), "tp": ("water_purification", "tp", "water"),
}


def user_prices(cfg: Config, ctx: RunContext, indicators: pl.DataFrame | None = None) -> pl.DataFrame | None:
    """The ``prices`` of the run: a prices table, or a price set (``prices_cn``) with its pollution basis.

    A price set's ``prices`` table is used as is (purification at the 2003 排污费 basis); with
    ``pollution_price_basis`` (a schedule of its ``pollution_rates``) or a province's own
    ``env_tax_rate_air`` / ``env_tax_rate_water`` the purification prices become
    rate (CNY per pollution equivalent) ÷ equivalent value (kg) × 1000 per t. Ids cite the set rows.
    """
    if not cfg.prices:
        if cfg.pollution_price_basis or cfg.env_tax_rate_air or cfg.env_tax_rate_water:
            raise InputError([Problem("BAD_CONFIG", "a pollution price basis or tax rate needs a price set",
                                      column="prices", expected='prices = "prices_cn"')])
        return None
    if not _is_price_set(cfg.prices, ctx):
        if cfg.pollution_price_basis or cfg.env_tax_rate_air or cfg.env_tax_rate_water:
            raise InputError([Problem("BAD_CONFIG", "a pollution price basis or tax rate needs a price set, not a "
                                      "prices table", column="prices", value=cfg.prices,
                                      expected='prices = "prices_cn"')])
        return _opt_read(cfg.prices, I.read_prices, "prices", ctx, indicators=indicators)
    cset = load_coefficient_set(cfg.prices, ctx)
    ctx.record_coefficient_set(cset)
    sid = _set_id(cset)
    tab = cset.tables["prices"]
    out = tab.select(
        "service", pl.col("component").fill_null(""), pl.col("value").cast(pl.Float64).alias("price"),
        pl.col("unit").alias("price_unit"), pl.col("price_year").cast(pl.Int32),
        pl.format("{}:prices:{}/{}", pl.lit(sid), pl.col("service"), pl.col("component").fill_null(""))
        .alias("coefficient_id"))
    basis = cfg.pollution_price_basis
    if basis is None and cfg.env_tax_rate_air is None and cfg.env_tax_rate_water is None:
        return out
    eq = cset.tables.get("pollution_equivalents")
    rates = cset.tables.get("pollution_rates")
    if eq is None or rates is None:
        raise InputError([Problem("BAD_CONFIG", f"price set '{sid}' has no pollution_equivalents/pollution_rates "
                                  "tables", column="pollution_price_basis", value=basis or "")])
    schedules = sorted(set(rates["schedule"].to_list()))
    if basis is not None and basis not in schedules:
        raise InputError([Problem("BAD_CONFIG", f"unknown pollution price basis '{basis}'",
                                  column="pollution_price_basis", value=basis, expected="one of " + ", ".join(schedules))])
    rate_rows: dict[str, tuple[float, int | None, str]] = {}
    for medium, user in (("air", cfg.env_tax_rate_air), ("water", cfg.env_tax_rate_water)):
        if user is not None:  # the province's rate, in force in the accounting year
            rate_rows[medium] = (float(user), None, f"env_tax_rate_{medium}")
            continue
        sched = basis or "tax_2018_min"
        r = rates.filter((pl.col("schedule") == sched) & (pl.col("medium") == medium))
        rate_rows[medium] = (float(r["value"][0]), int(r["price_year"][0]) if r["price_year"][0] is not None else None,
                             f"{sid}:pollution_rates:{sched}/{medium}")
        if basis is None:
            ctx.warnings.append(Problem(
                "STATUTORY_MINIMUM_RATE", f"no {medium} tax rate given: the 环境保护税 statutory minimum "
                f"({rate_rows[medium][0]} CNY per pollution equivalent) prices {medium} purification; give the "
                "province's rate", column=f"env_tax_rate_{medium}", expected="the province's rate (Sichuan: air 3.9, water 2.8)"))
    rows = []
    for pollutant, kg, _unit in eq.select("pollutant", pl.col("value").cast(pl.Float64), "unit").iter_rows():
        if pollutant not in _PURIFICATION_COMPONENTS:
            continue
        service, component, medium = _PURIFICATION_COMPONENTS[pollutant]
        rate, year, rid = rate_rows[medium]
        rows.append((service, component, rate / kg * 1000.0, "CNY/t", year,
                     f"{rid}|{sid}:pollution_equivalents:{pollutant}"))
    derived = pl.DataFrame(rows, schema={"service": pl.Utf8, "component": pl.Utf8, "price": pl.Float64,
                                         "price_unit": pl.Utf8, "price_year": pl.Int32, "coefficient_id": pl.Utf8},
                           orient="row")
    return merge_override(out, derived, ["service", "component"])


def to_accounting_year(services: pl.DataFrame, index: pl.DataFrame) -> pl.DataFrame:
    """Every value at the prices of its own accounting year: value × I(year)/I(price_year) (current prices).

    The same index mechanism as constant prices (:func:`gep.account.tables.to_constant_prices`), with the
    accounting year of each row as its base; price and price_year follow, so quantity × price = value holds.
    """
    if not services.height:
        return services
    keys = ["region_id"] if "region_id" in index.columns else []
    idx = keyed_like(index.select(*keys, pl.col("year").cast(pl.Int32), pl.col("index").cast(pl.Float64)),
                     services, keys)
    df = (services.join(idx.rename({"index": "_iy"}), on=[*keys, "year"], how="left", maintain_order="left")
          .join(idx.rename({"year": "price_year", "index": "_ip"}), on=[*keys, "price_year"], how="left",
                maintain_order="left"))
    years = sorted(set(df.filter(pl.col("_iy").is_null())["year"].to_list())
                   | set(df.filter(pl.col("_ip").is_null())["price_year"].drop_nulls().to_list()))
    if years:
        raise InputError([Problem("MISSING_VALUE", f"the price index has no value for year {y}, needed to convert "
                                  "values to the prices of their accounting year", column="year", value=str(y),
                                  expected=f"a row for year {y}") for y in years])
    ratio = pl.col("_iy") / pl.col("_ip")
    return df.with_columns((pl.col("value_cny") * ratio).alias("value_cny"), (pl.col("price") * ratio).alias("price"),
                           pl.col("year").cast(pl.Int32).alias("price_year")).drop("_iy", "_ip")


EQUIVALENT_PRICING = "当量因子法 equivalent factor"


def _with_pricing_method(services: pl.DataFrame, indicators: pl.DataFrame | None) -> pl.DataFrame:
    """Add ``pricing_method`` (定价方法): from the indicator list of the set, or the equivalent-factor label."""
    if indicators is None:
        return services.with_columns(pl.lit(EQUIVALENT_PRICING).cast(pl.Categorical).alias("pricing_method"))
    if "pricing_method" not in indicators.columns:
        return services.with_columns(pl.lit(None, pl.Categorical).alias("pricing_method"))
    lut = indicators.select("service", pl.col("pricing_method").cast(pl.Utf8).cast(pl.Categorical)).unique(
        "service", keep="first")
    return services.join(keyed_like(lut, services, ["service"]), on="service", how="left", maintain_order="left")


# Photosynthesis stoichiometry: 1 kg dry matter fixes 1.63 kg CO2 and releases 1.2 kg O2 (✅ 江波 et al. 2017,
# 固碳释氧).
O2_PER_CO2 = 1.2 / 1.63


def oxygen_from_carbon(carbon_q: pl.DataFrame) -> pl.DataFrame:
    """释氧 quantities (t O2) from the carbon step's net CO2 removals: O2 = CO2 × 1.2/1.63, removals only (> 0).

    The function-value set has no oxygen rates of its own: oxygen follows the same carbon, counted in one place.
    """
    return (carbon_q.filter((pl.col("service") == "carbon_sequestration") & (pl.col("quantity") > 0))
            .group_by("region_id", "year", maintain_order=True).agg(pl.col("quantity").sum())
            .with_columns(pl.lit("oxygen_release").alias("service"), pl.lit("").alias("component"),
                          (pl.col("quantity") * O2_PER_CO2).alias("quantity"), pl.lit("t").alias("unit"),
                          pl.lit("carbon step").alias("source_file"))
            .select(carbon_q.columns))


def warn_carbon_not_computed(fv: pl.DataFrame, extent: pl.DataFrame | None, indicators: pl.DataFrame,
                             ctx: RunContext) -> None:
    """CARBON_NOT_COMPUTED: regions with land cover but no 固碳 quantity (no [carbon] step, no county quantity).

    Carbon sequestration (and the oxygen released with it) is counted from one place, the carbon step
    (gep/carbon/link.py); the function-value set carries no carbon rates of its own.
    """
    if extent is None or "carbon_sequestration" not in indicators["service"].to_list():
        return
    have = fv.filter(pl.col("service") == "carbon_sequestration").select("region_id", "year").unique()
    missing = (extent.select("region_id", pl.col("year").cast(pl.Int32)).unique()
               .join(have, on=["region_id", "year"], how="anti"))
    if not missing.height:
        return
    regions = missing["region_id"].unique().sort().to_list()
    shown = ", ".join(regions[:5]) + (", …" if len(regions) > 5 else "")
    ctx.warnings.append(Problem(
        "CARBON_NOT_COMPUTED",
        f"carbon_sequestration and oxygen_release not computed for {len(regions)} region(s) ({shown}): carbon is "
        "counted from one place, the carbon step, and this run has none",
        column="carbon_sequestration",
        expected="a [carbon] section in the run config (gep run), or county quantities of carbon_sequestration"))


def warn_purification_not_computed(not_computed: pl.DataFrame, have_emissions: bool, ctx: RunContext) -> None:
    """PURIFICATION_NOT_COMPUTED: air/water purification left out where no emissions cap it (one warning)."""
    if not not_computed.height:
        return
    groups = not_computed.select("service", "component").unique().sort(["service", "component"])
    what = ", ".join(f"{s}/{c}" if c else s for s, c in groups.iter_rows())
    regions = not_computed["region_id"].unique().sort().to_list()
    shown = ", ".join(regions[:5]) + (", …" if len(regions) > 5 else "")
    why = ("no emissions table (环境统计) was given" if not have_emissions else
           f"the emissions table has no row for {not_computed.height} region/year/pollutant combination(s)")
    ctx.warnings.append(Problem(
        "PURIFICATION_NOT_COMPUTED",
        f"{what} not computed for {len(regions)} region(s) ({shown}): {why}. The function-value standards "
        "count purification as min(capacity × area, emissions); a per-area capacity alone is not a purified amount",
        column="emissions", value=what,
        expected="--emissions FILE / [account] emissions (region_id, year, pollutant, amount, unit), "
                 "or county quantities of these services"))


def unverified_rows_used(cset: Any, services: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``cset`` flagged ``unverified`` that the services cite: table, key ("v1/v2"), source.

    Services cite rows as ``set:table:v1/v2[|set:table:…]`` (coefficient_id); the indicator list of a
    function-value set is always in use (it decides which services are counted).
    """
    sid = _set_id(cset)
    refs = (services.select(pl.col("coefficient_id").cast(pl.Utf8)).drop_nulls().unique()
            .with_columns(pl.col("coefficient_id").str.split("|")).explode("coefficient_id")
            .filter(pl.col("coefficient_id").str.starts_with(f"{sid}:"))
            .select(pl.col("coefficient_id").str.splitn(":", 3).struct.rename_fields(["_s", "table", "key"]))
            .unnest("coefficient_id").drop("_s").unique())
    parts: list[pl.DataFrame] = []
    for name, table in sorted(cset.tables.items()):
        if "verification" not in table.columns:
            continue
        keys = cset.keys(name)
        flagged = table.filter(pl.col("verification") == "unverified").select(
            pl.lit(name).alias("table"),
            pl.concat_str([pl.col(k).cast(pl.Utf8).fill_null("") for k in keys], separator="/").alias("key"),
            pl.col("source").cast(pl.Utf8) if "source" in table.columns else pl.lit(None, pl.Utf8).alias("source"),
        )
        if name != "indicators":
            flagged = flagged.join(refs.filter(pl.col("table") == name), on=["table", "key"], how="semi")
        parts.append(flagged)
    schema = {"table": pl.Utf8, "key": pl.Utf8, "source": pl.Utf8}
    return (pl.concat(parts, how="vertical") if parts else pl.DataFrame(schema=schema)).sort(["table", "key"])


def warn_unverified(cset: Any, services: pl.DataFrame, ctx: RunContext) -> None:
    """UNVERIFIED_COEFFICIENT: one warning per set naming how many unverified rows the run used, and which.

    Every set, every method: the full list of rows goes into the message (manifest.json and the
    reports keep it; the command prints it after 'wrote DIR').
    """
    rows = unverified_rows_used(cset, services)
    if not rows.height:
        return
    sid = _set_id(cset)
    listing = "; ".join(
        f"{r['table']}: " + ", ".join(r["key"])
        for r in rows.group_by("table", maintain_order=True).agg("key").iter_rows(named=True))
    family = getattr(cset.manifest, "method_family", None) or "coefficient"
    hint = (" — the indicator list is reconstructed, not checked against the 规范, and the per-area rates are "
            "illustrative placeholders; replace them with local quantities before official use"
            if family == "function_value" else " — no source text confirms these rows; check them against the "
            "primary publication or override them before official use")
    ctx.warnings.append(Problem(
        "UNVERIFIED_COEFFICIENT",
        f"{family.replace('_', '-')} set '{sid}': {rows.height} unverified row{'s' if rows.height != 1 else ''} "
        f"used ({listing}){hint}",
        column="coefficients", value=sid,
        expected="verified or secondary coefficients (see coefficients_used.csv, column verification)",
    ))


def _area_km2(extent: pl.DataFrame | None, registry: Any = None, level: str = "county") -> pl.DataFrame | None:
    """Region area (km2) from the extent, else from the region registry."""
    if extent is None:
        if registry is None:
            return None
        if level == "county":
            return registry.counties.select("region_id", pl.col("area_km2").cast(pl.Float64))
        parents = region_parents(registry, level)
        return (registry.counties.join(parents, on="region_id").sort(["parent_id", "region_id"])
                .group_by("parent_id").agg(pl.col("area_km2").cast(pl.Float64).sum())
                .rename({"parent_id": "region_id"}))
    return extent.group_by(["region_id", pl.col("year").cast(pl.Int32)]).agg(
        (pl.col("area_ha").sum() / 100.0).alias("area_km2")  # 1 km2 = 100 ha
    )


def transitions_path(cfg: Config, ctx: RunContext) -> str | None:
    """The transition table for the extent account: ``[account] transitions``, else ``[carbon] transitions``."""
    if cfg.transitions:
        return cfg.transitions
    if not cfg.use_carbon_transitions:
        return None
    carbon = getattr(getattr(ctx, "config", None), "steps", {}).get("carbon")
    return getattr(carbon, "transitions", None) if carbon is not None else None


def extent_type_flows(cfg: Config, ctx: RunContext) -> pl.DataFrame | None:
    """County type flows (ha) from the transition table, checked against the land cover; None without transitions."""
    path = transitions_path(cfg, ctx)
    if path is None:
        return None
    if ctx.extent is None:
        raise InputError([Problem("MISSING_INPUT", "a transition table needs the land-cover table it reconciles with",
                                  column="landcover", value=path, expected="[inputs] landcover or --landcover FILE")])

    tr = load_transitions(ctx.read_input(path, "transitions"), display_name=path)
    reconcile(ctx.extent, tr, file=path)
    return type_flows(ctx.extent, tr, file=path)


def _input_rows(cfg: Config, ctx: RunContext) -> pl.DataFrame:
    """region_id, file, row of every county-table row of the run (land cover, quantities, statistics, imported).

    Used only to point at the cells of an error; files are re-read without being recorded again.
    """

    frames: list[pl.DataFrame] = []
    inputs = getattr(getattr(ctx, "config", None), "inputs", None)
    for path in getattr(inputs, "landcover", None) or []:
        df = load_table(ctx.resolve(path), LANDCOVER_SPEC, sheet=getattr(inputs, "sheet", None), keep_rows=True,
                        display_name=path)
        frames.append(df.select("region_id", pl.lit(path).alias("file"), pl.col(ROW).cast(pl.Int64).alias("row")))
    for paths, reader in ((cfg.quantities, I.read_quantities), (cfg.statistics, I.read_statistics),
                          (cfg.imported, I.read_imported)):
        for path in paths:
            df = reader(ctx.resolve(path), path)
            frames.append(df.select("region_id", pl.lit(path).alias("file"),
                                    pl.col("source_row").cast(pl.Int64).alias("row")))
    schema = {"region_id": pl.Utf8, "file": pl.Utf8, "row": pl.Int64}
    return pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame(schema=schema)


def check_not_nested(services: pl.DataFrame, extent: pl.DataFrame | None, cfg: Config, ctx: RunContext) -> None:
    """REGION_COUNTED_TWICE: a region and a region containing it (e.g. 成都市 510100 and 锦江区 510104) in one run.

    Nesting from the region registry (county → prefecture → province), else from the GB/T 2260 code structure.
    Checked at every level: the county-level table would show the same area twice in any sum.
    """
    ids = (decode_services(services.select(pl.col("region_id").unique())) if services.height
           else pl.DataFrame(schema={"region_id": pl.Utf8}))
    if extent is not None:
        ids = pl.concat([ids, extent.select("region_id")])
    ancestors = registry_ancestors(ctx.registry) if ctx.registry is not None else adcode_ancestors(ids)
    pairs = nested_regions(ids, ancestors)
    if not pairs.height:
        return
    rows = _input_rows(cfg, ctx)
    where = (rows.sort(["file", "row"]).group_by(["region_id", "file"], maintain_order=True)
             .agg(pl.col("row").head(3), pl.len().alias("n")))

    def located(rid: str) -> list[tuple[str, list[int], int]]:
        return [(r["file"], r["row"], r["n"]) for r in where.filter(pl.col("region_id") == rid).iter_rows(named=True)]

    def text(rid: str) -> str:
        loc = located(rid)
        if not loc:
            return f"'{rid}'"
        return f"'{rid}' (" + "; ".join(
            f"{f}, row{'s' if n > 1 else ''} {', '.join(map(str, r))}{', …' if n > len(r) else ''}"
            for f, r, n in loc) + ")"

    problems: list[Problem] = []
    for p in pairs.head(50).iter_rows(named=True):
        loc = located(p["ancestor_id"]) or [(None, [None], 1)]
        problems.append(Problem(
            "REGION_COUNTED_TWICE",
            f"region {text(p['ancestor_id'])} contains region {text(p['region_id'])}, and both are in the input: "
            "the member's area and value would be counted twice in any sum",
            file=loc[0][0], row=loc[0][1][0], column="region_id", value=p["ancestor_id"],
            expected=f"either '{p['ancestor_id']}' or its member counties (such as '{p['region_id']}'), not both; "
                     "use --level prefecture|province to sum counties"))
    raise InputError(problems)


def warn_partial_rollup(present: pl.DataFrame, parents: pl.DataFrame, registry: Any, level: str, ctx: RunContext) -> None:
    """PARTIAL_ROLLUP warning per parent and year whose total covers only some of its member counties."""
    cov = rollup_coverage(present, parents).filter(pl.col("members_with_data") < pl.col("members_total"))
    for r in cov.iter_rows(named=True):
        name = registry.name_of(r["parent_id"]) if hasattr(registry, "name_of") else ""
        missing = r["missing"]
        shown = ", ".join(missing[:5]) + (", …" if len(missing) > 5 else "")
        ctx.warnings.append(Problem(
            "PARTIAL_ROLLUP",
            f"{level} {name} {r['parent_id']} in {r['year']}: only {r['members_with_data']} of its "
            f"{r['members_total']} member counties have data; missing {len(missing)}: {shown}. Its GEP row "
            f"is the sum of the counties given, not the whole {level}",
            column="region_id", value=r["parent_id"],
            expected=f"input rows for all {r['members_total']} member counties"))


def check_config(cfg: Config, check: ConfigCheck) -> list[Problem]:
    """What a run of ``[account]`` refuses across files, for ``gep validate RUN.toml``: with ``[run]
    price_base_year``, the price index must hold the base year and every year of the statistics tables (their
    values are at the prices of their year), as the rebasing needs (MISSING_VALUE, located at the config key).
    A region-specific index is left to the run."""
    base = check.run.price_base_year
    index = next(iter(check.tables.get("price-index", [])), None)
    if base is None or index is None or "region_id" in index.columns:
        return []
    have = set(index["year"].drop_nulls().to_list())
    need = {int(base)} | {int(y) for t in check.tables.get("statistics", [])
                          for y in t["year"].drop_nulls().unique().to_list()}
    return [Problem("MISSING_VALUE", f"the price index has no value for year {y}, needed to rebase values to "
                    f"{base}", column="account.price_index", value=str(y), expected=f"a row for year {y}")
            for y in sorted(need - have)]


def run_step(cfg: Config, ctx: RunContext) -> None:
    """Add the GEP account tables to ``ctx.tables`` (see module docstring)."""
    services = compute_services(cfg, ctx)
    if cfg.prices_to_accounting_year and cfg.price_index:
        services = to_accounting_year(
            services, I.read_price_index(ctx.read_input(cfg.price_index, "price index"), cfg.price_index))
    extent = ctx.extent
    check_not_nested(services, extent, cfg, ctx)
    flows = extent_type_flows(cfg, ctx)
    socio = _opt_read(cfg.socio, I.read_socio, "socio-economic statistics", ctx)
    if cfg.level != "county":
        parents = region_parents(ctx.registry, cfg.level)
        present = regions_present(services, extent).select("region_id", "year").unique()
        services = rollup_services(services, parents)
        warn_partial_rollup(present, parents, ctx.registry, cfg.level, ctx)
        if flows is not None:
            flows = rollup_flows(flows, parents)
        if extent is not None:
            extent = (extent.join(parents, on="region_id", how="inner")
                      .sort(["parent_id", "year", "class", "region_id"]).drop("region_id")
                      .rename({"parent_id": "region_id"})
                      .group_by(["region_id", "year", "class", "ecosystem_type"]).agg(pl.col("area_ha").sum())
                      .sort(["region_id", "year", "class"]))
        if socio is not None:
            socio = (socio.join(parents, on="region_id", how="inner").sort(["parent_id", "year", "region_id"])
                     .group_by(["parent_id", "year"])
                     .agg(pl.col("population").sum(), pl.col("gdp_cny").sum())
                     .rename({"parent_id": "region_id"}))
    area = _area_km2(extent, ctx.registry, cfg.level)
    ctx.tables["services"] = services
    ctx.tables["gep"] = gep_totals(services, area_km2=area, socio=socio)
    physical, monetary = seea_supply_tables(services)
    ctx.tables["seea_physical_supply"] = physical
    ctx.tables["seea_monetary_supply"] = monetary
    base = ctx.price_base_year
    valued = services
    if base is not None and cfg.price_index:
        index = I.read_price_index(ctx.read_input(cfg.price_index, "price index"), cfg.price_index)
        valued = to_constant_prices(services, index, base)
        ctx.tables["gep_constant"] = gep_totals(valued, area_km2=area, socio=socio).with_columns(
            pl.lit(base).cast(pl.Int32).alias("price_base_year"))
    else:
        mixed = services.group_by(["region_id", "year", "method"]).agg(pl.col("price_year").n_unique().alias("n"))
        if mixed.filter(pl.col("n") > 1).height:
            ctx.warnings.append(Problem(
                "PRICE_YEARS_MIXED",
                "some GEP totals add values at different price levels (e.g. 2010 coefficient prices and "
                "current-year statistics); give a price index and [run] price_base_year for constant prices",
            ))
    ctx.tables["gep_totals"] = gep_level_totals(ctx.tables["gep"])
    constant = ctx.tables.get("gep_constant")  # growth at constant prices when there are any
    basis = constant if constant is not None else ctx.tables["gep"]
    if basis["year"].n_unique() >= 2:  # the level totals of gep were just computed: not again
        ctx.tables["gep_growth"] = gep_growth(basis, None if constant is not None else ctx.tables["gep_totals"])
    if extent is not None:
        years = sorted(extent["year"].unique().to_list())
        if len(years) >= 2:
            ctx.tables["extent_account"] = extent_account(extent, flows)
            if flows is not None:
                ctx.tables["extent_change_matrix"] = extent_change_matrix(flows, extent)
            # consecutive periods, plus first → last year when there are more than two years
            pairs = list(pairwise(years))
            if len(years) > 2:
                pairs.append((years[0], years[-1]))
            present = regions_present(ctx.tables["gep"], extent)  # same region × year × method as the services
            for a, b in pairs:
                gaps = missing_years(present, a, b).group_by(["region_id", "missing_year"]).agg(
                    pl.col("method").sort()).sort("region_id")
                for r in gaps.iter_rows(named=True):
                    ctx.warnings.append(Problem(
                        "YEAR_NOT_COMPARABLE",
                        f"region {r['region_id']} has no data for {r['missing_year']}: no change decomposition "
                        f"{a}→{b} for it ({', '.join(r['method'])}); a missing year is not counted as zero",
                        column="year", value=r["region_id"],
                        expected=f"land cover or values of {r['region_id']} for both {a} and {b}"))
            ctx.tables["change_decomposition"] = change_decompositions(valued, extent, pairs).sort(["region_id", "method", "year_from", "year_to"])
