"""Compensation agreements as data: TOML files read and validated into frozen objects.

File format: docs/compensation.md §Agreement files. Validation collects every
problem (file, line, field, expected) and raises one gep.errors.InputError.
Method families as in docs/compensation.md and docs/formulas.md §5 (M1 index bet,
M2 pooled fund, M3 fixed amount per section, M4 load × unit price).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from gep.compensation.money import dec
from gep.compensation.periods import PERIOD_KINDS, parse_month
from gep.compensation.tomlpos import TomlLocator
from gep.errors import InputError, ProblemCollector

METHODS = ("index_bet", "pool", "fixed_per_section", "load_price")
METHOD_CODES = {"index_bet": "M1", "pool": "M2", "fixed_per_section": "M3", "load_price": "M4"}
PARTY_KINDS = ("county", "prefecture", "province", "treasury", "pool", "external")
MISSING_POLICIES = ("error", "mean_of_available", "skip_period")
ATTRIBUTIONS = ("own_outflow", "inflow_change")
NETTING = ("gross", "pairwise")
VERIFICATION = ("verified", "secondary", "unverified")
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
CLASSES = ("I", "II", "III", "IV", "V")


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


@dataclass(frozen=True)
class Tier:
    """M1 payout tier: when p_above < P <= p_at_most, payer pays payee amount_cny."""

    p_above: Decimal | None
    p_at_most: Decimal | None
    payer: str
    payee: str
    amount_cny: Decimal


@dataclass(frozen=True)
class IndexBetParams:
    """M1 (Xin'an style): P = k0 · Σ k_i · C_i / C_i0 with payout tiers."""

    section: str
    k0: Decimal
    weights: tuple[tuple[str, Decimal], ...]
    baselines_mg_l: tuple[tuple[str, Decimal], ...]
    tiers: tuple[Tier, ...]


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

    @property
    def party_ids(self) -> list[str]:
        return [p.id for p in self.parties]

    def unverified(self) -> list[str]:
        """Parameters flagged unverified in the agreement's provenance list."""
        return [p.parameter for p in self.provenance if p.verification == "unverified"]

    def section(self, section_id: str) -> Section:
        for s in self.sections:
            if s.id == section_id:
                return s
        raise KeyError(section_id)


class _V:
    """Validation helper: typed getters that record problems with line numbers."""

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

    def text(self, d: Mapping[str, Any], key: str, path: tuple[object, ...], *, required: bool = True,
             default: str | None = None, choices: tuple[str, ...] | None = None) -> str | None:
        if key not in d:
            if required:
                self.add("MISSING_VALUE", f"the agreement needs '{key}'", path, expected="a value for " + key)
            return default
        v = d[key]
        if not isinstance(v, str) or not v.strip():
            self.add("WRONG_TYPE", f"'{key}' must be text", path + (key,), value=v, expected="a quoted text value")
            return default
        v = v.strip()
        if choices is not None and v not in choices:
            self.add("INVALID_VALUE", f"'{key}' has a value gep does not know", path + (key,), value=v,
                     expected="one of " + ", ".join(choices))
            return default
        return v

    def number(self, d: Mapping[str, Any], key: str, path: tuple[object, ...], *, required: bool = True,
               default: Decimal | None = None, nonnegative: bool = True, positive: bool = False) -> Decimal | None:
        if key not in d:
            if required:
                self.add("MISSING_VALUE", f"the agreement needs '{key}'", path, expected="a number for " + key)
            return default
        return self.as_number(d[key], path + (key,), nonnegative=nonnegative, positive=positive)

    def as_number(self, v: object, path: tuple[object, ...], *, nonnegative: bool = True, positive: bool = False) -> Decimal | None:
        name = ".".join(str(p) for p in path if not isinstance(p, int))
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            self.add("WRONG_TYPE", f"'{name}' must be a number", path, value=v, expected="a number such as 1000000 or \"0.25\"")
            return None
        try:
            x = dec(v)
        except (InvalidOperation, ValueError):
            self.add("WRONG_TYPE", f"'{name}' must be a number", path, value=v, expected="a number such as 1000000 or \"0.25\"")
            return None
        if not x.is_finite():
            self.add("NON_FINITE", f"'{name}' must be a finite number", path, value=v, expected="a finite number")
            return None
        if positive and x <= 0:
            self.add("INVALID_VALUE", f"'{name}' must be greater than zero", path, value=v, expected="a number > 0")
            return None
        if nonnegative and x < 0:
            self.add("NEGATIVE_VALUE", f"'{name}' must not be negative", path, value=v, expected="a number ≥ 0")
            return None
        return x

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

    def number_map(self, d: Mapping[str, Any], key: str, path: tuple[object, ...], *, required: bool = True,
                   positive: bool = False) -> tuple[tuple[str, Decimal], ...]:
        t = self.table(d, key, path, required=required)
        if t is None:
            return ()
        out: list[tuple[str, Decimal]] = []
        for k, v in t.items():
            x = self.as_number(v, path + (key, k), positive=positive)
            if x is not None:
                out.append((str(k), x))
        return tuple(out)


def load_agreement(path: str | Path, known_regions: set[str] | None = None) -> Agreement:
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


def parse_agreement(text: str, file: str = "<agreement>", known_regions: set[str] | None = None) -> Agreement:
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

    aid = v.text(data, "id", root) or "?"
    title = v.text(data, "title", root, required=False, default=aid) or aid
    method = v.text(data, "method", root, choices=METHODS) or ""
    period = v.text(data, "period", root, choices=PERIOD_KINDS) or "year"
    start_t = v.text(data, "start", root)
    end_t = v.text(data, "end", root)
    start = _parse_period_bound(v, start_t, "start", first=True)
    end = _parse_period_bound(v, end_t, "end", first=False)
    if start and end and start > end:
        v.add("INVALID_VALUE", "'start' is after 'end'", ("start",), value=f"{start_t} > {end_t}",
              expected="start ≤ end")
    missing = v.text(data, "missing_data", root, required=False, default="error", choices=MISSING_POLICIES) or "error"
    attribution = v.text(data, "attribution", root, required=False, default="own_outflow", choices=ATTRIBUTIONS) or "own_outflow"
    netting = v.text(data, "netting", root, required=False, default="gross", choices=NETTING) or "gross"
    data_status = v.text(data, "data_status", root, required=False, default="unspecified") or "unspecified"
    notes = v.text(data, "notes", root, required=False, default="") or ""

    parties = _parse_parties(v, data, known_regions)
    party_ids = {pt.id for pt in parties}
    indicators = _parse_indicators(v, data)
    ind_names = [i.name for i in indicators]
    sections = _parse_sections(v, data, party_ids, ind_names)
    section_ids = [s.id for s in sections]
    provenance = _parse_provenance(v, data)

    params: Any = None
    if method == "index_bet":
        params = _parse_index_bet(v, data, section_ids, party_ids, ind_names)
    elif method == "pool":
        params = _parse_pool(v, data, section_ids, party_ids, parties)
    elif method == "fixed_per_section":
        params = _parse_fixed(v, data, party_ids)
    elif method == "load_price":
        params = _parse_load_price(v, data, party_ids, ind_names)
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


def _parse_parties(v: _V, data: Mapping[str, Any], known: set[str] | None) -> list[Party]:
    out: list[Party] = []
    seen: set[str] = set()
    for i, t in enumerate(_list_of_tables(v, data, "parties")):
        path = ("parties", i)
        pid = v.text(t, "id", path)
        name = v.text(t, "name", path, required=False, default=pid or "") or ""
        kind = v.text(t, "kind", path, choices=PARTY_KINDS) or "external"
        if pid is None:
            continue
        if pid in seen:
            v.add("DUPLICATE_KEY", f"party '{pid}' is listed twice", path + ("id",), value=pid, expected="each party once")
        seen.add(pid)
        if known is not None and kind in ("county", "prefecture") and pid not in known:
            v.add("UNKNOWN_REGION", f"party '{pid}' ({name}) is not a region of the registry", path + ("id",),
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
        std = v.number(t, "standard_mg_l", path, required=False, positive=True)
        cls = v.text(t, "target_class", path, required=False, choices=CLASSES)
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
        lon = v.number(t, "lon", path, required=False, nonnegative=False)
        lat = v.number(t, "lat", path, required=False, nonnegative=False)
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
        ver = v.text(t, "verification", path, choices=VERIFICATION) or "unverified"
        src = v.text(t, "source", path, required=False, default="") or ""
        out.append(Provenance(par, ver, src))
    return out


def _party_or_role(v: _V, t: Mapping[str, Any], key: str, path: tuple[object, ...], party_ids: set[str]) -> str:
    val = v.text(t, key, path) or "upstream"
    if val not in ROLES and val not in party_ids:
        v.add("UNKNOWN_PARTY", f"'{key}' must be 'upstream', 'downstream' or a party id", path + (key,), value=val,
              expected="upstream, downstream or an id under [[parties]]")
    return val


def _parse_index_bet(v: _V, data: Mapping[str, Any], sections: list[str], party_ids: set[str], inds: list[str]) -> IndexBetParams:
    path: tuple[object, ...] = ("index_bet",)
    t = v.table(data, "index_bet", ())
    if t is None:
        return IndexBetParams("", Decimal(1), (), (), ())
    sec = v.text(t, "section", path, required=len(sections) != 1, default=sections[0] if sections else "") or ""
    if sec and sec not in sections:
        v.add("UNKNOWN_SECTION", "index_bet.section is not among [[sections]]", path + ("section",), value=sec,
              expected="one of " + ", ".join(sections))
    k0 = v.number(t, "k0", path, positive=True) or Decimal(1)
    weights = v.number_map(t, "weights", path)
    baselines = v.number_map(t, "baselines_mg_l", path, positive=True)
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
        lo = v.number(tt, "p_above", tp, required=False, nonnegative=False)
        hi = v.number(tt, "p_at_most", tp, required=False, nonnegative=False)
        payer = _party_or_role(v, tt, "payer", tp, party_ids)
        payee = _party_or_role(v, tt, "payee", tp, party_ids)
        amt = v.number(tt, "amount_cny", tp) or Decimal(0)
        tiers.append(Tier(lo, hi, payer, payee, amt))
    # tiers must not overlap
    for a in range(len(tiers)):
        for b in range(a + 1, len(tiers)):
            ta, tb = tiers[a], tiers[b]
            lo = max(ta.p_above if ta.p_above is not None else Decimal("-1e30"), tb.p_above if tb.p_above is not None else Decimal("-1e30"))
            hi = min(ta.p_at_most if ta.p_at_most is not None else Decimal("1e30"), tb.p_at_most if tb.p_at_most is not None else Decimal("1e30"))
            if lo < hi:
                v.add("INVALID_VALUE", f"index_bet tiers {a + 1} and {b + 1} overlap", path + ("tiers", b),
                      expected="P intervals (p_above, p_at_most] that do not overlap")
    return IndexBetParams(sec, k0, weights, baselines, tuple(tiers))


def _parse_pool(v: _V, data: Mapping[str, Any], sections: list[str], party_ids: set[str], parties: list[Party]) -> PoolParams:
    path: tuple[object, ...] = ("pool",)
    t = v.table(data, "pool", ())
    if t is None:
        return PoolParams("", Decimal(0), (), (), "fund", None, "binary", ())
    pool_party = v.text(t, "pool_party", path) or ""
    if pool_party and pool_party not in party_ids:
        v.add("UNKNOWN_PARTY", "pool.pool_party must be listed under [[parties]] (kind = \"pool\")", path + ("pool_party",),
              value=pool_party, expected="an id under [[parties]]")
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
    base_raw = t.get("deduction_base", "responsible_allocation")
    fixed: Decimal | None = None
    if isinstance(base_raw, str) and base_raw in ("responsible_allocation", "fund"):
        base = base_raw
    else:
        fixed = v.as_number(base_raw, path + ("deduction_base",))
        base = "fixed"
    compliance = v.text(t, "compliance", path, required=False, default="binary",
                        choices=("binary", "share_of_indicators", "share_of_months")) or "binary"
    weights = v.number_map(t, "section_weights", path, required=False)
    wd = dict(weights)
    for sid, _ in weights:
        if sid not in sections:
            v.add("UNKNOWN_SECTION", "pool.section_weights names a section not in [[sections]]", path + ("section_weights", sid),
                  value=sid, expected="one of " + ", ".join(sections))
    full = tuple((s, wd.get(s, Decimal(1))) for s in sections)
    return PoolParams(pool_party, fund, contributions, allocations, base, fixed, compliance, full)


def _parse_fixed(v: _V, data: Mapping[str, Any], party_ids: set[str]) -> FixedParams:
    path: tuple[object, ...] = ("fixed_per_section",)
    t = v.table(data, "fixed_per_section", ())
    z = Decimal(0)
    if t is None:
        return FixedParams(z, z, z, z, z, None)
    a1 = v.number(t, "amount_met_improved_cny", path, required=False, default=z) or z
    a2 = v.number(t, "amount_met_declined_cny", path, required=False, default=z) or z
    a3 = v.number(t, "amount_not_met_cny", path, required=False, default=z) or z
    pp_i = v.number(t, "per_pp_improvement_cny", path, required=False, default=z) or z
    pp_d = v.number(t, "per_pp_deterioration_cny", path, required=False, default=z) or z
    cp = v.text(t, "pp_counterparty", path, required=bool(pp_i or pp_d))
    if cp is not None and cp not in party_ids:
        v.add("UNKNOWN_PARTY", "fixed_per_section.pp_counterparty must be a party id", path + ("pp_counterparty",), value=cp,
              expected="an id under [[parties]] (e.g. the provincial treasury)")
    return FixedParams(a1, a2, a3, pp_i, pp_d, cp)


def _parse_load_price(v: _V, data: Mapping[str, Any], party_ids: set[str], inds: list[str]) -> LoadPriceParams:
    path: tuple[object, ...] = ("load_price",)
    t = v.table(data, "load_price", ())
    if t is None:
        return LoadPriceParams((), (), "downstream")
    mode = v.text(t, "mode", path, required=False, default="load", choices=("load", "exceedance_multiple")) or "load"
    pen = v.number_map(t, "penalty_prices_cny_per_t", path, required=mode == "load")
    imp = v.number_map(t, "improvement_prices_cny_per_t", path, required=False)
    base = v.number_map(t, "exceedance_base_cny", path, required=mode == "exceedance_multiple")
    for key, m in (("penalty_prices_cny_per_t", pen), ("improvement_prices_cny_per_t", imp), ("exceedance_base_cny", base)):
        for name, _ in m:
            if name not in inds:
                v.add("UNKNOWN_INDICATOR", f"load_price.{key} names an indicator not in [[indicators]]", path + (key, name),
                      value=name, expected="one of " + ", ".join(inds))
    payer = v.text(t, "improvement_payer", path, required=False, default="downstream") or "downstream"
    if payer != "downstream" and payer not in party_ids:
        v.add("UNKNOWN_PARTY", "load_price.improvement_payer must be 'downstream' or a party id", path + ("improvement_payer",),
              value=payer, expected="downstream or an id under [[parties]]")
    return LoadPriceParams(pen, imp, payer, mode, base)


def load_agreements(paths: list[str | Path], known_regions: set[str] | None = None) -> list[Agreement]:
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
