"""Raw reading of the files users send: CSV, XLSX and Parquet, as text cells.

Formats: CSV in UTF-8, UTF-8 with BOM, or GBK/GB18030 (as Excel in China saves
them; detected), XLSX (first or named sheet; title and note rows above the
header are skipped) and Parquet. Every cell is kept as text, with the
spreadsheet row number of each data row (header = row 1), so that
:mod:`gep.tablespec` can check types and name the row of every problem.

Core layer: imports nothing of gep but :mod:`gep.errors`.
"""

from __future__ import annotations

import contextvars
import csv
import datetime as _dt
import io
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from gep.errors import InputError, Problem

ROW = "_row"
"""Name of the spreadsheet row-number column (header = row 1, first data row = 2)."""

XLSX_SUFFIXES = (".xlsx", ".xlsm")

READ_NOTES: contextvars.ContextVar[list[Problem] | None] = contextvars.ContextVar("gep_read_notes", default=None)
"""Notes of the reading layer (the sheet a workbook was read from, region codes normalised …) for the run's
manifest and ``gep validate``'s output; collected with :func:`collect_read_notes`."""


def note(problem: Problem) -> None:
    """Record a reading note (a warning, not an error) when someone collects them (see :data:`READ_NOTES`)."""
    notes = READ_NOTES.get()
    if notes is not None and problem not in notes:
        notes.append(problem)


@contextmanager
def collect_read_notes() -> Iterator[list[Problem]]:
    """Collect the reading notes of every file read inside the ``with`` block (nested blocks share the outer list)."""
    outer = READ_NOTES.get()
    if outer is not None:
        yield outer
        return
    notes: list[Problem] = []
    token = READ_NOTES.set(notes)
    try:
        yield notes
    finally:
        READ_NOTES.reset(token)


def split_sheet(path: str | Path) -> tuple[Path, str | None]:
    """``lc.xlsx#2020`` → (``lc.xlsx``, ``2020``): the sheet named after ``#`` of a workbook path, if any.

    A path that exists as written (a file whose name contains '#') is never split.
    """
    text = str(path)
    p = Path(text)
    if "#" not in p.name or p.exists():
        return p, None
    base, sheet = text.rsplit("#", 1)
    if Path(base).suffix.lower() in XLSX_SUFFIXES and sheet:
        return Path(base), sheet
    return p, None


def source_path(path: str | Path) -> Path:
    """The file a path names (``lc.xlsx#2020`` → ``lc.xlsx``)."""
    return split_sheet(path)[0]


@dataclass(frozen=True)
class RawTable:
    """A file read as text cells: every column Utf8, plus its spreadsheet row numbers."""

    df: pl.DataFrame
    file: str
    rows: pl.Series  # spreadsheet row number of each data row


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ValueError("this file seems to be encoded in UTF-16 but does not decode as UTF-16; "
                             "save it from Excel as 'CSV UTF-8'") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if _looks_latin1(data) and not _looks_big5(data):
        raise ValueError(LATIN1_HINT)
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text is not None and not _looks_big5(data):
        return text
    try:
        data.decode("big5")
    except UnicodeDecodeError:
        pass
    else:
        raise ValueError(
            "this file seems to be encoded in Big5 (traditional Chinese); gep reads UTF-8 and GBK/GB18030 — "
            "save it from Excel as 'CSV UTF-8'")
    if text is not None:
        return text
    if any(b >= 0x80 for b in data[:4096]):
        try:
            data.decode("cp1252")
        except UnicodeDecodeError:
            pass
        else:
            raise ValueError(LATIN1_HINT)
    raise ValueError(
        "the file is neither UTF-8 nor GBK/GB18030 text; save it from Excel as "
        "'CSV UTF-8' or 'CSV (逗号分隔)'")


LATIN1_HINT = ("this file seems to be encoded in Latin-1 (Western European, e.g. 'área' or 'année'), not UTF-8 or "
               "GBK/GB18030; save it as UTF-8 (Excel: 'CSV UTF-8') or GBK")
_BIG5_ONLY_HINTS = ("地區", "區域", "面積", "年份", "數量", "價格", "單位", "類型", "代碼")


def _looks_latin1(data: bytes) -> bool:
    """True when the header line's high bytes read as Latin-1 letters and not as GBK Chinese.

    Chinese headers in GBK (地区代码, 面积) are pairs of bytes ≥ 0xA1; Latin-1 accented letters ('área',
    'année') are single high bytes followed by ASCII, which GBK would read as rare characters.
    """
    line = data.split(b"\n", 1)[0]
    i, singles, pairs = 0, 0, 0
    while i < len(line):
        b = line[i]
        if b < 0x80:
            i += 1
            continue
        nxt = line[i + 1] if i + 1 < len(line) else 0
        if 0x81 <= b <= 0xFE and nxt >= 0xA1 and nxt != 0xFF:
            pairs += 1
            i += 2
        else:
            singles += 1
            i += 1 if nxt < 0x80 else 2
    return singles > 0 and pairs == 0


def _looks_big5(data: bytes) -> bool:
    """True when the bytes decode as Big5 into common traditional-Chinese header words."""
    try:
        text = data[:4096].decode("big5", errors="ignore")
    except LookupError:  # pragma: no cover
        return False
    return any(w in text for w in _BIG5_ONLY_HINTS)


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, _dt.datetime):
        return value.date().isoformat() if value.time() == _dt.time() else value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    text = str(value).strip()
    return text if text != "" else None


def _unreadable(file: str, why: str) -> InputError:
    return InputError([Problem("UNREADABLE_FILE", f"cannot read the file: {why}", file=file)])


def read_raw(path: str | Path, sheet: str | None = None, display_name: str | None = None) -> RawTable:
    """Read CSV (UTF-8, BOM, UTF-16, GBK/GB18030), XLSX or Parquet into text cells.

    A workbook's sheet is ``sheet`` or named in the path (``lc.xlsx#2020``); without one, see
    :func:`_choose_sheet`. Raises InputError with FILE_NOT_FOUND, UNREADABLE_FILE, EMPTY_FILE,
    MISSING_SHEET or AMBIGUOUS_SHEET.
    """
    p, named_sheet = split_sheet(path)
    sheet = named_sheet or sheet  # FILE.xlsx#SHEET wins over --sheet / [inputs] sheet
    name = display_name or str(path)
    if named_sheet is not None and name.endswith("#" + named_sheet):
        name = name[: -len(named_sheet) - 1]
    if not p.exists():
        raise InputError([Problem("FILE_NOT_FOUND", "the file does not exist", file=name,
                                  expected="a path to a CSV, XLSX or Parquet file")])
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(p, sheet, name)
    if suffix in (".parquet", ".pq"):
        try:
            df = pl.read_parquet(p)
        except Exception as exc:  # noqa: BLE001 - any parquet failure is unreadable input
            raise _unreadable(name, f"not a valid Parquet file ({exc.__class__.__name__})") from exc
        if df.height == 0:
            raise InputError([Problem("EMPTY_FILE", "the file has no data rows", file=name)])
        df = df.select([pl.col(c).cast(pl.Utf8) for c in df.columns])
        return RawTable(df, name, pl.Series(ROW, range(2, df.height + 2), dtype=pl.Int64))
    if suffix in (".xls",):
        raise _unreadable(name, "old Excel .xls files are not supported; save as .xlsx or CSV")
    return _read_csv(p, name)


def _read_csv(p: Path, name: str) -> RawTable:
    data = p.read_bytes()
    if not data.strip(b" \r\n\t\xef\xbb\xbf"):
        raise InputError([Problem("EMPTY_FILE", "the file is empty", file=name,
                                  expected="a header row and at least one data row")])
    try:
        text = _decode(data)
    except ValueError as exc:
        raise _unreadable(name, str(exc)) from exc
    sep = _sniff_separator(_first_content_line(text))
    try:
        grid = pl.read_csv(
            io.BytesIO(text.encode("utf-8")),
            infer_schema_length=0,
            separator=sep,
            has_header=False,
            truncate_ragged_lines=False,
        )
    except pl.exceptions.PolarsError as exc:
        problem = _ragged_row(text, sep, name)
        if problem is not None:
            raise InputError([problem]) from exc
        raise _unreadable(name, f"the CSV could not be parsed ({str(exc).splitlines()[0][:200]})") from exc
    grid = grid.with_columns([pl.col(c).str.strip_chars().replace("", None) for c in grid.columns])
    line_rows = list(range(1, grid.height + 1))  # each CSV line is a spreadsheet row (blank lines too)
    counts = grid.select(pl.sum_horizontal([pl.col(c).is_not_null() for c in grid.columns])).to_series().to_list()
    header_idx = _header_index(counts)
    if header_idx is None:
        raise InputError([Problem("EMPTY_FILE", "the file is empty", file=name,
                                  expected="a header row and at least one data row")])
    header = [str(v) if v is not None else f"column_{j + 1}" for j, v in enumerate(grid.row(header_idx))]
    header = _unique_names(header)
    body = grid.slice(header_idx + 1).rename(dict(zip(grid.columns, header)))
    rows = pl.Series(ROW, line_rows[header_idx + 1: header_idx + 1 + body.height], dtype=pl.Int64)
    keep = pl.Series([c > 0 for c in counts[header_idx + 1:]], dtype=pl.Boolean)  # ',,,' rows are skipped
    body, rows = body.filter(keep), rows.filter(keep)
    unnamed_empty = [h for h in header if h.startswith("column_") and body[h].null_count() == body.height]
    body = body.drop(unnamed_empty)
    if body.height == 0:
        raise InputError([Problem("EMPTY_FILE", "the file has a header but no data rows", file=name,
                                  expected="at least one data row")])
    return RawTable(body, name, rows)


def _ragged_row(text: str, sep: str, name: str) -> Problem | None:
    """The first row with more fields than the header, as a located problem (or None)."""
    try:
        lines = list(csv.reader(io.StringIO(text), delimiter=sep))
    except csv.Error:
        return None
    width = None
    for i, fields in enumerate(lines, start=1):
        n = len(fields)
        while n and not fields[n - 1].strip():
            n -= 1
        if n == 0:
            continue
        if width is None:
            if n >= 2:
                width = len(fields)
            continue
        if n > width:
            return Problem("EXTRA_FIELDS", f"the row has {n} fields but the header has {width}",
                           file=name, row=i, value=sep.join(fields)[:80],
                           expected=f"at most {width} fields (a separator inside a value must be quoted)")
    return None


def _first_content_line(text: str) -> str:
    return next((line for line in text.splitlines() if line.strip(" ,;\t")), "")


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if n in seen:
            seen[n] += 1
            out.append(f"{n}_{seen[n]}")
        else:
            seen[n] = 0
            out.append(n)
    return out


def _header_index(counts: list[int], scan: int = 20) -> int | None:
    """Row index of the header: skips title and note rows above it ('锦江区2020年土地利用现状表', '单位：公顷').

    The header is the first row, among the first ``scan`` non-empty rows, with at least two
    filled cells and at least 60 % of the most filled row's cells.
    """
    filled = [i for i, c in enumerate(counts) if c > 0][:scan]
    if not filled:
        return None
    most = max(counts[i] for i in filled)
    for i in filled:
        if counts[i] >= 2 and counts[i] >= 0.6 * most:
            return i
    return filled[0]


def _sniff_separator(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {s: first.count(s) for s in (",", ";", "\t")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] > 0 else ","


def _read_xlsx(p: Path, sheet: str | None, name: str) -> RawTable:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001
        raise _unreadable(name, f"not a valid .xlsx workbook ({exc.__class__.__name__})") from exc
    try:
        if sheet is not None:
            if sheet not in wb.sheetnames:
                raise InputError([Problem("MISSING_SHEET", f"the workbook has no sheet '{sheet}'",
                                          file=name, value=sheet,
                                          expected="one of: " + ", ".join(wb.sheetnames))])
            ws = wb[sheet]
        else:
            ws = wb[_choose_sheet(wb, name)]
        label = f"{name} [{ws.title}]"
        ws_title = ws.title
        sheetnames = list(wb.sheetnames)
        rows = list(ws.iter_rows(values_only=True))
    finally:
        wb.close()
    counts = [sum(1 for v in r if _cell_text(v) is not None) for r in rows]
    header_idx = _header_index(counts)
    others = [n for n in sheetnames if n != ws_title]
    hint = (f"; the workbook's other sheets: {', '.join(others)} — choose one with {name}#SHEET or --sheet"
            if others else "")
    if header_idx is None:
        raise InputError([Problem("EMPTY_FILE", "the sheet is empty" + hint, file=label)])
    header = [_cell_text(v) or f"column_{j + 1}" for j, v in enumerate(rows[header_idx])]
    body = []
    row_numbers = []
    for i, r in enumerate(rows[header_idx + 1:], start=header_idx + 2):
        cells = [_cell_text(v) for v in r][: len(header)]
        cells += [None] * (len(header) - len(cells))
        if any(c is not None for c in cells):
            body.append(cells)
            row_numbers.append(i)
    if not body:
        raise InputError([Problem("EMPTY_FILE", "the sheet has a header but no data rows" + hint, file=label)])
    # drop trailing unnamed empty columns
    keep = [j for j, h in enumerate(header) if not (h.startswith("column_") and all(b[j] is None for b in body))]
    df = pl.DataFrame(
        {header[j]: [b[j] for b in body] for j in keep},
        schema={header[j]: pl.Utf8 for j in keep},
    )
    return RawTable(df, label, pl.Series(ROW, row_numbers, dtype=pl.Int64))


def _header_of(ws: object, scan: int = 30) -> tuple[str, ...] | None:
    """The header row of a sheet (first ``scan`` rows), or None when the sheet holds no table."""
    rows = [tuple(_cell_text(v) for v in r) for r in ws.iter_rows(max_row=scan, values_only=True)]  # type: ignore[attr-defined]
    counts = [sum(1 for v in r if v is not None) for r in rows]
    i = _header_index(counts)
    if i is None or counts[i] < 2 or not any(c > 0 for c in counts[i + 1:]):
        return None
    return tuple(v for v in rows[i] if v is not None)


def _choose_sheet(wb: object, name: str) -> str:
    """The sheet to read when none is named: the only visible sheet holding a table.

    Sheets before it that hold no table (填表说明) are skipped with a note naming the sheet read. A hidden first sheet (old data kept by a clerk) is never read: a note names the sheet read instead.
    Several visible sheets with tables: with the same header (2020 and 2025 in one workbook) the choice is
    ambiguous and refused (AMBIGUOUS_SHEET); with different headers the first is read and a note names it.
    """
    names = list(wb.sheetnames)  # type: ignore[attr-defined]
    visible = [n for n in names if wb[n].sheet_state == "visible"]  # type: ignore[index]
    if not visible:
        raise InputError([Problem("MISSING_SHEET", "the workbook has no visible sheet", file=name,
                                  expected=f"a workbook with a visible sheet, or {name}#SHEET")])
    tables = {n: h for n in visible if (h := _header_of(wb[n])) is not None}  # type: ignore[index]
    chosen = next(iter(tables), visible[0])
    same = [n for n in tables if n != chosen and tables[n] == tables[chosen]]
    if same:
        raise InputError([Problem(
            "AMBIGUOUS_SHEET", f"the workbook has {len(same) + 1} sheets with the same columns "
            f"({', '.join([chosen, *same])}); gep does not guess which one to read", file=name,
            value=", ".join([chosen, *same]), expected=f"the sheet named in the path, e.g. {name}#{chosen}")])
    def chosen_note(why: str) -> None:  # every reason the sheet read was gep's choice: one note each
        note(Problem("XLSX_SHEET_CHOSEN", why, file=name, value=chosen, expected=f"{name}#SHEET to read another sheet"))

    hidden = [n for n in names[: names.index(chosen)] if n not in visible]
    if hidden:
        chosen_note(f"the workbook's first sheet{'s' if len(hidden) > 1 else ''} {', '.join(repr(h) for h in hidden)} "
                    f"{'are' if len(hidden) > 1 else 'is'} hidden and not read; read sheet '{chosen}'")
    skipped = [n for n in visible[: visible.index(chosen)] if n not in tables]
    if skipped:
        chosen_note(f"the workbook's first sheet{'s' if len(skipped) > 1 else ''} "
                    f"{', '.join(repr(n) for n in skipped)} hold{'' if len(skipped) > 1 else 's'} no table; "
                    f"read sheet '{chosen}'")
    others = [n for n in tables if n != chosen]
    if others:
        chosen_note(f"the workbook has {len(tables)} sheets with tables; read sheet '{chosen}', not "
                    f"{', '.join(repr(o) for o in others)}")
    return chosen


def frame_to_raw(df: pl.DataFrame, name: str) -> RawTable:
    """Wrap an in-memory table (e.g. from a notebook) as if it were a file."""
    text = df.select([pl.col(c).cast(pl.Utf8) for c in df.columns])
    return RawTable(text, name, pl.Series(ROW, range(2, df.height + 2), dtype=pl.Int64))
