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
from affine import Affine
from pyproj import CRS
from pyproj.crs import is_wkt
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


def _edges_px(geoms: np.ndarray, zone_vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(edges (n, 4) u0, v0, u1, v1; zone value per edge) of polygons already in pixel coordinates."""
    oriented = shapely.orient_polygons(geoms)  # holes opposite to exteriors: signed crossings = winding
    parts, pi = shapely.get_parts(oriented, return_index=True)  # MultiPolygons → polygons
    rings, gi = shapely.get_rings(parts, return_index=True)
    xy, ri = shapely.get_coordinates(rings, return_index=True)
    same = ri[1:] == ri[:-1]
    edges = np.column_stack([xy[:-1][same], xy[1:][same]])
    return edges, zone_vals[pi[gi[ri[:-1][same]]]]


def cell_fractions(geoms_px: np.ndarray, zone_vals: np.ndarray, h: int, w: int,
                   extra_pix: np.ndarray | None = None, extra_zone: np.ndarray | None = None) -> BoundaryWeights:
    """Exact share of each unit cell [j, j+1] × [i, i+1] covered by each polygon (pixel coordinates u = column,
    v = row), for every cell a polygon's boundary crosses, plus the (pixel, zone) pairs in ``extra_*``.

    Vectorised Green's-theorem sweep (the idea behind exactextract, Baston 2022): edges are cut at every
    integer u and v; a piece in cell (i, j) with signed width du adds du·(i + 1 − v_mid) to that cell and du
    to every cell below it in column j; the cell's covered area is the absolute sum. Polygons must be
    clipped to the window (plus a margin) first; they may have holes and several parts.
    """
    edges, ez = _edges_px(geoms_px, zone_vals)
    u0, v0, u1, v1 = edges.T
    n_e = edges.shape[0]
    parts_e: list[np.ndarray] = [np.arange(n_e), np.arange(n_e)]
    parts_t: list[np.ndarray] = [np.zeros(n_e), np.ones(n_e)]
    for a0, a1 in ((u0, u1), (v0, v1)):
        lo, hi = np.minimum(a0, a1), np.maximum(a0, a1)
        k0 = np.floor(lo).astype(np.int64) + 1
        cnt = np.maximum(np.ceil(hi).astype(np.int64) - 1 - k0 + 1, 0)
        cnt[a1 == a0] = 0
        tot = int(cnt.sum())
        if tot:
            e_idx = np.repeat(np.arange(n_e), cnt)
            start = np.repeat(np.cumsum(cnt) - cnt, cnt)
            k = k0[e_idx] + (np.arange(tot) - start)
            parts_e.append(e_idx)
            parts_t.append((k - a0[e_idx]) / (a1[e_idx] - a0[e_idx]))
    e_all = np.concatenate(parts_e)
    t_all = np.concatenate(parts_t)
    order = np.lexsort((t_all, e_all))
    e_all, t_all = e_all[order], t_all[order]
    pu = u0[e_all] + t_all * (u1[e_all] - u0[e_all])
    pv = v0[e_all] + t_all * (v1[e_all] - v0[e_all])
    nxt = e_all[1:] == e_all[:-1]
    du = (pu[1:] - pu[:-1])[nxt]
    dv = (pv[1:] - pv[:-1])[nxt]
    um = ((pu[1:] + pu[:-1]) / 2)[nxt]
    vm = ((pv[1:] + pv[:-1]) / 2)[nxt]
    pz = ez[e_all[:-1][nxt]]
    col = np.floor(um).astype(np.int64)
    row = np.floor(vm).astype(np.int64)
    in_tile = (col >= 0) & (col < w) & (row >= 0) & (row < h) & ((du != 0) | (dv != 0))
    b_pix, b_zone = row[in_tile] * w + col[in_tile], pz[in_tile]  # cells the boundary crosses (also vertically)
    keep = (col >= 0) & (col < w) & (row < h) & (du != 0)
    du, vm, pz, col, row = du[keep], vm[keep], pz[keep], col[keep], row[keep]
    partial = du * (row + 1 - vm)
    row = np.maximum(row, -1)  # pieces above the window only add to the cells below them
    # sweep keys: (zone, column, row + 1), sorted; cumulative sums answer "all pieces above row r"
    rr = h + 1
    colkey = pz * w + col
    key = colkey * rr + (row + 1)
    order = np.argsort(key, kind="stable")
    key, du, partial = key[order], du[order], partial[order]
    cdu = np.concatenate([[0.0], np.cumsum(du)])
    cpa = np.concatenate([[0.0], np.cumsum(partial)])
    q_pix, q_zone = b_pix, b_zone
    if extra_pix is not None and extra_pix.size:
        q_pix = np.concatenate([q_pix, extra_pix])
        q_zone = np.concatenate([q_zone, extra_zone])
    uq = np.unique(q_zone * (h * w) + q_pix) if q_pix.size else np.zeros(0, np.int64)
    q_zone, q_pix = uq // (h * w), uq % (h * w)
    qr, qc = q_pix // w, q_pix % w
    base = (q_zone * w + qc) * rr
    lo = np.searchsorted(key, base, side="left")
    at = np.searchsorted(key, base + qr + 1, side="left")
    hi = np.searchsorted(key, base + qr + 1, side="right")
    frac = np.abs((cdu[at] - cdu[lo]) + (cpa[hi] - cpa[at]))
    frac = np.clip(frac, 0.0, 1.0)
    ok = frac > 1e-12
    return BoundaryWeights(q_pix[ok], q_zone[ok], frac[ok])


def zone_weights(zones: ZoneSet, grid: Grid, tile: Tile) -> tuple[np.ndarray, BoundaryWeights]:
    """Coverage-fraction rule for one window: (interior zone raster, boundary weights).

    The interior raster has the centre-rule zone value on pixels no zone boundary crosses and 0 on
    boundary pixels; boundary pixels come with their exact fractions (sum ≤ 1 per pixel), from
    :func:`cell_fractions` on the zones clipped to the window (exactextract's coverage fraction).
    """
    centre = rasterize_zones(zones, grid, tile)
    idx = zones.in_window(grid.tile_bounds(tile))
    h, w = tile.height, tile.width
    empty = BoundaryWeights(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64))
    if idx.size == 0:
        return centre, empty
    aff = grid.affine_of(tile)
    tx0, ty0, tx1, ty1 = grid.tile_bounds(tile)
    mx, my = 2 * abs(aff.a), 2 * abs(aff.e)
    clipped = shapely.clip_by_rect(zones.geoms[idx], tx0 - mx, ty0 - my, tx1 + mx, ty1 + my)
    inv = ~aff
    px = shapely.transform(clipped, lambda xy: np.column_stack([inv.a * xy[:, 0] + inv.b * xy[:, 1] + inv.c,
                                                                inv.d * xy[:, 0] + inv.e * xy[:, 1] + inv.f]))
    nonempty = ~shapely.is_empty(px)
    first = cell_fractions(px[nonempty], (idx[nonempty] + 1).astype(np.int64), h, w)
    if first.pixel.size == 0:
        return centre, empty
    bpix = np.unique(first.pixel)
    cz = centre.ravel()[bpix].astype(np.int64)
    keep = cz > 0
    weights = cell_fractions(px[nonempty], (idx[nonempty] + 1).astype(np.int64), h, w, bpix[keep], cz[keep])
    interior = centre.copy()
    interior.ravel()[bpix] = 0
    return interior, weights


def zone_weights_shapely(zones: ZoneSet, grid: Grid, tile: Tile) -> tuple[np.ndarray, BoundaryWeights]:
    """Reference implementation of :func:`zone_weights` with shapely pixel-square intersections (slow; tests)."""
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
        sub = aff @ Affine.translation(c0, r0)
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
