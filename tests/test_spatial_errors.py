"""Bad inputs of `gep extent`: located error, exit status 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from gep.cli.main import main
from tests._spatial_fixtures import LC2015, LC2020, X0, Y0, half_zones, write_raster, write_zones


@pytest.fixture()
def base(tmp_path: Path) -> Path:
    write_raster(tmp_path / "lc2015.tif", LC2015)
    write_raster(tmp_path / "lc2020.tif", LC2020)
    ids, geoms = half_zones()
    write_zones(tmp_path / "zones.gpkg", ids, geoms)
    return tmp_path


def _run(tmp: Path, *args: str) -> tuple[int, str, Path]:
    out = tmp / "out"
    res = CliRunner().invoke(main, ["extent", *args, "--scheduler", "inline", "--out", str(out)])
    return res.exit_code, res.output + (res.stderr if hasattr(res, "stderr") else ""), out


def _expect(tmp: Path, code: str, *args: str) -> str:
    rc, text, out = _run(tmp, *args)
    assert rc == 2, text
    assert f"[{code}]" in text, text
    assert not out.exists()
    assert not list(tmp.glob(".out.tmp-*"))
    return text


def _zones_args(tmp: Path, name: str = "zones.gpkg", col: str = "CODE") -> list[str]:
    return ["--zones", str(tmp / name), "--zone-id", col]


def test_ok_baseline(base: Path) -> None:
    rc, text, out = _run(base, "--landcover-raster", f"2015={base / 'lc2015.tif'}", *_zones_args(base))
    assert rc == 0, text
    assert (out / "tables" / "extent.csv").exists()


def test_not_a_raster(base: Path) -> None:
    (base / "notes.tif").write_text("this is not a GeoTIFF")
    text = _expect(base, "NOT_A_RASTER", "--landcover-raster", f"2015={base / 'notes.tif'}", *_zones_args(base))
    assert "notes.tif" in text


def test_truncated_raster(base: Path) -> None:
    rng = np.random.default_rng(1)
    big = rng.integers(1, 6, size=(512, 512), dtype=np.uint8)
    p = write_raster(base / "big.tif", big, tiled=True, block=128, compress="deflate", x0=X0, y0=Y0)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    zones = write_zones(base / "bigzones.gpkg", ["Z"], [shapely.box(X0, Y0 - 5120, X0 + 5120, Y0)])
    rc, text, out = _run(base, "--landcover-raster", f"2015={p}", "--zones", str(zones), "--zone-id", "CODE")
    assert rc == 2 and not out.exists(), text
    assert "[RASTER_READ_ERROR]" in text or "[NOT_A_RASTER]" in text
    assert "big.tif" in text


def test_raster_without_crs(base: Path) -> None:
    p = write_raster(base / "nocrs.tif", LC2015, crs=None)
    text = _expect(base, "RASTER_NO_CRS", "--landcover-raster", f"2015={p}", *_zones_args(base))
    assert "nocrs.tif" in text


@pytest.mark.parametrize("kw,word", [({"res": 20.0}, "resolution"), ({"x0": X0 + 5}, "origin"),
                                     ({"crs": "EPSG:32649"}, "CRS")])
def test_transitions_need_the_same_grid(base: Path, kw: dict, word: str) -> None:
    p = write_raster(base / "other.tif", LC2020, **kw)
    text = _expect(base, "GRID_MISMATCH", "--landcover-raster", f"2015={base / 'lc2015.tif'}",
                   "--landcover-raster", f"2020={p}", *_zones_args(base))
    assert word in text and "other.tif" in text


def test_grid_size_difference_is_named(base: Path) -> None:
    p = write_raster(base / "wide.tif", np.hstack([LC2020, LC2020]))
    text = _expect(base, "GRID_MISMATCH", "--landcover-raster", f"2015={base / 'lc2015.tif'}",
                   "--landcover-raster", f"2020={p}", *_zones_args(base))
    assert "size (4 × 4 vs 8 × 4 pixels)" in text


def test_different_grids_fine_without_transitions(base: Path) -> None:
    p = write_raster(base / "other.tif", LC2020, res=20.0)
    rc, text, out = _run(base, "--landcover-raster", f"2015={base / 'lc2015.tif'}", "--landcover-raster", f"2020={p}",
                         *_zones_args(base), "--no-transitions")
    assert rc == 0, text
    assert not (out / "tables" / "transitions.csv").exists()


def test_codes_missing_from_crosswalk_listed_with_pixel_counts(base: Path) -> None:
    lc = LC2015.copy()
    lc[0, :2] = 42
    lc[3, 0] = 0
    p = write_raster(base / "odd.tif", lc)
    text = _expect(base, "CLASS_NOT_IN_CROSSWALK", "--landcover-raster", f"2015={p}", *_zones_args(base),
                   "--crosswalk", "clcd")
    assert "42 (2 pixels)" in text and "0 (1 pixel)" in text and "odd.tif" in text


def test_zone_id_column_missing(base: Path) -> None:
    text = _expect(base, "COLUMN_NOT_FOUND", "--landcover-raster", f"2015={base / 'lc2015.tif'}",
                   *_zones_args(base, col="ADCODE"))
    assert "ADCODE" in text and "CODE" in text


def test_duplicate_and_empty_zone_ids(base: Path) -> None:
    ids, geoms = half_zones()
    write_zones(base / "dup.gpkg", ["A", "A", ""], geoms + [shapely.box(X0, Y0 - 10, X0 + 10, Y0)])
    text = _expect(base, "ZONE_ID_DUPLICATE", "--landcover-raster", f"2015={base / 'lc2015.tif'}",
                   *_zones_args(base, "dup.gpkg"))
    assert "[ZONE_ID_EMPTY]" in text and "feature 3" in text and "features 1 and 2" in text


def test_zones_not_intersecting_raster(base: Path) -> None:
    write_zones(base / "far.gpkg", ["F"], [shapely.box(X0 + 1e5, Y0 - 1e5, X0 + 1e5 + 50, Y0 - 1e5 + 50)])
    _expect(base, "ZONES_OUTSIDE_RASTER", "--landcover-raster", f"2015={base / 'lc2015.tif'}",
            *_zones_args(base, "far.gpkg"))


def test_invalid_zone_geometry_named_by_feature(base: Path) -> None:
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 40, Y0 - 40), (X0 + 40, Y0), (X0, Y0 - 40)])
    ids, geoms = half_zones()
    write_zones(base / "bad.gpkg", ["A", "BOW"], [geoms[0], bowtie])
    text = _expect(base, "ZONE_GEOMETRY_INVALID", "--landcover-raster", f"2015={base / 'lc2015.tif'}",
                   *_zones_args(base, "bad.gpkg"))
    assert "feature 2 (id 'BOW')" in text and "Self-intersection" in text


def test_bad_option_and_missing_zones(base: Path) -> None:
    _expect(base, "BAD_OPTION", "--landcover-raster", "lc2015.tif", *_zones_args(base))
    _expect(base, "BAD_OPTION", "--landcover-raster", f"2015={base / 'lc2015.tif'}")


def test_nodata_option_turns_unknown_zero_into_nodata(base: Path) -> None:
    lc = LC2015.copy()
    lc[3, 0], lc[3, 3] = 0, 2
    p = write_raster(base / "zero.tif", lc, nodata=None)
    _expect(base, "CLASS_NOT_IN_CROSSWALK", "--landcover-raster", f"2015={p}", *_zones_args(base), "--crosswalk", "clcd")
    rc, text, out = _run(base, "--landcover-raster", f"2015={p}", *_zones_args(base), "--crosswalk", "clcd",
                         "--nodata", "0")
    assert rc == 0, text
    cov = (out / "tables" / "extent_coverage.csv").read_text()
    assert "A,2015,8,1,0.125" in cov
