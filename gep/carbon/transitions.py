"""Land-cover transitions and the stock-difference carbon change.

Method: IPCC 2006 GL Vol 4 Eq 2.5 (stock difference) with the land-conversion
matrix A_ij of Eq 2.15/2.16; identical to InVEST Carbon 3.20:
ΔC = Σ_ij A_ij (D_j − D_i), D = c_above + c_below + c_soil + c_dead (t C/ha).
Positive ΔC = removal from the atmosphere (a sink).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from gep.carbon.stock import densities_total
from gep.errors import InputError, Problem, ProblemCollector
from gep.tablespec import AREA, REGION_ID, ROW, ColumnSpec, TableSpec, load_table

ABS_TOL_HA = 0.01
"""Reconciliation tolerance: a class balances if |difference| ≤ 0.01 ha ..."""
REL_TOL = 1e-9
"""... or |difference| ≤ 1e-9 × the larger of the two areas (for very large areas)."""

TRANSITIONS_SPEC = TableSpec(
    name="land-cover transitions",
    description="area that moved from one land-cover class to another between two years (unchanged rows included)",
    columns=(
        REGION_ID,
        ColumnSpec(name="year_from", dtype="int", aliases=("起始年", "基期年", "year_bas", "from_year")),
        ColumnSpec(name="year_to", dtype="int", aliases=("终止年", "末期年", "year_alt", "to_year")),
        ColumnSpec(name="class_from", aliases=("原地类", "转出地类", "from_class", "lucode_from")),
        ColumnSpec(name="class_to", aliases=("现地类", "转入地类", "to_class", "lucode_to")),
        AREA,
    ),
    keys=("region_id", "year_from", "year_to", "class_from", "class_to"),
)


def load_transitions(path: str | Path, display_name: str | None = None) -> pl.DataFrame:
    """Read and check a transition table → region_id, year_from, year_to, class_from, class_to, area_ha, _row.

    Beyond the loader's checks (columns, numbers, units, duplicates), year_to must be later
    than year_from (INVALID_VALUE, each bad row named).
    """
    file = display_name or str(path)
    df = load_table(path, TRANSITIONS_SPEC, keep_rows=True, display_name=display_name)
    problems = ProblemCollector()
    bad = df.filter(pl.col("year_to") <= pl.col("year_from"))
    for rec in bad.head(50).iter_rows(named=True):
        problems.add("INVALID_VALUE", "the end year is not later than the start year", file=file,
                     row=rec[ROW], column="year_to", value=rec["year_to"],
                     expected=f"a year after {rec['year_from']}")
    problems.raise_if_any()
    return df.with_columns(pl.col("year_from").cast(pl.Int32), pl.col("year_to").cast(pl.Int32))


def reconcile(
    extent: pl.DataFrame, transitions: pl.DataFrame, file: str = "transitions", extent_file: str = "land cover"
) -> None:
    """Check opening and closing areas: per region, period and class,
    extent(year_from) = Σ_to A(class → to) and extent(year_to) = Σ_from A(from → class).

    Tolerance: |difference| ≤ 0.01 ha or ≤ 1e-9 × the larger area. A class missing on one side
    counts as 0 ha. Raises InputError with one NOT_RECONCILED problem per region, period, class
    and side, and MISSING_EXTENT_YEAR when the land cover lacks a year the transitions use.
    """
    problems = ProblemCollector()
    ext = extent.select("region_id", pl.col("year").cast(pl.Int32), "class", "area_ha")
    periods = transitions.select("region_id", "year_from", "year_to").unique().sort(["region_id", "year_from", "year_to"])
    have = ext.select("region_id", "year").unique()
    for side in ("year_from", "year_to"):
        miss = periods.join(have, left_on=["region_id", side], right_on=["region_id", "year"], how="anti")
        for rec in miss.iter_rows(named=True):
            problems.add("MISSING_EXTENT_YEAR",
                         f"region {rec['region_id']}: the transitions run {rec['year_from']}→{rec['year_to']} "
                         f"but the land cover has no year {rec[side]} for this region",
                         file=extent_file, column="year", value=rec[side],
                         expected=f"land-cover rows for region {rec['region_id']} in {rec[side]}")
    problems.raise_if_any()

    def _side(group_class: str, year_col: str, label: str) -> pl.DataFrame:
        moved = (
            transitions.group_by("region_id", "year_from", "year_to", group_class)
            .agg(pl.col("area_ha").sum().alias("moved_ha"), pl.col(ROW).min().alias("first_row"))
            .rename({group_class: "class"})
        )
        base = periods.join(ext, left_on=["region_id", year_col], right_on=["region_id", "year"], how="inner")
        both = base.join(moved, on=["region_id", "year_from", "year_to", "class"], how="full", coalesce=True)
        both = both.with_columns(pl.col("area_ha").fill_null(0.0), pl.col("moved_ha").fill_null(0.0))
        diff = (pl.col("area_ha") - pl.col("moved_ha")).abs()
        tol = pl.max_horizontal(pl.lit(ABS_TOL_HA), REL_TOL * pl.max_horizontal(pl.col("area_ha").abs(), pl.col("moved_ha").abs()))
        return both.filter(diff > tol).with_columns(pl.lit(label).alias("side")).select(
            "region_id", "year_from", "year_to", "class", "area_ha", "moved_ha", "first_row", "side")

    bad = pl.concat([_side("class_from", "year_from", "opening"), _side("class_to", "year_to", "closing")])
    bad = bad.sort(["region_id", "year_from", "year_to", "class", "side"])
    for rec in bad.iter_rows(named=True):
        if rec["side"] == "opening":
            msg = (f"region {rec['region_id']}, class {rec['class']}: the land cover of {rec['year_from']} has "
                   f"{rec['area_ha']:.4f} ha but the transitions {rec['year_from']}→{rec['year_to']} move "
                   f"{rec['moved_ha']:.4f} ha out of it (unchanged area included)")
            col = "class_from"
        else:
            msg = (f"region {rec['region_id']}, class {rec['class']}: the land cover of {rec['year_to']} has "
                   f"{rec['area_ha']:.4f} ha but the transitions {rec['year_from']}→{rec['year_to']} bring "
                   f"{rec['moved_ha']:.4f} ha into it (unchanged area included)")
            col = "class_to"
        problems.add("NOT_RECONCILED", msg, file=file, row=rec["first_row"], column=col, value=rec["class"],
                     expected="opening area = Σ transitions out of the class, closing area = Σ transitions into it "
                     "(tolerance 0.01 ha)")
    problems.raise_if_any()


def stock_difference_from_transitions(transitions: pl.DataFrame, densities: pl.DataFrame) -> pl.DataFrame:
    """ΔC per region, period and conversion (t C over the period): A_ij × (D_j − D_i).

    Unchanged rows (class_from = class_to) contribute 0 and are dropped. Positive = removal.
    Returns region_id, year_from, year_to, class_from, class_to, area_ha, delta_c_t.
    """
    d = densities_total(densities)
    return (
        transitions.filter(pl.col("class_from") != pl.col("class_to"))
        .join(d.rename({"class": "class_from", "density_t_c_ha": "d_from"}), on="class_from", how="left")
        .join(d.rename({"class": "class_to", "density_t_c_ha": "d_to"}), on="class_to", how="left")
        .with_columns((pl.col("area_ha") * (pl.col("d_to") - pl.col("d_from"))).alias("delta_c_t"))
        .select("region_id", pl.col("year_from").cast(pl.Int32), pl.col("year_to").cast(pl.Int32),
                "class_from", "class_to", "area_ha", "delta_c_t")
        .sort(["region_id", "year_from", "year_to", "class_from", "class_to"])
    )


def stock_difference_from_extent(extent: pl.DataFrame, densities: pl.DataFrame,
                                 skip_periods: pl.DataFrame | None = None) -> pl.DataFrame:
    """ΔC per region and class between consecutive extent years (t C over the period), without transitions:
    (A_i,t2 − A_i,t1) × D_i, class_from = class_to = class. Σ over classes = stock(t2) − stock(t1).

    ``skip_periods`` (region_id, year_from, year_to): periods covered by a transition table; a consecutive
    extent period that overlaps one of them is left out, so no year is counted twice.
    """
    d = densities_total(densities)
    ext = extent.select("region_id", pl.col("year").cast(pl.Int32), "class", "area_ha")
    years = ext.select("region_id", "year").unique().sort(["region_id", "year"])
    periods = years.with_columns(pl.col("year").shift(1).over("region_id").alias("year_from")).filter(
        pl.col("year_from").is_not_null()).rename({"year": "year_to"})
    if skip_periods is not None and skip_periods.height:
        sk = skip_periods.select("region_id", pl.col("year_from").alias("sf"), pl.col("year_to").alias("st")).unique()
        overlap = periods.join(sk, on="region_id", how="inner").filter(
            (pl.col("year_from") < pl.col("st")) & (pl.col("sf") < pl.col("year_to")))
        periods = periods.join(overlap.select("region_id", "year_from", "year_to").unique(),
                               on=["region_id", "year_from", "year_to"], how="anti")
    a1 = periods.join(ext, left_on=["region_id", "year_from"], right_on=["region_id", "year"])
    a2 = periods.join(ext, left_on=["region_id", "year_to"], right_on=["region_id", "year"])
    both = a1.rename({"area_ha": "a1"}).join(
        a2.rename({"area_ha": "a2"}), on=["region_id", "year_from", "year_to", "class"], how="full", coalesce=True
    ).with_columns(pl.col("a1").fill_null(0.0), pl.col("a2").fill_null(0.0))
    return (
        both.join(d, on="class", how="left")
        .with_columns(((pl.col("a2") - pl.col("a1")) * pl.col("density_t_c_ha")).alias("delta_c_t"),
                      (pl.col("a2") - pl.col("a1")).alias("area_ha"))
        .select("region_id", pl.col("year_from").cast(pl.Int32), pl.col("year_to").cast(pl.Int32),
                pl.col("class").alias("class_from"), pl.col("class").alias("class_to"), "area_ha", "delta_c_t")
        .sort(["region_id", "year_from", "year_to", "class_from"])
    )


def require_classes(transitions: pl.DataFrame, densities: pl.DataFrame, file: str) -> None:
    """Every class in the transitions must have densities (else MISSING_COEFFICIENT, all listed)."""
    used = pl.concat([transitions.select(pl.col("class_from").alias("class")),
                      transitions.select(pl.col("class_to").alias("class"))]).unique()
    missing = used.join(densities.select("class"), on="class", how="anti").sort("class")["class"].to_list()
    if missing:
        raise InputError([Problem("UNKNOWN_CLASS", "transition classes not in the land cover: " + ", ".join(missing),
                                  file=file, column="class_from", value=", ".join(missing),
                                  expected="classes that appear in the land-cover table")])
