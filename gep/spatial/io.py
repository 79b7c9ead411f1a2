"""Reading rasters (GeoTIFF/COG, windowed) and zone polygons (GPKG, Shapefile, GeoJSON, registry).

* :func:`open_raster` — checks a raster once (readable, has a CRS, north-up, integer class codes when
  asked) and returns :class:`RasterInfo` (grid, nodata, dtype, block shape).
* :func:`read_window` — one window of band 1; datasets are kept open per process (cheap repeated reads
  in pool and Dask workers).
* :func:`load_zone_file` / :func:`registry_zones` — polygons + ids, validated (id column present, ids
  non-empty and unique, geometries valid polygons) with located errors.
* :func:`reproject_zones` — polygons into the raster CRS (the raster is never resampled).
* :func:`geodesic_area_m2` — ellipsoidal polygon areas (pyproj.Geod, Karney 2013).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import rasterio
import shapely
import shapely.geometry
from pyproj import CRS, Geod, Transformer
from rasterio.errors import RasterioError

from gep.errors import InputError, Problem
from gep.spatial.grid import Grid, Tile, crs_label
from gep.spatial.zones import ZoneSet

DEFAULT_ZONE_CRS = "EPSG:4326"


@dataclass(frozen=True)
class RasterInfo:
    """A checked raster: path, grid, nodata value (or None), numpy dtype name, internal block shape (rows, cols)."""

    path: str
    grid: Grid
    nodata: float | None
    dtype: str
    block_shape: tuple[int, int]
    count: int

    def manifest_entry(self) -> dict[str, Any]:
        """CRS, resolution, size, dtype and nodata, for manifest.json."""
        return {"crs": crs_label(self.grid.crs_wkt), "resolution": list(self.grid.resolution),
                "size": [self.grid.width, self.grid.height], "dtype": self.dtype, "nodata": self.nodata,
                "transform": list(self.grid.transform)}


def open_raster(path: str | Path, display_name: str | None = None, *, integer_classes: bool = False) -> RasterInfo:
    """Open and check a raster (band 1 is used). Raises InputError with codes NOT_A_RASTER, RASTER_NO_CRS,
    ROTATED_GRID, RASTER_DTYPE (``integer_classes``: 8- or 16-bit integers required)."""
    name = display_name or str(path)
    try:
        with rasterio.open(path) as ds:
            grid = Grid.from_dataset(ds)
            nodata = ds.nodata
            dtype = ds.dtypes[0]
            block = tuple(ds.block_shapes[0]) if ds.block_shapes else (ds.height, ds.width)
            count = ds.count
    except (RasterioError, OSError) as exc:
        raise InputError([Problem("NOT_A_RASTER", f"this file cannot be read as a raster: {_short(exc)}", file=name,
                                  expected="a GeoTIFF or Cloud-Optimized GeoTIFF")]) from exc
    problems = []
    if not grid.crs_wkt:
        problems.append(Problem("RASTER_NO_CRS", "the raster has no coordinate reference system, so its pixels "
                                "cannot be placed on the county boundaries", file=name,
                                expected="a GeoTIFF with a CRS (e.g. EPSG:4326, EPSG:4490 or an Albers projection)"))
    elif not grid.is_north_up:
        problems.append(Problem("ROTATED_GRID", "the raster is rotated or flipped", file=name,
                                value=str(grid.transform), expected="a north-up raster (warp it in GIS first)"))
    if integer_classes and np.dtype(dtype).kind not in "iu" or integer_classes and np.dtype(dtype).itemsize > 2:
        problems.append(Problem("RASTER_DTYPE", "land-cover rasters must hold whole-number class codes of 8 or 16 "
                                "bits", file=name, value=dtype, expected="uint8, int8, uint16 or int16"))
    if problems:
        raise InputError(problems)
    return RasterInfo(str(path), grid, nodata, dtype, (int(block[0]), int(block[1])), count)


def _short(exc: BaseException) -> str:
    """First line of an error, preferring GDAL's underlying message over 'See previous exception'."""
    texts = []
    e: BaseException | None = exc
    while e is not None and len(texts) < 4:
        t = str(e).strip()
        if t:
            texts.append(t.splitlines()[0])
        e = e.__cause__ or e.__context__
    useful = [t for t in texts if "previous exception" not in t] or texts or [type(exc).__name__]
    return "; ".join(dict.fromkeys(useful))[:300]


_OPEN: dict[tuple[int, str], Any] = {}


def _dataset(path: str) -> Any:
    key = (os.getpid(), path)
    ds = _OPEN.get(key)
    if ds is None or ds.closed:
        ds = rasterio.open(path)
        _OPEN[key] = ds
    return ds


def close_datasets() -> None:
    """Close the datasets this process keeps open for :func:`read_window`."""
    for k, ds in list(_OPEN.items()):
        ds.close()
        del _OPEN[k]


class RasterReadError(Exception):
    """A window could not be decoded (truncated or corrupt file); carries the file path."""

    def __init__(self, path: str, message: str):
        super().__init__(path, message)
        self.path = path
        self.message = message


def read_window(path: str, tile: Tile, band: int = 1) -> np.ndarray:
    """Band ``band`` of one window (``tile.height`` × ``tile.width``). Raises :class:`RasterReadError`."""
    try:
        return _dataset(path).read(band, window=tile.rasterio_window())
    except (RasterioError, OSError) as exc:
        raise RasterReadError(path, _short(exc)) from exc


# ---------------------------------------------------------------------- zones


def geodesic_area_m2(geoms: np.ndarray, crs: CRS) -> np.ndarray:
    """Ellipsoidal area [m²] of each polygon (pyproj.Geod on the CRS's ellipsoid; Karney 2013).

    Projected geometries are first transformed to the CRS's geographic CRS (vertices only).
    """
    geo = crs.geodetic_crs or CRS.from_epsg(4326)
    if not crs.is_geographic:
        tr = Transformer.from_crs(crs, geo, always_xy=True)
        geoms = shapely.transform(geoms, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    ell = geo.ellipsoid
    geod = Geod(a=ell.semi_major_metre, rf=ell.inverse_flattening) if ell is not None else Geod(ellps="WGS84")
    return np.array([abs(geod.geometry_area_perimeter(g)[0]) if g is not None and not g.is_empty else 0.0
                     for g in geoms], dtype=np.float64)


def check_zones(ids: list[Any], geoms: np.ndarray, file: str, id_column: str,
                row_offset: int = 0) -> list[Problem]:
    """Problems with zone ids and geometries: ZONE_ID_EMPTY, ZONE_ID_DUPLICATE, ZONE_GEOMETRY_EMPTY,
    ZONE_GEOMETRY_NOT_POLYGON, ZONE_GEOMETRY_INVALID. Features are named by their number (1 = first)
    and id."""
    probs: list[Problem] = []
    text = [None if v is None else str(v).strip() for v in ids]
    seen: dict[str, int] = {}
    for i, v in enumerate(text):
        feat = i + 1 + row_offset
        if not v or v.lower() in ("nan", "none"):
            probs.append(Problem("ZONE_ID_EMPTY", f"feature {feat} has no zone id", file=file, row=feat,
                                 column=id_column, expected="a non-empty id for every polygon"))
        elif v in seen:
            probs.append(Problem("ZONE_ID_DUPLICATE", f"zone id '{v}' is used by features {seen[v]} and {feat}",
                                 file=file, row=feat, column=id_column, value=v,
                                 expected="each zone id once (dissolve multi-part zones first)"))
        else:
            seen[v] = feat
    kinds = shapely.get_type_id(geoms)
    valid = shapely.is_valid(geoms)
    for i in np.flatnonzero((kinds < 0) | shapely.is_empty(geoms)):
        probs.append(Problem("ZONE_GEOMETRY_EMPTY", f"feature {i + 1 + row_offset} (id '{text[i]}') has no geometry",
                             file=file, row=int(i) + 1 + row_offset, value=text[i], expected="a polygon"))
    bad_kind = (kinds >= 0) & ~np.isin(kinds, [3, 6]) & ~shapely.is_empty(geoms)
    for i in np.flatnonzero(bad_kind):
        probs.append(Problem("ZONE_GEOMETRY_NOT_POLYGON", f"feature {i + 1 + row_offset} (id '{text[i]}') is a "
                             f"{shapely.get_type_id(geoms[i])} geometry, not a polygon", file=file,
                             row=int(i) + 1 + row_offset, value=str(geoms[i].geom_type), expected="Polygon or MultiPolygon"))
    for i in np.flatnonzero((kinds >= 0) & ~valid & ~bad_kind):
        probs.append(Problem("ZONE_GEOMETRY_INVALID", f"feature {i + 1 + row_offset} (id '{text[i]}') has an invalid "
                             f"geometry: {shapely.is_valid_reason(geoms[i])}", file=file, row=int(i) + 1 + row_offset,
                             value=text[i], expected="a valid polygon (fix it with 'Fix geometries' / ST_MakeValid)"))
    return probs


def read_vector(path: str | Path, columns: list[str] | None, display_name: str | None = None,
                layer: str | int | None = None, encoding: str | None = None) -> tuple[dict[str, np.ndarray], np.ndarray, str]:
    """(fields by name, shapely geometries, CRS WKT or '') of a vector file (GPKG, Shapefile, GeoJSON).

    Shapefiles with a GBK/GB18030 .dbf: give ``encoding='GBK'`` or ship a .cpg file (pyogrio/GDAL).
    Raises NOT_A_VECTOR / COLUMN_NOT_FOUND (listing the columns that exist).
    """
    name = display_name or str(path)
    try:
        info = pyogrio.read_info(path, layer=layer, encoding=encoding)
    except Exception as exc:  # noqa: BLE001 - pyogrio raises several DataSource errors
        raise InputError([Problem("NOT_A_VECTOR", f"this file cannot be read as polygons: {_short(exc)}", file=name,
                                  expected="a GeoPackage, Shapefile or GeoJSON file")]) from exc
    fields = [str(f) for f in info["fields"]]
    if columns:
        missing = [c for c in columns if c not in fields]
        if missing:
            raise InputError([Problem("COLUMN_NOT_FOUND", f"column '{c}' is not in the file", file=name, row=1,
                                      column=c, value=c, expected="one of: " + ", ".join(fields)) for c in missing])
    meta, _fids, geometry, field_data = pyogrio.raw.read(path, layer=layer, encoding=encoding, columns=columns or [])
    geoms = shapely.from_wkb(geometry) if geometry is not None else np.array([None] * len(_fids), dtype=object)
    names = [str(f) for f in meta["fields"]]
    out = {n: np.asarray(d) for n, d in zip(names, field_data)}
    crs = meta.get("crs") or ""
    return out, geoms, CRS.from_user_input(crs).to_wkt() if crs else ""


def load_zone_file(path: str | Path, id_column: str, display_name: str | None = None, layer: str | int | None = None,
                   encoding: str | None = None) -> ZoneSet:
    """Zones (ids from ``id_column``) of a polygon file, validated; CRS as in the file (EPSG:4326 if none, with
    ZONES_NO_CRS raised only when the coordinates are not plausible degrees)."""
    name = display_name or str(path)
    fields, geoms, crs_wkt = read_vector(path, [id_column], name, layer, encoding)
    ids = list(fields[id_column])
    probs = check_zones(ids, geoms, name, id_column)
    if not crs_wkt:
        xmin, ymin, xmax, ymax = shapely.total_bounds(geoms) if len(geoms) else (0, 0, 0, 0)
        if not (-180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90):
            probs.append(Problem("ZONES_NO_CRS", "the zone file has no CRS and its coordinates are not degrees",
                                 file=name, expected="a zone file with a CRS (.prj for Shapefiles)"))
        crs_wkt = CRS.from_user_input(DEFAULT_ZONE_CRS).to_wkt()
    if probs:
        raise InputError(probs)
    return ZoneSet([str(v).strip() for v in ids], np.asarray(geoms, dtype=object), crs_wkt)


def registry_zones(registry: Any) -> ZoneSet:
    """County zones of a region registry (``RegionRegistry.boundaries()`` GeoJSON, property region_id)."""
    fc = registry.boundaries()
    if not fc:
        raise InputError([Problem("NO_BOUNDARIES", f"the region registry '{registry.name}' has no boundaries",
                                  value=registry.name, expected="a registry with boundaries, or --zones FILE")])
    crs_name = (fc.get("crs") or {}).get("properties", {}).get("name") or DEFAULT_ZONE_CRS
    feats = fc["features"]
    ids = [str(f["properties"]["region_id"]) for f in feats]
    geoms = np.array([shapely.geometry.shape(f["geometry"]) if f.get("geometry") else None for f in feats], dtype=object)
    probs = check_zones(ids, geoms, f"registry {registry.name}", "region_id")
    if probs:
        raise InputError(probs)
    return ZoneSet(ids, geoms, CRS.from_user_input(crs_name).to_wkt())


def reproject_zones(zones: ZoneSet, crs_wkt: str) -> ZoneSet:
    """The zones in another CRS (vertices transformed with pyproj, always_xy). Same object if already there."""
    src, dst = CRS.from_wkt(zones.crs_wkt), CRS.from_wkt(crs_wkt)
    if src.equals(dst):
        return ZoneSet(zones.ids, zones.geoms, crs_wkt)
    tr = Transformer.from_crs(src, dst, always_xy=True)
    geoms = shapely.transform(zones.geoms, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    return ZoneSet(zones.ids, geoms, crs_wkt)
