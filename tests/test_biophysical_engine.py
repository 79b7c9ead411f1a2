"""Raster driver of gep.biophysical: hand-computed pixels through files, tiling, schedulers, bad inputs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import rasterio
from numpy.testing import assert_allclose
from pyproj import Transformer
from rasterio.transform import from_origin

from gep.biophysical import engine as E
from gep.biophysical import params as PR
from gep.biophysical.step import read_zones, reconcile_carbon, run_rasters
from gep.biophysical.zonal import QUANTUM
from gep.coefficients import load_set
from gep.errors import InputError

DEMO = Path(__file__).resolve().parents[1] / "gep" / "demo_data" / "rasters" / "biophysical"
UTM = "EPSG:32648"  # projected, 30 m pixels → 900 m² each


def _tif(path: Path, arr: np.ndarray, nodata: float | None = -9999.0, x0: float = 500_000.0,
         y0: float = 3_500_000.0, res: float = 30.0, crs: str = UTM) -> Path:
    a = arr if arr.ndim == 3 else arr[None]
    with rasterio.open(path, "w", driver="GTiff", width=a.shape[2], height=a.shape[1], count=a.shape[0],
                       dtype=str(a.dtype), crs=crs, transform=from_origin(x0, y0, res, res), nodata=nodata) as ds:
        ds.write(a)
    return path


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "中文 栅格"
    d.mkdir()
    return d


def _classes(folder: Path) -> Path:
    p = folder / "classes.csv"
    p.write_text("code,ecosystem_type\n1,阔叶\n2,旱地\n3,水系\n", encoding="utf-8")
    return p


def _params(folder: Path) -> E.Params:
    params, _ = PR.resolve(load_set("biophysical_cn"), PR.load_classes(_classes(folder)))
    return params


def _r(role: str, path: Path, unit: str) -> E.RasterInput:
    return E.RasterInput(role, str(path), unit, path.name)


def _tiny(folder: Path, **override: np.ndarray) -> dict[str, E.RasterInput]:
    """3 × 4 grid; zone 1 = the interior pixel (1, 1), zone 2 = pixel (1, 2), zone 3 = the rest."""
    lc = np.array([[1, 1, 1, 1], [1, 1, 2, 3], [1, 1, 1, 1]], dtype=np.uint8)
    dem = np.tile(np.arange(4, dtype=np.float32) * 3.0, (3, 1))  # dz/dx = 0.1 inside
    arrays = {
        "landcover": lc,
        "precipitation": np.full((3, 4), 1000.0, dtype=np.float32),
        "et": np.full((3, 4), 500.0, dtype=np.float32),
        "dem": dem,
        "r_factor": np.full((3, 4), 4000.0, dtype=np.float32),
        "k_factor": np.full((3, 4), 0.03, dtype=np.float32),
        "nep": np.full((3, 4), 300.0, dtype=np.float32),
    }
    arrays.update(override)
    units = {"landcover": "", "precipitation": "mm", "et": "mm", "dem": "m", "r_factor": "MJ·mm/(ha·h·yr)",
             "k_factor": "t·ha·h/(ha·MJ·mm)", "nep": "g C/m2/yr", "temperature": "°C"}
    out = {}
    for role, arr in arrays.items():
        out[role] = _r(role, _tif(folder / f"{role}.tif", arr, nodata=255 if role == "landcover" else -9999.0),
                       units[role])
    zones = np.full((3, 4), 3, dtype=np.int32)
    zones[1, 1], zones[1, 2] = 1, 2
    _tif(folder / "zones.tif", zones, nodata=0)
    return out


def _zones(folder: Path) -> E.RasterInput:
    return _r("zones", folder / "zones.tif", "")


def _detail(res: E.BiophysicalResult, region: str, column: str) -> float:
    return float(res.detail.filter(pl.col("region_id") == region)[column].sum())


def test_hand_computed_pixels_through_rasters(folder: Path) -> None:
    rasters = _tiny(folder)
    res = E.run(rasters, _params(folder), E.Options(), 2020, zone_raster=_zones(folder), tile_size=2)
    # zone 1 = one 阔叶 pixel of 900 m² (rtol 1e-6: K = 0.03 is stored as float32)
    # water: P 1000 − R (1000 × 0.04 = 40) − ET 500 = 460 mm → 460 × 900 / 1000 = 414 m³
    assert_allclose(_detail(res, "1", "water_m3"), 414.0, atol=QUANTUM)
    # soil: slope atan(0.1) = 5.7106°, S (Liu, ≥ 5°) = 16.8 sin − 0.5 = 1.1716625; m(10 %) = 0.5179453,
    # λ = pixel width 30 m → L = (30/22.13)^m; R·K = 120 t/ha; C 0.004, P 1 → retention = RK·LS·0.996 × 0.09 ha
    s = 16.8 * math.sin(math.atan(0.1)) - 0.5
    ls = (30 / 22.13) ** 0.5179452588202286 * s
    assert_allclose(_detail(res, "1", "soil_retention_t"), 120 * ls * (1 - 0.004) * 0.09, rtol=1e-6)
    assert_allclose(_detail(res, "1", "soil_potential_t"), 120 * ls * 0.09, rtol=1e-6)
    # sediment: retention / 0.93 × 0.24; N × 0.37 %
    ret = _detail(res, "1", "soil_retention_t")
    assert_allclose(_detail(res, "1", "sediment_m3"), ret / 0.93 * 0.24, rtol=1e-6)
    assert_allclose(_detail(res, "1", "soil_n_t"), ret * 0.0037, rtol=1e-5)
    # carbon: 300 g C/m² × 900 m² = 0.27 t C → 0.99 t CO2; O2 = 0.99 × 1.20/1.63
    # (t C is summed to the quantum 2^-20 t ≈ 1 g, then × 44/12)
    assert_allclose(_detail(res, "1", "carbon_t_c"), 0.27, atol=QUANTUM)
    assert_allclose(_detail(res, "1", "co2_t"), 0.99, atol=QUANTUM * 44 / 12)
    assert_allclose(_detail(res, "1", "o2_t"), 0.99 * 1.2 / 1.63, atol=QUANTUM * 44 / 12)
    # climate: 500 mm × 900 m² = 450 m³ × 1e6 g × 2450 J/g / 3.6e6 / r 3 = 102,083.33 kWh
    assert_allclose(_detail(res, "1", "climate_vegetation_kwh"), 450 * 1e6 * 2450 / 3.6e6 / 3, atol=QUANTUM)
    # zone 2 = one 旱地 pixel: R = 400 → Q = 100 mm → 90 m³; C 0.31 × P 0.40
    assert_allclose(_detail(res, "2", "water_m3"), 90.0, atol=QUANTUM)
    assert_allclose(_detail(res, "2", "soil_retention_t"), 120 * ls * (1 - 0.31 * 0.4) * 0.09, rtol=1e-6)
    # quantities rows: service names and units the function-value set prices
    q = res.quantities.filter(pl.col("region_id") == "1")
    assert set(zip(q["service"], q["component"], q["unit"], strict=True)) >= {
        ("water_conservation", "", "m3"), ("soil_retention", "", "t"), ("carbon_sequestration", "co2", "t CO2"),
        ("oxygen_release", "o2", "t"), ("climate_regulation", "vegetation", "kWh")}
    assert list(res.quantities.columns[:7]) == list(E.QUANTITY_COLUMNS)


def test_negative_balance_clipped_and_reported(folder: Path) -> None:
    et = np.full((3, 4), 500.0, dtype=np.float32)
    et[1, 1] = 1200.0  # zone 1: 1000 − 40 − 1200 = −240 mm → −216 m³, clipped to 0
    res = E.run(_tiny(folder, et=et), _params(folder), E.Options(), 2020, zone_raster=_zones(folder))
    assert _detail(res, "1", "water_m3") == 0.0
    assert_allclose(_detail(res, "1", "water_negative_m3"), -216.0, atol=QUANTUM)
    assert _detail(res, "1", "water_negative_pixels") == 1
    assert [w.code for w in res.warnings] == ["NEGATIVE_WATER_BALANCE"]
    assert "1 of 1 pixels" in res.warnings[0].message
    keep = E.run(_tiny(folder, et=et), _params(folder), E.Options(negative_water="keep"), 2020,
                 zone_raster=_zones(folder))
    assert_allclose(_detail(keep, "1", "water_m3"), -216.0, atol=QUANTUM)


def test_water_mass_balance_on_demo() -> None:
    res = _demo_run(tile_size=40)
    d = res.detail
    # clipped + negative part = raw balance, zone by zone and type by type
    assert_allclose(d["water_m3"] + d["water_negative_m3"], d["water_raw_m3"], atol=1e-6)


def _demo_rasters() -> dict[str, E.RasterInput]:
    files = {"landcover": ("landcover_synthetic.tif", ""), "precipitation": ("precipitation_mm_synthetic.tif", "mm"),
             "et": ("et_mm_synthetic.tif", "mm"), "dem": ("dem_m_synthetic.tif", "m"),
             "r_factor": ("r_factor_synthetic.tif", "MJ·mm/(ha·h·yr)"),
             "k_factor": ("k_factor_synthetic.tif", "t·ha·h/(ha·MJ·mm)"), "nep": ("nep_gc_m2_synthetic.tif", "g C/m2/yr")}
    return {role: _r(role, DEMO / f, u) for role, (f, u) in files.items()}


def _demo_run(tile_size: int = 1024, scheduler: object = "inline", workers: int | None = None) -> E.BiophysicalResult:
    params, _ = PR.resolve(load_set("biophysical_cn"), PR.load_classes(DEMO / "landcover_classes_synthetic.csv"))
    return run_rasters(_demo_rasters(), params, E.Options(slope_length_m=60.0), 2020,
                       str(DEMO / "zones_synthetic.tif"), "zones_synthetic.tif", tile_size=tile_size,
                       scheduler=scheduler, workers=workers)


def test_tiles_and_schedulers_give_identical_bytes() -> None:
    whole = _demo_run(tile_size=1024)
    ref = whole.quantities.write_csv(float_precision=None) + whole.detail.write_csv(float_precision=None)
    for tile_size, scheduler, workers in ((7, "inline", None), (33, "inline", None), (25, "processes", 2)):
        res = _demo_run(tile_size, scheduler, workers)
        assert res.quantities.write_csv(float_precision=None) + res.detail.write_csv(float_precision=None) == ref
    assert whole.quantities["region_id"].unique().sort().to_list() == ["513221", "513222", "513223"]


def test_dask_gives_identical_bytes() -> None:
    import distributed
    whole = _demo_run()
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
        res = _demo_run(tile_size=30, scheduler=client)
    assert res.quantities.write_csv(float_precision=None) == whole.quantities.write_csv(float_precision=None)


def test_pixel_outputs_identical_across_tiles() -> None:
    params, _ = PR.resolve(load_set("biophysical_cn"), PR.load_classes(DEMO / "landcover_classes_synthetic.csv"))
    a = run_rasters(_demo_rasters(), params, E.Options(), 2020, str(DEMO / "zones_synthetic.tif"), "z",
                    tile_size=1024, keep_pixels=True)
    b = run_rasters(_demo_rasters(), params, E.Options(), 2020, str(DEMO / "zones_synthetic.tif"), "z",
                    tile_size=13, keep_pixels=True)
    assert a.pixels is not None and b.pixels is not None
    for name in a.pixels:
        assert a.pixels[name].tobytes() == b.pixels[name].tobytes()


def test_polygon_zones_match_zone_raster(folder: Path) -> None:
    rasters = _tiny(folder)
    x0, y0 = 500_000.0, 3_500_000.0
    # zone "1" = pixel (1,1), zone "2" = pixel (1,2) as squares; zone "3" omitted
    def sq(c: int, r: int) -> str:
        xa, xb, ya, yb = x0 + 30 * c, x0 + 30 * (c + 1), y0 - 30 * (r + 1), y0 - 30 * r
        return f"[[[{xa},{ya}],[{xb},{ya}],[{xb},{yb}],[{xa},{yb}],[{xa},{ya}]]]"
    gj = folder / "zones.geojson"
    gj.write_text('{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::32648"}},'
                  '"features":[{"type":"Feature","properties":{"region_id":"1"},"geometry":{"type":"Polygon",'
                  f'"coordinates":{sq(1, 1)}}}}},{{"type":"Feature","properties":{{"region_id":"2"}},"geometry":'
                  f'{{"type":"Polygon","coordinates":{sq(2, 1)}}}}}]}}', encoding="utf-8")
    params = _params(folder)
    by_poly = run_rasters(rasters, params, E.Options(), 2020, str(gj), gj.name)
    by_raster = E.run(rasters, params, E.Options(), 2020, zone_raster=_zones(folder))
    for col in ("water_m3", "soil_retention_t", "co2_t"):
        for z in ("1", "2"):
            assert _detail(by_poly, z, col) == _detail(by_raster, z, col)
    # the same polygons in lon/lat are reprojected onto the UTM grid
    grid, _, _ = E.open_grid(rasters["landcover"])
    zs = read_zones(gj, "region_id", grid.crs_wkt, gj.name)
    assert zs.ids == ["1", "2"]


def test_units_are_converted(folder: Path) -> None:
    # precipitation in m (1.0 m = 1000 mm), NEP in t C/ha/yr (3 t C/ha = 300 g C/m²): same results as mm / g C/m²
    base = E.run(_tiny(folder), _params(folder), E.Options(), 2020, zone_raster=_zones(folder))
    r = _tiny(folder, precipitation=np.full((3, 4), 1.0, dtype=np.float32), nep=np.full((3, 4), 3.0, dtype=np.float32))
    r["precipitation"] = E.RasterInput("precipitation", r["precipitation"].path, "m", "p.tif")
    r["nep"] = E.RasterInput("nep", r["nep"].path, "t C/ha/yr", "nep.tif")
    conv = E.run(r, _params(folder), E.Options(), 2020, zone_raster=_zones(folder))
    for col in ("water_m3", "co2_t"):
        assert_allclose(_detail(conv, "1", col), _detail(base, "1", col), rtol=1e-5)


@pytest.mark.parametrize(("role", "unit", "code"), [
    ("precipitation", "kg", "UNIT_MISMATCH"), ("r_factor", "hundreds of ft·tonf·in/(ac·h·yr)", "UNKNOWN_UNIT"),
    ("nep", "mm", "UNIT_MISMATCH"), ("dem", "furlong", "UNKNOWN_UNIT")])
def test_bad_units_refused(folder: Path, role: str, unit: str, code: str) -> None:
    r = _tiny(folder)
    r[role] = E.RasterInput(role, r[role].path, unit, f"{role}.tif")
    with pytest.raises(InputError) as exc:
        E.run(r, _params(folder), E.Options(), 2020, zone_raster=_zones(folder))
    assert code in exc.value.codes
    assert f"{role}.tif" in exc.value.render()


def test_grid_mismatch_names_the_raster(folder: Path) -> None:
    r = _tiny(folder)
    _tif(folder / "et_shifted.tif", np.full((3, 4), 500.0, dtype=np.float32), x0=500_015.0)
    r["et"] = _r("et", folder / "et_shifted.tif", "mm")
    with pytest.raises(InputError) as exc:
        E.run(r, _params(folder), E.Options(), 2020, zone_raster=_zones(folder))
    assert exc.value.codes == ["GRID_MISMATCH"]
    assert "et_shifted.tif" in exc.value.render() and "origin" in exc.value.render()


def test_out_of_range_located(folder: Path) -> None:
    p = np.full((3, 4), 1000.0, dtype=np.float32)
    p[1, 2] = -5.0
    k = np.full((3, 4), 0.03, dtype=np.float32)
    k[2, 3] = 3.0
    with pytest.raises(InputError) as exc:
        E.run(_tiny(folder, precipitation=p, k_factor=k), _params(folder), E.Options(), 2020,
              zone_raster=_zones(folder), tile_size=2)
    text = exc.value.render()
    assert exc.value.codes == ["OUT_OF_RANGE", "OUT_OF_RANGE"]
    assert "precipitation.tif" in text and "pixel row 1, col 2" in text and "'-5'" in text
    assert "k_factor.tif" in text and "pixel row 2, col 3" in text


def test_nodata_inside_zone(folder: Path) -> None:
    nep = np.full((3, 4), 300.0, dtype=np.float32)
    nep[0, 0] = -9999.0
    with pytest.raises(InputError) as exc:
        E.run(_tiny(folder, nep=nep), _params(folder), E.Options(), 2020, zone_raster=_zones(folder))
    assert exc.value.codes == ["NODATA_IN_ZONE"]
    assert "pixel row 0, col 0" in exc.value.render()
    ok = E.run(_tiny(folder, nep=nep), _params(folder), E.Options(allow_nodata=True), 2020, zone_raster=_zones(folder))
    assert [w.code for w in ok.warnings] == ["NODATA_SKIPPED"]
    assert _detail(ok, "3", "pixels") == 9  # 10 pixels in zone 3, one skipped


def test_unknown_landcover_code_located(folder: Path) -> None:
    lc = np.array([[1, 1, 1, 1], [1, 1, 2, 3], [1, 7, 1, 1]], dtype=np.uint8)
    with pytest.raises(InputError) as exc:
        E.run(_tiny(folder, landcover=lc), _params(folder), E.Options(), 2020, zone_raster=_zones(folder))
    assert exc.value.codes == ["UNKNOWN_CLASS"] and "pixel row 2, col 1" in exc.value.render()


def test_climate_hot_periods_only(folder: Path) -> None:
    et = np.full((12, 3, 4), 50.0, dtype=np.float32)  # 600 mm/yr
    t = np.broadcast_to(np.array([5, 8, 12, 17, 22, 25, 27, 28, 26.5, 20, 12, 6], dtype=np.float32)[:, None, None],
                        (12, 3, 4)).copy()
    r = _tiny(folder, et=et, temperature=t)
    res = E.run(r, _params(folder), E.Options(), 2020, zone_raster=_zones(folder))
    # 3 months above 26 °C → 150 mm × 900 m² = 135 m³ × 680.56 kWh/m³ / 3
    assert_allclose(_detail(res, "1", "climate_vegetation_kwh"), 135 * 1e6 * 2450 / 3.6e6 / 3, atol=QUANTUM)
    # water balance uses the sum of the bands: 1000 − 40 − 600 = 360 mm → 324 m³
    assert_allclose(_detail(res, "1", "water_m3"), 324.0, atol=QUANTUM)
    # water surface (水系, zone 3 pixel (1, 3)): 135 m³ × 680.56 + 135 × 120 kWh
    w = res.detail.filter((pl.col("region_id") == "3") & (pl.col("ecosystem_type") == "水系"))
    assert_allclose(w["climate_water_kwh"][0], 135 * 1e6 * 2450 / 3.6e6 + 135 * 120, atol=QUANTUM)


def test_generic_raster_summed(folder: Path) -> None:
    sand = _tif(folder / "sand.tif", np.full((3, 4), 20.0, dtype=np.float32))  # 20 t/ha × 0.09 ha = 1.8 t
    g = E.GenericQuantity(E.RasterInput("sand", str(sand), "t/ha", "sand.tif"), "sand_fixation", "", "t")
    res = E.run({"landcover": _tiny(folder)["landcover"]}, _params(folder), E.Options(), 2020,
                zone_raster=_zones(folder), generic=[g])
    row = res.quantities.filter(pl.col("region_id") == "1")
    assert row["service"].to_list() == ["sand_fixation"] and row["unit"].to_list() == ["t"]
    assert_allclose(row["quantity"][0], 1.8, atol=QUANTUM)


def test_carbon_counted_once() -> None:
    bio = pl.DataFrame({"region_id": ["a", "a", "b"], "year": [2020, 2020, 2020],
                        "service": ["carbon_sequestration", "water_conservation", "carbon_sequestration"],
                        "quantity": [10.0, 5.0, 7.0]}).with_columns(pl.col("year").cast(pl.Int32))
    carbon = pl.DataFrame({"region_id": ["a"], "year": [2020], "quantity": [12.0]})
    kept, cmp = reconcile_carbon(bio, carbon)
    # region a: carbon from the carbon step (biophysical row dropped); region b: not covered → kept
    assert sorted(zip(kept["region_id"], kept["service"], strict=True)) == [
        ("a", "water_conservation"), ("b", "carbon_sequestration")]
    assert cmp is not None and cmp.row(0, named=True)["biophysical_t_co2"] == 10.0
    same, none = reconcile_carbon(bio, carbon, "biophysical")
    assert same.equals(bio) and none is None


def test_landcover_nodata_inside_zone_is_not_silently_dropped(folder: Path) -> None:
    lc = np.array([[1, 1, 1, 1], [1, 1, 2, 3], [255, 1, 1, 1]], dtype=np.uint8)
    with pytest.raises(InputError) as exc:
        E.run(_tiny(folder, landcover=lc), _params(folder), E.Options(), 2020, zone_raster=_zones(folder))
    assert exc.value.codes == ["NODATA_IN_ZONE"] and "landcover.tif" in exc.value.render()
    assert "pixel row 2, col 0" in exc.value.render()


def test_polygon_zones_in_another_crs_are_reprojected(folder: Path) -> None:
    rasters = _tiny(folder)
    tr = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
    x0, y0 = 500_000.0, 3_500_000.0
    # pixel (1, 1) shrunk by 3 m on each side, in lon/lat: its centre stays inside after reprojection
    xa, xb, ya, yb = x0 + 33, x0 + 57, y0 - 57, y0 - 33
    ring = [tr.transform(x, y) for x, y in ((xa, ya), (xb, ya), (xb, yb), (xa, yb), (xa, ya))]
    coords = "[[" + ",".join(f"[{lon!r},{lat!r}]" for lon, lat in ring) + "]]"
    gj = folder / "经纬度.geojson"
    gj.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"county":"1"},'
                  f'"geometry":{{"type":"Polygon","coordinates":{coords}}}}}]}}', encoding="utf-8")
    res = run_rasters(rasters, _params(folder), E.Options(), 2020, str(gj), gj.name, zone_id_field="county")
    assert res.detail["region_id"].to_list() == ["1"] and res.detail["pixels"].to_list() == [1]
    assert_allclose(_detail(res, "1", "water_m3"), 414.0, atol=QUANTUM)
    with pytest.raises(InputError) as exc:
        run_rasters(rasters, _params(folder), E.Options(), 2020, str(gj), gj.name, zone_id_field="region_id")
    assert exc.value.codes == ["MISSING_COLUMN"]
