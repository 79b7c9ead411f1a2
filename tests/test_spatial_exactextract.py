"""Coverage-fraction rule vs exactextract, and the built-in Sichuan county zones on a geographic raster."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
import shapely

from gep.regions import load_registry
from gep.spatial import ZoneSet
from gep.spatial.extent import raster_extent
from gep.spatial.io import registry_zones
from tests._spatial_fixtures import RES, UTM48, X0, Y0, write_raster


def test_fraction_mode_agrees_with_exactextract(tmp_path: Path) -> None:
    import exactextract
    rng = np.random.default_rng(3)
    data = rng.integers(1, 6, size=(120, 150), dtype=np.uint8)
    path = write_raster(tmp_path / "lc.tif", data, nodata=None)
    pts = [(300, 300, 250), (900, 350, 300), (1300, 900, 180)]  # zones must not overlap (counties do not)
    geoms = [shapely.Point(X0 + x, Y0 - y).buffer(r, quad_segs=7) for x, y, r in pts]
    geoms.append(shapely.Polygon([(X0 + 33.3, Y0 - 1190), (X0 + 600.7, Y0 - 701.1), (X0 + 1111.1, Y0 - 1177.7)]))
    ids = [f"Z{i}" for i in range(len(geoms))]
    ours = raster_extent({2020: path}, ZoneSet(ids, np.array(geoms), UTM48), coverage="fraction", scheduler="inline")
    px_ha = RES * RES / 1e4
    got = {(r, int(c)): a / px_ha for r, c, a in ours.extent.select("region_id", "class", "area_ha").iter_rows()}
    feats = [{"type": "Feature", "properties": {"zid": i}, "geometry": shapely.geometry.mapping(g)} for i, g in zip(ids, geoms)]
    ee = exactextract.exact_extract(str(path), feats, ["unique", "frac", "count"], include_cols=["zid"], output="geojson")
    want = {}
    for f in ee:
        p = f["properties"]
        for v, fr in zip(p["unique"], p["frac"]):
            want[(p["zid"], int(v))] = fr * p["count"]
    assert set(got) == set(want)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, abs=1e-4), k  # pixels (cm² rounding ≤ 5e-7 px per boundary pixel)
    # and the centre rule differs only on boundary pixels
    centre = raster_extent({2020: path}, ZoneSet(ids, np.array(geoms), UTM48), scheduler="inline")
    diff = abs(centre.extent["area_ha"].sum() - ours.extent["area_ha"].sum()) / ours.extent["area_ha"].sum()
    assert diff < 0.02


def test_sichuan_counties_on_a_geographic_raster(tmp_path: Path) -> None:
    reg = load_registry("sichuan")
    d = 0.002
    x0, y0, w, h = 103.95, 30.75, 150, 125  # central Chengdu, EPSG:4326
    data = np.full((h, w), 2, dtype=np.uint8)
    path = write_raster(tmp_path / "cd.tif", data, crs="EPSG:4326", x0=x0, y0=y0, res=d, nodata=None)
    res = raster_extent({2020: path}, registry_zones(reg), coverage="fraction", scheduler="inline")
    cov = res.coverage.filter(pl.col("pixels") > 0)
    inner = cov.filter(pl.col("region_id") == "510104")  # 锦江区 lies wholly inside the raster
    # raster area (ellipsoidal rows × exact fractions) = the county's ellipsoidal polygon area
    assert inner["covered_share"][0] == pytest.approx(1.0, abs=2e-3)
    assert inner["zone_area_ha"][0] == pytest.approx(60.7 * 100, rel=0.02)  # registry area_km2 (Albers)
    assert "ZONE_PARTLY_COVERED" in [w.code for w in res.warnings]
