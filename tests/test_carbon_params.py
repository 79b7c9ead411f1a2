"""Carbon coefficient set: contents, verification flags, class-level pools for built-up land, set errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from gep.cli.main import main

from gep.carbon import params
from gep.errors import InputError, Problem

CSET = params.load_carbon_set()


def test_every_row_carries_provenance_and_placeholders_are_unverified() -> None:
    for name, df in CSET.tables.items():
        for col in ("value", "unit", "price_year", "source", "verification"):
            assert col in df.columns, (name, col)
        assert df["value"].is_not_null().all(), name
        assert set(df["verification"].unique().to_list()) <= {"verified", "secondary", "unverified"}, name
        assert df["source"].str.len_chars().min() > 10, name
    # pools and rates are placeholders: every row must ship flagged unverified
    assert set(CSET.table("pools")["verification"].unique()) == {"unverified"}
    assert set(CSET.table("rates")["verification"].unique()) == {"unverified"}
    assert CSET.manifest["verification"] == "unverified"
    # 14 ecosystem types × 4 pools
    assert CSET.table("pools").height == 14 * 4
    # prices keyed by market and year, with their own price year
    cea = CSET.table("prices").filter(pl.col("market") == "CEA")
    assert dict(cea.select(pl.col("year").cast(pl.Int64), "value").iter_rows()) == {
        2021: 42.85, 2022: 55.30, 2023: 68.15, 2024: 95.8, 2025: 62.36}
    assert (cea["price_year"] == cea["year"].cast(pl.Int64)).all()


def test_class_pools_give_built_up_land_a_soil_pool(tmp_path: Path) -> None:
    folder = tmp_path / "我的碳系数"
    shutil.copytree(CSET.path, folder)
    (folder / "class_pools.csv").write_text(
        "class,pool,value,unit,price_year,source,verification\n"
        "城镇村及工矿用地,c_soil,30,t C/ha,,county soil survey 2020 (example),unverified\n", encoding="utf-8")
    with open(folder / "set.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[[tables]]\nname = "class_pools"\nfile = "class_pools.csv"\nkeys = ["class", "pool"]\n')
    own = params.load_carbon_set(str(folder))
    ext = pl.DataFrame({"class": ["城镇村及工矿用地", "交通运输用地", "乔木林地"], "ecosystem_type": [None, None, "阔叶"]})
    warn: list[Problem] = []
    d = params.set_densities(ext, own, warn)
    rows = {r["class"]: r for r in d.iter_rows(named=True)}
    assert rows["城镇村及工矿用地"]["c_soil"] == 30.0 and rows["城镇村及工矿用地"]["c_above"] == 0.0
    assert rows["乔木林地"]["c_soil"] == 100.0  # ecosystem-type row still used
    # only the class without any row is warned about
    assert [w.code for w in warn] == ["NO_CARBON_POOLS"] and warn[0].value == "交通运输用地"


def test_unknown_set_and_non_invest_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as ei:
        params.load_carbon_set("no_such_set")
    assert ei.value.codes == ["UNKNOWN_COEFFICIENT_SET"]
    d = tmp_path / "碳"
    d.mkdir()
    (d / "lc.csv").write_text("region_id,year,class,area_ha\nR1,2020,阔叶,10\n", encoding="utf-8")
    (d / "notpools.csv").write_text("code,carbon\n1,5\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["carbon", "--landcover", str(d / "lc.csv"), "--coefficients", str(d / "notpools.csv"),
                                    "--out", str(d / "o")])
    assert res.exit_code == 2 and "BAD_COEFFICIENTS" in res.output


def test_invest_table_bad_values_are_all_reported(tmp_path: Path) -> None:
    p = tmp_path / "pools.csv"
    p.write_text("lucode,c_above,c_below,c_soil,c_dead\n1,60,-1,100,5\n1,abc,1,1,1\n", encoding="utf-8")
    with pytest.raises(InputError) as ei:
        params.load_invest_table(p)
    assert sorted(ei.value.codes) == ["DUPLICATE_KEY", "NEGATIVE_VALUE", "WRONG_TYPE"]


def test_set_with_a_missing_table_file(tmp_path: Path) -> None:
    folder = tmp_path / "坏的系数集"
    shutil.copytree(CSET.path, folder)
    (folder / "rates.csv").unlink()
    with pytest.raises(InputError) as ei:
        params.load_carbon_set(str(folder))
    assert ei.value.codes == ["FILE_NOT_FOUND"] and ei.value.problems[0].file.endswith("rates.csv")


def test_sets_are_checked_by_the_one_coefficient_loader(tmp_path: Path) -> None:
    # the carbon step reads sets only through gep.coefficients.load_set: its unit and verification checks apply
    folder = tmp_path / "单位错误"
    shutil.copytree(CSET.path, folder)
    text = (folder / "pools.csv").read_text(encoding="utf-8").splitlines()
    text[3] = text[3].replace("t C/ha", "t C/furlong")  # spreadsheet row 4: 旱地 c_soil
    (folder / "pools.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as ei:
        params.load_carbon_set(str(folder))
    assert ei.value.codes == ["UNKNOWN_UNIT"] and ei.value.problems[0].row == 4
    # the loaded view keeps the validated set, which is what a run records
    assert CSET.raw is not None and CSET.raw.id == CSET.id == "carbon_default"
    assert CSET.raw.record()["verification"] == "unverified"
