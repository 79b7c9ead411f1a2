"""gep.spatial — rasters and polygons → zone tables (extent, transitions), tile by tile.

Shared raster machinery (other engines, e.g. gep.biophysical, build on it):

Grids and tiles (:mod:`gep.spatial.grid`)
    ``Grid(crs_wkt, transform, width, height)`` — picklable; ``Grid.from_dataset(rasterio_ds)``,
    ``Grid.from_origin(crs, x0, y0, res_x, res_y, width, height)``; properties ``crs``, ``affine``,
    ``shape``, ``resolution``, ``origin``, ``bounds``; ``tile_bounds(tile)``, ``tile_transform(tile)``,
    ``affine_of(tile)``, ``tiles(rows, cols)``.
    ``Tile(index, row_off, col_off, height, width)`` — ``.slices``, ``.rasterio_window()``.
    ``iter_tiles(grid, tile_rows=1024, tile_cols=1024)`` — row-major windows numbered from 0.
    ``grid_differences(a, b) -> list[str]`` names what differs (CRS, resolution, origin, size);
    ``check_same_grid({file: grid}, purpose)`` raises InputError GRID_MISMATCH.
    ``row_pixel_area_m2(grid, row_off, height)`` — pixel area per row [m²]: ellipsoidal in a
    geographic CRS, |det transform| in a projected one; ``row_pixel_area_cm2`` the same rounded to
    whole cm² (int64, for exact, order-free sums); ``band_area_m2(lat1, lat2, dlon)``;
    ``is_equal_area(crs)``, ``projected_area_distortion(grid)``; ``max_tile_pixels(grid)``.

Zones on a grid (:mod:`gep.spatial.zones`)
    ``ZoneSet(ids, geoms, crs_wkt)`` — zone k burned as k+1 (0 = none); geometries in the grid CRS
    (``crs_wkt`` also accepts 'EPSG:4326'); ``in_window(bounds)``; picklable (WKB).
    ``rasterize_zones(zones, grid, tile) -> ndarray`` — pixel-centre rule, one window.
    ``zone_weights(zones, grid, tile) -> (interior, BoundaryWeights(pixel, zone, fraction))`` —
    coverage-fraction rule; ``cell_fractions(geoms_px, zone_vals, h, w)`` its numpy sweep kernel;
    ``zone_weights_shapely`` the slow shapely reference (tests).

Histograms (:mod:`gep.spatial.counting`)
    ``count_by_zone(zone, key, n_keys, row_area_cm2, boundary=None) -> Counts`` and
    ``merge_counts(parts, n_keys)``; ``Counts(zone, key, pixels, area_cm2)`` int64 arrays.

Running (:mod:`gep.spatial.runner`)
    ``map_tiles(fn, tiles, common, scheduler="processes"|"inline"|ADDRESS, workers=None)`` →
    results in tile-index order; ``map_reduce(fn, tiles, reduce, initial, common, ...)``.
    ``fn(tile, common)`` must be a module-level (picklable) pure function.

Reading rasters and zone files (:mod:`gep.spatial.io`)
    ``open_raster(path, display_name=None, *, integer_classes=False) -> RasterInfo`` (grid, nodata,
    dtype, block_shape; ``manifest_entry()``); ``read_window(path, tile, band=1)`` (datasets cached per
    process; ``close_datasets()``); ``read_vector(path, columns, ...)``; ``load_zone_file(path,
    id_column, display_name=None, layer=None, encoding=None) -> ZoneSet``; ``registry_zones(registry)``;
    ``reproject_zones(zones, crs_wkt)``; ``geodesic_area_m2(geoms, crs)``; ``check_zones(...)``.

Extent (:mod:`gep.spatial.extent`, :mod:`gep.spatial.polygons`, :mod:`gep.spatial.step`)
    ``raster_extent(rasters: {year: path}, zones, *, crosswalk=None, crosswalk_name=None,
    coverage="centre"|"fraction", transitions=True, scheduler="processes", workers=None, tile_size=None,
    display_names=None) -> ExtentResult(extent, transitions, coverage, rasters, warnings, method)``;
    ``polygon_extent(path, class_column, year, zones, *, crosswalk=None, crosswalk_name=None,
    area_column=None, deduct_column=None, area_unit="m2", use_survey_area=True, encoding=None,
    layer=None, display_name=None) -> PolygonExtentResult(extent, coverage, warnings, method)``;
    ``step.Config`` / ``step.run_step(cfg, ctx)`` — the ``[extent]`` run step.

Errors are :class:`gep.errors.InputError` with stable codes (docs/spatial.md).
"""

from __future__ import annotations

from gep.spatial.counting import Counts, count_by_zone, merge_counts
from gep.spatial.grid import (
    CM2_PER_HA,
    CM2_PER_M2,
    Grid,
    Tile,
    band_area_m2,
    check_same_grid,
    crs_label,
    grid_differences,
    is_equal_area,
    iter_tiles,
    max_tile_pixels,
    projected_area_distortion,
    row_pixel_area_cm2,
    row_pixel_area_m2,
)
from gep.spatial.runner import INLINE, PROCESSES, default_workers, map_reduce, map_tiles
from gep.spatial.zones import BoundaryWeights, ZoneSet, rasterize_zones, zone_weights

__all__ = [
    "CM2_PER_HA",
    "CM2_PER_M2",
    "INLINE",
    "PROCESSES",
    "BoundaryWeights",
    "Counts",
    "Grid",
    "Tile",
    "ZoneSet",
    "band_area_m2",
    "check_same_grid",
    "count_by_zone",
    "crs_label",
    "default_workers",
    "grid_differences",
    "is_equal_area",
    "iter_tiles",
    "map_reduce",
    "map_tiles",
    "max_tile_pixels",
    "merge_counts",
    "projected_area_distortion",
    "rasterize_zones",
    "row_pixel_area_cm2",
    "row_pixel_area_m2",
    "zone_weights",
]
