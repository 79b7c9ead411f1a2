"""Compensation outputs of the ``[sensitivity]`` step: tornado rows (CNY) from re-settling the run's agreements.

Reads the agreements and monitoring of the run's ``[compensation]`` section (as gep.compensation.step
does) and calls gep.tuning.compensation.compensation_tornado for each requested output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from gep.compensation.agreement import load_agreements
from gep.compensation.step import read_all_monitoring
from gep.context import RunContext
from gep.errors import InputError, Problem
from gep.tuning.compensation import (
    CompensationSelector,
    compensation_tornado,
    load_compensation_ranges,
)


def compensation_sensitivity(cfg: Any, ctx: RunContext, outputs: list[str]) -> pl.DataFrame:
    """Tornado rows of every compensation output (docs/tuning.md §Compensation outputs)."""
    comp = ctx.config.steps.get("compensation")
    if comp is None:
        raise InputError([Problem("BAD_CONFIG", "compensation outputs need a [compensation] section in the run",
                                  column="sensitivity.outputs", value=", ".join(outputs),
                                  expected="a run with [compensation] agreements and monitoring")])
    selectors = [CompensationSelector.parse(o) for o in outputs]
    paths: list[str | Path] = [str(ctx.read_input(p, "compensation_agreement")) for p in comp.agreements]
    agreements = load_agreements(paths)
    by_id = {a.id: a for a in agreements}
    unknown = [s.agreement_id for s in selectors if s.agreement_id not in by_id]
    if unknown:
        raise InputError([Problem("UNKNOWN_OUTPUT", f"agreement '{u}' is not settled in this run",
                                  column="sensitivity.outputs", value=u, expected="one of " + ", ".join(sorted(by_id)))
                          for u in unknown])
    if (cfg.compensation_range_pct is None and cfg.compensation_uncertainty_table is None
            and not cfg.monitoring_range_pct):
        ctx.warnings.append(Problem(
            "NO_UNCERTAINTY_DECLARED", "[sensitivity]: compensation outputs were asked for but no agreement parameter "
            "has a range; set compensation_range_pct, compensation_uncertainty_table or monitoring_range_pct",
            column="sensitivity.compensation_range_pct"))
    monitoring = [(p, str(ctx.read_input(p, "compensation_monitoring"))) for p in comp.monitoring]
    mon = read_all_monitoring(monitoring)
    label = ", ".join(lbl for lbl, _ in monitoring)
    declared = None
    if cfg.compensation_uncertainty_table:
        declared = load_compensation_ranges(
            str(ctx.read_input(cfg.compensation_uncertainty_table, "uncertainty")),
            cfg.compensation_uncertainty_table, agreements)
    frames = [compensation_tornado(by_id[s.agreement_id], mon, s, cfg.compensation_range_pct, declared,
                                   cfg.monitoring_range_pct, label) for s in selectors]
    return pl.concat(frames, how="vertical_relaxed")
