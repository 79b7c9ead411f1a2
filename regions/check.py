"""Checking region ids in user tables against a registry, with 'did you mean' suggestions.

``check_region_ids`` is called by gep.validation for every table with a region column. With no
registry (``registry=None``) any region id is accepted and no problem is reported.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

import polars as pl

from gep.errors import Problem

if TYPE_CHECKING:
    from gep.regions.registry import RegionRegistry

# County/prefecture type suffixes, so '茂' or '成都' finds 茂县 / 成都市.
_SUFFIX_RE = r"(彝族自治县|藏族自治县|羌族自治县|自治县|藏族羌族自治州|藏族自治州|彝族自治州|区|县|市)$"


def _name_table(registry: RegionRegistry) -> pl.DataFrame:
    cols = ["region_id", "name_zh", "name_en"]
    return pl.concat(
        [registry.counties.select(cols), registry.prefectures.select(cols), registry.provinces.select(cols)],
        how="vertical"
    ).unique(subset="region_id", keep="first", maintain_order=True)


def find_ids(registry: RegionRegistry, query: str) -> list[str]:
    """Ids whose code, Chinese name, English name or Chinese name without 县/区/市 equals ``query``."""
    q = query.strip()
    if registry.has(q):
        return [q]
    names = _name_table(registry)
    ql = q.lower()
    hit = names.filter(
        (pl.col("name_zh") == q)
        | (pl.col("name_en").str.to_lowercase() == ql)
        | (pl.col("name_zh").str.replace(_SUFFIX_RE, "") == q)
    )
    return sorted(hit.get_column("region_id").to_list())


def _clean_code(value: str) -> str:
    v = value.strip()
    if v.endswith(".0") and v[:-2].isdigit():
        v = v[:-2]
    return v


def suggest_ids(registry: RegionRegistry, value: str, n: int = 3) -> list[str]:
    """Up to ``n`` ids the user probably meant: exact after cleaning, by name, then closest code/name."""
    v = _clean_code(str(value))
    if registry.has(v):
        return [v]
    if v in registry.former_codes:
        return [registry.former_codes[v]]
    by_name = find_ids(registry, v)
    if by_name:
        return by_name[:n]
    names = _name_table(registry)
    ids = names.get_column("region_id").to_list()
    out: list[str] = []
    if v.isdigit():
        out = difflib.get_close_matches(v, ids, n=n, cutoff=0.6)
    else:
        zh = dict(zip(names.get_column("name_zh").to_list(), ids, strict=True))
        en = {str(k).lower(): i for k, i in zip(names.get_column("name_en").to_list(), ids, strict=True) if k}
        for m in difflib.get_close_matches(v, list(zh), n=n, cutoff=0.5):
            out.append(zh[m])
        for m in difflib.get_close_matches(v.lower(), list(en), n=n, cutoff=0.6):
            if en[m] not in out:
                out.append(en[m])
    return out[:n]


def describe_ids(registry: RegionRegistry, ids: list[str]) -> str:
    """'510104 锦江区 (成都市), …' for messages."""
    parts = []
    for i in ids:
        parent = registry.parent_of(i)
        where = f" ({registry.name_of(parent)})" if parent and registry.has(parent) else ""
        parts.append(f"{i} {registry.name_of(i)}{where}")
    return ", ".join(parts)


def check_region_ids(
    ids: pl.Series | pl.DataFrame,
    registry: RegionRegistry | None,
    file: str | None = None,
    column: str = "region_id",
    *,
    rows: pl.Series | str | None = None,
    level: str = "any",
) -> list[Problem]:
    """UNKNOWN_REGION / MISSING_VALUE problems for region ids not in ``registry``.

    ``ids``: a Series of ids, or a DataFrame holding ``column``. Spreadsheet rows (header = row 1)
    are taken from ``rows`` (a Series, or the name of a column of ``ids``), else from a ``_row``
    column of ``ids`` (as gep.loaders adds), else index + 2.
    ``level``: ``"any"`` accepts county and prefecture ids, ``"county"`` only county ids.
    One problem per distinct unknown value (row = first row; the message lists the others).
    ``registry=None`` accepts every id and returns [].
    """
    if registry is None:
        return []
    if isinstance(ids, pl.DataFrame):
        series = ids.get_column(column)
        if rows is None and "_row" in ids.columns:  # tables from gep.loaders carry their rows
            rows = "_row"
        if isinstance(rows, str):
            rows = ids.get_column(rows)
    else:
        series = ids
    if isinstance(rows, str):
        raise ValueError("rows given as a column name needs ids as a DataFrame")
    row_s = rows if rows is not None else pl.int_range(2, series.len() + 2, dtype=pl.Int64, eager=True)
    df = pl.DataFrame({"value": series.cast(pl.Utf8).str.strip_chars(), "_row": row_s.cast(pl.Int64)})
    known = registry.ids() if level == "county" else sorted(registry.all_ids())
    problems: list[Problem] = []
    for row in df.filter(pl.col("value").is_null() | (pl.col("value") == "")).get_column("_row").to_list():
        problems.append(Problem("MISSING_VALUE", "the region code is empty", file=file, row=row, column=column,
                                expected="a region code"))
    bad = (
        df.filter(pl.col("value").is_not_null() & (pl.col("value") != "") & ~pl.col("value").is_in(known))
        .group_by("value", maintain_order=True)
        .agg(pl.col("_row").sort())
        .sort(pl.col("_row").list.first())
    )
    what = "county" if level == "county" else "region"
    for value, row_list in bad.iter_rows():
        hint = suggest_ids(registry, value)
        msg = f"this {what} code is not in the '{registry.name}' registry"
        if value in registry.former_codes:
            msg += f"; it is a former code, now {describe_ids(registry, hint)}"
        elif hint:
            msg += f"; did you mean {describe_ids(registry, hint)}?"
        if len(row_list) > 1:
            others = ", ".join(str(r) for r in row_list[1:6]) + (" …" if len(row_list) > 6 else "")
            msg += f". The same code is also on rows {others} ({len(row_list)} rows in all)."
        problems.append(
            Problem("UNKNOWN_REGION", msg, file=file, row=row_list[0], column=column, value=value,
                    expected=f"a {what} code listed by `gep regions list {registry.name}`")
        )
    return sorted(problems, key=lambda p: (p.row or 0, p.code))
