"""What the [uncertainty] and [sensitivity] steps share: which accounts, which coefficient sets, which ranges.

The accounts are rebuilt as linear forms (:mod:`gep.tuning.linear`) from the run's own land
cover and the run's own ``[account]`` / ``[carbon]`` settings, so ``gep uncertainty RUN_DIR``
repeats exactly what RUN_DIR computed, with coefficients drawn from their ranges.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from gep.account import inputs as account_inputs
from gep.account.equivalent import adjustment_table
from gep.account.step import compute_services, load_coefficient_set
from gep.carbon import gainloss as GL
from gep.carbon import link, params
from gep.carbon import step as CS
from gep.coefficients import apply_overrides, load_set
from gep.context import RunContext
from gep.errors import InputError, Problem
from gep.tuning.declared import load_declared
from gep.tuning.distributions import (
    coefficient_id,
    declare_uncertainty,
    set_coefficients,
)
from gep.tuning.linear import (
    LinearModel,
    carbon_flux_models,
    carbon_stock_model,
    check_against_engine,
    equivalent_factor_model,
    function_value_model,
    function_value_model_from,
    stock_change_model,
)

ModelName = Literal["auto", "equivalent_factor", "function_value", "carbon_stock", "carbon_flux"]
Verification = Literal["verified", "secondary", "unverified", "all"]
Distribution = Literal["uniform", "triangular", "normal", "lognormal"]

def _auto() -> list[ModelName]:
    return ["auto"]


def _unverified() -> list[Verification]:
    return ["unverified"]


TABLE_SUFFIX: dict[str, str] = {"cny": "", "c_t": "_carbon"}
"""Output table name suffix by value unit: money → uncertainty.csv, carbon stock (t C) → uncertainty_carbon.csv."""


class UncertaintyInputs(BaseModel):
    """Fields shared by ``[uncertainty]`` and ``[sensitivity]`` (docs/tuning.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    methods: list[ModelName] = Field(
        default_factory=_auto,
        description="accounts to analyse: equivalent_factor (谢高地 2015 equivalents), function_value (rates × "
        "prices), carbon_stock, carbon_flux (gain-loss flux and sink value; [uncertainty] only); auto = those the "
        "run computes ([account] methods, [carbon] with a coefficient set)")
    equivalent_set: str | None = Field(None, description="equivalent-factor set (default: [account] equivalent_set)")
    function_value_set: str | None = Field(
        None, description="function-value set (default: [account] function_value_set)")
    carbon_set: str | None = Field(None, description="carbon set with a pools table (default: [carbon] coefficients)")
    uncertainty_table: str | None = Field(
        None, description="declared uncertainty: set_id, table, key columns, low, high | range_pct, distribution")
    default_range_pct: float | None = Field(
        None, ge=0, description="± percent range for coefficients without low/high (see default_range_for)")
    default_range_for: list[Verification] = Field(
        default_factory=_unverified,
        description="verification statuses the ± default applies to (all = every coefficient)")
    default_distribution: Distribution = Field("uniform", description="distribution of the ± default ranges")


def _is_path(spec: str) -> bool:
    return spec.startswith("demo:") or bool(Path(spec).suffix) or "/" in spec or "\\" in spec


def load_set_for(spec: str, ctx: RunContext) -> Any:
    """A coefficient set by id or folder (``demo:`` and relative paths resolved by the run)."""

    return load_set(str(ctx.resolve(spec)) if _is_path(spec) else spec)


def build_models(cfg: UncertaintyInputs, ctx: RunContext) -> tuple[list[LinearModel], dict[str, Any]]:
    """The linear forms of the accounts to analyse, each checked against the engine, and the sets by id."""
    steps = ctx.config.steps
    account = steps.get("account")
    carbon = steps.get("carbon")
    wanted = set(cfg.methods)
    problems: list[Problem] = []
    names: list[str] = []
    if "equivalent_factor" in wanted or ("auto" in wanted and account is not None
                                         and "equivalent_factor" in getattr(account, "methods", [])):
        names.append("equivalent_factor")
    if "function_value" in wanted or ("auto" in wanted and account is not None
                                      and "function_value" in getattr(account, "methods", [])):
        names.append("function_value")
    carbon_spec = cfg.carbon_set or (getattr(carbon, "coefficients", None) if carbon is not None else None)
    if "carbon_stock" in wanted or ("auto" in wanted and carbon is not None):
        if carbon_spec and _is_path(carbon_spec) and ctx.resolve(carbon_spec).is_file():
            if "carbon_stock" in wanted:
                problems.append(Problem("NOT_SUPPORTED", "carbon uncertainty needs a coefficient set with a pools "
                                        "table, not an InVEST pool CSV", column="carbon_set", value=carbon_spec,
                                        expected="a set id such as carbon_default, or a set folder"))
        else:
            names.append("carbon_stock")
    if not names and not problems and "carbon_flux" in wanted:
        problems.append(Problem("NOT_SUPPORTED", "the gain-loss carbon flux (carbon_flux) is analysed by "
                                "[uncertainty] only", column="methods", value="carbon_flux",
                                expected="equivalent_factor, function_value or carbon_stock"))
    if not names and not problems:
        problems.append(Problem("BAD_CONFIG", "nothing to analyse: the run computes no equivalent-factor account "
                                "and no carbon stock", column="methods",
                                expected="[account] methods with equivalent_factor, a [carbon] section, or methods = "
                                "[\"equivalent_factor\"]"))
    if problems:
        raise InputError(problems)
    models: list[LinearModel] = []
    sets: dict[str, Any] = {}
    if ctx.extent is None and any(n != "function_value" for n in names):
        raise InputError([Problem("BAD_CONFIG", "uncertainty and sensitivity analysis of equivalent-factor and "
                                  "carbon accounts need land cover: set [inputs] landcover",
                                  column="inputs.landcover", expected="a land-cover table")])
    for name in names:
        if name == "function_value":
            spec = cfg.function_value_set or getattr(account, "function_value_set", None) or "function_value_cn"
            if account is not None:
                cset, model = function_value_model_of_run(account, spec, ctx)
            else:
                cset = load_set_for(spec, ctx)
                model = function_value_model_from(cset, extent=ctx.extent)
        elif name == "equivalent_factor" and account is not None:
            spec = cfg.equivalent_set or getattr(account, "equivalent_set", None) or "xie2015"
            cset, model = equivalent_factor_model_of_run(account, spec, ctx)
        elif name == "equivalent_factor":
            spec = cfg.equivalent_set or "xie2015"
            cset = load_set_for(spec, ctx)
            adjustments = None
            if account is not None and getattr(account, "grain", None):
                raise InputError([Problem(
                    "NOT_SUPPORTED", "uncertainty analysis of a standard value derived from grain statistics is not "
                    "supported yet", column="account.grain", value=account.grain,
                    expected="remove grain or give standard_value (CNY/hm2) in [account]")])
            if account is not None and getattr(account, "adjustments", None):

                adj = account_inputs.read_adjustments(ctx.read_input(account.adjustments, "adjustment factors"),
                                                      account.adjustments)
                adjustments = adjustment_table(adj)
            sv = getattr(account, "standard_value", None) if account is not None else None
            model = equivalent_factor_model(ctx.extent, cset, standard_value=sv, adjustments=adjustments)
        else:
            cset = load_set_for(carbon_spec or "carbon_default", ctx)
            if cfg.carbon_set is None and carbon is not None and getattr(carbon, "overrides", None):

                cset = apply_overrides(cset, ctx.read_input(carbon.overrides, "coefficient overrides"),
                                       file=carbon.overrides)
            model = carbon_stock_model(ctx.extent, cset)
        check_against_engine(model)
        ctx.record_coefficient_set(cset)
        sets[str(cset.manifest.id)] = cset
        models.append(model)
        if name == "carbon_stock":
            change = stock_change_model(model)
            if change.rows.height:
                models.append(change)
    compare_with_run(models, ctx)
    return models, sets


class _ShadowContext:
    """The run context as the [account] step sees it, minus side effects (no sets recorded, warnings dropped)."""

    def __init__(self, ctx: RunContext) -> None:
        self._ctx = ctx
        self.config = ctx.config
        self.registry = ctx.registry
        self.extent = ctx.extent
        self.tables = ctx.tables
        self.warnings: list[Problem] = []
        self.price_base_year = ctx.price_base_year
        self.synthetic = ctx.synthetic

    def resolve(self, path: str) -> Path:
        return Path(self._ctx.resolve(path))

    def read_input(self, path: str, role: str) -> Path:
        return Path(self._ctx.read_input(path, role))

    def record_coefficient_set(self, cset: Any) -> None:
        return None


def unit_set_copy(cset: Any, folder: Path, tables: tuple[str, ...] = ("prices", "rates")) -> Path:
    """A copy of a set folder whose ``tables`` have every value 1 (same id and keys), for reading bases off the engine."""
    import shutil

    src = getattr(cset, "path", None)
    if not src or not Path(src).is_dir():
        raise InputError([Problem("NOT_SUPPORTED", f"uncertainty analysis needs coefficient set '{cset.manifest.id}' "
                                  "as a folder (set.toml + tables)", value=str(cset.manifest.id))])
    dst = folder / Path(src).name
    shutil.copytree(src, dst)
    # a derived set (base + overrides) keeps its own id, so coefficient ids match the run's
    toml = dst / "set.toml"
    text = toml.read_text(encoding="utf-8")
    base_id = getattr(cset.manifest, "base_id", None)
    if base_id and base_id != cset.manifest.id:
        text = re.sub(r'(?m)^id\s*=\s*".*"$', f'id = "{cset.manifest.id}"', text, count=1)
        toml.write_text(text, encoding="utf-8")
    for decl in cset.manifest.tables:
        if decl.name in tables:
            f = dst / decl.file
            if f.suffix.lower() != ".csv":
                raise InputError([Problem("NOT_SUPPORTED", f"table '{decl.name}' of set '{cset.manifest.id}' is not "
                                          "a CSV file", file=str(f), expected="a .csv table")])
            raw = pl.read_csv(f, infer_schema=False)
            blank = [pl.lit(None, dtype=pl.Utf8).alias(c) for c in ("low", "high", "distribution") if c in raw.columns]
            raw.with_columns(pl.lit("1").alias("value"), *blank).write_csv(f)
    return dst


def equivalent_factor_model_of_run(account: Any, spec: str, ctx: RunContext) -> tuple[Any, LinearModel]:
    """Equivalent-factor form of the run's own [account] step (compute_services with the set, and with a unit copy).

    Rows are area × adjustment × E × D (谢高地 2015). D is a coefficient of the set unless the account gives
    ``standard_value`` or derives it from grain statistics (then it is fixed, inside each row's base).
    """
    import tempfile


    cfg_ef = account.model_copy(update={"methods": ["equivalent_factor"], "equivalent_set": spec})
    shadow = _ShadowContext(ctx)
    cset = load_coefficient_set(spec, shadow, getattr(account, "equivalent_overrides", None))
    point = compute_services(cfg_ef, shadow)
    with tempfile.TemporaryDirectory(prefix="gep-unit-set-") as tmp:
        unit_dir = unit_set_copy(cset, Path(tmp), ("equivalents", "standard_value"))
        unit = compute_services(cfg_ef.model_copy(update={"equivalent_set": str(unit_dir),
                                                          "equivalent_overrides": None}), shadow)
    sid = str(cset.manifest.id)
    d_id = None
    if getattr(account, "grain", None) is None and getattr(account, "standard_value", None) is None \
            and "standard_value" in cset.tables and cset.tables["standard_value"].height:
        d_id = cset.tables["standard_value"].head(1).select(
            coefficient_id(sid, "standard_value", list(cset.keys("standard_value")))).item()
    coefs = set_coefficients(cset, ["equivalents", "standard_value"]).select(
        "coefficient", "unit", "verification", "value")
    return cset, function_value_model(point, unit, coefs, method="equivalent_factor", every_row=d_id)


def function_value_model_of_run(account: Any, spec: str, ctx: RunContext) -> tuple[Any, LinearModel]:
    """Function-value form of the run's own [account] step: gep.account.step.compute_services run twice.

    Once as the run did it, once with the set's rates and prices all 1 (a temporary copy of the set),
    so quantities from county tables and from the carbon step, user prices/rates and statistics enter
    exactly as the account step assembles them.
    """
    import tempfile


    cfg_fv = account.model_copy(update={"methods": ["function_value"], "function_value_set": spec})
    shadow = _ShadowContext(ctx)
    cset = load_coefficient_set(spec, shadow, getattr(account, "function_value_overrides", None))
    point = compute_services(cfg_fv, shadow)
    with tempfile.TemporaryDirectory(prefix="gep-unit-set-") as tmp:
        unit_dir = unit_set_copy(cset, Path(tmp))
        unit = compute_services(cfg_fv.model_copy(update={"function_value_set": str(unit_dir),
                                                          "function_value_overrides": None}), shadow)
    coefs = set_coefficients(cset, ["prices", "rates"]).select("coefficient", "unit", "verification", "value")
    return cset, function_value_model(point, unit, coefs)


def compare_with_run(models: list[LinearModel], ctx: RunContext) -> None:
    """Warn (UNCERTAINTY_BASIS_DIFFERS) when a model's point totals differ from the run's own county tables."""
    for m in models:
        if m.method in ("equivalent_factor", "function_value") and "gep" in ctx.tables:
            run = ctx.tables["gep"].filter(pl.col("method") == m.method).select(
                "region_id", pl.col("year").cast(pl.Int32), pl.col("total_cny").alias("_run"))
            ref = m.rows.with_columns(pl.Series("_mine", m.point_total))
        elif m.method == "carbon_stock_change" and "carbon_flux" in ctx.tables:
            flux = ctx.tables["carbon_flux"].filter(pl.col("method") == "stock_difference")
            run = flux.group_by("region_id", pl.col("year_from").cast(pl.Int32), pl.col("year_to").cast(pl.Int32)
                                .alias("year")).agg(pl.col("delta_c_t").sum().alias("_run"))
            ref = m.rows.with_columns(pl.Series("_mine", m.point_total))
            j = ref.join(run, on=["region_id", "year_from", "year"], how="inner")
            if j.height and float(((j["_mine"] - j["_run"]).abs()
                                   / j["_run"].abs().clip(lower_bound=1.0)).max()) > 1e-6:  # type: ignore[arg-type]
                ctx.warnings.append(Problem(
                    "UNCERTAINTY_BASIS_DIFFERS", "the carbon stock changes of the uncertainty analysis differ from "
                    "the run's stock-difference flux", column=m.method))
            continue
        elif m.method == "carbon_stock" and "carbon_stock" in ctx.tables:
            run = ctx.tables["carbon_stock"].group_by("region_id", pl.col("year").cast(pl.Int32)).agg(
                pl.col("c_t").sum().alias("_run"))
            ref = m.rows.with_columns(pl.Series("_mine", m.point_total))
        else:
            continue
        if not run.height:
            continue
        j = ref.join(run, on=["region_id", "year"], how="inner")
        rel = ((j["_mine"] - j["_run"]).abs() / j["_run"].abs().clip(lower_bound=1e-300)).max() if j.height else None
        if j.height != ref.height or (rel is not None and float(rel) > 1e-9):  # type: ignore[arg-type]
            ctx.warnings.append(Problem(
                "UNCERTAINTY_BASIS_DIFFERS",
                f"the {m.method} point values of the uncertainty analysis differ from the run's own tables "
                "(e.g. the accounts are rolled up or use other settings); intervals are for county accounts at "
                "the coefficient set's price year", column=m.method))


def coefficient_spec(cfg: UncertaintyInputs, ctx: RunContext, sets: dict[str, Any]) -> pl.DataFrame:
    """Ranges of every coefficient of the sets: declared table > the set's low/high > ±default_range_pct."""
    coefs = pl.concat([set_coefficients(s) for _, s in sorted(sets.items())], how="vertical")
    declared = None
    if cfg.uncertainty_table:
        declared = load_declared(ctx.read_input(cfg.uncertainty_table, "uncertainty"), sets,
                                 display_name=cfg.uncertainty_table)
    return declare_uncertainty(coefs, declared, cfg.default_range_pct, cfg.default_range_for,
                               cfg.default_distribution)


def warn_if_certain(models: list[LinearModel], spec: pl.DataFrame, ctx: RunContext, section: str) -> None:
    """NO_UNCERTAINTY_DECLARED warning when no coefficient of the analysed accounts has a range."""
    used = used_spec(models, spec)
    if used.filter(pl.col("high") > pl.col("low")).height == 0:
        ctx.warnings.append(Problem(
            "NO_UNCERTAINTY_DECLARED",
            f"[{section}]: no coefficient of the analysed accounts has a range, so every interval equals the point "
            "estimate; declare ranges with uncertainty_table (--uncertainty-table) or default_range_pct (--range-pct)",
            column=f"{section}.default_range_pct"))


def used_spec(models: list[LinearModel], spec: pl.DataFrame) -> pl.DataFrame:
    """The ranges of the coefficients the models use (table ``uncertainty_coefficients``), sorted."""
    used = pl.concat([m.coefficients.select("coefficient", pl.lit(m.method).alias("method")) for m in models])
    return used.join(spec, on="coefficient", how="inner").select(
        "method", "coefficient", "unit", "verification", "value", "low", "high", "distribution", "range_source",
    ).sort(["method", "coefficient"])


def region_children(ctx: RunContext) -> dict[str, list[str]]:
    """Prefecture id → its county ids, from the run's region registry (empty without one)."""
    reg = getattr(ctx, "registry", None)
    if reg is None:
        return {}
    counties = reg.counties.select("region_id", "parent_id").drop_nulls()
    grouped = counties.group_by("parent_id").agg(pl.col("region_id").sort())
    return {str(p): list(ids) for p, ids in grouped.iter_rows()}



def wants_carbon_flux(cfg: UncertaintyInputs, ctx: RunContext) -> bool:
    """True when ``models`` names carbon_flux, or is auto and the run's [carbon] step uses the gain–loss method."""
    carbon = ctx.config.steps.get("carbon")
    if "carbon_flux" in cfg.methods:
        return True
    if "auto" not in cfg.methods or carbon is None or getattr(carbon, "method", None) not in ("gain_loss", "both"):
        return False
    spec = cfg.carbon_set or getattr(carbon, "coefficients", None) or ""
    return not (_is_path(spec) and ctx.resolve(spec).is_file())  # an InVEST pool CSV: skipped, as carbon_stock is


def carbon_flux_models_of_run(cfg: UncertaintyInputs, ctx: RunContext) -> tuple[list[LinearModel], dict[str, Any]]:
    """Gain–loss flux (t C) and sink value (CNY) forms of the run's own [carbon] step, checked against the engine.

    gep.carbon.step.compute (method gain-loss) runs three times with the run's inputs: with the set as it is
    (the point, its flux_summary), with the set's ``rates`` all 1 and all 0. base = flux(1) − flux(0) is each
    row's area net of IPCC-covered hectares; flux(0) is everything no set rate moves (user rates, IPCC forest
    and grassland rows, wetland CH4), which is held fixed. A rate of 0 means "not counted" in the engine and
    stays 0. The carbon price is the set's ``prices`` row unless [carbon] gives price_per_tc / price_per_tco2.
    """
    import dataclasses


    carbon = ctx.config.steps.get("carbon")
    ccfg = carbon if carbon is not None else CS.Config.model_validate({})
    spec = cfg.carbon_set or ccfg.coefficients
    if _is_path(spec) and ctx.resolve(spec).is_file():
        raise InputError([Problem("NOT_SUPPORTED", "carbon flux uncertainty needs a coefficient set with a rates "
                                  "table, not an InVEST pool CSV", column="carbon_set", value=spec,
                                  expected="a set id such as carbon_default, or a set folder")])
    if ctx.extent is None:
        raise InputError([Problem("BAD_CONFIG", "carbon flux uncertainty needs land cover: set [inputs] landcover",
                                  column="inputs.landcover", expected="a land-cover table")])
    shadow = _ShadowContext(ctx)
    set_ref = str(ctx.resolve(spec)) if _is_path(spec) else spec
    cset = CS.load_coefficients(set_ref, shadow, ccfg.overrides if cfg.carbon_set is None else None)
    rates = cset.table("rates")
    if rates is None or not rates.height or list(cset.raw.keys("rates")) != ["ecosystem_type"]:
        raise InputError([Problem("NOT_SUPPORTED", f"coefficient set '{cset.id}' has no rates table keyed by "
                                  "ecosystem_type", column="carbon_set", value=cset.id,
                                  expected="a set like carbon_default (rates.csv: ecosystem_type, value t C/ha/yr)")])
    extent: pl.DataFrame = ctx.extent
    densities = params.set_densities(extent, cset, None)

    def load(path: str | None, role: str, loader: Any) -> pl.DataFrame | None:
        return loader(shadow.read_input(path, role), display_name=path) if path else None

    user_rates = load(ccfg.rates, "carbon_rates", GL.load_rates)
    forest = load(ccfg.forest_inventory, "forest_inventory", GL.load_forest_inventory)
    grass = load(ccfg.grassland_management, "grassland_management", GL.load_grassland_management)
    ch4 = None
    if ccfg.wetland_ch4_ef:
        ch4 = (GL.ch4_factor_t_ch4(cset, ccfg.wetland_ch4_ef)[0], GL.gwp_value(cset, ccfg.gwp))
    price = CS.resolve_price(ccfg, cset, ctx.price_base_year)
    groups = params.ecosystem_groups()

    def run(c: Any) -> Any:
        return CS.compute(extent, densities, c, price, method="gain_loss", user_rates=user_rates, forest=forest,
                          grassland=grass, ch4=ch4, ch4_groups=tuple(ccfg.ch4_groups), groups=groups)

    def with_rates(v: float) -> Any:
        return dataclasses.replace(cset, tables={**cset.tables, "rates": rates.with_columns(pl.lit(v).alias("value"))})

    point = run(cset)
    keys = ["region_id", "year_from", "year_to", "method", "class_from", "class_to"]
    one = link.with_groups(run(with_rates(1.0)).flux, extent, groups)
    zero = link.with_groups(run(with_rates(0.0)).flux, extent, groups)
    sid = str(cset.raw.manifest.id)
    rate_coefs = set_coefficients(cset.raw, ["rates"]).select("coefficient", "unit", "verification", "value")
    nonzero = rate_coefs.filter(pl.col("value") != 0)["coefficient"].to_list()
    rate_rows = (
        one.join(zero.select(*keys, pl.col("delta_c_t").alias("_z")), on=keys, how="left")
        .with_columns((pl.col("delta_c_t") - pl.col("_z").fill_null(0.0)).alias("base_ha"))
        .filter(pl.col("base_ha") != 0)
        .with_columns(coefficient_id(sid, "rates", ["ecosystem_type"]).alias("coefficient"))
        .filter(pl.col("coefficient").is_in(nonzero))
        .group_by("region_id", "year_from", "year_to", "group", "coefficient").agg(pl.col("base_ha").sum())
    )
    fixed_rows = zero.group_by("region_id", "year_from", "year_to", "group").agg(pl.col("delta_c_t").sum())
    coefs = rate_coefs.filter(pl.col("coefficient").is_in(rate_rows["coefficient"].unique().to_list()))
    price_id = None
    if ccfg.price_per_tc is None and ccfg.price_per_tco2 is None and price.year is not None:
        prow = cset.table("prices")
        prow = pl.DataFrame() if prow is None else prow.filter((pl.col("market") == ccfg.price_market) & (pl.col("year").cast(pl.Int64) == price.year))
        pc = set_coefficients(cset.raw, ["prices"]).select("coefficient", "unit", "verification", "value")
        if prow.height == 1:
            price_id = prow.select(coefficient_id(sid, "prices", list(cset.raw.keys("prices")))).item()
            coefs = pl.concat([coefs, pc.filter(pl.col("coefficient") == price_id)], how="vertical")
    coefs = coefs.sort("coefficient")
    summary = point.summary.filter(pl.col("method") == "gain_loss")
    flux, value = carbon_flux_models(summary, rate_rows, fixed_rows, coefs, price.per_t_c, price_id)
    for m in (flux, value):
        check_against_engine(m)
    ctx.record_coefficient_set(cset.raw)
    if "carbon_flux_summary" in ctx.tables:
        run_all = ctx.tables["carbon_flux_summary"].filter((pl.col("method") == "gain_loss") & (pl.col("group") == "all"))
        if run_all.height:
            mine = summary.filter(pl.col("group") == "all").select("region_id", "year_from", "year_to",
                                                                   pl.col("delta_c_t").alias("_mine"))
            j = mine.join(run_all.select("region_id", "year_from", "year_to", pl.col("delta_c_t").alias("_run")),
                          on=["region_id", "year_from", "year_to"], how="full", coalesce=True)
            if j.height != mine.height or j.filter(pl.col("_mine").is_null() | pl.col("_run").is_null()
                                                   | ((pl.col("_mine") - pl.col("_run")).abs() > 1e-9
                                                      * pl.col("_run").abs().clip(lower_bound=1.0))).height:
                ctx.warnings.append(Problem(
                    "UNCERTAINTY_BASIS_DIFFERS", "the gain-loss carbon flux of the uncertainty analysis differs "
                    "from the run's carbon_flux_summary", column="carbon_flux"))
    return [flux, value], {sid: cset.raw}
