"""One vocabulary: how method names and option keys are spelled, everywhere.

Methods are written with underscores in every command option, run-config key and
table (``function_value``, ``equivalent_factor``, ``stock_difference``,
``gain_loss``); the older hyphenated spellings (``equivalent-factor``,
``--model``, ``[uncertainty] models``) are still accepted, with a note
(``OLD_SPELLING``) that the run prints and keeps in its manifest.

Core layer: imports nothing of gep.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ACCOUNT_METHODS = ("function_value", "equivalent_factor")
"""GEP accounting methods (docs/account.md)."""
CARBON_METHODS = ("stock_difference", "gain_loss", "both")
"""Carbon flux methods (docs/carbon.md)."""
GRAIN_RULES = ("one_seventh", "net_profit")
"""Rules for the standard equivalent value from grain statistics (docs/account.md)."""

TUNING_METHODS = ("carbon_stock", "carbon_flux")
"""Accounts the uncertainty and sensitivity analyses take besides the GEP methods (docs/tuning.md)."""

SPELLED = (*ACCOUNT_METHODS, *CARBON_METHODS, *GRAIN_RULES, *TUNING_METHODS)
"""Every word with one spelling; the hyphenated form of each is the old spelling."""

RENAMED_KEYS: Mapping[str, Mapping[str, str]] = {
    "uncertainty": {"models": "methods"},
    "sensitivity": {"models": "methods"},
}
"""Run-config keys renamed, per section: old key → key."""

METHOD_KEYS: Mapping[str, tuple[str, ...]] = {
    "account": ("methods",),
    "carbon": ("method",),
    "transfer": ("method",),
    "uncertainty": ("methods",),
    "sensitivity": ("methods",),
}
"""Run-config keys whose values are method names (after renaming)."""


def spelled(word: str) -> str:
    """``word`` in the one spelling (``equivalent-factor`` → ``equivalent_factor``); other words unchanged."""
    if not isinstance(word, str):
        return word
    fixed = word.strip().replace("-", "_")
    return fixed if fixed in SPELLED else word


def spelled_any(value: Any) -> Any:
    """:func:`spelled` on a word or on each word of a list (a pydantic ``mode="before"`` validator)."""
    if isinstance(value, (list, tuple)):
        return [spelled(v) for v in value]
    return spelled(value)


def old_spelling_note(where: str, old: str, new: str) -> str:
    """The note printed for an old spelling, e.g. ``[account] methods: 'equivalent-factor' is now spelled …``."""
    return f"{where}: '{old}' is now spelled '{new}' (the old spelling still works)"


def respell_section(section: str, data: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A run-config section with renamed keys and method names in the one spelling, and the notes to print."""
    out = dict(data)
    notes: list[str] = []
    for old, new in RENAMED_KEYS.get(section, {}).items():
        if old in out and new not in out:
            out[new] = out.pop(old)
            notes.append(old_spelling_note(f"[{section}]", old, new))
    for key in METHOD_KEYS.get(section, ()):
        value = out.get(key)
        words = value if isinstance(value, list) else [value]
        for w in words:
            if isinstance(w, str) and spelled(w) != w:
                notes.append(old_spelling_note(f"[{section}] {key}", w, spelled(w)))
        if value is not None:
            out[key] = spelled_any(value)
    return out, notes


__all__ = ["ACCOUNT_METHODS", "CARBON_METHODS", "GRAIN_RULES", "METHOD_KEYS", "RENAMED_KEYS", "SPELLED",
           "old_spelling_note", "respell_section", "spelled", "spelled_any"]
