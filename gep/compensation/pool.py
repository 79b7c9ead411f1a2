"""M2 pooled fund (资金池, Chishui river).

Contributions F·c_j/Σc into the pool, allocations F·a_j/Σa out of it, and per-section
deductions D_s = w_s · f_s · base_s charged to the section's upstream parties (shares)
and paid to its downstream parties (docs/compensation.md §M2; docs/formulas.md K2).
"""

from __future__ import annotations

from decimal import Decimal

from gep.compensation.agreement import Agreement, PoolParams
from gep.compensation.ledger import Leg
from gep.compensation.money import CONTEXT, fmt
from gep.compensation.period_values import (
    PeriodValues,
    assessed_concentration,
    assessment_row,
    role_shares,
    unverified_suffix,
)

C = CONTEXT

def settle_pool(a: Agreement, p: PoolParams, d: PeriodValues, legs: list[Leg], rows: list[dict[str, object]]) -> None:
    """Append M2 legs (contribution, allocation and section deductions per period) and assessment rows."""
    csum = sum((x for _, x in p.contributions), Decimal(0))
    asum = sum((x for _, x in p.allocations), Decimal(0))
    contrib = tuple((j, C.divide(x, csum)) for j, x in p.contributions)
    alloc = tuple((j, C.divide(x, asum)) for j, x in p.allocations)
    ratios_c = ":".join(fmt(x) for _, x in p.contributions)
    ratios_a = ":".join(fmt(x) for _, x in p.allocations)
    weights = dict(p.section_weights)
    std = {i.name: i.standard_mg_l for i in a.indicators}
    for period, months in d.periods.items():
        fund = p.fund_for(period)
        alloc_amount = {j: C.multiply(fund, w) for j, w in alloc}
        ftext = f"fund {fmt(fund)} CNY" + (" (this period's part of the term's fund)" if p.fund_by_period else
                                            f" ({period[:4]} amount of the schedule)" if p.fund_schedule else "")
        legs.append(Leg(a.id, period, None, "M2_contribution", fund, contrib, ((p.pool_party, Decimal(1)),),
                        f"{ftext} × contribution ratio ({ratios_c}){unverified_suffix(a, 'pool.fund', 'pool.contributions', data=False)}"))
        legs.append(Leg(a.id, period, None, "M2_allocation", fund, ((p.pool_party, Decimal(1)),), alloc,
                        f"{ftext} × allocation ratio ({ratios_a}){unverified_suffix(a, 'pool.fund', 'pool.allocations', data=False)}"))
        for s in a.sections:
            failing: list[str] = []
            ok = True
            month_fail: set[str] = set()
            for ind in a.indicators:
                ref = std[ind.name]
                assert ref is not None
                v, ceff, _ = assessed_concentration(d, a, s, ind.name, period, months, ref)
                if v is None or ceff is None:
                    ok = False
                    continue
                status = "exceeds" if ceff > ref else "meets"
                if ceff > ref:
                    failing.append(f"{ind.name} {fmt(ceff, 6)} > {fmt(ref)}")
                rows.append(assessment_row(a, period, s.id, ind.name, v, ceff, ref, status))
                if p.compliance == "share_of_months":
                    for m in months:
                        vm = d.monthly.get((s.id, ind.name, m))
                        if vm is not None and vm > ref:
                            month_fail.add(m)
            if not ok or (s.id, period) in d.skipped:
                continue
            if p.compliance == "binary":
                f = Decimal(1) if failing else Decimal(0)
                ftext = "non-compliant (annual mean)" if failing else "compliant"
            elif p.compliance == "share_of_indicators":
                f = C.divide(Decimal(len(failing)), Decimal(len(a.indicators)))
                ftext = f"{len(failing)}/{len(a.indicators)} indicators exceed"
            else:
                f = C.divide(Decimal(len(month_fail)), Decimal(len(months)))
                ftext = f"{len(month_fail)}/{len(months)} months non-compliant"
            if f == 0:
                continue
            w = weights.get(s.id, Decimal(1))
            if p.deduction_base == "fund":
                base, btext = fund, f"fund {fmt(fund)}"
            elif p.deduction_base == "fixed":
                base, btext = p.deduction_fixed_cny or Decimal(0), f"fixed {fmt(p.deduction_fixed_cny or 0)}"
            else:
                base = sum((C.multiply(sh.share, alloc_amount.get(sh.party, Decimal(0))) for sh in s.upstream), Decimal(0))
                btext = "allocation of " + " + ".join(
                    f"{fmt(sh.share)}×{sh.party} {fmt(alloc_amount.get(sh.party, Decimal(0)), 2)}" for sh in s.upstream
                )
            amount = C.multiply(C.multiply(w, f), base)
            legs.append(Leg(a.id, period, s.id, "M2_deduction", amount, role_shares(s, "upstream"), role_shares(s, "downstream"),
                            f"{ftext}: {'; '.join(failing) or 'see months'}; D = weight {fmt(w)} × f {fmt(f, 6)} × base "
                            f"({btext}) = {fmt(amount, 4)} CNY{unverified_suffix(a, exclude=('pool.contributions', 'pool.allocations'))}"))
