"""Zones (county polygons) on a raster grid: rasterized per window, optionally with boundary fractions.

A :class:`ZoneSet` holds zone ids and shapely geometries **already in the grid's CRS** (reproject the
polygons, never the raster). Zone *k* (0-based position in ``ids``) is burned as value ``k + 1``;
0 = outside every zone.

* :func:`rasterize_zones` — the pixel-centre rule (GDAL/rasterio ``all_touched=False``): a pixel
  belongs to the zone containing its centre. Cost ≈ one GDAL rasterize per window.
* :func:`zone_weights` — the coverage-fraction rule (as exactextract): pixels crossed by a zone
  boundary are split by the exact share of the pixel square inside each zone (shapely intersection,
  planar in the grid CRS); interior pixels weigh 1. Extra cost ∝ number of boundary pixels.

Zones must not overlap (administrative units do not); where they do, the later zone wins in the
centre rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from pyproj import CRS
from pyproj.crs import is_wkt
from affine import Affine
from rasterio import features

from gep.spatial.grid import Grid, Tile


@dataclass
class ZoneSet:
    """Zone ids (text) and their (Multi)Polygon geometries in the CRS of the grid they are used with."""

    ids: list[str]
    geoms: np.ndarray  # shapely geometries, same order as ids
    crs_wkt: str = ""
    _tree: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:  # accept 'EPSG:4326', a pyproj CRS or WKT; keep WKT
        if self.crs_wkt and not (isinstance(self.crs_wkt, str) and is_wkt(self.crs_wkt)):
            self.crs_wkt = CRS.from_user_input(self.crs_wkt).to_wkt()
        self.geoms = np.asarray(self.geoms, dtype=object)

    def __getstate__(self) -> dict[str, Any]:  # the STRtree is rebuilt where needed
        return {"ids": self.ids, "geoms": shapely.to_wkb(self.geoms), "crs_wkt": self.crs_wkt}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.ids = state["ids"]
        self.geoms = shapely.from_wkb(state["geoms"])
        self.crs_wkt = state["crs_wkt"]
        self._tree = None

    @property
    def tree(self) -> shapely.STRtree:
        if self._tree is None:
            self._tree = shapely.STRtree(self.geoms)
        return self._tree

    def __len__(self) -> int:
        return len(self.ids)

    def in_window(self, bounds: tuple[float, float, float, float]) -> np.ndarray:
        """Positions (0-based, sorted) of zones whose bounding box meets ``bounds`` (xmin, ymin, xmax, ymax)."""
        return np.sort(self.tree.query(shapely.box(*bounds)))


def zone_dtype(n_zones: int) -> np.dtype:
    """Smallest rasterio-supported dtype for zone values 0..n_zones."""
    return np.dtype(np.uint16) if n_zones < 65535 else np.dtype(np.int32)


def rasterize_zones(zones: ZoneSet, grid: Grid, tile: Tile) -> np.ndarray:
    """Zone raster of one window (``tile.height`` × ``tile.width``): value k+1 where the pixel centre is in zone k, else 0."""
    out_dtype = zone_dtype(len(zones))
    idx = zones.in_window(grid.tile_bounds(tile))
    if idx.size == 0:
        return np.zeros((tile.height, tile.width), dtype=out_dtype)
    shapes = ((zones.geoms[i], int(i) + 1) for i in idx)
    return features.rasterize(shapes, out_shape=(tile.height, tile.width), transform=grid.affine_of(tile),
                              fill=0, all_touched=False, dtype=out_dtype)


@dataclass(frozen=True)
class BoundaryWeights:
    """Boundary pixels of a window with their share in each zone.

    ``pixel`` (flat index in the window), ``zone`` (value k+1), ``fraction`` (0–1, share of the pixel
    square inside the zone), one entry per (pixel, zone) with fraction > 0.
    """

    pixel: np.ndarray
    zone: np.ndarray
    fraction: np.ndarray


def zone_weights(zones: ZoneSet, grid: Grid, tile: Tile) -> tuple[np.ndarray, BoundaryWeights]:
    """Coverage-fraction rule for one window: (interior zone raster, boundary weights).

    The interior raster has the centre-rule zone value on pixels no zone boundary crosses and 0 on
    boundary pixels; boundary pixels come with their exact fractions (sum ≤ 1 per pixel).
    Method: exactextract's coverage fraction (Baston 2022), computed here with shapely
    ``intersection`` of the pixel squares and each zone, only on pixels the boundary touches.
    """
    centre = rasterize_zones(zones, grid, tile)
    idx = zones.in_window(grid.tile_bounds(tile))
    h, w = tile.height, tile.width
    empty = BoundaryWeights(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64))
    if idx.size == 0:
        return centre, empty
    # per zone: pixels its boundary touches (a loop over the zones of the window, not over pixels)
    pix_parts: list[np.ndarray] = []
    zone_parts: list[np.ndarray] = []
    aff = grid.affine_of(tile)
    tx0, ty0, tx1, ty1 = grid.tile_bounds(tile)
    for i in idx:
        # only the window of the zone's bounding box (cheap rasterize and nonzero for many small zones)
        gx0, gy0, gx1, gy1 = shapely.bounds(zones.geoms[i])
        c0 = max(0, int(np.floor((max(gx0, tx0) - tx0) / aff.a)) - 1)
        c1 = min(w, int(np.ceil((min(gx1, tx1) - tx0) / aff.a)) + 1)
        r0 = max(0, int(np.floor((ty1 - min(gy1, ty1)) / -aff.e)) - 1)
        r1 = min(h, int(np.ceil((ty1 - max(gy0, ty0)) / -aff.e)) + 1)
        if r1 <= r0 or c1 <= c0:
            continue
        sub = aff * Affine.translation(c0, r0)
        touched = features.rasterize([(shapely.boundary(zones.geoms[i]), 1)], out_shape=(r1 - r0, c1 - c0),
                                     transform=sub, fill=0, all_touched=True, dtype=np.uint8)
        rr, cc = np.nonzero(touched)
        pix_parts.append((rr + r0).astype(np.int64) * w + (cc + c0))
        zone_parts.append(np.full(rr.size, int(i) + 1, dtype=np.int64))
    if not pix_parts or sum(p.size for p in pix_parts) == 0:
        return centre, empty
    pix = np.concatenate(pix_parts).astype(np.int64)
    zon = np.concatenate(zone_parts)
    bpix = np.unique(pix)
    centre_flat = centre.ravel()
    cz = centre_flat[bpix].astype(np.int64)
    keep = cz > 0
    pix = np.concatenate([pix, bpix[keep]])
    zon = np.concatenate([zon, cz[keep]])
    n = len(zones) + 1
    key = np.unique(pix * n + zon)
    pix, zon = key // n, key % n
    rows, cols = pix // w, pix % w
    a, c, e, f = aff.a, aff.c, aff.e, aff.f
    x0 = c + a * cols
    y0 = f + e * rows
    boxes = shapely.box(np.minimum(x0, x0 + a), np.minimum(y0, y0 + e), np.maximum(x0, x0 + a), np.maximum(y0, y0 + e))
    frac = shapely.area(shapely.intersection(boxes, zones.geoms[zon - 1])) / abs(a * e)
    frac = np.clip(frac, 0.0, 1.0)
    ok = frac > 0
    interior = centre.copy()
    interior.ravel()[bpix] = 0
    return interior, BoundaryWeights(pix[ok], zon[ok], frac[ok])
