"""Zonal sums that do not depend on how a raster is cut into tiles.

A float64 sum depends on the order of its terms, so summing tile by tile and
summing the whole raster would differ in the last bits. Here every pixel value is
rounded to a fixed quantum (2⁻²⁰ ≈ 9.5 × 10⁻⁷ of the output unit: 1 mL, 1 g, 1 Wh)
and split into two integer-valued float64 parts; integer-valued float64 sums are
exact while below 2⁵³, so the per-zone totals are the same for any tiling, any
order of tiles and any executor (in-process, process pool, Dask).

Limits: |pixel value| < 2³² units (checked) and < 2²⁷ pixels per zone and tile
(134 M pixels; a 10,000 × 10,000 raster in one tile is 100 M). The rounding error
of a zone total is at most n_pixels × 2⁻²¹ units.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

QUANTUM: float = 2.0 ** -20
_SPLIT: float = 2.0 ** 26
_MAX_ABS: float = 2.0 ** 32
_SPLIT_INT: int = 2 ** 26
_DENOM: int = 2 ** 20


class ZonalAccumulator:
    """Exact per-zone sums of several quantities over tiles (order-independent).

    ``n_zones`` zones numbered 0..n_zones−1 (the caller maps zone ids to indexes);
    ``names`` the quantities. :meth:`add` a tile, :meth:`merge` partial accumulators,
    :meth:`totals` the float totals.
    """

    def __init__(self, n_zones: int, names: tuple[str, ...]):
        self.n_zones = n_zones
        self.names = names
        self.hi = {n: np.zeros(n_zones, dtype=np.int64) for n in names}
        self.lo = {n: np.zeros(n_zones, dtype=np.int64) for n in names}
        self.count = np.zeros(n_zones, dtype=np.int64)
        self.keys: npt.NDArray[np.int64] | None = None
        """After :meth:`sparsify`: the zone indexes the arrays hold (None = all zones)."""

    def add(self, zone_index: npt.NDArray[np.integer], values: dict[str, npt.NDArray[np.float64]],
            valid: npt.NDArray[np.bool_]) -> None:
        """Add the valid pixels of one tile; ``zone_index`` < 0 means outside every zone."""
        sel = valid & (zone_index >= 0)
        z = zone_index[sel]
        self.count += np.bincount(z, minlength=self.n_zones)
        for name in self.names:
            v = values[name]
            if v.dtype == np.bool_:  # a pixel count: integer bincount, no rounding
                self.lo[name] += np.bincount(z[v[sel]], minlength=self.n_zones).astype(np.int64) * _DENOM
                continue
            v = np.broadcast_to(v, sel.shape)[sel]
            if v.size and float(np.max(np.abs(v))) >= _MAX_ABS:
                raise ValueError(f"{name}: a pixel value of {float(np.max(np.abs(v))):.3g} is too large for "
                                 "the exact zonal sum (limit 2^32 units per pixel); use a larger output unit")
            n = np.rint(v / QUANTUM)
            hi = np.floor(n / _SPLIT)
            lo = n - hi * _SPLIT
            # integer-valued float64 sums below 2^53 are exact; carried on in int64
            self.hi[name] += np.bincount(z, weights=hi, minlength=self.n_zones).astype(np.int64)
            self.lo[name] += np.bincount(z, weights=lo, minlength=self.n_zones).astype(np.int64)

    def sparsify(self) -> ZonalAccumulator:
        """Keep only zones with pixels (a tile meets few of thousands of zones): small to send and to hold."""
        keys = np.flatnonzero(self.count)
        for name in self.names:
            self.hi[name] = self.hi[name][keys]
            self.lo[name] = self.lo[name][keys]
        self.count = self.count[keys]
        self.keys = keys
        return self

    def merge(self, other: ZonalAccumulator) -> None:
        """Add another (dense or sparse) accumulator's partial sums (exact, so order does not matter)."""
        if self.keys is not None:
            raise ValueError("merge into a dense accumulator")
        idx = other.keys if other.keys is not None else slice(None)
        for name in self.names:
            self.hi[name][idx] += other.hi[name]
            self.lo[name][idx] += other.lo[name]
        self.count[idx] += other.count

    def totals(self) -> dict[str, npt.NDArray[np.float64]]:
        """Per-zone totals in the output unit (exact integer arithmetic, then one rounding to float)."""
        out: dict[str, npt.NDArray[np.float64]] = {}
        for name in self.names:
            # Python int arithmetic is exact; int / int is correctly rounded
            vals = [(int(h) * _SPLIT_INT + int(lo_)) / _DENOM
                    for h, lo_ in zip(self.hi[name], self.lo[name], strict=True)]
            out[name] = np.asarray(vals, dtype=np.float64)
        return out
