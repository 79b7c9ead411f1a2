"""M1 index bet (对赌, Xin'an river): P = k0 · Σ_i k_i · C_i / C_i0.

The payout tier whose interval (p_above, p_at_most] holds P decides payer, payee
and amount (docs/compensation.md §M1; source in docs/formulas.md K1).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from gep.compensation.agreement import Agreement, IndexBetParams
from gep.compensation.ledger import Leg
from gep.compensation.money import CONTEXT, fmt
from gep.compensation.period_values import (
    PeriodValues,
    assessed_concentration,
    assessment_row,
    resolve_parties,
    unverified_suffix,
)
from gep.errors import Problem

C = CONTEXT

def settle_index_bet(a: Agreement, p: IndexBetParams, d: PeriodValues, legs: list[Leg], rows: list[dict[str, object]]) -> None:
    """Append M1 legs (one per period whose P falls in a paying tier) and assessment rows (C_i/C_i0 ratios)."""
    s = a.section(p.section)
    base = dict(p.baselines_mg_l)
    for period, months in d.periods.items():
        terms: list[str] = []
        total = Decimal(0)
        ok = True
        for ind, k in p.weights:
            v, ceff, _ = assessed_concentration(d, a, s, ind, period, months, base[ind])
            if v is None or ceff is None:
                ok = False
                continue
            ratio = C.divide(ceff, base[ind])
            total = C.add(total, C.multiply(k, ratio))
            terms.append(f"{fmt(k)}×{fmt(ceff, 6)}/{fmt(base[ind])}")
            rows.append(assessment_row(a, period, s.id, ind, v, ceff, base[ind], "ratio " + fmt(ratio, 6)))
        if not ok or (s.id, period) in d.skipped:
            continue
        pval = C.multiply(p.k0, total)
        ptext = ""
        if p.p_decimals is not None:  # the agreement's own rounding of P (e.g. two decimals, half up)
            exact = pval
            pval = pval.quantize(Decimal(1).scaleb(-p.p_decimals),
                                 rounding=ROUND_HALF_UP if p.p_rounding == "half_up" else ROUND_DOWN, context=C)
            ptext = f" → rounded to {p.p_decimals} decimals ({p.p_rounding}) P = {pval} (exact {fmt(exact, 6)})"
        tier = next((t for t in p.tiers if (t.p_above is None or pval > t.p_above) and (t.p_at_most is None or pval <= t.p_at_most)), None)
        text = f"P = k0 × Σ k_i·C_i/C_i0 = {fmt(p.k0)} × ({' + '.join(terms)}) = {fmt(C.multiply(p.k0, total), 6)}{ptext}"
        amount = tier.amount_for(period) if tier is not None else Decimal(0)
        if tier is None or amount == 0:
            d.warnings.append(Problem("NO_TIER", f"agreement '{a.id}' {period}: {text} falls in no payout tier; nothing paid",
                                      file=a.file))
            continue
        lo = "−∞" if tier.p_above is None else fmt(tier.p_above)
        hi = "+∞)" if tier.p_at_most is None else fmt(tier.p_at_most) + "]"
        sched = f" ({period[:4]} amount of the schedule)" if tier.schedule else ""
        legs.append(Leg(a.id, period, s.id, "M1_index_bet", amount, resolve_parties(a, s, tier.payer), resolve_parties(a, s, tier.payee),
                        f"{text}; tier ({lo}, {hi} → {tier.payer} pays {tier.payee} {fmt(amount)} CNY{sched}"
                        f"{unverified_suffix(a, 'index_bet', 'indicators', 'sections')}"))
