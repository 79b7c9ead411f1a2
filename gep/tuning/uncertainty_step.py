"""The ``[uncertainty]`` step: Monte Carlo intervals of the accounts under coefficient uncertainty.

Adds ``uncertainty`` (money accounts, CNY: region_id, year, method, service, point_cny, mean_cny,
sd_cny, p5_cny, p50_cny, p95_cny, draws, seed), ``uncertainty_carbon`` (carbon stock, t C, per pool,
``*_c_t`` columns), ``uncertainty_carbon_change`` (stock change between consecutive years, with
``year_from``), ``uncertainty_carbon_flux`` (gain–loss flux, t C/yr, and the sink's value, CNY, per group:
``*_c_t`` and ``*_cny`` columns) and ``uncertainty_coefficients`` (the range used for every coefficient).
Region ``all`` = sum of every region of the year; service ``total`` = sum of the services.
Method: Monte Carlo propagation, JCGM 101:2008 (GUM Supplement 1) §7, with seeded PCG64 draws.
"""

from __future__ import annotations

import polars as pl
from pydantic import Field

from gep.context import RunContext
from gep.inputkinds import InputKind
from gep.tuning.common import (
    TABLE_SUFFIX,
    UncertaintyInputs,
    build_models,
    carbon_flux_models_of_run,
    coefficient_spec,
    used_spec,
    wants_carbon_flux,
    warn_if_certain,
)
from gep.tuning.montecarlo import carbon_flux_table, monte_carlo

INPUT_KINDS: tuple[InputKind, ...] = ()
"""Input kinds this step declares (it reads the tables of other steps and their files)."""


class Config(UncertaintyInputs):
    """``[uncertainty]`` section (docs/tuning.md)."""

    draws: int = Field(1000, ge=2, le=10_000_000, description="number of Monte Carlo draws")
    seed: int = Field(20260101, ge=0, description="seed of the PCG64 random stream (same seed → same table)")
    chunk_draws: int = Field(1024, ge=1, description="draws generated per chunk (does not change the results)")
    memory_mb: float = Field(256.0, gt=0, description="approximate memory for the output blocks (MB); a different value may change the last "
                           "bit of a number (the block of rows in one matrix product), never more")
    all_regions: bool = Field(True, description="add region 'all' rows (sum of every region per year)")


def run_step(cfg: Config, ctx: RunContext) -> None:
    """Add the uncertainty tables to ``ctx.tables`` (see module docstring)."""
    models, sets = build_models(cfg, ctx) if set(cfg.methods) - {"carbon_flux"} else ([], {})
    flux_models, flux_sets = carbon_flux_models_of_run(cfg, ctx) if wants_carbon_flux(cfg, ctx) else ([], {})
    spec = coefficient_spec(cfg, ctx, {**sets, **flux_sets})
    warn_if_certain(models + flux_models[1:], spec, ctx, "uncertainty")
    by_table: dict[str, list[pl.DataFrame]] = {}
    ctx.progress("uncertainty: Monte Carlo models", 0, len(models))
    for i, m in enumerate(models, start=1):
        task = f"uncertainty: {m.method} ({cfg.draws:,} draws), region rows"
        t = monte_carlo(m, spec, cfg.draws, cfg.seed, chunk_draws=cfg.chunk_draws, memory_mb=cfg.memory_mb,
                        all_regions=cfg.all_regions,
                        progress=lambda done, total, task=task: ctx.progress(task, done, total))
        name = "uncertainty" + TABLE_SUFFIX[m.unit] + ("_change" if "year_from" in m.rows.columns else "")
        by_table.setdefault(name, []).append(t)
        ctx.progress("uncertainty: Monte Carlo models", i, len(models))
    for name, frames in by_table.items():
        ctx.tables[name] = pl.concat(frames, how="vertical")
    if flux_models:
        ctx.tables["uncertainty_carbon_flux"] = carbon_flux_table(
            flux_models[0], flux_models[1], spec, cfg.draws, cfg.seed, chunk_draws=cfg.chunk_draws,
            memory_mb=cfg.memory_mb, all_regions=cfg.all_regions)
    ctx.tables["uncertainty_coefficients"] = used_spec(models + flux_models[1:], spec)
