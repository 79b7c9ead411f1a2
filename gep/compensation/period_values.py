"""Period values of monitored sections: the inputs every settlement method reads.

``PeriodValues`` aggregates an agreement's monitoring samples per section, indicator
and settlement period (mean concentration, mean C·Q, mean flow) and applies the
agreement's missing-data policy; ``assessed_concentration`` gives the concentration a
rule assesses (with inflow attribution C_eff = C_ref + (C_out − C_in) on multi-hop
rivers, docs/compensation.md); the remaining helpers resolve parties and shares and
name the unverified parameters a rule relied on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from gep.compensation.agreement import Agreement, PoolParams, Section
from gep.compensation.money import CONTEXT
from gep.compensation.monitoring import aggregate_monitoring
from gep.compensation.periods import period_expr, periods_in
from gep.errors import Problem

C = CONTEXT

ASSESSMENT_SCHEMA: dict[str, pl.DataType] = {
    "agreement_id": pl.Utf8(),
    "period": pl.Utf8(),
    "section_id": pl.Utf8(),
    "indicator": pl.Utf8(),
    "concentration_mg_l": pl.Float64(),
    "assessed_mg_l": pl.Float64(),
    "standard_mg_l": pl.Float64(),
    "n_samples": pl.Int64(),
    "status": pl.Utf8(),
}


@dataclass(frozen=True)
class Value:
    """Period aggregate of one section and indicator (exact decimals)."""

    conc_mg_l: Decimal
    n: int
    flux: Decimal | None  # mean C·Q over samples with flow, (mg/L)·(m3/s)
    flow_m3s: Decimal | None
    months: tuple[str, ...]


class PeriodValues:
    """Period values of one agreement, with the missing-data policy applied."""

    def __init__(self, a: Agreement, mon: pl.DataFrame, file: str) -> None:
        self.a = a
        self.file = file
        self.missing: list[tuple[str, str, str, str]] = []
        self.warnings: list[Problem] = []
        self.periods = periods_in(a.start, a.end, a.period)
        agg = aggregate_monitoring(mon, period_expr("month", a.period))
        self.values: dict[tuple[str, str, str], Value] = {}
        for row in agg.iter_rows(named=True):
            n_flow = int(row["n_flow"])
            self.values[(row["section_id"], row["indicator"], row["period"])] = Value(
                conc_mg_l=C.divide(row["conc_sum"], Decimal(row["n_samples"])),
                n=int(row["n_samples"]),
                flux=C.divide(row["flux_sum"], Decimal(n_flow)) if n_flow else None,
                flow_m3s=C.divide(row["flow_sum"], Decimal(n_flow)) if n_flow else None,
                months=tuple(row["months"]),
            )
        self.flow_months = {
            (r["section_id"], r["indicator"], r["period"]): tuple(r["flow_months"]) for r in agg.iter_rows(named=True)
        }
        self.skipped: set[tuple[str, str]] = set()
        self.monthly: dict[tuple[str, str, str], Decimal] = {}
        if isinstance(a.params, PoolParams) and a.params.compliance == "share_of_months":
            magg = aggregate_monitoring(mon, period_expr("month", "month"))
            for r in magg.select("section_id", "indicator", "period", "conc_sum", "n_samples").iter_rows():
                self.monthly[(r[0], r[1], r[2])] = C.divide(r[3], Decimal(r[4]))

    def get(self, section: str, indicator: str, period: str, months: Sequence[str], need_flow: bool = False) -> Value | None:
        """Period value or None (recorded as missing / skipped according to the agreement's policy)."""
        v = self.values.get((section, indicator, period))
        have = set(v.months) if v else set()
        lacking = [m for m in months if m not in have]
        flow_lacking: list[str] = []
        if need_flow:
            fm = set(self.flow_months.get((section, indicator, period), ()))
            flow_lacking = [m for m in months if m not in fm]
        policy = self.a.missing_data
        if not lacking and not flow_lacking:
            return v
        if policy == "mean_of_available" and v is not None and (not need_flow or v.flux is not None):
            self.warnings.append(
                Problem("PARTIAL_MONITORING",
                        f"agreement '{self.a.id}': section {section} {indicator} {period} settled on the mean of the "
                        f"available samples; no sample in {', '.join(lacking + flow_lacking)}",
                        file=self.file, column="concentration_mg_l")
            )
            return v
        if policy == "skip_period":
            self.skipped.add((section, period))
            self.warnings.append(
                Problem("PERIOD_SKIPPED",
                        f"agreement '{self.a.id}': section {section} was not settled for {period} because "
                        f"{indicator} data are missing for {', '.join(lacking + flow_lacking)}",
                        file=self.file, column="concentration_mg_l")
            )
            return None
        if lacking:
            self.missing.append((self.a.id, section, indicator, ", ".join(lacking)))
        if flow_lacking:
            self.missing.append((self.a.id, section, "flow", ", ".join(flow_lacking)))
        return None


def role_shares(section: Section, role: str, indicator: str | None = None) -> tuple[tuple[str, Decimal], ...]:
    return tuple((s.party, s.for_indicator(indicator)) for s in section.role(role) if s.for_indicator(indicator) != 0)


def resolve_parties(a: Agreement, section: Section, who: str, indicator: str | None = None) -> tuple[tuple[str, Decimal], ...]:
    if who in ("upstream", "downstream"):
        return role_shares(section, who, indicator)
    return ((who, Decimal(1)),)


def unverified_suffix(a: Agreement, *keys: str, exclude: tuple[str, ...] = (), data: bool = True) -> str:
    """Basis suffix naming the unverified parameters relevant to a rule (prefix match on ``keys``; all if none).

    Parameters the agreement left out and gep took from a documented default are named with
    that default (``pool.section_weights = default 1 for MTZ``). ``data``: the rule uses
    monitoring data, so the averaging of samples concerns it.
    """
    defaults = dict(a.defaults_used)
    un = [
        x for x in a.unverified()
        if (not keys or any(x.startswith(k) for k in keys) or (data and x == "averaging"))
        and not any(x.startswith(e) for e in exclude)
        and (data or x != "averaging")
    ]
    un = [f"{x} = default {defaults[x]}" if x in defaults else x for x in un]
    return f"; UNVERIFIED parameters: {', '.join(un)}" if un else ""


def assessed_concentration(d: PeriodValues, a: Agreement, s: Section, ind: str, period: str, months: list[str], ref: Decimal,
              need_flow: bool = False) -> tuple[Value | None, Decimal | None, Decimal | None]:
    """(outflow value, assessed concentration C_eff, inflow concentration or None)."""
    v = d.get(s.id, ind, period, months, need_flow)
    if v is None:
        return None, None, None
    if a.attribution == "inflow_change" and s.inflow_section:
        vin = d.get(s.inflow_section, ind, period, months)
        if vin is None:
            return None, None, None
        return v, C.add(ref, C.subtract(v.conc_mg_l, vin.conc_mg_l)), vin.conc_mg_l
    return v, v.conc_mg_l, None


def assessment_row(a: Agreement, period: str, section: str, ind: str, v: Value, ceff: Decimal, ref: Decimal, status: str) -> dict[str, object]:
    return {
        "agreement_id": a.id, "period": period, "section_id": section, "indicator": ind,
        "concentration_mg_l": float(v.conc_mg_l), "assessed_mg_l": float(ceff), "standard_mg_l": float(ref),
        "n_samples": v.n, "status": status,
    }
