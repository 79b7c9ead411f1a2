"""Tests for the SYNTHETIC Sichuan demo land cover (scripts/make_demo_data.py, gep/demo_data/*.csv).

The shipped files are read as text and areas parsed to integer hundredths of a hectare
("cents"), so every conservation check below is exact.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import polars as pl
import pytest

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "gep" / "demo_data"
LC_PATH = DEMO / "sichuan_landcover_synthetic.csv"
TR_PATH = DEMO / "sichuan_transitions_synthetic.csv"
COUNTIES_PATH = REPO / "regions" / "data" / "sichuan" / "counties_source.csv"

# 三调 second-level classes, in the required output order, with their first-level class.
FIRST_LEVEL = {
    "耕地": ["水田", "水浇地", "旱地"],
    "园地": ["果园", "茶园", "其他园地"],
    "林地": ["乔木林地", "竹林地", "灌木林地", "其他林地"],
    "草地": ["天然牧草地", "人工牧草地", "其他草地"],
    "湿地": ["森林沼泽", "灌丛沼泽", "沼泽草地", "内陆滩涂", "沼泽地"],
    "城镇村及工矿用地": ["城镇村及工矿用地"],
    "交通运输用地": ["交通运输用地"],
    "水域及水利设施用地": ["河流水面", "湖泊水面", "水库水面", "坑塘水面", "沟渠", "冰川及永久积雪"],
    "其他土地": ["田坎", "设施农用地", "沙地", "裸土地", "裸岩石砾地"],
}
CLASSES = [c for subs in FIRST_LEVEL.values() for c in subs]
FIRST_OF = {c: f for f, subs in FIRST_LEVEL.items() for c in subs}

# 《四川省第三次全国国土调查主要数据公报》 (四川省自然资源厅, 四川省统计局, 2022-01-18), 万公顷 → ha:
# 522.72 → 5,227,200; 120.32 → 1,203,200; 2541.96 → 25,419,600; 968.78 → 9,687,800;
# 123.08 → 1,230,800; 184.12 → 1,841,200; 47.39 → 473,900; 105.32 → 1,053,200.
# Sum = 46,136,900 ha. County polygons sum to 485,830.7 km² = 48,583,070 ha, so
# 其他土地 = 48,583,070 − 46,136,900 = 2,446,170 ha.
SANDIAO_HA = {
    "耕地": 5_227_200,
    "园地": 1_203_200,
    "林地": 25_419_600,
    "草地": 9_687_800,
    "湿地": 1_230_800,
    "城镇村及工矿用地": 1_841_200,
    "交通运输用地": 473_900,
    "水域及水利设施用地": 1_053_200,
    "其他土地": 2_446_170,
}


def _cents(col: str = "area_ha") -> pl.Expr:
    """'123.45' → 12345 (exact; the files always carry two decimals)."""
    return pl.col(col).str.replace(".", "", literal=True).cast(pl.Int64)


@pytest.fixture(scope="module")
def counties() -> pl.DataFrame:
    df = pl.read_csv(COUNTIES_PATH, schema_overrides={"adcode": pl.Utf8, "prefecture_adcode": pl.Utf8})
    return df.select(
        pl.col("adcode").alias("region_id"),
        "name_zh",
        "prefecture_adcode",
        # area_km2 has one decimal; km2 × 100 = ha; × 100 = cents
        county_cents=(pl.col("area_km2") * 10).round(0).cast(pl.Int64) * 1000,
    )


@pytest.fixture(scope="module")
def lc() -> pl.DataFrame:
    df = pl.read_csv(LC_PATH, infer_schema=False)
    return df.with_columns(
        year=pl.col("year").cast(pl.Int32),
        cents=_cents(),
        first=pl.col("class").replace_strict(FIRST_OF, default=None),
    )


@pytest.fixture(scope="module")
def tr() -> pl.DataFrame:
    df = pl.read_csv(TR_PATH, infer_schema=False)
    return df.with_columns(
        year_from=pl.col("year_from").cast(pl.Int32),
        year_to=pl.col("year_to").cast(pl.Int32),
        cents=_cents(),
    )


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_demo_data", REPO / "scripts" / "make_demo_data.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_demo_data"] = module
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- file shape


def test_landcover_columns_status_and_format(lc: pl.DataFrame) -> None:
    assert lc.columns[:5] == ["region_id", "year", "class", "area_ha", "data_status"]
    assert lc["data_status"].unique().to_list() == ["synthetic"]
    assert lc["area_ha"].str.contains(r"^\d+\.\d{2}$").all()
    assert lc["first"].null_count() == 0, "unknown class name"
    assert (lc["cents"] > 0).all(), "zero rows are omitted, negatives forbidden"
    assert lc.select("region_id", "year", "class").is_duplicated().sum() == 0


def test_transitions_columns_status_and_format(tr: pl.DataFrame) -> None:
    assert tr.columns[:7] == ["region_id", "year_from", "year_to", "class_from", "class_to", "area_ha", "data_status"]
    assert tr["data_status"].unique().to_list() == ["synthetic"]
    assert tr["area_ha"].str.contains(r"^\d+\.\d{2}$").all()
    assert set(tr["class_from"]) | set(tr["class_to"]) <= set(CLASSES)
    assert (tr["cents"] > 0).all()
    periods = tr.select("year_from", "year_to").unique().sort("year_from").rows()
    assert periods == [(2015, 2020), (2020, 2025)]
    assert tr.select("region_id", "year_from", "class_from", "class_to").is_duplicated().sum() == 0


def test_all_183_counties_for_three_years(lc: pl.DataFrame, counties: pl.DataFrame) -> None:
    assert counties.height == 183
    got = lc.select("region_id", "year").unique()
    assert got.height == 183 * 3
    assert set(got["region_id"]) == set(counties["region_id"])
    assert set(got["year"]) == {2015, 2020, 2025}


def test_row_order_is_region_year_class(lc: pl.DataFrame, tr: pl.DataFrame) -> None:
    rank = {c: i for i, c in enumerate(CLASSES)}
    keyed = lc.with_columns(k=pl.col("class").replace_strict(rank))
    assert keyed.select("region_id", "year", "k").rows() == sorted(keyed.select("region_id", "year", "k").rows())
    tk = tr.with_columns(kf=pl.col("class_from").replace_strict(rank), kt=pl.col("class_to").replace_strict(rank))
    cols = ["region_id", "year_from", "kf", "kt"]
    assert tk.select(cols).rows() == sorted(tk.select(cols).rows())


# ---------------------------------------------------------------- conservation


def test_county_classes_sum_to_county_area_exactly(lc: pl.DataFrame, counties: pl.DataFrame) -> None:
    sums = lc.group_by("region_id", "year").agg(pl.col("cents").sum()).join(counties, on="region_id")
    assert sums.height == 183 * 3
    bad = sums.filter(pl.col("cents") != pl.col("county_cents"))
    assert bad.height == 0, bad.head()


def test_2020_provincial_first_level_totals_equal_sandiao(lc: pl.DataFrame) -> None:
    tot = dict(lc.filter(pl.col("year") == 2020).group_by("first").agg(pl.col("cents").sum()).rows())
    assert tot == {k: v * 100 for k, v in SANDIAO_HA.items()}


def test_other_years_differ_from_sandiao_but_keep_province_area(lc: pl.DataFrame) -> None:
    for year in (2015, 2025):
        tot = dict(lc.filter(pl.col("year") == year).group_by("first").agg(pl.col("cents").sum()).rows())
        assert sum(tot.values()) == 48_583_070 * 100
        assert tot["林地"] != SANDIAO_HA["林地"] * 100


def test_transitions_reconcile_with_opening_and_closing_land_cover(lc: pl.DataFrame, tr: pl.DataFrame) -> None:
    keys = ["region_id", "year", "class"]
    for y0, y1 in ((2015, 2020), (2020, 2025)):
        p = tr.filter(pl.col("year_from") == y0)
        out = p.group_by("region_id", pl.col("class_from").alias("class")).agg(flow=pl.col("cents").sum())
        inn = p.group_by("region_id", pl.col("class_to").alias("class")).agg(flow=pl.col("cents").sum())
        for year, sums in ((y0, out), (y1, inn)):
            cover = lc.filter(pl.col("year") == year).select("region_id", "class", "cents")
            both = cover.join(sums, on=["region_id", "class"], how="full", coalesce=True).fill_null(0)
            bad = both.filter(pl.col("cents") != pl.col("flow"))
            assert bad.height == 0, (y0, y1, year, bad.head())
    assert lc.select(keys).is_duplicated().sum() == 0


def test_transitions_include_unchanged_rows(tr: pl.DataFrame) -> None:
    same = tr.filter(pl.col("class_from") == pl.col("class_to"))
    # every county has an unchanged 林地 row in both periods
    assert same.filter(pl.col("class_from") == "乔木林地").select("region_id", "year_from").unique().height == 183 * 2
    # unchanged area dominates: change is a few percent of the province over five years
    changed = tr.filter(pl.col("class_from") != pl.col("class_to"))["cents"].sum()
    assert 0 < changed < 0.03 * same["cents"].sum()


# ---------------------------------------------------------------- regional pattern


def _share(lc: pl.DataFrame, counties: pl.DataFrame, where: pl.Expr, first: str, year: int = 2020) -> float:
    x = lc.filter(pl.col("year") == year).join(counties, on="region_id").filter(where)
    return x.filter(pl.col("first") == first)["cents"].sum() / x["cents"].sum()


def test_plateau_grassland(lc: pl.DataFrame, counties: pl.DataFrame) -> None:
    # 阿坝 + 甘孜 = 232,646.8 km²; the province's 三调 草地 is 96,878 km² = 41.6 % of it,
    # so 40 % would force 96 % of all grassland onto the plateau; > 35 % (≈ 84 %) is realistic.
    share = _share(lc, counties, pl.col("prefecture_adcode").is_in(["513200", "513300"]), "草地")
    assert share > 0.35
    grass = lc.filter((pl.col("year") == 2020) & (pl.col("first") == "草地")).join(counties, on="region_id")
    plateau = grass.filter(pl.col("prefecture_adcode").is_in(["513200", "513300"]))
    natural = plateau.filter(pl.col("class") == "天然牧草地")["cents"].sum()
    assert natural > 0.8 * plateau["cents"].sum()


def test_basin_cropland(lc: pl.DataFrame, counties: pl.DataFrame) -> None:
    # 遂宁 + 资阳 + 内江 (real 大英县 三调: 29,597.52 of 69,670 ha = 42 % 耕地)
    share = _share(lc, counties, pl.col("prefecture_adcode").is_in(["510900", "512000", "511000"]), "耕地")
    assert share > 0.35
    crop = lc.filter((pl.col("year") == 2020) & (pl.col("first") == "耕地")).join(counties, on="region_id")
    basin = crop.filter(pl.col("prefecture_adcode").is_in(["510900", "512000", "511000"]))
    assert basin.filter(pl.col("class") == "水田")["cents"].sum() > 0.25 * basin["cents"].sum()


def test_chengdu_core_is_built_up(lc: pl.DataFrame, counties: pl.DataFrame) -> None:
    assert _share(lc, counties, pl.col("region_id") == "510104", "城镇村及工矿用地") > 0.60  # 锦江区
    for core in ("510105", "510106", "510107", "510108"):  # 青羊 金牛 武侯 成华
        assert _share(lc, counties, pl.col("region_id") == core, "城镇村及工矿用地") > 0.50


def test_zoige_and_hongyuan_wetland(lc: pl.DataFrame, counties: pl.DataFrame) -> None:
    assert _share(lc, counties, pl.col("region_id") == "513232", "湿地") > 0.15  # 若尔盖
    assert _share(lc, counties, pl.col("region_id") == "513233", "湿地") > 0.15  # 红原
    # basin wetland stays marginal
    assert _share(lc, counties, pl.col("prefecture_adcode") == "510900", "湿地") < 0.01


def test_glacier_only_on_the_plateau_and_high_mountains(lc: pl.DataFrame, counties: pl.DataFrame) -> None:
    glacier = lc.filter(pl.col("class") == "冰川及永久积雪").join(counties, on="region_id")
    assert glacier.height > 0
    assert set(glacier["prefecture_adcode"]) <= {"513200", "513300", "513400"}


def test_forest_share_rises_2015_2020_2025(lc: pl.DataFrame, counties: pl.DataFrame) -> None:
    s = [_share(lc, counties, pl.lit(True), "林地", y) for y in (2015, 2020, 2025)]
    assert s[0] < s[1] < s[2]
    b = [_share(lc, counties, pl.lit(True), "城镇村及工矿用地", y) for y in (2015, 2020, 2025)]
    assert b[0] < b[1] < b[2]


# ---------------------------------------------------------------- generator


def test_generator_is_byte_identical_in_chinese_temp_dir(gen: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "合成演示数据 输出"
    p_lc, p_tr = gen.write(out, COUNTIES_PATH)
    assert p_lc.read_bytes() == LC_PATH.read_bytes()
    assert p_tr.read_bytes() == TR_PATH.read_bytes()
    gen.main(["--out", str(out / "再次"), "--counties", str(COUNTIES_PATH)])
    assert (out / "再次" / LC_PATH.name).read_bytes() == LC_PATH.read_bytes()


def test_every_zone_override_names_a_real_county(gen: ModuleType, counties: pl.DataFrame) -> None:
    ids = set(counties["region_id"])
    assert set(gen.ZONE_OVERRIDES) <= ids
    assert set(gen.ZONE_OVERRIDES.values()) | set(gen.ZONE_OF_PREFECTURE.values()) <= set(gen.ZONES)
    assert set(gen.ZONES) == set(gen.FIRST_LEVEL_PRIOR) == set(gen.SECOND_LEVEL_SHARES)
    assert list(gen.CLASSES) == CLASSES


def test_ipf_matches_hand_solution(gen: ModuleType) -> None:
    # prior [[1,1],[1,2]], rows (3,3), cols (2,4). IPF keeps the odds ratio 1·2/(1·1) = 2:
    # x = [[t, 3−t], [2−t, 1+t]] with t(1+t) = 2(3−t)(2−t) → t² − 11t + 12 = 0 → t = (11 − √73)/2
    x = gen.ipf(np.array([[1.0, 1.0], [1.0, 2.0]]), np.array([3.0, 3.0]), np.array([2.0, 4.0]), tol=1e-12)
    t = (11 - math.sqrt(73)) / 2  # 1.2279981...
    np.testing.assert_allclose(x, [[t, 3 - t], [2 - t, 1 + t]], atol=1e-9)


def test_controlled_round_keeps_both_margins(gen: ModuleType) -> None:
    # all halves: column largest-remainder gives both units to row 0 (tie → first row),
    # [[1,1],[0,0]]; row 1 is one short, so one unit moves from row 0 to row 1 in column 0.
    y = gen.controlled_round(np.full((2, 2), 0.5), np.array([1, 1]), np.array([1, 1]))
    assert y.tolist() == [[0, 1], [1, 0]]
    # [[1.4, 2.6], [2.6, 1.4]]: floors [[1,2],[2,1]], one unit per column to the largest fraction
    y = gen.controlled_round(np.array([[1.4, 2.6], [2.6, 1.4]]), np.array([4, 4]), np.array([4, 4]))
    assert y.tolist() == [[1, 3], [3, 1]]


def test_transition_flow_is_min_of_source_and_destination_caps(gen: ModuleType) -> None:
    idx = {c: i for i, c in enumerate(CLASSES)}
    l2020 = np.zeros((1, len(CLASSES)), dtype=np.int64)
    l2020[0, idx["旱地"]] = 10_000  # 100.00 ha
    l2020[0, idx["乔木林地"]] = 1_000  # 10.00 ha
    f = gen.transition_flows(l2020, 0)
    # 2015→2020 旱地→乔木林地: a = 0.03, b = 0.02 → min(0.03·10000, 0.02·1000) = min(300, 20) = 20
    assert f[0, idx["旱地"], idx["乔木林地"]] == 20
    # 旱地→果园: destination is empty, so nothing flows; 乔木林地→交通运输用地 likewise
    assert f[0, idx["旱地"], idx["果园"]] == 0
    assert f.sum() == 20
    # 2020→2025: a = 0.015, b = 0.010 → min(150, 10) = 10
    assert gen.transition_flows(l2020, 1)[0, idx["旱地"], idx["乔木林地"]] == 10


# ---------------------------------------------------------------- fits the engine


def test_engine_loader_accepts_the_demo_land_cover() -> None:
    from gep.loaders import load_landcover
    from gep.regions import load_registry

    df = load_landcover(LC_PATH, registry=load_registry("sichuan"))
    assert df.columns == ["region_id", "year", "class", "area_ha"]
    assert df.height == pl.read_csv(LC_PATH, infer_schema=False).height
    # 2020 林地 in float ha still equals 三调 to the cent
    forest = df.filter((pl.col("year") == 2020) & pl.col("class").is_in(FIRST_LEVEL["林地"]))["area_ha"].sum()
    assert forest == pytest.approx(25_419_600, abs=0.005)


def test_every_class_is_in_the_sandiao_crosswalk() -> None:
    crosswalk = pl.read_csv(REPO / "coefficients" / "crosswalks" / "tnls.csv", infer_schema=False)
    assert set(CLASSES) <= set(crosswalk["class"])


# ---------------------------------------------------------------------------
# socio table of the account demo (scripts/make_demo_account_data.py): synthetic county shares,
# provincial sums = Sichuan's published 2020 totals (census 83,674,866 people; GDP 48,598.8 亿元)

SOCIO_PATH = DEMO / "account" / "sichuan_population_gdp_synthetic.csv"


def test_socio_sums_to_the_published_provincial_totals() -> None:
    s = pl.read_csv(SOCIO_PATH, schema_overrides={"region_id": pl.Utf8})
    assert set(s["data_status"].to_list()) == {"synthetic"}
    tot = {y: (p, g) for y, p, g in s.group_by("year").agg(pl.col("population").sum(),
                                                              pl.col("GDP(万元)").sum()).iter_rows()}
    assert set(tot) == {2015, 2020, 2025} and s.height == 3 * 183
    for year in tot:
        assert tot[year][0] == 83_674_866  # 第七次人口普查, Sichuan resident population (2020; held for 2015/2025)
    assert tot[2020][1] == pytest.approx(48_598.8e4, abs=50)  # 万元: 4.86 万亿元
    # 2015 and 2025 follow the demo's synthetic growth (not anchored to published totals)
    assert tot[2015][1] / tot[2020][1] == pytest.approx(1.0 / 1.2, rel=1e-6)
    assert tot[2025][1] / tot[2020][1] == pytest.approx(1.4 / 1.2, rel=1e-6)
    # the Chengdu basin holds far more people per county than the plateau (甘孜 5133xx)
    y20 = s.filter(pl.col("year") == 2020)
    ganzi = y20.filter(pl.col("region_id").str.starts_with("5133"))["population"].mean()
    assert y20["population"].mean() > 3 * ganzi


def test_socio_generator_is_deterministic(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_demo_account_data",
                                                  REPO / "scripts" / "make_demo_account_data.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.OUT = tmp_path
    mod.main()
    assert (tmp_path / SOCIO_PATH.name).read_bytes() == SOCIO_PATH.read_bytes()
