"""Settle compensation agreements against monitoring data into a balanced ledger.

``settle`` dispatches each agreement to its method's module and books unconditional
transfers; the ledger itself (rounding to the fen, double entry, netting) is in
gep.compensation.ledger. Methods (docs/compensation.md; sources in docs/formulas.md §5):

* M1 ``index_bet`` (Xin'an; gep.compensation.index_bet): P = k0 · Σ_i k_i · C_i / C_i0; the payout tier whose
  interval (p_above, p_at_most] holds P decides payer, payee and amount.
* M2 ``pool`` (Chishui; gep.compensation.pool): contributions F·c_j/Σc into the pool, allocations F·a_j/Σa
  out of it, and per-section deductions D_s = w_s · f_s · base_s charged to the
  section's upstream parties (shares) and paid to its downstream parties.
* M3 ``fixed_per_section`` (Chongqing / Shandong; gep.compensation.fixed_per_section): per section and period, a fixed
  amount by compliance (all indicators ≤ standard) and year-on-year change, plus
  amounts per percentage point of per-indicator change with a counterparty.
* M4 ``load_price`` (Sichuan 三江, Zhenjiang; gep.compensation.load_price): excess load (t) = (mean(C·Q) − C_ref·mean(Q))
  · seconds · 1e-6 per indicator; > 0 → 赔偿金 upstream → downstream at the penalty
  price, < 0 → 改善金 to upstream at the improvement price; split by (per-indicator) shares.

Multi-hop rivers settle pairwise section by section. With ``attribution =
"inflow_change"`` the assessed concentration is C_eff = C_ref + (C_out − C_in), with
C_in the period mean at the section's ``inflow_section`` and C_ref the standard
(M1: the baseline); for M4 the excess load is (mean(C·Q)_out − C_in · mean(Q)_out) · s · 1e-6.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl

from gep.compensation.agreement import (
    METHOD_CODES,
    Agreement,
    FixedParams,
    IndexBetParams,
    LoadPriceParams,
    PoolParams,
)
from gep.compensation.fixed_per_section import settle_fixed_per_section
from gep.compensation.index_bet import settle_index_bet
from gep.compensation.ledger import Leg, legs_to_ledger, net_table
from gep.compensation.load_price import settle_load_price
from gep.compensation.money import fmt
from gep.compensation.monitoring import missing_data_error
from gep.compensation.period_values import (
    ASSESSMENT_SCHEMA,
    PeriodValues,
    unverified_suffix,
)
from gep.compensation.periods import periods_in
from gep.compensation.pool import settle_pool
from gep.errors import Problem


@dataclass
class Settlement:
    """Result of settling agreements: ledger, net per party, assessment details and warnings."""

    ledger: pl.DataFrame
    net: pl.DataFrame
    assessment: pl.DataFrame
    warnings: list[Problem] = field(default_factory=list)


def settle_transfers(a: Agreement, legs: list[Leg]) -> None:
    """Unconditional transfers (中央财政奖励/补助资金): a fixed amount per period, no monitoring data."""
    for period in periods_in(a.start, a.end, a.period):
        for t in a.transfers:
            amount = t.amount_for(period)
            if not amount:
                continue
            how = ("this period's part of the term's total" if t.by_period
                   else f"{period[:4]} amount of the schedule" if len(t.schedule) > 1 else "amount per period")
            note = f"; {t.note}" if t.note else ""
            legs.append(Leg(a.id, period, None, "UNCONDITIONAL_transfer", amount, ((t.payer, Decimal(1)),),
                            ((t.payee, Decimal(1)),),
                            f"unconditional transfer {t.id}: {t.payer} pays {t.payee} {fmt(amount)} CNY ({how}){note}"
                            f"{unverified_suffix(a, 'transfers', data=False)}"))


def settle(agreements: Sequence[Agreement], monitoring: pl.DataFrame, monitoring_file: str = "<monitoring>") -> Settlement:
    """Settle every agreement; raise InputError (MISSING_MONITORING) listing all missing data under policy 'error'.

    Returns the ledger (docs: LEDGER_COLUMNS, amounts rounded to the fen by
    gep.compensation.ledger), net per party (exactly zero per agreement), the
    assessment table (period means vs standards) and warnings.
    """
    legs: list[Leg] = []
    rows: list[dict[str, object]] = []
    missing: list[tuple[str, str, str, str]] = []
    warnings: list[Problem] = []
    for a in agreements:
        d = PeriodValues(a, monitoring, monitoring_file)
        if isinstance(a.params, IndexBetParams):
            settle_index_bet(a, a.params, d, legs, rows)
        elif isinstance(a.params, PoolParams):
            settle_pool(a, a.params, d, legs, rows)
        elif isinstance(a.params, FixedParams):
            settle_fixed_per_section(a, a.params, d, legs, rows)
        elif isinstance(a.params, LoadPriceParams):
            settle_load_price(a, a.params, d, legs, rows)
        settle_transfers(a, legs)
        missing.extend(d.missing)
        warnings.extend(d.warnings)
    if missing:
        seen: list[tuple[str, str, str, str]] = []
        for m in missing:
            if m not in seen:
                seen.append(m)
        raise missing_data_error(seen, monitoring_file)
    ledger = legs_to_ledger(legs, {a.id: a.netting for a in agreements})
    net = net_table(ledger, {a.id: a.party_ids for a in agreements})
    assessment = pl.DataFrame(rows, schema=ASSESSMENT_SCHEMA, orient="row") if rows else pl.DataFrame(schema=ASSESSMENT_SCHEMA)
    assessment = assessment.unique(maintain_order=True)
    return Settlement(ledger, net, assessment, warnings)


def method_code(a: Agreement) -> str:
    """M1..M4 code of an agreement's method."""
    return METHOD_CODES[a.method]
