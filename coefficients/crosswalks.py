"""Crosswalks from land-cover schemes to the 14 Xie 2015 ecosystem types.

A crosswalk is a table ``class, ecosystem_type`` (+ optional ``code``,
``class_name_en``, ``class_name_zh``, ``source``, ``verification``, ``note``).
An empty ``ecosystem_type`` means the class carries no service value (built-up
land) but still counts in the extent (docs/contracts.md §2, §6). Built-ins:
``clcd``, ``cnlucc``, ``tnls`` (三调), ``worldcover`` (coefficients/crosswalks/README.md).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from gep.errors import InputError, Problem
from gep.readers import read_raw

from ._rows import (
    ROW,
    bad_rows,
    check_duplicates,
    check_nonempty,
    check_required_columns,
    normalize_verification,
    rename_headers,
)
from .types import normalize_ecosystem_type, unknown_type_problem

CROSSWALKS_DIR = Path(__file__).resolve().parent / "crosswalks"
_ALIAS_SEP = ";"

CROSSWALK_ALIASES: dict[str, str] = {
    "地类": "class",
    "地类名称": "class",
    "类别": "class",
    "类型名称": "class",
    "土地利用类型": "class",
    "landcover_class": "class",
    "代码": "code",
    "编码": "code",
    "地类编码": "code",
    "地类代码": "code",
    "lucode": "code",
    "xie_type": "ecosystem_type",
    "英文名": "class_name_en",
    "中文名": "class_name_zh",
    "别名": "aliases",
}


def list_crosswalks() -> list[str]:
    """Ids of the built-in crosswalks (``coefficients/crosswalks/<id>.csv``), sorted."""
    if not CROSSWALKS_DIR.is_dir():
        return []
    return sorted(p.stem for p in CROSSWALKS_DIR.glob("*.csv"))


def _locate(id_or_path: str | Path) -> tuple[Path, bool]:
    """(file, is_builtin)."""
    p = Path(id_or_path)
    if p.is_file():
        return p, p.resolve().parent == CROSSWALKS_DIR
    name = str(id_or_path)
    if name in list_crosswalks():
        return CROSSWALKS_DIR / f"{name}.csv", True
    raise InputError([Problem(
        "UNKNOWN_CROSSWALK", f"'{name}' is neither a built-in crosswalk nor an existing file",
        value=name, expected="one of: " + ", ".join(list_crosswalks()) + "; or a CSV/XLSX with class, ecosystem_type",
    )])


def _code_norm(expr: pl.Expr) -> pl.Expr:
    """Codes compared as text without a trailing '.0' (Excel) and, for digits, without leading zeros."""
    t = expr.cast(pl.Utf8).str.strip_chars().str.replace(r"\.0+$", "")
    return pl.when(t.str.contains(r"^\d+$")).then(t.str.replace(r"^0+(\d)", "$1")).otherwise(t)


def check_crosswalk(
    raw: pl.DataFrame, file: str, require_provenance: bool = False
) -> tuple[pl.DataFrame | None, list[Problem]]:
    """Validate a crosswalk given as text cells (+ ``_row``); return it typed, or None.

    Checks: ``class`` and ``ecosystem_type`` columns; class non-empty and unique;
    codes unique (also after dropping leading zeros); ecosystem_type a known
    type (Chinese name or English code) or empty; verification vocabulary; with
    ``require_provenance`` (built-ins), source and verification on every row.
    """
    df, clashes = rename_headers(raw, CROSSWALK_ALIASES)
    probs = [Problem("DUPLICATE_COLUMN", f"two columns mean the same thing: {c}", file=file, row=1)
             for c in clashes]
    required = ["class", "ecosystem_type"] + (["source", "verification"] if require_provenance else [])
    probs += check_required_columns(df, required, file, "the crosswalk")
    if probs:
        return None, probs
    probs += check_nonempty(df, ["class"], file)
    if require_provenance:
        probs += check_nonempty(df, ["source", "verification"], file, " (every crosswalk row needs its provenance)")
    probs += check_duplicates(df, ["class"], file)
    if "code" in df.columns:
        coded = df.filter(pl.col("code").is_not_null()).with_columns(_code_norm(pl.col("code")).alias("_code"))
        for p in check_duplicates(coded, ["_code"], file):
            probs.append(Problem(p.code, p.message.replace("_code=", "code="), file=file, row=p.row, column="code",
                                 value=p.value, expected="each class code once (leading zeros are ignored)"))
    et = pl.col("ecosystem_type")
    canon = normalize_ecosystem_type(et)
    given = et.is_not_null() & (et.cast(pl.Utf8).str.strip_chars() != "")
    for row, val in bad_rows(df, given & canon.is_null(), "ecosystem_type"):
        probs.append(unknown_type_problem(val, file, row))
    if "verification" in df.columns:
        ver = normalize_verification(pl.col("verification"))
        for row, val in bad_rows(df, pl.col("verification").is_not_null() & ver.is_null(), "verification"):
            probs.append(Problem("INVALID_VALUE", "verification is not an allowed value", file=file, row=row,
                                 column="verification", value=val, expected="verified, secondary or unverified"))
        df = df.with_columns(ver.alias("verification"))
    if probs:
        return None, probs
    df = df.with_columns(pl.when(given).then(canon).otherwise(None).alias("ecosystem_type"))
    probs += _ambiguous_spellings(df, file)
    if probs:
        return None, probs
    front = [c for c in ("class", "code", "ecosystem_type") if c in df.columns]
    rest = [c for c in df.columns if c not in front and c != ROW]
    return df.select([*front, *rest]).with_columns(pl.col("class").cast(pl.Utf8)), []


def _ambiguous_spellings(df: pl.DataFrame, file: str) -> list[Problem]:
    """AMBIGUOUS_CLASS when one alias / English / Chinese name belongs to two classes."""
    parts = []
    for col in ("class_name_en", "class_name_zh", "aliases"):
        if col in df.columns:
            parts.append(df.filter(pl.col(col).is_not_null()).select(
                pl.col(col).cast(pl.Utf8).str.split(_ALIAS_SEP).alias("key"), "class", ROW, pl.lit(col).alias("col"),
            ).explode("key").with_columns(pl.col("key").str.strip_chars().str.to_lowercase()))
    if not parts:
        return []
    names = df.select(pl.col("class").str.strip_chars().str.to_lowercase().alias("key"), pl.col("class").alias("owner"))
    allk = pl.concat(parts).filter(pl.col("key") != "")
    clash = allk.join(names, on="key").filter(pl.col("owner") != pl.col("class"))
    multi = (allk.group_by("key").agg(pl.col("class").n_unique().alias("n"), pl.col("class").unique().sort())
             .filter(pl.col("n") > 1))
    out = [Problem("AMBIGUOUS_CLASS", f"'{r['key']}' in column {r['col']} names class '{r['class']}' but is also "
                   f"the class '{r['owner']}'", file=file, row=r[ROW], column=r["col"], value=r["key"],
                   expected="aliases that name only their own class")
           for r in clash.sort(ROW).iter_rows(named=True)]
    for r in multi.sort("key").iter_rows(named=True):
        rows = allk.filter(pl.col("key") == r["key"])[ROW].sort().to_list()
        out.append(Problem("AMBIGUOUS_CLASS", f"'{r['key']}' is an alias of several classes: {', '.join(r['class'])}",
                           file=file, row=rows[-1], column="aliases", value=r["key"],
                           expected="each alias for one class only"))
    return out


def validate_crosswalk(id_or_path: str | Path, require_provenance: bool | None = None) -> list[Problem]:
    """Every problem of a crosswalk (built-in id or file); built-ins must carry provenance on every row."""
    try:
        path, builtin = _locate(id_or_path)
        raw = read_raw(path, display_name=str(path))
    except InputError as exc:
        return exc.problems
    req = builtin if require_provenance is None else require_provenance
    _, probs = check_crosswalk(raw.df.with_columns(raw.rows.alias(ROW)), str(path), req)
    return probs


def load_crosswalk(id_or_path: str | Path) -> pl.DataFrame:
    """Load a crosswalk: ``class, [code], ecosystem_type`` (canonical Chinese type; null = no service value), then the rest.

    Accepts a built-in id (clcd, cnlucc, tnls, worldcover) or a CSV/XLSX file;
    Chinese headers (地类, 代码, 生态系统类型) and English type codes are accepted.
    Raises InputError with every problem.
    """
    path, builtin = _locate(id_or_path)
    raw = read_raw(path, display_name=str(path))
    df, probs = check_crosswalk(raw.df.with_columns(raw.rows.alias(ROW)), str(path), builtin)
    if df is None:
        raise InputError(probs)
    return df


def crosswalk_keys(crosswalk: pl.DataFrame) -> pl.DataFrame:
    """``key, class, ecosystem_type``: every spelling by which a land-cover table may name a class.

    Keys: the class name, its code (also without leading zeros / trailing '.0'),
    and, lower-cased, the class name, ``class_name_en``, ``class_name_zh`` and each
    entry of ``aliases`` (separated by ';'). A spelling shared by two classes at the
    same priority is dropped (ambiguous; :func:`check_crosswalk` reports it); exact
    class names win over codes, codes over aliases.
    """
    parts = [crosswalk.select(pl.col("class").alias("key"), "class", "ecosystem_type", pl.lit(0).alias("_p"))]
    if "code" in crosswalk.columns:
        c = crosswalk.filter(pl.col("code").is_not_null())
        parts.append(c.select(pl.col("code").cast(pl.Utf8).alias("key"), "class", "ecosystem_type", pl.lit(1).alias("_p")))
        parts.append(c.select(_code_norm(pl.col("code")).alias("key"), "class", "ecosystem_type", pl.lit(2).alias("_p")))
    for col in ("class_name_en", "class_name_zh", "aliases"):
        if col in crosswalk.columns:
            parts.append(crosswalk.filter(pl.col(col).is_not_null()).select(
                pl.col(col).cast(pl.Utf8).str.split(_ALIAS_SEP).alias("key"), "class", "ecosystem_type",
                pl.lit(3).alias("_p")).explode("key").with_columns(
                pl.col("key").str.strip_chars().str.to_lowercase()))
    parts.append(crosswalk.select(pl.col("class").str.strip_chars().str.to_lowercase().alias("key"), "class",
                                  "ecosystem_type", pl.lit(3).alias("_p")))
    allk = pl.concat(parts, how="vertical_relaxed").filter(pl.col("key").is_not_null() & (pl.col("key") != ""))
    best = allk.group_by("key").agg(pl.col("_p").min().alias("_p"))
    top = allk.join(best, on=["key", "_p"]).unique(["key", "class"])
    unambiguous = top.group_by("key").agg(pl.len().alias("n")).filter(pl.col("n") == 1).select("key")
    return top.join(unambiguous, on="key").select("key", "class", "ecosystem_type").sort("key")


def match_classes(landcover: pl.DataFrame, crosswalk: pl.DataFrame) -> pl.DataFrame:
    """Add ``crosswalk_class`` (the crosswalk's class name; null = unknown) and ``ecosystem_type``.

    ``class`` may be given by name, code (leading zeros and a trailing '.0' are
    ignored) or alias, in any ASCII case. Never raises; see :func:`apply_crosswalk`.
    """
    lut = crosswalk_keys(crosswalk).select("key", pl.col("class").alias("_class"), pl.col("ecosystem_type").alias("_et"))
    norm = pl.col("class").cast(pl.Utf8).str.strip_chars()
    out = landcover.with_columns(
        norm.alias("_k1"), _code_norm(norm).alias("_k2"), norm.str.to_lowercase().alias("_k3"))
    for i, k in enumerate(("_k1", "_k2", "_k3")):
        out = out.join(lut.rename({"_class": f"_c{i}", "_et": f"_e{i}"}), left_on=k, right_on="key", how="left", maintain_order="left")
    out = out.with_columns(
        pl.coalesce("_c0", "_c1", "_c2").alias("crosswalk_class"),
        pl.when(pl.col("_c0").is_not_null()).then(pl.col("_e0"))
        .when(pl.col("_c1").is_not_null()).then(pl.col("_e1"))
        .otherwise(pl.col("_e2")).alias("ecosystem_type"),
    )
    return out.drop(["_k1", "_k2", "_k3", "_c0", "_c1", "_c2", "_e0", "_e1", "_e2"])


def apply_crosswalk(landcover: pl.DataFrame, crosswalk: pl.DataFrame, file: str | None = None,
                    crosswalk_name: str | None = None) -> pl.DataFrame:
    """Add ``ecosystem_type`` to a land-cover table (``class`` given by name, code or alias).

    Unknown classes raise InputError UNKNOWN_CLASS listing their rows (``_row``
    column if present, else data order + 1). Built-up classes get a null type.
    """
    lc = landcover if ROW in landcover.columns else landcover.with_columns(
        pl.int_range(2, landcover.height + 2, dtype=pl.Int64).alias(ROW))
    out = match_classes(lc, crosswalk)
    missing = (out.filter(pl.col("crosswalk_class").is_null())
               .group_by("class", maintain_order=True).agg(pl.col(ROW).sort()))
    if missing.height:
        label = crosswalk_name or "the crosswalk"
        raise InputError([
            Problem("UNKNOWN_CLASS",
                    f"class '{cls}' is not in {label} (rows {', '.join(str(r) for r in rows[:20])})",
                    file=file, row=int(rows[0]), column="class", value=str(cls),
                    expected=f"a class name or code of {label}; add it with an empty ecosystem_type for built-up land")
            for cls, rows in missing.iter_rows()
        ])
    drop = ["crosswalk_class"] + ([] if ROW in landcover.columns else [ROW])
    return out.drop(drop)
