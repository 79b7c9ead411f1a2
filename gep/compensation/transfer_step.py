"""``[transfer]`` step: transfer calculators on GEP results (docs/compensation.md §Transfer calculators).

Takes the GEP tables of this run (``[account]``) or of an earlier run directory
(``accounts = "RUN_DIR"``), a socio-economic table, and the region river graph;
writes transfer_spillover, transfer_opportunity_cost, transfer_priority and
transfer_efa_allocation. Default λ, reward rate and factor weights are design
values flagged unverified (reference compensation.md §4.6, §5.5).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from gep.compensation.transfer import (
    DEFAULT_LAMBDAS,
    efa_allocation,
    opportunity_cost_floor,
    priority_ranking,
    spillover_ceiling,
)
from gep.errors import InputError, Problem

if TYPE_CHECKING:  # pragma: no cover
    from gep.pipeline import RunContext

Calculator = Literal["spillover", "opportunity_cost", "priority", "efa"]
ALL_CALCULATORS: list[Calculator] = ["spillover", "opportunity_cost", "priority", "efa"]


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
        for name in ("services", "gep"):
            if not (tables / f"{name}.csv").exists():
                problems.append(Problem("FILE_NOT_FOUND", f"the accounts run directory has no tables/{name}.csv",
                                        file=str(run_dir), expected="a directory written by `gep account` or `gep run`"))
        if problems:
            raise InputError(problems)
        services = _read_table(ctx.read_input(str(tables / "services.csv"), "accounts_services"))
        gep = _read_table(ctx.read_input(str(tables / "gep.csv"), "accounts_gep"))
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
    socio = _read_table(ctx.read_input(cfg.socio, "transfer_socio")) if cfg.socio else None
    years = set(gep["year"].cast(pl.Int32).to_list())
    if socio is not None:
        socio = socio.with_columns(pl.col("year").cast(pl.Int32))
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
            edges = _read_table(ctx.read_input(cfg.edges, "transfer_edges"))
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
    ctx.warnings.append(Problem(
        "UNVERIFIED_PARAMETER",
        "transfer calculators use design defaults not verified against a primary source (λ shares, factor weights, "
        "reward rate, opportunity-cost reference); see docs/compensation.md",
        column="transfer",
    ))
