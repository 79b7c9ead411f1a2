"""`gep carbon` CLI and the [carbon] run step: outputs, byte identity, errors, the Sichuan demo fragment."""

from __future__ import annotations

import tomllib
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from gep.cli.main import main

from gep.carbon.step import Config, run_step
from gep.config import RunConfig
from gep.pipeline import RunContext, demo_data_dir

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def case(tmp_path: Path) -> Path:
    d = tmp_path / "碳汇_测试"
    d.mkdir()
    (d / "lc.csv").write_text("region_id,year,class,area_ha\nR1,2015,1,500\nR1,2015,2,300\nR1,2025,1,520\nR1,2025,2,280\n",
                              encoding="utf-8")
    (d / "tr.csv").write_text("region_id,year_from,year_to,class_from,class_to,area_ha\n"
                              "R1,2015,2025,1,1,500\nR1,2015,2025,2,2,280\nR1,2015,2025,2,1,20\n", encoding="utf-8")
    (d / "pools.csv").write_text("lucode,lulc_name,c_above,c_below,c_soil,c_dead\n1,forest,60,15,100,5\n2,grass,2,8,80,0\n",
                                 encoding="utf-8")
    return d


def _run(d: Path, out: str, *extra: str) -> object:
    return CliRunner().invoke(main, ["carbon", "--landcover", str(d / "lc.csv"), "--transitions", str(d / "tr.csv"),
                                     "--coefficients", str(d / "pools.csv"), "--out", str(d / out), *extra])


def test_cli_outputs_and_byte_identity(case: Path) -> None:
    r1 = _run(case, "a", "--price-per-tc", "100", "--discount-rate", "7", "--price-change", "2")
    assert r1.exit_code == 0, r1.output
    flux = pl.read_csv(case / "a/tables/carbon_flux.csv")
    assert flux.columns == ["region_id", "year_from", "year_to", "method", "class_from", "class_to",
                            "delta_c_t", "co2e_t", "value_cny", "npv_cny"]
    assert pl.read_csv(case / "a/tables/carbon_stock.csv").columns == ["region_id", "year", "class", "pool", "c_t"]
    # 20 ha grass→forest: 20 × (180 − 90) = 1800 t C; NPV = 1800 × 100/10 × 6.961275455217626 = 125302.958…
    row = flux.row(0, named=True)
    assert (row["class_from"], row["class_to"], row["delta_c_t"]) == (2, 1, 1800.0)
    assert row["npv_cny"] == pytest.approx(1800 * 10 * 6.961275455217626, rel=1e-12)
    r2 = _run(case, "b", "--price-per-tc", "100", "--discount-rate", "7", "--price-change", "2")
    assert r2.exit_code == 0
    for name in ("carbon_flux.csv", "carbon_stock.csv", "carbon_gep_quantities.csv"):
        assert (case / "a/tables" / name).read_bytes() == (case / "b/tables" / name).read_bytes()


def test_cli_price_per_tco2_equals_per_tc(case: Path) -> None:
    assert _run(case, "c", "--price-per-tco2", "60").exit_code == 0
    flux = pl.read_csv(case / "c/tables/carbon_flux.csv")
    # 1800 t C = 6600 t CO2 × 60 = 396000 CNY
    assert flux["value_cny"][0] == pytest.approx(396000.0, rel=1e-12)


def test_cli_unreconciled_exits_2_and_writes_nothing(case: Path) -> None:
    (case / "tr.csv").write_text("region_id,year_from,year_to,class_from,class_to,area_ha\n"
                                 "R1,2015,2025,1,1,500\nR1,2015,2025,2,2,270\nR1,2015,2025,2,1,20\n", encoding="utf-8")
    res = _run(case, "bad")
    assert res.exit_code == 2
    assert "NOT_RECONCILED" in res.output and "region R1, class 2" in res.output
    assert not (case / "bad").exists()


def test_cli_both_prices_is_an_error(case: Path) -> None:
    res = _run(case, "x", "--price-per-tc", "1", "--price-per-tco2", "1")
    assert res.exit_code == 2 and not (case / "x").exists()


def test_config_rejects_bad_rates() -> None:
    with pytest.raises(ValueError):
        Config(discount_rate=-100)
    with pytest.raises(ValueError):
        Config(price_per_tc=1.0, price_per_tco2=1.0)


@pytest.mark.skipif(not (ROOT / "coefficients/crosswalks/tnls.csv").exists(), reason="tnls crosswalk not present")
def test_demo_fragment_runs_and_balances() -> None:
    from gep.extent import build_extent
    from gep.loaders import load_landcover

    cw = pl.read_csv(ROOT / "coefficients/crosswalks/tnls.csv", infer_schema=False)
    ext = build_extent(load_landcover(demo_data_dir() / "sichuan_landcover_synthetic.csv"), cw)
    frag = tomllib.loads((demo_data_dir() / "config/30_carbon.toml").read_text(encoding="utf-8"))["carbon"]
    ctx = RunContext(config=RunConfig())
    ctx.extent = ext
    run_step(Config.model_validate(frag), ctx)
    stock, flux = ctx.tables["carbon_stock"], ctx.tables["carbon_flux"]
    assert set(stock["year"].unique().to_list()) == {2015, 2020, 2025}
    # identity: Σ stock-difference flux per region and period = stock(t2) − stock(t1)
    tot = stock.group_by("region_id", "year").agg(pl.col("c_t").sum())
    sd = flux.filter(pl.col("method") == "stock_difference").group_by("region_id", "year_from", "year_to").agg(
        pl.col("delta_c_t").sum())
    chk = (sd.join(tot.rename({"year": "year_from", "c_t": "s1"}), on=["region_id", "year_from"])
           .join(tot.rename({"year": "year_to", "c_t": "s2"}), on=["region_id", "year_to"]))
    assert chk.height == 183 * 2
    assert (chk["delta_c_t"] - (chk["s2"] - chk["s1"])).abs().max() < 1e-6
    assert {w.code for w in ctx.warnings} >= {"UNVERIFIED_COEFFICIENT"}
    # the GEP quantities are a valid account quantities table
    q = ctx.tables["carbon_gep_quantities"]
    assert set(q["service"].unique().to_list()) == {"carbon_sequestration"} and set(q["unit"].unique()) == {"t CO2"}


def test_gep_quantities_are_readable_by_the_account(case: Path) -> None:
    pytest.importorskip("gep.account.inputs")
    from gep.account.inputs import read_quantities

    assert _run(case, "q", "--price-per-tc", "100").exit_code == 0
    q = read_quantities(case / "q/tables/carbon_gep_quantities.csv")
    # stock-difference only: 1800 t C over 10 years = 180 t C/yr = 660 t CO2/yr, reported for 2025
    assert q.select("year", "service", "component", "quantity").rows() == [(2025, "carbon_sequestration", "co2",
                                                                             pytest.approx(660.0))]
