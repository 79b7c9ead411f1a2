"""The declared-uncertainty table: a user's low/high (or ±%) and distribution per coefficient.

File (CSV/XLSX/Parquet, header row 1), one row per coefficient:

    set_id, table, <key columns of that table> | key, low, high | range_pct, distribution

e.g. ``xie2015, equivalents, 阔叶, climate_regulation, 4.5, 6.5, triangular`` or
``xie2015, standard_value, standard_equivalent_value, , , 15, normal`` (range_pct = ±15 %).
``key`` may replace the key columns ("阔叶/climate_regulation" or "阔叶 | climate_regulation").
Chinese headers 系数集, 表, 下限, 上限, 分布, 幅度% are accepted; ecosystem types may be written as
English codes (broadleaf). Problems are collected with their spreadsheet rows (docs/tuning.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from gep.coefficients import normalize_ecosystem_type
from gep.errors import InputError, Problem
from gep.readers import read_raw
from gep.tuning.distributions import DISTRIBUTIONS, set_coefficients

ROW = "_row"
ALIASES: dict[str, str] = {
    "set": "set_id", "coefficient_set": "set_id", "系数集": "set_id", "系数集id": "set_id",
    "表": "table", "表名": "table", "下限": "low", "上限": "high", "分布": "distribution",
    "range_percent": "range_pct", "range_%": "range_pct", "幅度%": "range_pct", "幅度": "range_pct",
    "生态系统类型": "ecosystem_type", "服务": "service", "键": "key",
}


def _canon(h: str) -> str:
    h = str(h).strip().lstrip("\ufeff")
    low = h.lower().replace(" ", "_") if h.isascii() else h
    return ALIASES.get(low, low)


def load_declared(path: str | Path, sets: Mapping[str, object], display_name: str | None = None) -> pl.DataFrame:
    """Read a declared-uncertainty table → coefficient, low, high, distribution (every problem collected).

    ``sets``: the coefficient sets of the run by id (``manifest.id``, ``tables``, ``keys(name)``).
    """

    raw = read_raw(path, display_name=display_name)
    file = raw.file
    df = raw.df.rename({c: _canon(c) for c in raw.df.columns}).with_columns(raw.rows.alias(ROW))
    probs: list[Problem] = []
    for c in ("set_id", "table"):
        if c not in df.columns:
            probs.append(Problem("MISSING_COLUMN", f"the uncertainty table has no column '{c}'", file=file, row=1,
                                 column=c, expected="columns set_id, table, key columns, low, high [, distribution]"))
    if "range_pct" not in df.columns and not {"low", "high"} <= set(df.columns):
        probs.append(Problem("MISSING_COLUMN", "the uncertainty table needs low and high, or range_pct", file=file,
                             row=1, column="low", expected="columns low and high (same unit as the coefficient) or "
                             "range_pct (± percent of the value)"))
    if probs:
        raise InputError(probs)
    for c in ("low", "high", "range_pct", "distribution", "key"):
        if c not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=pl.Utf8).alias(c))
    df = df.with_columns([pl.col(c).str.strip_chars() for c in df.columns if c != ROW])
    nums = {}
    for c in ("low", "high", "range_pct"):
        num = pl.col(c).str.replace_all(",", "").cast(pl.Float64, strict=False)
        bad = df.filter(pl.col(c).is_not_null() & (pl.col(c) != "") & num.is_null())
        for r in bad.iter_rows(named=True):
            probs.append(Problem("WRONG_TYPE", f"column '{c}' is not a number", file=file, row=r[ROW], column=c,
                                 value=r[c], expected="a number"))
        nums[c] = num
    df = df.with_columns([v.alias(c) for c, v in nums.items()]).with_columns(
        pl.col("distribution").str.to_lowercase().replace("", None)
    )
    for r in df.filter(pl.col("distribution").is_not_null() & ~pl.col("distribution").is_in(list(DISTRIBUTIONS))) \
            .iter_rows(named=True):
        probs.append(Problem("INVALID_VALUE", "unknown distribution", file=file, row=r[ROW], column="distribution",
                             value=r["distribution"], expected="uniform, triangular, normal or lognormal"))
    has_lh = pl.col("low").is_not_null() & pl.col("high").is_not_null()
    for r in df.filter(~has_lh & pl.col("range_pct").is_null()).iter_rows(named=True):
        probs.append(Problem("MISSING_VALUE", "no range on this row", file=file, row=r[ROW], column="low",
                             expected="low and high, or range_pct"))
    for r in df.filter(pl.col("range_pct") < 0).iter_rows(named=True):
        probs.append(Problem("INVALID_VALUE", "range_pct is negative", file=file, row=r[ROW], column="range_pct",
                             value=str(r["range_pct"]), expected="a percentage ≥ 0, e.g. 20 for ±20 %"))
    for r in df.filter(has_lh & (pl.col("low") > pl.col("high"))).iter_rows(named=True):
        probs.append(Problem("INVALID_VALUE", "low is above high", file=file, row=r[ROW], column="low",
                             value=f"{r['low']} > {r['high']}", expected="low ≤ high"))

    parts: list[pl.DataFrame] = []
    for (sid, table), grp in df.group_by(["set_id", "table"], maintain_order=True):
        first = int(grp[ROW].min())  # type: ignore[arg-type]
        cset = sets.get(str(sid))
        if cset is None:
            probs.append(Problem("UNKNOWN_COEFFICIENT_SET", f"coefficient set '{sid}' is not used by this run",
                                 file=file, row=first, column="set_id", value=str(sid),
                                 expected="one of: " + ", ".join(sorted(sets))))
            continue
        if table not in cset.tables:  # type: ignore[attr-defined]
            probs.append(Problem("UNKNOWN_TABLE", f"coefficient set '{sid}' has no table '{table}'", file=file,
                                 row=first, column="table", value=str(table),
                                 expected="one of: " + ", ".join(sorted(cset.tables))))  # type: ignore[attr-defined]
            continue
        keys = list(cset.keys(str(table)))  # type: ignore[attr-defined]
        key_cols = [k for k in keys if k in grp.columns]
        g = grp
        if "ecosystem_type" in key_cols:

            g = g.with_columns(pl.coalesce(normalize_ecosystem_type(pl.col("ecosystem_type")),
                                           pl.col("ecosystem_type")).alias("ecosystem_type"))
        from_key = pl.col("key").str.replace_all(r"\s*\|\s*", "/")
        if len(key_cols) == len(keys):  # key columns, or the `key` column on rows that leave them empty
            empty = pl.all_horizontal([pl.col(k).is_null() | (pl.col(k) == "") for k in keys])
            key = pl.when(empty & pl.col("key").is_not_null()).then(from_key).otherwise(
                pl.concat_str([pl.col(k).fill_null("") for k in keys], separator="/"))
        else:
            key = from_key
        g = g.with_columns(pl.format("{}:{}:{}", pl.lit(sid), pl.lit(table), key).alias("coefficient"))

        known = set_coefficients(cset, [str(table)]).select("coefficient", "value")
        g = g.join(known, on="coefficient", how="left")
        for r in g.filter(pl.col("value").is_null()).iter_rows(named=True):
            probs.append(Problem("UNKNOWN_KEY", f"no coefficient {r['coefficient']} in set '{sid}'", file=file,
                                 row=r[ROW], column=key_cols[0] if key_cols else "key", value=r["coefficient"],
                                 expected="key columns " + ", ".join(keys) + " matching a row of the set"))
        parts.append(g.filter(pl.col("value").is_not_null()))
    if probs:
        raise InputError(probs)
    if not parts:
        return pl.DataFrame(schema={"coefficient": pl.Utf8, "low": pl.Float64, "high": pl.Float64,
                                    "distribution": pl.Utf8})
    out = pl.concat(parts, how="diagonal_relaxed")
    a = pl.col("value") * (1.0 - pl.col("range_pct") / 100.0)
    b = pl.col("value") * (1.0 + pl.col("range_pct") / 100.0)
    out = out.with_columns(
        pl.when(has_lh).then(pl.col("low")).otherwise(pl.min_horizontal(a, b)).alias("low"),
        pl.when(has_lh).then(pl.col("high")).otherwise(pl.max_horizontal(a, b)).alias("high"),
    )
    dup = out.group_by("coefficient").agg(pl.col(ROW).sort()).filter(pl.col(ROW).list.len() > 1)
    for r in dup.iter_rows(named=True):
        probs.append(Problem("DUPLICATE_KEY", f"coefficient {r['coefficient']} is declared on rows "
                             + ", ".join(str(x) for x in r[ROW]), file=file, row=r[ROW][1], column="set_id",
                             value=r["coefficient"], expected="one row per coefficient"))
    if probs:
        raise InputError(probs)
    return out.select("coefficient", "low", "high", "distribution").sort("coefficient")
