"""Sichuan 2023 incentive-policy factor allocation (transfer.factor_allocation, [transfer] incentive, `gep transfer`)."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from gep.cli.main import main
from hypothesis import given, settings
from hypothesis import strategies as st

from gep.compensation.transfer import factor_allocation
from gep.compensation.transfer_step import Config as TransferConfig
from gep.config import RunConfig, RunSection
from gep.errors import InputError
from gep.pipeline import demo_data_dir, execute

D = Decimal


def test_exact_fen_with_largest_remainder_and_basis() -> None:
    # R = 1,000,000, weights 0.5/0.5; importance A 2, B 1, C 1 (Σ 4); fund A 0, B 1, C 2 (Σ 3)
    # A = 0.5·2/4 = 0.25 → 250,000.00; B = 0.5·1/4 + 0.5·1/3 = 0.291666… → 291,666.666…;
    # C = 0.5·1/4 + 0.5·2/3 = 0.458333… → 458,333.333…; cut: 250,000.00 + 291,666.66 + 458,333.33 = 999,999.99,
    # the missing fen goes to the largest remainder (B .00666… > C .00333…) → B 291,666.67
    f = pl.DataFrame({"region_id": ["C", "A", "B"], "importance": [1.0, 2.0, 1.0], "fund_cny": [2.0, 0.0, 1.0]})
    out = factor_allocation(f, "1000000", {"importance": 0.5, "fund_cny": 0.5}, payer="SC")
    assert out.select("region_id", "allocation_cny").rows() == [
        ("A", D("250000.00")), ("B", D("291666.67")), ("C", D("458333.33"))]
    assert sum(out["allocation_cny"].to_list(), D(0)) == D("1000000.00")
    assert out["exact_cny"].to_list() == [D("250000.000000"), D("291666.666667"), D("458333.333333")]
    assert out["rounding_cny"].to_list() == [D("0"), D("0.003333"), D("-0.003333")]
    b = out.filter(pl.col("region_id") == "B").row(0, named=True)
    assert b["payer"] == "SC" and b["rule"] == "INCENTIVE_factor" and b["verification"] == "unverified"
    assert b["basis"].startswith("R 1000000 CNY × (0.5×1/4 + 0.5×1/3) = R × 0.2916666667 = 291666.666667 CNY → "
                                 "cut to 291666.66; +0.01 largest remainder → 291666.67")
    assert "UNVERIFIED parameters" in b["basis"] and "incentive_weights" in b["basis"]
    assert out["share_fund_cny"].to_list() == pytest.approx([0.0, 1 / 3, 2 / 3])
    verified = factor_allocation(f, 1000000, {"importance": 0.5, "fund_cny": 0.5}, verification="verified")
    assert not any("UNVERIFIED" in x for x in verified["basis"])
    assert verified["allocation_cny"].to_list() == out["allocation_cny"].to_list()


def test_bad_factors_and_weights_are_input_errors() -> None:
    f = pl.DataFrame({"region_id": ["A", "B"], "x": [1.0, -2.0], "z": [0.0, 0.0], "n": [1.0, None]})
    with pytest.raises(InputError) as exc:
        factor_allocation(f, 100, {"x": 1.0, "z": 1.0, "n": 1.0})
    assert sorted(exc.value.codes) == ["INVALID_VALUE", "MISSING_VALUE", "NEGATIVE_VALUE"]
    assert {p.value for p in exc.value.problems if p.code != "INVALID_VALUE"} == {"B", "B: -2.0"}
    with pytest.raises(InputError) as exc:
        factor_allocation(f, 100, {"missing": 1.0})
    assert exc.value.codes == ["MISSING_COLUMN"]
    with pytest.raises(InputError) as exc:
        factor_allocation(f, 100, {"x": -1.0})
    assert exc.value.codes == ["INVALID_VALUE"]
    with pytest.raises(InputError) as exc:
        factor_allocation(f, -100, {"x": 1.0})
    assert exc.value.codes == ["NEGATIVE_VALUE"]


@settings(max_examples=60, deadline=None)
@given(
    pot=st.decimals(min_value=0, max_value=D("1e10"), places=2),
    a=st.lists(st.floats(min_value=0, max_value=1e12, allow_nan=False), min_size=1, max_size=8),
    w=st.floats(min_value=0.01, max_value=1.0),
)
def test_allocations_add_up_to_the_pot_exactly(pot: Decimal, a: list[float], w: float) -> None:
    n = len(a)
    f = pl.DataFrame({"region_id": [f"R{i}" for i in range(n)], "x": [v + 1.0 for v in a], "y": list(range(1, n + 1))})
    out = factor_allocation(f, pot, {"x": w, "y": 1.0 - w + 0.01})
    assert sum(out["allocation_cny"].to_list(), D(0)) == pot
    assert all(abs(r) < D("0.01") for r in out["rounding_cny"].to_list())


def _accounts(dir_: Path) -> Path:
    t = dir_ / "tables"
    t.mkdir(parents=True)
    ids = ["510121", "510185", "512002", "510104"]  # 金堂, 简阳 (成都), 雁江 (资阳) on the 沱江; 锦江区 is not
    pl.DataFrame({"region_id": ids, "year": [2020] * 4, "method": ["function_value"] * 4,
                  "category": ["regulating"] * 4, "service": ["water_conservation"] * 4,
                  "value_cny": [300.0, 100.0, 200.0, 1000.0]}).write_csv(t / "services.csv")
    pl.DataFrame({"region_id": ids, "year": [2020] * 4, "method": ["function_value"] * 4,
                  "provisioning_cny": [0.0] * 4, "regulating_cny": [300.0, 100.0, 200.0, 1000.0],
                  "supporting_cny": [0.0] * 4, "cultural_cny": [0.0] * 4,
                  "total_cny": [300.0, 100.0, 200.0, 1000.0], "gdp_cny": [1e4] * 4}).write_csv(t / "gep.csv")
    pl.DataFrame({"region_id": ids, "year": [2020] * 4, "agreed_fund_cny": [100.0, 0.0, 100.0, 1000.0]}).write_csv(
        dir_ / "协议资金.csv")
    return dir_


def _run(tmp: Path, name: str, **kw: object) -> pl.DataFrame:
    acc = tmp / "账户"
    if not acc.exists():
        _accounts(acc)
    cfg = RunConfig(run=RunSection(regions="sichuan", synthetic=True, report=False),
                    steps={"transfer": TransferConfig(accounts=str(acc), socio=str(acc / "协议资金.csv"), year=2020,
                                                      calculators=["incentive"], **kw)})  # type: ignore[arg-type]
    out = execute(cfg, tmp / name)
    return pl.read_csv(out / "tables" / "transfer_incentive_allocation.csv", infer_schema_length=0)


def test_step_prefecture_level_on_the_tuojiang(tmp_path: Path) -> None:
    # counties on 沱江干流 only (锦江区 510104 left out), summed to prefectures:
    # 成都 510100: regulating 300 + 100 = 400, fund 100; 资阳 512000: 200, 100; Σ 600 / 200
    # 成都 = 0.5·400/600 + 0.5·100/200 = 7/12 → 583.333…; 资阳 = 5/12 → 416.666…; floors 583.33 + 416.66 = 999.99,
    # the fen goes to 资阳 (remainder .00666… > .00333…)
    t = _run(tmp_path / "生态 激励", "out", incentive_total_cny="1000", incentive_river="沱江干流",
             incentive_weights={"gep_regulating_cny": 0.5, "agreed_fund_cny": 0.5})
    assert t.select("region_id", "n_counties", "counties", "allocation_cny").rows() == [
        ("510100", "2", "510121 510185", "583.33"), ("512000", "1", "512002", "416.67")]
    assert set(t["payer"]) == {"SC_PROVINCE_TREASURY"} and set(t["level"]) == {"prefecture"}
    assert all("UNVERIFIED" in b for b in t["basis"])


def test_step_county_level_regions_and_errors(tmp_path: Path) -> None:
    # 金堂 = 0.5·300/400 + 0.5·100/100 = 0.875 → 875.00; 简阳 0.125 → 125.00
    t = _run(tmp_path, "county", incentive_total_cny=1000, incentive_level="county",
             incentive_regions=["510121", "510185"], incentive_weights_verification="verified",
             incentive_weights={"gep_regulating_cny": 0.5, "agreed_fund_cny": 0.5}, incentive_weights_source="test")
    assert t.select("region_id", "allocation_cny", "verification").rows() == [
        ("510121", "875.00", "verified"), ("510185", "125.00", "verified")]
    assert not any("UNVERIFIED" in b for b in t["basis"])
    with pytest.raises(InputError) as exc:
        _run(tmp_path, "bad", incentive_weights={"gep_nothing_cny": 1.0, "fund": 1.0})
    assert exc.value.codes == ["MISSING_COLUMN", "MISSING_COLUMN"]
    assert not (tmp_path / "bad").exists()
    with pytest.raises(InputError) as exc:
        _run(tmp_path, "bad2", incentive_river="没有这条河")
    assert exc.value.codes == ["INVALID_VALUE"]


def test_cli_transfer_incentive(tmp_path: Path) -> None:
    acc = _accounts(tmp_path / "账户")
    out = tmp_path / "输出"
    res = CliRunner().invoke(main, ["transfer", "--accounts", str(acc), "--socio", str(acc / "协议资金.csv"),
                                    "--year", "2020", "--incentive-total", "1000", "--incentive-river", "沱江干流",
                                    "--calculator", "priority", "--out", str(out)])
    assert res.exit_code == 0, res.output
    t = pl.read_csv(out / "tables" / "transfer_incentive_allocation.csv", infer_schema_length=0)
    assert t["allocation_cny"].to_list() == ["583.33", "416.67"]
    assert (out / "tables" / "transfer_priority.csv").exists()
    res = CliRunner().invoke(main, ["transfer", "--accounts", str(acc), "--incentive-total", "1000",
                                    "--incentive-weight", "bad", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "FACTOR=WEIGHT" in res.output


def test_demo_config_runs_the_incentive_on_demo_factors() -> None:
    cfg = tomllib.loads((demo_data_dir() / "config" / "40_compensation.toml").read_text(encoding="utf-8"))["transfer"]
    t = TransferConfig(**cfg)
    assert "incentive" in t.calculators and t.incentive_weights_verification == "unverified"
    socio = pl.read_csv(demo_data_dir() / "compensation" / "sichuan_socioeconomic_synthetic.csv")
    for f in t.incentive_weights:
        assert f.startswith("gep_") or f in socio.columns
    assert (socio["agreed_fund_cny"] >= 0).all() and set(socio["data_status"]) == {"synthetic"}
