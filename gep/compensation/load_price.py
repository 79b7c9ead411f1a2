"""M4 load price (Sichuan 三江, Zhenjiang): excess pollutant load priced per tonne.

Excess load (t) = (mean(C·Q) − C_ref·mean(Q)) · seconds · 1e-6 per indicator; > 0 →
赔偿金 upstream → downstream at the penalty price, < 0 → 改善金 to upstream at the
improvement price; split by (per-indicator) shares. The 2011–2016 Sichuan 扣缴 mode
charges the exceedance multiple (C − Cs)/Cs × base instead (docs/compensation.md §M4;
docs/formulas.md K4).
"""

from __future__ import annotations

from decimal import Decimal

from gep.compensation.agreement import Agreement, LoadPriceParams
from gep.compensation.ledger import Leg
from gep.compensation.money import CONTEXT, fmt
from gep.compensation.period_values import (
    PeriodValues,
    assessed_concentration,
    assessment_row,
    resolve_parties,
    role_shares,
    unverified_suffix,
)
from gep.compensation.periods import seconds_in_months

C = CONTEXT

T_PER_G = Decimal("1e-6")  # mg/L × m3 = g; × 1e-6 = t


def settle_load_price(a: Agreement, p: LoadPriceParams, d: PeriodValues, legs: list[Leg], rows: list[dict[str, object]]) -> None:
    """Append M4 legs (赔偿金 / 改善金 per indicator, or 扣缴 by exceedance multiple) and assessment rows."""
    std = {i.name: i.standard_mg_l for i in a.indicators}
    pen = dict(p.penalty_prices)
    imp = dict(p.improvement_prices)
    base = dict(p.exceedance_base_cny)
    by_multiple = p.mode == "exceedance_multiple"
    for period, months in d.periods.items():
        seconds = Decimal(seconds_in_months(months))
        for s in a.sections:
            pending: list[Leg] = []
            ok = True
            for ind in a.indicators:
                ref = std[ind.name]
                assert ref is not None
                v, ceff, cin = assessed_concentration(d, a, s, ind.name, period, months, ref, need_flow=not by_multiple)
                if v is None or ceff is None:
                    ok = False
                    continue
                if by_multiple:
                    # Sichuan 2011–2016 扣缴 (陈雨艳 et al. 2018): deduction = exceedance multiple (C − Cs)/Cs × base; penalties only
                    multiple = C.divide(C.subtract(ceff, ref), ref)
                    rows.append(assessment_row(a, period, s.id, ind.name, v, ceff, ref, f"exceedance multiple {fmt(multiple, 6)}"))
                    if multiple > 0 and base.get(ind.name):
                        amt = C.multiply(multiple, base[ind.name])
                        pending.append(Leg(a.id, period, s.id, "M4_exceedance", amt, role_shares(s, "upstream", ind.name),
                                           role_shares(s, "downstream", ind.name),
                                           f"{ind.name}: C {fmt(ceff, 6)} vs standard {fmt(ref)} mg/L → exceedance multiple "
                                           f"{fmt(multiple, 6)} × base {fmt(base[ind.name])} CNY = {fmt(amt, 4)} CNY (扣缴)"
                                           f"{unverified_suffix(a, 'load_price.exceedance', 'indicators', 'sections')}"))
                    continue
                if v.flux is None or v.flow_m3s is None:
                    ok = False
                    continue
                cref = cin if cin is not None else ref
                volume = C.multiply(v.flow_m3s, seconds)
                excess_t = C.multiply(C.multiply(C.subtract(v.flux, C.multiply(cref, v.flow_m3s)), seconds), T_PER_G)
                rows.append(assessment_row(a, period, s.id, ind.name, v, ceff, ref, f"excess load {fmt(excess_t, 6)} t"))
                reftext = f"inflow {s.inflow_section} C_in {fmt(cref, 6)}" if cin is not None else f"target {fmt(ref)}"
                head = (f"{ind.name}: mean(C·Q) {fmt(v.flux, 6)} (mg/L·m3/s), mean Q {fmt(v.flow_m3s, 6)} m3/s, {reftext} mg/L, "
                        f"{fmt(seconds)} s (volume {fmt(volume, 1)} m3) → excess {fmt(excess_t, 6)} t")
                if excess_t > 0 and pen.get(ind.name):
                    amt = C.multiply(excess_t, pen[ind.name])
                    pending.append(Leg(a.id, period, s.id, "M4_penalty", amt, role_shares(s, "upstream", ind.name),
                                       role_shares(s, "downstream", ind.name),
                                       f"{head} × {fmt(pen[ind.name])} CNY/t = {fmt(amt, 4)} CNY (赔偿金)"
                                       f"{unverified_suffix(a, 'load_price.penalty', 'indicators', 'sections')}"))
                elif excess_t < 0 and imp.get(ind.name):
                    amt = C.multiply(-excess_t, imp[ind.name])
                    pending.append(Leg(a.id, period, s.id, "M4_improvement", amt, resolve_parties(a, s, p.improvement_payer, ind.name),
                                       role_shares(s, "upstream", ind.name),
                                       f"{head} × {fmt(imp[ind.name])} CNY/t = {fmt(amt, 4)} CNY (改善金)"
                                       f"{unverified_suffix(a, 'load_price.improvement', 'indicators', 'sections')}"))
            if ok and (s.id, period) not in d.skipped:
                legs.extend(pending)
