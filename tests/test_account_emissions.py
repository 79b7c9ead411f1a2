"""Air and water purification capped at the region's emissions (issue 14, item 3).

min(capacity × area, emissions) per region, year and pollutant (大气净化 "amount = local
emission amount (capped by purification capacity)"; 水质净化 "= emissions"); without emissions the services are
not computed from per-area capacity, with a PURIFICATION_NOT_COMPUTED warning.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from gep.cli.main import main

from gep.account.inputs import read_emissions
from gep.errors import InputError

# County 510104, 2020: 100 ha 乔木林地 (→ 针阔混交), 20 ha 沼泽地 (→ 湿地), 10 ha 河流水面 (→ 水系)
LC = ("region_id,year,class,area_ha\n"
      "510104,2020,乔木林地,100\n510104,2020,沼泽地,20\n510104,2020,河流水面,10\n")
# 环境统计-style table: Chinese pollutant names, mixed units
EMISSIONS = ("地区代码,年份,污染物,排放量,单位\n"
             "510104,2020,二氧化硫,10,t\n"
             "510104,2020,氮氧化物,5000,kg\n"
             "510104,2020,烟粉尘,0.05,万t\n"
             "510104,2020,化学需氧量,12,t\n")


def _run(d: Path, *extra: str) -> tuple[int, str, Path]:
    out = d / ("out" + str(len(extra)))
    res = CliRunner().invoke(main, ["account", "--landcover", str(d / "lc.csv"), "--crosswalk", "tnls",
                                    "--method", "function-value", *extra, "--out", str(out)])
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    return res.exit_code, res.output, out


@pytest.fixture()
def d(tmp_path: Path) -> Path:
    (tmp_path / "lc.csv").write_text(LC, encoding="utf-8")
    (tmp_path / "排放.csv").write_text(EMISSIONS, encoding="utf-8")
    return tmp_path


def _purification(out: Path) -> dict[str, tuple[float, float]]:
    s = pl.read_csv(out / "tables" / "services.csv", schema_overrides={"component": pl.Utf8})
    s = s.filter(pl.col("service").is_in(["air_purification", "water_purification"]))
    g = s.group_by("component").agg(pl.col("quantity").sum(), pl.col("value_cny").sum())
    return {c: (q, v) for c, q, v in g.iter_rows()}


def test_hand_computed_county_cap(d: Path) -> None:
    code, out_text, out = _run(d, "--emissions", str(d / "排放.csv"))
    assert code == 0, out_text
    p = _purification(out)
    # capacities (function_value_cn rates × area): SO2 100 ha × 0.152125 t/hm2 (mixed forest = mean of conifer
    # 215.60 and broadleaf 88.65 kg/hm2) = 15.2125 t; NOx 100 × 0.006 = 0.6 t; dust 100 × 21.655 = 2165.5 t;
    # COD (20 + 10) × 0.5 = 15 t; NH3-N (20 + 10) × 0.05 = 1.5 t
    # SO2: min(15.2125, 10) = 10 t × 1200 元/t = 12 000 元 (the emissions bind)
    assert p["so2"] == pytest.approx((10.0, 12_000.0))
    # NOx: min(0.6, 5000 kg = 5 t) = 0.6 t × 630 = 378 元 (the capacity binds)
    assert p["nox"] == pytest.approx((0.6, 378.0))
    # dust: min(2165.5, 0.05 万t = 500 t) = 500 t × 150 = 75 000 元
    assert p["dust"] == pytest.approx((500.0, 75_000.0))
    # COD: min(15, 12) = 12 t × 700 = 8 400 元, split over 湿地 and 水系 in proportion to capacity (8 and 4 t)
    assert p["cod"] == pytest.approx((12.0, 8_400.0))
    s = pl.read_csv(out / "tables" / "services.csv")
    cod = dict(s.filter(pl.col("component") == "cod").select("ecosystem_type", "quantity").iter_rows())
    assert cod == pytest.approx({"湿地": 8.0, "水系": 4.0})
    # no NH3-N emission row: not computed (never from the capacity of 1.5 t alone), warned
    assert "nh3n" not in p
    assert "PURIFICATION_NOT_COMPUTED" in out_text and "water_purification/nh3n" in out_text
    # provenance: the capped rows cite the emission row
    ids = s.filter(pl.col("component") == "so2")["coefficient_id"].to_list()
    assert all(i.endswith("|emissions:排放.csv:row 2") for i in ids)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert any(i["role"] == "emissions" for i in manifest["inputs"])


def test_without_emissions_purification_is_not_computed(d: Path) -> None:
    code, out_text, out = _run(d)
    assert code == 0
    assert _purification(out) == {}
    assert "PURIFICATION_NOT_COMPUTED" in out_text and "no emissions table" in out_text
    assert "air_purification/so2" in out_text and "water_purification/cod" in out_text


def test_county_quantities_are_not_capped(d: Path) -> None:
    (d / "q.csv").write_text("region_id,year,service,component,quantity,unit\n"
                             "510104,2020,air_purification,so2,40,t\n", encoding="utf-8")
    code, out_text, out = _run(d, "--emissions", str(d / "排放.csv"), "--quantities", str(d / "q.csv"))
    assert code == 0, out_text
    assert _purification(out)["so2"] == pytest.approx((40.0, 48_000.0))  # the county's own measured 功能量


def test_emissions_table_problems(d: Path) -> None:
    (d / "bad.csv").write_text("region_id,year,pollutant,amount,unit\n510104,2020,汞,1,t\n510104,2020,so2,1,m3\n",
                               encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_emissions(d / "bad.csv", "bad.csv")
    codes = {(p.code, p.row) for p in e.value.problems}
    assert ("INVALID_VALUE", 2) in codes and ("UNIT_MISMATCH", 3) in codes


def test_gep_validate_recognises_emissions(d: Path) -> None:
    res = CliRunner().invoke(main, ["validate", str(d / "排放.csv")])
    assert res.exit_code == 0, res.output
    assert "emissions" in res.output


def test_run_config_emissions(d: Path) -> None:
    (d / "run.toml").write_text('[run]\ntitle = "e"\nreport = false\n[inputs]\nlandcover = ["lc.csv"]\n'
                                'crosswalk = "tnls"\n[account]\nemissions = "排放.csv"\n', encoding="utf-8")
    res = CliRunner().invoke(main, ["run", str(d / "run.toml"), "--out", str(d / "o")])
    assert res.exit_code == 0, res.output
    assert _purification(d / "o")["so2"] == pytest.approx((10.0, 12_000.0))
