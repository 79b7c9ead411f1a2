"""The agreement TOML schema as frozen pydantic models (``extra="forbid"``), like every other gep config.

The models declare every table and key an agreement file may hold (docs/compensation.md §Agreement
files) and the kind of value of each key: text, one of a set of choices, a number (≥ 0, > 0 or of
any sign, read as an exact decimal), a table of numbers, or an amount that may be given by year.
gep.compensation.agreement validates every value with its key's declared type (``check_value``) and
every key against the models (``unknown_keys``); a failure is a located problem (file, line, key
path, expected) with one of the codes of gep's interface: UNKNOWN_KEY (with "did you mean"),
WRONG_TYPE, NON_FINITE, NEGATIVE_VALUE, INVALID_VALUE, MISSING_VALUE.

What the models cannot see, because it needs the rest of the agreement (party ids, indicators, the
term: shares that add up to 1, tiers without gaps, schedules within the term, keys required by
the chosen method), agreement.py checks after the values, with the same located problems.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, ConfigDict, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from gep.compensation.money import dec
from gep.compensation.periods import PERIOD_KINDS
from gep.compensation.tomlpos import TomlLocator
from gep.errors import Problem

METHODS = ("index_bet", "pool", "fixed_per_section", "load_price")
PARTY_KINDS = ("county", "prefecture", "province", "treasury", "pool", "external")
MISSING_POLICIES = ("error", "mean_of_available", "skip_period")
ATTRIBUTIONS = ("own_outflow", "inflow_change")
NETTING = ("gross", "pairwise")
VERIFICATION = ("verified", "secondary", "unverified")
AVERAGING = ("arithmetic_mean",)  # period value = arithmetic mean of the period's samples
P_ROUNDING = ("half_up", "down")
CLASSES = ("I", "II", "III", "IV", "V")
COMPLIANCE = ("binary", "share_of_indicators", "share_of_months")
DEDUCTION_BASES = ("responsible_allocation", "fund")
LOAD_MODES = ("load", "exceedance_multiple")
NUMBER_EXAMPLE = 'a number such as 1000000 or "0.25"'


def _text(v: object) -> str:
    if not isinstance(v, str) or not v.strip():
        raise PydanticCustomError("WRONG_TYPE", "must be text", {"expected": "a quoted text value"})
    return v.strip()


def _choice(choices: tuple[str, ...]) -> Callable[[object], str]:
    def check(v: object) -> str:
        s = _text(v)
        if s not in choices:
            raise PydanticCustomError("INVALID_VALUE", "has a value gep does not know",
                                      {"expected": "one of " + ", ".join(choices)})
        return s
    return check


def _number(sign: Literal["any", "nonnegative", "positive"]) -> Callable[[object], Decimal]:
    def check(v: object) -> Decimal:
        if isinstance(v, bool) or not isinstance(v, (int, float, str, Decimal)):
            raise PydanticCustomError("WRONG_TYPE", "must be a number", {"expected": NUMBER_EXAMPLE})
        try:
            x = dec(v)
        except (InvalidOperation, ValueError):
            raise PydanticCustomError("WRONG_TYPE", "must be a number", {"expected": NUMBER_EXAMPLE}) from None
        if not x.is_finite():
            raise PydanticCustomError("NON_FINITE", "must be a finite number", {"expected": "a finite number"})
        if sign == "positive" and x <= 0:
            raise PydanticCustomError("INVALID_VALUE", "must be greater than zero", {"expected": "a number > 0"})
        if sign == "nonnegative" and x < 0:
            raise PydanticCustomError("NEGATIVE_VALUE", "must not be negative", {"expected": "a number ≥ 0"})
        return x
    return check


Text = Annotated[str, BeforeValidator(_text)]
"""Non-empty text (surrounding blanks removed)."""


def Choice(*choices: str) -> Any:  # noqa: N802 - a type factory, read like a type in the models
    """Text that must be one of ``choices``."""
    return Annotated[str, BeforeValidator(_choice(choices))]


Amount = Annotated[Decimal, BeforeValidator(_number("nonnegative"))]
"""A number ≥ 0 (an int, a float or a quoted string), read as an exact decimal."""
Positive = Annotated[Decimal, BeforeValidator(_number("positive"))]
"""A number > 0."""
Signed = Annotated[Decimal, BeforeValidator(_number("any"))]
"""A number of any sign."""
AmountByYear = Union[Amount, dict[str, Amount]]  # noqa: UP007 - the members are looked up by check_value
"""One amount for every period, or a table by year ``{ "2015" = 4e8, "2016-2017" = 3e8 }``."""

_SCALARS: tuple[object, ...] = (Text, Amount, Positive, Signed)


def _is_scalar(ann: object) -> bool:
    return ann in _SCALARS or (get_origin(ann) is Annotated and get_args(ann)[0] is str)


def scalar_type(ann: object, number: bool = False) -> object | None:
    """The text or number type inside a key's declared type (the values of a table, a member of a union).

    ``number``: the number member (``deduction_base`` is a choice or an amount).
    """
    if _is_scalar(ann):
        return ann if not number or ann in (Amount, Positive, Signed) else None
    origin = get_origin(ann)
    if origin is dict:
        return scalar_type(get_args(ann)[1], number)
    if origin in (Union, types.UnionType):
        for member in get_args(ann):
            found = scalar_type(member, number)
            if found is not None:
                return found
    return None


@lru_cache(maxsize=None)
def _adapter(ann: object) -> TypeAdapter[Any]:
    return TypeAdapter(ann)


def check_value(ann: object, value: object) -> tuple[object, tuple[str, str, str] | None]:
    """Validate one value against a key's scalar type: (value, None) or (None, (code, reason, expected)).

    ``reason`` completes a sentence about the key ("must be text", "must not be negative").
    """
    try:
        return _adapter(ann).validate_python(value), None
    except ValidationError as exc:
        err = exc.errors()[0]
        ctx = err.get("ctx") or {}
        return None, (str(err["type"]), str(err["msg"]), str(ctx.get("expected", "")))


class _Table(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PartyIn(_Table):
    """``[[parties]]``: id, name, kind."""

    id: Text | None = None
    name: Text | None = None
    kind: Choice(*PARTY_KINDS) | None = None


class ShareIn(_Table):
    """One entry of a section's ``upstream`` / ``downstream`` list."""

    party: Any = None  # a party id, checked against [[parties]] by agreement.py (UNKNOWN_PARTY)
    share: Amount | dict[str, Amount] | None = None


class SectionIn(_Table):
    """``[[sections]]``: id, name, river, upstream, downstream (a party id or a list of ShareIn)."""

    id: Text | None = None
    name: Text | None = None
    river: Text | None = None
    upstream: str | list[ShareIn] | None = None
    downstream: str | list[ShareIn] | None = None
    inflow_section: Text | None = None
    lon: Signed | None = None
    lat: Signed | None = None


class IndicatorIn(_Table):
    """``[[indicators]]``: name and target_class or standard_mg_l."""

    name: Text | None = None
    target_class: Choice(*CLASSES) | None = None
    standard_mg_l: Positive | None = None


class ProvenanceIn(_Table):
    """``[[provenance]]``: parameter, verification, source."""

    parameter: Text | None = None
    verification: Choice(*VERIFICATION) | None = None
    source: Text | None = None


class TransferIn(_Table):
    """``[[transfers]]``: unconditional transfer (amount per period, by year, or for the whole term)."""

    id: Text | None = None
    payer: Text | None = None
    payee: Text | None = None
    amount_cny: AmountByYear | None = None
    total_cny: Amount | None = None
    split: Literal['equal'] | dict[str, Amount] | None = None
    note: Text | None = None


class PaymentIn(_Table):
    """``[payment]``: due (MM-DD) and years_after_period."""

    due: Text | None = None
    years_after_period: Amount | None = None


class TierIn(_Table):
    """``[[index_bet.tiers]]``."""

    p_above: Signed | None = None
    p_at_most: Signed | None = None
    payer: Text | None = None
    payee: Text | None = None
    amount_cny: AmountByYear | None = None


class IndexBetIn(_Table):
    """``[index_bet]`` (M1)."""

    section: Text | None = None
    k0: Positive | None = None
    weights: dict[str, Amount] | None = None
    baselines_mg_l: dict[str, Positive] | None = None
    tiers: list[TierIn] | None = None
    p_decimals: Amount | None = None
    p_rounding: Choice(*P_ROUNDING) | None = None


class PoolIn(_Table):
    """``[pool]`` (M2)."""

    pool_party: Text | None = None
    fund_cny: AmountByYear | None = None
    fund_total_cny: Amount | None = None
    fund_split: Literal['equal'] | dict[str, Amount] | None = None
    contributions: dict[str, Amount] | None = None
    allocations: dict[str, Amount] | None = None
    compliance: Choice(*COMPLIANCE) | None = None
    deduction_base: Choice(*DEDUCTION_BASES) | Amount | None = None
    section_weights: dict[str, Amount] | None = None


class FixedIn(_Table):
    """``[fixed_per_section]`` (M3)."""

    amount_met_improved_cny: Amount | None = None
    amount_met_declined_cny: Amount | None = None
    amount_not_met_cny: Amount | None = None
    per_pp_improvement_cny: Amount | None = None
    per_pp_deterioration_cny: Amount | None = None
    pp_counterparty: Text | None = None


class LoadPriceIn(_Table):
    """``[load_price]`` (M4)."""

    penalty_prices_cny_per_t: dict[str, Amount] | None = None
    improvement_prices_cny_per_t: dict[str, Amount] | None = None
    improvement_payer: Text | None = None
    mode: Choice(*LOAD_MODES) | None = None
    exceedance_base_cny: dict[str, Amount] | None = None


class AgreementFile(_Table):
    """A whole agreement file."""

    id: Text | None = None
    title: Text | None = None
    method: Choice(*METHODS) | None = None
    period: Choice(*PERIOD_KINDS) | None = None
    start: Text | None = None
    end: Text | None = None
    missing_data: Choice(*MISSING_POLICIES) | None = None
    attribution: Choice(*ATTRIBUTIONS) | None = None
    netting: Choice(*NETTING) | None = None
    data_status: Text | None = None
    notes: Text | None = None
    averaging: Choice(*AVERAGING) | None = None
    parties: list[PartyIn] | None = None
    sections: list[SectionIn] | None = None
    indicators: list[IndicatorIn] | None = None
    provenance: list[ProvenanceIn] | None = None
    transfers: list[TransferIn] | None = None
    payment: PaymentIn | None = None
    index_bet: IndexBetIn | None = None
    pool: PoolIn | None = None
    fixed_per_section: FixedIn | None = None
    load_price: LoadPriceIn | None = None


_MODELS: dict[str, type[_Table]] = {
    "": AgreementFile, "parties": PartyIn, "sections": SectionIn, "upstream": ShareIn, "downstream": ShareIn,
    "indicators": IndicatorIn, "provenance": ProvenanceIn, "transfers": TransferIn, "payment": PaymentIn,
    "index_bet": IndexBetIn, "tiers": TierIn, "pool": PoolIn, "fixed_per_section": FixedIn, "load_price": LoadPriceIn,
}


_CLASS_NAMES = {m.__name__ for m in _MODELS.values()}


def _model_of(loc: tuple[object, ...]) -> type[_Table]:
    """The model that owns the key at ``loc`` (the last named table on the path)."""
    for part in reversed(loc[:-1]):
        if isinstance(part, str) and part in _MODELS:
            return _MODELS[part]
    return AgreementFile


def key_type(loc: tuple[object, ...]) -> object:
    """Declared type of the key at ``loc`` (a key path such as ("pool", "fund_cny", "2015") → PoolIn.fund_cny).

    The owner is the last named table on the path; the key is the first name after it (the values of a
    table of numbers or of amounts by year share their key's type).
    """
    names = [(i, p) for i, p in enumerate(loc) if isinstance(p, str)]
    owner, start = AgreementFile, 0
    for i, part in reversed(names[:-1]):
        if part in _MODELS:
            owner, start = _MODELS[part], i + 1
            break
    key = next(p for p in loc[start:] if isinstance(p, str))
    return owner.model_fields[key].annotation


def unknown_keys(data: dict[str, Any], file: str, loc: TomlLocator) -> list[Problem]:
    """UNKNOWN_KEY problems (file, line, key path, did you mean) for keys the schema does not have.

    Union members (a party id or a list; a table or anything) make pydantic report a key once per
    member; problems are kept once per key path.
    """
    try:
        AgreementFile.model_validate(data)
    except ValidationError as exc:
        out: dict[tuple[object, ...], Problem] = {}
        for err in exc.errors():
            if err["type"] != "extra_forbidden":
                continue
            path = tuple(p for p in err["loc"] if not (isinstance(p, str) and (
                p == "str" or p.startswith("list[") or p in _CLASS_NAMES)))
            if path in out:
                continue
            key = str(path[-1])
            fields = list(_model_of(path).model_fields)
            near = difflib.get_close_matches(key, fields, n=1, cutoff=0.6)
            table = ".".join(str(p) for p in path[:-1] if not isinstance(p, int)) or "the top level"
            out[path] = Problem(
                "UNKNOWN_KEY",
                f"'{key}' is not a key of {table}" + (f"; did you mean '{near[0]}'?" if near else ""),
                file=file, row=loc.line(*path) or 1,
                column=".".join(str(p) for p in path if not isinstance(p, int)),
                value=key, expected="one of " + ", ".join(fields),
            )
        return list(out.values())
    return []
