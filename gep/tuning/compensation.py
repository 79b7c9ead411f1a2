"""One-at-a-time sensitivity (tornado) of a compensation amount to an agreement's numeric parameters.

The output (a party's net, paid or received CNY, a section's or the agreement's transferred CNY,
for one period or all) is recomputed by the real settlement (gep.compensation.settlement.settle) with
one parameter set to its low or its high value, all others at their agreed values; no rule is
re-implemented here. Parameters: unit prices, fixed amounts, amounts per percentage point,
standards C_i0, k0, index weights, baselines, tier amounts and thresholds, fund, contribution and
allocation ratios, section weights, split coefficients (shares; the other parties of the role
are rescaled so the shares still sum to 1) and, optionally, a scale factor on the monitored
concentrations of each section and indicator. Threshold rules (M1 tiers, M2/M3 compliance, M4
sign of the excess load) make the output a step or kinked function: when the set of ledger
rules (period, section, rule, payer, payee) differs between the five evaluated points
(low, midway, value, midway, high) the elasticity is left empty and ``note`` says why.
Arc elasticity ε = ((y_high − y_low)/y_point) / ((x_high − x_low)/x_point), as for the GEP tornado.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from gep.compensation.agreement import (
    Agreement,
    FixedParams,
    IndexBetParams,
    LoadPriceParams,
    PoolParams,
    Section,
    Share,
)
from gep.compensation.money import dec
from gep.compensation.monitoring import CONC_DTYPE
from gep.compensation.settlement import settle
from gep.errors import InputError, Problem
from gep.readers import read_raw

PREFIX = "compensation"
MEASURES = ("net", "paid", "received", "amount")
ALL = "all"


@dataclass(frozen=True)
class CompensationSelector:
    """``compensation/AGREEMENT/PERIOD/WHO/MEASURE``: WHO a party id, ``section:ID`` or ``all``."""

    agreement_id: str
    period: str = ALL
    who: str = ALL
    measure: str = "amount"

    @property
    def label(self) -> str:
        return f"{PREFIX}/{self.agreement_id}/{self.period}/{self.who}/{self.measure}"

    @classmethod
    def parse(cls, text: str) -> CompensationSelector:
        """Parse the output grammar; InputError BAD_CONFIG names what is expected."""
        parts = [p.strip() for p in text.split("/")]
        if parts[0] != PREFIX or len(parts) < 2 or not parts[1] or len(parts) > 5:
            raise InputError([Problem("BAD_CONFIG", "a compensation output is compensation/AGREEMENT/PERIOD/WHO/MEASURE",
                                      column="outputs", value=text,
                                      expected="e.g. compensation/tuojiang-m4-2024/all/510121/net")])
        parts += [""] * (5 - len(parts))
        who = parts[3] or ALL
        is_party = who != ALL and not who.startswith("section:")
        measure = parts[4] or ("net" if is_party else "amount")
        ok = measure in (("net", "paid", "received") if is_party else ("amount",))
        if not ok:
            raise InputError([Problem("BAD_CONFIG", f"measure '{measure}' does not apply to '{who}'", column="outputs",
                                      value=text, expected="net, paid or received for a party; amount for "
                                      "section:ID or all")])
        return cls(parts[1], parts[2] or ALL, who, measure)


def is_compensation_output(text: str) -> bool:
    """True for outputs of the compensation grammar (first part ``compensation``)."""
    return text.strip().split("/")[0].strip() == PREFIX


@dataclass(frozen=True)
class Parameter:
    """One numeric parameter of an agreement: path, agreed value, unit, and how to set it."""

    path: str
    value: Decimal
    unit: str
    setter: Callable[[Agreement, Decimal], Agreement]
    lower: Decimal | None = Decimal(0)  # values are clipped to [lower, upper]
    upper: Decimal | None = None


def _params_replace(field: str, key: str | None = None) -> Callable[[Agreement, Decimal], Agreement]:
    """Setter of a scalar params field (key None) or one entry of a (name, value) tuple field."""

    def set_(a: Agreement, x: Decimal) -> Agreement:
        params: Any = a.params
        if key is None:
            return dataclasses.replace(a, params=dataclasses.replace(params, **{field: x}))
        new = tuple((k, x if k == key else v) for k, v in getattr(params, field))
        return dataclasses.replace(a, params=dataclasses.replace(params, **{field: new}))

    return set_


def _tier_setter(i: int, bound: str, linked: int | None) -> Callable[[Agreement, Decimal], Agreement]:
    def set_(a: Agreement, x: Decimal) -> Agreement:
        p = a.params
        assert isinstance(p, IndexBetParams)
        tiers = list(p.tiers)
        change: dict[str, Any] = {bound: x}
        tiers[i] = dataclasses.replace(tiers[i], **change)
        if linked is not None:  # a boundary shared by two adjacent tiers moves as one threshold
            other: dict[str, Any] = {"p_above" if bound == "p_at_most" else "p_at_most": x}
            tiers[linked] = dataclasses.replace(tiers[linked], **other)
        return dataclasses.replace(a, params=dataclasses.replace(p, tiers=tuple(tiers)))

    return set_


def _standard_setter(name: str) -> Callable[[Agreement, Decimal], Agreement]:
    def set_(a: Agreement, x: Decimal) -> Agreement:
        return dataclasses.replace(a, indicators=tuple(
            dataclasses.replace(i, standard_mg_l=x) if i.name == name else i for i in a.indicators))

    return set_


def rescale_shares(shares: tuple[Share, ...], party: str, indicator: str | None, x: Decimal) -> tuple[Share, ...]:
    """Set ``party``'s share (for ``indicator``, or overall) to x; the others keep their proportions and sum to 1 − x."""
    cur = {s.party: s.for_indicator(indicator) for s in shares}
    rest = Decimal(1) - cur[party]
    others = [s.party for s in shares if s.party != party]
    new: dict[str, Decimal] = {party: x}
    left = Decimal(1) - x
    for j, o in enumerate(others):
        if j == len(others) - 1:
            new[o] = Decimal(1) - x - sum((new[q] for q in others[:-1]), Decimal(0))  # exact sum 1
        else:
            new[o] = cur[o] * left / rest if rest != 0 else left / len(others)
    out: list[Share] = []
    for s in shares:
        if indicator is None:
            out.append(dataclasses.replace(s, share=new[s.party]))
        else:
            by = dict(s.by_indicator)
            by[indicator] = new[s.party]
            out.append(dataclasses.replace(s, by_indicator=tuple(by.items())))
    return tuple(out)


def _share_setter(section: str, role: str, party: str, indicator: str | None) -> Callable[[Agreement, Decimal], Agreement]:
    def set_(a: Agreement, x: Decimal) -> Agreement:
        secs: list[Section] = []
        for s in a.sections:
            if s.id == section:
                new = rescale_shares(s.role(role), party, indicator, x)
                s = dataclasses.replace(s, upstream=new) if role == "upstream" else dataclasses.replace(s, downstream=new)
            secs.append(s)
        return dataclasses.replace(a, sections=tuple(secs))

    return set_


def agreement_parameters(a: Agreement) -> list[Parameter]:
    """Every numeric parameter of an agreement, with a path that follows the agreement TOML (docs/tuning.md)."""
    p = a.params
    out: list[Parameter] = []
    if isinstance(p, IndexBetParams):
        out.append(Parameter("index_bet.k0", p.k0, "1", _params_replace("k0")))
        out += [Parameter(f"index_bet.weights.{k}", v, "1", _params_replace("weights", k)) for k, v in p.weights]
        out += [Parameter(f"index_bet.baselines_mg_l.{k}", v, "mg/L", _params_replace("baselines_mg_l", k),
                          lower=Decimal("1e-9")) for k, v in p.baselines_mg_l]
        for i, t in enumerate(p.tiers):
            out.append(Parameter(f"index_bet.tiers.amount_cny.{i + 1}", t.amount_cny, "CNY",
                                 _tier_setter(i, "amount_cny", None)))
        for i, t in enumerate(p.tiers):
            if t.p_at_most is not None:
                linked = next((j for j, u in enumerate(p.tiers) if j != i and u.p_above == t.p_at_most), None)
                out.append(Parameter(f"index_bet.tiers.p_at_most.{i + 1}", t.p_at_most, "1",
                                     _tier_setter(i, "p_at_most", linked), lower=None))
            if t.p_above is not None and not any(u.p_at_most == t.p_above for u in p.tiers):
                out.append(Parameter(f"index_bet.tiers.p_above.{i + 1}", t.p_above, "1",
                                     _tier_setter(i, "p_above", None), lower=None))
    elif isinstance(p, PoolParams):
        out.append(Parameter("pool.fund_cny", p.fund_cny, "CNY", _params_replace("fund_cny")))
        out += [Parameter(f"pool.contributions.{k}", v, "1", _params_replace("contributions", k))
                for k, v in p.contributions]
        out += [Parameter(f"pool.allocations.{k}", v, "1", _params_replace("allocations", k)) for k, v in p.allocations]
        if p.deduction_fixed_cny is not None:
            out.append(Parameter("pool.deduction_base", p.deduction_fixed_cny, "CNY",
                                 _params_replace("deduction_fixed_cny")))
        out += [Parameter(f"pool.section_weights.{k}", v, "1", _params_replace("section_weights", k))
                for k, v in p.section_weights]
    elif isinstance(p, FixedParams):
        for f, unit in (("amount_met_improved_cny", "CNY"), ("amount_met_declined_cny", "CNY"),
                        ("amount_not_met_cny", "CNY"), ("per_pp_improvement_cny", "CNY/pp"),
                        ("per_pp_deterioration_cny", "CNY/pp")):
            if getattr(p, f):
                out.append(Parameter(f"fixed_per_section.{f}", getattr(p, f), unit, _params_replace(f)))
    elif isinstance(p, LoadPriceParams):
        for toml, f, unit in (("penalty_prices_cny_per_t", "penalty_prices", "CNY/t"),
                              ("improvement_prices_cny_per_t", "improvement_prices", "CNY/t"),
                              ("exceedance_base_cny", "exceedance_base_cny", "CNY")):
            out += [Parameter(f"load_price.{toml}.{k}", v, unit, _params_replace(f, k)) for k, v in getattr(p, f)]
    if not isinstance(p, IndexBetParams):
        out += [Parameter(f"indicators.standard_mg_l.{i.name}", i.standard_mg_l, "mg/L", _standard_setter(i.name),
                          lower=Decimal("1e-9")) for i in a.indicators if i.standard_mg_l is not None]
    for s in a.sections:
        for role in ("upstream", "downstream"):
            shares = s.role(role)
            if len(shares) < 2:
                continue
            per_ind = any(x.by_indicator for x in shares)
            for ind in ([i.name for i in a.indicators] if per_ind else [None]):
                for x in shares:
                    path = f"sections.{s.id}.{role}.share.{x.party}" + (f".{ind}" if ind else "")
                    out.append(Parameter(path, x.for_indicator(ind), "1", _share_setter(s.id, role, x.party, ind),
                                         upper=Decimal(1)))
    return out


def verification_of(a: Agreement, path: str) -> str | None:
    """Verification of the longest provenance entry that is a prefix of ``path`` (target_class covers standards)."""
    best: tuple[int, str] | None = None
    for pv in a.provenance:
        keys = [pv.parameter]
        if pv.parameter == "indicators.target_class":
            keys.append("indicators.standard_mg_l")
        for k in keys:
            if (path == k or path.startswith(k + ".")) and (best is None or len(k) > best[0]):
                best = (len(k), pv.verification)
    return best[1] if best else None


def output_value(ledger: pl.DataFrame, sel: CompensationSelector) -> float:
    """The selected amount (CNY) from a settled ledger (amount_cny, payer, payee, section_id, period)."""
    led = ledger.filter(pl.col("agreement_id") == sel.agreement_id)
    if sel.period != ALL:
        led = led.filter(pl.col("period") == sel.period)
    amt = pl.col("amount_cny").cast(pl.Float64)
    if sel.who == ALL:
        expr = amt.sum()
    elif sel.who.startswith("section:"):
        expr = amt.filter(pl.col("section_id") == sel.who.split(":", 1)[1]).sum()
    else:
        paid = amt.filter(pl.col("payer") == sel.who).sum()
        received = amt.filter(pl.col("payee") == sel.who).sum()
        expr = {"net": received - paid, "paid": paid, "received": received}[sel.measure]
    return float(led.select(expr).item() or 0.0)


def _regime(ledger: pl.DataFrame) -> frozenset[tuple[object, ...]]:
    return frozenset(ledger.select("period", "section_id", "rule", "payer", "payee").iter_rows())


def scale_monitoring(mon: pl.DataFrame, section: str, indicator: str, factor: Decimal) -> pl.DataFrame:
    """Monitoring with the concentrations of one section and indicator multiplied by ``factor`` (mg/L, 6 decimals)."""
    hit = (pl.col("section_id") == section) & (pl.col("indicator") == indicator)
    scaled = (pl.col("concentration_mg_l").cast(pl.Float64) * float(factor)).round(6).cast(CONC_DTYPE)
    return mon.with_columns(pl.when(hit).then(scaled).otherwise(pl.col("concentration_mg_l")).alias("concentration_mg_l"))


def check_selector(a: Agreement, sel: CompensationSelector, ledger: pl.DataFrame) -> None:
    """InputError UNKNOWN_OUTPUT when the period, party or section is not in the agreement."""
    probs: list[Problem] = []
    periods = sorted(set(ledger["period"].to_list()))
    if sel.period != ALL and sel.period not in periods:
        probs.append(Problem("UNKNOWN_OUTPUT", f"period {sel.period} is not settled in agreement '{a.id}'",
                             column="outputs", value=sel.period, expected="all or one of " + ", ".join(periods)))
    if sel.who.startswith("section:"):
        sid = sel.who.split(":", 1)[1]
        if sid not in {s.id for s in a.sections}:
            probs.append(Problem("UNKNOWN_OUTPUT", f"section {sid} is not in agreement '{a.id}'", column="outputs",
                                 value=sid, expected="section:" + " | section:".join(s.id for s in a.sections)))
    elif sel.who != ALL and sel.who not in a.party_ids:
        probs.append(Problem("UNKNOWN_OUTPUT", f"party {sel.who} is not in agreement '{a.id}'", column="outputs",
                             value=sel.who, expected="all, section:ID or one of " + ", ".join(a.party_ids)))
    if probs:
        raise InputError(probs)


def parameter_ranges(a: Agreement, params: list[Parameter], range_pct: float | None,
                     declared: pl.DataFrame | None) -> pl.DataFrame:
    """Ranges: parameter, value, low, high, range_source. Declared (agreement_id, parameter prefix, low/high or
    range_pct; the longest matching prefix wins) > ± range_pct of the value > none (parameter omitted)."""
    rows: list[tuple[str, float, float, float, str]] = []
    decl = declared.filter(pl.col("agreement_id") == a.id) if declared is not None else None
    for p in params:
        v = float(p.value)
        lo = hi = None
        src = ""
        if decl is not None and decl.height:
            m = decl.filter(pl.lit(p.path).str.starts_with(pl.col("parameter"))
                            & ((pl.col("parameter").str.len_chars() == len(p.path))
                               | (pl.lit(p.path).str.slice(pl.col("parameter").str.len_chars(), 1) == ".")))
            if m.height:
                r = m.sort(pl.col("parameter").str.len_chars(), descending=True).row(0, named=True)
                if r["low"] is not None and r["high"] is not None:
                    lo, hi = float(r["low"]), float(r["high"])
                else:
                    lo, hi = v * (1 - r["range_pct"] / 100), v * (1 + r["range_pct"] / 100)
                src = "declared"
        if lo is None and range_pct is not None:
            lo, hi, src = v * (1 - range_pct / 100), v * (1 + range_pct / 100), f"compensation ±{range_pct:g} %"
        if lo is None or hi is None:
            continue
        lo, hi = min(lo, hi), max(lo, hi)
        if p.lower is not None:
            lo, hi = max(lo, float(p.lower)), max(hi, float(p.lower))
        if p.upper is not None:
            lo, hi = min(lo, float(p.upper)), min(hi, float(p.upper))
        rows.append((p.path, v, lo, hi, src))
    return pl.DataFrame(rows, schema={"parameter": pl.Utf8, "value": pl.Float64, "low": pl.Float64,
                                      "high": pl.Float64, "range_source": pl.Utf8}, orient="row")


def compensation_tornado(a: Agreement, monitoring: pl.DataFrame, sel: CompensationSelector,
                         range_pct: float | None = None, declared: pl.DataFrame | None = None,
                         monitoring_range_pct: float | None = None,
                         monitoring_file: str = "<monitoring>") -> pl.DataFrame:
    """Tornado rows (CNY) of one compensation output: one row per parameter with a range, ranked by swing.

    Columns: output, analysis (oat), rank, coefficient (``AGREEMENT:path``), coefficient_unit, verification,
    range_source, value, low, high, output_point_cny, output_at_low_cny, output_at_high_cny, swing_cny,
    elasticity (empty when the rule regime changes within the range, see module docstring), note.
    """
    base = settle([a], monitoring, monitoring_file).ledger
    check_selector(a, sel, base)
    y0 = output_value(base, sel)
    reg0 = _regime(base)
    params = agreement_parameters(a)
    by_path = {p.path: p for p in params}
    ranges = parameter_ranges(a, params, range_pct, declared)

    def run(agr: Agreement, mon: pl.DataFrame) -> tuple[float, frozenset[tuple[object, ...]]]:
        led = settle([agr], mon, monitoring_file).ledger
        return output_value(led, sel), _regime(led)

    Eval = Callable[[Decimal], tuple[float, frozenset[tuple[object, ...]]]]

    def with_param(p: Parameter) -> Eval:
        return lambda x: run(p.setter(a, x), monitoring)

    def with_monitoring(sid: str, ind: str) -> Eval:
        return lambda x: run(a, scale_monitoring(monitoring, sid, ind, x))

    evals: list[tuple[str, str, str | None, str, float, float, float, Eval]] = []
    for path, v, lo, hi, src in ranges.iter_rows():
        p = by_path[path]
        if hi <= lo:
            continue
        evals.append((path, p.unit, verification_of(a, path), src, v, lo, hi, with_param(p)))
    if monitoring_range_pct:
        pairs = sorted({(s.id, i.name) for s in a.sections for i in a.indicators}
                       & set(monitoring.select("section_id", "indicator").iter_rows()))
        lo_f, hi_f = max(0.0, 1 - monitoring_range_pct / 100), 1 + monitoring_range_pct / 100
        for sid, ind in pairs:
            evals.append((f"monitoring.{sid}.{ind}", "× concentration", None,
                          f"monitoring ±{monitoring_range_pct:g} %", 1.0, lo_f, hi_f, with_monitoring(sid, ind)))
    rows: list[dict[str, object]] = []
    for path, unit, ver, src, v, lo, hi, f in evals:  # one settlement per evaluated point (a loop over parameters)
        pts = [lo, (lo + v) / 2, (v + hi) / 2, hi]
        res = [f(dec(x)) for x in pts]
        regime_change = any(r[1] != reg0 for r in res)
        yl, yh = res[0][0], res[-1][0]
        elast: float | None = None
        note = ""
        if regime_change:
            note = "rule regime changes within the range (a threshold or direction flips): step/kinked output"
        elif v != 0 and y0 != 0:
            elast = ((yh - yl) / y0) / ((hi - lo) / v)
        rows.append({"coefficient": f"{a.id}:{path}", "coefficient_unit": unit, "verification": ver,
                     "range_source": src, "value": v, "low": lo, "high": hi, "output_at_low_cny": yl,
                     "output_at_high_cny": yh, "swing_cny": abs(yh - yl), "elasticity": elast, "note": note})
    schema = {"coefficient": pl.Utf8, "coefficient_unit": pl.Utf8, "verification": pl.Utf8, "range_source": pl.Utf8,
              "value": pl.Float64, "low": pl.Float64, "high": pl.Float64, "output_at_low_cny": pl.Float64,
              "output_at_high_cny": pl.Float64, "swing_cny": pl.Float64, "elasticity": pl.Float64, "note": pl.Utf8}
    df = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
    df = df.with_columns(pl.lit(sel.label).alias("output"), pl.lit("oat").alias("analysis"),
                         pl.lit(y0).alias("output_point_cny"))
    df = df.sort(["swing_cny", "coefficient"], descending=[True, False])
    return df.with_columns(pl.int_range(1, df.height + 1, dtype=pl.Int64).alias("rank"))


def load_compensation_ranges(path: str, display_name: str, agreements: list[Agreement]) -> pl.DataFrame:
    """Declared ranges: agreement_id, parameter (a path or a prefix of paths), low, high | range_pct.

    Every problem at once: MISSING_COLUMN, UNKNOWN_AGREEMENT, UNKNOWN_PARAMETER, WRONG_TYPE, MISSING_VALUE,
    INVALID_VALUE (low > high, range_pct < 0).
    """

    raw = read_raw(path, display_name=display_name)
    df = raw.df.rename({c: c.strip().lower() for c in raw.df.columns})
    probs: list[Problem] = []
    for c in ("agreement_id", "parameter"):
        if c not in df.columns:
            probs.append(Problem("MISSING_COLUMN", f"the compensation ranges table has no '{c}' column",
                                 file=display_name, row=1, column=c,
                                 expected="columns agreement_id, parameter, low, high | range_pct"))
    if probs:
        raise InputError(probs)
    for c in ("low", "high", "range_pct"):
        if c not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=pl.Utf8).alias(c))
    paths = {a.id: [p.path for p in agreement_parameters(a)] for a in agreements}
    out: list[tuple[str, str, float | None, float | None, float | None]] = []
    for (aid, par, lo, hi, pct), row in zip(df.select("agreement_id", "parameter", "low", "high", "range_pct")
                                           .iter_rows(), raw.rows.to_list(), strict=True):
        aid, par = (aid or "").strip(), (par or "").strip()
        nums: dict[str, float | None] = {}
        for name, text in (("low", lo), ("high", hi), ("range_pct", pct)):
            t = (text or "").strip()
            try:
                nums[name] = float(t) if t else None
            except ValueError:
                nums[name] = None
                probs.append(Problem("WRONG_TYPE", f"'{name}' is not a number", file=display_name, row=row,
                                     column=name, value=t, expected="a number"))
        if aid not in paths:
            probs.append(Problem("UNKNOWN_AGREEMENT", "no agreement of the run has this id", file=display_name,
                                 row=row, column="agreement_id", value=aid,
                                 expected="one of " + ", ".join(sorted(paths))))
        elif not any(p == par or p.startswith(par + ".") for p in paths[aid]):
            probs.append(Problem("UNKNOWN_PARAMETER", f"agreement '{aid}' has no parameter '{par}'",
                                 file=display_name, row=row, column="parameter", value=par,
                                 expected="a path such as " + ", ".join(paths[aid][:4])))
        has_lh = nums.get("low") is not None and nums.get("high") is not None
        if not has_lh and nums.get("range_pct") is None:
            probs.append(Problem("MISSING_VALUE", "give low and high, or range_pct", file=display_name, row=row,
                                 column="low", expected="low and high, or range_pct"))
        elif has_lh and nums["low"] > nums["high"]:  # type: ignore[operator]
            probs.append(Problem("INVALID_VALUE", "low is above high", file=display_name, row=row, column="low",
                                 value=f"{nums['low']} > {nums['high']}", expected="low ≤ high"))
        elif not has_lh and (nums["range_pct"] or 0) < 0:
            probs.append(Problem("INVALID_VALUE", "range_pct is negative", file=display_name, row=row,
                                 column="range_pct", value=str(nums["range_pct"]), expected="a percent ≥ 0"))
        out.append((aid, par, nums.get("low") if has_lh else None, nums.get("high") if has_lh else None,
                    nums.get("range_pct")))
    if probs:
        raise InputError(probs)
    return pl.DataFrame(out, schema={"agreement_id": pl.Utf8, "parameter": pl.Utf8, "low": pl.Float64,
                                     "high": pl.Float64, "range_pct": pl.Float64}, orient="row")
