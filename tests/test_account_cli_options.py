"""`gep account --equivalent-overrides / --function-value-overrides`: values moved by hand-computed amounts, derived sets recorded."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from gep.cli.main import main


def _setup(tmp_path: Path) -> Path:
    d = tmp_path / "覆盖 参数"
    d.mkdir()
    (d / "lc.csv").write_text("region_id,year,class,area_ha\nC1,2020,水田,10\nC1,2020,阔叶,5\n", encoding="utf-8")
    (d / "功能量.csv").write_text("region_id,year,service,component,quantity,unit\n"
                                "C1,2020,water_supply,domestic,10,万m3\n", encoding="utf-8")
    (d / "当量覆盖.csv").write_text("table,ecosystem_type,service,value,source\n"
                                "equivalents,水田,food_production,2.0,local yield survey 2020 (test)\n",
                                encoding="utf-8")
    (d / "价格覆盖.csv").write_text("table,service,component,value,unit,source\n"
                                "prices,water_supply,domestic,3.0,CNY/m3,county water tariff 2020 (test)\n",
                                encoding="utf-8")
    return d


def _total(out: Path, method: str) -> float:
    g = pl.read_csv(out / "tables" / "gep.csv")
    return float(g.filter(pl.col("method") == method)["total_cny"][0])


def _sets(out: Path) -> dict[str, dict]:
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {s["id"]: s for s in m["coefficient_sets"]}


def test_equivalent_overrides_option(tmp_path: Path) -> None:
    d = _setup(tmp_path)
    run = CliRunner()
    base = ["account", "--landcover", str(d / "lc.csv"), "--method", "equivalent-factor"]
    assert run.invoke(main, [*base, "--out", str(d / "a")]).exit_code == 0
    res = run.invoke(main, [*base, "--equivalent-overrides", str(d / "当量覆盖.csv"), "--out", str(d / "b")])
    assert res.exit_code == 0, res.output
    # 水田 food_production 1.36 → 2.0 equivalents on 10 hm2 × 3406.5 CNY/hm2 = +21 801.6 CNY
    assert _total(d / "b", "equivalent_factor") - _total(d / "a", "equivalent_factor") == pytest.approx(
        10 * (2.0 - 1.36) * 3406.5, abs=1e-6)
    (row,) = _sets(d / "b")["xie2015+overrides"]["overrides"]
    assert row["old_value"] == 1.36 and row["new_value"] == 2.0


def test_function_value_overrides_option(tmp_path: Path) -> None:
    d = _setup(tmp_path)
    run = CliRunner()
    base = ["account", "--method", "function-value", "--quantities", str(d / "功能量.csv")]
    assert run.invoke(main, [*base, "--out", str(d / "a")]).exit_code == 0
    res = run.invoke(main, [*base, "--function-value-overrides", str(d / "价格覆盖.csv"), "--out", str(d / "b")])
    assert res.exit_code == 0, res.output
    # 10 万m3 = 100 000 m3: 2.6 → 3.0 CNY/m3 gives 260 000 → 300 000 CNY
    assert _total(d / "a", "function_value") == pytest.approx(260_000.0)
    assert _total(d / "b", "function_value") == pytest.approx(300_000.0)
    derived = _sets(d / "b")["function_value_cn+overrides"]
    assert derived["base_id"] == "function_value_cn"


def test_overrides_for_a_method_not_run_is_a_usage_error(tmp_path: Path) -> None:
    d = _setup(tmp_path)
    res = CliRunner().invoke(main, ["account", "--method", "function-value", "--quantities", str(d / "功能量.csv"),
                                    "--equivalent-overrides", str(d / "当量覆盖.csv"), "--out", str(d / "x")])
    assert res.exit_code == 2 and "--equivalent-overrides" in res.output
