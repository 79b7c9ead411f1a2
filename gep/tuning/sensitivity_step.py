"""The ``[sensitivity]`` step: tornado (one-at-a-time elasticities) and Sobol indices of chosen outputs.

Adds ``sensitivity`` (money outputs, ``*_cny`` columns) and ``sensitivity_carbon`` (carbon stock,
``*_c_t``): one ``oat`` row per coefficient with a range (output at low/high, swing, elasticity,
rank by swing) and, with ``sobol = true``, one ``sobol`` row per coefficient (s1, st, rank by st).
Methods: Saltelli et al. 2010 (S1), Jansen 1999 (ST); see gep.tuning.sensitivity.
"""

from __future__ import annotations

import polars as pl
from pydantic import Field

from gep.context import RunContext
from gep.errors import InputError, Problem
from gep.inputkinds import InputKind
from gep.tuning.common import (
    TABLE_SUFFIX,
    UncertaintyInputs,
    build_models,
    coefficient_spec,
    region_children,
    warn_if_certain,
)
from gep.tuning.compensation import is_compensation_output
from gep.tuning.compensation_step import compensation_sensitivity
from gep.tuning.sensitivity import OutputSelector, one_at_a_time, output_form, sobol

COLUMNS = ["output", "analysis", "rank", "coefficient", "coefficient_unit", "verification", "distribution",
           "range_source", "value", "low", "high", "output_point_{u}", "output_at_low_{u}", "output_at_high_{u}",
           "swing_{u}", "elasticity", "s1", "s1_conf", "st", "st_conf", "samples", "seed", "note"]


INPUT_KINDS: tuple[InputKind, ...] = ()
"""Input kinds this step declares (it reads the tables of other steps and their files)."""


class Config(UncertaintyInputs):
    """``[sensitivity]`` section (docs/tuning.md)."""

    outputs: list[str] = Field(
        default_factory=lambda: ["auto/all/latest/total"],
        description="outputs METHOD/REGION/YEAR/OUTPUT: method equivalent_factor|carbon_stock|auto, region all|"
        "county id|prefecture id, year or latest, service/pool or total")
    oat: bool = Field(True, description="one-at-a-time elasticities over each coefficient's range (tornado)")
    sobol: bool = Field(True, description="Sobol first-order and total indices")
    sobol_samples: int = Field(1024, ge=2, le=1_048_576, description="Sobol base sample N (power of 2); cost N·(p+2)")
    seed: int = Field(20260101, ge=0, description="seed of the Sobol' sequence scrambling (PCG64)")
    compensation_range_pct: float | None = Field(
        None, ge=0, description="± percent range for every numeric parameter of an agreement (compensation outputs)")
    compensation_uncertainty_table: str | None = Field(
        None, description="declared agreement parameter ranges: agreement_id, parameter (path or prefix), low, high "
        "| range_pct")
    monitoring_range_pct: float | None = Field(
        None, ge=0, description="± percent on the monitored concentrations of each section and indicator "
        "(compensation outputs)")

    def selectors(self, default_method: str) -> list[OutputSelector]:
        return [OutputSelector.parse(o, default_method) for o in self.outputs]


def _conform(df: pl.DataFrame, unit: str) -> pl.DataFrame:
    cols = [c.format(u=unit) for c in COLUMNS]
    types = {"rank": pl.Int64, "samples": pl.Int64, "seed": pl.Int64, "note": pl.Utf8, "distribution": pl.Utf8,
             "range_source": pl.Utf8, "verification": pl.Utf8, "coefficient_unit": pl.Utf8}
    return df.select([pl.col(c) if c in df.columns else pl.lit(None, dtype=types.get(c, pl.Float64)).alias(c)
                      for c in cols])


def run_step(cfg: Config, ctx: RunContext) -> None:
    """Add the sensitivity tables to ``ctx.tables`` (see module docstring)."""

    comp = [o for o in cfg.outputs if is_compensation_output(o)]
    if comp:

        comp_rows = _conform(compensation_sensitivity(cfg, ctx, comp), "cny")
        rest = [o for o in cfg.outputs if not is_compensation_output(o)]
        if rest:
            _run_accounts(cfg.model_copy(update={"outputs": rest}), ctx)
        prior = ctx.tables.get("sensitivity")
        ctx.tables["sensitivity"] = comp_rows if prior is None else pl.concat([prior, comp_rows],
                                                                              how="vertical_relaxed")
        return
    _run_accounts(cfg, ctx)


def _run_accounts(cfg: Config, ctx: RunContext) -> None:
    """Sensitivity of GEP and carbon outputs (linear account forms, gep.tuning.sensitivity)."""
    models, sets = build_models(cfg, ctx)
    spec = coefficient_spec(cfg, ctx, sets)
    warn_if_certain(models, spec, ctx, "sensitivity")
    by_method = {m.method: m for m in models}
    children = region_children(ctx)
    problems: list[Problem] = []
    try:
        selectors = cfg.selectors(models[0].method)
    except ValueError:
        raise InputError([Problem("BAD_CONFIG", "an output is not METHOD/REGION/YEAR/OUTPUT", column="outputs",
                                  value=", ".join(cfg.outputs), expected="e.g. equivalent_factor/all/2020/total")])
    for sel in selectors:
        if sel.method not in by_method:
            problems.append(Problem("UNKNOWN_OUTPUT", f"method '{sel.method}' is not analysed in this run",
                                    column="outputs", value=sel.method, expected="one of " + ", ".join(by_method)))
    if problems:
        raise InputError(problems)
    by_table: dict[str, list[pl.DataFrame]] = {}
    ctx.progress("sensitivity: outputs", 0, len(selectors))
    for done, sel in enumerate(selectors, start=1):
        m = by_method[sel.method]
        form = output_form(m, sel, children)
        parts = []
        if cfg.oat:
            parts.append(_conform(one_at_a_time(m, form, spec), m.unit))
        if cfg.sobol:
            s = sobol(m, form, spec, cfg.sobol_samples, cfg.seed)
            if s.height:
                parts.append(_conform(s, m.unit))
        if parts:
            by_table.setdefault("sensitivity" + TABLE_SUFFIX[m.unit], []).extend(parts)
        ctx.progress("sensitivity: outputs", done, len(selectors))
    for name, frames in by_table.items():
        ctx.tables[name] = pl.concat(frames, how="vertical_relaxed")
