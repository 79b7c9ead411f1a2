"""Compensation agreements as data: TOML files read and validated into frozen objects.

File format: docs/compensation.md §Agreement files. Validation collects every
problem (file, line, field, expected) and raises one gep.errors.InputError.
Method families as in docs/compensation.md and docs/formulas.md §5 (M1 index bet,
M2 pooled fund, M3 fixed amount per section, M4 load × unit price).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import field
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ConfigDict
from pydantic.dataclasses import dataclass as _pydantic_dataclass

from gep.compensation.money import fmt, split_to_fen, to_fen
from gep.compensation.periods import parse_month, periods_in
from gep.compensation.schema import CLASSES, check_value, key_type, scalar_type, unknown_keys
from gep.compensation.tomlpos import TomlLocator
from gep.errors import InputError, ProblemCollector

# The validated agreement objects are frozen pydantic dataclasses (extra="forbid", types checked on
# construction, dataclasses.replace still works for the sensitivity module); the TOML schema itself
# is gep.compensation.schema.
_MODEL_CONFIG = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
dataclass = partial(_pydantic_dataclass, config=_MODEL_CONFIG)

METHOD_CODES = {"index_bet": "M1", "pool": "M2", "fixed_per_section": "M3", "load_price": "M4"}
ROLES = ("upstream", "downstream")

# GB 3838-2002 Table 1, rivers (mg/L), classes I..V; verified (GB 3838-2002 《地表水环境质量标准》 Table 1).
GB3838_LIMITS_MG_L: dict[str, tuple[str, ...]] = {
    "CODMn": ("2", "4", "6", "10", "15"),
    "COD": ("15", "15", "20", "30", "40"),
    "BOD5": ("3", "3", "4", "6", "10"),
    "NH3-N": ("0.15", "0.5", "1.0", "1.5", "2.0"),
    "TP": ("0.02", "0.1", "0.2", "0.3", "0.4"),
    "TN": ("0.2", "0.5", "1.0", "1.5", "2.0"),
}


@dataclass(frozen=True)
class Party:
    """A party: a region id from the registry, or an external party (province, treasury, pool)."""

    id: str
    name: str
    kind: str


@dataclass(frozen=True)
class Share:
    """A party's share of a section role; ``by_indicator`` overrides ``share`` per indicator."""

    party: str
    share: Decimal
    by_indicator: tuple[tuple[str, Decimal], ...] = ()

    def for_indicator(self, indicator: str | None) -> Decimal:
        for name, value in self.by_indicator:
            if name == indicator:
                return value
        return self.share


@dataclass(frozen=True)
class Section:
    """A monitoring section: upstream party/parties (shares) and downstream party/parties."""

    id: str
    name: str
    river: str
    upstream: tuple[Share, ...]
    downstream: tuple[Share, ...]
    inflow_section: str | None = None
    lon: float | None = None
    lat: float | None = None

    def role(self, role: str) -> tuple[Share, ...]:
        return self.upstream if role == "upstream" else self.downstream


@dataclass(frozen=True)
class Indicator:
    """An assessed indicator with its standard (target) concentration in mg/L."""

    name: str
    standard_mg_l: Decimal | None


@dataclass(frozen=True)
class Provenance:
    """Where a parameter comes from and how sure we are (verified/secondary/unverified)."""

    parameter: str
    verification: str
    source: str


Schedule = tuple[tuple[int, int, Decimal], ...]
"""Amounts by year: (first_year, last_year, amount per settlement period) [CNY], years inclusive."""


def schedule_amount(schedule: Schedule, period: str) -> Decimal | None:
    """Amount of the schedule entry whose years hold ``period`` (None if no entry does)."""
    year = int(period[:4])
    for first, last, amount in schedule:
        if first <= year <= last:
            return amount
    return None


@dataclass(frozen=True)
class Tier:
    """M1 payout tier: when p_above < P <= p_at_most, payer pays payee amount_cny.

    ``schedule`` (amounts that change by year, e.g. 2015 4亿, 2016 3亿) overrides
    ``amount_cny`` for the years it lists.
    """

    p_above: Decimal | None
    p_at_most: Decimal | None
    payer: str
    payee: str
    amount_cny: Decimal
    schedule: Schedule = ()

    def amount_for(self, period: str) -> Decimal:
        """Amount of this tier in a settlement period [CNY]."""
        x = schedule_amount(self.schedule, period) if self.schedule else None
        return self.amount_cny if x is None else x


@dataclass(frozen=True)
class Transfer:
    """An unconditional transfer (中央财政奖励/补助资金): payer pays payee a fixed amount per period.

    No monitoring data are needed. ``by_period`` (period key → amount) comes from a
    sum stated for the whole term and split into periods; otherwise ``schedule``.
    """

    id: str
    payer: str
    payee: str
    schedule: Schedule
    by_period: tuple[tuple[str, Decimal], ...] = ()
    note: str = ""

    def amount_for(self, period: str) -> Decimal | None:
        """Amount of the transfer in a settlement period [CNY] (None: nothing that period)."""
        if self.by_period:
            return dict(self.by_period).get(period)
        return schedule_amount(self.schedule, period)


@dataclass(frozen=True)
class PaymentTerms:
    """When a period's money is due: ``years_after`` years after the period's year, on month-day."""

    years_after: int
    month: int
    day: int

    def due(self, period: str) -> str:
        """Due date YYYY-MM-DD of the money settled for ``period``."""
        import calendar

        y = int(period[:4]) + self.years_after
        day = min(self.day, calendar.monthrange(y, self.month)[1])
        return f"{y:04d}-{self.month:02d}-{day:02d}"


@dataclass(frozen=True)
class IndexBetParams:
    """M1 (Xin'an style): P = k0 · Σ k_i · C_i / C_i0 with payout tiers."""

    section: str
    k0: Decimal
    weights: tuple[tuple[str, Decimal], ...]
    baselines_mg_l: tuple[tuple[str, Decimal], ...]
    tiers: tuple[Tier, ...]
    p_decimals: int | None = None  # the agreement's rounding of P before the tiers are applied
    p_rounding: str = "half_up"  # half_up (四舍五入) | down (截尾)


@dataclass(frozen=True)
class PoolParams:
    """M2 (Chishui style): fund, contribution and allocation ratios, section deductions."""

    pool_party: str
    fund_cny: Decimal
    contributions: tuple[tuple[str, Decimal], ...]
    allocations: tuple[tuple[str, Decimal], ...]
    deduction_base: str  # "responsible_allocation" | "fund" | "fixed"
    deduction_fixed_cny: Decimal | None
    compliance: str  # "binary" | "share_of_indicators" | "share_of_months"
    section_weights: tuple[tuple[str, Decimal], ...]
    fund_schedule: Schedule = ()  # fund by year when it changes within the agreement
    fund_by_period: tuple[tuple[str, Decimal], ...] = ()  # whole-term fund split into periods

    def fund_for(self, period: str) -> Decimal:
        """Fund of a settlement period [CNY]."""
        if self.fund_by_period:
            return dict(self.fund_by_period).get(period, Decimal(0))
        x = schedule_amount(self.fund_schedule, period) if self.fund_schedule else None
        return self.fund_cny if x is None else x


@dataclass(frozen=True)
class FixedParams:
    """M3 (Chongqing/Shandong style): fixed amounts by compliance and year-on-year change."""

    amount_met_improved_cny: Decimal
    amount_met_declined_cny: Decimal
    amount_not_met_cny: Decimal
    per_pp_improvement_cny: Decimal
    per_pp_deterioration_cny: Decimal
    pp_counterparty: str | None


@dataclass(frozen=True)
class LoadPriceParams:
    """M4 (Sichuan 三江 / Zhenjiang style): excess or improved load (t) × unit price (CNY/t)."""

    penalty_prices: tuple[tuple[str, Decimal], ...]
    improvement_prices: tuple[tuple[str, Decimal], ...]
    improvement_payer: str
    mode: str = "load"  # "load" (t × CNY/t) | "exceedance_multiple" (Sichuan 2011–2016 扣缴: (C−Cs)/Cs × base)
    exceedance_base_cny: tuple[tuple[str, Decimal], ...] = ()


@dataclass(frozen=True)
class Agreement:
    """A validated compensation agreement (see docs/compensation.md)."""

    id: str
    title: str
    method: str
    period: str
    start: tuple[int, int]
    end: tuple[int, int]
    missing_data: str
    attribution: str
    netting: str
    data_status: str
    parties: tuple[Party, ...]
    sections: tuple[Section, ...]
    indicators: tuple[Indicator, ...]
    provenance: tuple[Provenance, ...]
    params: IndexBetParams | PoolParams | FixedParams | LoadPriceParams
    file: str = ""
    notes: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    transfers: tuple[Transfer, ...] = ()
    payment: PaymentTerms | None = None
    defaults_used: tuple[tuple[str, str], ...] = ()  # (parameter, documented default taken) — flagged

    @property
    def party_ids(self) -> list[str]:
        return [p.id for p in self.parties]

    def party_name(self, pid: str) -> str:
        """Name the agreement gives a party ('' if none)."""
        return next((p.name for p in self.parties if p.id == pid and p.name != pid), "")

    def unverified(self) -> list[str]:
        """Parameters flagged unverified in the provenance list, then parameters left out and defaulted."""
        out = [p.parameter for p in self.provenance if p.verification == "unverified"]
        return out + [k for k, _ in self.defaults_used if k not in out]

    def section(self, section_id: str) -> Section:
        for s in self.sections:
            if s.id == section_id:
                return s
        raise KeyError(section_id)


def near_matches(value: str, candidates: Mapping[str, str], n: int = 3) -> list[str]:
    """Closest ``code name`` entries to a code or name typed by hand (difflib on codes, then on names)."""
    import difflib

    by_code = difflib.get_close_matches(value, list(candidates), n=n, cutoff=0.6)
    names = [x for x in candidates.values() if x]
    by_name = [c for nm in difflib.get_close_matches(value, names, n=n, cutoff=0.5)
               for c, x in candidates.items() if x == nm]
    out = list(dict.fromkeys([*by_code, *by_name]))[:n]
    return [f"{c} {candidates[c]}".strip() for c in out]


class _V:
    """Validation helper: reads a key's value with the type the schema declares for it and records a located
    problem (file, line, key path, expected) when the value does not fit."""

    def __init__(self, file: str, loc: TomlLocator, pc: ProblemCollector) -> None:
        self.file, self.loc, self.pc = file, loc, pc

    def add(self, code: str, message: str, path: tuple[object, ...], value: object = None, expected: str | None = None) -> None:
        self.pc.add(
            code,
            message,
            file=self.file,
            # missing top-level keys have no line of their own: reported at line 1 (the top of the file)
            row=self.loc.line(*path) or 1,
            column=".".join(str(p) for p in path if not isinstance(p, int)) or None,
            value=value,
            expected=expected,
        )

    def _check(self, ann: object, value: object, path: tuple[object, ...], name: str) -> Any:
        out, problem = check_value(ann, value)
        if problem is not None:
            code, reason, expected = problem
            self.add(code, f"'{name}' {reason}", path, value=value, expected=expected or None)
        return out

    def text(self, d: Mapping[str, Any], key: str, path: tuple[object, ...], *, required: bool = True,
             default: str | None = None) -> str | None:
        """The text (or choice) of ``key`` as the schema declares it; MISSING_VALUE when required and absent."""
        if key not in d:
            if required:
                self.add("MISSING_VALUE", f"the agreement needs '{key}'", path, expected="a value for " + key)
            return default
        ann = scalar_type(key_type(path + (key,)))
        got = self._check(ann, d[key], path + (key,), key)
        return default if got is None else str(got)

    def number(self, d: Mapping[str, Any], key: str, path: tuple[object, ...], *, required: bool = True,
               default: Decimal | None = None) -> Decimal | None:
        """The number of ``key`` with the sign the schema declares (≥ 0, > 0 or any)."""
        if key not in d:
            if required:
                self.add("MISSING_VALUE", f"the agreement needs '{key}'", path, expected="a number for " + key)
            return default
        return self.as_number(d[key], path + (key,))

    def as_number(self, v: object, path: tuple[object, ...]) -> Decimal | None:
        """A number at ``path`` (a key, an entry of a table of numbers, a year of a schedule)."""
        name = ".".join(str(p) for p in path if not isinstance(p, int))
        got = self._check(scalar_type(key_type(path), number=True), v, path, name)
        return got if isinstance(got, Decimal) else None

    def table(self, d: Mapping[str, Any], key: str, path: tuple[object, ...], *, required: bool = True) -> dict[str, Any] | None:
        if key not in d:
            if required:
                self.add("MISSING_VALUE", f"the agreement needs a [{'.'.join(map(str, path + (key,)))}] table", path,
                         expected=f"a table '{key}'")
            return None
        v = d[key]
        if not isinstance(v, dict):
            self.add("WRONG_TYPE", f"'{key}' must be a table", path + (key,), value=v, expected="a TOML table { ... }")
            return None
        return v

    def number_map(self, d: Mapping[str, Any], key: str, path: tuple[object, ...], *,
                   required: bool = True) -> tuple[tuple[str, Decimal], ...]:
        """A table of numbers ``{ name = number }``, each number of the type the schema declares."""
        t = self.table(d, key, path, required=required)
        if t is None:
            return ()
        out: list[tuple[str, Decimal]] = []
        for k, v in t.items():
            x = self.as_number(v, path + (key, k))
            if x is not None:
                out.append((str(k), x))
        return tuple(out)


def load_agreement(path: str | Path, known_regions: set[str] | Mapping[str, str] | None = None) -> Agreement:
    """Read and validate one agreement TOML file; raise InputError listing every problem.

    ``known_regions``: region ids of the registry; parties of kind county/prefecture
    must be among them when given (code UNKNOWN_REGION).
    """
    p = Path(path)
    pc = ProblemCollector()
    if not p.is_file():
        pc.add("FILE_NOT_FOUND", "the agreement file does not exist", file=str(p), expected="an existing .toml file")
        pc.raise_if_any()
    text = p.read_bytes().decode("utf-8-sig", errors="replace")
    return parse_agreement(text, str(p), known_regions)


def parse_agreement(text: str, file: str = "<agreement>", known_regions: set[str] | Mapping[str, str] | None = None) -> Agreement:
    """Validate agreement TOML text (see load_agreement)."""
    pc = ProblemCollector()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line: int | None = None
        msg = str(exc)
        if "line" in msg:
            try:
                line = int(msg.split("line")[1].split(",")[0].strip())
            except (ValueError, IndexError):
                line = None
        if line is None:  # "(at end of document)": the last line
            line = max(1, len(text.splitlines()))
        pc.add("UNREADABLE_FILE", f"the agreement is not valid TOML: {msg}", file=file, row=line,
               expected="TOML syntax: key = value, [table], [[array]]")
        pc.raise_if_any()
        raise AssertionError("unreachable")
    v = _V(file, TomlLocator(text), pc)
    root: tuple[object, ...] = ()

    for prob in unknown_keys(data, file, v.loc):
        pc.add(prob.code, prob.message, file=prob.file, row=prob.row, column=prob.column, value=prob.value,
               expected=prob.expected)

    aid = v.text(data, "id", root) or "?"
    title = v.text(data, "title", root, required=False, default=aid) or aid
    method = v.text(data, "method", root) or ""
    period = v.text(data, "period", root) or "year"
    start_t = v.text(data, "start", root)
    end_t = v.text(data, "end", root)
    start = _parse_period_bound(v, start_t, "start", first=True)
    end = _parse_period_bound(v, end_t, "end", first=False)
    if start and end and start > end:
        v.add("INVALID_VALUE", "'start' is after 'end'", ("start",), value=f"{start_t} > {end_t}",
              expected="start ≤ end")
    missing = v.text(data, "missing_data", root, required=False, default="error") or "error"
    attribution = v.text(data, "attribution", root, required=False, default="own_outflow") or "own_outflow"
    netting = v.text(data, "netting", root, required=False, default="gross") or "gross"
    data_status = v.text(data, "data_status", root, required=False, default="unspecified") or "unspecified"
    notes = v.text(data, "notes", root, required=False, default="") or ""

    averaging = v.text(data, "averaging", root, required=False)
    defaults: list[tuple[str, str]] = []
    if averaging is None:
        defaults.append(("averaging", "arithmetic mean of the period's samples"))

    parties = _parse_parties(v, data, known_regions)
    party_ids = {pt.id for pt in parties}
    indicators = _parse_indicators(v, data)
    ind_names = [i.name for i in indicators]
    sections = _parse_sections(v, data, party_ids, ind_names)
    section_ids = [s.id for s in sections]
    provenance = _parse_provenance(v, data)
    term = _term_years(start, end)
    periods = periods_in(start, end, period) if start and end and start <= end else {}
    transfers = _parse_transfers(v, data, party_ids, term, periods, defaults)
    payment = _parse_payment(v, data)

    params: Any = None
    if method == "index_bet":
        params = _parse_index_bet(v, data, section_ids, party_ids, ind_names, term)
    elif method == "pool":
        params = _parse_pool(v, data, section_ids, party_ids, parties, term, periods, defaults)
    elif method == "fixed_per_section":
        params = _parse_fixed(v, data, party_ids, defaults)
    elif method == "load_price":
        params = _parse_load_price(v, data, party_ids, ind_names, defaults)
    if "attribution" not in data and any(sec.inflow_section for sec in sections):
        defaults.append(("attribution", "own_outflow (each section judged on its own concentrations)"))
    if method and method != "load_price":
        for i, sec in enumerate(sections):
            for role in ROLES:
                if any(sh.by_indicator for sh in sec.role(role)):
                    v.add("INVALID_VALUE", f"section '{sec.id}' gives {role} shares per indicator, which only method "
                          "'load_price' uses", ("sections", i, role), expected="one share per party, e.g. share = 0.5")
    if method in ("fixed_per_section", "load_price", "pool"):
        for i, ind in enumerate(indicators):
            if ind.standard_mg_l is None:
                v.add("MISSING_VALUE", f"indicator '{ind.name}' needs a standard for method '{method}'",
                      ("indicators", i), expected="standard_mg_l = number or target_class = \"II\"")
    pc.raise_if_any()
    return Agreement(
        id=aid, title=title, method=method, period=period, start=start or (0, 1), end=end or (0, 12),
        missing_data=missing, attribution=attribution, netting=netting, data_status=data_status,
        parties=tuple(parties), sections=tuple(sections), indicators=tuple(indicators),
        provenance=tuple(provenance), params=params, file=file, notes=notes,
        transfers=tuple(transfers), payment=payment, defaults_used=tuple(defaults),
    )


def _parse_period_bound(v: _V, t: str | None, key: str, *, first: bool) -> tuple[int, int] | None:
    if t is None:
        return None
    if len(t) == 4 and t.isdigit():
        return (int(t), 1 if first else 12)
    ym = parse_month(t)
    if ym is None:
        v.add("INVALID_VALUE", f"'{key}' is not a month or a year", (key,), value=t, expected="YYYY-MM or YYYY, e.g. 2024-01")
    return ym


def _list_of_tables(v: _V, data: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    raw = data.get(key)
    if raw is None:
        v.add("MISSING_VALUE", f"the agreement needs at least one [[{key}]] entry", (), expected=f"[[{key}]] tables")
        return []
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        v.add("WRONG_TYPE", f"'{key}' must be a list of tables", (key,), expected=f"[[{key}]] tables")
        return []
    return raw


def _parse_parties(v: _V, data: Mapping[str, Any], known: set[str] | Mapping[str, str] | None) -> list[Party]:
    out: list[Party] = []
    seen: set[str] = set()
    for i, t in enumerate(_list_of_tables(v, data, "parties")):
        path = ("parties", i)
        pid = v.text(t, "id", path)
        name = v.text(t, "name", path, required=False, default=pid or "") or ""
        kind = v.text(t, "kind", path) or "external"
        if pid is None:
            continue
        if pid in seen:
            v.add("DUPLICATE_KEY", f"party '{pid}' is listed twice", path + ("id",), value=pid, expected="each party once")
        seen.add(pid)
        checked = ("county", "prefecture", "province") if known and any(k.endswith("0000") for k in known) \
            else ("county", "prefecture")
        if known is not None and kind in checked and pid not in known:
            names = dict(known) if isinstance(known, Mapping) else {k: "" for k in known}
            level = {k: x for k, x in names.items()
                     if (k.endswith("0000") if kind == "province" else
                         k.endswith("00") and not k.endswith("0000") if kind == "prefecture" else
                         not k.endswith("00"))} or names
            exact = [f"{k} {x}" for k, x in level.items() if name and x == name]
            near = exact + near_matches(pid, level) + (near_matches(name, level) if name and name != pid else [])
            near = list(dict.fromkeys(near))[:3]
            v.add("UNKNOWN_REGION", f"party '{pid}' ({name}) is not a region of the registry"
                  + (f"; did you mean {', '.join(near)}?" if near else ""), path + ("id",),
                  value=pid, expected="a region id (adcode) from the region registry, or kind = \"external\"")
        out.append(Party(pid, name, kind))
    return out


def _parse_indicators(v: _V, data: Mapping[str, Any]) -> list[Indicator]:
    out: list[Indicator] = []
    seen: set[str] = set()
    for i, t in enumerate(_list_of_tables(v, data, "indicators")):
        path = ("indicators", i)
        name = v.text(t, "name", path)
        if name is None:
            continue
        if name in seen:
            v.add("DUPLICATE_KEY", f"indicator '{name}' is listed twice", path + ("name",), value=name, expected="each indicator once")
        seen.add(name)
        std = v.number(t, "standard_mg_l", path, required=False)
        cls = v.text(t, "target_class", path, required=False)
        if std is None and cls is not None:
            if name not in GB3838_LIMITS_MG_L:
                v.add("INVALID_VALUE", f"no GB 3838-2002 limit is built in for indicator '{name}'", path + ("target_class",),
                      value=cls, expected="standard_mg_l = number, or an indicator among " + ", ".join(GB3838_LIMITS_MG_L))
            else:
                std = Decimal(GB3838_LIMITS_MG_L[name][CLASSES.index(cls)])
        out.append(Indicator(name, std))
    return out


def _parse_shares(v: _V, raw: object, path: tuple[object, ...], party_ids: set[str], indicators: list[str]) -> tuple[Share, ...]:
    if isinstance(raw, str):
        raw = [{"party": raw, "share": 1}]
    if not isinstance(raw, list) or not raw or not all(isinstance(x, dict) for x in raw):
        v.add("WRONG_TYPE", f"'{path[-1]}' must list the parties with their shares", path, value=raw,
              expected='[{ party = "510121", share = 1 }] or a party id')
        return ()
    shares: list[Share] = []
    unknown = False
    for j, t in enumerate(raw):
        pid = t.get("party")
        if not isinstance(pid, str) or pid not in party_ids:
            v.add("UNKNOWN_PARTY", f"'{path[-1]}' names a party that is not in [[parties]]", path, value=pid,
                  expected="an id listed under [[parties]]")
            unknown = True
            continue
        sraw = t.get("share", 1)
        by: list[tuple[str, Decimal]] = []
        base = Decimal(1)
        if isinstance(sraw, dict):
            for ind, x in sraw.items():
                if ind not in indicators:
                    v.add("UNKNOWN_INDICATOR", f"share of '{pid}' names an indicator not in [[indicators]]", path, value=ind,
                          expected="one of " + ", ".join(indicators))
                    continue
                d = v.as_number(x, path + ("share",))
                if d is not None:
                    by.append((ind, d))
            base = Decimal(0)
        else:
            d = v.as_number(sraw, path + ("share",))
            if d is None:
                continue
            base = d
        shares.append(Share(pid, base, tuple(by)))
    # shares must sum to 1 per indicator (or overall)
    checks = indicators if any(s.by_indicator for s in shares) else [None]
    for ind in checks if not unknown else []:  # an unknown party's share cannot be summed: UNKNOWN_PARTY says it all
        total = sum((s.for_indicator(ind) for s in shares), Decimal(0))
        if shares and total != 1:
            v.add("SHARES_NOT_ONE", f"the shares of '{path[-1]}'" + (f" for {ind}" if ind else "") + " do not add up to 1",
                  path, value=str(total), expected="shares that sum to exactly 1")
    return tuple(shares)


def _parse_sections(v: _V, data: Mapping[str, Any], party_ids: set[str], indicators: list[str]) -> list[Section]:
    out: list[Section] = []
    seen: set[str] = set()
    for i, t in enumerate(_list_of_tables(v, data, "sections")):
        path = ("sections", i)
        sid = v.text(t, "id", path)
        name = v.text(t, "name", path, required=False, default=sid or "") or ""
        river = v.text(t, "river", path, required=False, default="") or ""
        if sid is None:
            continue
        if sid in seen:
            v.add("DUPLICATE_KEY", f"section '{sid}' is listed twice", path + ("id",), value=sid, expected="each section once")
        seen.add(sid)
        ups: tuple[Share, ...] = ()
        downs: tuple[Share, ...] = ()
        for role in ROLES:
            if role not in t:
                v.add("MISSING_VALUE", f"section '{sid}' needs its {role} party", path, expected=f'{role} = [{{ party = "...", share = 1 }}]')
                continue
            sh = _parse_shares(v, t[role], path + (role,), party_ids, indicators)
            if role == "upstream":
                ups = sh
            else:
                downs = sh
        inflow = v.text(t, "inflow_section", path, required=False)
        lon = v.number(t, "lon", path, required=False)
        lat = v.number(t, "lat", path, required=False)
        out.append(Section(sid, name, river, ups, downs, inflow, float(lon) if lon is not None else None,
                           float(lat) if lat is not None else None))
    return out


def _parse_provenance(v: _V, data: Mapping[str, Any]) -> list[Provenance]:
    raw = data.get("provenance", [])
    out: list[Provenance] = []
    if not isinstance(raw, list):
        v.add("WRONG_TYPE", "'provenance' must be a list of tables", ("provenance",), expected="[[provenance]] tables")
        return out
    for i, t in enumerate(raw):
        path = ("provenance", i)
        if not isinstance(t, dict):
            v.add("WRONG_TYPE", "each provenance entry must be a table", path, expected="[[provenance]] table")
            continue
        par = v.text(t, "parameter", path) or "?"
        ver = v.text(t, "verification", path) or "unverified"
        src = v.text(t, "source", path, required=False, default="") or ""
        out.append(Provenance(par, ver, src))
    return out


def _party_or_role(v: _V, t: Mapping[str, Any], key: str, path: tuple[object, ...], party_ids: set[str]) -> str:
    val = v.text(t, key, path) or "upstream"
    if val not in ROLES and val not in party_ids:
        v.add("UNKNOWN_PARTY", f"'{key}' must be 'upstream', 'downstream' or a party id", path + (key,), value=val,
              expected="upstream, downstream or an id under [[parties]]")
    return val


def _parse_index_bet(v: _V, data: Mapping[str, Any], sections: list[str], party_ids: set[str], inds: list[str],
                     term: tuple[int, int] | None = None) -> IndexBetParams:
    path: tuple[object, ...] = ("index_bet",)
    t = v.table(data, "index_bet", ())
    if t is None:
        return IndexBetParams("", Decimal(1), (), (), ())
    sec = v.text(t, "section", path, required=len(sections) != 1, default=sections[0] if sections else "") or ""
    if sec and sec not in sections:
        v.add("UNKNOWN_SECTION", "index_bet.section is not among [[sections]]", path + ("section",), value=sec,
              expected="one of " + ", ".join(sections))
    k0 = v.number(t, "k0", path) or Decimal(1)
    weights = v.number_map(t, "weights", path)
    baselines = v.number_map(t, "baselines_mg_l", path)
    wsum = sum((w for _, w in weights), Decimal(0))
    if weights and wsum != 1:
        v.add("SHARES_NOT_ONE", "index_bet.weights do not add up to 1", path + ("weights",), value=str(wsum),
              expected="weights k_i that sum to exactly 1")
    for name, _ in weights:
        if name not in inds:
            v.add("UNKNOWN_INDICATOR", "index_bet.weights names an indicator not in [[indicators]]", path + ("weights", name),
                  value=name, expected="one of " + ", ".join(inds))
        if name not in dict(baselines):
            v.add("MISSING_VALUE", f"index_bet.baselines_mg_l has no baseline for '{name}'", path + ("baselines_mg_l",),
                  expected=f"{name} = baseline concentration in mg/L")
    tiers: list[Tier] = []
    raw = t.get("tiers")
    if not isinstance(raw, list) or not raw:
        v.add("MISSING_VALUE", "index_bet needs [[index_bet.tiers]] (P interval → payer, payee, amount)", path,
              expected="at least one [[index_bet.tiers]] table")
        raw = []
    for i, tt in enumerate(raw):
        tp = path + ("tiers", i)
        if not isinstance(tt, dict):
            continue
        lo = v.number(tt, "p_above", tp, required=False)
        hi = v.number(tt, "p_at_most", tp, required=False)
        payer = _party_or_role(v, tt, "payer", tp, party_ids)
        payee = _party_or_role(v, tt, "payee", tp, party_ids)
        sched: Schedule = ()
        if isinstance(tt.get("amount_cny"), dict):
            sched = _parse_schedule(v, tt["amount_cny"], tp + ("amount_cny",), term) or ()
            amt = Decimal(0)
        else:
            amt = v.number(tt, "amount_cny", tp) or Decimal(0)
        tiers.append(Tier(lo, hi, payer, payee, amt, sched))
    # tiers must not overlap
    for a in range(len(tiers)):
        for b in range(a + 1, len(tiers)):
            ta, tb = tiers[a], tiers[b]
            lo = max(ta.p_above if ta.p_above is not None else Decimal("-1e30"), tb.p_above if tb.p_above is not None else Decimal("-1e30"))
            hi = min(ta.p_at_most if ta.p_at_most is not None else Decimal("1e30"), tb.p_at_most if tb.p_at_most is not None else Decimal("1e30"))
            if lo < hi:
                v.add("INVALID_VALUE", f"index_bet tiers {a + 1} and {b + 1} overlap", path + ("tiers", b),
                      expected="P intervals (p_above, p_at_most] that do not overlap")
    # tiers must leave no gap: sorted by lower bound, each starts where the previous one ends, from −∞ to +∞
    inf = Decimal("Infinity")
    order = sorted(range(len(tiers)), key=lambda i: tiers[i].p_above if tiers[i].p_above is not None else -inf)
    reach = -inf
    for n, i in enumerate(order):
        lo = tiers[i].p_above if tiers[i].p_above is not None else -inf
        if lo > reach and not (n == 0 and lo <= 0):  # P ≥ 0, so a lowest tier from 0 covers everything below
            v.add("TIER_GAP", f"index_bet tiers leave P in ({'−∞' if reach == -inf else fmt(reach)}, {fmt(lo)}] "
                  "without a tier", path + ("tiers", i), value=fmt(lo),
                  expected="tiers whose intervals (p_above, p_at_most] meet end to end")
        hi = tiers[i].p_at_most if tiers[i].p_at_most is not None else inf
        reach = max(reach, hi)
    if tiers and reach != inf:
        v.add("TIER_GAP", f"index_bet tiers leave P above {fmt(reach)} without a tier", path + ("tiers", order[-1]),
              value=fmt(reach), expected="a last tier without p_at_most (P up to +∞)")
    decimals = v.number(t, "p_decimals", path, required=False)
    if decimals is not None and (decimals != decimals.to_integral_value() or decimals > 12):
        v.add("INVALID_VALUE", "index_bet.p_decimals must be a whole number of decimal places", path + ("p_decimals",),
              value=str(decimals), expected="0 to 12, e.g. p_decimals = 2")
        decimals = None
    rounding = v.text(t, "p_rounding", path, required=False, default="half_up") or "half_up"
    if "p_rounding" in t and decimals is None:
        v.add("MISSING_VALUE", "index_bet.p_rounding needs p_decimals (the number of decimal places of P)", path,
              expected="p_decimals = 2")
    return IndexBetParams(sec, k0, weights, baselines, tuple(tiers), None if decimals is None else int(decimals), rounding)


def _parse_pool(v: _V, data: Mapping[str, Any], sections: list[str], party_ids: set[str], parties: list[Party],
                term: tuple[int, int] | None = None, periods: dict[str, list[str]] | None = None,
                defaults: list[tuple[str, str]] | None = None) -> PoolParams:
    path: tuple[object, ...] = ("pool",)
    t = v.table(data, "pool", ())
    if t is None:
        return PoolParams("", Decimal(0), (), (), "fund", None, "binary", ())
    pool_party = v.text(t, "pool_party", path) or ""
    if pool_party and pool_party not in party_ids:
        v.add("UNKNOWN_PARTY", "pool.pool_party must be listed under [[parties]] (kind = \"pool\")", path + ("pool_party",),
              value=pool_party, expected="an id under [[parties]]")
    defaults = defaults if defaults is not None else []
    fund = Decimal(0)
    fund_schedule: Schedule = ()
    fund_by_period: tuple[tuple[str, Decimal], ...] = ()
    if "fund_total_cny" in t:
        if "fund_cny" in t:
            v.add("INVALID_VALUE", "give either pool.fund_cny (per period) or pool.fund_total_cny (whole term), not both",
                  path + ("fund_total_cny",), expected="one of fund_cny, fund_total_cny")
        fund_by_period = _split_term(v, t, "fund_total_cny", "fund_split", path, periods or {}, defaults, "pool")
    elif isinstance(t.get("fund_cny"), dict):
        fund_schedule = _parse_schedule(v, t["fund_cny"], path + ("fund_cny",), term) or ()
    else:
        fund = v.number(t, "fund_cny", path) or Decimal(0)
    contributions = v.number_map(t, "contributions", path)
    allocations = v.number_map(t, "allocations", path)
    for key, m in (("contributions", contributions), ("allocations", allocations)):
        for pid, _ in m:
            if pid not in party_ids:
                v.add("UNKNOWN_PARTY", f"pool.{key} names a party not in [[parties]]", path + (key, pid), value=pid,
                      expected="an id under [[parties]]")
        if m and sum((x for _, x in m), Decimal(0)) <= 0:
            v.add("INVALID_VALUE", f"pool.{key} ratios add up to zero", path + (key,), expected="positive ratios such as 1:5:4")
    if "deduction_base" not in t:
        defaults.append(("pool.deduction_base", "responsible_allocation (the responsible party's allocation)"))
    if "compliance" not in t:
        defaults.append(("pool.compliance", "binary (any indicator's period mean above its standard)"))
    base_raw = t.get("deduction_base", "responsible_allocation")
    fixed: Decimal | None = None
    if isinstance(base_raw, str) and base_raw in ("responsible_allocation", "fund"):
        base = base_raw
    else:
        fixed = v.as_number(base_raw, path + ("deduction_base",))
        base = "fixed"
    compliance = v.text(t, "compliance", path, required=False, default="binary") or "binary"
    weights = v.number_map(t, "section_weights", path, required=False)
    wd = dict(weights)
    for sid, _ in weights:
        if sid not in sections:
            v.add("UNKNOWN_SECTION", "pool.section_weights names a section not in [[sections]]", path + ("section_weights", sid),
                  value=sid, expected="one of " + ", ".join(sections))
    left_out = [s for s in sections if s not in wd]
    if left_out:
        defaults.append(("pool.section_weights", "1 for " + ", ".join(left_out)))
    full = tuple((s, wd.get(s, Decimal(1))) for s in sections)
    return PoolParams(pool_party, fund, contributions, allocations, base, fixed, compliance, full,
                      fund_schedule, fund_by_period)


def _parse_fixed(v: _V, data: Mapping[str, Any], party_ids: set[str],
                 defaults: list[tuple[str, str]] | None = None) -> FixedParams:
    path: tuple[object, ...] = ("fixed_per_section",)
    t = v.table(data, "fixed_per_section", ())
    z = Decimal(0)
    if t is None:
        return FixedParams(z, z, z, z, z, None)
    a1 = v.number(t, "amount_met_improved_cny", path, required=False, default=z) or z
    a2 = v.number(t, "amount_met_declined_cny", path, required=False, default=z) or z
    a3 = v.number(t, "amount_not_met_cny", path, required=False, default=z) or z
    for key in ("amount_met_improved_cny", "amount_met_declined_cny", "amount_not_met_cny"):
        if key not in t and defaults is not None:
            defaults.append((f"fixed_per_section.{key}", "0 (no payment under this rule)"))
    pp_i = v.number(t, "per_pp_improvement_cny", path, required=False, default=z) or z
    pp_d = v.number(t, "per_pp_deterioration_cny", path, required=False, default=z) or z
    cp = v.text(t, "pp_counterparty", path, required=bool(pp_i or pp_d))
    if cp is not None and cp not in party_ids:
        v.add("UNKNOWN_PARTY", "fixed_per_section.pp_counterparty must be a party id", path + ("pp_counterparty",), value=cp,
              expected="an id under [[parties]] (e.g. the provincial treasury)")
    return FixedParams(a1, a2, a3, pp_i, pp_d, cp)


def _parse_load_price(v: _V, data: Mapping[str, Any], party_ids: set[str], inds: list[str],
                      defaults: list[tuple[str, str]] | None = None) -> LoadPriceParams:
    path: tuple[object, ...] = ("load_price",)
    t = v.table(data, "load_price", ())
    if t is None:
        return LoadPriceParams((), (), "downstream")
    mode = v.text(t, "mode", path, required=False, default="load") or "load"
    pen = v.number_map(t, "penalty_prices_cny_per_t", path, required=mode == "load")
    imp = v.number_map(t, "improvement_prices_cny_per_t", path, required=False)
    base = v.number_map(t, "exceedance_base_cny", path, required=mode == "exceedance_multiple")
    for key, m in (("penalty_prices_cny_per_t", pen), ("improvement_prices_cny_per_t", imp), ("exceedance_base_cny", base)):
        for name, _ in m:
            if name not in inds:
                v.add("UNKNOWN_INDICATOR", f"load_price.{key} names an indicator not in [[indicators]]", path + (key, name),
                      value=name, expected="one of " + ", ".join(inds))
    if imp and "improvement_payer" not in t and defaults is not None:
        defaults.append(("load_price.improvement_payer", "downstream (the section's downstream parties pay 改善金)"))
    payer = v.text(t, "improvement_payer", path, required=False, default="downstream") or "downstream"
    if payer != "downstream" and payer not in party_ids:
        v.add("UNKNOWN_PARTY", "load_price.improvement_payer must be 'downstream' or a party id", path + ("improvement_payer",),
              value=payer, expected="downstream or an id under [[parties]]")
    return LoadPriceParams(pen, imp, payer, mode, base)


_YEAR_KEY = re.compile(r"^\s*(\d{4})\s*(?:(?:-|–|~|至)\s*(\d{4}))?\s*$")


def _term_years(start: tuple[int, int] | None, end: tuple[int, int] | None) -> tuple[int, int] | None:
    return (start[0], end[0]) if start and end and start <= end else None


def _parse_schedule(v: _V, raw: object, path: tuple[object, ...], term: tuple[int, int] | None) -> Schedule | None:
    """An amount per settlement period: one number, or a table by year ``{ "2015" = 4e8, "2016-2017" = 3e8 }``.

    Checks (each with the key's line): years outside the term (SCHEDULE_OUTSIDE_TERM), years given twice
    (SCHEDULE_OVERLAP), years of the term without an amount (SCHEDULE_GAP).
    """
    name = ".".join(str(p) for p in path if not isinstance(p, int))
    if not isinstance(raw, dict):
        x = v.as_number(raw, path)
        if x is None:
            return None
        return ((term[0], term[1], x),) if term else ((0, 9999, x),)
    entries: list[tuple[int, int, Decimal]] = []
    for key, val in raw.items():
        m = _YEAR_KEY.match(str(key))
        if not m:
            v.add("INVALID_VALUE", f"'{name}' has a key that is not a year or a range of years", path + (key,),
                  value=key, expected='"2015" or "2015-2017"')
            continue
        first, last = int(m.group(1)), int(m.group(2) or m.group(1))
        if last < first:
            v.add("INVALID_VALUE", f"'{name}': range {key} ends before it starts", path + (key,), value=key,
                  expected="first year ≤ last year")
            continue
        x = v.as_number(val, path + (key,))
        if x is None:
            continue
        if term and (first < term[0] or last > term[1]):
            v.add("SCHEDULE_OUTSIDE_TERM", f"'{name}' gives an amount for {key}, outside the agreement's term "
                  f"{term[0]}–{term[1]}", path + (key,), value=key, expected=f"years {term[0]}–{term[1]}")
        for a, b, _ in entries:
            if first <= b and a <= last:
                v.add("SCHEDULE_OVERLAP", f"'{name}' gives {key} an amount twice (also in {a}–{b})", path + (key,),
                      value=key, expected="each year once")
        entries.append((first, last, x))
    if term:
        covered = {y for a, b, _ in entries for y in range(a, b + 1)}
        gaps = [y for y in range(term[0], term[1] + 1) if y not in covered]
        if gaps and entries:
            v.add("SCHEDULE_GAP", f"'{name}' gives no amount for {', '.join(map(str, gaps))}", path,
                  value=", ".join(map(str, gaps)), expected=f"an amount for every year {term[0]}–{term[1]}")
    return tuple(sorted(entries))


def _split_term(v: _V, t: Mapping[str, Any], total_key: str, split_key: str, path: tuple[object, ...],
                periods: dict[str, list[str]], defaults: list[tuple[str, str]],
                param: str) -> tuple[tuple[str, Decimal], ...]:
    """A sum stated for the whole term split into settlement periods to the fen (largest remainder).

    ``split`` = "equal" (every period the same) or a table of weights by year (``{ "2018" = 2, "2019" = 1 }``),
    each year's weight shared equally by its periods. Left out: equal, flagged as a default.
    """

    total = v.number(t, total_key, path)
    if total is None or not periods:
        return ()
    raw = t.get(split_key)
    keys = list(periods)
    weights: list[Decimal]
    if raw is None or raw == "equal":
        if raw is None:
            defaults.append((param + "." + split_key, "equal parts per period"))
        weights = [Decimal(1)] * len(keys)
    elif isinstance(raw, dict):
        by_year: dict[int, Decimal] = {}
        for key, val in raw.items():
            m = _YEAR_KEY.match(str(key))
            x = v.as_number(val, path + (split_key, key))
            if not m or m.group(2):
                v.add("INVALID_VALUE", f"'{split_key}' keys must be single years", path + (split_key, key), value=key,
                      expected='"2018"')
                continue
            if x is not None:
                by_year[int(m.group(1))] = x
        years = sorted({int(k[:4]) for k in keys})
        missing = [y for y in years if y not in by_year]
        extra = [y for y in by_year if y not in years]
        if missing:
            v.add("SCHEDULE_GAP", f"'{split_key}' gives no weight for {', '.join(map(str, missing))}", path + (split_key,),
                  value=", ".join(map(str, missing)), expected="a weight for every year of the term")
        if extra:
            v.add("SCHEDULE_OUTSIDE_TERM", f"'{split_key}' names years outside the term: {', '.join(map(str, extra))}",
                  path + (split_key,), value=", ".join(map(str, extra)), expected="years of the term")
        n_in_year = {y: sum(1 for k in keys if int(k[:4]) == y) for y in years}
        weights = [by_year.get(int(k[:4]), Decimal(0)) / n_in_year[int(k[:4])] for k in keys]
    else:
        v.add("INVALID_VALUE", f"'{split_key}' must be \"equal\" or a table of weights by year", path + (split_key,),
              value=raw, expected='"equal" or { "2018" = 1, "2019" = 1 }')
        return ()
    wsum = sum(weights, Decimal(0))
    if wsum <= 0:
        return ()
    parts = split_to_fen(to_fen(total), [w / wsum for w in weights])
    return tuple(zip(keys, parts, strict=True))


def _parse_transfers(v: _V, data: Mapping[str, Any], party_ids: set[str], term: tuple[int, int] | None,
                     periods: dict[str, list[str]], defaults: list[tuple[str, str]]) -> list[Transfer]:
    raw = data.get("transfers")
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        v.add("WRONG_TYPE", "'transfers' must be a list of tables", ("transfers",), expected="[[transfers]] tables")
        return []
    out: list[Transfer] = []
    for i, t in enumerate(raw):
        path: tuple[object, ...] = ("transfers", i)
        tid = v.text(t, "id", path, required=False, default=f"T{i + 1}") or f"T{i + 1}"
        payer = v.text(t, "payer", path) or ""
        payee = v.text(t, "payee", path) or ""
        for key, pid in (("payer", payer), ("payee", payee)):
            if pid and pid not in party_ids:
                v.add("UNKNOWN_PARTY", f"transfers.{key} names a party not in [[parties]]", path + (key,), value=pid,
                      expected="an id under [[parties]] (e.g. 财政部 as kind = \"treasury\")")
        if payer and payer == payee:
            v.add("INVALID_VALUE", "a transfer's payer and payee are the same party", path + ("payee",), value=payee,
                  expected="two different parties")
        note = v.text(t, "note", path, required=False, default="") or ""
        if "amount_cny" in t and "total_cny" in t:
            v.add("INVALID_VALUE", "give either amount_cny (per period) or total_cny (whole term), not both", path,
                  expected="one of amount_cny, total_cny")
            continue
        if "total_cny" in t:
            by = _split_term(v, t, "total_cny", "split", path, periods, defaults, f"transfers.{tid}")
            out.append(Transfer(tid, payer, payee, (), by, note))
            continue
        if "amount_cny" not in t:
            v.add("MISSING_VALUE", "a transfer needs 'amount_cny' (per period, or a table by year) or 'total_cny'",
                  path, expected="amount_cny = 300000000")
            continue
        sched = _parse_schedule(v, t["amount_cny"], path + ("amount_cny",), term)
        if sched is not None:
            out.append(Transfer(tid, payer, payee, sched, (), note))
    return out


def _parse_payment(v: _V, data: Mapping[str, Any]) -> PaymentTerms | None:
    t = v.table(data, "payment", (), required=False)
    if t is None:
        return None
    path: tuple[object, ...] = ("payment",)
    due = v.text(t, "due", path) or ""
    m = re.match(r"^(\d{2})-(\d{2})$", due)
    after = v.number(t, "years_after_period", path, required=False, default=Decimal(1))
    if "years_after_period" not in t:
        v.add("MISSING_VALUE", "payment needs 'years_after_period' (0: the same year, 1: the year after)", path,
              expected="years_after_period = 1")
    if due and not (m and 1 <= int(m.group(1)) <= 12 and 1 <= int(m.group(2)) <= 31):
        v.add("INVALID_VALUE", "payment.due must be a month and day", path + ("due",), value=due, expected='"06-30"')
        return None
    if not m or after is None:
        return None
    return PaymentTerms(int(after), int(m.group(1)), int(m.group(2)))


def load_agreements(paths: list[str | Path], known_regions: set[str] | Mapping[str, str] | None = None) -> list[Agreement]:
    """Load several agreement files, collecting the problems of all of them; agreement ids must be unique."""
    problems = []
    out: list[Agreement] = []
    for p in paths:
        try:
            out.append(load_agreement(p, known_regions))
        except InputError as exc:
            problems.extend(exc.problems)
    ids: dict[str, str] = {}
    for a in out:
        if a.id in ids:
            pc = ProblemCollector()
            try:
                line = TomlLocator(Path(a.file).read_text(encoding="utf-8-sig", errors="replace")).line("id")
            except OSError:
                line = None
            pc.add("DUPLICATE_KEY", f"agreement id '{a.id}' is also used by {ids[a.id]}", file=a.file, row=line,
                   column="id", value=a.id, expected="a different id per agreement")
            problems.extend(pc.problems)
        ids[a.id] = a.file
    if problems:
        raise InputError(problems)
    return out
