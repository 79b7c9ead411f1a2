"""Raster extent: hand-counted 4 × 4 rasters, two zones, transitions, coverage, fraction rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
import shapely
from pyproj import Transformer

from gep.coefficients import load_crosswalk
from gep.spatial import ZoneSet
from gep.spatial.extent import raster_extent
from gep.spatial.io import load_zone_file
from tests._spatial_fixtures import LC2015, LC2020, UTM48, X0, Y0, half_zones, write_raster, write_zones


def _rows(df: pl.DataFrame) -> dict:
    keys = [c for c in df.columns if c != "area_ha"]
    return {tuple(r[:-1]): round(r[-1], 10) for r in df.select(*keys, "area_ha").iter_rows()}


@pytest.fixture()
def pair(tmp_path: Path) -> dict[int, Path]:
    return {2015: write_raster(tmp_path / "lc2015.tif", LC2015), 2020: write_raster(tmp_path / "lc2020.tif", LC2020)}


@pytest.fixture()
def zones(tmp_path: Path) -> ZoneSet:
    ids, geoms = half_zones()
    return load_zone_file(write_zones(tmp_path / "zones.gpkg", ids, geoms), "CODE")


def test_extent_hand_counted(pair: dict[int, Path], zones: ZoneSet) -> None:
    res = raster_extent(pair, zones, scheduler="inline")
    # 1 pixel = 10 m × 10 m = 0.01 ha; A = left two columns, B = right two (one nodata pixel in 2015)
    assert _rows(res.extent) == {
        ("A", 2015, "1"): 0.04, ("A", 2015, "3"): 0.03, ("A", 2015, "4"): 0.01, ("B", 2015, "2"): 0.07,
        ("A", 2020, "1"): 0.03, ("A", 2020, "2"): 0.01, ("A", 2020, "3"): 0.03, ("A", 2020, "4"): 0.01,
        ("B", 2020, "2"): 0.07, ("B", 2020, "5"): 0.01,
    }
    assert res.extent.columns == ["region_id", "year", "class", "area_ha"]
    assert _rows(res.transitions) == {
        ("A", 2015, 2020, "1", "1"): 0.03, ("A", 2015, 2020, "1", "2"): 0.01, ("A", 2015, 2020, "3", "3"): 0.03,
        ("A", 2015, 2020, "4", "4"): 0.01, ("B", 2015, 2020, "2", "2"): 0.06, ("B", 2015, 2020, "2", "5"): 0.01,
    }
    cov = res.coverage.filter(pl.col("year") == 2015).sort("region_id")
    assert cov["pixels"].to_list() == [8, 8]
    assert cov["nodata_pixels"].to_list() == [0, 1]
    assert cov["nodata_share"].to_list() == [0.0, 0.125]
    assert cov["raster_area_ha"].to_list() == [0.08, 0.08]
    assert cov["valid_area_ha"].to_list() == [0.08, 0.07]
    # polygon area: 20 m × 40 m = 0.08 ha in UTM; ellipsoidal area differs by the UTM scale factor (< 0.2 %)
    assert cov["zone_area_ha"].to_list() == pytest.approx([0.08, 0.08], rel=2e-3)
    assert [w.code for w in res.warnings] == ["AREA_NOT_EQUAL_AREA", "NODATA_DIFFERS", "NODATA_IN_ZONE"]


def test_extent_with_crosswalk_names_classes(pair: dict[int, Path], zones: ZoneSet) -> None:
    res = raster_extent(pair, zones, crosswalk=load_crosswalk("clcd"), crosswalk_name="clcd", scheduler="inline")
    a2015 = res.extent.filter((pl.col("region_id") == "A") & (pl.col("year") == 2015))
    assert dict(a2015.select("class", "area_ha").iter_rows()) == {"Cropland": 0.04, "Shrub": 0.03, "Grassland": 0.01}
    assert ("B", 2015, 2020, "Forest", "Water") in _rows(res.transitions)


def test_zones_in_another_crs_are_reprojected(tmp_path: Path, pair: dict[int, Path]) -> None:
    ids, geoms = half_zones()
    tr = Transformer.from_crs(UTM48, "EPSG:4326", always_xy=True)
    dense = [shapely.segmentize(g, 1.0) for g in geoms]
    ll = [shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))) for g in dense]
    z = load_zone_file(write_zones(tmp_path / "zones_ll.geojson", ids, ll, crs="EPSG:4326", driver="GeoJSON"), "CODE")
    res = raster_extent({2015: pair[2015]}, z, scheduler="inline")
    assert _rows(res.extent) == {("A", 2015, "1"): 0.04, ("A", 2015, "3"): 0.03, ("A", 2015, "4"): 0.01,
                                 ("B", 2015, "2"): 0.07}


def test_geographic_raster_uses_ellipsoidal_row_areas(tmp_path: Path) -> None:
    d = 0.001
    data = np.array([[1, 2], [1, 1]], dtype=np.uint8)
    path = write_raster(tmp_path / "ll.tif", data, crs="EPSG:4326", x0=104.0, y0=30.0, res=d, nodata=None)
    zone = ZoneSet(["Z"], np.array([shapely.box(104.0, 30.0 - 2 * d, 104.0 + 2 * d, 30.0)]), "EPSG:4326")
    res = raster_extent({2020: path}, zone, scheduler="inline")
    from pyproj import Geod
    geod = Geod(ellps="WGS84")

    def cell(lat0: float) -> float:
        return abs(geod.polygon_area_perimeter([104, 104 + d, 104 + d, 104], [lat0, lat0, lat0 + d, lat0 + d])[0])

    top, bottom = cell(30.0 - d), cell(30.0 - 2 * d)
    got = dict(res.extent.select("class", "area_ha").iter_rows())
    assert got["2"] == pytest.approx(top / 1e4, rel=1e-7)
    assert got["1"] == pytest.approx((top + 2 * bottom) / 1e4, rel=1e-7)
    assert res.warnings == []


def test_fraction_coverage_hand_computed(tmp_path: Path) -> None:
    # zones split the 4 × 4 raster at x = X0 + 25 m: column 2 (x 20–30 m) is half in A, half in B
    data = np.array([[1, 1, 2, 2]] * 4, dtype=np.uint8)
    path = write_raster(tmp_path / "lc.tif", data, nodata=None)
    geoms = [shapely.box(X0, Y0 - 40, X0 + 25, Y0), shapely.box(X0 + 25, Y0 - 40, X0 + 40, Y0)]
    z = ZoneSet(["A", "B"], np.array(geoms), UTM48)
    centre = _rows(raster_extent({2020: path}, z, scheduler="inline").extent)
    frac = raster_extent({2020: path}, z, coverage="fraction", scheduler="inline")
    # centre rule: column 2 centres (x = 25 m) lie on the boundary → GDAL gives them to A
    assert centre == {("A", 2020, "1"): 0.08, ("A", 2020, "2"): 0.04, ("B", 2020, "2"): 0.04}
    # fraction rule: column 2 pixels split 50 / 50 → A gets 4 × 0.5 px of class 2, B gets 4 × 1.5 px
    assert _rows(frac.extent) == {("A", 2020, "1"): 0.08, ("A", 2020, "2"): 0.02, ("B", 2020, "2"): 0.06}
    # a triangle: hand-computed share of each pixel
    tri = ZoneSet(["T"], np.array([shapely.Polygon([(X0, Y0), (X0 + 40, Y0), (X0, Y0 - 40)])]), UTM48)
    res = raster_extent({2020: path}, tri, coverage="fraction", scheduler="inline")
    # the diagonal halves 4 pixels; above it 6 whole pixels: 6 + 4 × 0.5 = 8 px = 0.08 ha in total
    assert res.extent["area_ha"].sum() == pytest.approx(0.08, abs=1e-12)
    # class 1 (columns 0–1): rows 0–1 whole (3 px) + diagonal pixels (0,0)? no: (1,1) and (0,0)... count by rows:
    # row 0: cols 0,1,2 whole, col 3 half; row 1: cols 0,1 whole, col 2 half; row 2: col 0 whole, col 1 half;
    # row 3: col 0 half → class 1 = 2+2+1.5+0.5 = 6 px, class 2 = 1.5 + 0.5 = 2 px
    assert dict(res.extent.select("class", "area_ha").iter_rows()) == {"1": pytest.approx(0.06), "2": pytest.approx(0.02)}


def test_tiling_and_process_pool_give_identical_tables(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    a = rng.integers(1, 10, size=(300, 260), dtype=np.uint8)
    b = np.where(rng.random((300, 260)) < 0.1, rng.integers(1, 10, size=(300, 260)), a).astype(np.uint8)
    p0 = write_raster(tmp_path / "a.tif", a, tiled=True, block=64)
    p1 = write_raster(tmp_path / "b.tif", b, tiled=True, block=64)
    geoms = [shapely.Point(X0 + x, Y0 - y).buffer(r) for x, y, r in [(800, 900, 700), (2000, 1500, 900), (1300, 2600, 600)]]
    z = ZoneSet(["1", "2", "3"], np.array(geoms), UTM48)
    outs = []
    for kw in ({"scheduler": "inline", "tile_size": 4096}, {"scheduler": "inline", "tile_size": 64},
               {"scheduler": "processes", "workers": 2, "tile_size": 64}):
        for cov in ("centre", "fraction"):
            r = raster_extent({2015: p0, 2020: p1}, z, coverage=cov, **kw)
            outs.append((cov, r.extent.write_csv(), r.transitions.write_csv(), r.coverage.write_csv()))
    centre = [o for o in outs if o[0] == "centre"]
    frac = [o for o in outs if o[0] == "fraction"]
    assert all(o == centre[0] for o in centre) and all(o == frac[0] for o in frac)


def test_cloud_optimized_geotiff_gives_the_same_extent(tmp_path: Path, pair: dict[int, Path], zones: ZoneSet) -> None:
    import rasterio

    cog = tmp_path / "lc2015_cog.tif"
    with rasterio.open(pair[2015]) as src:
        profile = src.profile | {"driver": "COG", "blocksize": 256}
        profile.pop("blockxsize", None), profile.pop("blockysize", None), profile.pop("tiled", None)
        with rasterio.open(cog, "w", **profile) as dst:
            dst.write(src.read(1), 1)
    a = raster_extent({2015: pair[2015]}, zones, scheduler="inline")
    b = raster_extent({2015: cog}, zones, scheduler="inline")
    assert a.extent.write_csv() == b.extent.write_csv()
