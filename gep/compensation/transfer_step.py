"""``[transfer]`` step: transfer calculators on GEP results (docs/compensation.md §Transfer calculators).

Takes the GEP tables of this run (``[account]``) or of an earlier run directory
(``accounts = "RUN_DIR"``), a socio-economic table, and the region river graph;
writes transfer_spillover, transfer_opportunity_cost, transfer_priority,
transfer_efa_allocation and (calculator ``incentive``) transfer_incentive_allocation,
Sichuan's 2023 incentive-policy factor allocation of a provincial reward pot.
Default λ, reward rate and factor weights are design values flagged unverified
(docs/formulas.md §6: T2, T5, T6).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator

from gep.compensation.transfer import (
    DEFAULT_LAMBDAS,
    efa_allocation,
    factor_allocation,
    opportunity_cost_floor,
    priority_ranking,
    spillover_ceiling,
)
from gep.context import RunContext
from gep.errors import InputError, Problem, ProblemCollector
from gep.inputkinds import InputKind
from gep.readers import RawTable, read_raw
from gep.tablespec import (
    REGION_ID,
    YEAR,
    ColumnSpec,
    TableSpec,
    match_columns,
    validate_raw,
)
from gep.vocabulary import spelled_any

Calculator = Literal["spillover", "opportunity_cost", "priority", "efa", "incentive"]
# default set (the incentive allocation needs its own factors, so it runs only when listed)
ALL_CALCULATORS: list[Calculator] = ["spillover", "opportunity_cost", "priority", "efa"]
Verification = Literal["verified", "secondary", "unverified"]


INPUT_KINDS: tuple[InputKind, ...] = ()
"""Input kinds this step declares (it reads the tables of other steps and their files)."""


class Config(BaseModel):
    """``[transfer]``: which calculators, on which GEP results and socio-economic table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    calculators: list[Calculator] = Field(
        default_factory=lambda: list(ALL_CALCULATORS), description="calculators to run"
    )
    accounts: str | None = Field(None, description="earlier `gep account` run directory; empty = this run's [account] tables")
    socio: str | None = Field(
        None, description="table region_id, year, population_urban/rural, income_urban/rural_cny, gdp_cny, water_use_m3, "
        "engel_coefficient, factor columns for the EFA allocation"
    )
    method: str = Field("function_value", description="GEP method whose results are used (function_value or equivalent_factor)")

    @field_validator("method", mode="before")
    @classmethod
    def _one_spelling(cls, v: Any) -> Any:
        return spelled_any(v)

    year: int | None = Field(None, description="year of the GEP results and socio table (default: latest year in both)")
    river: str | None = Field(None, description="restrict the spillover to one river of the graph, e.g. 沱江干流 (empty = all)")
    edges: str | None = Field(None, description="custom river edges table upstream_id, downstream_id (default: region registry)")
    lambdas: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_LAMBDAS),
                                      description="share λ of each service's value that flows downstream (UNVERIFIED defaults)")
    reference_income: dict[str, float] | None = Field(
        None, description="{income_urban_cny, income_rural_cny} of the reference region; default population-weighted mean"
    )
    efa_total_cny: float = Field(1.0e9, description="pot of the key-ecological-function-area transfer to allocate (CNY)")
    efa_component_shares: dict[str, float] = Field(default_factory=lambda: {"base": 0.8, "protected": 0.2},
                                                   description="shares of the pot for the base and protected-area components")
    efa_base_weights: dict[str, float] = Field(
        default_factory=lambda: {"fiscal_gap_cny": 0.5, "redline_area_km2": 0.3, "gep_total_cny": 0.2},
        description="factor weights of the base component; gep_total_cny is taken from the GEP results",
    )
    efa_guidance: dict[str, float] = Field(default_factory=dict, description="fixed guidance amounts per region id (CNY)")
    efa_reward_rate: float = Field(0.1, description="reward/penalty rate applied to the base component by assessment score")
    efa_regions: list[str] | None = Field(None, description="regions eligible for the EFA allocation (default: all in socio)")
    incentive_total_cny: str | int | float = Field(
        "100000000", description="provincial reward pot of the 2023 incentive policy to allocate (CNY; exact decimal, 《四川省流域横向生态保护补偿激励政策实施方案》 2023)"
    )
    incentive_weights: dict[str, float] = Field(
        default_factory=lambda: {"gep_regulating_cny": 0.5, "agreed_fund_cny": 0.5},
        description="factor weights: gep_<column> takes a column of the GEP table (ecological importance), other names "
        "a socio column (agreed_fund_cny = fund size the region signed in horizontal agreements); UNVERIFIED defaults",
    )
    incentive_weights_verification: Verification = Field(
        "unverified", description="verification of the weights and formula (not published → unverified)"
    )
    incentive_weights_source: str = Field("", description="where the weights come from (document, article)")
    incentive_level: Literal["county", "prefecture"] = Field(
        "prefecture", description="allocate to prefectures (市级为主, 《四川省流域横向生态保护补偿激励政策实施方案》 2023) or counties; county factors are summed"
    )
    incentive_river: str | None = Field(
        None, description="only counties on this river of the graph are eligible (and summed into their prefectures)"
    )
    incentive_regions: list[str] | None = Field(None, description="eligible region ids at the chosen level (default: all)")
    incentive_payer: str = Field("SC_PROVINCE_TREASURY", description="party that pays the pot (ledger payer)")


def _quantity(name: str, aliases: tuple[str, ...], dimension: str, unit: str, description: str,
              nonnegative: bool = True) -> ColumnSpec:
    return ColumnSpec(name=name, dtype="float", required=False, allow_null=True, aliases=aliases, dimension=dimension,
                      canonical_unit=unit, nonnegative=nonnegative, description=description)


SOCIO_COLUMNS: tuple[ColumnSpec, ...] = (
    REGION_ID,
    YEAR,
    _quantity("population_urban", ("城镇人口", "城镇常住人口", "城镇户籍人口"), "count:people", "people",
              "urban population (人; 万人 in the name is converted)"),
    _quantity("population_rural", ("农村人口", "乡村人口", "农村常住人口", "乡村常住人口", "农村户籍人口"), "count:people",
              "people", "rural population (人; 万人 in the name is converted)"),
    _quantity("income_urban_cny", ("城镇居民人均可支配收入", "城镇人均可支配收入", "城镇居民收入"), "money", "CNY",
              "per-capita disposable income of urban residents (元)"),
    _quantity("income_rural_cny", ("农村居民人均可支配收入", "农村人均可支配收入", "农村居民收入", "农民人均纯收入"), "money",
              "CNY", "per-capita disposable income of rural residents (元)"),
    _quantity("gdp_cny", ("地区生产总值", "GDP", "生产总值"), "money", "CNY",
              "GDP (unit in the name: 地区生产总值(万元), gdp_cny, GDP(亿元))"),
    _quantity("water_use_m3", ("用水量", "用水总量", "总用水量"), "volume", "m3", "water use (unit in the name: 用水量(万m3))"),
    _quantity("engel_coefficient", ("恩格尔系数",), "dimensionless", "1", "Engel coefficient (0.25, or 恩格尔系数(%) 25)"),
    _quantity("fiscal_gap_cny", ("财力缺口", "标准财政收支缺口", "财政收支缺口"), "money", "CNY",
              "standard fiscal gap (unit in the name, e.g. 财力缺口(万元))", nonnegative=False),
    _quantity("redline_area_km2", ("生态保护红线面积", "红线面积"), "area", "km2",
              "ecological-redline area (unit in the name, e.g. 生态保护红线面积(km2))"),
    _quantity("protected_area_km2", ("自然保护地面积", "保护地面积", "禁止开发区面积"), "area", "km2",
              "protected-area area (unit in the name, e.g. 自然保护地面积(公顷))"),
    ColumnSpec(name="assessment_score", dtype="float", required=False, allow_null=True,
               aliases=("考核得分", "考核评分", "监测评价得分", "评价得分", "得分"), description="assessment score"),
    _quantity("agreed_fund_cny", ("协议资金", "协议资金规模", "签约资金", "补偿资金规模"), "money", "CNY",
              "fund the region signed into horizontal agreements (unit in the name, e.g. 协议资金(万元))"),
)
"""Socio-economic table of ``[transfer] socio`` (read through gep.loaders; aliases in docs/compensation.md)."""

BARE_UNIT: dict[str, str] = {"population_urban": "人", "population_rural": "人", "income_urban_cny": "元",
                             "income_rural_cny": "元", "engel_coefficient": "1"}
"""Columns whose unit may be left out of a Chinese header (城镇人口 = people, 人均可支配收入 = 元, 恩格尔系数 = ratio)."""

# which columns (and whose cells) each calculator needs
_NEEDS: dict[str, tuple[str, ...]] = {
    "spillover": ("water_use_m3",),
    "opportunity_cost": ("population_urban", "population_rural", "income_urban_cny", "income_rural_cny"),
}


def socio_spec(cfg: Config) -> TableSpec:
    """Spec of the socio table for the calculators of ``cfg``: the columns they use required, factor columns added.

    Opportunity cost and spillover need a value in every row; EFA factor columns must exist, an empty cell counts as 0.
    """
    filled = {c for calc in cfg.calculators for c in _NEEDS.get(calc, ())}  # column and every cell
    need = set(filled)  # the column (an empty EFA factor cell counts as 0)
    if "efa" in cfg.calculators:
        need |= {f for f in cfg.efa_base_weights if f != "gep_total_cny"} | {"protected_area_km2"}
        if cfg.efa_reward_rate:
            need.add("assessment_score")
    extra = [f for f in (*cfg.efa_base_weights, *(cfg.incentive_weights if "incentive" in cfg.calculators else ()))
             if not f.startswith("gep_") and f not in {c.name for c in SOCIO_COLUMNS}]
    cols = [*SOCIO_COLUMNS, *(ColumnSpec(name=f, dtype="float", required=False, allow_null=True,
                                         description="factor column of the allocation") for f in dict.fromkeys(extra))]
    cols = [c.model_copy(update={"required": True, "allow_null": c.name not in filled}) if c.name in need else c
            for c in cols]
    return TableSpec(name="socio-economic table", description="region_id, year and the columns the transfer calculators use",
                     columns=tuple(cols), keys=("region_id", "year"))


def read_socio(path: str | Path, cfg: Config, display_name: str | None = None) -> pl.DataFrame:
    """Read the socio table (CSV UTF-8/GBK, XLSX, Parquet; Chinese headers) → region_id, year (Int32) and the columns found.

    Quantities are converted by gep.units to people, CNY, m3, km2 from the unit in the header (地区生产总值(万元) ×
    1e4); columns the calculators need are required (MISSING_COLUMN); every problem raises one InputError.
    """
    raw = read_raw(path, display_name=display_name)
    return socio_from_raw(raw, socio_spec(cfg))


def socio_from_raw(raw: RawTable, spec: TableSpec) -> pl.DataFrame:
    """Validate a raw socio table against ``spec``; keep only the columns present in the file."""
    norm = {h: h.strip().replace("（", "(").replace("）", ")") for h in raw.df.columns}
    bare = {a.lower(): spec.column(c).name for c in BARE_UNIT for a in (c, *spec.column(c).aliases)}
    rename = {h: f"{n}({BARE_UNIT[bare[n.lower()]]})" for h, n in norm.items() if n.lower() in bare and n != bare[n.lower()]}
    if rename:  # '城镇人口' → '城镇人口(人)': the unit the header leaves out
        raw = RawTable(raw.df.rename(rename), raw.file, raw.rows)
    found, _ = match_columns(list(raw.df.columns), spec, raw.file, ProblemCollector())
    try:
        df = validate_raw(raw, spec)
    except InputError as exc:  # name the column as the file spells it
        back = {v: k for k, v in rename.items()}
        raise InputError([replace(p, column=back.get(p.column or "", p.column)) for p in exc.problems]) from None
    return df.select([c.name for c in spec.columns if c.name in found]).with_columns(pl.col("year").cast(pl.Int32))


EDGES_SPEC = TableSpec(
    name="river edges",
    description="custom river graph: one row per upstream → downstream neighbour pair",
    columns=(
        ColumnSpec(name="upstream_id", aliases=("上游", "上游地区代码", "上游区县代码", "上游代码", "upstream"),
                   description="region code of the upstream region"),
        ColumnSpec(name="downstream_id", aliases=("下游", "下游地区代码", "下游区县代码", "下游代码", "downstream"),
                   description="region code of the downstream region"),
        ColumnSpec(name="river", required=False, allow_null=True, aliases=("河流", "流域", "河流名称"),
                   description="river name (used by river = … and incentive_river)"),
    ),
    keys=("upstream_id", "downstream_id", "river"),
)


def read_edges(path: str | Path, display_name: str | None = None) -> pl.DataFrame:
    """Read a custom river edges table (CSV UTF-8/GBK, XLSX, Parquet; Chinese headers) → upstream_id, downstream_id[, river]."""
    raw = read_raw(path, display_name=display_name)
    found, _ = match_columns(list(raw.df.columns), EDGES_SPEC, raw.file, ProblemCollector())
    df = validate_raw(raw, EDGES_SPEC)
    return df.select([c.name for c in EDGES_SPEC.columns if c.name in found])


def _read_table(path: Path) -> pl.DataFrame:
    if path.suffix.lower() == ".parquet":
        return pl.read_parquet(path)
    return pl.read_csv(path, infer_schema_length=10000, schema_overrides={"region_id": pl.Utf8, "upstream_id": pl.Utf8,
                                                                           "downstream_id": pl.Utf8})


def _gep_tables(cfg: Config, ctx: RunContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    if cfg.accounts:
        run_dir = ctx.resolve(cfg.accounts)
        tables = run_dir / "tables"
        problems = []
        found: dict[str, Path] = {}
        for name in ("services", "gep"):
            # a table above [run] csv_max_rows rows is written as Parquet only
            candidates = [tables / f"{name}.csv", tables / f"{name}.parquet"]
            path = next((c for c in candidates if c.exists()), None)
            if path is None:
                problems.append(Problem("FILE_NOT_FOUND",
                                        f"the accounts run directory has no tables/{name}.csv or tables/{name}.parquet",
                                        file=str(run_dir), expected="a directory written by `gep account` or `gep run`"))
            else:
                found[name] = path
        if problems:
            raise InputError(problems)
        services = _read_table(ctx.read_input(str(found["services"]), "accounts_services"))
        gep = _read_table(ctx.read_input(str(found["gep"]), "accounts_gep"))
        return services, gep
    if "services" not in ctx.tables or "gep" not in ctx.tables:
        raise InputError([Problem("BAD_CONFIG", "[transfer] needs GEP results: add an [account] section or set accounts = RUN_DIR",
                                  column="transfer.accounts", expected="an [account] section or a run directory")])
    return ctx.tables["services"], ctx.tables["gep"]


def run_step(cfg: Config, ctx: RunContext) -> None:
    """Run the selected calculators and add their tables to the run."""
    services, gep = _gep_tables(cfg, ctx)
    if "method" in services.columns:
        services = services.filter(pl.col("method") == cfg.method)
    if "method" in gep.columns:
        gep = gep.filter(pl.col("method") == cfg.method)
    socio = read_socio(ctx.read_input(cfg.socio, "transfer_socio"), cfg, display_name=cfg.socio) if cfg.socio else None
    years = set(gep["year"].cast(pl.Int32).to_list())
    if socio is not None:
        years &= set(socio["year"].to_list())
    year = cfg.year if cfg.year is not None else (max(years) if years else None)
    if year is None or (cfg.year is not None and cfg.year not in years):
        raise InputError([Problem("MISSING_VALUE", "no year is present in both the GEP results and the socio table",
                                  column="transfer.year", value=None if cfg.year is None else str(cfg.year),
                                  expected="a year with GEP results" + (" and socio data" if socio is not None else ""))])
    services = services.filter(pl.col("year").cast(pl.Int32) == year)
    gep = gep.filter(pl.col("year").cast(pl.Int32) == year)
    if socio is not None:
        socio = socio.filter(pl.col("year") == year)

    def need_socio(name: str) -> pl.DataFrame:
        if socio is None:
            raise InputError([Problem("BAD_CONFIG", f"the {name} calculator needs [transfer] socio = TABLE",
                                      column="transfer.socio", expected="a socio-economic table")])
        return socio

    if "spillover" in cfg.calculators:
        s = need_socio("spillover")
        if cfg.edges:
            edges = read_edges(ctx.read_input(cfg.edges, "transfer_edges"), cfg.edges)
        elif ctx.registry is not None:
            edges = ctx.registry.river_edges(river=cfg.river) if cfg.river else ctx.registry.river_edges()
        else:
            raise InputError([Problem("BAD_CONFIG", "the spillover calculator needs a river graph: [run] regions or [transfer] edges",
                                      column="transfer.edges", expected="a region registry or an edges table")])
        if cfg.river and "river" in edges.columns and cfg.edges:
            edges = edges.filter(pl.col("river") == cfg.river)
        engel = s.select("region_id", "engel_coefficient") if "engel_coefficient" in s.columns else None
        ctx.tables["transfer_spillover"] = spillover_ceiling(services, edges, s.select("region_id", "water_use_m3"),
                                                             cfg.lambdas, engel)
    if "opportunity_cost" in cfg.calculators:
        ctx.tables["transfer_opportunity_cost"] = opportunity_cost_floor(need_socio("opportunity_cost"), cfg.reference_income)
    if "priority" in cfg.calculators:
        gdp = socio.select("region_id", "year", "gdp_cny") if socio is not None and "gdp_cny" in socio.columns else None
        ctx.tables["transfer_priority"] = priority_ranking(gep, gdp)
    if "efa" in cfg.calculators:
        f = need_socio("efa")
        if cfg.efa_regions:
            f = f.filter(pl.col("region_id").is_in(cfg.efa_regions))
        if "gep_total_cny" in cfg.efa_base_weights:
            f = f.join(gep.select("region_id", pl.col("total_cny").alias("gep_total_cny")), on="region_id", how="left")
        ctx.tables["transfer_efa_allocation"] = efa_allocation(
            f, cfg.efa_total_cny, component_shares=cfg.efa_component_shares, base_weights=cfg.efa_base_weights,
            guidance=cfg.efa_guidance, reward_rate=cfg.efa_reward_rate,
        ).with_columns(pl.lit(year).cast(pl.Int32).alias("year"))
    if "incentive" in cfg.calculators:
        ctx.tables["transfer_incentive_allocation"] = incentive_allocation(cfg, ctx, gep, socio, year)
        if cfg.incentive_weights_verification != "verified":
            ctx.warnings.append(Problem(
                "UNVERIFIED_PARAMETER",
                "the 2023 incentive-policy allocation uses a formula shape and factor weights that are not published "
                f"(《四川省流域横向生态保护补偿激励政策实施方案》 2023, weights [U]): weights {dict(cfg.incentive_weights)}",
                column="transfer.incentive_weights",
            ))
    ctx.warnings.append(Problem(
        "UNVERIFIED_PARAMETER",
        "transfer calculators use design defaults not verified against a primary source (λ shares, factor weights, "
        "reward rate, opportunity-cost reference); see docs/compensation.md",
        column="transfer",
    ))


def incentive_factors(
    gep: pl.DataFrame,
    socio: pl.DataFrame | None,
    weights: dict[str, float],
    counties: pl.DataFrame | None = None,
    level: str = "county",
    river_counties: set[str] | None = None,
    regions: list[str] | None = None,
) -> pl.DataFrame:
    """County factor table for the incentive allocation, optionally summed to prefectures.

    A factor ``gep_<col>`` is column <col> of the GEP table (CNY); any other factor is a socio column.
    ``counties`` (registry: region_id, parent_id) maps counties to prefectures when level = prefecture;
    the output then has n_counties and counties (the summed county ids). Missing factors raise InputError.
    """
    problems: list[Problem] = []
    g_cols = {f: f[4:] for f in weights if f.startswith("gep_") and f[4:] in gep.columns}
    s_cols = [f for f in weights if f not in g_cols and socio is not None and f in socio.columns]
    for f in weights:
        if f not in g_cols and f not in s_cols:
            problems.append(Problem(
                "MISSING_COLUMN", f"factor '{f}' of [transfer] incentive_weights is neither gep_<column> of the GEP "
                "results nor a column of the socio table", column="transfer.incentive_weights", value=f,
                expected="gep_" + "/gep_".join(c for c in gep.columns if c.endswith("_cny")) + " or a socio column",
            ))
    if problems:
        raise InputError(problems)
    df = gep.select(pl.col("region_id").cast(pl.Utf8), *[pl.col(c).cast(pl.Float64).alias(f) for f, c in g_cols.items()])
    if s_cols:
        assert socio is not None
        df = df.join(socio.select(pl.col("region_id").cast(pl.Utf8), *[pl.col(f).cast(pl.Float64) for f in s_cols]),
                     on="region_id", how="left")
    if river_counties is not None:
        df = df.filter(pl.col("region_id").is_in(sorted(river_counties)))
    factors = list(weights)
    nulls = df.filter(pl.any_horizontal(pl.col(f).is_null() for f in factors))
    for row in nulls.iter_rows(named=True):
        for f in factors:
            if row[f] is None:
                problems.append(Problem("MISSING_VALUE", f"county {row['region_id']} has no value for factor '{f}'",
                                        column=f, value=row["region_id"], expected="a number ≥ 0 for every eligible county"))
    if problems:
        raise InputError(problems)
    if level == "prefecture":
        if counties is None:
            raise InputError([Problem("BAD_CONFIG", "incentive_level = prefecture needs a region registry ([run] regions)",
                                      column="transfer.incentive_level", expected="[run] regions = \"sichuan\" or level county")])
        df = (
            df.join(counties.select("region_id", "parent_id"), on="region_id", how="left")
            .with_columns(pl.coalesce("parent_id", "region_id").alias("parent_id"))
            .group_by("parent_id")
            .agg(pl.len().cast(pl.Int64).alias("n_counties"), pl.col("region_id").sort().str.join(" ").alias("counties"),
                 *[pl.col(f).sum() for f in factors])
            .rename({"parent_id": "region_id"})
        )
    else:
        df = df.with_columns(pl.lit(1, dtype=pl.Int64).alias("n_counties"), pl.col("region_id").alias("counties"))
    if regions:
        df = df.filter(pl.col("region_id").is_in(regions))
    return df.sort("region_id")


def incentive_allocation(cfg: Config, ctx: RunContext, gep: pl.DataFrame, socio: pl.DataFrame | None, year: int) -> pl.DataFrame:
    """transfer_incentive_allocation: the 2023 incentive-policy factor allocation (《四川省流域横向生态保护补偿激励政策实施方案》 2023) as ledger lines."""
    river_counties: set[str] | None = None
    if cfg.incentive_river:
        if cfg.edges:
            edges = read_edges(ctx.read_input(cfg.edges, "transfer_edges"), cfg.edges)
            if "river" in edges.columns:
                edges = edges.filter(pl.col("river") == cfg.incentive_river)
        elif ctx.registry is not None:
            edges = ctx.registry.river_edges(river=cfg.incentive_river)
        else:
            raise InputError([Problem("BAD_CONFIG", "incentive_river needs a river graph: [run] regions or [transfer] edges",
                                      column="transfer.incentive_river", expected="a region registry or an edges table")])
        river_counties = set(edges["upstream_id"].to_list()) | set(edges["downstream_id"].to_list())
        if not river_counties:
            raise InputError([Problem("INVALID_VALUE", f"the river graph has no river '{cfg.incentive_river}'",
                                      column="transfer.incentive_river", value=cfg.incentive_river,
                                      expected="a river name of `gep regions rivers`, e.g. 沱江干流")])
    counties = ctx.registry.counties if ctx.registry is not None else None
    f = incentive_factors(gep, socio, cfg.incentive_weights, counties, cfg.incentive_level, river_counties,
                          cfg.incentive_regions)
    out = factor_allocation(f, cfg.incentive_total_cny, cfg.incentive_weights, payer=cfg.incentive_payer,
                            verification=cfg.incentive_weights_verification, table="transfer.incentive factors")
    extra = f.select("region_id", "n_counties", "counties")
    return (
        out.join(extra, on="region_id", how="left")
        .with_columns(pl.lit(year).cast(pl.Int32).alias("year"), pl.lit(cfg.incentive_level).alias("level"),
                      pl.lit(cfg.incentive_weights_source).alias("weights_source"))
        .select("year", "level", "payer", "region_id", "n_counties", "counties",
                *[c for c in out.columns if c not in ("region_id", "payer")], "weights_source")
        .sort("region_id")
    )
