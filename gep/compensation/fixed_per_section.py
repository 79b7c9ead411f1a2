"""M3 fixed amounts per section (Chongqing / Shandong agreements).

Per section and period, a fixed amount by compliance (all indicators ≤ standard)
and year-on-year change, plus amounts per percentage point of per-indicator change
with a counterparty (docs/compensation.md §M3; docs/formulas.md K3).
"""

from __future__ import annotations

from decimal import Decimal

from gep.compensation.agreement import Agreement, FixedParams
from gep.compensation.ledger import Leg
from gep.compensation.money import CONTEXT, fmt
from gep.compensation.period_values import (
    PeriodValues,
    assessed_concentration,
    assessment_row,
    role_shares,
    unverified_suffix,
)
from gep.compensation.periods import months_of_period, previous_year

C = CONTEXT

def settle_fixed_per_section(a: Agreement, p: FixedParams, d: PeriodValues, legs: list[Leg], rows: list[dict[str, object]]) -> None:
    """Append M3 legs (fixed amounts by compliance and year-on-year change, per-pp amounts) and assessment rows."""
    std = {i.name: i.standard_mg_l for i in a.indicators}
    for period, months in d.periods.items():
        prev = previous_year(period)
        prev_months = months_of_period(prev) if a.period != "month" else [prev]
        prev_months = [f"{int(m[:4]):04d}{m[4:]}" for m in prev_months if f"{int(m[:4]) + 1:04d}{m[4:]}" in months]
        for s in a.sections:
            ok = True
            failing: list[str] = []
            changes: list[tuple[str, Decimal]] = []
            for ind in a.indicators:
                ref = std[ind.name]
                assert ref is not None
                v, ceff, _ = assessed_concentration(d, a, s, ind.name, period, months, ref)
                vp, cprev, _ = assessed_concentration(d, a, s, ind.name, prev, prev_months, ref)
                if v is None or ceff is None or vp is None or cprev is None:
                    ok = False
                    continue
                if ceff > ref:
                    failing.append(f"{ind.name} {fmt(ceff, 6)} > {fmt(ref)}")
                change_pct = C.multiply(C.divide(C.subtract(ceff, cprev), cprev), Decimal(100)) if cprev != 0 else Decimal(0)
                changes.append((ind.name, change_pct))
                rows.append(assessment_row(a, period, s.id, ind.name, v, ceff, ref,
                                  ("exceeds" if ceff > ref else "meets") + f"; yoy {fmt(change_pct, 4)}% (prev {fmt(cprev, 6)})"))
            if not ok or (s.id, period) in d.skipped or (s.id, prev) in d.skipped:
                continue
            mean_change = C.divide(sum((c for _, c in changes), Decimal(0)), Decimal(len(changes)))
            ctext = ", ".join(f"{n} {fmt(c, 4)}%" for n, c in changes)
            if failing:
                if p.amount_not_met_cny:
                    legs.append(Leg(a.id, period, s.id, "M3_not_met", p.amount_not_met_cny, role_shares(s, "upstream"),
                                    role_shares(s, "downstream"),
                                    f"target not met ({'; '.join(failing)}) → upstream pays {fmt(p.amount_not_met_cny)} CNY{unverified_suffix(a, 'fixed_per_section.amount_not_met', 'indicators', 'sections')}"))
            elif mean_change < 0 and p.amount_met_improved_cny:
                legs.append(Leg(a.id, period, s.id, "M3_met_improved", p.amount_met_improved_cny, role_shares(s, "downstream"),
                                role_shares(s, "upstream"),
                                f"target met, improved vs {prev} (mean change {fmt(mean_change, 4)}%: {ctext}) → downstream "
                                f"pays {fmt(p.amount_met_improved_cny)} CNY{unverified_suffix(a, 'fixed_per_section.amount_met_improved', 'indicators', 'sections')}"))
            elif mean_change > 0 and p.amount_met_declined_cny:
                legs.append(Leg(a.id, period, s.id, "M3_met_declined", p.amount_met_declined_cny, role_shares(s, "upstream"),
                                role_shares(s, "downstream"),
                                f"target met, declined vs {prev} (mean change {fmt(mean_change, 4)}%: {ctext}) → upstream "
                                f"pays {fmt(p.amount_met_declined_cny)} CNY{unverified_suffix(a, 'fixed_per_section.amount_met_declined', 'indicators', 'sections')}"))
            if p.pp_counterparty:
                cp = ((p.pp_counterparty, Decimal(1)),)
                for name, c in changes:
                    if c < 0 and p.per_pp_improvement_cny:
                        amt = C.multiply(-c, p.per_pp_improvement_cny)
                        legs.append(Leg(a.id, period, s.id, "M3_pp_improvement", amt, cp, role_shares(s, "upstream", name),
                                        f"{name} improved {fmt(-c, 4)} pp vs {prev} × {fmt(p.per_pp_improvement_cny)} CNY/pp"
                                        f"{unverified_suffix(a, 'fixed_per_section.per_pp_improvement', 'sections')}"))
                    elif c > 0 and p.per_pp_deterioration_cny:
                        amt = C.multiply(c, p.per_pp_deterioration_cny)
                        legs.append(Leg(a.id, period, s.id, "M3_pp_deterioration", amt, role_shares(s, "upstream", name), cp,
                                        f"{name} deteriorated {fmt(c, 4)} pp vs {prev} × {fmt(p.per_pp_deterioration_cny)} CNY/pp"
                                        f"{unverified_suffix(a, 'fixed_per_section.per_pp_deterioration', 'sections')}"))
