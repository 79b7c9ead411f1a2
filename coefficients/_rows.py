"""Row checks shared by coefficient tables, override files and crosswalks.

Every check is a whole-column Polars expression; only the rows that fail are
turned into :class:`gep.errors.Problem` objects (file, spreadsheet row with
header = row 1, column, bad value, what was expected).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import polars as pl

from gep import units
from gep.errors import Problem

ROW = "_row"

STANDARD_COLUMNS: tuple[str, ...] = (
    "value",
    "unit",
    "price_year",
    "source",
    "verification",
    "low",
    "high",
    "distribution",
    "note",
)
"""Columns every coefficient row may carry besides its keys (docs/contracts.md §6)."""

REQUIRED_COLUMNS: tuple[str, ...] = ("value", "unit", "source", "verification")

VERIFICATION: tuple[str, ...] = ("verified", "secondary", "unverified")
"""Allowed verification values, best first (reference tags ✅ 🔶 ⚠️)."""

VERIFICATION_RANK: dict[str, int] = {v: i for i, v in enumerate(VERIFICATION)}

DISTRIBUTIONS: tuple[str, ...] = ("uniform", "triangular", "normal", "lognormal")

_VERIFICATION_ALIASES: dict[str, str] = {
    "verified": "verified",
    "✅": "verified",
    "已核实": "verified",
    "secondary": "secondary",
    "🔶": "secondary",
    "二手": "secondary",
    "unverified": "unverified",
    "⚠️": "unverified",
    "⚠": "unverified",
    "未核实": "unverified",
}

COLUMN_ALIASES: dict[str, str] = {
    # standard columns
    "数值": "value",
    "值": "value",
    "系数": "value",
    "当量": "value",
    "单位": "unit",
    "units": "unit",
    "价格年": "price_year",
    "价格基准年": "price_year",
    "基准年": "price_year",
    "来源": "source",
    "出处": "source",
    "数据来源": "source",
    "核实状态": "verification",
    "验证状态": "verification",
    "verification_status": "verification",
    "下限": "low",
    "上限": "high",
    "分布": "distribution",
    "备注": "note",
    "说明": "note",
    "notes": "note",
    # common keys
    "生态系统类型": "ecosystem_type",
    "生态系统": "ecosystem_type",
    "服务": "service",
    "服务类型": "service",
    "生态系统服务": "service",
    "表": "table",
    "表名": "table",
}


def canonical_header(header: str, extra: dict[str, str] | None = None) -> str:
    """Canonical column name for a header: strip, ASCII lower-case, documented Chinese aliases."""
    h = str(header).strip().lstrip("\ufeff")
    low = h.lower() if h.isascii() else h
    low = re.sub(r"\s+", "_", low)
    aliases = {**COLUMN_ALIASES, **(extra or {})}
    return aliases.get(low, low)


def rename_headers(df: pl.DataFrame, extra: dict[str, str] | None = None) -> tuple[pl.DataFrame, list[str]]:
    """Rename headers to canonical names; returns the frame and the names that clashed."""
    mapping: dict[str, str] = {}
    seen: dict[str, str] = {}
    clashes: list[str] = []
    for c in df.columns:
        if c == ROW:
            continue
        new = canonical_header(c, extra)
        if new in seen:
            clashes.append(f"'{seen[new]}' and '{c}' both mean '{new}'")
            continue
        seen[new] = c
        mapping[c] = new
    keep = [c for c in df.columns if c in mapping or c == ROW]
    return df.select(keep).rename({k: v for k, v in mapping.items() if k != v}), clashes


def normalize_verification(expr: pl.Expr) -> pl.Expr:
    """Verification text → verified/secondary/unverified (tags ✅ 🔶 ⚠️ accepted); unknown → null."""
    return (
        expr.cast(pl.Utf8)
        .str.strip_chars()
        .str.to_lowercase()
        .replace_strict(_VERIFICATION_ALIASES, default=None, return_dtype=pl.Utf8)
    )


def bad_rows(df: pl.DataFrame, mask: pl.Expr, column: str | None = None) -> list[tuple[int, str | None]]:
    """(row, original text) for the rows where ``mask`` holds."""
    cols = [ROW] + ([column] if column and column in df.columns else [])
    sub = df.filter(mask).select(cols)
    if column and column in df.columns:
        return [(int(r), None if v is None else str(v)) for r, v in sub.iter_rows()]
    return [(int(r[0]), None) for r in sub.iter_rows()]


def check_required_columns(
    df: pl.DataFrame, required: Sequence[str], file: str, what: str
) -> list[Problem]:
    """MISSING_COLUMN (row 1) for each required column absent from ``df``."""
    present = ", ".join(c for c in df.columns if c != ROW)
    return [
        Problem(
            "MISSING_COLUMN",
            f"{what} has no column '{c}'",
            file=file,
            row=1,
            column=c,
            expected=f"columns {', '.join(required)} (found: {present})",
        )
        for c in required
        if c not in df.columns
    ]


def check_nonempty(df: pl.DataFrame, columns: Sequence[str], file: str, why: str = "") -> list[Problem]:
    """MISSING_VALUE for every empty cell of ``columns``."""
    out: list[Problem] = []
    for c in columns:
        if c not in df.columns:
            continue
        for row, _ in bad_rows(df, pl.col(c).is_null() | (pl.col(c).cast(pl.Utf8).str.strip_chars() == "")):
            out.append(Problem("MISSING_VALUE", f"column '{c}' is empty{why}", file=file, row=row, column=c,
                               expected="a value"))
    return out


def check_duplicates(df: pl.DataFrame, keys: Sequence[str], file: str) -> list[Problem]:
    """DUPLICATE_KEY for every key combination that appears on more than one row (all rows listed)."""
    if not keys or any(k not in df.columns for k in keys):
        return []
    dup = (
        df.group_by(list(keys), maintain_order=True)
        .agg(pl.col(ROW).sort().alias("rows"))
        .filter(pl.col("rows").list.len() > 1)
    )
    out: list[Problem] = []
    for rec in dup.iter_rows(named=True):
        key_text = ", ".join(f"{k}={rec[k]}" for k in keys)
        rows = rec["rows"]
        out.append(Problem(
            "DUPLICATE_KEY",
            f"key ({key_text}) appears on rows {', '.join(str(r) for r in rows)}",
            file=file, row=int(rows[1]), column=keys[0], value=key_text,
            expected=f"each combination of {', '.join(keys)} once",
        ))
    return out


def parse_float(df: pl.DataFrame, column: str, file: str, required: bool) -> tuple[pl.Series, list[Problem]]:
    """Float64 series for a text column; WRONG_TYPE, NON_FINITE and (if required) MISSING_VALUE problems."""
    if column not in df.columns:
        return pl.Series(column, [None] * df.height, dtype=pl.Float64), []
    raw = pl.col(column).cast(pl.Utf8).str.strip_chars().str.replace_all(",", "")
    num = raw.cast(pl.Float64, strict=False)
    probs: list[Problem] = []
    empty = raw.is_null() | (raw == "")
    for row, val in bad_rows(df, ~empty & num.is_null(), column):
        probs.append(Problem("WRONG_TYPE", f"column '{column}' is not a number", file=file, row=row,
                             column=column, value=val, expected="a number such as 0.85 or -2.63"))
    for row, val in bad_rows(df, ~empty & num.is_not_null() & ~num.is_finite(), column):
        probs.append(Problem("NON_FINITE", f"column '{column}' is not a finite number", file=file, row=row,
                             column=column, value=val, expected="a finite number"))
    if required:
        for row, _ in bad_rows(df, empty):
            probs.append(Problem("MISSING_VALUE", f"column '{column}' is empty", file=file, row=row,
                                 column=column, expected="a number"))
    series = df.select(pl.when(num.is_finite()).then(num).otherwise(None).alias(column)).to_series()
    return series, probs


FLAG_UNITS: frozenset[str] = frozenset({"indicator", "flag", "0/1", "标志"})
"""Labels accepted as the unit of 0/1 inclusion flags (dimensionless)."""

_SUBSTANCE = re.compile(
    r"^(?P<unit>.*?)\s*(?:C|CO2e?|CO₂e?|CH4(?:-C)?|CH₄(?:-C)?|N2O(?:-N)?|N₂O(?:-N)?|N|P|K|O2|SO2|NOx|dm|DM|干物质|碳)$"
)


def _part_ok(part: str) -> bool:

    if units.is_unit(part):
        return True
    m = _SUBSTANCE.match(part.strip())
    return bool(m and m.group("unit") and units.is_unit(m.group("unit")))


def unit_ok(unit: str) -> bool:
    """True when gep.units parses the unit (simple or compound: ``CNY/hm2``, ``t C/ha/yr``).

    What is weighed may follow a mass unit (``t C``, ``t dm``, ``kg CH4-C``): the
    label names the substance, gep.units parses the unit before it. 0/1 flags may
    use the unit ``indicator`` or ``flag``.
    """

    text = str(unit).strip()
    if text in FLAG_UNITS or units.is_unit(text):
        return True
    parts = [p for p in text.split("/")]
    return len(parts) > 1 and all(p.strip() and _part_ok(p) for p in parts)
