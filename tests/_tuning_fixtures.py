"""Hand-made fixtures shared by the tests of gep.tuning (not a test module itself).

Extent (ha) and a two-type, two-service equivalent-factor set with D = 1000 CNY/hm2:

    E        food_production  climate_regulation
    阔叶          0.5               2.0   (range 1.5–2.5, triangular, in the set)
    旱地          1.0               0.0

    region 510001 2020: 阔叶 100, 旱地 50, 城镇 30 (no type) → food (100·0.5 + 50·1.0)·1000 = 100 000,
                        climate 100·2.0·1000 = 200 000, total 300 000
    region 510002 2020: 旱地 200 → food 200 000, climate 0, total 200 000
    region 510001 2025: 阔叶 120, 旱地 30 → food 90 000, climate 240 000, total 330 000
    all 2020 = 500 000; all 2025 = 330 000

Carbon pools (t C/ha): 阔叶 c_above 50, c_soil 100; 旱地 c_soil 40 (others 0)
    510001 2020: 100·150 + 50·40 = 17 000 t C; 510002 2020: 8 000; 510001 2025: 18 000 + 1 200 = 19 200.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

EXTENT = pl.DataFrame(
    {
        "region_id": ["510001", "510001", "510001", "510002", "510001", "510001"],
        "year": [2020, 2020, 2020, 2020, 2025, 2025],
        "class": ["阔叶", "旱地", "城镇", "旱地", "阔叶", "旱地"],
        "ecosystem_type": ["阔叶", "旱地", None, "旱地", "阔叶", "旱地"],
        "area_ha": [100.0, 50.0, 30.0, 200.0, 120.0, 30.0],
    },
    schema_overrides={"year": pl.Int32},
)

SET_TOML = """id = "tiny"
version = "1.0.0"
title = "tiny test set"
method_family = "equivalent_factor"
price_year = 2010
currency = "CNY"
citation = "hand-made test fixture"
license = "CC0"
verification = "secondary"

[[tables]]
name = "equivalents"
file = "equivalents.csv"
keys = ["ecosystem_type", "service"]

[[tables]]
name = "standard_value"
file = "standard_value.csv"
keys = ["parameter"]
"""

EQUIVALENTS = """ecosystem_type,service,value,unit,price_year,source,verification,low,high,distribution,note
阔叶,food_production,0.5,equivalent,,test,secondary,,,,
阔叶,climate_regulation,2.0,equivalent,,test,verified,1.5,2.5,triangular,
旱地,food_production,1.0,equivalent,,test,unverified,,,,
旱地,climate_regulation,0.0,equivalent,,test,unverified,,,,
"""

STANDARD_VALUE = """parameter,value,unit,price_year,source,verification,low,high,distribution,note
standard_equivalent_value,1000,CNY/hm2,2010,test,secondary,,,,
"""

CARBON_TOML = """id = "tinyc"
version = "0.1.0"
title = "tiny carbon pools"
method_family = "carbon"
citation = "hand-made test fixture"
license = "CC0"
verification = "unverified"

[[tables]]
name = "pools"
file = "pools.csv"
keys = ["ecosystem_type", "pool"]
"""

POOLS = """ecosystem_type,pool,value,unit,price_year,source,verification,low,high,distribution,note
阔叶,c_above,50,t C/ha,,test,unverified,40,60,uniform,
阔叶,c_below,0,t C/ha,,test,unverified,,,,
阔叶,c_soil,100,t C/ha,,test,unverified,,,,
阔叶,c_dead,0,t C/ha,,test,unverified,,,,
旱地,c_above,0,t C/ha,,test,unverified,,,,
旱地,c_below,0,t C/ha,,test,unverified,,,,
旱地,c_soil,40,t C/ha,,test,unverified,,,,
旱地,c_dead,0,t C/ha,,test,unverified,,,,
"""


def write_set(root: Path) -> Path:
    """The tiny equivalent-factor set in ``root/系数集_tiny``."""
    folder = root / "系数集_tiny"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "set.toml").write_text(SET_TOML, encoding="utf-8")
    (folder / "equivalents.csv").write_text(EQUIVALENTS, encoding="utf-8")
    (folder / "standard_value.csv").write_text(STANDARD_VALUE, encoding="utf-8")
    return folder


def write_carbon_set(root: Path) -> Path:
    """The tiny carbon set in ``root/碳_tinyc``."""
    folder = root / "碳_tinyc"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "set.toml").write_text(CARBON_TOML, encoding="utf-8")
    (folder / "pools.csv").write_text(POOLS, encoding="utf-8")
    return folder


def load_tiny(root: Path):  # type: ignore[no-untyped-def]
    from gep.coefficients import load_set

    return load_set(write_set(root))


def load_tiny_carbon(root: Path):  # type: ignore[no-untyped-def]
    from gep.coefficients import load_set

    return load_set(write_carbon_set(root))
