"""Land cover, the input every account starts from: read, checked against the registry and crosswalk.

:func:`load_landcover` reads one or more tables (any format :mod:`gep.readers`
reads) with :data:`LANDCOVER_SPEC` and adds the checks that need reference data:
unknown region ids, classes absent from the crosswalk, areas above the region's
area, the same region + year + class in two files.

Inputs layer: builds on the core (:mod:`gep.tablespec`) and the reference data
through :mod:`gep.validation`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from gep.errors import InputError, Problem, rename_columns
from gep.tablespec import AREA, CLASS, REGION_ID, ROW, YEAR, TableSpec, load_table_collect
from gep.validation import check_duplicates_across_files, check_landcover

LANDCOVER_SPEC = TableSpec(
    name="land cover",
    description="area of each land-cover class per region and year",
    columns=(REGION_ID, YEAR, CLASS, AREA),
    keys=("region_id", "year", "class"),
)


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
    path_list = [paths] if isinstance(paths, (str, Path)) else list(paths)
    frames: list[pl.DataFrame] = []
    problems: list[Problem] = []
    for p in path_list:
        headers: dict[str, str] = {}
        df, found = load_table_collect(p, LANDCOVER_SPEC, sheet=sheet, keep_rows=True, headers=headers)
        problems.extend(found)  # one pass: a bad number does not hide the region and class problems below
        if df is None:
            continue
        problems.extend(rename_columns(check_landcover(df, str(p), registry=registry, crosswalk=crosswalk,
                                                       warnings=warnings), headers))
        frames.append(df.with_columns(pl.lit(str(p)).alias("_file")))
    if problems:
        raise InputError(problems)
    combined = pl.concat(frames)
    if len(frames) > 1:
        problems.extend(check_duplicates_across_files(
            [(str(p), f) for p, f in zip(path_list, frames)]))
        if problems:
            raise InputError(problems)
    return (
        combined.drop(["_file", ROW])
        .with_columns(pl.col("year").cast(pl.Int32))
        .sort(["region_id", "year", "class"])
    )



__all__ = ["LANDCOVER_SPEC", "load_landcover"]
