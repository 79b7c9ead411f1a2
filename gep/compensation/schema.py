"""The agreement TOML schema as frozen pydantic models (``extra="forbid"``), like every other gep config.

The models declare every table and key an agreement file may hold (docs/compensation.md §Agreement
files). gep.compensation.agreement runs them first: a key that is not in the schema (a typo such as
``section_weigths``, which would otherwise be ignored and leave a default in force) is the problem
``UNKNOWN_KEY`` with the file, the key's line (gep.compensation.tomlpos), the key path and "did you
mean". Values are then checked by the located validators of ``agreement.py`` (types, choices,
shares, schedules, tiers), whose messages and codes are part of gep's interface.

Values are typed ``Any`` here on purpose (tables are typed, so their keys are checked): their checks need the agreement's own context (party ids,
indicators, the term), so they live in the validators; the models own the structure.
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from gep.compensation.tomlpos import TomlLocator
from gep.errors import Problem


class _Table(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PartyIn(_Table):
    """``[[parties]]``: id, name, kind."""

    id: Any = None
    name: Any = None
    kind: Any = None


class ShareIn(_Table):
    """One entry of a section's ``upstream`` / ``downstream`` list."""

    party: Any = None
    share: Any = None


class SectionIn(_Table):
    """``[[sections]]``: id, name, river, upstream, downstream (a party id or a list of ShareIn)."""

    id: Any = None
    name: Any = None
    river: Any = None
    upstream: str | list[ShareIn] | None = None
    downstream: str | list[ShareIn] | None = None
    inflow_section: Any = None
    lon: Any = None
    lat: Any = None


class IndicatorIn(_Table):
    """``[[indicators]]``: name and target_class or standard_mg_l."""

    name: Any = None
    target_class: Any = None
    standard_mg_l: Any = None


class ProvenanceIn(_Table):
    """``[[provenance]]``: parameter, verification, source."""

    parameter: Any = None
    verification: Any = None
    source: Any = None


class TransferIn(_Table):
    """``[[transfers]]``: unconditional transfer (amount per period, by year, or for the whole term)."""

    id: Any = None
    payer: Any = None
    payee: Any = None
    amount_cny: Any = None
    total_cny: Any = None
    split: Any = None
    note: Any = None


class PaymentIn(_Table):
    """``[payment]``: due (MM-DD) and years_after_period."""

    due: Any = None
    years_after_period: Any = None


class TierIn(_Table):
    """``[[index_bet.tiers]]``."""

    p_above: Any = None
    p_at_most: Any = None
    payer: Any = None
    payee: Any = None
    amount_cny: Any = None


class IndexBetIn(_Table):
    """``[index_bet]`` (M1)."""

    section: Any = None
    k0: Any = None
    weights: Any = None
    baselines_mg_l: Any = None
    tiers: list[TierIn] | None = None
    p_decimals: Any = None
    p_rounding: Any = None


class PoolIn(_Table):
    """``[pool]`` (M2)."""

    pool_party: Any = None
    fund_cny: Any = None
    fund_total_cny: Any = None
    fund_split: Any = None
    contributions: Any = None
    allocations: Any = None
    compliance: Any = None
    deduction_base: Any = None
    section_weights: Any = None


class FixedIn(_Table):
    """``[fixed_per_section]`` (M3)."""

    amount_met_improved_cny: Any = None
    amount_met_declined_cny: Any = None
    amount_not_met_cny: Any = None
    per_pp_improvement_cny: Any = None
    per_pp_deterioration_cny: Any = None
    pp_counterparty: Any = None


class LoadPriceIn(_Table):
    """``[load_price]`` (M4)."""

    penalty_prices_cny_per_t: Any = None
    improvement_prices_cny_per_t: Any = None
    improvement_payer: Any = None
    mode: Any = None
    exceedance_base_cny: Any = None


class AgreementFile(_Table):
    """A whole agreement file."""

    id: Any = None
    title: Any = None
    method: Any = None
    period: Any = None
    start: Any = None
    end: Any = None
    missing_data: Any = None
    attribution: Any = None
    netting: Any = None
    data_status: Any = None
    notes: Any = None
    averaging: Any = None
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
