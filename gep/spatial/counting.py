"""Zonal histograms of one window: integer pixel counts and integer areas (cm²) per (zone, key).

``key`` is any non-negative integer code per pixel (a class value, or a combined (from, to) code for
transitions); the caller reserves key 0 for nodata if it wants it counted. Counting is one
``np.bincount`` over ``local_zone × n_keys + key`` when that many bins are cheap, else ``np.unique``
(engineering.md §3.6: rasterize once, single-pass histogram). Areas are whole cm² (int64): exact,
so sums do not depend on tiling or reduction order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gep.spatial.zones import BoundaryWeights


@dataclass(frozen=True)
class Counts:
    """Sparse histogram: parallel int64 arrays ``zone`` (k+1), ``key``, ``pixels``, ``area_cm2``; sorted by (zone, key)."""

    zone: np.ndarray
    key: np.ndarray
    pixels: np.ndarray
    area_cm2: np.ndarray

    @staticmethod
    def empty() -> Counts:
        z = np.zeros(0, np.int64)
        return Counts(z, z, z, z)

    def __len__(self) -> int:
        return int(self.zone.size)


def _group(combined: np.ndarray, n_bins: int, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(bins present, pixel count, summed weight) of non-negative int64 codes."""
    if n_bins <= max(4 * combined.size, 1 << 16):
        cnt = np.bincount(combined, minlength=n_bins)
        present = np.flatnonzero(cnt)
        wsum = np.bincount(combined, weights=weights, minlength=n_bins)[present] if weights is not None else None
        return present, cnt[present], wsum
    present, inv, cnt = np.unique(combined, return_inverse=True, return_counts=True)
    wsum = np.bincount(inv.ravel(), weights=weights, minlength=present.size) if weights is not None else None
    return present, cnt, wsum


def count_by_zone(zone: np.ndarray, key: np.ndarray, n_keys: int, row_area_cm2: np.ndarray,
                  boundary: BoundaryWeights | None = None) -> Counts:
    """Histogram of ``key`` (h × w, int64 in [0, n_keys)) per zone value of ``zone`` (h × w, 0 = no zone).

    ``row_area_cm2`` (h,): pixel area of each row in whole cm². With ``boundary`` (coverage-fraction
    rule), those (pixel, zone, fraction) entries add round(fraction × pixel area) each; their ``pixels``
    count each (pixel, zone) pair once.
    """
    h, w = zone.shape
    z = zone.ravel()
    k = key.ravel().astype(np.int64, copy=False)
    zc = np.bincount(z)
    present = np.flatnonzero(zc)
    present = present[present > 0]
    parts: list[Counts] = []
    if present.size:
        lut = np.zeros(zc.size, dtype=np.int64)  # local zone 0 = outside every zone, dropped below
        lut[present] = np.arange(1, present.size + 1)
        combined = lut[z] * n_keys + k
        n_bins = (present.size + 1) * n_keys
        constant = bool(np.all(row_area_cm2 == row_area_cm2[0]))
        weights = None if constant else np.repeat(row_area_cm2.astype(np.float64), w)
        bins, cnt, wsum = _group(combined, n_bins, weights)
        local, kk = bins // n_keys, bins % n_keys
        inside = local > 0
        area = cnt * int(row_area_cm2[0]) if constant else np.rint(wsum).astype(np.int64)
        parts.append(Counts(present[local[inside] - 1].astype(np.int64), kk[inside].astype(np.int64),
                            cnt[inside].astype(np.int64), area[inside].astype(np.int64)))
    if boundary is not None and boundary.pixel.size:
        bk = k[boundary.pixel]
        bar = np.rint(boundary.fraction * row_area_cm2[boundary.pixel // w]).astype(np.int64)
        parts.append(merge_counts([Counts(boundary.zone.astype(np.int64), bk, np.ones(bk.size, np.int64), bar)],
                                  n_keys))
    return merge_counts(parts, n_keys)


def merge_counts(parts: Sequence[Counts], n_keys: int) -> Counts:
    """Sum several histograms by (zone, key) (integers: exact and order-independent), sorted by (zone, key)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return Counts.empty()
    if len(parts) == 1 and _is_sorted_unique(parts[0], n_keys):
        return parts[0]
    zone = np.concatenate([p.zone for p in parts])
    key = np.concatenate([p.key for p in parts])
    combined = zone * n_keys + key
    u, inv = np.unique(combined, return_inverse=True)
    inv = inv.ravel()
    pixels = np.zeros(u.size, np.int64)
    area = np.zeros(u.size, np.int64)
    np.add.at(pixels, inv, np.concatenate([p.pixels for p in parts]))
    np.add.at(area, inv, np.concatenate([p.area_cm2 for p in parts]))
    return Counts(u // n_keys, u % n_keys, pixels, area)


def _is_sorted_unique(c: Counts, n_keys: int) -> bool:
    comb = c.zone * n_keys + c.key
    return bool(np.all(comb[1:] > comb[:-1]))
