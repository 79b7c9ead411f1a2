"""Cross-table checks on validated inputs (pandera-style: collect every problem).

The per-file checks (columns, types, units, duplicates) live in
:mod:`gep.loaders`; here are the checks that need a registry or a crosswalk:
unknown region ids, classes absent from the crosswalk, and region areas that
exceed the official area by more than 1 %.
"""

from __future__ import annotations

import difflib
from typing import Any

import polars as pl

from gep.coefficients import match_classes
from gep.errors import Problem, fmt_amount, fmt_share
from gep.regions import check_region_ids as _check
from gep.tablespec import ROW

AREA_TOLERANCE = 0.01
"""Classes of a region may sum to at most its official area × (1 + 1 %)."""


def registry_areas(registry: Any) -> pl.DataFrame:
    """``region_id, name_zh, area_ha`` of every unit of a registry (counties and prefectures)."""
    frames = []
    for attr in ("counties", "prefectures"):
        t = getattr(registry, attr, None)
        if isinstance(t, pl.DataFrame) and "region_id" in t.columns:
            cols = [pl.col("region_id").cast(pl.Utf8)]
            cols.append(pl.col("name_zh").cast(pl.Utf8) if "name_zh" in t.columns else pl.lit(None, pl.Utf8).alias("name_zh"))
            cols.append((pl.col("area_km2").cast(pl.Float64) * 100.0).alias("area_ha") if "area_km2" in t.columns
                        else pl.lit(None, pl.Float64).alias("area_ha"))
            frames.append(t.select(cols))
    if not frames:
        return pl.DataFrame(schema={"region_id": pl.Utf8, "name_zh": pl.Utf8, "area_ha": pl.Float64})
    return pl.concat(frames).unique("region_id", keep="first").sort("region_id")


def check_region_ids(df: pl.DataFrame, file: str, registry: Any, column: str = "region_id",
                     registry_name: str | None = None) -> list[Problem]:
    """UNKNOWN_REGION for every id not in the registry (closest codes, names and former codes suggested).

    Delegates to :func:`gep.regions.check_region_ids`; no registry accepts every id.
    """
    if registry is None:
        return []

    return _check(df, registry, file=file, column=column)


def check_classes(df: pl.DataFrame, file: str, crosswalk: pl.DataFrame | None,
                  crosswalk_name: str | None = None) -> list[Problem]:
    """UNKNOWN_CLASS for every class absent from the crosswalk (all listed, each with its rows).

    Classes match by name, code (leading zeros ignored) or alias
    (:func:`gep.coefficients.match_classes`).
    """
    if crosswalk is None:
        return []

    keys = crosswalk["class"].cast(pl.Utf8).to_list()
    bad = (
        match_classes(df, crosswalk)
        .filter(pl.col("crosswalk_class").is_null())
        .group_by("class", maintain_order=True)
        .agg(pl.col(ROW).sort())
        .sort(pl.col(ROW).list.first())
    )
    label = crosswalk_name or "the crosswalk"
    problems = []
    all_bad = ", ".join(str(c) for c in bad["class"].to_list())
    for value, rows in bad.iter_rows():
        near = difflib.get_close_matches(str(value), [str(k) for k in keys], n=3, cutoff=0.5)
        hint = ("; closest: " + ", ".join(near)) if near else ""
        problems.append(Problem(
            "UNKNOWN_CLASS",
            f"class '{value}' is not in {label} (rows {_rows(rows)}){hint}. "
            f"Classes missing from {label}: {all_bad}",
            file=file, row=rows[0], column="class", value=str(value),
            expected=f"a class of {label}, or add it to the crosswalk (empty ecosystem_type = no service value)",
        ))
    return problems


POLYGON_AREA_TOLERANCE = 0.10
"""With polygon areas (not official ones), classes may exceed the area by up to 10 % with a warning."""


def check_area_totals(df: pl.DataFrame, file: str, registry: Any,
                      tolerance: float = AREA_TOLERANCE,
                      warnings: list[Problem] | None = None) -> list[Problem]:
    """AREA_EXCEEDS_REGION when a region-year's classes sum to more than its area × (1 + tolerance).

    With official areas in the registry (``area_basis = "official"``) more than 1 % is an error.
    With polygon areas (the built-in Sichuan registry), 1–10 % above is a warning
    (AREA_ABOVE_REGISTRY, appended to ``warnings``) and more than 10 % an error: official
    county areas differ from polygon areas by a few per cent, a unit slip (亩 as 公顷) by 15×.
    """
    if registry is None:
        return []
    polygon = getattr(registry, "area_basis", "official") == "polygon"
    limit = POLYGON_AREA_TOLERANCE if polygon else tolerance
    basis = "polygon area in the region registry" if polygon else "official area in the region registry"
    areas = registry_areas(registry).filter(pl.col("area_ha").is_not_null())
    sums = (
        df.group_by(["region_id", "year"])
        .agg(pl.col("area_ha").sum().alias("sum_ha"), pl.col(ROW).min().alias("first_row"),
             pl.col(ROW).max().alias("last_row"))
        .join(areas, on="region_id", how="inner")
        .filter(pl.col("sum_ha") > pl.col("area_ha") * (1.0 + tolerance))
        .sort(["first_row"])
    )
    problems = []
    for rec in sums.iter_rows(named=True):
        excess = rec["sum_ha"] / rec["area_ha"] - 1.0
        fatal = excess > limit
        problem = Problem(
            "AREA_EXCEEDS_REGION" if fatal else "AREA_ABOVE_REGISTRY",
            f"the classes of {rec['region_id']} {rec['name_zh'] or ''} in {rec['year']} add up to "
            f"{fmt_amount(rec['sum_ha'])} ha, {fmt_share(excess)} more than its {basis} "
            f"{fmt_amount(rec['area_ha'])} ha (rows {rec['first_row']}–{rec['last_row']})"
            + ("" if fatal else "; accepted, check it against the county's official land area"),
            file=file, row=rec["first_row"], column="area",
            value=f"{fmt_amount(rec['sum_ha'])} ha",
            expected=f"at most {fmt_amount(rec['area_ha'] * (1 + limit))} ha ({basis} + {limit:.0%}); "
            "check the units and that no class is counted twice",
        )
        if fatal:
            problems.append(problem)
        elif warnings is not None:
            warnings.append(problem)
    return problems


def check_landcover(df: pl.DataFrame, file: str, registry: Any = None,
                    crosswalk: pl.DataFrame | None = None,
                    warnings: list[Problem] | None = None) -> list[Problem]:
    """All cross-table checks of a land-cover table that carries ``_row`` (warnings appended to ``warnings``)."""
    problems = check_region_ids(df, file, registry)
    problems += check_classes(df, file, crosswalk)
    problems += check_area_totals(df, file, registry, warnings=warnings)
    return problems


def _rows(rows: list[int], limit: int = 10) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown + (f", … ({len(rows)} rows)" if len(rows) > limit else "")


def check_duplicates_across_files(tables: list[tuple[str, pl.DataFrame]],
                                  keys: tuple[str, ...] = ("region_id", "year", "class"),
                                  limit: int = 50) -> list[Problem]:
    """DUPLICATE_KEY for a key given in more than one file, naming each file and its row(s)."""
    frames = [
        t.select([pl.col(k) for k in keys]
                 + [(pl.col(ROW) if ROW in t.columns else pl.int_range(2, pl.len() + 2)).cast(pl.Int64).alias(ROW)])
        .with_columns(pl.lit(f).alias("_file"), pl.lit(i).alias("_order"))
        for i, (f, t) in enumerate(tables)
    ]
    if len(frames) < 2:
        return []
    combined = pl.concat(frames)
    per_file = (combined.group_by([*keys, "_file", "_order"])
                .agg(pl.col(ROW).sort())
                .sort([*keys, "_order"]))
    dup = (per_file.group_by(list(keys), maintain_order=True)
           .agg(pl.col("_file"), pl.col(ROW), pl.len().alias("n_files"))
           .filter(pl.col("n_files") > 1))
    problems = []
    for rec in dup.head(limit).iter_rows(named=True):
        where = "; ".join(f"{f} row{'s' if len(r) > 1 else ''} {_rows(r)}" for f, r in zip(rec["_file"], rec[ROW]))
        key_text = ", ".join(f"{k} {rec[k]}" for k in keys)
        problems.append(Problem(
            "DUPLICATE_KEY",
            f"{key_text} is given in more than one file: {where}",
            file=", ".join(rec["_file"]), row=rec[ROW][0][0], column=keys[-1],
            value=key_text, expected="each key in one file only",
        ))
    if dup.height > limit:
        problems.append(Problem("DUPLICATE_KEY", f"{dup.height - limit} more keys given in more than one file"))
    return problems

