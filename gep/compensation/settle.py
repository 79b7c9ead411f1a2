"""Settle compensation agreements against monitoring data into a balanced ledger.

Methods (docs/compensation.md; sources per method in docs/formulas.md §5):

* M1 ``index_bet`` (Xin'an): P = k0 · Σ_i k_i · C_i / C_i0; the payout tier whose
  interval (p_above, p_at_most] holds P decides payer, payee and amount.
* M2 ``pool`` (Chishui): contributions F·c_j/Σc into the pool, allocations F·a_j/Σa
  out of it, and per-section deductions D_s = w_s · f_s · base_s charged to the
  section's upstream parties (shares) and paid to its downstream parties.
* M3 ``fixed_per_section`` (Chongqing / Shandong): per section and period, a fixed
  amount by compliance (all indicators ≤ standard) and year-on-year change, plus
  amounts per percentage point of per-indicator change with a counterparty.
* M4 ``load_price`` (Sichuan 三江, Zhenjiang): excess load (t) = (mean(C·Q) − C_ref·mean(Q))
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
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import polars as pl

from gep.compensation.agreement import (
    METHOD_CODES,
    Agreement,
    FixedParams,
    IndexBetParams,
    LoadPriceParams,
    PoolParams,
    Section,
)
from gep.compensation.money import CONTEXT, Leg, fmt, legs_to_ledger, net_table
from gep.compensation.monitoring import aggregate_monitoring, missing_data_error
from gep.compensation.periods import (
    months_of_period,
    period_expr,
    periods_in,
    previous_year,
    seconds_in_months,
)
from gep.errors import Problem

C = CONTEXT
T_PER_G = Decimal("1e-6")  # mg/L × m3 = g; × 1e-6 = t

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


@dataclass
class Settlement:
    """Result of settling agreements: ledger, net per party, assessment details and warnings."""

    ledger: pl.DataFrame
    net: pl.DataFrame
    assessment: pl.DataFrame
    warnings: list[Problem] = field(default_factory=list)


class _Data:
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


def _shares(section: Section, role: str, indicator: str | None = None) -> tuple[tuple[str, Decimal], ...]:
    return tuple((s.party, s.for_indicator(indicator)) for s in section.role(role) if s.for_indicator(indicator) != 0)


def _resolve(a: Agreement, section: Section, who: str, indicator: str | None = None) -> tuple[tuple[str, Decimal], ...]:
    if who in ("upstream", "downstream"):
        return _shares(section, who, indicator)
    return ((who, Decimal(1)),)


def _flag(a: Agreement, *keys: str, exclude: tuple[str, ...] = (), data: bool = True) -> str:
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


def _assessed(d: _Data, a: Agreement, s: Section, ind: str, period: str, months: list[str], ref: Decimal,
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


def _settle_index_bet(a: Agreement, p: IndexBetParams, d: _Data, legs: list[Leg], rows: list[dict[str, object]]) -> None:
    s = a.section(p.section)
    base = dict(p.baselines_mg_l)
    for period, months in d.periods.items():
        terms: list[str] = []
        total = Decimal(0)
        ok = True
        for ind, k in p.weights:
            v, ceff, _ = _assessed(d, a, s, ind, period, months, base[ind])
            if v is None or ceff is None:
                ok = False
                continue
            ratio = C.divide(ceff, base[ind])
            total = C.add(total, C.multiply(k, ratio))
            terms.append(f"{fmt(k)}×{fmt(ceff, 6)}/{fmt(base[ind])}")
            rows.append(_arow(a, period, s.id, ind, v, ceff, base[ind], "ratio " + fmt(ratio, 6)))
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
        legs.append(Leg(a.id, period, s.id, "M1_index_bet", amount, _resolve(a, s, tier.payer), _resolve(a, s, tier.payee),
                        f"{text}; tier ({lo}, {hi} → {tier.payer} pays {tier.payee} {fmt(amount)} CNY{sched}"
                        f"{_flag(a, 'index_bet', 'indicators', 'sections')}"))


def _settle_pool(a: Agreement, p: PoolParams, d: _Data, legs: list[Leg], rows: list[dict[str, object]]) -> None:
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
                        f"{ftext} × contribution ratio ({ratios_c}){_flag(a, 'pool.fund', 'pool.contributions', data=False)}"))
        legs.append(Leg(a.id, period, None, "M2_allocation", fund, ((p.pool_party, Decimal(1)),), alloc,
                        f"{ftext} × allocation ratio ({ratios_a}){_flag(a, 'pool.fund', 'pool.allocations', data=False)}"))
        for s in a.sections:
            failing: list[str] = []
            ok = True
            month_fail: set[str] = set()
            for ind in a.indicators:
                ref = std[ind.name]
                assert ref is not None
                v, ceff, _ = _assessed(d, a, s, ind.name, period, months, ref)
                if v is None or ceff is None:
                    ok = False
                    continue
                status = "exceeds" if ceff > ref else "meets"
                if ceff > ref:
                    failing.append(f"{ind.name} {fmt(ceff, 6)} > {fmt(ref)}")
                rows.append(_arow(a, period, s.id, ind.name, v, ceff, ref, status))
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
            legs.append(Leg(a.id, period, s.id, "M2_deduction", amount, _shares(s, "upstream"), _shares(s, "downstream"),
                            f"{ftext}: {'; '.join(failing) or 'see months'}; D = weight {fmt(w)} × f {fmt(f, 6)} × base "
                            f"({btext}) = {fmt(amount, 4)} CNY{_flag(a, exclude=('pool.contributions', 'pool.allocations'))}"))


def _settle_fixed(a: Agreement, p: FixedParams, d: _Data, legs: list[Leg], rows: list[dict[str, object]]) -> None:
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
                v, ceff, _ = _assessed(d, a, s, ind.name, period, months, ref)
                vp, cprev, _ = _assessed(d, a, s, ind.name, prev, prev_months, ref)
                if v is None or ceff is None or vp is None or cprev is None:
                    ok = False
                    continue
                if ceff > ref:
                    failing.append(f"{ind.name} {fmt(ceff, 6)} > {fmt(ref)}")
                change_pct = C.multiply(C.divide(C.subtract(ceff, cprev), cprev), Decimal(100)) if cprev != 0 else Decimal(0)
                changes.append((ind.name, change_pct))
                rows.append(_arow(a, period, s.id, ind.name, v, ceff, ref,
                                  ("exceeds" if ceff > ref else "meets") + f"; yoy {fmt(change_pct, 4)}% (prev {fmt(cprev, 6)})"))
            if not ok or (s.id, period) in d.skipped or (s.id, prev) in d.skipped:
                continue
            mean_change = C.divide(sum((c for _, c in changes), Decimal(0)), Decimal(len(changes)))
            ctext = ", ".join(f"{n} {fmt(c, 4)}%" for n, c in changes)
            if failing:
                if p.amount_not_met_cny:
                    legs.append(Leg(a.id, period, s.id, "M3_not_met", p.amount_not_met_cny, _shares(s, "upstream"),
                                    _shares(s, "downstream"),
                                    f"target not met ({'; '.join(failing)}) → upstream pays {fmt(p.amount_not_met_cny)} CNY{_flag(a, 'fixed_per_section.amount_not_met', 'indicators', 'sections')}"))
            elif mean_change < 0 and p.amount_met_improved_cny:
                legs.append(Leg(a.id, period, s.id, "M3_met_improved", p.amount_met_improved_cny, _shares(s, "downstream"),
                                _shares(s, "upstream"),
                                f"target met, improved vs {prev} (mean change {fmt(mean_change, 4)}%: {ctext}) → downstream "
                                f"pays {fmt(p.amount_met_improved_cny)} CNY{_flag(a, 'fixed_per_section.amount_met_improved', 'indicators', 'sections')}"))
            elif mean_change > 0 and p.amount_met_declined_cny:
                legs.append(Leg(a.id, period, s.id, "M3_met_declined", p.amount_met_declined_cny, _shares(s, "upstream"),
                                _shares(s, "downstream"),
                                f"target met, declined vs {prev} (mean change {fmt(mean_change, 4)}%: {ctext}) → upstream "
                                f"pays {fmt(p.amount_met_declined_cny)} CNY{_flag(a, 'fixed_per_section.amount_met_declined', 'indicators', 'sections')}"))
            if p.pp_counterparty:
                cp = ((p.pp_counterparty, Decimal(1)),)
                for name, c in changes:
                    if c < 0 and p.per_pp_improvement_cny:
                        amt = C.multiply(-c, p.per_pp_improvement_cny)
                        legs.append(Leg(a.id, period, s.id, "M3_pp_improvement", amt, cp, _shares(s, "upstream", name),
                                        f"{name} improved {fmt(-c, 4)} pp vs {prev} × {fmt(p.per_pp_improvement_cny)} CNY/pp"
                                        f"{_flag(a, 'fixed_per_section.per_pp_improvement', 'sections')}"))
                    elif c > 0 and p.per_pp_deterioration_cny:
                        amt = C.multiply(c, p.per_pp_deterioration_cny)
                        legs.append(Leg(a.id, period, s.id, "M3_pp_deterioration", amt, _shares(s, "upstream", name), cp,
                                        f"{name} deteriorated {fmt(c, 4)} pp vs {prev} × {fmt(p.per_pp_deterioration_cny)} CNY/pp"
                                        f"{_flag(a, 'fixed_per_section.per_pp_deterioration', 'sections')}"))


def _settle_load(a: Agreement, p: LoadPriceParams, d: _Data, legs: list[Leg], rows: list[dict[str, object]]) -> None:
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
                v, ceff, cin = _assessed(d, a, s, ind.name, period, months, ref, need_flow=not by_multiple)
                if v is None or ceff is None:
                    ok = False
                    continue
                if by_multiple:
                    # Sichuan 2011–2016 扣缴 (陈雨艳 et al. 2018): deduction = exceedance multiple (C − Cs)/Cs × base; penalties only
                    multiple = C.divide(C.subtract(ceff, ref), ref)
                    rows.append(_arow(a, period, s.id, ind.name, v, ceff, ref, f"exceedance multiple {fmt(multiple, 6)}"))
                    if multiple > 0 and base.get(ind.name):
                        amt = C.multiply(multiple, base[ind.name])
                        pending.append(Leg(a.id, period, s.id, "M4_exceedance", amt, _shares(s, "upstream", ind.name),
                                           _shares(s, "downstream", ind.name),
                                           f"{ind.name}: C {fmt(ceff, 6)} vs standard {fmt(ref)} mg/L → exceedance multiple "
                                           f"{fmt(multiple, 6)} × base {fmt(base[ind.name])} CNY = {fmt(amt, 4)} CNY (扣缴)"
                                           f"{_flag(a, 'load_price.exceedance', 'indicators', 'sections')}"))
                    continue
                if v.flux is None or v.flow_m3s is None:
                    ok = False
                    continue
                cref = cin if cin is not None else ref
                volume = C.multiply(v.flow_m3s, seconds)
                excess_t = C.multiply(C.multiply(C.subtract(v.flux, C.multiply(cref, v.flow_m3s)), seconds), T_PER_G)
                rows.append(_arow(a, period, s.id, ind.name, v, ceff, ref, f"excess load {fmt(excess_t, 6)} t"))
                reftext = f"inflow {s.inflow_section} C_in {fmt(cref, 6)}" if cin is not None else f"target {fmt(ref)}"
                head = (f"{ind.name}: mean(C·Q) {fmt(v.flux, 6)} (mg/L·m3/s), mean Q {fmt(v.flow_m3s, 6)} m3/s, {reftext} mg/L, "
                        f"{fmt(seconds)} s (volume {fmt(volume, 1)} m3) → excess {fmt(excess_t, 6)} t")
                if excess_t > 0 and pen.get(ind.name):
                    amt = C.multiply(excess_t, pen[ind.name])
                    pending.append(Leg(a.id, period, s.id, "M4_penalty", amt, _shares(s, "upstream", ind.name),
                                       _shares(s, "downstream", ind.name),
                                       f"{head} × {fmt(pen[ind.name])} CNY/t = {fmt(amt, 4)} CNY (赔偿金)"
                                       f"{_flag(a, 'load_price.penalty', 'indicators', 'sections')}"))
                elif excess_t < 0 and imp.get(ind.name):
                    amt = C.multiply(-excess_t, imp[ind.name])
                    pending.append(Leg(a.id, period, s.id, "M4_improvement", amt, _resolve(a, s, p.improvement_payer, ind.name),
                                       _shares(s, "upstream", ind.name),
                                       f"{head} × {fmt(imp[ind.name])} CNY/t = {fmt(amt, 4)} CNY (改善金)"
                                       f"{_flag(a, 'load_price.improvement', 'indicators', 'sections')}"))
            if ok and (s.id, period) not in d.skipped:
                legs.extend(pending)


def _settle_transfers(a: Agreement, legs: list[Leg]) -> None:
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
                            f"{_flag(a, 'transfers', data=False)}"))


def _arow(a: Agreement, period: str, section: str, ind: str, v: Value, ceff: Decimal, ref: Decimal, status: str) -> dict[str, object]:
    return {
        "agreement_id": a.id, "period": period, "section_id": section, "indicator": ind,
        "concentration_mg_l": float(v.conc_mg_l), "assessed_mg_l": float(ceff), "standard_mg_l": float(ref),
        "n_samples": v.n, "status": status,
    }


def settle(agreements: Sequence[Agreement], monitoring: pl.DataFrame, monitoring_file: str = "<monitoring>") -> Settlement:
    """Settle every agreement; raise InputError (MISSING_MONITORING) listing all missing data under policy 'error'.

    Returns the ledger (docs: LEDGER_COLUMNS, amounts rounded to the fen by
    gep.compensation.money), net per party (exactly zero per agreement), the
    assessment table (period means vs standards) and warnings.
    """
    legs: list[Leg] = []
    rows: list[dict[str, object]] = []
    missing: list[tuple[str, str, str, str]] = []
    warnings: list[Problem] = []
    for a in agreements:
        d = _Data(a, monitoring, monitoring_file)
        if isinstance(a.params, IndexBetParams):
            _settle_index_bet(a, a.params, d, legs, rows)
        elif isinstance(a.params, PoolParams):
            _settle_pool(a, a.params, d, legs, rows)
        elif isinstance(a.params, FixedParams):
            _settle_fixed(a, a.params, d, legs, rows)
        elif isinstance(a.params, LoadPriceParams):
            _settle_load(a, a.params, d, legs, rows)
        _settle_transfers(a, legs)
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
