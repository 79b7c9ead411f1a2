"""gep.spatial grid layer: tiles, grid comparison, ellipsoidal pixel areas vs pyproj.Geod, runner."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from gep.errors import InputError
from gep.spatial import (
    Grid,
    band_area_m2,
    check_same_grid,
    count_by_zone,
    grid_differences,
    iter_tiles,
    map_reduce,
    map_tiles,
    merge_counts,
    row_pixel_area_cm2,
    row_pixel_area_m2,
)

GEOD = Geod(ellps="WGS84")


def _geod_cell_area(lon0: float, lat0: float, dlon: float, dlat: float, n: int = 2000) -> float:
    """Geod polygon area of a lat/lon cell whose parallel edges are densified (geodesic ≈ parallel)."""
    top = np.linspace(lon0, lon0 + dlon, n)
    lons = np.concatenate([top, top[::-1]])
    lats = np.concatenate([np.full(n, lat0 + dlat), np.full(n, lat0)])
    area, _ = GEOD.polygon_area_perimeter(lons, lats)
    return abs(area)


@pytest.mark.parametrize("lat0,d", [(30.0, 0.00025), (45.5, 0.01), (0.0, 0.5), (-60.0, 1.0), (89.0, 1.0)])
def test_ellipsoidal_cell_area_matches_geod(lat0: float, d: float) -> None:
    ours = float(band_area_m2(lat0, lat0 + d, d))
    n = 2 if d < 0.02 else 4000
    assert ours == pytest.approx(_geod_cell_area(103.0, lat0, d, d, n), rel=1e-7)


def test_row_areas_of_geographic_grid_match_geod() -> None:
    g = Grid.from_origin("EPSG:4326", 100.0, 32.0, 0.001, 0.001, 10, 5)
    areas = row_pixel_area_m2(g)
    for r in range(5):
        lat_top = 32.0 - 0.001 * r
        assert areas[r] == pytest.approx(_geod_cell_area(100.0, lat_top - 0.001, 0.001, 0.001, 2), rel=1e-7)
    assert np.all(np.diff(areas) > 0)  # rows further south are larger
    assert row_pixel_area_cm2(g).dtype == np.int64


def test_projected_pixel_area_is_constant() -> None:
    g = Grid.from_origin("EPSG:32648", 500000, 3500000, 30, 30, 4, 3)
    assert list(row_pixel_area_m2(g)) == [900.0] * 3
    assert list(row_pixel_area_cm2(g)) == [9_000_000] * 3


def test_tiles_cover_grid_row_major() -> None:
    g = Grid.from_origin("EPSG:32648", 0, 100, 1, 1, 5, 3)
    tiles = list(iter_tiles(g, 2, 2))
    assert [t.index for t in tiles] == list(range(6))
    assert [(t.row_off, t.col_off, t.height, t.width) for t in tiles[:3]] == [(0, 0, 2, 2), (0, 2, 2, 2), (0, 4, 2, 1)]
    cover = np.zeros(g.shape, int)
    for t in tiles:
        cover[t.slices] += 1
    assert (cover == 1).all()


def test_grid_differences_name_what_differs() -> None:
    a = Grid.from_origin("EPSG:32648", 0, 100, 30, 30, 10, 10)
    assert grid_differences(a, a) == []
    b = Grid.from_origin("EPSG:4326", 0, 100, 30, 30, 10, 10)
    c = Grid.from_origin("EPSG:32648", 0, 100, 10, 10, 10, 10)
    d = Grid.from_origin("EPSG:32648", 15, 100, 30, 30, 10, 10)
    e = Grid.from_origin("EPSG:32648", 0, 100, 30, 30, 11, 10)
    assert [x.split(" ")[0] for x in grid_differences(a, b)] == ["CRS"]
    assert [x.split(" ")[0] for x in grid_differences(a, c)] == ["resolution"]
    assert [x.split(" ")[0] for x in grid_differences(a, d)] == ["origin"]
    assert [x.split(" ")[0] for x in grid_differences(a, e)] == ["size"]
    with pytest.raises(InputError) as exc:
        check_same_grid({"a.tif": a, "e.tif": e})
    assert exc.value.codes == ["GRID_MISMATCH"] and exc.value.problems[0].file == "e.tif"


def _square(tile, common):  # module-level: picklable for pools
    return tile.index * common


def test_runner_orders_results_by_tile_index() -> None:
    g = Grid.from_origin("EPSG:32648", 0, 100, 1, 1, 6, 6)
    tiles = list(iter_tiles(g, 2, 2))[::-1]
    assert map_tiles(_square, tiles, 3, scheduler="inline") == [3 * i for i in range(9)]
    assert map_tiles(_square, tiles, 3, scheduler="processes", workers=2) == [3 * i for i in range(9)]
    assert map_reduce(_square, tiles, lambda acc, x: acc + [x], [], 1, scheduler="inline") == list(range(9))


def test_count_by_zone_hand_counted() -> None:
    zone = np.array([[1, 1, 2], [0, 2, 2]], dtype=np.uint16)
    key = np.array([[3, 4, 3], [3, 3, 0]], dtype=np.int64)
    c = count_by_zone(zone, key, 5, np.array([10, 20], dtype=np.int64))
    got = {(int(z), int(k)): (int(p), int(a)) for z, k, p, a in zip(c.zone, c.key, c.pixels, c.area_cm2)}
    assert got == {(1, 3): (1, 10), (1, 4): (1, 10), (2, 3): (2, 30), (2, 0): (1, 20)}
    m = merge_counts([c, c], 5)
    assert int(m.area_cm2.sum()) == 2 * int(c.area_cm2.sum())


def test_tile_choice_bounded_and_block_aligned() -> None:
    from gep.spatial.extent import choose_tile

    g = Grid.from_origin("EPSG:32648", 0, 0, 30, 30, 40000, 40000)
    assert choose_tile(g, (512, 512)) == (1024, 1024)
    rows, cols = choose_tile(g, (1, 40000))  # striped file: full-width strips of ~1 Mpx
    assert cols == 40000 and rows * cols <= 1024 * 1024
    geo = Grid.from_origin("EPSG:4326", 70, 55, 1.0, 1.0, 100, 50)  # 1° pixels: cm² sums must stay exact
    r, c = choose_tile(geo, (50, 100))
    assert r * c * float(row_pixel_area_cm2(geo).max()) < 2**52
