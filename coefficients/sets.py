"""Coefficient sets: a folder with ``set.toml`` plus tables (docs/contracts.md §6).

A set is data, not code. Every table row carries its key columns plus ``value``,
``unit``, ``price_year``, ``source``, ``verification`` (verified / secondary /
unverified, mapped from the reference tags ✅ 🔶 ⚠️) and optional ``low``,
``high``, ``distribution``, ``note``. Built-in sets live in
``coefficients/sets/<id>/``; a user may pass a set folder, a single CSV/XLSX
table, or override single values with :func:`apply_overrides`.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gep import units
from gep.errors import InputError, Problem
from gep.readers import read_raw

from ._rows import (
    DISTRIBUTIONS,
    REQUIRED_COLUMNS,
    ROW,
    STANDARD_COLUMNS,
    VERIFICATION,
    VERIFICATION_RANK,
    bad_rows,
    check_duplicates,
    check_nonempty,
    check_required_columns,
    normalize_verification,
    parse_float,
    rename_headers,
    unit_ok,
)
from .types import normalize_ecosystem_type, unknown_type_problem

SETS_DIR = Path(__file__).resolve().parent / "sets"
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet", ".pq")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+\-]*$")


# ---------------------------------------------------------------------------
# manifest


class TableDecl(BaseModel):
    """One ``[[tables]]`` entry of set.toml: table name, file inside the set folder, key columns."""

    model_config = ConfigDict(frozen=True, extra="allow")

    name: str
    file: str
    keys: tuple[str, ...]
    description: str | None = None


class SetManifest(BaseModel):
    """The ``set.toml`` of a coefficient set (docs/contracts.md §6)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    id: str
    version: str
    title: str
    method_family: str
    price_year: int | None = None
    currency: str | None = None
    citation: str
    license: str
    verification: str
    description: str | None = None
    tables: tuple[TableDecl, ...]
    type_map: str | None = Field(
        None, description="table mapping the 14 Xie 2015 types onto this set's own ecosystem vocabulary"
    )
    key_vocabulary: str | None = None
    user_supplied: bool = False
    base_id: str | None = None
    base_version: str | None = None
    overrides: list[dict[str, Any]] = Field(default_factory=list)


@dataclass(frozen=True)
class CoefficientSet:
    """A loaded, validated coefficient set: manifest plus typed tables (Polars).

    Table columns: keys (Utf8), ``value`` Float64, ``unit`` Utf8, ``price_year``
    Int32 (null = not a money value), ``source``, ``verification`` Utf8, ``low``,
    ``high`` Float64, ``distribution``, ``note`` Utf8, then any descriptive columns.
    """

    manifest: SetManifest
    tables: Mapping[str, pl.DataFrame]
    path: str | None = field(default=None, compare=False)

    @property
    def id(self) -> str:
        return self.manifest.id

    @property
    def version(self) -> str:
        return self.manifest.version

    def table(self, name: str) -> pl.DataFrame:
        """The table ``name``; InputError UNKNOWN_TABLE naming the tables the set has."""
        if name not in self.tables:
            raise InputError([Problem(
                "UNKNOWN_TABLE", f"coefficient set '{self.id}' has no table '{name}'",
                file=self.path, value=name, expected="one of: " + ", ".join(sorted(self.tables)),
            )])
        return self.tables[name]

    def keys(self, name: str) -> list[str]:
        """Key columns of table ``name`` as declared in set.toml."""
        for t in self.manifest.tables:
            if t.name == name:
                return list(t.keys)
        self.table(name)  # raises UNKNOWN_TABLE
        return []

    def fingerprint(self) -> str:
        """sha256 over the canonical content: manifest (JSON, sorted keys) and each table sorted by its keys."""
        h = hashlib.sha256()
        meta = self.manifest.model_dump(mode="json")
        h.update(json.dumps(meta, sort_keys=True, ensure_ascii=False).encode("utf-8"))
        for name in sorted(self.tables):
            df = self.tables[name]
            keys = [k for k in self.keys(name) if k in df.columns]
            canon = df.sort(keys, nulls_last=True, maintain_order=True) if keys else df
            h.update(b"\x00table:" + name.encode("utf-8") + b"\x00")
            h.update(canon.write_csv(float_precision=None).encode("utf-8"))
        return h.hexdigest()

    def row_counts(self) -> tuple[int, int]:
        """(rows, rows whose verification is 'unverified') over all tables."""
        rows = sum(t.height for t in self.tables.values())
        unv = sum(int(t.filter(pl.col("verification") == "unverified").height) for t in self.tables.values())
        return rows, unv

    def record(self) -> dict[str, Any]:
        """The entry for manifest.json ``coefficient_sets`` (docs/contracts.md §10)."""
        m = self.manifest
        out: dict[str, Any] = {
            "id": m.id, "version": m.version, "title": m.title, "method_family": m.method_family,
            "price_year": m.price_year, "verification": m.verification,
            "overrides": [dict(o) for o in m.overrides], "fingerprint": self.fingerprint(),
        }
        if m.base_id is not None:
            out["base_id"] = m.base_id
            out["base_version"] = m.base_version
        if m.user_supplied:
            out["user_supplied"] = True
        return out


# ---------------------------------------------------------------------------
# locating sets


def list_sets() -> list[str]:
    """Ids of the built-in coefficient sets (folders of coefficients/sets with a set.toml), sorted."""
    if not SETS_DIR.is_dir():
        return []
    return sorted(p.name for p in SETS_DIR.iterdir() if (p / "set.toml").is_file())


def _locate(id_or_path: str | Path) -> tuple[str, Path]:
    """('dir', folder) or ('table', file); InputError UNKNOWN_COEFFICIENT_SET otherwise."""
    p = Path(id_or_path)
    if p.is_dir():
        if (p / "set.toml").is_file():
            return "dir", p
        raise InputError([Problem(
            "FILE_NOT_FOUND", "the folder has no set.toml", file=str(p / "set.toml"),
            expected="a coefficient-set folder with set.toml (see docs/coefficients.md)",
        )])
    if p.is_file():
        if p.name == "set.toml":
            return "dir", p.parent
        return "table", p
    name = str(id_or_path)
    if name in list_sets():
        return "dir", SETS_DIR / name
    raise InputError([Problem(
        "UNKNOWN_COEFFICIENT_SET",
        f"'{name}' is neither a built-in coefficient set nor an existing folder or table file",
        value=name, expected="one of: " + ", ".join(list_sets()) + "; or a folder with set.toml; or a CSV/XLSX table",
    )])


# ---------------------------------------------------------------------------
# manifest checks


def _toml_line(text: str, key: str, occurrence: int = 0) -> int | None:
    """Line number (1-based) of the ``occurrence``-th ``key = ...`` or ``[[key]]`` in TOML text."""
    pat = re.compile(rf"^\s*(\[\[\s*{re.escape(key)}\s*\]\]|{re.escape(key)}\s*=)")
    n = 0
    for i, line in enumerate(text.splitlines(), start=1):
        if pat.match(line):
            if n == occurrence:
                return i
            n += 1
    return None


_MANIFEST_REQUIRED = ("id", "version", "title", "method_family", "citation", "license", "verification", "tables")


def _check_manifest(data: dict[str, Any], text: str, file: str) -> tuple[SetManifest | None, list[Problem]]:
    probs: list[Problem] = []
    for key in _MANIFEST_REQUIRED:
        v = data.get(key)
        if v is None or (isinstance(v, str) and not v.strip()) or (key == "tables" and not v):
            probs.append(Problem(
                "MISSING_VALUE", f"set.toml has no '{key}'", file=file, row=_toml_line(text, key), column=key,
                expected="id, version, title, method_family, citation, license, verification and at least one [[tables]]",
            ))
    for key in ("id", "version", "title", "method_family", "citation", "license", "verification", "currency"):
        v = data.get(key)
        if v is not None and not isinstance(v, str):
            probs.append(Problem("WRONG_TYPE", f"'{key}' must be text in quotes", file=file,
                                 row=_toml_line(text, key), column=key, value=str(v), expected='text, e.g. "1.0.0"'))
    sid = data.get("id")
    if isinstance(sid, str) and sid and not _ID_RE.match(sid):
        probs.append(Problem("INVALID_VALUE", "the set id may use letters, digits, '_', '-', '.', '+' only",
                             file=file, row=_toml_line(text, "id"), column="id", value=sid,
                             expected="an id such as my_county_2020"))
    py = data.get("price_year")
    if py is not None and (isinstance(py, bool) or not isinstance(py, int) or not 1900 <= py <= 2100):
        probs.append(Problem("WRONG_TYPE", "price_year must be a whole year", file=file,
                             row=_toml_line(text, "price_year"), column="price_year", value=str(py),
                             expected="a year between 1900 and 2100, without quotes (price_year = 2010)"))
    ver = data.get("verification")
    if isinstance(ver, str) and ver and ver not in VERIFICATION:
        probs.append(Problem("INVALID_VALUE", "verification of the set is not an allowed value", file=file,
                             row=_toml_line(text, "verification"), column="verification", value=ver,
                             expected="verified, secondary or unverified"))
    tables = data.get("tables")
    if tables is not None and not isinstance(tables, list):
        probs.append(Problem("WRONG_TYPE", "'tables' must be a list of [[tables]] entries", file=file,
                             row=_toml_line(text, "tables"), column="tables"))
        tables = []
    names: set[str] = set()
    for i, t in enumerate(tables or []):
        line = _toml_line(text, "tables", i)
        if not isinstance(t, dict):
            probs.append(Problem("WRONG_TYPE", "a [[tables]] entry is not a table", file=file, row=line))
            continue
        for key in ("name", "file", "keys"):
            if not t.get(key):
                probs.append(Problem("MISSING_VALUE", f"[[tables]] entry {i + 1} has no '{key}'", file=file,
                                     row=line, column=key, expected='name = "...", file = "....csv", keys = ["..."]'))
        keys = t.get("keys")
        if keys is not None and (not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys)):
            probs.append(Problem("WRONG_TYPE", f"[[tables]] entry {i + 1}: keys must be a list of column names",
                                 file=file, row=line, column="keys", value=str(keys),
                                 expected='keys = ["ecosystem_type", "service"]'))
        if isinstance(keys, list) and any(k in STANDARD_COLUMNS for k in keys if isinstance(k, str)):
            probs.append(Problem("INVALID_VALUE", f"[[tables]] entry {i + 1}: a standard column cannot be a key",
                                 file=file, row=line, column="keys", value=str(keys),
                                 expected="key columns other than " + ", ".join(STANDARD_COLUMNS)))
        name = t.get("name")
        if isinstance(name, str) and name in names:
            probs.append(Problem("DUPLICATE_KEY", f"table name '{name}' is declared twice", file=file, row=line,
                                 column="name", value=name, expected="unique table names"))
        if isinstance(name, str):
            names.add(name)
    tm = data.get("type_map")
    if isinstance(tm, str) and tm and tm not in names:
        probs.append(Problem("INVALID_VALUE", f"type_map names table '{tm}', which the set does not declare",
                             file=file, row=_toml_line(text, "type_map"), column="type_map", value=tm,
                             expected="the name of one of the set's [[tables]]"))
    if probs:
        return None, probs
    try:
        return SetManifest.model_validate(data), []
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(x) for x in err["loc"])
            top = str(err["loc"][0]) if err["loc"] else None
            probs.append(Problem("BAD_CONFIG", f"set.toml field '{loc}': {err['msg']}", file=file,
                                 row=_toml_line(text, top) if top else None, column=loc))
        return None, probs


# ---------------------------------------------------------------------------
# table checks


def check_table(
    raw: pl.DataFrame, keys: Sequence[str], file: str, table: str = "table"
) -> tuple[pl.DataFrame | None, list[Problem]]:
    """Validate one coefficient table given as text cells (+ ``_row``); return it typed, or None.

    Checks: key and required columns present; keys non-empty and unique;
    ecosystem_type keys known (aliases normalised to the Chinese name); value
    numeric and finite; unit non-empty and parseable by gep.units; price_year a
    whole year; source non-empty; verification in verified/secondary/unverified;
    low ≤ value ≤ high; distribution in uniform/triangular/normal/lognormal.
    """
    df, clashes = rename_headers(raw)
    probs = [Problem("DUPLICATE_COLUMN", f"two columns mean the same thing: {c}", file=file, row=1)
             for c in clashes]
    probs += check_required_columns(df, [*keys, *REQUIRED_COLUMNS], file, f"coefficient table '{table}'")
    if probs:
        return None, probs
    # the first key names the row; later keys may be empty (= not applicable), still unique together
    probs += check_nonempty(df, keys[:1], file, " (the first key column names the row)")
    if "ecosystem_type" in keys:
        canon = normalize_ecosystem_type(pl.col("ecosystem_type"))
        for row, val in bad_rows(df, pl.col("ecosystem_type").is_not_null() & canon.is_null(), "ecosystem_type"):
            probs.append(unknown_type_problem(val, file, row))
        df = df.with_columns(pl.coalesce(canon, pl.col("ecosystem_type")).alias("ecosystem_type"))
    probs += check_duplicates(df, keys, file)

    value, p = parse_float(df, "value", file, required=True)
    probs += p
    low, p = parse_float(df, "low", file, required=False)
    probs += p
    high, p = parse_float(df, "high", file, required=False)
    probs += p

    probs += check_nonempty(df, ["unit"], file, " (every coefficient needs a unit, e.g. CNY/hm2, t/ha, equivalent)")
    units = [u for u in df["unit"].drop_nulls().unique().sort().to_list() if u.strip()]
    bad_units = {u for u in units if not unit_ok(u)}
    if bad_units:
        for row, val in bad_rows(df, pl.col("unit").is_in(sorted(bad_units)), "unit"):
            probs.append(Problem("UNKNOWN_UNIT", f"unit '{val}' is not a unit gep knows", file=file, row=row,
                                 column="unit", value=val,
                                 expected="a unit such as CNY/hm2, 元/t, t/ha, t C/ha/yr, m3/hm2, equivalent"))

    probs += check_nonempty(df, ["source"], file, " (every coefficient needs its publication and table/page)")

    ver = normalize_verification(pl.col("verification"))
    probs += check_nonempty(df, ["verification"], file)
    for row, val in bad_rows(df, pl.col("verification").is_not_null() & ver.is_null(), "verification"):
        probs.append(Problem("INVALID_VALUE", "verification is not an allowed value", file=file, row=row,
                             column="verification", value=val, expected="verified, secondary or unverified (✅ 🔶 ⚠️)"))

    if "price_year" in df.columns:
        py_txt = pl.col("price_year").cast(pl.Utf8).str.strip_chars().str.replace(r"\.0$", "")
        py = py_txt.cast(pl.Int32, strict=False)
        for row, val in bad_rows(df, py_txt.is_not_null() & (py.is_null() | (py < 1900) | (py > 2100)), "price_year"):
            probs.append(Problem("WRONG_TYPE", "price_year is not a year", file=file, row=row, column="price_year",
                                 value=val, expected="a year such as 2010, or empty for physical coefficients"))
        price_year = df.select(py.alias("price_year")).to_series()
    else:
        price_year = pl.Series("price_year", [None] * df.height, dtype=pl.Int32)

    typed = df.with_columns(
        value.alias("value"),
        low.alias("low"),
        high.alias("high"),
        price_year.alias("price_year"),
        ver.alias("verification"),
    )
    for c in ("distribution", "note"):
        if c not in typed.columns:
            typed = typed.with_columns(pl.lit(None, pl.Utf8).alias(c))
    typed = typed.with_columns(pl.col("distribution").str.strip_chars().str.to_lowercase())

    dist = pl.col("distribution")
    for row, val in bad_rows(typed, dist.is_not_null() & ~dist.is_in(list(DISTRIBUTIONS)), "distribution"):
        probs.append(Problem("INVALID_VALUE", "distribution is not an allowed value", file=file, row=row,
                             column="distribution", value=val, expected=", ".join(DISTRIBUTIONS) + " or empty"))
    for row, val in bad_rows(typed, dist.is_not_null() & (pl.col("low").is_null() | pl.col("high").is_null()),
                             "distribution"):
        probs.append(Problem("MISSING_VALUE", f"distribution '{val}' needs both low and high", file=file, row=row,
                             column="low", expected="low and high (for normal/lognormal: the 2.5 % and 97.5 % points)"))
    for row, val in bad_rows(typed, (dist == "lognormal") & (pl.col("low") <= 0), "low"):
        probs.append(Problem("INVALID_VALUE", "a lognormal distribution needs low > 0", file=file, row=row,
                             column="low", value=val, expected="a positive low"))
    v, lo, hi = pl.col("value"), pl.col("low"), pl.col("high")
    for row, val in bad_rows(typed, lo.is_not_null() & hi.is_not_null() & (lo > hi), "low"):
        probs.append(Problem("INVALID_RANGE", "low is above high", file=file, row=row, column="low", value=val,
                             expected="low ≤ value ≤ high"))
    for row, val in bad_rows(typed, v.is_not_null() & lo.is_not_null() & (lo > v), "low"):
        probs.append(Problem("INVALID_RANGE", "low is above value", file=file, row=row, column="low", value=val,
                             expected="low ≤ value ≤ high"))
    for row, val in bad_rows(typed, v.is_not_null() & hi.is_not_null() & (hi < v), "high"):
        probs.append(Problem("INVALID_RANGE", "high is below value", file=file, row=row, column="high", value=val,
                             expected="low ≤ value ≤ high"))
    if probs:
        return None, probs
    extras = [c for c in typed.columns if c not in (*keys, *STANDARD_COLUMNS, ROW)]
    typed = typed.select([*keys, *STANDARD_COLUMNS, *extras]).with_columns(
        [pl.col(k).cast(pl.Utf8) for k in keys] + [pl.col(c).cast(pl.Utf8) for c in extras]
    )
    return typed, []


def _read(path: Path, label: str) -> tuple[pl.DataFrame | None, list[Problem]]:
    try:
        raw = read_raw(path, display_name=label)
    except InputError as exc:
        return None, exc.problems
    return raw.df.with_columns(raw.rows.alias(ROW)), []


def _load_dir(folder: Path) -> tuple[CoefficientSet | None, list[Problem]]:
    toml_path = folder / "set.toml"
    label = str(toml_path)
    text = toml_path.read_text(encoding="utf-8-sig")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        return None, [Problem("BAD_CONFIG", f"set.toml is not valid TOML: {exc}", file=label,
                              row=int(m.group(1)) if m else None, expected="key = value lines as in docs/coefficients.md")]
    manifest, probs = _check_manifest(data, text, label)
    if manifest is None:
        return None, probs
    tables: dict[str, pl.DataFrame] = {}
    for decl in manifest.tables:
        f = folder / decl.file
        flabel = str(f)
        if not f.is_file():
            probs.append(Problem("FILE_NOT_FOUND", f"table '{decl.name}' declared in set.toml is missing",
                                 file=flabel, row=None, expected=f"the file {decl.file} next to set.toml"))
            continue
        raw, p = _read(f, flabel)
        probs += p
        if raw is None:
            continue
        typed, p = check_table(raw, decl.keys, flabel, decl.name)
        probs += p
        if typed is not None:
            tables[decl.name] = typed
    if probs:
        return None, probs
    worst = max((VERIFICATION_RANK[v] for t in tables.values() for v in t["verification"].to_list()), default=0)
    if manifest.verification == "verified" and worst > 0:
        probs.append(Problem(
            "VERIFICATION_OVERSTATED",
            f"the set is marked verified but has {VERIFICATION[worst]} rows",
            file=label, row=_toml_line(text, "verification"), column="verification", value=manifest.verification,
            expected=f"'{VERIFICATION[worst]}' (the worst status of its rows) or 'secondary'",
        ))
        return None, probs
    return CoefficientSet(manifest=manifest, tables=tables, path=str(folder)), []


def _single_table_keys(cols: Sequence[str]) -> list[str]:
    if "ecosystem_type" in cols and "service" in cols:
        return ["ecosystem_type", "service"]
    if "value" not in cols:
        return []
    return [c for c in cols[: list(cols).index("value")] if c != ROW and c not in STANDARD_COLUMNS]


def _load_table_file(path: Path) -> tuple[CoefficientSet | None, list[Problem]]:
    label = str(path)
    raw, probs = _read(path, label)
    if raw is None:
        return None, probs
    renamed, _ = rename_headers(raw)
    keys = _single_table_keys(renamed.columns)
    if not keys:
        return None, [Problem(
            "MISSING_COLUMN", "cannot tell the key columns of this table", file=label, row=1, column="value",
            expected="key columns to the left of 'value' (e.g. ecosystem_type, service, value, unit, ...)",
        )]
    name = "equivalents" if keys == ["ecosystem_type", "service"] else re.sub(r"\W+", "_", path.stem).strip("_")
    typed, probs = check_table(raw, keys, label, name)
    if typed is None:
        return None, probs
    years = typed["price_year"].drop_nulls().unique().to_list()
    worst = max((VERIFICATION_RANK[v] for v in typed["verification"].to_list()), default=0)
    sid = re.sub(r"[^A-Za-z0-9_.+\-]+", "_", path.stem).strip("_") or "user_table"
    family = "equivalent_factor" if name == "equivalents" else "user"
    manifest = SetManifest(
        id=sid, version="user", title=f"User-supplied table {path.name}", method_family=family,
        price_year=int(years[0]) if len(years) == 1 else None, currency="CNY" if years else None,
        citation=f"user-supplied table {path.name} (sources per row)", license="user-supplied",
        verification=VERIFICATION[worst], tables=(TableDecl(name=name, file=path.name, keys=tuple(keys)),),
        type_map=None, user_supplied=True,
    )
    return CoefficientSet(manifest=manifest, tables={name: typed}, path=str(path)), []


def validate_set(id_or_path: str | Path) -> list[Problem]:
    """Every problem of a set (built-in id, set folder or single table); empty list = valid."""
    try:
        kind, p = _locate(id_or_path)
    except InputError as exc:
        return exc.problems
    _, probs = _load_dir(p) if kind == "dir" else _load_table_file(p)
    return probs


def load_set(id_or_path: str | Path) -> CoefficientSet:
    """Load and validate a coefficient set: built-in id, a set folder, or one CSV/XLSX table.

    A single table becomes a set with a synthesized manifest (``user_supplied =
    true``); its key columns are ``ecosystem_type, service`` when present, else the
    columns left of ``value``. Raises InputError with every problem found.
    """
    kind, p = _locate(id_or_path)
    cset, probs = _load_dir(p) if kind == "dir" else _load_table_file(p)
    if probs or cset is None:
        raise InputError(probs)
    return cset


# ---------------------------------------------------------------------------
# overrides


def load_overrides(path: str | Path) -> pl.DataFrame:
    """Read an override file (CSV/XLSX) as text cells with its ``_row`` numbers."""
    raw, probs = _read(Path(path), str(path))
    if raw is None:
        raise InputError(probs)
    return raw


def _ov_text(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns([pl.col(c).cast(pl.Utf8) for c in df.columns if c != ROW])


def apply_overrides(
    cset: CoefficientSet,
    overrides: pl.DataFrame | str | Path,
    new_id: str | None = None,
    new_version: str | None = None,
    file: str | None = None,
) -> CoefficientSet:
    """Replace single values of a set by key; the result records its base and every overridden row.

    ``overrides`` columns: ``table`` (optional when only one table matches the
    key columns given), the key columns, ``value``, and optionally ``unit`` (converted
    to the table's unit through gep.units), ``source``, ``verification`` (default
    unverified), ``low``, ``high``, ``distribution``, ``note``, ``price_year``.
    An unknown key raises InputError UNKNOWN_KEY naming the override row.
    """

    if isinstance(overrides, (str, Path)):
        file = file or str(overrides)
        ov = load_overrides(overrides)
    else:
        ov = overrides.clone()
        if ROW not in ov.columns:
            ov = ov.with_columns(pl.int_range(2, ov.height + 2, dtype=pl.Int64).alias(ROW))
    label = file or "overrides"
    ov, clashes = rename_headers(_ov_text(ov))
    probs: list[Problem] = [Problem("DUPLICATE_COLUMN", f"two columns mean the same thing: {c}", file=label, row=1)
                            for c in clashes]
    probs += check_required_columns(ov, ["value"], label, "the override table")
    if probs:
        raise InputError(probs)

    # which table does each row override?
    names = [t.name for t in cset.manifest.tables]
    if "table" in ov.columns:
        for row, val in bad_rows(ov, pl.col("table").is_not_null() & ~pl.col("table").is_in(names), "table"):
            probs.append(Problem("UNKNOWN_TABLE", f"coefficient set '{cset.id}' has no table '{val}'", file=label,
                                 row=row, column="table", value=val, expected="one of: " + ", ".join(names)))
        target = pl.col("table")
    else:
        target = pl.lit(None, pl.Utf8)
    guess: pl.Expr = pl.lit(None, pl.Utf8)
    for t in reversed(cset.manifest.tables):
        if all(k in ov.columns for k in t.keys):
            cond = pl.all_horizontal([pl.col(k).is_not_null() for k in t.keys])
            guess = pl.when(cond).then(pl.lit(t.name)).otherwise(guess)
    if len(names) == 1:
        guess = pl.lit(names[0])
    ov = ov.with_columns(pl.coalesce(target, guess).alias("table"))
    for row, _ in bad_rows(ov, pl.col("table").is_null()):
        probs.append(Problem(
            "MISSING_COLUMN", "cannot tell which table this override row belongs to", file=label, row=row,
            column="table", expected="a 'table' column (" + ", ".join(names) + ") or all key columns of one table",
        ))

    value, p = parse_float(ov, "value", label, required=True)
    probs += p
    low, p = parse_float(ov, "low", label, required=False)
    probs += p
    high, p = parse_float(ov, "high", label, required=False)
    probs += p
    ov = ov.with_columns(value.alias("value"), low.alias("low"), high.alias("high"))
    if "verification" in ov.columns:
        ver = normalize_verification(pl.col("verification"))
        for row, val in bad_rows(ov, pl.col("verification").is_not_null() & ver.is_null(), "verification"):
            probs.append(Problem("INVALID_VALUE", "verification is not an allowed value", file=label, row=row,
                                 column="verification", value=val, expected="verified, secondary or unverified"))
        ov = ov.with_columns(ver.alias("verification"))
    for c in ("unit", "source", "verification", "distribution", "note", "price_year"):
        if c not in ov.columns:
            ov = ov.with_columns(pl.lit(None, pl.Utf8).alias(c))
    ov = ov.with_columns(
        pl.col("price_year").str.replace(r"\.0$", "").cast(pl.Int32, strict=False),
        pl.col("distribution").str.to_lowercase(),
    )
    lo, hi, v = pl.col("low"), pl.col("high"), pl.col("value")
    for row, val in bad_rows(ov, (lo.is_not_null() & (lo > v)) | (hi.is_not_null() & (hi < v)), "value"):
        probs.append(Problem("INVALID_RANGE", "the override value is outside its own low-high range", file=label,
                             row=row, column="value", value=val, expected="low ≤ value ≤ high"))
    if probs:
        raise InputError(probs)

    base = f"{cset.id} {cset.version}"
    new_tables = dict(cset.tables)
    records: list[dict[str, Any]] = []
    worst = VERIFICATION_RANK.get(cset.manifest.verification, 0)
    for decl in cset.manifest.tables:
        part = ov.filter(pl.col("table") == decl.name)
        if part.height == 0:
            continue
        keys = list(decl.keys)
        table = cset.tables[decl.name]
        miss = check_required_columns(part, keys, label, f"the overrides of table '{decl.name}'")
        if miss:
            probs += miss
            continue
        if "ecosystem_type" in keys:
            canon = normalize_ecosystem_type(pl.col("ecosystem_type"))
            for row, val in bad_rows(part, canon.is_null(), "ecosystem_type"):
                probs.append(unknown_type_problem(val, label, row))
            part = part.with_columns(pl.coalesce(canon, pl.col("ecosystem_type")).alias("ecosystem_type"))
        if "service" in keys and "service_zh" in table.columns:
            zh = dict(table.select("service_zh", "service").unique().iter_rows())
            part = part.with_columns(
                pl.col("service").replace_strict(zh, default=pl.col("service"), return_dtype=pl.Utf8))
        probs += check_duplicates(part, keys, label)
        unknown = part.join(table.select(keys), on=keys, how="anti", nulls_equal=True)
        for rec in unknown.iter_rows(named=True):
            key_text = ", ".join(f"{k}={rec[k]}" for k in keys)
            example = ", ".join(f"{k}={table[k][0]}" for k in keys)
            probs.append(Problem(
                "UNKNOWN_KEY", f"no row ({key_text}) in table '{decl.name}' of set '{cset.id}'",
                file=label, row=rec[ROW], column=keys[0], value=key_text,
                expected=f"a key of the table, e.g. {example} (see `gep coefficients show {cset.id}`)",
            ))
        # unit conversion to the table's unit
        joined = part.join(table.select([*keys, pl.col("unit").alias("_unit_t"), pl.col("value").alias("_old")]),
                           on=keys, how="inner", nulls_equal=True)
        factors: dict[tuple[str, str], float | None] = {}
        for u_ov, u_t in joined.select("unit", "_unit_t").unique().iter_rows():
            if u_ov is None or u_ov.strip() == u_t.strip():
                factors[(u_ov, u_t)] = 1.0
                continue
            try:
                a, b = units.parse_compound(u_ov), units.parse_compound(u_t)
                factors[(u_ov, u_t)] = a.factor / b.factor if a.signature == b.signature else None
            except InputError:
                factors[(u_ov, u_t)] = None
        fac = pl.DataFrame(
            {"unit": [k[0] for k in factors], "_unit_t": [k[1] for k in factors],
             "_f": [factors[k] for k in factors]},
            schema={"unit": pl.Utf8, "_unit_t": pl.Utf8, "_f": pl.Float64},
        )
        joined = joined.join(fac, on=["unit", "_unit_t"], how="left", nulls_equal=True)
        for rec in joined.filter(pl.col("_f").is_null()).iter_rows(named=True):
            probs.append(Problem("UNIT_MISMATCH", f"unit '{rec['unit']}' cannot be converted to the table's unit "
                                 f"'{rec['_unit_t']}'", file=label, row=rec[ROW], column="unit", value=rec["unit"],
                                 expected=f"'{rec['_unit_t']}' or a unit of the same kind"))
        if probs:
            continue
        joined = joined.with_columns(
            (pl.col("value") * pl.col("_f")).alias("value"),
            (pl.col("low") * pl.col("_f")).alias("low"),
            (pl.col("high") * pl.col("_f")).alias("high"),
        )
        upd = joined.select(
            *keys,
            pl.col("value").alias("_v"),
            pl.col("low").alias("_lo"),
            pl.col("high").alias("_hi"),
            pl.col("distribution").alias("_dist"),
            pl.col("source").alias("_src"),
            pl.col("verification").alias("_ver"),
            pl.col("note").alias("_note"),
            pl.col("price_year").alias("_py"),
            pl.lit(True).alias("_hit"),
        )
        hit = pl.col("_hit").fill_null(False)
        merged = (
            table.with_row_index("_i")
            .join(upd, on=keys, how="left", nulls_equal=True)
            .sort("_i")
            .with_columns(
                pl.when(hit).then(pl.col("_v")).otherwise(pl.col("value")).alias("value"),
                pl.when(hit).then(pl.col("_lo")).otherwise(pl.col("low")).alias("low"),
                pl.when(hit).then(pl.col("_hi")).otherwise(pl.col("high")).alias("high"),
                pl.when(hit).then(pl.col("_dist")).otherwise(pl.col("distribution")).alias("distribution"),
                pl.when(hit).then(pl.coalesce(pl.col("_src"), pl.lit("user override")))
                .otherwise(pl.col("source")).alias("source"),
                pl.when(hit).then(pl.coalesce(pl.col("_ver"), pl.lit("unverified")))
                .otherwise(pl.col("verification")).alias("verification"),
                pl.when(hit).then(pl.coalesce(pl.col("_py"), pl.col("price_year")))
                .otherwise(pl.col("price_year")).alias("price_year"),
                pl.when(hit).then(pl.coalesce(
                    pl.col("_note"),
                    pl.format("user override of {} value {}", pl.lit(base), pl.col("value").cast(pl.Utf8)),
                )).otherwise(pl.col("note")).alias("note"),
            )
        )
        new_tables[decl.name] = merged.select(table.columns)
        rec_df = joined.sort(keys).select(
            *keys, pl.col("_old"), pl.col("value"), pl.col("_unit_t"), pl.col("source"), pl.col("verification"))
        for rec in rec_df.iter_rows(named=True):
            row_ver = str(rec["verification"] or "unverified")
            worst = max(worst, VERIFICATION_RANK[row_ver])
            records.append({
                "table": decl.name, "key": {k: rec[k] for k in keys}, "old_value": rec["_old"],
                "new_value": rec["value"], "unit": rec["_unit_t"], "source": rec["source"] or "user override",
                "verification": row_ver,
            })
    if probs:
        raise InputError(probs)
    m = cset.manifest
    manifest = m.model_copy(update={
        "id": new_id or f"{m.id}+overrides",
        "version": new_version or m.version,
        "base_id": m.base_id or m.id,
        "base_version": m.base_version or m.version,
        "overrides": [*m.overrides, *records],
        "verification": VERIFICATION[worst],
    })
    return CoefficientSet(manifest=manifest, tables=new_tables, path=cset.path)


# ---------------------------------------------------------------------------
# diff


def diff_sets(a: CoefficientSet, b: CoefficientSet) -> pl.DataFrame:
    """Rows that differ between two sets, by table and key.

    Columns: table, key ("k1 | k2"), status (changed/added/removed), old_value,
    new_value, rel_change ((new − old) / |old|; null when old is 0 or missing),
    old_unit, new_unit. Sorted by table, key.
    """
    schema = {"table": pl.Utf8, "key": pl.Utf8, "status": pl.Utf8, "old_value": pl.Float64,
              "new_value": pl.Float64, "rel_change": pl.Float64, "old_unit": pl.Utf8, "new_unit": pl.Utf8}
    parts: list[pl.DataFrame] = []

    def keyed(cs: CoefficientSet, name: str, keys: list[str]) -> pl.DataFrame:
        t = cs.tables[name]
        return t.select(
            pl.concat_str([pl.col(k).cast(pl.Utf8).fill_null("") for k in keys], separator=" | ").alias("key"),
            "value", "unit")

    for name in sorted(set(a.tables) | set(b.tables)):
        ka = a.keys(name) if name in a.tables else None
        kb = b.keys(name) if name in b.tables else None
        if ka is not None and kb is not None and ka == kb:
            left, right = keyed(a, name, ka), keyed(b, name, kb)
        else:
            left = keyed(a, name, ka) if ka is not None else pl.DataFrame(schema={"key": pl.Utf8, "value": pl.Float64, "unit": pl.Utf8})
            right = keyed(b, name, kb) if kb is not None else pl.DataFrame(schema={"key": pl.Utf8, "value": pl.Float64, "unit": pl.Utf8})
            if ka is not None and kb is not None:  # keys changed: compare nothing, report all
                left = left.with_columns(pl.format("[a] {}", "key").alias("key"))
                right = right.with_columns(pl.format("[b] {}", "key").alias("key"))
        j = left.join(right, on="key", how="full", coalesce=True, suffix="_new")
        old, new = pl.col("value"), pl.col("value_new")
        status = (
            pl.when(old.is_null() & pl.col("unit").is_null()).then(pl.lit("added"))
            .when(new.is_null() & pl.col("unit_new").is_null()).then(pl.lit("removed"))
            .when((old != new) | (pl.col("unit") != pl.col("unit_new"))).then(pl.lit("changed"))
            .otherwise(None)
        )
        parts.append(
            j.with_columns(status.alias("status"))
            .filter(pl.col("status").is_not_null())
            .select(
                pl.lit(name).alias("table"), "key", "status",
                old.alias("old_value"), new.alias("new_value"),
                pl.when(old.is_not_null() & new.is_not_null() & (old != 0))
                .then((new - old) / old.abs()).otherwise(None).alias("rel_change"),
                pl.col("unit").alias("old_unit"), pl.col("unit_new").alias("new_unit"),
            )
        )
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat(parts, how="vertical_relaxed").cast(schema).sort(["table", "key"])  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# sets with their own ecosystem vocabulary


def equivalents_by_type(cset: CoefficientSet, table: str = "equivalents") -> pl.DataFrame:
    """The table keyed by the 14 Xie 2015 ``ecosystem_type`` names, through the set's ``type_map`` if it has one.

    For a set with its own vocabulary (``xie2003``, ``xie2008``: 森林 草地 农田 湿地 水域 荒漠), each
    type gets Σ weight × group value over its type_map rows (weights sum to 1), and the
    worst verification of the type_map row and the group row. Sets keyed by
    ``ecosystem_type`` are returned unchanged. Columns: ecosystem_type, the other
    keys, value, unit, price_year, source, verification (+ ecosystem_group, and the descriptive
    ``category`` and ``service_zh`` of the group rows, when mapped).
    """
    t = cset.table(table)
    tm_name = cset.manifest.type_map
    if tm_name is None or "ecosystem_type" in cset.keys(table):
        return t
    tm = cset.table(tm_name)
    group_key = next(k for k in cset.keys(tm_name) if k != "ecosystem_type")
    other = [k for k in cset.keys(table) if k != group_key]
    rank = {v: i for i, v in enumerate(VERIFICATION)}
    joined = tm.select(
        "ecosystem_type", group_key, pl.col("value").alias("_w"),
        pl.col("verification").replace_strict(rank, return_dtype=pl.Int32).alias("_vm"),
    ).join(t, on=group_key, how="inner", maintain_order="left_right").with_columns(
        pl.max_horizontal("_vm", pl.col("verification").replace_strict(rank, return_dtype=pl.Int32)).alias("_v"),
    )
    inv = {i: v for v, i in rank.items()}
    return (
        joined.group_by(["ecosystem_type", *other], maintain_order=True)
        .agg(
            (pl.col("value") * pl.col("_w")).sum().alias("value"),
            pl.col("unit").first(),
            pl.col("price_year").first(),
            pl.col("source").unique(maintain_order=True).str.join("; ").alias("source"),
            pl.col("_v").max().replace_strict(inv, return_dtype=pl.Utf8).alias("verification"),
            pl.col(group_key).unique(maintain_order=True).str.join("+").alias(group_key),
            *[pl.col(c).first() for c in ("category", "service_zh") if c in t.columns and c not in other],
        )
    )
