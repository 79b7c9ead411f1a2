"""Land-cover rasters × zones → extent, transitions and coverage tables (docs/spatial.md).

One pass over the tiles of the common grid: per window the zones are rasterized once and every
year's window is histogrammed per zone (and each consecutive pair of years, for transitions).
Areas: per-row ellipsoidal pixel areas in a geographic CRS, transform pixel area in a projected one,
summed as whole cm² (exact, byte-identical for every scheduler). Method: SEEA EA (2021) ch. 4
extent account from a classified raster; zonal histogram as in engineering.md §3.6.

Tables (polars):

* ``extent``: region_id, year, class, area_ha — the land-cover input contract (docs/input_tables.md);
* ``transitions``: region_id, year_from, year_to, class_from, class_to, area_ha (consecutive years;
  pixels that are nodata in either year are left out);
* ``extent_coverage``: region_id, year, pixels, nodata_pixels, nodata_share, raster_area_ha,
  valid_area_ha, zone_area_ha, covered_share (raster_area_ha / zone_area_ha).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
import shapely
from pyproj import CRS

from gep.coefficients import match_classes
from gep.errors import InputError, Problem
from gep.spatial.counting import Counts, count_by_zone, merge_counts
from gep.spatial.grid import (
    CM2_PER_HA,
    Grid,
    Tile,
    check_same_grid,
    crs_label,
    iter_tiles,
    max_tile_pixels,
    projected_area_distortion,
    row_pixel_area_cm2,
)
from gep.spatial.io import (
    RasterInfo,
    RasterReadError,
    close_datasets,
    geodesic_area_m2,
    open_raster,
    read_window,
    reproject_zones,
)
from gep.spatial.runner import PROCESSES, map_tiles
from gep.spatial.zones import ZoneSet, rasterize_zones, zone_weights

Coverage = Literal["centre", "fraction"]

EXTENT_COLUMNS = ("region_id", "year", "class", "area_ha")
TRANSITION_COLUMNS = ("region_id", "year_from", "year_to", "class_from", "class_to", "area_ha")
COVERAGE_COLUMNS = ("region_id", "year", "pixels", "nodata_pixels", "nodata_share", "raster_area_ha",
                    "valid_area_ha", "zone_area_ha", "covered_share")
DEFAULT_TILE = 1024


@dataclass(frozen=True)
class ExtentJob:
    """What every tile needs (sent once per worker): rasters (year, path, nodata), grid, zones, rule."""

    years: tuple[int, ...]
    paths: tuple[str, ...]
    nodata: tuple[float | None, ...]
    dtype_min: int
    n_keys: int  # class codes map to keys 1..n_keys-1; key 0 = nodata
    grid: Grid
    zones: ZoneSet
    coverage: str
    transitions: bool


@dataclass
class TileResult:
    """Per-year histograms and per-pair transition histograms of one tile (or the file that failed)."""

    years: list[Counts] = field(default_factory=list)
    pairs: list[Counts] = field(default_factory=list)
    error: tuple[str, str] | None = None


def _keys(arr: np.ndarray, nodata: float | None, dtype_min: int) -> np.ndarray:
    key = arr.astype(np.int64) - (dtype_min - 1)
    if nodata is not None and np.isfinite(nodata):
        key[arr == nodata] = 0
    return key


def extent_tile(tile: Tile, job: ExtentJob) -> TileResult:
    """Histograms of one window for every year (and consecutive pair): pure, picklable, any executor."""
    res = TileResult()
    if job.coverage == "fraction":
        zone, boundary = zone_weights(job.zones, job.grid, tile)
        empty = not zone.any() and boundary.pixel.size == 0
    else:
        zone, boundary = rasterize_zones(job.zones, job.grid, tile), None
        empty = not zone.any()
    if empty:  # no zone here: skip reading the rasters
        res.years = [Counts.empty() for _ in job.years]
        res.pairs = [Counts.empty() for _ in job.years[1:]] if job.transitions else []
        return res
    areas = row_pixel_area_cm2(job.grid, tile.row_off, tile.height)
    prev: np.ndarray | None = None
    for path, nodata in zip(job.paths, job.nodata):
        try:
            key = _keys(read_window(path, tile), nodata, job.dtype_min)
        except RasterReadError as exc:
            res.error = (exc.path, exc.message)
            return res
        res.years.append(count_by_zone(zone, key, job.n_keys, areas, boundary))
        if job.transitions and prev is not None:
            res.pairs.append(count_by_zone(zone, prev * job.n_keys + key, job.n_keys * job.n_keys, areas, boundary))
        prev = key
    return res


@dataclass
class ExtentResult:
    """Tables of a raster extent run, the checked rasters and the warnings to show."""

    extent: pl.DataFrame
    transitions: pl.DataFrame
    coverage: pl.DataFrame
    rasters: list[RasterInfo]
    warnings: list[Problem]
    method: dict[str, Any]


def choose_tile(grid: Grid, block_shape: tuple[int, int], tile: int | None = None) -> tuple[int, int]:
    """Tile (rows, cols) of about ``tile``² pixels (default 1024²) made of whole internal blocks, capped so cm²
    sums stay exact. Striped files (blocks as wide as the raster) get full-width strips of the same pixel count,
    so memory per worker stays bounded whatever the raster size."""
    want = tile or DEFAULT_TILE
    br, bc = max(1, block_shape[0]), max(1, block_shape[1])
    if bc >= grid.width:  # striped GeoTIFF
        cols = grid.width
        rows = max(br, (max(1, want * want // max(cols, 1)) // br) * br)
    else:
        cols = max(bc, (want // bc) * bc)
        rows = max(br, (want // br) * br)
    rows, cols = min(rows, grid.height), min(cols, grid.width)
    cap = max_tile_pixels(grid)
    while rows * cols > cap and rows > 1:
        rows = max(1, rows // 2)
    while rows * cols > cap and cols > 1:  # very coarse pixels (≈ 1°): narrower tiles too
        cols = max(1, cols // 2)
    return rows, cols


def _zones_on_grid(zones: ZoneSet, grid: Grid, file: str) -> ZoneSet:
    local = reproject_zones(zones, grid.crs_wkt)
    if not shapely.intersects(local.geoms, shapely.box(*grid.bounds)).any():
        xmin, ymin, xmax, ymax = grid.bounds
        raise InputError([Problem(
            "ZONES_OUTSIDE_RASTER", f"no zone overlaps the raster (raster bounds {xmin:.6g}, {ymin:.6g}, {xmax:.6g}, "
            f"{ymax:.6g} in {crs_label(grid.crs_wkt)}; zones reprojected from {crs_label(zones.crs_wkt)})", file=file,
            expected="zones and raster covering the same area (check the CRS of both)")])
    return local


def raster_extent(
    rasters: Mapping[int, str | Path],
    zones: ZoneSet,
    *,
    crosswalk: pl.DataFrame | None = None,
    crosswalk_name: str | None = None,
    coverage: Coverage = "centre",
    transitions: bool = True,
    scheduler: Any = PROCESSES,
    workers: int | None = None,
    tile_size: int | None = None,
    display_names: Mapping[int, str] | None = None,
    nodata: float | None = None,
) -> ExtentResult:
    """Extent, transitions and coverage tables from land-cover rasters {year: path} and zones (any CRS).

    ``coverage``: ``centre`` (pixel belongs to the zone containing its centre) or ``fraction`` (boundary
    pixels weighted by their share in each zone). Raises InputError (located, stable codes) for bad rasters,
    grids that differ (transitions), zones outside the raster and class codes missing from the crosswalk.
    """
    names = {y: (display_names or {}).get(y, str(p)) for y, p in rasters.items()}
    years = sorted(rasters)
    infos: dict[int, RasterInfo] = {}
    problems: list[Problem] = []
    for y in years:
        try:
            infos[y] = open_raster(rasters[y], names[y], integer_classes=True)
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    warnings: list[Problem] = [
        Problem("RASTER_BANDS", f"the raster has {infos[y].count} bands; only band 1 is used", file=names[y])
        for y in years if infos[y].count > 1]
    if transitions and len(years) > 1:
        check_same_grid({names[y]: infos[y].grid for y in years}, "transitions")
        groups = [years]
    else:
        groups = [[y] for y in years]
        transitions = False
    frames: dict[str, list[pl.DataFrame]] = {"extent": [], "transitions": [], "coverage": []}
    zone_area_ha = geodesic_area_m2(zones.geoms, CRS.from_wkt(zones.crs_wkt)) / 10_000
    for group in groups:
        info0 = infos[group[0]]
        grid = info0.grid
        distortion = projected_area_distortion(grid)
        if distortion is not None:
            warnings.append(Problem(
                "AREA_NOT_EQUAL_AREA", f"the raster CRS {crs_label(grid.crs_wkt)} is not an equal-area projection: "
                f"pixel areas are taken from the pixel size and are off by the areal scale factor "
                f"({distortion[0]:.5f}–{distortion[1]:.5f} over this raster)", file=names[group[0]],
                expected="a geographic CRS (gep then uses ellipsoidal areas) or an equal-area projection (Albers)"))
        local = _zones_on_grid(zones, grid, names[group[0]])
        dtypes = {np.dtype(infos[y].dtype) for y in group}
        dmin = min(int(np.iinfo(d).min) for d in dtypes)
        dmax = max(int(np.iinfo(d).max) for d in dtypes)
        job = ExtentJob(tuple(group), tuple(infos[y].path for y in group), tuple(infos[y].nodata if nodata is None else nodata for y in group),
                        dmin, dmax - dmin + 2, grid, local, coverage, transitions)
        rows, cols = choose_tile(grid, info0.block_shape, tile_size)
        tiles = list(iter_tiles(grid, rows, cols))
        try:
            parts = map_tiles(extent_tile, tiles, job, scheduler=scheduler, workers=workers)
        finally:
            close_datasets()
        errors = sorted({p.error for p in parts if p.error is not None})
        if errors:
            by_path = {infos[y].path: names[y] for y in group}
            raise InputError([Problem("RASTER_READ_ERROR", f"the raster could not be read to the end ({msg}); the file "
                                      "is probably truncated or damaged", file=by_path.get(path, path),
                                      expected="a complete GeoTIFF (copy or download it again)") for path, msg in errors])
        year_counts = [merge_counts([p.years[i] for p in parts], job.n_keys) for i in range(len(group))]
        pair_counts = ([merge_counts([p.pairs[i] for p in parts], job.n_keys ** 2) for i in range(len(group) - 1)]
                       if transitions else [])
        frames["extent"].extend(_year_table(c, y, job, local.ids) for c, y in zip(year_counts, group))
        frames["coverage"].extend(_coverage_table(c, y, local.ids, zone_area_ha) for c, y in zip(year_counts, group))
        frames["transitions"].extend(_pair_table(c, group[i], group[i + 1], job, local.ids)
                                     for i, c in enumerate(pair_counts))
        for i, c in enumerate(pair_counts):
            k0, k1 = c.key // job.n_keys, c.key % job.n_keys
            one_side = (k0 == 0) != (k1 == 0)
            if one_side.any():
                ha = int(c.area_cm2[one_side].sum()) / CM2_PER_HA
                warnings.append(Problem(
                    "NODATA_DIFFERS", f"{int(c.pixels[one_side].sum()):,} pixels ({ha:.4f} ha) are nodata in only one "
                    f"of {group[i]} and {group[i + 1]}: they are in that year's extent but in no transition, so the "
                    "transitions do not reconcile with the extent there", file=names[group[i + 1]],
                    expected="the same nodata mask in every year (or fill the gaps)"))
    raw = pl.concat(frames["extent"])
    raw_tr = pl.concat(frames["transitions"]) if frames["transitions"] else None
    lut = class_lookup(raw, raw_tr, crosswalk, crosswalk_name, {y: names[y] for y in years})
    extent = _finish_extent(raw, lut)
    trans = _finish_transitions(raw_tr, lut)
    cov = pl.concat(frames["coverage"]).sort(["region_id", "year"])
    warnings.extend(_coverage_warnings(cov))
    method = {"coverage": coverage, "area": "ellipsoidal per row" if infos[years[0]].grid.crs.is_geographic
              else "pixel size (projected CRS)", "tile_rows": rows, "tile_cols": cols}
    return ExtentResult(extent, trans, cov, [infos[y] for y in years], warnings, method)


def _code_of(key: np.ndarray, dtype_min: int) -> np.ndarray:
    return key + (dtype_min - 1)


def _year_table(c: Counts, year: int, job: ExtentJob, ids: Sequence[str]) -> pl.DataFrame:
    idarr = np.asarray(ids, dtype=object)
    valid = c.key > 0
    return pl.DataFrame({
        "region_id": pl.Series(idarr[c.zone[valid] - 1].tolist(), dtype=pl.Utf8),
        "year": pl.Series([year] * int(valid.sum()), dtype=pl.Int32),
        "code": pl.Series(_code_of(c.key[valid], job.dtype_min).astype(str).tolist(), dtype=pl.Utf8),
        "pixels": pl.Series(c.pixels[valid], dtype=pl.Int64),
        "area_cm2": pl.Series(c.area_cm2[valid], dtype=pl.Int64),
    })


def _pair_table(c: Counts, y0: int, y1: int, job: ExtentJob, ids: Sequence[str]) -> pl.DataFrame:
    idarr = np.asarray(ids, dtype=object)
    k0, k1 = c.key // job.n_keys, c.key % job.n_keys
    valid = (k0 > 0) & (k1 > 0)
    n = int(valid.sum())
    return pl.DataFrame({
        "region_id": pl.Series(idarr[c.zone[valid] - 1].tolist(), dtype=pl.Utf8),
        "year_from": pl.Series([y0] * n, dtype=pl.Int32),
        "year_to": pl.Series([y1] * n, dtype=pl.Int32),
        "code_from": pl.Series(_code_of(k0[valid], job.dtype_min).astype(str).tolist(), dtype=pl.Utf8),
        "code_to": pl.Series(_code_of(k1[valid], job.dtype_min).astype(str).tolist(), dtype=pl.Utf8),
        "area_cm2": pl.Series(c.area_cm2[valid], dtype=pl.Int64),
    })


def _coverage_table(c: Counts, year: int, ids: Sequence[str], zone_area_ha: np.ndarray) -> pl.DataFrame:
    n = len(ids)
    pixels = np.zeros(n, np.int64)
    nod_px = np.zeros(n, np.int64)
    area = np.zeros(n, np.int64)
    nod_area = np.zeros(n, np.int64)
    np.add.at(pixels, c.zone - 1, c.pixels)
    np.add.at(area, c.zone - 1, c.area_cm2)
    nod = c.key == 0
    np.add.at(nod_px, c.zone[nod] - 1, c.pixels[nod])
    np.add.at(nod_area, c.zone[nod] - 1, c.area_cm2[nod])
    raster_ha = area / CM2_PER_HA
    with np.errstate(divide="ignore", invalid="ignore"):
        nod_share = np.where(area > 0, nod_area / np.maximum(area, 1), 0.0)
        covered = np.where(zone_area_ha > 0, raster_ha / np.where(zone_area_ha > 0, zone_area_ha, 1.0), 0.0)
    return pl.DataFrame({
        "region_id": pl.Series(list(ids), dtype=pl.Utf8),
        "year": pl.Series([year] * n, dtype=pl.Int32),
        "pixels": pixels, "nodata_pixels": nod_px, "nodata_share": nod_share,
        "raster_area_ha": raster_ha, "valid_area_ha": (area - nod_area) / CM2_PER_HA,
        "zone_area_ha": zone_area_ha, "covered_share": covered,
    })


def _coverage_warnings(cov: pl.DataFrame) -> list[Problem]:
    """ZONE_PARTLY_COVERED / NODATA_IN_ZONE for zones with data; ZONES_WITHOUT_DATA counts the others."""
    out = []
    has = cov.filter(pl.col("valid_area_ha") > 0)
    part = has.filter(pl.col("covered_share") < 0.99).sort(["region_id", "year"])
    if part.height:
        shown = ", ".join(f"{r} {y}: {s:.1%}" for r, y, s in part.select("region_id", "year", "covered_share")
                          .head(10).iter_rows())
        out.append(Problem("ZONE_PARTLY_COVERED", f"{part.height} zone-year(s) lie partly outside the raster, so "
                           f"their extent is incomplete ({shown}{' …' if part.height > 10 else ''})",
                           expected="a raster covering every zone (see tables/extent_coverage.csv)"))
    nod = has.filter(pl.col("nodata_share") > 0.01).sort(["region_id", "year"])
    if nod.height:
        shown = ", ".join(f"{r} {y}: {s:.1%}" for r, y, s in nod.select("region_id", "year", "nodata_share")
                          .head(10).iter_rows())
        out.append(Problem("NODATA_IN_ZONE", f"{nod.height} zone-year(s) have more than 1 % nodata pixels, left out "
                           f"of the extent ({shown}{' …' if nod.height > 10 else ''}; see tables/extent_coverage.csv)"))
    empty = cov.filter(pl.col("valid_area_ha") == 0)["region_id"].unique()
    if empty.len():
        out.append(Problem("ZONES_WITHOUT_DATA", f"{empty.len()} of {cov['region_id'].n_unique()} zones have no "
                           "land-cover pixel in the rasters (outside them or all nodata) and are not in the extent"))
    return out


def class_lookup(raw: pl.DataFrame, raw_tr: pl.DataFrame | None, crosswalk: pl.DataFrame | None,
                 crosswalk_name: str | None, files: Mapping[int, str]) -> pl.DataFrame:
    """``code → class`` for every raster value found; without a crosswalk the class is the code itself.

    Codes absent from the crosswalk raise CLASS_NOT_IN_CROSSWALK, one problem per raster listing each
    missing code with its pixel count.
    """
    codes = raw.select("code").unique()
    if raw_tr is not None and raw_tr.height:
        codes = pl.concat([codes, raw_tr.select(pl.col("code_from").alias("code")),
                           raw_tr.select(pl.col("code_to").alias("code"))]).unique()
    codes = codes.sort("code")
    if crosswalk is None:
        return codes.with_columns(pl.col("code").alias("class"))
    matched = match_classes(codes.with_columns(pl.col("code").alias("class")), crosswalk)
    missing = matched.filter(pl.col("crosswalk_class").is_null()).select("code")
    if missing.height:
        per_file = (raw.join(missing, on="code").group_by("year", "code").agg(pl.col("pixels").sum())
                    .sort(["year", "pixels", "code"], descending=[False, True, False]))
        label = crosswalk_name or "the crosswalk"
        problems = []
        for (year,), df in per_file.group_by(["year"], maintain_order=True):
            listed = ", ".join(f"{c} ({p:,} pixel{'s' if p != 1 else ''})" for c, p in df.select("code", "pixels").iter_rows())
            problems.append(Problem("CLASS_NOT_IN_CROSSWALK", f"raster values not in {label}: {listed}",
                                    file=files.get(int(year)), value=", ".join(df["code"].to_list()),
                                    expected=f"class codes of {label}, or the nodata value (set in the GeoTIFF or --nodata)"))
        if not problems:  # only in transition pairs (cannot happen: pairs are subsets of years)
            problems.append(Problem("CLASS_NOT_IN_CROSSWALK", f"raster values not in {label}",
                                    value=", ".join(missing["code"].to_list())))
        raise InputError(problems)
    return matched.select("code", pl.col("crosswalk_class").alias("class"))


def cm2_to_ha(df: pl.DataFrame, column: str = "area_cm2") -> pl.DataFrame:
    """Replace an integer cm² column by ``area_ha`` (numpy true division: correctly rounded, so the CSV
    text is the same however many rows the frame has; polars may multiply by the reciprocal instead)."""
    ha = df[column].to_numpy().astype(np.float64) / CM2_PER_HA
    return df.with_columns(pl.Series("area_ha", ha, dtype=pl.Float64)).drop(column)


def _finish_extent(raw: pl.DataFrame, lut: pl.DataFrame) -> pl.DataFrame:
    out = (raw.join(lut, on="code", how="left").group_by("region_id", "year", "class")
           .agg(pl.col("area_cm2").sum()).sort(["region_id", "year", "class"]))
    return cm2_to_ha(out).select(*EXTENT_COLUMNS)


def _finish_transitions(raw: pl.DataFrame | None, lut: pl.DataFrame) -> pl.DataFrame:
    schema = {"region_id": pl.Utf8, "year_from": pl.Int32, "year_to": pl.Int32, "class_from": pl.Utf8,
              "class_to": pl.Utf8, "area_ha": pl.Float64}
    if raw is None or raw.height == 0:
        return pl.DataFrame(schema=schema)
    l_from = lut.rename({"code": "code_from", "class": "class_from"})
    l_to = lut.rename({"code": "code_to", "class": "class_to"})
    out = (raw.join(l_from, on="code_from", how="left").join(l_to, on="code_to", how="left")
           .group_by("region_id", "year_from", "year_to", "class_from", "class_to").agg(pl.col("area_cm2").sum())
           .sort(["region_id", "year_from", "year_to", "class_from", "class_to"]))
    return cm2_to_ha(out).select(*TRANSITION_COLUMNS)
