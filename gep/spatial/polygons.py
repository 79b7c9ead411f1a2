"""Land-use polygons (三调 图斑, any polygon land-use map) × zones → extent and coverage tables.

Each polygon is split by the zones it crosses (shapely intersection; polygons lying inside one zone are
not cut). Area of each piece:

* with the survey's own area column (图斑地类面积 / 图斑面积 − 扣除地类面积, or ``area_column``): the survey
  area × the piece's geometric share of its polygon, so zone totals add up to the survey's figures;
* otherwise the ellipsoidal area of the piece (pyproj.Geod, Karney 2013).

Areas are summed as whole cm² (exact, order-independent). Method: SEEA EA (2021) ch. 4 extent from a
land-use map; 三调 field names from TD/T 1055-2019 (第三次全国国土调查技术规程).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyogrio
import shapely
from pyproj import CRS

from gep.coefficients import match_classes
from gep.errors import InputError, Problem
from gep.spatial.extent import COVERAGE_COLUMNS, EXTENT_COLUMNS, cm2_to_ha
from gep.spatial.grid import CM2_PER_HA, CM2_PER_M2
from gep.spatial.io import geodesic_area_m2, read_vector, reproject_zones
from gep.spatial.zones import ZoneSet
from gep.units import area_factor

# (net area column) or (gross area column, deduction column), first found wins (三调 names and field codes)
SURVEY_NET_AREA = ("图斑地类面积", "TBDLMJ")
SURVEY_GROSS_AREA = ("图斑面积", "TBMJ")
SURVEY_DEDUCTION = ("扣除地类面积", "KCMJ")
POLYGON_COVERAGE_COLUMNS = ("region_id", "year", "polygons", "mapped_area_ha", "zone_area_ha", "covered_share")


@dataclass
class PolygonExtentResult:
    """extent (region_id, year, class, area_ha), coverage per zone, warnings and the area method used."""

    extent: pl.DataFrame
    coverage: pl.DataFrame
    warnings: list[Problem]
    method: dict[str, str]


def survey_area_columns(fields: Sequence[str], area_column: str | None = None,
                        deduct_column: str | None = None) -> tuple[str | None, str | None]:
    """(area column, deduction column) to use: the explicit ones, else the 三调 names found in ``fields``."""
    if area_column:
        return area_column, deduct_column
    for c in SURVEY_NET_AREA:
        if c in fields:
            return c, None
    for c in SURVEY_GROSS_AREA:
        if c in fields:
            ded = deduct_column or next((d for d in SURVEY_DEDUCTION if d in fields), None)
            return c, ded
    return None, None


def _numbers(values: np.ndarray, file: str, column: str) -> tuple[np.ndarray, list[Problem]]:
    """Area cells as float64 (vectorised cast); problems name the features that are not numbers ≥ 0."""
    text = pl.Series(values.tolist(), dtype=pl.Utf8, strict=False) if values.dtype == object else pl.Series(values)
    num = text.cast(pl.Float64, strict=False)
    bad = (num.is_null() | (num < 0)).fill_null(True)
    probs = [Problem("INVALID_NUMBER", "the area is not a number ≥ 0", file=file, row=int(i) + 1, column=column,
                     value=str(values[i]), expected="a number ≥ 0") for i in np.flatnonzero(bad.to_numpy())[:50]]
    return num.fill_null(np.nan).to_numpy().astype(np.float64), probs


def polygon_extent(path: str | Path, class_column: str, year: int, zones: ZoneSet, *,
                   crosswalk: pl.DataFrame | None = None, crosswalk_name: str | None = None,
                   area_column: str | None = None, deduct_column: str | None = None, area_unit: str = "m2",
                   use_survey_area: bool = True, encoding: str | None = None, layer: str | int | None = None,
                   display_name: str | None = None) -> PolygonExtentResult:
    """Extent of one year from a land-use polygon file, split by zones. Features are named by number (1 = first)."""
    name = display_name or str(path)
    try:
        fields = [str(f) for f in pyogrio.read_info(path, layer=layer, encoding=encoding)["fields"]]
    except Exception as exc:  # noqa: BLE001 - pyogrio raises several DataSource errors
        raise InputError([Problem("NOT_A_VECTOR", f"this file cannot be read as polygons: {exc}", file=name,
                                  expected="a GeoPackage, Shapefile or GeoJSON file")]) from exc
    acol, dcol = survey_area_columns(fields, area_column, deduct_column) if use_survey_area else (None, None)
    cols = [class_column] + [c for c in (acol, dcol) if c]
    data, geoms, crs_wkt = read_vector(path, cols, name, layer, encoding)
    if not crs_wkt:
        raise InputError([Problem("VECTOR_NO_CRS", "the land-use file has no CRS", file=name,
                                  expected="a file with a CRS (.prj next to a Shapefile)")])
    probs: list[Problem] = []
    classes = np.array([None if v is None else str(v).strip() for v in data[class_column]], dtype=object)
    for i in np.flatnonzero([not c for c in classes]):
        probs.append(Problem("MISSING_VALUE", f"feature {i + 1} has no land-use class", file=name, row=int(i) + 1,
                             column=class_column, expected="a class name or code"))
    kinds = shapely.get_type_id(geoms)
    ok_kind = np.isin(kinds, [3, 6])
    for i in np.flatnonzero(~ok_kind):
        probs.append(Problem("LANDUSE_GEOMETRY_NOT_POLYGON", f"feature {i + 1} has no polygon geometry", file=name,
                             row=int(i) + 1, value=None if geoms[i] is None else geoms[i].geom_type,
                             expected="Polygon or MultiPolygon"))
    for i in np.flatnonzero(ok_kind & ~shapely.is_valid(geoms)):
        probs.append(Problem("LANDUSE_GEOMETRY_INVALID", f"feature {i + 1} (class '{classes[i]}') has an invalid "
                             f"geometry: {shapely.is_valid_reason(geoms[i])}", file=name, row=int(i) + 1,
                             expected="a valid polygon (fix it with 'Fix geometries' / ST_MakeValid)"))
    survey_ha = None
    if acol:
        gross, p1 = _numbers(data[acol], name, acol)
        probs += p1
        if dcol:
            ded, p2 = _numbers(data[dcol], name, dcol)
            probs += p2
            gross = gross - np.nan_to_num(ded)
        survey_ha = gross * area_factor(area_unit, context=f"--area-unit for {acol}")
    if probs:
        raise InputError(probs)
    lut = _class_lut(classes, crosswalk, crosswalk_name, name, class_column)
    crs = CRS.from_wkt(crs_wkt)
    local = reproject_zones(zones, crs_wkt)
    zg = local.geoms
    shapely.prepare(zg)
    li, zi = shapely.STRtree(zg).query(geoms, predicate="intersects")
    inside = shapely.contains_properly(zg[zi], geoms[li])
    pieces = geoms[li].copy()
    cut = ~inside
    pieces[cut] = shapely.intersection(geoms[li][cut], zg[zi][cut])
    if survey_ha is not None:
        whole = shapely.area(geoms)
        share = np.where(whole[li] > 0, shapely.area(pieces) / np.where(whole[li] > 0, whole[li], 1.0), 0.0)
        share[inside] = 1.0
        area_cm2 = np.rint(survey_ha[li] * share * CM2_PER_HA).astype(np.int64)
        method = f"survey area column {acol}" + (f" minus {dcol}" if dcol else "") + " split by geometric share"
    else:
        area_cm2 = np.rint(geodesic_area_m2(pieces, crs) * CM2_PER_M2).astype(np.int64)
        method = "ellipsoidal polygon area (pyproj.Geod)"
    ids = np.asarray(local.ids, dtype=object)
    pieces_df = pl.DataFrame({
        "region_id": pl.Series(ids[zi].tolist(), dtype=pl.Utf8),
        "raw_class": pl.Series(classes[li].tolist(), dtype=pl.Utf8),
        "feature": pl.Series(li, dtype=pl.Int64),
        "area_cm2": pl.Series(area_cm2, dtype=pl.Int64),
    }).join(lut, on="raw_class", how="left")
    extent = cm2_to_ha(pieces_df.group_by("region_id", "class").agg(pl.col("area_cm2").sum())
                       .with_columns(pl.lit(year, pl.Int32).alias("year")).sort(["region_id", "class"]))
    extent = extent.select(*EXTENT_COLUMNS)
    zone_ha = geodesic_area_m2(zones.geoms, CRS.from_wkt(zones.crs_wkt)) / 10_000
    per_zone = pieces_df.group_by("region_id").agg(pl.col("feature").n_unique().alias("polygons"),
                                                   pl.col("area_cm2").sum())
    cov = (pl.DataFrame({"region_id": pl.Series(list(zones.ids), dtype=pl.Utf8), "zone_area_ha": zone_ha})
           .join(per_zone, on="region_id", how="left")
           .with_columns(pl.col("polygons").fill_null(0).cast(pl.Int64), pl.col("area_cm2").fill_null(0),
                         pl.lit(year, pl.Int32).alias("year")))
    cov = cm2_to_ha(cov).rename({"area_ha": "mapped_area_ha"})
    cov = cov.with_columns(pl.Series("covered_share", np.where(
        cov["zone_area_ha"].to_numpy() > 0, cov["mapped_area_ha"].to_numpy() / np.maximum(cov["zone_area_ha"].to_numpy(), 1e-300), 0.0)))
    cov = cov.select(*POLYGON_COVERAGE_COLUMNS).sort("region_id")
    warnings: list[Problem] = []
    outside = np.setdiff1d(np.arange(len(geoms)), li)
    if outside.size:
        warnings.append(Problem("LANDUSE_OUTSIDE_ZONES", f"{outside.size} polygon(s) lie outside every zone and are "
                                f"not counted (features {', '.join(str(i + 1) for i in outside[:10])}"
                                f"{' …' if outside.size > 10 else ''})", file=name))
    return PolygonExtentResult(extent, cov, warnings, {"area": method, "coverage": "polygon split by zone"})


def _class_lut(classes: np.ndarray, crosswalk: pl.DataFrame | None, crosswalk_name: str | None, file: str,
               column: str) -> pl.DataFrame:
    raw = pl.DataFrame({"raw_class": pl.Series(classes.tolist(), dtype=pl.Utf8)})
    counts = raw.group_by("raw_class").agg(pl.len().alias("n"), pl.int_range(pl.len()).first().alias("_x"))
    if crosswalk is None:
        return counts.select("raw_class", pl.col("raw_class").alias("class"))
    matched = match_classes(counts.with_columns(pl.col("raw_class").alias("class")), crosswalk)
    missing = matched.filter(pl.col("crosswalk_class").is_null()).sort("raw_class")
    if missing.height:
        first = {c: int(np.flatnonzero(classes == c)[0]) + 1 for c in missing["raw_class"].to_list()}
        label = crosswalk_name or "the crosswalk"
        raise InputError([Problem("CLASS_NOT_IN_CROSSWALK", f"class '{c}' is not in {label} ({n} polygons)", file=file,
                                  row=first[c], column=column, value=c,
                                  expected=f"a class name or code of {label}")
                          for c, n in missing.select("raw_class", "n").iter_rows()])
    return matched.select("raw_class", pl.col("crosswalk_class").alias("class"))


__all__ = ["POLYGON_COVERAGE_COLUMNS", "PolygonExtentResult", "polygon_extent", "survey_area_columns",
           "COVERAGE_COLUMNS"]
