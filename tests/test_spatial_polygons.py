"""Land-use polygons → extent: split at zone boundaries, survey area columns, GBK Shapefiles, CLI."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import shapely
from click.testing import CliRunner

from gep.cli.main import main
from gep.coefficients import load_crosswalk
from gep.errors import InputError
from gep.spatial.io import load_zone_file
from gep.spatial.polygons import polygon_extent
from tests._spatial_fixtures import X0, Y0, half_zones, write_zones

# zone A = x 0–20 m, zone B = x 20–40 m (40 m tall); polygon 2 straddles the boundary half and half
POLYS = [shapely.box(X0, Y0 - 40, X0 + 10, Y0), shapely.box(X0 + 10, Y0 - 40, X0 + 30, Y0),
         shapely.box(X0 + 30, Y0 - 40, X0 + 40, Y0)]
CODES = ["0101", "0301", "0103"]
NAMES = ["水田", "乔木林地", "旱地"]
TBMJ = [400.0, 1000.0, 400.0]  # the survey's own areas (m²), deliberately not the geometric ones
KCMJ = [0.0, 100.0, 40.0]


def _write(tmp: Path, name: str, driver: str | None = None, encoding: str | None = None) -> Path:
    return write_zones(tmp / name, CODES, POLYS, id_field="DLBM", driver=driver, encoding=encoding,
                       extra={"DLMC": NAMES, "TBMJ": TBMJ, "KCMJ": KCMJ})


@pytest.fixture()
def zones(tmp_path: Path):
    ids, geoms = half_zones()
    return load_zone_file(write_zones(tmp_path / "zones.gpkg", ids, geoms), "CODE")


def _table(df: pl.DataFrame) -> dict:
    return {(r, c): round(a, 9) for r, c, a in df.select("region_id", "class", "area_ha").iter_rows()}


def test_survey_area_split_by_geometric_share(tmp_path: Path, zones) -> None:
    res = polygon_extent(_write(tmp_path, "lu.gpkg"), "DLBM", 2020, zones, crosswalk=load_crosswalk("tnls"),
                         crosswalk_name="tnls")
    # TBMJ − KCMJ: 400, 900 (split 450 / 450), 360 m²
    assert _table(res.extent) == {("A", "水田"): 0.04, ("A", "乔木林地"): 0.045, ("B", "乔木林地"): 0.045,
                                  ("B", "旱地"): 0.036}
    assert res.extent["year"].unique().to_list() == [2020]
    assert "TBMJ minus KCMJ" in res.method["area"]
    assert res.coverage["polygons"].to_list() == [2, 2]


def test_explicit_area_column_and_geometry_area(tmp_path: Path, zones) -> None:
    path = _write(tmp_path, "lu.geojson", driver="GeoJSON")
    gross = polygon_extent(path, "DLMC", 2020, zones, area_column="TBMJ")
    assert _table(gross.extent) == {("A", "水田"): 0.04, ("A", "乔木林地"): 0.05, ("B", "乔木林地"): 0.05,
                                    ("B", "旱地"): 0.04}
    geo = polygon_extent(path, "DLMC", 2020, zones, use_survey_area=False)
    # ellipsoidal areas of 10 m × 40 m UTM boxes: 0.04 ha ÷ (UTM areal scale ≈ 0.9992)
    t = _table(geo.extent)
    assert t[("A", "水田")] == pytest.approx(0.04 / 0.9992, rel=2e-4)
    assert t[("A", "乔木林地")] == pytest.approx(t[("B", "乔木林地")], rel=1e-6)


def test_gbk_shapefile_with_encoding_option(tmp_path: Path, zones) -> None:
    path = _write(tmp_path, "lu.shp", driver="ESRI Shapefile", encoding="GBK")
    (tmp_path / "lu.cpg").unlink(missing_ok=True)  # as many 三调 deliveries: GBK .dbf without .cpg
    res = polygon_extent(path, "DLMC", 2020, zones, crosswalk=load_crosswalk("tnls"), crosswalk_name="tnls",
                         encoding="GBK")
    assert ("A", "水田") in _table(res.extent)


def test_unknown_polygon_class_and_invalid_geometry(tmp_path: Path, zones) -> None:
    bad = write_zones(tmp_path / "bad.gpkg", ["9999", "0101"],
                      [POLYS[0], shapely.Polygon([(X0, Y0), (X0 + 40, Y0 - 40), (X0 + 40, Y0), (X0, Y0 - 40)])],
                      id_field="DLBM")
    with pytest.raises(InputError) as exc:
        polygon_extent(bad, "DLBM", 2020, zones, crosswalk=load_crosswalk("tnls"))
    assert exc.value.codes == ["LANDUSE_GEOMETRY_INVALID"] and exc.value.problems[0].row == 2
    ok = write_zones(tmp_path / "unk.gpkg", ["9999", "0101"], POLYS[:2], id_field="DLBM")
    with pytest.raises(InputError) as exc:
        polygon_extent(ok, "DLBM", 2020, zones, crosswalk=load_crosswalk("tnls"), crosswalk_name="tnls")
    assert exc.value.codes == ["CLASS_NOT_IN_CROSSWALK"] and exc.value.problems[0].value == "9999"


def test_cli_polygons(tmp_path: Path) -> None:
    ids, geoms = half_zones()
    z = write_zones(tmp_path / "zones.gpkg", ids, geoms)
    lu = _write(tmp_path, "lu.gpkg")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["extent", "--landuse-polygons", str(lu), "--class-column", "DLBM", "--year", "2020",
                                    "--zones", str(z), "--zone-id", "CODE", "--crosswalk", "tnls", "--out", str(out)])
    assert res.exit_code == 0, res.output
    df = pl.read_csv(out / "tables" / "extent.csv")
    assert df.columns[:3] == ["region_id", "year", "class"] and df["area_ha"].sum() == pytest.approx(0.166)
    assert not (out / "tables" / "transitions.csv").exists()
    res = CliRunner().invoke(main, ["extent", "--landuse-polygons", str(lu), "--class-column", "DLBM",
                                    "--zones", str(z), "--zone-id", "CODE", "--out", str(tmp_path / "o2")])
    assert res.exit_code == 2 and "year" in res.output and not (tmp_path / "o2").exists()
