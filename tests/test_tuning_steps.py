"""[uncertainty] / [sensitivity] steps in a gep run, and the CLI commands (hand-made fixture, 中文 paths)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from _tuning_fixtures import write_set
from click.testing import CliRunner
from gep.cli.main import main

from gep.config import load_config
from gep.errors import InputError
from gep.pipeline import execute

LANDCOVER = """region_id,year,class,area_ha
510001,2020,阔叶,100
510001,2020,旱地,50
510002,2020,旱地,200
510001,2025,阔叶,120
510001,2025,旱地,30
"""


def make_config(root: Path, extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    folder = write_set(root)
    (root / "土地覆盖.csv").write_text(LANDCOVER, encoding="utf-8")
    cfg = root / "运行.toml"
    cfg.write_text(f"""[run]
title = "tiny tuning run"
report = false

[inputs]
landcover = ["土地覆盖.csv"]

[account]
methods = ["equivalent_factor"]
equivalent_set = "{folder.as_posix()}"
{extra}
""", encoding="utf-8")
    return cfg


STEPS = """
[uncertainty]
draws = 500
seed = 11
default_range_pct = 10
default_range_for = ["all"]

[sensitivity]
outputs = ["equivalent_factor/all/2020/total", "auto/510001/latest/climate_regulation"]
default_range_pct = 10
default_range_for = ["all"]
sobol_samples = 64
"""


def test_run_with_both_sections_is_deterministic(tmp_path: Path) -> None:
    cfg = make_config(tmp_path / "运行目录", STEPS)
    out1 = execute(load_config(cfg), tmp_path / "结果1", "test")
    out2 = execute(load_config(cfg), tmp_path / "结果2", "test")
    for name in ("uncertainty", "sensitivity", "uncertainty_coefficients"):
        assert (out1 / "tables" / f"{name}.csv").read_bytes() == (out2 / "tables" / f"{name}.csv").read_bytes()
    u = pl.read_csv(out1 / "tables" / "uncertainty.csv", infer_schema=False)
    assert u.columns == ["region_id", "year", "method", "service", "point_cny", "mean_cny", "sd_cny", "p5_cny",
                         "p50_cny", "p95_cny", "draws", "seed"]
    tot = u.filter((pl.col("region_id") == "all") & (pl.col("year") == "2020") & (pl.col("service") == "total"))
    assert float(tot["point_cny"].item()) == 500_000.0  # hand total, see _tuning_fixtures
    p5, p95 = float(tot["p5_cny"].item()), float(tot["p95_cny"].item())
    assert p5 < 500_000.0 < p95
    s = pl.read_csv(out1 / "tables" / "sensitivity.csv", infer_schema=False)
    assert set(s["output"].to_list()) == {"equivalent_factor/all/2020/total",
                                          "equivalent_factor/510001/2025/climate_regulation"}
    assert set(s["analysis"].to_list()) == {"oat", "sobol"}
    oat = s.filter((pl.col("output") == "equivalent_factor/all/2020/total") & (pl.col("analysis") == "oat"))
    # D ±10 %: 500 000 × 0.2 = 100 000; E(阔叶, climate) on the set's 1.5–2.5: 100 ha × 1.0 × 1000 = 100 000
    top = oat.filter(pl.col("rank").is_in(["1", "2"])).sort("coefficient")
    assert top["coefficient"].to_list() == ["tiny:equivalents:阔叶/climate_regulation",
                                            "tiny:standard_value:standard_equivalent_value"]
    assert [float(v) for v in top["swing_cny"]] == pytest.approx([100_000.0, 100_000.0])
    import json

    manifest = json.loads((out1 / "manifest.json").read_text(encoding="utf-8"))
    assert "uncertainty" in manifest["steps"] and "sensitivity" in manifest["steps"]
    assert any(c["id"] == "tiny" for c in manifest["coefficient_sets"])


def test_nothing_to_analyse_is_a_config_problem(tmp_path: Path) -> None:
    root = tmp_path / "空"
    cfg = make_config(root, "[uncertainty]\ndraws = 10\nmodels = [\"carbon_stock\"]\ncarbon_set = \"no_such_set\"\n")
    with pytest.raises(InputError):
        execute(load_config(cfg), tmp_path / "out", "test")
    assert not (tmp_path / "out").exists()


def test_cli_uncertainty_and_sensitivity_repeat_a_run(tmp_path: Path) -> None:
    cfg = make_config(tmp_path / "命令行")
    run_dir = execute(load_config(cfg), tmp_path / "第一次", "test")
    runner = CliRunner()
    res = runner.invoke(main, ["uncertainty", str(run_dir), "--draws", "100", "--seed", "5", "--range-pct", "20",
                               "--range-for", "all", "--out", str(tmp_path / "区间")])
    assert res.exit_code == 0, res.output
    toml = (tmp_path / "区间" / "run.toml").read_text(encoding="utf-8")
    assert "[uncertainty]" in toml and "draws = 100" in toml and "seed = 5" in toml
    u = pl.read_csv(tmp_path / "区间" / "tables" / "uncertainty.csv", infer_schema=False)
    assert set(u["draws"].to_list()) == {"100"}
    # the new run directory repeats itself: gep run OUT/run.toml gives the same table
    again = execute(load_config(tmp_path / "区间" / "run.toml"), tmp_path / "再次", "test")
    assert (again / "tables" / "uncertainty.csv").read_bytes() == (tmp_path / "区间" / "tables" / "uncertainty.csv").read_bytes()

    res = runner.invoke(main, ["sensitivity", str(run_dir), "--output", "equivalent_factor/510002/2020/total",
                               "--no-sobol", "--range-pct", "10", "--range-for", "all", "--out", str(tmp_path / "敏感")])
    assert res.exit_code == 0, res.output
    s = pl.read_csv(tmp_path / "敏感" / "tables" / "sensitivity.csv", infer_schema=False)
    assert set(s["analysis"].to_list()) == {"oat"}
    # 510002 has only 旱地: E(旱地, food) and D have elasticity 1, the 阔叶 rows swing 0
    e = dict(zip(s["coefficient"].to_list(), s["elasticity"].to_list(), strict=True))
    assert float(e["tiny:equivalents:旱地/food_production"]) == pytest.approx(1.0)

    bad = runner.invoke(main, ["sensitivity", str(run_dir), "--output", "equivalent_factor/123/2020/total",
                               "--range-pct", "10", "--out", str(tmp_path / "坏")])
    assert bad.exit_code == 2 and "UNKNOWN_OUTPUT" in bad.output
    assert not (tmp_path / "坏").exists()
    nodir = runner.invoke(main, ["uncertainty", str(tmp_path), "--out", str(tmp_path / "x")])
    assert nodir.exit_code == 2 and "run.toml" in nodir.output


def test_cli_coefficients_effect(tmp_path: Path) -> None:
    cfg = make_config(tmp_path / "效果")
    run_dir = execute(load_config(cfg), tmp_path / "run", "test")
    folder = tmp_path / "效果" / "系数集_tiny"
    ov = tmp_path / "效果" / "覆盖.csv"
    ov.write_text("table,ecosystem_type,service,value,source\nequivalents,阔叶,climate_regulation,2.5,test\n",
                  encoding="utf-8")
    res = CliRunner().invoke(main, ["coefficients-effect", str(folder), "--overrides", str(ov), "--run", str(run_dir),
                                    "--out", str(tmp_path / "eff")])
    assert res.exit_code == 0, res.output
    by_coef = pl.read_csv(tmp_path / "eff" / "effect_by_coefficient.csv")
    # E(阔叶, climate) 2.0 → 2.5 in 2025: 120 ha × 0.5 × 1000 = +60 000 CNY on 330 000
    assert by_coef["change_cny"].to_list() == [pytest.approx(60_000.0)]
    by_out = pl.read_csv(tmp_path / "eff" / "effect_by_output.csv", schema_overrides={"region_id": pl.Utf8})
    row = by_out.filter((pl.col("region_id") == "all") & (pl.col("year") == 2020) & (pl.col("service") == "total"))
    assert row["change_cny"].item() == pytest.approx(50_000.0)  # 100 ha × 0.5 × 1000
    assert row["value_b_cny"].item() == pytest.approx(550_000.0)
    # printed: plain aligned tables (no Polars repr), whole yuan with thousands separators, signed changes
    assert "shape: (" not in res.output and "┆" not in res.output and "e+" not in res.output
    lines = res.output.splitlines()
    coef = next(line for line in lines if "阔叶/climate_regulation" in line)
    # the 2025 all-region total under A is 330 000 CNY (test_tuning_sensitivity: selector parsing)
    assert coef.split()[-4:] == ["2", "2.5", "+60,000", "+18.18"]  # 60 000 / 330 000 = 18.18 %
    assert "330,000 CNY under A" in res.output
    all2020 = next(line for line in lines if line.startswith("all ") and " 2020 " in line)
    assert all2020.split()[-4:] == ["500,000", "550,000", "+50,000", "+10.00"]


def test_effect_text_tables_top_and_carbon_units() -> None:
    """effect_text: headers with units, --top truncation noted, t C to 0.1, zero change without sign."""
    from gep.cli.common import text_width as _width
    from gep.cli.tuning import effect_text

    by_coef = pl.DataFrame({
        "coefficient": ["c:soc:林地", "c:agb:草地", "c:bgb:水田"], "unit": ["t C/ha", "t C/ha", "t C/ha"],
        "value_a": [120.0, 0.00012, 1234.5], "value_b": [100.0, 0.00015, 1234.5], "year": [2020, 2020, 2020],
        "total_a_c_t": [1_234_567.89] * 3, "change_c_t": [-20_000.04, 0.3, -0.01], "change_pct": [-1.62, -0.001, -0.0],
    })
    by_out = pl.DataFrame({
        "region_id": ["all", "510001"], "year": [2020, 2020], "method": ["carbon_stock"] * 2, "pool": ["total"] * 2,
        "value_a_c_t": [1_234_567.89, 1_234_567.89], "value_b_c_t": [1_214_568.16, 1_214_568.16],
        "change_c_t": [-19_999.74, -19_999.74], "change_pct": [-1.62, -1.62],
    })
    text = effect_text(by_coef, by_out, "c_t", "pool", "carbon_default", "my_carbon", top=2)
    lines = text.splitlines()
    assert "1,234,567.9 t C under A" in lines[0]
    assert lines[2].split() == ["#", "coefficient", "unit", "value", "A", "value", "B", "change", "(t", "C)",
                                "change", "%"]
    assert lines[4].split()[-4:] == ["120", "100", "-20,000.0", "-1.62"]
    assert lines[5].split()[-4:] == ["0.00012", "0.00015", "+0.3", "0.00"]
    assert "1 more" in lines[6] and "c:bgb:水田" not in text
    # columns line up (last column right-aligned): header, dashes and rows equally wide, 林地/草地 counted double
    assert len({_width(line) for line in lines[2:6]}) == 1
    assert text.splitlines()[-1].split() == ["510001", "2020", "carbon_stock", "1,234,567.9", "1,214,568.2",
                                             "-19,999.7", "-1.62"]


def test_both_account_methods_get_intervals(tmp_path: Path) -> None:
    root = tmp_path / "两种方法"
    cfg = make_config(root, "[uncertainty]\ndraws = 50\ndefault_range_pct = 10\ndefault_range_for = [\"all\"]\n")
    text = cfg.read_text(encoding="utf-8").replace('methods = ["equivalent_factor"]',
                                                    'methods = ["equivalent_factor", "function_value"]')
    cfg.write_text(text, encoding="utf-8")
    out = execute(load_config(cfg), tmp_path / "out", "test")
    u = pl.read_csv(out / "tables" / "uncertainty.csv", infer_schema=False)
    assert set(u["method"].to_list()) == {"equivalent_factor", "function_value"}
    gep = pl.read_csv(out / "tables" / "gep.csv", infer_schema=False).filter(pl.col("method") == "function_value")
    mine = u.filter((pl.col("method") == "function_value") & (pl.col("service") == "total")
                    & (pl.col("region_id") != "all")).sort("region_id", "year")
    assert mine["point_cny"].to_list() == gep.sort("region_id", "year")["total_cny"].to_list()


def test_no_ranges_warns_and_intervals_collapse(tmp_path: Path) -> None:
    import json

    cfg = make_config(tmp_path / "无范围", "[uncertainty]\ndraws = 20\ndefault_range_for = [\"all\"]\n")
    text = cfg.read_text(encoding="utf-8")
    # the tiny set has one range (阔叶 climate 1.5–2.5); remove it
    set_dir = tmp_path / "无范围" / "系数集_tiny"
    eq = (set_dir / "equivalents.csv").read_text(encoding="utf-8").replace("1.5,2.5,triangular", ",,")
    (set_dir / "equivalents.csv").write_text(eq, encoding="utf-8")
    cfg.write_text(text, encoding="utf-8")
    out = execute(load_config(cfg), tmp_path / "out", "test")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "NO_UNCERTAINTY_DECLARED" in [w["code"] for w in manifest["warnings"]]
    u = pl.read_csv(out / "tables" / "uncertainty.csv", infer_schema=False)
    assert (u["p5_cny"] == u["point_cny"]).all() and (u["p95_cny"] == u["point_cny"]).all()


def test_demo_point_values_equal_the_run_tables(tmp_path: Path) -> None:
    """On the synthetic Sichuan demo (both account methods, carbon-step quantities, statistics), the uncertainty
    point values are the run's own gep / carbon_stock numbers, bit for bit, and no basis warning is raised."""
    import json

    from gep.config import merge_tomls, parse_config
    from gep.pipeline import demo_data_dir

    files = sorted((demo_data_dir() / "config").glob("*.toml"))
    data, text = merge_tomls(files)
    data["run"]["report"] = False
    data["uncertainty"] = {"draws": 20, "default_range_pct": 10.0, "default_range_for": ["all"]}
    data.pop("sensitivity", None)
    out = execute(parse_config(data, source=str(demo_data_dir() / "config" / "demo.toml"), text=text),
                  tmp_path / "演示", "test")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "UNCERTAINTY_BASIS_DIFFERS" not in [w["code"] for w in manifest["warnings"]]
    u = pl.read_csv(out / "tables" / "uncertainty.csv", infer_schema=False)
    gep = pl.read_csv(out / "tables" / "gep.csv", infer_schema=False)
    for method in ("equivalent_factor", "function_value"):
        mine = u.filter((pl.col("method") == method) & (pl.col("service") == "total") & (pl.col("region_id") != "all"))
        ref = gep.filter(pl.col("method") == method).sort("region_id", "year")
        assert mine.sort("region_id", "year")["point_cny"].to_list() == ref["total_cny"].to_list()


def test_grain_standard_value_is_fixed_and_adjustments_apply(tmp_path: Path) -> None:
    """D from grain statistics per region (1/7 rule: 510001 = 6000 kg/ha × 2.8 CNY/kg / 7 = 2400 CNY/hm2) is not a
    coefficient; the equivalents still vary; adjustments scale the rows; points equal the run's gep table."""
    root = tmp_path / "粮食"
    cfg = make_config(root, "[uncertainty]\ndraws = 100\ndefault_range_pct = 10\ndefault_range_for = [\"all\"]\n")
    (root / "粮食.csv").write_text("region_id,crop,sown_area_ha,yield_kg_per_ha,price_cny_per_kg\n"
                                   "510001,rice,100,6000,2.8\n510002,rice,100,7000,2.8\n", encoding="utf-8")
    (root / "调整.csv").write_text("region_id,factor,ratio\n510001,npp,1.2\n", encoding="utf-8")
    text = cfg.read_text(encoding="utf-8").replace(
        'methods = ["equivalent_factor"]', 'methods = ["equivalent_factor"]\ngrain = "粮食.csv"\nadjustments = "调整.csv"')
    cfg.write_text(text, encoding="utf-8")
    out = execute(load_config(cfg), tmp_path / "out", "test")
    coefs = pl.read_csv(out / "tables" / "uncertainty_coefficients.csv")
    assert "tiny:standard_value:standard_equivalent_value" not in coefs["coefficient"].to_list()
    assert coefs.height == 4  # the four equivalents
    u = pl.read_csv(out / "tables" / "uncertainty.csv", infer_schema=False)
    gep = pl.read_csv(out / "tables" / "gep.csv", infer_schema=False).sort("region_id", "year")
    mine = u.filter((pl.col("service") == "total") & (pl.col("region_id") != "all")).sort("region_id", "year")
    assert mine["point_cny"].to_list() == gep["total_cny"].to_list()
    # 510001 2020: climate 100 ha × 2.0 × 2400 × 1.2 (npp) = 576 000; food (100·0.5 + 50·1.0) × 2400 × 1.2 = 288 000
    climate = u.filter((pl.col("region_id") == "510001") & (pl.col("year") == "2020")
                       & (pl.col("service") == "climate_regulation"))
    assert float(climate["point_cny"].item()) == pytest.approx(576_000.0)


def test_rolled_up_accounts_warn_that_intervals_are_for_counties(tmp_path: Path) -> None:
    import json

    root = tmp_path / "汇总"
    cfg = make_config(root, "[uncertainty]\ndraws = 10\ndefault_range_pct = 5\ndefault_range_for = [\"all\"]\n")
    text = cfg.read_text(encoding="utf-8").replace('title = "tiny tuning run"', 'title = "tiny"\nregions = "sichuan"')
    text = text.replace('methods = ["equivalent_factor"]', 'methods = ["equivalent_factor"]\nlevel = "prefecture"')
    text = text.replace("510001", "510104").replace("510002", "510105")
    cfg.write_text(text, encoding="utf-8")
    lc = (root / "土地覆盖.csv").read_text(encoding="utf-8").replace("510001", "510104").replace("510002", "510105")
    (root / "土地覆盖.csv").write_text(lc, encoding="utf-8")
    out = execute(load_config(cfg), tmp_path / "out", "test")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "UNCERTAINTY_BASIS_DIFFERS" in [w["code"] for w in manifest["warnings"]]
    u = pl.read_csv(out / "tables" / "uncertainty.csv", infer_schema=False)
    assert {"510104", "510105", "all"} == set(u["region_id"].to_list())
