"""Raster grids, tiles and pixel areas.

A :class:`Grid` is what two rasters must share to be compared pixel by pixel: CRS, affine
transform (origin + resolution) and size. Tiles are windows of a grid, numbered row-major;
that number fixes the reduction order of every parallel run.

Pixel area: geographic CRS → exact area of the ellipsoidal cell (a "quadrangle" between two
parallels and two meridians) on the CRS's ellipsoid (WGS84 for EPSG:4326, GRS80 for CGCS2000
EPSG:4490); method: authalic-latitude band area, e.g. Snyder (1987) *Map Projections — A
Working Manual*, USGS PP 1395, eq. 3-12 / Karney (2013). Projected CRS → |det(transform)|
in m², correct only in an equal-area projection (see :func:`projected_area_distortion`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from affine import Affine
from pyproj import CRS, Proj, Transformer
from rasterio.windows import Window

from gep.errors import InputError, Problem

CM2_PER_M2 = 10_000
CM2_PER_HA = 100_000_000
_EXACT_FLOAT_INT = 2**52  # integers below this are exact in float64 sums (np.bincount weights)


@dataclass(frozen=True)
class Tile:
    """A window of a grid: ``index`` (row-major tile number), pixel offsets and size."""

    index: int
    row_off: int
    col_off: int
    height: int
    width: int

    @property
    def slices(self) -> tuple[slice, slice]:
        """(row slice, column slice) of this tile in a full-grid array."""
        return slice(self.row_off, self.row_off + self.height), slice(self.col_off, self.col_off + self.width)

    def rasterio_window(self) -> Any:
        """The same window as a ``rasterio.windows.Window``."""
        return Window(self.col_off, self.row_off, self.width, self.height)


@dataclass(frozen=True)
class Grid:
    """A raster grid: CRS (as WKT), affine transform ``(a, b, c, d, e, f)`` (GDAL/rasterio order:
    x = a·col + b·row + c, y = d·col + e·row + f), ``width`` × ``height`` pixels.

    Picklable (plain fields), so it travels to process-pool and Dask workers.
    """

    crs_wkt: str
    transform: tuple[float, float, float, float, float, float]
    width: int
    height: int

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dataset(cls, ds: Any) -> Grid:
        """Grid of an open rasterio dataset (CRS may be missing: ``crs_wkt`` is then '')."""
        t = ds.transform
        return cls(ds.crs.to_wkt() if ds.crs else "", (t.a, t.b, t.c, t.d, t.e, t.f), ds.width, ds.height)

    @classmethod
    def from_origin(cls, crs: Any, x0: float, y0: float, res_x: float, res_y: float, width: int, height: int) -> Grid:
        """North-up grid with upper-left corner (x0, y0) and pixel size res_x × res_y (CRS units)."""
        return cls(CRS.from_user_input(crs).to_wkt(), (float(res_x), 0.0, float(x0), 0.0, -float(res_y), float(y0)),
                   int(width), int(height))

    # ------------------------------------------------------------------ properties
    @property
    def crs(self) -> CRS:
        return CRS.from_wkt(self.crs_wkt)

    @property
    def affine(self) -> Any:
        """The transform as an ``affine.Affine`` (what rasterio functions take)."""
        return Affine(*self.transform)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        return self.height, self.width

    @property
    def resolution(self) -> tuple[float, float]:
        """Pixel size (x, y) in CRS units, both positive."""
        a, b, _, d, e, _ = self.transform
        return math.hypot(a, d), math.hypot(b, e)

    @property
    def origin(self) -> tuple[float, float]:
        """Upper-left corner (x, y) in CRS units."""
        return self.transform[2], self.transform[5]

    @property
    def is_north_up(self) -> bool:
        a, b, _, d, e, _ = self.transform
        return b == 0 and d == 0 and a > 0 and e < 0

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of a north-up grid."""
        a, _, c, _, e, f = self.transform
        return c, f + e * self.height, c + a * self.width, f

    def tile_bounds(self, tile: Tile) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of a tile of a north-up grid."""
        a, _, c, _, e, f = self.transform
        return (c + a * tile.col_off, f + e * (tile.row_off + tile.height),
                c + a * (tile.col_off + tile.width), f + e * tile.row_off)

    def tile_transform(self, tile: Tile) -> tuple[float, float, float, float, float, float]:
        """Affine transform of a tile (same resolution, shifted origin)."""
        a, b, c, d, e, f = self.transform
        return (a, b, c + a * tile.col_off + b * tile.row_off, d, e, f + d * tile.col_off + e * tile.row_off)

    def affine_of(self, tile: Tile) -> Any:
        """Affine transform of a tile as an ``affine.Affine``."""
        return Affine(*self.tile_transform(tile))

    def tiles(self, tile_rows: int = 1024, tile_cols: int = 1024) -> list[Tile]:
        """All tiles, row-major (see :func:`iter_tiles`)."""
        return list(iter_tiles(self, tile_rows, tile_cols))


def iter_tiles(grid: Grid, tile_rows: int = 1024, tile_cols: int = 1024) -> Iterator[Tile]:
    """Windows of at most ``tile_rows`` × ``tile_cols`` covering the grid, numbered row-major from 0.

    Choose multiples of the file's internal block size (GeoTIFF/COG tiles, often 256 or 512) so each
    window decodes whole blocks. Memory per worker ≈ tile pixels × (bytes per value + ~24 B).
    """
    if tile_rows <= 0 or tile_cols <= 0:
        raise ValueError("tile size must be positive")
    index = 0
    for r in range(0, grid.height, tile_rows):
        for c in range(0, grid.width, tile_cols):
            yield Tile(index, r, c, min(tile_rows, grid.height - r), min(tile_cols, grid.width - c))
            index += 1


# ---------------------------------------------------------------------- comparing grids


def grid_differences(a: Grid, b: Grid, rel_tol: float = 1e-9) -> list[str]:
    """What differs between two grids, as phrases naming CRS, resolution, origin and/or size.

    Empty list = same grid. Transform entries are compared to ``rel_tol`` × pixel size.
    """
    out: list[str] = []
    if bool(a.crs_wkt) != bool(b.crs_wkt) or (a.crs_wkt and not CRS.from_wkt(a.crs_wkt).equals(CRS.from_wkt(b.crs_wkt))):
        out.append(f"CRS ({_crs_label(a.crs_wkt)} vs {_crs_label(b.crs_wkt)})")
    tol = rel_tol * max(a.resolution + b.resolution)
    ra, rb = a.resolution, b.resolution
    if abs(ra[0] - rb[0]) > tol or abs(ra[1] - rb[1]) > tol or (a.transform[1], a.transform[3]) != (b.transform[1], b.transform[3]):
        out.append(f"resolution ({ra[0]:g} × {ra[1]:g} vs {rb[0]:g} × {rb[1]:g})")
    oa, ob = a.origin, b.origin
    if abs(oa[0] - ob[0]) > tol or abs(oa[1] - ob[1]) > tol:
        out.append(f"origin ({oa[0]:.10g}, {oa[1]:.10g} vs {ob[0]:.10g}, {ob[1]:.10g})")
    if (a.width, a.height) != (b.width, b.height):
        out.append(f"size ({a.width} × {a.height} vs {b.width} × {b.height} pixels)")
    return out


def check_same_grid(grids: dict[str, Grid], purpose: str = "transitions") -> None:
    """Raise InputError GRID_MISMATCH for every grid that differs from the first (named by file)."""
    items = list(grids.items())
    if not items:
        return
    first_file, first = items[0]
    problems = []
    for file, g in items[1:]:
        diff = grid_differences(first, g)
        if diff:
            problems.append(Problem(
                "GRID_MISMATCH", f"this raster is not on the same grid as {first_file} ({'; '.join(diff)}), so "
                f"{purpose} cannot be counted pixel by pixel", file=file, value="; ".join(diff),
                expected="rasters with the same CRS, resolution, origin and size (align them in GIS first; gep "
                "never resamples)"))
    if problems:
        raise InputError(problems)


def _crs_label(wkt: str) -> str:
    if not wkt:
        return "no CRS"
    crs = CRS.from_wkt(wkt)
    epsg = crs.to_epsg(min_confidence=70)
    return f"EPSG:{epsg}" if epsg else crs.name


def crs_label(wkt: str) -> str:
    """Short name of a CRS for messages and manifests: ``EPSG:nnnn`` when known, else its name."""
    return _crs_label(wkt)


# ---------------------------------------------------------------------- pixel areas


def _ellipsoid(crs: CRS) -> tuple[float, float]:
    """(semi-major axis a [m], flattening f) of a CRS's ellipsoid; WGS84 when unknown."""
    ell = crs.ellipsoid
    if ell is None:
        return 6378137.0, 1 / 298.257223563
    inv_f = ell.inverse_flattening
    return float(ell.semi_major_metre), (0.0 if not inv_f else 1.0 / float(inv_f))


def band_area_m2(lat1_deg: np.ndarray | float, lat2_deg: np.ndarray | float, dlon_deg: float,
                 a_m: float = 6378137.0, f: float = 1 / 298.257223563) -> np.ndarray:
    """Area [m²] on an ellipsoid between parallels ``lat1`` and ``lat2`` over ``dlon`` degrees of longitude.

    Exact for the ellipsoid (authalic band formula, Snyder 1987 eq. 3-12): with e² = f(2−f), b = a(1−f),
    A(φ) = b²·Δλ/2 · [sin φ / (1 − e² sin² φ) + atanh(e sin φ)/e]; area = |A(φ2) − A(φ1)|.
    """
    e2 = f * (2 - f)
    e = math.sqrt(e2)
    b = a_m * (1 - f)
    dlam = math.radians(abs(dlon_deg))

    def q(lat: np.ndarray) -> np.ndarray:
        s = np.sin(np.radians(lat))
        if e == 0:
            return 2 * s
        return s / (1 - e2 * s * s) + np.arctanh(e * s) / e

    lat1 = np.asarray(lat1_deg, dtype=np.float64)
    lat2 = np.asarray(lat2_deg, dtype=np.float64)
    return np.abs(b * b * dlam / 2 * (q(lat2) - q(lat1)))


def row_pixel_area_m2(grid: Grid, row_off: int = 0, height: int | None = None) -> np.ndarray:
    """Area [m²] of one pixel in each row ``row_off .. row_off+height-1`` (float64, shape (height,)).

    Geographic CRS: ellipsoidal cell area (:func:`band_area_m2`) on the CRS's ellipsoid. Projected
    CRS: |a·e − b·d| × (linear unit in m)², the same for every row.
    """
    h = grid.height - row_off if height is None else height
    crs = grid.crs
    a, b, _, d, e, f = grid.transform
    if crs.is_geographic:
        if b != 0 or d != 0:
            raise InputError([Problem("ROTATED_GRID", "rotated geographic rasters are not supported",
                                      value=str(grid.transform), expected="a north-up raster")])
        a_m, flat = _ellipsoid(crs)
        rows = np.arange(row_off, row_off + h, dtype=np.float64)
        lat_top = f + e * rows
        return band_area_m2(lat_top, lat_top + e, a, a_m, flat)
    unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    return np.full(h, abs(a * e - b * d) * unit * unit, dtype=np.float64)


def row_pixel_area_cm2(grid: Grid, row_off: int = 0, height: int | None = None) -> np.ndarray:
    """:func:`row_pixel_area_m2` rounded to whole cm² (int64).

    gep sums areas as integers (cm²) so totals are exact and identical whatever the tiling,
    worker count or scheduler; the rounding changes a 30 m pixel by < 1e-7 relative.
    """
    return np.rint(row_pixel_area_m2(grid, row_off, height) * CM2_PER_M2).astype(np.int64)


def max_tile_pixels(grid: Grid) -> int:
    """Largest tile (pixels) whose total area in cm² stays exact in float64 weighted bincounts."""
    largest = float(row_pixel_area_cm2(grid, 0, grid.height).max()) if grid.height else 1.0
    return max(1, int(_EXACT_FLOAT_INT // max(largest, 1.0)))


_EQUAL_AREA_METHODS = ("equal area", "equal-area", "mollweide", "sinusoidal", "equal earth", "eckert iv",
                       "eckert vi", "goode", "hammer")


def is_equal_area(crs: CRS) -> bool:
    """True for a geographic CRS (areas computed on the ellipsoid) or an equal-area projection."""
    if crs.is_geographic:
        return True
    op = crs.coordinate_operation
    name = (op.method_name if op is not None else crs.name).lower()
    return any(k in name for k in _EQUAL_AREA_METHODS)


def projected_area_distortion(grid: Grid) -> tuple[float, float] | None:
    """(min, max) areal scale factor of a projected, non-equal-area grid at 9 points; None if equal-area.

    A UTM grid has factors 0.9992–1.002 within its zone: pixel areas taken from the transform are then
    off by that factor (gep does not correct them; reproject to Albers equal-area for exact areas).
    """
    crs = grid.crs
    if is_equal_area(crs):
        return None
    xmin, ymin, xmax, ymax = grid.bounds
    xs = np.array([xmin, (xmin + xmax) / 2, xmax] * 3)
    ys = np.repeat([ymin, (ymin + ymax) / 2, ymax], 3)
    try:
        lon, lat = Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True).transform(xs, ys)
        factors = Proj(crs).get_factors(lon, lat)
        scale = np.asarray(factors.areal_scale, dtype=float)
        scale = scale[np.isfinite(scale)]
    except Exception:  # noqa: BLE001 - a CRS pyproj cannot analyse: no estimate
        return (float("nan"), float("nan"))
    if scale.size == 0:
        return (float("nan"), float("nan"))
    return float(scale.min()), float(scale.max())
