"""Coverage-fraction kernel (vectorised sweep) vs the shapely pixel-square reference and hand values."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from gep.spatial import Grid, ZoneSet
from gep.spatial.zones import cell_fractions, zone_weights, zone_weights_shapely


def _dense(interior: np.ndarray, b, nz: int) -> np.ndarray:
    w = np.zeros((nz + 1, interior.size))
    w[interior.ravel(), np.arange(interior.size)] = 1
    np.add.at(w, (b.zone, b.pixel), b.fraction)
    return w[1:]


@pytest.mark.parametrize("seed", range(4))
def test_kernel_matches_shapely_reference(seed: int) -> None:
    g = Grid.from_origin("EPSG:32648", 0, 100, 1, 1, 100, 100)
    rng = np.random.default_rng(seed)
    pts = shapely.multipoints(rng.random((30, 2)) * 120 - 10)
    cells = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(pts)), shapely.box(-5, -5, 105, 105))
    cells[3] = cells[3].difference(cells[3].centroid.buffer(3.3))  # a hole (or a multipolygon)
    if seed % 2:  # edges on pixel lines
        cells = np.array([shapely.box(-5, -5, 50, 40), shapely.box(50, -5, 105, 40),
                          shapely.box(-5, 40, 105, 105).difference(shapely.box(20, 60, 30, 70))])
    zs = ZoneSet([str(i) for i in range(len(cells))], cells, g.crs_wkt)
    for t in g.tiles(37, 41):
        i1, b1 = zone_weights(zs, g, t)
        i2, b2 = zone_weights_shapely(zs, g, t)
        assert np.abs(_dense(i1, b1, len(cells)) - _dense(i2, b2, len(cells))).max() < 1e-9


def test_hand_computed_fractions() -> None:
    # triangle (0,0)-(2,0)-(0,2) in pixel coordinates (v down): cells (0,0) 1, (0,1) ½, (1,0) ½, (1,1) 0
    tri = shapely.Polygon([(0, 0), (2, 0), (0, 2)])
    b = cell_fractions(np.array([tri]), np.array([1]), 2, 2)
    got = {int(p): round(float(f), 12) for p, f in zip(b.pixel, b.fraction)}
    assert got == {0: 1.0, 1: 0.5, 2: 0.5}
    # a square with a hole: 0.25 × 0.25 hole in cell (1,1) of a 3 × 3 square
    sq = shapely.box(0, 0, 3, 3).difference(shapely.box(1.25, 1.25, 1.5, 1.5))
    b = cell_fractions(np.array([sq]), np.array([1]), 3, 3)
    assert dict(zip(b.pixel.tolist(), b.fraction.round(12).tolist()))[4] == 1 - 0.0625
