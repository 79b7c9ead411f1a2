"""Build the SYNTHETIC Sichuan demo land cover (合成演示数据, not official statistics).

Writes two files (docs/contracts.md §11):

* ``sichuan_landcover_synthetic.csv``: ``region_id, year, class, area_ha, data_status``
  for the 183 counties of Sichuan, years 2015, 2020, 2025, 三调 second-level classes.
* ``sichuan_transitions_synthetic.csv``: ``region_id, year_from, year_to, class_from,
  class_to, area_ha, data_status`` for 2015→2020 and 2020→2025, unchanged rows included.

Method (all areas in ha, computed in integer hundredths of a hectare, "cents"):

1. Every county gets a geographic zone (prefecture default + named county overrides,
   ``ZONE_OF_PREFECTURE`` / ``ZONE_OVERRIDES``) and a prior of first-level class shares
   (``FIRST_LEVEL_PRIOR``) times a deterministic ±25 % per-county jitter (integer hash,
   no random generator) times its polygon area.
2. Iterative proportional fitting (Deming & Stephan 1940) of the prior to the county
   areas (row sums) and the 三调 2019 provincial first-level totals (column sums;
   其他土地 = sum of county areas − the eight published classes) until both hold to
   < 1e-6 ha.
3. Controlled rounding to 0.01 ha: column-wise largest remainder (provincial totals
   exact), then the county remainders are moved between pairs of counties inside the
   class that is largest in both (each county's remainder lands in one of its largest
   classes; provincial totals unchanged), so county sums are exact too.
4. Second-level split by zone shares (``SECOND_LEVEL_SHARES``); each county/first-level
   remainder goes to the largest second-level class, so first-level sums are exact.
5. Transitions (``TRANSITION_RULES``): every flow is
   ``floor(min(a × source_2020, b × destination_2020))``; 2015 is back-cast
   (2015 = 2020 − inflows + outflows; Σ b < 1 per destination keeps it ≥ 0) and 2025
   is forecast (2025 = 2020 − outflows + inflows; Σ a < 1 per source keeps it ≥ 0).
   Unchanged area = opening − outflows, so both margins reconcile to the cent.

Same inputs give byte-identical outputs. Usage::

    python scripts/make_demo_data.py [--counties regions/data/sichuan/counties_source.csv] [--out gep/demo_data]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parent.parent
DEFAULT_COUNTIES = REPO / "regions" / "data" / "sichuan" / "counties_source.csv"
DEFAULT_OUT = REPO / "gep" / "demo_data"
LANDCOVER_FILE = "sichuan_landcover_synthetic.csv"
TRANSITIONS_FILE = "sichuan_transitions_synthetic.csv"
DATA_STATUS = "synthetic"
YEARS = (2015, 2020, 2025)
REFERENCE_YEAR = 2020  # layer fitted to 三调 (reference date 2019-12-31)

# 三调 first-level classes and their second-level classes, in output order.
FIRST_LEVEL: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("耕地", ("水田", "水浇地", "旱地")),
    ("园地", ("果园", "茶园", "其他园地")),
    ("林地", ("乔木林地", "竹林地", "灌木林地", "其他林地")),
    ("草地", ("天然牧草地", "人工牧草地", "其他草地")),
    ("湿地", ("森林沼泽", "灌丛沼泽", "沼泽草地", "内陆滩涂", "沼泽地")),
    ("城镇村及工矿用地", ("城镇村及工矿用地",)),
    ("交通运输用地", ("交通运输用地",)),
    ("水域及水利设施用地", ("河流水面", "湖泊水面", "水库水面", "坑塘水面", "沟渠", "冰川及永久积雪")),
    ("其他土地", ("田坎", "设施农用地", "沙地", "裸土地", "裸岩石砾地")),
)
FIRST_NAMES: tuple[str, ...] = tuple(f for f, _ in FIRST_LEVEL)
CLASSES: tuple[str, ...] = tuple(c for _, subs in FIRST_LEVEL for c in subs)
FIRST_OF_CLASS: dict[str, str] = {c: f for f, subs in FIRST_LEVEL for c in subs}

# 《四川省第三次全国国土调查主要数据公报》 provincial totals, 万公顷 × 1e4 = ha
# (四川省自然资源厅, 四川省统计局, 2022-01-18; [sourced]). 其他土地 is the residual.
SANDIAO_2019_HA: dict[str, int] = {
    "耕地": 5_227_200,
    "园地": 1_203_200,
    "林地": 25_419_600,
    "草地": 9_687_800,
    "湿地": 1_230_800,
    "城镇村及工矿用地": 1_841_200,
    "交通运输用地": 473_900,
    "水域及水利设施用地": 1_053_200,
}

ZONES: tuple[str, ...] = (
    "urban_core",  # 成都 central districts: mostly built-up
    "city_district",  # other city districts: built-up + peri-urban farmland
    "basin",  # 四川盆地 hills and plain: cropland (paddy rich), orchards, villages
    "basin_edge",  # basin margin: farmland below, forest above
    "rim_mountain",  # basin rim mountains (米仓山, 大巴山, 龙门山, 大凉山 north, 乌蒙山 north): forest
    "sw_valley",  # 安宁河/金沙江 valleys (攀西): dry cropland, orchards, forest and shrub
    "sw_mountain",  # 凉山 mountains: forest, shrub, some grassland, dry cropland
    "plateau_gorge",  # 川西高山峡谷 (eastern 阿坝/甘孜): forest, alpine meadow, glacier, bare rock
    "plateau_pasture",  # 川西北高原 pastoral counties: natural grassland
    "plateau_wetland",  # 阿坝县/石渠: grassland with large marsh meadows
    "plateau_peatland",  # 若尔盖/红原: 若尔盖 peat bog and marsh meadow
)

# Prior first-level shares per zone (%; order of FIRST_NAMES). Invented but patterned on
# the regional geography; IPF rescales them to the 三调 totals.
FIRST_LEVEL_PRIOR: dict[str, tuple[float, ...]] = {
    #                  耕地  园地  林地  草地  湿地  城镇  交通  水域  其他
    "urban_core": (3.0, 1.5, 3.0, 2.0, 0.2, 76.0, 9.0, 3.5, 1.8),
    "city_district": (24.0, 6.0, 18.0, 1.2, 0.3, 28.0, 6.0, 5.0, 6.0),
    "basin": (43.0, 6.0, 27.0, 0.8, 0.3, 11.5, 2.4, 4.2, 6.0),
    "basin_edge": (20.0, 6.0, 56.0, 1.5, 0.3, 6.5, 1.4, 2.8, 5.0),
    "rim_mountain": (9.0, 3.0, 77.0, 2.0, 0.2, 2.6, 0.9, 1.9, 2.5),
    "sw_valley": (12.0, 6.0, 63.0, 5.0, 0.4, 3.5, 1.1, 2.4, 4.5),
    "sw_mountain": (9.0, 2.0, 70.0, 8.0, 0.5, 1.8, 0.6, 1.3, 4.5),
    "plateau_gorge": (1.5, 0.5, 62.0, 22.0, 0.3, 0.35, 0.3, 2.0, 6.0),
    "plateau_pasture": (0.6, 0.05, 36.0, 52.0, 1.5, 0.15, 0.15, 1.5, 7.0),
    "plateau_wetland": (0.3, 0.01, 14.0, 60.0, 12.0, 0.1, 0.1, 1.5, 7.0),
    "plateau_peatland": (0.3, 0.01, 6.0, 55.0, 28.0, 0.1, 0.1, 1.5, 5.0),
}

# Second-level shares within each first-level class, per zone (sum 1 per class).
# Anchors: 大英县 三调 耕地 水田 26.7 % / 水浇地 0.2 % / 旱地 73.1 %, 林地 乔木 79.7 % /
# 竹林 2.3 % / 灌木 16.0 % / 其他 2.0 % (大英县第三次全国国土调查主要数据公报); the rest is invented.
_BASIN_LIKE = {
    "园地": (0.60, 0.10, 0.30),
    "草地": (0.00, 0.02, 0.98),
    "湿地": (0.00, 0.01, 0.02, 0.95, 0.02),
}
SECOND_LEVEL_SHARES: dict[str, dict[str, tuple[float, ...]]] = {
    "urban_core": {
        **_BASIN_LIKE,
        "耕地": (0.50, 0.05, 0.45),
        "林地": (0.70, 0.10, 0.10, 0.10),
        "水域及水利设施用地": (0.60, 0.02, 0.03, 0.15, 0.20, 0.0),
        "其他土地": (0.20, 0.30, 0.00, 0.40, 0.10),
    },
    "city_district": {
        **_BASIN_LIKE,
        "耕地": (0.45, 0.03, 0.52),
        "林地": (0.70, 0.06, 0.14, 0.10),
        "水域及水利设施用地": (0.45, 0.01, 0.12, 0.25, 0.17, 0.0),
        "其他土地": (0.55, 0.25, 0.01, 0.12, 0.07),
    },
    "basin": {
        **_BASIN_LIKE,
        "耕地": (0.40, 0.01, 0.59),
        "林地": (0.76, 0.06, 0.14, 0.04),
        "水域及水利设施用地": (0.30, 0.005, 0.20, 0.35, 0.145, 0.0),
        "其他土地": (0.75, 0.15, 0.005, 0.05, 0.045),
    },
    "basin_edge": {
        "耕地": (0.35, 0.01, 0.64),
        "园地": (0.45, 0.35, 0.20),
        "林地": (0.70, 0.10, 0.13, 0.07),
        "草地": (0.05, 0.03, 0.92),
        "湿地": (0.00, 0.01, 0.03, 0.93, 0.03),
        "水域及水利设施用地": (0.50, 0.005, 0.20, 0.15, 0.145, 0.0),
        "其他土地": (0.55, 0.10, 0.005, 0.10, 0.245),
    },
    "rim_mountain": {
        "耕地": (0.20, 0.005, 0.795),
        "园地": (0.40, 0.35, 0.25),
        "林地": (0.70, 0.08, 0.17, 0.05),
        "草地": (0.15, 0.02, 0.83),
        "湿地": (0.02, 0.03, 0.05, 0.85, 0.05),
        "水域及水利设施用地": (0.65, 0.01, 0.20, 0.07, 0.07, 0.0),
        "其他土地": (0.35, 0.05, 0.005, 0.10, 0.495),
    },
    "sw_valley": {
        "耕地": (0.25, 0.10, 0.65),
        "园地": (0.80, 0.02, 0.18),
        "林地": (0.60, 0.005, 0.30, 0.095),
        "草地": (0.35, 0.05, 0.60),
        "湿地": (0.02, 0.05, 0.20, 0.60, 0.13),
        "水域及水利设施用地": (0.45, 0.05, 0.25, 0.10, 0.15, 0.0),
        "其他土地": (0.30, 0.08, 0.02, 0.20, 0.40),
    },
    "sw_mountain": {
        "耕地": (0.08, 0.04, 0.88),
        "园地": (0.70, 0.05, 0.25),
        "林地": (0.58, 0.005, 0.35, 0.065),
        "草地": (0.45, 0.05, 0.50),
        "湿地": (0.02, 0.05, 0.30, 0.50, 0.13),
        "水域及水利设施用地": (0.55, 0.10, 0.15, 0.05, 0.10, 0.05),
        "其他土地": (0.15, 0.03, 0.02, 0.20, 0.60),
    },
    "plateau_gorge": {
        "耕地": (0.01, 0.20, 0.79),
        "园地": (0.85, 0.00, 0.15),
        "林地": (0.55, 0.00, 0.42, 0.03),
        "草地": (0.80, 0.01, 0.19),
        "湿地": (0.05, 0.10, 0.45, 0.30, 0.10),
        "水域及水利设施用地": (0.45, 0.03, 0.07, 0.005, 0.015, 0.43),
        "其他土地": (0.03, 0.01, 0.01, 0.16, 0.79),
    },
    "plateau_pasture": {
        "耕地": (0.00, 0.15, 0.85),
        "园地": (0.85, 0.00, 0.15),
        "林地": (0.45, 0.00, 0.52, 0.03),
        "草地": (0.93, 0.02, 0.05),
        "湿地": (0.02, 0.08, 0.70, 0.10, 0.10),
        "水域及水利设施用地": (0.45, 0.10, 0.01, 0.005, 0.005, 0.43),
        "其他土地": (0.01, 0.005, 0.06, 0.20, 0.725),
    },
    "plateau_wetland": {
        "耕地": (0.00, 0.15, 0.85),
        "园地": (0.85, 0.00, 0.15),
        "林地": (0.30, 0.00, 0.67, 0.03),
        "草地": (0.93, 0.03, 0.04),
        "湿地": (0.01, 0.04, 0.75, 0.03, 0.17),
        "水域及水利设施用地": (0.50, 0.25, 0.01, 0.01, 0.01, 0.22),
        "其他土地": (0.01, 0.005, 0.10, 0.20, 0.685),
    },
}
SECOND_LEVEL_SHARES["plateau_peatland"] = {
    **SECOND_LEVEL_SHARES["plateau_wetland"],
    "湿地": (0.005, 0.03, 0.70, 0.015, 0.25),
    "水域及水利设施用地": (0.55, 0.30, 0.01, 0.02, 0.02, 0.10),
}

# Zone by prefecture adcode, then named county overrides.
ZONE_OF_PREFECTURE: dict[str, str] = {
    "510100": "basin",  # 成都
    "510300": "basin",  # 自贡
    "510400": "sw_valley",  # 攀枝花
    "510500": "basin",  # 泸州
    "510600": "basin",  # 德阳
    "510700": "basin",  # 绵阳
    "510800": "basin_edge",  # 广元
    "510900": "basin",  # 遂宁
    "511000": "basin",  # 内江
    "511100": "basin",  # 乐山
    "511300": "basin",  # 南充
    "511400": "basin",  # 眉山
    "511500": "basin",  # 宜宾
    "511600": "basin",  # 广安
    "511700": "basin",  # 达州
    "511800": "rim_mountain",  # 雅安
    "511900": "basin",  # 巴中
    "512000": "basin",  # 资阳
    "513200": "plateau_gorge",  # 阿坝
    "513300": "plateau_pasture",  # 甘孜
    "513400": "sw_mountain",  # 凉山
}
ZONE_OVERRIDES: dict[str, str] = {
    # 成都 central districts (锦江 青羊 金牛 武侯 成华)
    **{a: "urban_core" for a in ("510104", "510105", "510106", "510107", "510108")},
    # other city districts: 成都 inner ring; prefecture seats
    **{
        a: "city_district"
        for a in (
            "510112", "510113", "510114", "510115", "510116", "510117", "510118",  # 成都
            "510302",  # 自流井
            "510402", "510403",  # 攀枝花 东区 西区
            "510502", "510504",  # 江阳 龙马潭
            "510603",  # 旌阳
            "510703",  # 涪城
            "510903",  # 船山
            "511002",  # 内江 市中区
            "511102",  # 乐山 市中区
            "511302",  # 顺庆
            "511502",  # 翠屏
            "511702",  # 通川
        )
    },
    # basin margin: 龙门山 front, 峨眉/洪雅, 华蓥山, 雅安 lowland, 广元 south, 宜宾 south hills
    **{
        a: "basin_edge"
        for a in (
            "510129", "510181", "510182", "510183", "510184",  # 大邑 都江堰 彭州 邛崃 崇州
            "510682", "510683",  # 什邡 绵竹
            "510705", "510781",  # 安州 江油
            "511111", "511181",  # 沙湾 峨眉山
            "511423",  # 洪雅
            "511681",  # 华蓥
            "511802", "511803",  # 雨城 名山
            "511524", "511525",  # 长宁 高县
        )
    },
    # basin rim mountains: forest
    **{
        a: "rim_mountain"
        for a in (
            "510726", "510727",  # 北川 平武
            "510812", "510821", "510822",  # 朝天 旺苍 青川
            "510524", "510525",  # 叙永 古蔺
            "511526", "511527", "511528", "511529",  # 珙县 筠连 兴文 屏山
            "511113", "511129", "511132", "511133",  # 金口河 沐川 峨边 马边
            "511722", "511781",  # 宣汉 万源
            "511921", "511922",  # 通江 南江
        )
    },
    # 攀西 valleys
    **{a: "sw_valley" for a in ("513401", "513402", "513424", "513426", "513427")},
    # 甘孜 eastern gorges and the 木里 mountains
    **{a: "plateau_gorge" for a in ("513301", "513322", "513323", "513324", "513336", "513338", "513422")},
    # 阿坝 pastoral
    **{a: "plateau_pasture" for a in ("513230",)},  # 壤塘
    # 阿坝县 石渠: grassland with marsh meadows; 若尔盖 红原: peat bog
    **{a: "plateau_wetland" for a in ("513231", "513332")},
    **{a: "plateau_peatland" for a in ("513232", "513233")},
}

# Transition rules (三调 second-level classes): flow = floor(min(a × source_2020,
# b × destination_2020)). a = cap as a share of the source class in 2020, b = cap as a
# share of the destination class in 2020; 2020→2025 uses its own (smaller) a, b.
# Columns: class_from, class_to, a_15_20, b_15_20, a_20_25, b_20_25, why. All invented.
TRANSITION_RULES: tuple[tuple[str, str, float, float, float, float, str], ...] = (
    ("旱地", "乔木林地", 0.030, 0.020, 0.015, 0.010, "退耕还林 (grain for green)"),
    ("旱地", "其他林地", 0.010, 0.050, 0.005, 0.030, "退耕还林, not yet closed forest"),
    ("其他林地", "乔木林地", 0.050, 0.020, 0.030, 0.012, "young plantations close"),
    ("其他草地", "乔木林地", 0.030, 0.010, 0.015, 0.006, "afforestation of grassland"),
    ("天然牧草地", "灌木林地", 0.008, 0.020, 0.004, 0.010, "shrub encroachment / 退牧还林"),
    ("水田", "城镇村及工矿用地", 0.020, 0.040, 0.012, 0.025, "urban expansion"),
    ("旱地", "城镇村及工矿用地", 0.020, 0.040, 0.012, 0.025, "urban expansion"),
    ("果园", "城镇村及工矿用地", 0.020, 0.010, 0.012, 0.006, "urban expansion"),
    ("其他草地", "城镇村及工矿用地", 0.010, 0.005, 0.006, 0.003, "urban expansion"),
    ("旱地", "交通运输用地", 0.010, 0.060, 0.006, 0.040, "roads and railways"),
    ("水田", "交通运输用地", 0.005, 0.020, 0.003, 0.012, "roads and railways"),
    ("乔木林地", "交通运输用地", 0.0005, 0.020, 0.0003, 0.012, "mountain roads"),
    ("旱地", "果园", 0.020, 0.080, 0.010, 0.040, "cropland to orchards"),
    ("旱地", "茶园", 0.005, 0.050, 0.003, 0.030, "cropland to tea"),
    ("旱地", "设施农用地", 0.005, 0.100, 0.003, 0.060, "greenhouses, farm buildings"),
    ("旱地", "水库水面", 0.002, 0.030, 0.001, 0.015, "reservoir construction"),
    ("天然牧草地", "沼泽草地", 0.005, 0.030, 0.003, 0.015, "wetland restoration (plateau)"),
    ("裸土地", "其他草地", 0.020, 0.020, 0.010, 0.010, "revegetation"),
    ("沙地", "天然牧草地", 0.050, 0.003, 0.030, 0.002, "sand control (若尔盖, 石渠)"),
)

_MIX = np.uint64(2654435761)


def jitter(region_ids: np.ndarray, n_cols: int) -> np.ndarray:
    """Deterministic multipliers in [0.75, 1.25) per (county, class) from an integer hash of the adcode; no RNG."""
    codes = region_ids.astype(np.uint64)[:, None]
    cols = np.arange(1, n_cols + 1, dtype=np.uint64)[None, :]
    h = (codes * _MIX + cols * np.uint64(40503) + np.uint64(12345)) % np.uint64(2**32)
    h = (h ^ (h >> np.uint64(13))) * np.uint64(1274126177) % np.uint64(2**32)
    return 0.75 + 0.5 * (h.astype(np.float64) / 2.0**32)


def load_counties(path: Path) -> pl.DataFrame:
    """County list (adcode, prefecture_adcode, area_km2 …) sorted by adcode; area in ha and 0.01 ha (cents) added."""
    df = pl.read_csv(path, schema_overrides={"adcode": pl.Utf8, "prefecture_adcode": pl.Utf8})
    return (
        df.select("adcode", "name_zh", "prefecture_adcode", "area_km2")
        .sort("adcode")
        .with_columns(
            # area_km2 has one decimal: km2 × 100 = ha, × 100 again = cents, exact in integers
            area_cents=((pl.col("area_km2") * 10).round(0).cast(pl.Int64) * 1000),
        )
    )


def assign_zones(counties: pl.DataFrame) -> pl.DataFrame:
    """Add `zone`: the county override if any, else the prefecture default (ZONE_OVERRIDES, ZONE_OF_PREFECTURE)."""
    return counties.with_columns(
        zone=pl.col("adcode")
        .replace_strict(ZONE_OVERRIDES, default=None)
        .fill_null(pl.col("prefecture_adcode").replace_strict(ZONE_OF_PREFECTURE, default=None))
    )


def first_level_prior(counties: pl.DataFrame) -> np.ndarray:
    """Prior first-level areas (ha), counties × FIRST_NAMES: zone shares × hash jitter × county area."""
    shares = np.array([FIRST_LEVEL_PRIOR[z] for z in counties["zone"].to_list()], dtype=np.float64)
    shares = shares * jitter(counties["adcode"].cast(pl.Int64).to_numpy(), len(FIRST_NAMES))
    shares = shares / shares.sum(axis=1, keepdims=True)
    return shares * (counties["area_cents"].to_numpy()[:, None] / 100.0)


def ipf(prior: np.ndarray, row_targets: np.ndarray, col_targets: np.ndarray, tol: float = 1e-6, max_iter: int = 10_000) -> np.ndarray:
    """Iterative proportional fitting of a positive matrix to row and column sums (ha), both to < tol ha (Deming & Stephan 1940)."""
    x = prior.astype(np.float64, copy=True)
    for _ in range(max_iter):
        x *= (row_targets / x.sum(axis=1))[:, None]
        x *= (col_targets / x.sum(axis=0))[None, :]
        if np.abs(x.sum(axis=1) - row_targets).max() < tol:
            return x
    raise RuntimeError("IPF did not converge")


def controlled_round(x_cents: np.ndarray, row_cents: np.ndarray, col_cents: np.ndarray) -> np.ndarray:
    """Round a fitted matrix (in 0.01 ha) to integers with row and column sums exactly equal to the integer targets."""
    n = x_cents.shape[0]
    floor = np.floor(x_cents).astype(np.int64)
    frac = x_cents - floor
    need = col_cents - floor.sum(axis=0)  # units to add per column
    if (need < 0).any() or (need > n).any():
        raise RuntimeError("column rounding out of range; IPF not converged")
    # rank of each cell's fractional part within its column, largest first, ties by row
    order = np.argsort(-frac, axis=0, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(n)[:, None].repeat(x_cents.shape[1], axis=1), axis=0)
    y = floor + (rank < need[None, :]).astype(np.int64)
    # fix county sums by moving single cents between county pairs within one class
    excess = row_cents - y.sum(axis=1)  # > 0: county needs cents
    gainers = np.repeat(np.arange(n), np.clip(excess, 0, None))
    losers = np.repeat(np.arange(n), np.clip(-excess, 0, None))
    if len(gainers) != len(losers):
        raise RuntimeError("row and column targets disagree")
    if len(gainers):
        cols = np.argmax(np.minimum(y[gainers], y[losers]), axis=1)
        np.add.at(y, (gainers, cols), 1)
        np.add.at(y, (losers, cols), -1)
    if (y < 0).any():
        raise RuntimeError("negative cell after rounding")
    return y


def split_second_level(first_cents: np.ndarray, zones: Sequence[str]) -> np.ndarray:
    """Split first-level areas (0.01 ha, counties × 9) into CLASSES by zone shares; remainder to the largest share."""
    blocks = []
    for j, (first, subs) in enumerate(FIRST_LEVEL):
        v = first_cents[:, j]
        if len(subs) == 1:
            blocks.append(v[:, None])
            continue
        s = np.array([SECOND_LEVEL_SHARES[z][first] for z in zones], dtype=np.float64)
        s = s / s.sum(axis=1, keepdims=True)
        part = np.floor(v[:, None] * s).astype(np.int64)
        largest = np.argmax(s, axis=1)
        part[np.arange(len(v)), largest] += v - part.sum(axis=1)
        blocks.append(part)
    return np.concatenate(blocks, axis=1)


def transition_flows(l2020: np.ndarray, period: int) -> np.ndarray:
    """Flows (0.01 ha), counties × from × to, off-diagonal only: floor(min(a·source_2020, b·destination_2020)); period 0 = 2015→2020, 1 = 2020→2025."""
    k = len(CLASSES)
    idx = {c: i for i, c in enumerate(CLASSES)}
    a = np.zeros((k, k))
    b = np.zeros((k, k))
    for src, dst, a1, b1, a2, b2, _ in TRANSITION_RULES:
        a[idx[src], idx[dst]] = (a1, a2)[period]
        b[idx[src], idx[dst]] = (b1, b2)[period]
    if (a.sum(axis=1) >= 1).any() or (b.sum(axis=0) >= 1).any():
        raise RuntimeError("transition caps must sum to < 1 per class")
    src_cap = l2020[:, :, None] * a[None, :, :]
    dst_cap = l2020[:, None, :] * b[None, :, :]
    return np.floor(np.minimum(src_cap, dst_cap)).astype(np.int64)


def build(counties_path: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return (land cover, transitions) tables with area_ha formatted as text with 2 decimals."""
    counties = assign_zones(load_counties(counties_path))
    if counties["zone"].null_count():
        raise RuntimeError("county without zone")
    zones = counties["zone"].to_list()
    row_cents = counties["area_cents"].to_numpy()
    col_cents = np.array([SANDIAO_2019_HA[f] * 100 for f in FIRST_NAMES[:-1]], dtype=np.int64)
    col_cents = np.append(col_cents, row_cents.sum() - col_cents.sum())  # 其他土地 residual
    fitted = ipf(first_level_prior(counties), row_cents / 100.0, col_cents / 100.0)
    first = controlled_round(fitted * 100.0, row_cents, col_cents)
    l2020 = split_second_level(first, zones)

    f1 = transition_flows(l2020, 0)  # 2015→2020, back-cast
    stay1 = l2020 - f1.sum(axis=1)  # 2020 area not received from other classes
    l2015 = stay1 + f1.sum(axis=2)
    f2 = transition_flows(l2020, 1)  # 2020→2025, forward
    stay2 = l2020 - f2.sum(axis=2)
    l2025 = stay2 + f2.sum(axis=1)
    k = len(CLASSES)
    eye = np.eye(k, dtype=bool)
    m1 = np.where(eye[None], stay1[:, :, None] * eye[None], f1)
    m2 = np.where(eye[None], stay2[:, :, None] * eye[None], f2)
    for arr in (l2015, l2025, m1, m2):
        if (arr < 0).any():
            raise RuntimeError("negative area")

    ids = counties["adcode"].to_list()
    n = len(ids)
    lc = pl.DataFrame(
        {
            "region_id": np.tile(np.repeat(np.array(ids, dtype=object), k), len(YEARS)).tolist(),
            "year": np.repeat(np.array(YEARS, dtype=np.int32), n * k),
            "class": list(CLASSES) * (n * len(YEARS)),
            "cents": np.concatenate([l2015.ravel(), l2020.ravel(), l2025.ravel()]),
        }
    )
    lc = (
        lc.with_columns(pl.col("class").cast(pl.Enum(list(CLASSES))).alias("_order"))
        .filter(pl.col("cents") > 0)
        .sort("region_id", "year", "_order")
        .select("region_id", "year", "class", area_ha=_fmt(pl.col("cents")), data_status=pl.lit(DATA_STATUS))
    )
    tr_parts = []
    for (y0, y1), m in (((2015, 2020), m1), ((2020, 2025), m2)):
        tr_parts.append(
            pl.DataFrame(
                {
                    "region_id": np.repeat(np.array(ids, dtype=object), k * k).tolist(),
                    "year_from": np.full(n * k * k, y0, dtype=np.int32),
                    "year_to": np.full(n * k * k, y1, dtype=np.int32),
                    "class_from": np.tile(np.repeat(np.array(CLASSES, dtype=object), k), n).tolist(),
                    "class_to": np.tile(np.array(CLASSES, dtype=object), n * k).tolist(),
                    "cents": m.ravel(),
                }
            )
        )
    enum = pl.Enum(list(CLASSES))
    tr = (
        pl.concat(tr_parts)
        .filter(pl.col("cents") > 0)
        .sort(
            "region_id",
            "year_from",
            pl.col("class_from").cast(enum),
            pl.col("class_to").cast(enum),
        )
        .select(
            "region_id",
            "year_from",
            "year_to",
            "class_from",
            "class_to",
            area_ha=_fmt(pl.col("cents")),
            data_status=pl.lit(DATA_STATUS),
        )
    )
    return lc, tr


def _fmt(cents: pl.Expr) -> pl.Expr:
    """Exact 2-decimal text of a non-negative integer count of 0.01 ha."""
    return (cents // 100).cast(pl.Utf8) + "." + (cents % 100).cast(pl.Utf8).str.zfill(2)


def write(out_dir: Path, counties_path: Path = DEFAULT_COUNTIES) -> tuple[Path, Path]:
    """Build and write both CSV files (UTF-8, LF, no BOM) into out_dir; return their paths."""
    lc, tr = build(counties_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    p_lc, p_tr = out_dir / LANDCOVER_FILE, out_dir / TRANSITIONS_FILE
    lc.write_csv(p_lc, line_terminator="\n")
    tr.write_csv(p_tr, line_terminator="\n")
    return p_lc, p_tr


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the SYNTHETIC Sichuan demo land cover (not official statistics).")
    parser.add_argument("--counties", type=Path, default=DEFAULT_COUNTIES, help="counties_source.csv")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    args = parser.parse_args(argv)
    write(args.out, args.counties)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
