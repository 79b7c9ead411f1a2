"""Table specs and their validation: what a table must look like, checked all at once.

Column names may be English or documented Chinese aliases (docs/input_tables.md).
Quantities carry their unit in the column name (``area_ha``, ``area_km2``,
``面积(亩)``, ``面积_万亩``) or in a ``unit``/``单位`` column; conversion goes
through :mod:`gep.units`.

:func:`load_table` collects every problem (missing or misspelled columns,
wrong types, negative or non-finite numbers, duplicate keys, unknown units)
before raising one :class:`gep.errors.InputError` (pandera's ``lazy=True``).
Rows are numbered as in a spreadsheet: the header is row 1, the first data row
is row 2.

Core layer: imports only :mod:`gep.errors`, :mod:`gep.units` and :mod:`gep.readers`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict

from gep import units as U
from gep.errors import InputError, Problem, ProblemCollector, UnitError
from gep.readers import ROW, RawTable, note, read_raw

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
    max_value: float | None = None
    """Largest plausible value in ``canonical_unit`` (after unit conversion); larger is VALUE_OUT_OF_RANGE."""
    max_reason: str = ""
    """Why nothing can be larger (shown with the refusal)."""


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
    max_value=1.5e10,
    max_reason="no area can exceed the land surface of the Earth (about 1.49e10 ha); check the unit and the number",
    description="area; unit from the column name (area_ha, area_km2, area_mu, 面积(亩)) or a unit column",
)


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


def load_table_collect(
    path: str | Path,
    spec: TableSpec,
    sheet: str | None = None,
    keep_rows: bool = False,
    display_name: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[pl.DataFrame | None, list[Problem]]:
    """Like :func:`load_table`, but returns the problems instead of raising them, with the table read so far.

    Cells that break their column's type are empty (null) in the returned table, so the caller can go on
    with its own row checks (unknown regions, services, classes) and report everything in one pass. The
    table is None when the file cannot be read or a required column is missing. ``headers``, when given, is
    filled with each column's header as written in the file (``region_id`` → ``地区代码``), so later problems
    can name the column the user sees.
    """
    try:
        raw = read_raw(path, sheet, display_name)
    except InputError as exc:
        return None, list(exc.problems)
    return validate_raw_collect(raw, spec, keep_rows=keep_rows, headers=headers)


def validate_raw(raw: RawTable, spec: TableSpec, keep_rows: bool = False) -> pl.DataFrame:
    """Validate text cells against ``spec`` (see :func:`load_table`)."""
    df, problems = validate_raw_collect(raw, spec, keep_rows=keep_rows)
    if problems or df is None:
        raise InputError(problems)
    return df


def validate_raw_collect(raw: RawTable, spec: TableSpec, keep_rows: bool = False,
                         headers: dict[str, str] | None = None) -> tuple[pl.DataFrame | None, list[Problem]]:
    """Validate text cells against ``spec``; the typed table (bad cells empty, None when a column is missing)
    and every problem found."""
    problems = ProblemCollector()
    file = raw.file
    df = raw.df.with_columns(raw.rows.alias(ROW))
    found, unit_col = _match_columns(list(raw.df.columns), spec, file, problems)
    if headers is not None:
        headers.update({name: m.header for name, m in found.items()})

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
            if col.name == "region_id":  # Excel floats (510104.0) and full-width digits (５１０１０４) are codes
                s = _normalise_region_codes(s, rows, file, m.header)
            out[col.name] = s.alias(col.name)
            continue
        cleaned = _FULLWIDTH_DIGITS(s.str.replace_all(r"[,\s]", "").str.replace_all("，", ""))
        if col.dtype == "int":
            as_float = cleaned.cast(pl.Float64, strict=False)
            bad = (~missing) & (as_float.is_null() | (as_float.is_not_null() & (
                (as_float != as_float.floor()) | ~as_float.is_finite() | (as_float.abs() > 2.0 ** 53))))
            _report_bad(problems, file, m.header, rows, s, bad, "WRONG_TYPE",
                        "is not a whole number", "a whole number such as 2020")
            out[col.name] = _null_where(as_float.cast(pl.Int64, strict=False), bad).alias(col.name)
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
        if col.max_value is not None:
            big = values.is_not_null() & values.is_finite() & (values > col.max_value)
            _report_bad(problems, file, m.header, rows, s, big, "VALUE_OUT_OF_RANGE",
                        f"is larger than {col.max_value:g} {col.canonical_unit or ''}".rstrip(),
                        col.max_reason or f"at most {col.max_value:g}")
        out[col.name] = _null_where(values, values.is_not_null() & ~values.is_finite()).alias(col.name)

    if spec.keys and all(k in out for k in spec.keys):
        keyed = pl.DataFrame({k: out[k] for k in (*spec.keys, ROW)})
        required = [k for k in spec.keys if spec.column(k).required]
        if required:  # an empty optional key (e.g. component) is a value: two empties are duplicates
            keyed = keyed.filter(pl.all_horizontal([pl.col(k).is_not_null() for k in required]))
        _check_duplicates(keyed, spec, found, file, problems)
    if any(c.required and c.name not in out for c in spec.columns):
        return None, problems.problems
    result = pl.DataFrame(out).select([c.name for c in spec.columns] + [ROW])
    if not keep_rows:
        result = result.drop(ROW)
    return result, problems.problems


def _normalise_region_codes(s: pl.Series, rows: pl.Series, file: str, header: str) -> pl.Series:
    """Region codes written by Excel as numbers (510104.0) or with full-width digits (５１０１０４) → 510104.

    A note REGION_CODE_NORMALISED (kept in the run's manifest, printed by ``gep validate``) says how many
    cells were read so, naming the first.
    """
    out = _FULLWIDTH_DIGITS(s).str.replace(r"^(\d+)\.0+$", "${1}")
    changed = (out != s).fill_null(False)
    n = int(changed.sum())
    if n:
        first = int(changed.arg_max() or 0)
        note(Problem("REGION_CODE_NORMALISED",
                     f"{n} region code{'s' if n > 1 else ''} written as a number or with full-width digits "
                     f"{'were' if n > 1 else 'was'} read as {'codes' if n > 1 else 'a code'} "
                     f"('{s[first]}' → '{out[first]}')", file=file, row=int(rows[first]), column=header,
                     value=s[first], expected="region codes as text, e.g. 510104"))
    return out


def _null_where(s: pl.Series, mask: pl.Series) -> pl.Series:
    """``s`` with the cells where ``mask`` is true emptied (a cell that broke its type is not a value)."""
    return pl.DataFrame({"s": s, "m": mask.fill_null(False)}).select(
        pl.when(pl.col("m")).then(None).otherwise(pl.col("s"))).to_series().alias(s.name)


def _FULLWIDTH_DIGITS(s: pl.Series) -> pl.Series:
    """Full-width digits, point and minus (０-９ ． －) as their ASCII forms."""
    return s.str.replace_many(list("０１２３４５６７８９．－"), list("0123456789.-"))


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
