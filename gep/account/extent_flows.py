"""Gross extent flows between ecosystem types from land-cover transitions (ha): the SEEA EA ecosystem type change matrix.

SEEA EA (United Nations et al. 2021, ch. 4 ecosystem extent accounts;
table numbering ⚠️): the extent account records additions and reductions of each
ecosystem type as gross flows, with the ecosystem type change matrix (opening type in
rows, closing type in columns) as its companion. Land-cover transitions
(class_from → class_to, area) are mapped to ecosystem types through the crosswalk of the
run's extent; a move between two classes of the same type is not an addition or a
reduction of that type. Tolerance of the identities: the transitions' reconciliation
tolerance (0.01 ha per class, gep.carbon.transitions).
"""

from __future__ import annotations

import polars as pl

from gep.account.identities import AccountIdentityError
from gep.errors import ProblemCollector

PERIOD = ["region_id", "year_from", "year_to"]
TYPE_FROM = "ecosystem_type_from"
TYPE_TO = "ecosystem_type_to"
CLASS_TOL_HA = 0.01
"""Per-class reconciliation tolerance of transitions against the land cover (as gep.carbon.transitions)."""
REL_TOL = 1e-9


def class_type_map(extent: pl.DataFrame) -> pl.DataFrame:
    """region_id, class → ecosystem_type, as the crosswalk mapped the run's extent (null = no ecosystem service value)."""
    return (extent.select("region_id", "class", "ecosystem_type").unique()
            .sort(["region_id", "class", "ecosystem_type"], nulls_last=True)
            .unique(["region_id", "class"], keep="first", maintain_order=True))


def type_flows(extent: pl.DataFrame, transitions: pl.DataFrame, *, file: str = "transitions") -> pl.DataFrame:
    """Area (ha) moved between ecosystem types per region and period, diagonal (unchanged type) included.

    ``extent``: region_id, year, class, ecosystem_type, area_ha (after the crosswalk).
    ``transitions``: region_id, year_from, year_to, class_from, class_to, area_ha [, _row].
    Returns region_id, year_from, year_to, ecosystem_type_from, ecosystem_type_to, area_ha,
    stably sorted. A class with area that the extent does not know is UNKNOWN_CLASS.
    """
    cmap = class_type_map(extent)
    t = transitions.select(*PERIOD, "class_from", "class_to", "area_ha",
                           *([pl.col("_row")] if "_row" in transitions.columns else [pl.lit(None, pl.Int64).alias("_row")]))
    t = (t.join(cmap.rename({"class": "class_from", "ecosystem_type": TYPE_FROM})
                .with_columns(pl.lit(True).alias("_kf")), on=["region_id", "class_from"], how="left")
         .join(cmap.rename({"class": "class_to", "ecosystem_type": TYPE_TO})
               .with_columns(pl.lit(True).alias("_kt")), on=["region_id", "class_to"], how="left"))
    problems = ProblemCollector()
    for side, known in (("class_from", "_kf"), ("class_to", "_kt")):
        bad = (t.filter(pl.col(known).is_null() & (pl.col("area_ha") > 0))
               .group_by("region_id", side).agg(pl.col("_row").min()).sort(["region_id", side]))
        for r in bad.iter_rows(named=True):
            problems.add("UNKNOWN_CLASS", f"region {r['region_id']}: class '{r[side]}' of the transitions is not in "
                         "the land cover, so its ecosystem type is unknown", file=file, row=r["_row"], column=side,
                         value=r[side], expected="a land-cover class of the region (mapped by the crosswalk)")
    problems.raise_if_any()
    t = t.filter(pl.col("_kf").is_not_null() & pl.col("_kt").is_not_null())
    return (t.sort([*PERIOD, TYPE_FROM, TYPE_TO, "class_from", "class_to"], nulls_last=True)
            .group_by([*PERIOD, TYPE_FROM, TYPE_TO], maintain_order=True).agg(pl.col("area_ha").sum())
            .with_columns(pl.col("year_from").cast(pl.Int32), pl.col("year_to").cast(pl.Int32))
            .sort([*PERIOD, TYPE_FROM, TYPE_TO], nulls_last=True))


def rollup_flows(flows: pl.DataFrame, parents: pl.DataFrame) -> pl.DataFrame:
    """Sum type flows of counties to their parents (region_id → parent_id); a flow inside a county stays a flow of the parent."""
    return (flows.join(parents, on="region_id", how="inner").sort(["parent_id", *PERIOD, TYPE_FROM, TYPE_TO],
                                                                  nulls_last=True)
            .group_by(["parent_id", "year_from", "year_to", TYPE_FROM, TYPE_TO], maintain_order=True)
            .agg(pl.col("area_ha").sum()).rename({"parent_id": "region_id"})
            .select(*PERIOD, TYPE_FROM, TYPE_TO, "area_ha").sort([*PERIOD, TYPE_FROM, TYPE_TO], nulls_last=True))


def extent_change_matrix(flows: pl.DataFrame, extent: pl.DataFrame) -> pl.DataFrame:
    """SEEA EA ecosystem type change matrix (ha), long format: opening type × closing type per region and period.

    Identities (within the reconciliation tolerance, 0.01 ha per class): Σ over closing types
    of a row = opening extent of the type; Σ over opening types of a column = closing extent.
    Pivot ecosystem_type_from × ecosystem_type_to for the matrix layout.
    """
    by_type = _by_type(extent)
    ncls = _classes_per_region(extent)
    for side, year, what in ((TYPE_FROM, "year_from", "row sums = opening extent"),
                             (TYPE_TO, "year_to", "column sums = closing extent")):
        s = flows.group_by([*PERIOD, side]).agg(pl.col("area_ha").sum().alias("_f")).rename({side: "ecosystem_type"})
        periods = flows.select(PERIOD).unique()
        e = periods.join(by_type.rename({"year": year}), on=["region_id", year], how="inner").select(
            *PERIOD, "ecosystem_type", pl.col("area_ha").alias("_e"))
        j = (s.join(e, on=[*PERIOD, "ecosystem_type"], how="full", coalesce=True, nulls_equal=True)
             .with_columns(pl.col("_f").fill_null(0.0), pl.col("_e").fill_null(0.0)).join(ncls, on="region_id"))
        _check(j, "_f", "_e", f"ecosystem type change matrix: {what}")
    return flows.select(*PERIOD, TYPE_FROM, TYPE_TO, "area_ha")


def _by_type(extent: pl.DataFrame) -> pl.DataFrame:
    return (extent.sort(["region_id", "year", "ecosystem_type", "class"], nulls_last=True)
            .group_by(["region_id", pl.col("year").cast(pl.Int32), "ecosystem_type"], maintain_order=True)
            .agg(pl.col("area_ha").sum()))


def _classes_per_region(extent: pl.DataFrame) -> pl.DataFrame:
    return extent.group_by("region_id").agg(pl.col("class").n_unique().cast(pl.Float64).alias("_ncls"))


def _check(df: pl.DataFrame, left: str, right: str, what: str) -> None:
    """|left − right| ≤ 0.01 ha × classes of the region + 1e-9 relative (reconciliation tolerance summed over classes)."""
    tol = pl.col("_ncls") * CLASS_TOL_HA + REL_TOL * pl.max_horizontal(pl.col(left).abs(), pl.col(right).abs())
    bad = df.filter((pl.col(left) - pl.col(right)).abs() > tol + 1e-9)
    if bad.height:
        raise AccountIdentityError(f"identity failed: {what}; first mismatches:\n{bad.head(5)}")


def gross_additions_reductions(flows: pl.DataFrame) -> pl.DataFrame:
    """Additions (into a type from another type) and reductions (out of a type to another), ha, per region, period and type."""
    moved = flows.filter(pl.col(TYPE_FROM).ne_missing(pl.col(TYPE_TO)))
    add = moved.group_by([*PERIOD, TYPE_TO]).agg(pl.col("area_ha").sum().alias("additions_ha")).rename(
        {TYPE_TO: "ecosystem_type"})
    red = moved.group_by([*PERIOD, TYPE_FROM]).agg(pl.col("area_ha").sum().alias("reductions_ha")).rename(
        {TYPE_FROM: "ecosystem_type"})
    types = pl.concat([flows.select(*PERIOD, pl.col(TYPE_FROM).alias("ecosystem_type")),
                       flows.select(*PERIOD, pl.col(TYPE_TO).alias("ecosystem_type"))]).unique()
    return (types.join(add, on=[*PERIOD, "ecosystem_type"], how="left", nulls_equal=True)
            .join(red, on=[*PERIOD, "ecosystem_type"], how="left", nulls_equal=True)
            .with_columns(pl.col("additions_ha").fill_null(0.0), pl.col("reductions_ha").fill_null(0.0))
            .sort([*PERIOD, "ecosystem_type"], nulls_last=True))
