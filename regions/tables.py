"""Reading user tables for regions (custom region sets, river edges) as all-text DataFrames.

Files are read with ``gep.readers.read_raw`` (contracts §5); header aliases are matched here
because a region file accepts several alternative names per column (docs/regions.md §3).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from gep.readers import ROW, read_raw


def read_raw_table(path: str | Path, sheet: str | None = None) -> tuple[pl.DataFrame, str]:
    """All-text DataFrame of a CSV/XLSX/Parquet file plus a ``_row`` column, and the file label.

    Reads with ``gep.readers.read_raw`` (UTF-8/BOM/GBK CSV, XLSX, Parquet); raises InputError
    (FILE_NOT_FOUND, UNREADABLE_FILE, EMPTY_FILE, MISSING_SHEET).
    """
    raw = read_raw(Path(path), sheet=sheet, display_name=str(path))
    return raw.df.with_columns(raw.rows.alias(ROW)), raw.file


def _norm_header(h: str) -> str:
    return h.strip().lower().replace("（", "(").replace("）", ")").replace(" ", "")


def rename_aliases(
    df: pl.DataFrame, aliases: dict[str, list[str]], required: list[str]
) -> tuple[pl.DataFrame, list[str]]:
    """Rename alias headers to canonical names; returns the frame and the missing required names."""
    lookup: dict[str, str] = {}
    for canon, names in aliases.items():
        for n in [canon, *names]:
            lookup.setdefault(_norm_header(n), canon)
    taken = {c for c in df.columns if c in aliases}  # a column already named canonically wins
    mapping: dict[str, str] = {}
    for c in df.columns:
        found = lookup.get(_norm_header(c))
        if found is not None and c not in taken and found not in taken:
            mapping[c] = found
            taken.add(found)
    out = df.rename(mapping)
    missing = [r for r in required if r not in out.columns]
    return out, missing
