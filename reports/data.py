"""Read a run directory (manifest.json + tables/*.parquet, else *.csv) for the report writers.

Reports only render what the engine wrote (docs/contracts.md §8, §10): this module
reads, types and orders the tables; it computes nothing new.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from gep.coefficients import load_set
from gep.regions import load_registry

from gep.errors import GepError, InputError, Problem

# Columns that are identifiers or free text even when every value looks like a number
# (region ids are GB/T 2260 codes: "510104" must stay a string).
TEXT_COLUMNS: frozenset[str] = frozenset(
    {
        "region_id", "class", "class_from", "class_to", "ecosystem_type", "category",
        "service", "component", "quantity_unit", "price_unit", "method", "pool",
        "payer", "payee", "party", "period", "rule", "basis", "section_id",
        "agreement_id", "coefficient_id", "unit", "source", "verification", "note",
        "name", "name_zh", "name_en", "parent_id", "set_id", "table", "key",
        "parameter", "distribution", "status", "data_status", "code", "message",
    }
)
INT_COLUMNS: frozenset[str] = frozenset({"year", "year_from", "year_to", "price_year",
                                         "price_base_year", "draws", "seed", "samples", "rank",
                                         "priority_rank", "n_counties", "n_samples"})


@dataclass(frozen=True)
class RunData:
    """Everything a report shows: the manifest, the tables, and region names/boundaries."""

    run_dir: Path
    manifest: dict[str, Any]
    tables: dict[str, pl.DataFrame]
    region_names: pl.DataFrame | None = None  # region_id, name_zh, name_en, area_km2
    boundaries: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    prefecture_boundaries: dict[str, Any] | None = None  # for runs rolled up to prefectures
    map_caveat: str = ""  # the registry's note on its boundaries (审图号), printed under the map
    # views computed from the tables (reports.views.level_totals, growth_table), kept so that
    # report.xlsx and report.html of one run compute them once
    derived: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def table(self, name: str) -> pl.DataFrame | None:
        """The table ``name`` if the run wrote it and it has rows, else None."""
        df = self.tables.get(name)
        return df if df is not None and df.height > 0 else None


def _is_text(name: str) -> bool:
    return name in TEXT_COLUMNS or name.endswith(("_id", "_unit"))


def type_columns(df: pl.DataFrame) -> pl.DataFrame:
    """Cast all-numeric Utf8 columns to Float64 (Int64 for year columns); ids stay text."""
    casts: list[pl.Expr] = []
    for name in df.columns:
        if _is_text(name) or df.schema[name] != pl.Utf8:
            continue
        col = df.get_column(name)
        as_float = col.str.strip_chars().cast(pl.Float64, strict=False)
        if as_float.null_count() != col.null_count():
            continue  # some value is not a number: keep the column as text
        if name in INT_COLUMNS and as_float.drop_nulls().round(0).equals(as_float.drop_nulls()):
            casts.append(pl.col(name).str.strip_chars().cast(pl.Float64).cast(pl.Int64))
        else:
            casts.append(pl.col(name).str.strip_chars().cast(pl.Float64))
    return df.with_columns(casts) if casts else df


def read_table_csv(path: Path) -> pl.DataFrame:
    """Read one engine table (UTF-8 CSV) with ids as text and numbers as numbers."""
    df = pl.read_csv(path, infer_schema_length=0, encoding="utf8-lossy")
    return type_columns(df)


def read_table_parquet(path: Path) -> pl.DataFrame:
    """Read one engine table written as Parquet (typed by the engine; ids are already text).

    Decimal columns (the compensation ledger's exact amounts) become Float64 and categoricals
    text, so a table reads as its CSV copy does.
    """
    df = pl.read_parquet(path)
    casts = [pl.col(c).cast(pl.Float64) if isinstance(t, pl.Decimal) else pl.col(c).cast(pl.Utf8)
             for c, t in df.schema.items() if isinstance(t, pl.Decimal | pl.Categorical | pl.Enum)]
    return type_columns(df.with_columns(casts) if casts else df)


def read_tables(tables_dir: Path) -> dict[str, pl.DataFrame]:
    """Every table of a run's ``tables/`` folder: ``name.parquet`` when written, else ``name.csv``.

    The engine writes both (docs/account.md); Parquet is typed and reads several times faster
    than the CSV, which stays the hashed, human-readable copy. A table written only as CSV
    (older run folders, hand-made tables) is read from the CSV.
    """
    tables: dict[str, pl.DataFrame] = {}
    if not tables_dir.is_dir():
        return tables
    parquet = {p.stem: p for p in tables_dir.glob("*.parquet")}
    for path in sorted(tables_dir.glob("*.csv")):
        pq = parquet.pop(path.stem, None)
        tables[path.stem] = read_table_parquet(pq) if pq is not None else read_table_csv(path)
    for name in sorted(parquet):
        tables[name] = read_table_parquet(parquet[name])
    return dict(sorted(tables.items()))


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """Read ``run_dir/manifest.json``; a missing or broken manifest is an InputError."""
    path = run_dir / "manifest.json"
    if not path.is_file():
        raise InputError([Problem(
            "FILE_NOT_FOUND",
            "This folder has no manifest.json, so it is not a gep run directory. "
            "Give the output folder of `gep run` or `gep demo`.",
            file=str(path))])
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError([Problem(
            "UNREADABLE_FILE", f"manifest.json could not be read as JSON: {exc}",
            file=str(path))]) from None
    if not isinstance(manifest, dict):
        raise InputError([Problem(
            "UNREADABLE_FILE", "manifest.json must hold a JSON object.", file=str(path))])
    return manifest


def _load_registry(manifest: dict[str, Any], notes: list[str]) -> tuple[
        pl.DataFrame | None, dict[str, Any] | None, dict[str, Any] | None, str]:
    regions = manifest.get("regions")
    if not regions:
        return None, None, None, ""
    try:

        reg = load_registry(regions)
    except (GepError, OSError, ValueError, KeyError) as exc:  # no registry: no names/map
        notes.append(f"regions registry {regions!r} not available: {exc}")
        return None, None, None, ""
    names: pl.DataFrame | None = None
    counties = getattr(reg, "counties", None)
    if isinstance(counties, pl.DataFrame) and "region_id" in counties.columns:
        keep = [c for c in ("region_id", "name_zh", "name_en", "area_km2") if c in counties.columns]
        frames = [counties.select(keep)]
        prefectures = getattr(reg, "prefectures", None)
        if isinstance(prefectures, pl.DataFrame) and "region_id" in prefectures.columns:
            pkeep = [c for c in keep if c in prefectures.columns]
            frames.append(prefectures.select(pkeep))
        names = pl.concat(frames, how="diagonal_relaxed").with_columns(
            pl.col("region_id").cast(pl.Utf8)).unique("region_id", keep="first",
                                                      maintain_order=True)
    try:
        boundaries = reg.boundaries()
    except (GepError, OSError, ValueError, KeyError) as exc:
        notes.append(f"region boundaries not available: {exc}")
        boundaries = None
    prefectures_fc = None
    if hasattr(reg, "prefecture_boundaries"):
        try:
            prefectures_fc = reg.prefecture_boundaries()
        except (GepError, OSError, ValueError, KeyError):
            prefectures_fc = None
    return names, boundaries, prefectures_fc, str(getattr(reg, "map_caveat", "") or "")


DATA_STATUS = "data_status"


def drop_status_label(tables: dict[str, pl.DataFrame], synthetic: bool) -> dict[str, pl.DataFrame]:
    """Drop the per-row ``data_status`` = "synthetic" column of a synthetic run's tables.

    The report shows the label once (banner, cover sheet); repeating it in every table adds
    nothing. The column is kept when the manifest is not flagged synthetic or when its
    values are anything but "synthetic" (then it carries information the banner does not).
    """
    if not synthetic:
        return tables
    out: dict[str, pl.DataFrame] = {}
    for name, df in tables.items():
        if DATA_STATUS in df.columns and df.get_column(DATA_STATUS).cast(pl.Utf8).eq_missing(
                "synthetic").all():
            df = df.drop(DATA_STATUS)
        out[name] = df
    return out


def load_run(run_dir: Path | str, *, boundaries: dict[str, Any] | None = None,
             region_names: pl.DataFrame | None = None) -> RunData:
    """Read a run directory. ``boundaries``/``region_names`` override the registry (tests, benchmarks)."""
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    tables = drop_status_label(read_tables(run_dir / "tables"), bool(manifest.get("synthetic")))
    notes: list[str] = []
    prefectures_fc = None
    caveat = ""
    if boundaries is None and region_names is None:
        region_names, boundaries, prefectures_fc, caveat = _load_registry(manifest, notes)
    return RunData(run_dir=run_dir, manifest=manifest, tables=tables,
                   region_names=region_names, boundaries=boundaries, notes=notes,
                   prefecture_boundaries=prefectures_fc, map_caveat=caveat)


def coefficients_table(run: RunData) -> pl.DataFrame | None:
    """The coefficients the run used: tables/coefficients_used.csv, else the manifest's sets.

    Falls back to ``gep.coefficients.load_set`` for every set listed in the manifest
    (columns set_id, table, then the set's own columns).
    """
    used = run.table("coefficients_used")
    if used is not None:
        return used
    sets = run.manifest.get("coefficient_sets") or []
    if not sets:
        return None
    frames: list[pl.DataFrame] = []
    for entry in sets:
        set_id = entry.get("id") if isinstance(entry, dict) else entry
        try:
            cset = load_set(set_id)
        except (GepError, OSError, ValueError, KeyError) as exc:
            run.notes.append(f"coefficient set {set_id!r} could not be loaded: {exc}")
            continue
        tables = getattr(cset, "tables", {}) or {}
        for tname in sorted(tables):
            t = tables[tname]
            if not isinstance(t, pl.DataFrame):
                continue
            frames.append(t.with_columns(pl.all().cast(pl.Utf8)).select(
                pl.lit(str(set_id)).alias("set_id"), pl.lit(tname).alias("table"), pl.all()))
    if not frames:
        return None
    return type_columns(pl.concat(frames, how="diagonal_relaxed"))
