"""Ecosystem extent: land-cover classes mapped to ecosystem types.

SEEA EA (2021) ch. 4 extent account; ecosystem types of Xie et al. (2015)
(14 types). A class whose crosswalk ``ecosystem_type`` is empty (built-up
land) keeps its area in the extent with a null type and carries no service
value.
"""

from __future__ import annotations

import polars as pl

from gep.coefficients import ecosystem_types, match_classes

EXTENT_COLUMNS = ["region_id", "year", "class", "ecosystem_type", "area_ha"]


def _known_types() -> pl.DataFrame:

    t = ecosystem_types()
    parts = [t.select(pl.col("ecosystem_type").alias("key"), "ecosystem_type")]
    if "code" in t.columns:
        parts.append(t.select(pl.col("code").alias("key"), "ecosystem_type"))
    return pl.concat(parts).unique("key", keep="first")


def build_extent(landcover: pl.DataFrame, crosswalk: pl.DataFrame | None) -> pl.DataFrame:
    """``region_id, year, class, ecosystem_type, area_ha`` from land cover [ha] and a crosswalk.

    Without a crosswalk, a class that is itself an ecosystem type (Chinese name
    or English code of Xie 2015) keeps that type; any other class gets a null type.
    """
    if crosswalk is not None:

        out = match_classes(landcover.drop("ecosystem_type", strict=False), crosswalk).drop("crosswalk_class")
    else:
        out = landcover.join(_known_types(), left_on="class", right_on="key", how="left")
    out = out.with_columns(
        pl.when(pl.col("ecosystem_type").cast(pl.Utf8).str.strip_chars() == "")
        .then(None)
        .otherwise(pl.col("ecosystem_type").cast(pl.Utf8))
        .alias("ecosystem_type")
    )
    return (
        out.select(
            pl.col("region_id").cast(pl.Utf8),
            pl.col("year").cast(pl.Int32),
            pl.col("class").cast(pl.Utf8),
            pl.col("ecosystem_type").cast(pl.Utf8),
            pl.col("area_ha").cast(pl.Float64),
        )
        .sort(["region_id", "year", "class"])
    )
