"""Reading user tables for regions (custom region sets, river edges) as all-text DataFrames.

Uses ``gep.loaders.read_raw`` (contracts §5) when it exists; until then a local reader with the
same behaviour: CSV in UTF-8 (with or without BOM) or GBK/GB18030, XLSX (first or named sheet),
every cell as text with surrounding blanks removed, integer-valued numbers without ``.0``.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from gep.errors import InputError, Problem

# Columns the loaders ignore everywhere (contracts §11).
METADATA_COLUMNS = {"data_status", "source", "note", "备注"}


def _cell_text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    s = str(v).strip()
    return s or None


def _local_read(path: Path, sheet: str | None) -> pl.DataFrame:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            ws = wb[sheet] if sheet else wb.worksheets[0]
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
        finally:
            wb.close()
        if not rows:
            return pl.DataFrame()
        header = [_cell_text(h) or f"column_{i + 1}" for i, h in enumerate(rows[0])]
        body = [[_cell_text(v) for v in r] + [None] * (len(header) - len(r)) for r in rows[1:]]
        body = [r[: len(header)] for r in body if any(v is not None for v in r)]
        return pl.DataFrame(
            {h: [r[i] for r in body] for i, h in enumerate(header)},
            schema={h: pl.Utf8 for h in header},
        )
    if suffix == ".parquet":
        df = pl.read_parquet(path)
        return df.select(pl.all().cast(pl.Utf8))
    data = path.read_bytes()
    text: str | None = None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise InputError([Problem("UNREADABLE_FILE", "the file is not UTF-8 or GBK text", file=str(path))])
    if not text.strip():
        return pl.DataFrame()
    df = pl.read_csv(text.encode("utf-8"), infer_schema=False, truncate_ragged_lines=True)
    return df.with_columns(pl.all().str.strip_chars()).with_columns(
        [pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in df.columns]
    )


def read_raw_table(path: str | Path, sheet: str | None = None) -> pl.DataFrame:
    """All-text DataFrame of a CSV/XLSX/Parquet file; raises InputError if missing, empty or unreadable."""
    p = Path(path)
    if not p.exists():
        raise InputError([Problem("FILE_NOT_FOUND", "the file does not exist", file=str(p))])
    try:
        from gep.loaders import read_raw  # type: ignore[attr-defined]
    except ImportError:
        df = _local_read(p, sheet)
    else:
        df = read_raw(p, sheet=sheet).df
    if df.height == 0:
        raise InputError([Problem("EMPTY_FILE", "the file has no data rows", file=str(p))])
    return df


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
    mapping: dict[str, str] = {}
    for c in df.columns:
        canon = lookup.get(_norm_header(c))
        if canon and canon not in mapping.values():
            mapping[c] = canon
    out = df.rename(mapping)
    missing = [r for r in required if r not in out.columns]
    return out, missing
