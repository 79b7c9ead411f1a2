"""Table loaders: every file a county sends comes in here.

Formats: CSV in UTF-8, UTF-8 with BOM, or GBK/GB18030 (as Excel in China saves
them; detected), XLSX (first or named sheet) and Parquet. Column names may be
English or documented Chinese aliases (docs/input_tables.md). Quantities carry
their unit in the column name (``area_ha``, ``area_km2``, ``面积(亩)``,
``面积_万亩``) or in a ``unit``/``单位`` column; conversion goes through
:mod:`gep.units`.

:func:`load_table` collects every problem (missing or misspelled columns,
wrong types, negative or non-finite numbers, duplicate keys, unknown units)
before raising one :class:`gep.errors.InputError`. Rows are numbered as in a
spreadsheet: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict

from gep import units as U
from gep.errors import InputError, Problem, ProblemCollector, UnitError

ROW = "_row"
"""Name of the spreadsheet row-number column that :func:`load_table` can keep."""

METADATA_COLUMNS = frozenset({"data_status", "source", "note", "notes", "备注", "数据来源", "说明"})
"""Columns loaders accept and ignore (provenance notes users keep next to their data)."""

UNIT_COLUMN_NAMES = ("unit", "units", "单位", "计量单位")


# ---------------------------------------------------------------------------
# specs


class ColumnSpec(BaseModel):
    """One expected column: canonical name, type, aliases and checks."""

    model_config = ConfigDict(frozen=True)

    name: str
    dtype: Literal["str", "int", "float"] = "str"
    required: bool = True
    aliases: tuple[str, ...] = ()
    description: str = ""
    dimension: str | None = None
    """For quantities: 'area', 'money', ... The loader converts to ``canonical_unit``."""
    canonical_unit: str | None = None
    nonnegative: bool = False
    allow_null: bool = False


class TableSpec(BaseModel):
    """What a table must look like; drives loading, validation and the docs."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str = ""
    columns: tuple[ColumnSpec, ...]
    keys: tuple[str, ...] = ()
    allow_extra_columns: bool = True

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


# Shared column definitions (aliases documented in docs/input_tables.md)
REGION_ID = ColumnSpec(
    name="region_id",
    aliases=("地区代码", "行政区划代码", "区划代码", "县代码", "区县代码", "adcode", "county_code", "region", "code"),
    description="region code (Sichuan: 6-digit GB/T 2260 adcode)",
)
YEAR = ColumnSpec(name="year", dtype="int", aliases=("年份", "年", "年度"), description="accounting year")
CLASS = ColumnSpec(
    name="class",
    aliases=("地类", "地类名称", "土地利用类型", "土地类型", "land_cover", "landcover", "lulc", "地类编码", "class_name"),
    description="land-cover class (name or code of the scheme the crosswalk uses)",
)
AREA = ColumnSpec(
    name="area_ha",
    dtype="float",
    aliases=("面积",),
    dimension="area",
    canonical_unit="ha",
    nonnegative=True,
    description="area; unit from the column name (area_ha, area_km2, area_mu, 面积(亩)) or a unit column",
)

LANDCOVER_SPEC = TableSpec(
    name="land cover",
    description="area of each land-cover class per region and year",
    columns=(REGION_ID, YEAR, CLASS, AREA),
    keys=("region_id", "year", "class"),
)


# ---------------------------------------------------------------------------
# reading raw files


@dataclass(frozen=True)
class RawTable:
    """A file read as text cells: every column Utf8, plus its spreadsheet row numbers."""

    df: pl.DataFrame
    file: str
    rows: pl.Series  # spreadsheet row number of each data row


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ValueError(
            "the file is neither UTF-8 nor GBK/GB18030 text; save it from Excel as "
            "'CSV UTF-8' or 'CSV (逗号分隔)'"
        ) from exc


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
    """Read CSV (UTF-8, BOM, GBK/GB18030), XLSX or Parquet into text cells.

    Raises InputError with FILE_NOT_FOUND, UNREADABLE_FILE or EMPTY_FILE.
    """
    p = Path(path)
    name = display_name or str(path)
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
            ws = wb[wb.sheetnames[0]]
        label = f"{name} [{ws.title}]"
        ws_title = ws.title
        sheetnames = list(wb.sheetnames)
        rows = list(ws.iter_rows(values_only=True))
    finally:
        wb.close()
    counts = [sum(1 for v in r if _cell_text(v) is not None) for r in rows]
    header_idx = _header_index(counts)
    others = [n for n in sheetnames if n != ws_title]
    hint = (f"; the workbook's other sheets: {', '.join(others)} — choose one with --sheet" if others else "")
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


# ---------------------------------------------------------------------------
# column matching


def _norm(header: str) -> str:
    h = str(header).strip().lstrip("\ufeff")
    h = h.replace("（", "(").replace("）", ")").replace("【", "(").replace("】", ")")
    h = h.replace("[", "(").replace("]", ")")
    h = re.sub(r"\s+", "_", h)
    return h.lower()


def _split_unit_suffix(header: str, bases: Sequence[str]) -> tuple[str, str] | None:
    """'area_km2' -> ('area', 'km2'); '面积(亩)' -> ('面积', '亩'); '面积_万亩' -> ('面积', '万亩')."""
    h = _norm(header)
    m = re.fullmatch(r"(.+?)_?\((.+)\)", h)
    if m and m.group(1).rstrip("_") in bases:
        return m.group(1).rstrip("_"), m.group(2)
    for base in sorted(bases, key=len, reverse=True):
        for sep in ("_", "/", ""):
            prefix = base + sep
            if h.startswith(prefix) and len(h) > len(prefix):
                return base, h[len(prefix):]
    return None


@dataclass
class _Match:
    header: str
    unit: str | None  # unit from the column name, or None (then a unit column is needed)


def _match_columns(
    headers: list[str], spec: TableSpec, file: str, problems: ProblemCollector
) -> tuple[dict[str, _Match], str | None]:
    normed = {h: _norm(h) for h in headers}
    unit_col = next((h for h in headers if normed[h] in UNIT_COLUMN_NAMES), None)
    used: set[str] = set()
    found: dict[str, _Match] = {}
    for col in spec.columns:
        names = [_norm(col.name)] + [_norm(a) for a in col.aliases]
        if col.dimension:
            base = col.name.rsplit("_", 1)[0] if col.canonical_unit and col.name.endswith(
                "_" + col.canonical_unit) else col.name
            bases = [_norm(base)] + [_norm(a) for a in col.aliases]
            exact = [h for h in headers if normed[h] == _norm(col.name) and h not in used]
            if exact:
                found[col.name] = _Match(exact[0], col.canonical_unit)
                used.add(exact[0])
                continue
            cands: list[_Match] = []
            for h in headers:
                if h in used:
                    continue
                split = _split_unit_suffix(h, bases)
                if split is not None and U.is_unit(split[1]):
                    cands.append(_Match(h, split[1]))
                elif normed[h] in bases:
                    cands.append(_Match(h, None))
            if cands:
                found[col.name] = cands[0]
                used.add(cands[0].header)
                if len(cands) > 1:
                    problems.add(
                        "AMBIGUOUS_COLUMN",
                        f"several columns could be '{col.name}'",
                        file=file, row=1, column=cands[1].header,
                        value=", ".join(c.header for c in cands),
                        expected="exactly one column for this quantity",
                    )
                continue
        else:
            hits = [h for h in headers if normed[h] in names and h not in used]
            if hits:
                found[col.name] = _Match(hits[0], None)
                used.add(hits[0])
                continue
        if col.required:
            unmatched = [h for h in headers if h not in used and normed[h] not in METADATA_COLUMNS]
            near = difflib.get_close_matches(
                col.name, unmatched, n=1, cutoff=0.6
            ) or difflib.get_close_matches(_norm(col.name), [normed[h] for h in unmatched], n=1, cutoff=0.6)
            hint = ""
            if near:
                hint = f"; did you mean '{near[0]}'?"
            accepted = ", ".join([col.name, *col.aliases][:6])
            if col.dimension:
                accepted += f" (with a unit, e.g. {col.name})"
            problems.add(
                "MISSING_COLUMN",
                f"required column '{col.name}' is missing{hint}",
                file=file, row=1, column=col.name,
                expected=f"a column named {accepted}",
            )
    return found, unit_col


match_columns = _match_columns
"""Public name of the column matcher (used by ``gep validate`` to detect a table's kind)."""


# ---------------------------------------------------------------------------
# loading with checks


def load_table(
    path: str | Path,
    spec: TableSpec,
    sheet: str | None = None,
    keep_rows: bool = False,
    display_name: str | None = None,
) -> pl.DataFrame:
    """Read and validate a table against ``spec``; return canonical columns and types.

    With ``keep_rows`` the spreadsheet row number is kept in column ``_row``.
    Raises :class:`InputError` listing every problem found.
    """
    raw = read_raw(path, sheet, display_name)
    return validate_raw(raw, spec, keep_rows=keep_rows)


def frame_to_raw(df: pl.DataFrame, name: str) -> RawTable:
    """Wrap an in-memory table (e.g. from a notebook) as if it were a file."""
    text = df.select([pl.col(c).cast(pl.Utf8) for c in df.columns])
    return RawTable(text, name, pl.Series(ROW, range(2, df.height + 2), dtype=pl.Int64))


def validate_raw(raw: RawTable, spec: TableSpec, keep_rows: bool = False) -> pl.DataFrame:
    """Validate text cells against ``spec`` (see :func:`load_table`)."""
    problems = ProblemCollector()
    file = raw.file
    df = raw.df.with_columns(raw.rows.alias(ROW))
    headers = [h for h in raw.df.columns]
    found, unit_col = _match_columns(headers, spec, file, problems)

    out: dict[str, pl.Series] = {ROW: df[ROW]}
    rows = df[ROW]
    for col in spec.columns:
        m = found.get(col.name)
        if m is None:
            if not col.required:
                out[col.name] = pl.Series(col.name, [None] * df.height, dtype=_pl_dtype(col.dtype))
            continue
        s = df[m.header]
        missing = s.is_null()
        if not col.allow_null and col.required and missing.any():
            bad_rows = rows.filter(missing).to_list()
            problems.add(
                "MISSING_VALUE",
                f"{len(bad_rows)} empty cell(s) in a required column (rows {_fmt_rows(bad_rows)})",
                file=file, row=bad_rows[0], column=m.header,
                expected=f"a value in every row ({col.description or col.name})",
            )
        if col.dtype == "str":
            out[col.name] = s.alias(col.name)
            continue
        cleaned = s.str.replace_all(r"[,\s]", "").str.replace_all("，", "")
        if col.dtype == "int":
            as_float = cleaned.cast(pl.Float64, strict=False)
            bad = (~missing) & (as_float.is_null() | (as_float.is_not_null() & (as_float != as_float.floor())))
            _report_bad(problems, file, m.header, rows, s, bad, "WRONG_TYPE",
                        "is not a whole number", "a whole number such as 2020")
            out[col.name] = as_float.cast(pl.Int64, strict=False).alias(col.name)
            continue
        values = cleaned.cast(pl.Float64, strict=False)
        bad = (~missing) & values.is_null()
        _report_bad(problems, file, m.header, rows, s, bad, "WRONG_TYPE",
                    "is not a number", "a number (decimal point '.', no text)")
        nonfinite = values.is_not_null() & ~values.is_finite()
        _report_bad(problems, file, m.header, rows, s, nonfinite, "NON_FINITE",
                    "is not a finite number", "a finite number")
        if col.dimension:
            values = _apply_unit(values, m, col, unit_col, df, rows, file, problems)
        if col.nonnegative:
            neg = values.is_not_null() & values.is_finite() & (values < 0)
            _report_bad(problems, file, m.header, rows, s, neg, "NEGATIVE_VALUE",
                        "is negative", "zero or a positive number")
        out[col.name] = values.alias(col.name)

    if spec.keys and all(k in out for k in spec.keys):
        keyed = pl.DataFrame({k: out[k] for k in (*spec.keys, ROW)})
        required = [k for k in spec.keys if spec.column(k).required]
        if required:  # an empty optional key (e.g. component) is a value: two empties are duplicates
            keyed = keyed.filter(pl.all_horizontal([pl.col(k).is_not_null() for k in required]))
        _check_duplicates(keyed, spec, found, file, problems)
    problems.raise_if_any()
    result = pl.DataFrame(out).select([c.name for c in spec.columns] + [ROW])
    if not keep_rows:
        result = result.drop(ROW)
    return result


def _pl_dtype(dtype: str) -> type[pl.DataType]:
    return {"str": pl.Utf8, "int": pl.Int64, "float": pl.Float64}[dtype]


def _apply_unit(
    values: pl.Series,
    m: _Match,
    col: ColumnSpec,
    unit_col: str | None,
    df: pl.DataFrame,
    rows: pl.Series,
    file: str,
    problems: ProblemCollector,
) -> pl.Series:
    target = col.canonical_unit or ""
    if m.unit is not None:
        try:
            f = U.conversion_factor(m.unit, target, context=f"column '{m.header}'")
        except UnitError as exc:
            for p in exc.problems:
                problems.add(p.code, p.message, file=file, row=1, column=m.header, value=m.unit,
                             expected=f"a unit of {col.dimension}")
            return values
        return values * f
    if unit_col is None:
        problems.add(
            "MISSING_UNIT",
            f"column '{m.header}' has no unit",
            file=file, row=1, column=m.header,
            expected=f"the unit in the column name (e.g. {col.name}, {m.header}(亩)) or a 'unit'/'单位' column",
        )
        return values
    units = df[unit_col]
    factors: dict[str, float] = {}
    for u in units.drop_nulls().unique().sort().to_list():
        try:
            factors[u] = U.conversion_factor(u, target)
        except UnitError:
            bad_rows = rows.filter(units == u).to_list()
            problems.add(
                "UNKNOWN_UNIT",
                f"unit '{u}' is not a unit of {col.dimension} (rows {_fmt_rows(bad_rows)})",
                file=file, row=bad_rows[0], column=unit_col, value=u,
                expected=f"a unit of {col.dimension}, e.g. ha, 公顷, km2, 亩, 万亩" if col.dimension == "area"
                else f"a unit of {col.dimension}",
            )
    if units.is_null().any():
        bad_rows = rows.filter(units.is_null()).to_list()
        problems.add("MISSING_VALUE", f"empty unit cell(s) (rows {_fmt_rows(bad_rows)})",
                     file=file, row=bad_rows[0], column=unit_col, expected="a unit in every row")
    f = units.replace_strict(factors, default=None, return_dtype=pl.Float64)
    return values * f


def _report_bad(
    problems: ProblemCollector,
    file: str,
    column: str,
    rows: pl.Series,
    original: pl.Series,
    mask: pl.Series,
    code: str,
    what: str,
    expected: str,
    limit: int = 20,
) -> None:
    if not mask.any():
        return
    bad_rows = rows.filter(mask).to_list()
    bad_vals = original.filter(mask).to_list()
    for r, v in list(zip(bad_rows, bad_vals))[:limit]:
        problems.add(code, f"value {what}", file=file, row=r, column=column, value=v, expected=expected)
    if len(bad_rows) > limit:
        problems.add(code, f"{len(bad_rows) - limit} more value(s) {what} (rows {_fmt_rows(bad_rows[limit:])})",
                     file=file, row=bad_rows[limit], column=column, expected=expected)


def _check_duplicates(
    df: pl.DataFrame, spec: TableSpec, found: dict[str, _Match], file: str, problems: ProblemCollector
) -> None:
    keys = list(spec.keys)
    dup = (
        df.group_by(keys, maintain_order=True)
        .agg(pl.col(ROW).sort().alias("rows"), pl.len().alias("n"))
        .filter(pl.col("n") > 1)
        .sort(pl.col("rows").list.first())
    )
    for rec in dup.head(50).iter_rows(named=True):
        key_text = ", ".join(f"{k}={rec[k]}" for k in keys)
        rows = rec["rows"]
        problems.add(
            "DUPLICATE_KEY",
            f"the same {' + '.join(keys)} appears {rec['n']} times (rows {_fmt_rows(rows)})",
            file=file, row=rows[1], column=found[keys[0]].header if keys[0] in found else keys[0],
            value=key_text, expected=f"one row per {' + '.join(keys)}",
        )
    if dup.height > 50:
        problems.add("DUPLICATE_KEY", f"{dup.height - 50} more duplicated keys", file=file)


def _fmt_rows(rows: Sequence[int], limit: int = 10) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown + (f", … ({len(rows)} rows)" if len(rows) > limit else "")


# ---------------------------------------------------------------------------
# land cover


def load_landcover(
    paths: str | Path | Sequence[str | Path],
    registry: object | None = None,
    crosswalk: pl.DataFrame | None = None,
    sheet: str | None = None,
    warnings: list[Problem] | None = None,
) -> pl.DataFrame:
    """Load and validate land-cover tables → ``region_id, year, class, area_ha``.

    Checks everything :func:`load_table` checks, then (all problems collected
    across files): unknown region ids when a registry is given, classes absent
    from the crosswalk (all listed), and a region-year whose classes sum to more
    than its official area by over 1 %.
    """
    from gep.validation import check_landcover

    path_list = [paths] if isinstance(paths, (str, Path)) else list(paths)
    frames: list[pl.DataFrame] = []
    problems: list[Problem] = []
    for p in path_list:
        try:
            df = load_table(p, LANDCOVER_SPEC, sheet=sheet, keep_rows=True)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        problems.extend(check_landcover(df, str(p), registry=registry, crosswalk=crosswalk, warnings=warnings))
        frames.append(df.with_columns(pl.lit(str(p)).alias("_file")))
    if problems:
        raise InputError(problems)
    combined = pl.concat(frames)
    if len(frames) > 1:
        from gep.validation import check_duplicates_across_files

        problems.extend(check_duplicates_across_files(
            [(str(p), f) for p, f in zip(path_list, frames)]))
        if problems:
            raise InputError(problems)
    return (
        combined.drop(["_file", ROW])
        .with_columns(pl.col("year").cast(pl.Int32))
        .sort(["region_id", "year", "class"])
    )


__all__ = [
    "AREA",
    "CLASS",
    "ColumnSpec",
    "LANDCOVER_SPEC",
    "METADATA_COLUMNS",
    "REGION_ID",
    "ROW",
    "RawTable",
    "TableSpec",
    "YEAR",
    "frame_to_raw",
    "load_landcover",
    "load_table",
    "read_raw",
    "validate_raw",
]
