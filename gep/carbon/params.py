"""Carbon parameters: the built-in coefficient set, InVEST biophysical tables, and
per-class carbon densities (t C/ha) resolved for the classes of an extent table.

Method: InVEST Carbon 3.20 biophysical table (``lucode, c_above, c_below, c_soil,
c_dead`` in t C/ha; natcap.invest ``carbon.py``) and IPCC 2006 GL Vol 4 Ch 2
pools (above-ground, below-ground, soil organic, dead organic matter).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from gep.coefficients import ecosystem_types, load_set
from gep.errors import InputError, Problem
from gep.readers import read_raw
from gep.tablespec import ColumnSpec, TableSpec, load_table

POOLS: tuple[str, ...] = ("c_above", "c_below", "c_soil", "c_dead")
"""The four InVEST / IPCC carbon pools, all in t C/ha."""

DEFAULT_SET = "carbon_default"

@dataclass(frozen=True)
class CarbonSet:
    """A carbon coefficient set in the shapes the carbon engine reads: manifest as a dict
    (set.toml fields), tables in the long format of docs/contracts.md §6 (keys, value, unit, ...).

    Built from a validated :class:`gep.coefficients.CoefficientSet` by :func:`from_coefficient_set`
    (``raw`` keeps that object, which is what a run records); gep.tuning builds one directly from
    a pools table.
    """

    manifest: dict[str, Any]
    tables: dict[str, pl.DataFrame]
    path: str
    raw: Any = field(default=None, compare=False)
    """The :class:`gep.coefficients.CoefficientSet` this view was made from (None when built by hand)."""

    @property
    def id(self) -> str:
        return str(self.manifest.get("id", Path(self.path).name))

    def table(self, name: str) -> pl.DataFrame | None:
        return self.tables.get(name)


def from_coefficient_set(cs: Any) -> CarbonSet:
    """The carbon view of a loaded (possibly derived, ``<id>+overrides``) gep.coefficients set."""
    manifest = cs.manifest.model_dump(mode="json")
    return CarbonSet(manifest=manifest, tables=dict(cs.tables), path=str(cs.path or cs.id), raw=cs)


def load_carbon_set(id_or_path: str | Path = DEFAULT_SET) -> CarbonSet:
    """Load a carbon coefficient set (built-in id or folder with set.toml) through
    :func:`gep.coefficients.load_set`, the validated loader; InputError with every problem otherwise."""

    return from_coefficient_set(load_set(id_or_path))


def ecosystem_groups() -> pl.DataFrame:
    """``ecosystem_type, group`` (cropland/forest/grassland/wetland/desert/water/glacier)."""
    return ecosystem_types().select("ecosystem_type", "group")


# ---------------------------------------------------------------------------
# InVEST biophysical table


def is_invest_table(path: str | Path) -> bool:
    """True when ``path`` is a CSV/XLSX file whose header has ``lucode`` and the four pool columns."""
    p = Path(path)
    if not p.is_file() or p.suffix.lower() not in {".csv", ".txt", ".xlsx"}:
        return False

    try:
        cols = {c.strip().lower() for c in read_raw(p).df.columns}
    except InputError:
        return False
    return "lucode" in cols and all(c in cols for c in POOLS)


def load_invest_table(path: str | Path, display_name: str | None = None) -> pl.DataFrame:
    """Read an InVEST carbon biophysical table unchanged → ``lucode, lulc_name, c_above..c_dead`` (t C/ha).

    Column names are matched case-insensitively; extra columns are ignored (as InVEST does).
    Problems (missing columns, non-numbers, duplicate lucode) are collected into one InputError.
    """

    spec = TableSpec(
        name="InVEST carbon pools",
        columns=(
            ColumnSpec(name="lucode", aliases=("LUCODE", "Lucode"), description="land-cover code"),
            ColumnSpec(name="lulc_name", required=False, allow_null=True, aliases=("LULC_NAME", "LULC_name")),
            *(ColumnSpec(name=p, dtype="float", aliases=(p.upper(),), nonnegative=True,
                         description=f"{p} in t C/ha") for p in POOLS),
        ),
        keys=("lucode",),
    )
    df = load_table(path, spec, display_name=display_name)
    return df.with_columns(pl.col("lucode").str.strip_chars(), pl.col("lulc_name").str.strip_chars())


def _code_key(expr: pl.Expr) -> pl.Expr:
    """Normalised code for matching: integers lose leading zeros ('0101' == '101' == '101.0')."""
    as_num = expr.str.strip_chars().cast(pl.Float64, strict=False)
    return (
        pl.when(as_num.is_not_null() & (as_num == as_num.floor()))
        .then(as_num.cast(pl.Int64, strict=False).cast(pl.Utf8))
        .otherwise(expr.str.strip_chars())
    )


def invest_densities(classes: pl.DataFrame, invest: pl.DataFrame, file: str) -> pl.DataFrame:
    """Match land-cover classes to an InVEST table by code (``lucode``) or by ``lulc_name``.

    ``classes``: ``class`` (Utf8). Returns ``class, c_above, c_below, c_soil, c_dead`` (t C/ha).
    Code match wins over name match. Classes that match nothing raise MISSING_COEFFICIENT,
    all listed (InVEST itself stops on LULC codes missing from the table).
    """
    by_code = invest.select(_code_key(pl.col("lucode")).alias("_k"), *POOLS).unique("_k", keep="first")
    by_name = (
        invest.filter(pl.col("lulc_name").is_not_null())
        .select(pl.col("lulc_name").alias("_n"), *[pl.col(p).alias(p + "_n") for p in POOLS])
        .unique("_n", keep="first")
    )
    m = (
        classes.select("class").unique().sort("class")
        .with_columns(_code_key(pl.col("class")).alias("_k"))
        .join(by_code, on="_k", how="left")
        .join(by_name, left_on="class", right_on="_n", how="left")
    )
    m = m.with_columns([pl.coalesce(pl.col(p), pl.col(p + "_n")).alias(p) for p in POOLS])
    missing = m.filter(pl.col("c_above").is_null())["class"].to_list()
    if missing:
        raise InputError([Problem(
            "MISSING_COEFFICIENT",
            f"{len(missing)} land-cover class(es) have no row in the InVEST carbon pool table: "
            + ", ".join(missing[:30]) + (" ..." if len(missing) > 30 else ""),
            file=file, column="lucode", value=", ".join(missing[:30]),
            expected="a row whose lucode equals the class code or whose lulc_name equals the class name")])
    return m.select("class", *POOLS)


# ---------------------------------------------------------------------------
# densities from the coefficient set


def set_densities(
    classes: pl.DataFrame, cset: CarbonSet, warnings: list[Problem] | None = None
) -> pl.DataFrame:
    """Per-class pools (t C/ha) from a set's ``pools`` table keyed by ecosystem type.

    ``classes``: ``class, ecosystem_type`` (ecosystem_type null = built-up / no service).
    A set may also carry ``class_pools`` (keys ``class, pool``); a class-level row wins over
    the ecosystem-type row. A class with a null ecosystem type and no class-level row gets
    zero in every pool, and a NO_CARBON_POOLS warning naming it is appended to ``warnings``.
    A non-null ecosystem type absent from ``pools`` is an input problem (MISSING_COEFFICIENT).
    Returns ``class, c_above, c_below, c_soil, c_dead``.
    """
    pools = cset.table("pools")
    if pools is None:
        raise InputError([Problem("MISSING_COEFFICIENT", "the carbon coefficient set has no 'pools' table",
                                  file=cset.path, expected="a table 'pools' keyed by ecosystem_type, pool")])
    wide = _pivot_pools(pools, "ecosystem_type")
    cls = classes.select("class", "ecosystem_type").unique().sort("class")
    has_class_rows = cset.table("class_pools") is not None
    if cls.height and cls["ecosystem_type"].is_null().all() and not has_class_rows:
        raise InputError([Problem(
            "NO_ECOSYSTEM_TYPES",
            "none of the land-cover classes has an ecosystem type, so every carbon pool would be zero: "
            + ", ".join(cls["class"].to_list()[:20]),
            column="class", expected="a crosswalk from your classes to ecosystem types (e.g. --crosswalk tnls for "
            "三调 classes), classes named as ecosystem types (阔叶, 草甸, ...), or an InVEST carbon pool table")])
    out = cls.join(wide, on="ecosystem_type", how="left")
    class_pools = cset.table("class_pools")
    if class_pools is not None and class_pools.height:
        cw = _pivot_pools(class_pools, "class").rename({p: p + "_cls" for p in POOLS})
        out = out.join(cw, on="class", how="left").with_columns(
            [pl.coalesce(pl.col(p + "_cls"), pl.col(p)).alias(p) for p in POOLS]
        ).drop([p + "_cls" for p in POOLS])
    unknown = out.filter(pl.col("ecosystem_type").is_not_null() & pl.col("c_above").is_null())
    if unknown.height:
        types = sorted(set(unknown["ecosystem_type"].to_list()))
        raise InputError([Problem(
            "MISSING_COEFFICIENT", "no carbon pools for ecosystem type(s) " + ", ".join(types)
            + " (classes " + ", ".join(unknown["class"].to_list()[:20]) + ")",
            file=str(Path(cset.path) / "pools.csv"), column="ecosystem_type", value=", ".join(types),
            expected="a row per ecosystem type and pool (c_above, c_below, c_soil, c_dead)")])
    zero = out.filter(pl.col("c_above").is_null())
    if zero.height and warnings is not None:
        warnings.append(Problem(
            "NO_CARBON_POOLS",
            "classes without an ecosystem type (built-up land etc.) are counted with zero carbon in every "
            "pool, including soil: " + ", ".join(zero["class"].to_list())
            + ". Add rows to a 'class_pools' table of the coefficient set to give them a soil pool.",
            column="class", value=", ".join(zero["class"].to_list())))
    return out.with_columns([pl.col(p).fill_null(0.0) for p in POOLS]).select("class", *POOLS)


def _pivot_pools(df: pl.DataFrame, key: str) -> pl.DataFrame:
    long = df.filter(pl.col("pool").is_in(list(POOLS))).select(key, "pool", "value")
    wide = long.pivot(on="pool", index=key, values="value", aggregate_function="first")
    for p in POOLS:
        if p not in wide.columns:
            wide = wide.with_columns(pl.lit(0.0).alias(p))
    return wide.select(key, *[pl.col(p).fill_null(0.0).cast(pl.Float64) for p in POOLS])


def set_rows_used(cset: CarbonSet, table: str, filt: pl.Expr | None = None) -> pl.DataFrame:
    """The rows of one set table (optionally filtered): for provenance of the factors a run used."""
    df = cset.table(table)
    if df is None:
        return pl.DataFrame()
    return df if filt is None else df.filter(filt)
