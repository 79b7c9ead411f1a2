"""gep.validation with the built-in Sichuan registry: region ids, crosswalk classes, area totals."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from gep.errors import InputError
from gep.loaders import load_landcover
from gep.regions import load_registry


@pytest.fixture(scope="module")
def sichuan():
    return load_registry("sichuan")


def _write(path: Path, rows: list[str]) -> Path:
    path.write_text("region_id,year,class,area_ha\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_unknown_region_ids_with_suggestions(tmp_path: Path, sichuan) -> None:
    p = _write(tmp_path / "lc.csv", ["510104,2020,旱地,10", "510199,2020,旱地,10", "锦江区,2020,旱地,1"])
    with pytest.raises(InputError) as err:
        load_landcover(p, registry=sichuan)
    probs = err.value.problems
    assert [(x.code, x.row, x.value) for x in probs] == [
        ("UNKNOWN_REGION", 3, "510199"), ("UNKNOWN_REGION", 4, "锦江区")]
    assert "did you mean 510104" in probs[1].message


def test_no_registry_accepts_any_id(tmp_path: Path) -> None:
    p = _write(tmp_path / "lc.csv", ["county-A,2020,旱地,10", "X9,2020,旱地,10"])
    assert load_landcover(p).height == 2


def test_area_above_polygon_area_warns_then_fails(tmp_path: Path, sichuan) -> None:
    # 锦江区 510104 polygon area 60.7 km2 = 6070 ha (the Sichuan registry holds polygon areas):
    # 2020: 6100 ha (+0.5 %) fine; 2025: 6200 ha (+2.1 %) a warning; 2030: 6700 ha (+10.4 %) an error
    p = _write(tmp_path / "lc.csv", ["510104,2020,城镇村及工矿用地,6100",
                                     "510104,2025,城镇村及工矿用地,6000", "510104,2025,水田,200",
                                     "510104,2030,城镇村及工矿用地,6700"])
    warnings: list = []
    with pytest.raises(InputError) as err:
        load_landcover(p, registry=sichuan, warnings=warnings)
    (problem,) = err.value.problems
    assert problem.code == "AREA_EXCEEDS_REGION" and problem.row == 5 and "2030" in problem.message
    assert "6,070.00 ha" in problem.message and "polygon area" in problem.message
    assert [(w.code, w.row) for w in warnings] == [("AREA_ABOVE_REGISTRY", 3)]


def test_area_above_official_area_fails_at_one_percent(tmp_path: Path) -> None:
    # a user's region table holds official areas: 10 km2 = 1000 ha; 1020 ha is +2 % → error
    reg = tmp_path / "regions.csv"
    reg.write_text("region_id,name,area_km2\nA1,甲县,10\n", encoding="utf-8")
    p = _write(tmp_path / "lc.csv", ["A1,2020,旱地,1020"])
    with pytest.raises(InputError) as err:
        load_landcover(p, registry=load_registry(reg))
    assert err.value.codes == ["AREA_EXCEEDS_REGION"] and "official area" in err.value.problems[0].message


def test_classes_absent_from_crosswalk_all_listed(tmp_path: Path) -> None:
    cw = pl.DataFrame({"class": ["旱地", "水田", "城镇村及工矿用地"], "ecosystem_type": ["旱地", "水田", None]})
    p = _write(tmp_path / "lc.csv", ["510104,2020,旱地,1", "510104,2020,有林地,1", "510104,2020,草地X,1",
                                     "510105,2020,有林地,1"])
    with pytest.raises(InputError) as err:
        load_landcover(p, crosswalk=cw)
    probs = err.value.problems
    assert [(x.code, x.value, x.row) for x in probs] == [("UNKNOWN_CLASS", "有林地", 3), ("UNKNOWN_CLASS", "草地X", 4)]
    assert "有林地, 草地X" in probs[0].message and "rows 3, 5" in probs[0].message


def test_crosswalk_matches_codes_with_leading_zeros(tmp_path: Path) -> None:
    from gep.coefficients import load_crosswalk
    from gep.extent import build_extent

    cw = load_crosswalk("cnlucc")
    p = _write(tmp_path / "lc.csv", ["C1,2020,11,5", "C1,2020,21,7", "C1,2020,51,1"])
    lc = load_landcover(p, crosswalk=cw)
    ext = build_extent(lc, cw)
    # CNLUCC 11 水田 → 水田, 51 城镇用地 → no service value
    types = dict(zip(ext["class"].to_list(), ext["ecosystem_type"].to_list()))
    assert types["11"] == "水田" and types["51"] is None and types["21"] is not None
    assert ext["area_ha"].sum() == 13.0  # built-up still counts in the extent
