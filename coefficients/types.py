"""The 14 ecosystem types of Xie et al. (2015) and their aliases.

The canonical name of a type is its Chinese name in 谢高地 et al. 2015, 自然资源学报
30(8):1243-1254 (旱地 水田 针叶 针阔混交 阔叶 灌木 草原 灌草丛 草甸 湿地 荒漠 裸地 水系
冰川积雪). The English code (``meadow``) and the English name (``Meadow``) are
aliases; matching ignores surrounding blanks and ASCII case.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import overload

import polars as pl

from gep.errors import InputError, Problem

PACKAGE_DIR = Path(__file__).resolve().parent
TYPES_FILE = PACKAGE_DIR / "ecosystem_types.csv"


@lru_cache(maxsize=1)
def _types() -> pl.DataFrame:
    return pl.read_csv(TYPES_FILE, infer_schema=False)


def ecosystem_types() -> pl.DataFrame:
    """``ecosystem_type, code, name_en, group, level1_zh, source, verification, note`` (14 rows, Xie 2015 order)."""
    return _types().clone()


@lru_cache(maxsize=1)
def _alias_map() -> dict[str, str]:
    """Lower-cased alias → canonical Chinese name (name, code, English name)."""
    out: dict[str, str] = {}
    for rec in _types().iter_rows(named=True):
        for alias in (rec["ecosystem_type"], rec["code"], rec["name_en"]):
            if alias:
                out[str(alias).strip().lower()] = rec["ecosystem_type"]
    return out


def unknown_type_problem(
    value: object, file: str | None = None, row: int | None = None, column: str | None = "ecosystem_type"
) -> Problem:
    """The UNKNOWN_ECOSYSTEM_TYPE problem for ``value``, listing the accepted names."""
    names = ", ".join(f"{r['ecosystem_type']} ({r['code']})" for r in _types().iter_rows(named=True))
    return Problem(
        code="UNKNOWN_ECOSYSTEM_TYPE",
        message=f"'{value}' is not one of the 14 ecosystem types of Xie et al. 2015",
        file=file,
        row=row,
        column=column,
        value=None if value is None else str(value),
        expected=f"a Chinese name or English code: {names}",
    )


@overload
def normalize_ecosystem_type(expr: str) -> str: ...


@overload
def normalize_ecosystem_type(expr: pl.Expr) -> pl.Expr: ...


def normalize_ecosystem_type(expr: str | pl.Expr) -> str | pl.Expr:
    """Canonical Chinese ecosystem-type name for a name, English code or English name.

    A string gives a string, or raises :class:`InputError` (code
    ``UNKNOWN_ECOSYSTEM_TYPE``). A Polars expression gives an expression whose
    unknown values are null (check them with :func:`unknown_type_problem`).
    Ref: 谢高地 et al. 2015, 自然资源学报 30(8), 14 ecosystem types.
    """
    mapping = _alias_map()
    if isinstance(expr, pl.Expr):
        return (
            expr.cast(pl.Utf8)
            .str.strip_chars()
            .str.to_lowercase()
            .replace_strict(mapping, default=None, return_dtype=pl.Utf8)
        )
    key = str(expr).strip().lower()
    if key in mapping:
        return mapping[key]
    raise InputError([unknown_type_problem(expr)])


def is_ecosystem_type(value: str) -> bool:
    """True when ``value`` is a canonical name or an alias of one of the 14 types."""
    return str(value).strip().lower() in _alias_map()
