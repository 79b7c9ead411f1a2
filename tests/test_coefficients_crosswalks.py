"""Crosswalks land-cover class → Xie 2015 ecosystem type (coefficients/crosswalks.py)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from gep.coefficients import (
    apply_crosswalk,
    crosswalk_keys,
    ecosystem_types,
    list_crosswalks,
    load_crosswalk,
    match_classes,
    validate_crosswalk,
)

from gep.errors import InputError

# the class names the synthetic Sichuan demo uses (docs/contracts.md §11)
DEMO_TNLS_CLASSES = [
    "水田", "水浇地", "旱地", "果园", "茶园", "其他园地", "乔木林地", "竹林地", "灌木林地", "其他林地",
    "天然牧草地", "人工牧草地", "其他草地", "森林沼泽", "灌丛沼泽", "沼泽草地", "内陆滩涂", "沼泽地",
    "城镇村及工矿用地", "交通运输用地", "河流水面", "湖泊水面", "水库水面", "坑塘水面", "沟渠",
    "冰川及永久积雪", "田坎", "设施农用地", "沙地", "裸土地", "裸岩石砾地",
]
TNLS_LEVEL1 = {"耕地", "园地", "林地", "草地", "湿地", "城镇村及工矿用地", "交通运输用地", "水域及水利设施用地", "其他土地"}


def test_builtin_crosswalks() -> None:
    assert list_crosswalks() == ["clcd", "cnlucc", "tnls", "worldcover"]


@pytest.mark.parametrize("cw_id", ["clcd", "cnlucc", "tnls", "worldcover"])
def test_every_crosswalk_complete_with_provenance(cw_id: str) -> None:
    assert validate_crosswalk(cw_id) == []
    cw = load_crosswalk(cw_id)
    known = set(ecosystem_types()["ecosystem_type"].to_list())
    assert set(cw["ecosystem_type"].drop_nulls().to_list()) <= known
    for col in ("class", "code", "source", "verification", "class_name_en"):
        assert cw[col].null_count() == 0, col
    assert set(cw["verification"].to_list()) <= {"secondary", "unverified"}
    # a gep choice is unverified and says why; a preset names its paper
    mine = cw.filter(pl.col("source").str.starts_with("gep mapping choice"))
    assert (mine["verification"] == "unverified").all() and mine["note"].null_count() == 0
    assert cw["class"].n_unique() == cw.height and cw["code"].n_unique() == cw.height


def test_clcd_cnlucc_worldcover_class_codes() -> None:
    clcd = load_crosswalk("clcd")
    assert clcd["code"].to_list() == [str(i) for i in range(1, 10)]
    assert clcd.filter(pl.col("code") == "8")["ecosystem_type"].item() is None  # impervious: no service value
    cn = load_crosswalk("cnlucc")
    assert sorted(int(c) for c in cn["code"]) == [11, 12, 21, 22, 23, 24, 31, 32, 33, 41, 42, 43, 44, 45, 46,
                                                 51, 52, 53, 61, 62, 63, 64, 65, 66, 67]
    assert dict(cn.select("class", "ecosystem_type").iter_rows())["有林地"] == "针阔混交"
    wc = load_crosswalk("worldcover")
    assert sorted(int(c) for c in wc["code"]) == [10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100]
    assert wc.filter(pl.col("ecosystem_type").is_null())["class"].to_list() == ["Built-up"]


def test_tnls_contains_demo_classes_and_level1() -> None:
    tn = load_crosswalk("tnls")
    assert set(DEMO_TNLS_CLASSES) <= set(tn["class"].to_list())
    assert set(tn["tnls_level1"].to_list()) == TNLS_LEVEL1
    m = dict(tn.select("class", "ecosystem_type").iter_rows())
    assert m["城镇村及工矿用地"] is None and m["交通运输用地"] is None
    assert (m["乔木林地"], m["灌木林地"], m["果园"], m["河流水面"], m["沼泽地"]) == ("针阔混交", "灌木", "灌木", "水系", "湿地")
    assert m["天然牧草地"] == "草甸"  # Sichuan plateau natural pasture is mostly alpine meadow
    assert tn.filter(pl.col("class") == "天然牧草地")["verification"].item() == "unverified"


def test_apply_crosswalk_by_name_code_and_alias() -> None:
    tn = load_crosswalk("tnls")
    lc = pl.DataFrame({
        "region_id": ["510104"] * 6,
        "class": ["水田", "0101", "101", "paddy field", "城镇村及工矿用地", "1203"],
        "area_ha": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    })
    out = apply_crosswalk(lc, tn)
    assert out["ecosystem_type"].to_list() == ["水田", "水田", "水田", "水田", None, "旱地"]
    assert out["area_ha"].sum() == 21.0 and out.columns == ["region_id", "class", "area_ha", "ecosystem_type"]
    clcd = apply_crosswalk(pl.DataFrame({"class": ["1.0", "Forest", "8"]}), load_crosswalk("clcd"))
    assert clcd["ecosystem_type"].to_list() == ["旱地", "针阔混交", None]


def test_apply_crosswalk_unknown_class_lists_rows() -> None:
    lc = pl.DataFrame({"class": ["水田", "菜地", "菜地", "有林地"]})
    with pytest.raises(InputError) as exc:
        apply_crosswalk(lc, load_crosswalk("tnls"), file="lc.csv", crosswalk_name="tnls")
    assert [(p.code, p.value, p.row) for p in exc.value.problems] == [
        ("UNKNOWN_CLASS", "菜地", 3), ("UNKNOWN_CLASS", "有林地", 5)]
    assert "rows 3, 4" in exc.value.problems[0].message


def test_crosswalk_keys_drop_ambiguous_spellings() -> None:
    cw = pl.DataFrame({"class": ["A", "B"], "code": ["01", "1"], "ecosystem_type": ["旱地", "水田"]})
    keys = dict(crosswalk_keys(cw).select("key", "class").iter_rows())
    assert keys["01"] == "A" and keys["1"] == "B"  # exact codes win over leading-zero variants


def test_user_crosswalk_with_chinese_headers(tmp_path: Path) -> None:
    d = tmp_path / "对照 表"
    d.mkdir()
    f = d / "我的对照.csv"
    f.write_text("地类,代码,生态系统类型\n有林地,21,broadleaf\n建设用地,51,\n", encoding="gb18030")
    cw = load_crosswalk(f)
    assert cw.select("class", "code", "ecosystem_type").rows() == [("有林地", "21", "阔叶"), ("建设用地", "51", None)]


def test_bad_crosswalk_problems(tmp_path: Path) -> None:
    f = tmp_path / "坏.csv"
    f.write_text("class,code,ecosystem_type,verification\n"
                 "a,1,旱地,secondary\n"     # row 2
                 "b,01,forest,secondary\n"  # row 3: duplicate code (01 = 1), unknown type
                 "a,2,水田,sure\n"           # row 4: duplicate class, bad verification
                 ",3,水田,secondary\n",     # row 5: empty class
                 encoding="utf-8")
    got = {(p.code, p.row, p.column) for p in validate_crosswalk(f)}
    assert got == {
        ("DUPLICATE_KEY", 3, "code"), ("UNKNOWN_ECOSYSTEM_TYPE", 3, "ecosystem_type"),
        ("DUPLICATE_KEY", 4, "class"), ("INVALID_VALUE", 4, "verification"), ("MISSING_VALUE", 5, "class"),
    }
    g = tmp_path / "缺列.csv"
    g.write_text("class,type\na,旱地\n", encoding="utf-8")
    assert [(p.code, p.column) for p in validate_crosswalk(g)] == [("MISSING_COLUMN", "ecosystem_type")]
    with pytest.raises(InputError) as exc:
        load_crosswalk("nope")
    assert exc.value.codes == ["UNKNOWN_CROSSWALK"]


def test_aliases_column() -> None:
    cn = apply_crosswalk(pl.DataFrame({"class": ["其它林地", "灌木林地", "24"]}), load_crosswalk("cnlucc"))
    assert cn["ecosystem_type"].to_list() == ["灌木", "灌木", "灌木"]
    tn = apply_crosswalk(pl.DataFrame({"class": ["种植园用地", "其它草地", "交通用地"]}), load_crosswalk("tnls"))
    assert tn["ecosystem_type"].to_list() == ["灌木", "灌草丛", None]


def test_ambiguous_alias_is_reported(tmp_path: Path) -> None:
    f = tmp_path / "别名.csv"
    f.write_text("class,ecosystem_type,aliases\n"
                 "有林地,针阔混交,林地;forest\n"   # row 2
                 "灌木林,灌木,林地\n"              # row 3: 林地 names two classes
                 "疏林地,灌木,有林地\n",           # row 4: alias equals another class
                 encoding="utf-8")
    got = sorted((p.code, p.row, p.value) for p in validate_crosswalk(f))
    assert got == [("AMBIGUOUS_CLASS", 3, "林地"), ("AMBIGUOUS_CLASS", 4, "有林地")]


def test_match_classes_never_raises() -> None:
    out = match_classes(pl.DataFrame({"class": ["0307", "菜地", "Tree cover"]}), load_crosswalk("tnls"))
    assert out["crosswalk_class"].to_list() == ["其他林地", None, None]
    assert out["ecosystem_type"].to_list() == ["灌木", None, None]


def test_apply_crosswalk_keeps_row_order_on_large_tables() -> None:
    tn = load_crosswalk("tnls")
    classes = tn["class"].to_list() + tn["code"].to_list()
    n = 20_000
    lc = pl.DataFrame({"class": [classes[(i * 7919) % len(classes)] for i in range(n)],
                       "area_ha": [float(i) for i in range(n)]})
    out = apply_crosswalk(lc, tn)
    assert out["class"].to_list() == lc["class"].to_list()
    assert out["area_ha"].to_list() == lc["area_ha"].to_list()
    assert out["area_ha"].sum() == sum(range(n))  # nothing dropped or duplicated
