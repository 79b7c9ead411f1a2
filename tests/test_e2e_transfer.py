"""End-to-end: a finance bureau runs the transfer calculators (`gep transfer`) on a finished GEP run.

GEP run: tests/data/e2e/tuning/base_run.toml (equivalent factor, 2020). Non-market value = total −
provisioning: 510104 15 983 298 + 3 154 419 = 19 137 717; 513223 137 425 023 − 9 211 176 = 128 213 847 CNY.
Socio table (tests/data/e2e/transfer): 510104 urban 1 000 people at 50 000, rural 0 at 20 000, GDP 1e9;
513223 urban 1 000 at 40 000, rural 2 000 at 15 000, GDP 5e8.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from _e2e import gep, read_csv
from click.testing import CliRunner
from gep.cli.main import main

E2E = Path(__file__).parent / "data" / "e2e"




@pytest.fixture(scope="module")
def accounts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("转移支付") / "核算"
    res = gep("run", E2E / "tuning" / "base_run.toml", "--out", out)
    assert res.exit_code == 0, res.output
    return out


def test_opportunity_cost_and_priority_by_hand(accounts: Path, tmp_path: Path) -> None:
    out = tmp_path / "测算"
    res = gep("transfer", "--accounts", accounts, "--socio", E2E / "transfer" / "socio_2020_en.csv",
              "--method", "equivalent_factor", "--calculator", "opportunity_cost", "--calculator", "priority",
              "--out", out)
    assert res.exit_code == 0, res.output
    oc = {r["region_id"]: r for r in read_csv(out / "tables" / "transfer_opportunity_cost.csv")}
    # reference incomes = population-weighted means: urban (1000·50000 + 1000·40000)/2000 = 45 000,
    # rural (0·20000 + 2000·15000)/2000 = 15 000; 513223: (45 000 − 40 000)·1000 + 0·2000 = 5 000 000;
    # 510104 is above the reference (negative gaps count as 0)
    assert float(oc["513223"]["ref_income_urban_cny"]) == pytest.approx(45_000)
    assert float(oc["513223"]["floor_cny"]) == pytest.approx(5_000_000)
    assert float(oc["510104"]["floor_cny"]) == 0.0
    pr = {r["region_id"]: r for r in read_csv(out / "tables" / "transfer_priority.csv")}
    # ECPS = non-market value / GDP: 128 213 847 / 5e8 = 0.256428 (rank 1); 19 137 717 / 1e9 = 0.019138
    assert float(pr["513223"]["ecps"]) == pytest.approx(128_213_847 / 5e8)
    assert float(pr["510104"]["ecps"]) == pytest.approx(19_137_717 / 1e9)
    assert (pr["513223"]["priority_rank"], pr["510104"]["priority_rank"]) == ("1", "2")


def test_socio_table_with_chinese_headers(accounts: Path, tmp_path: Path) -> None:
    out = tmp_path / "中文表头"
    res = CliRunner().invoke(main, ["transfer", "--accounts", str(accounts), "--socio",
                                    str(E2E / "transfer" / "socio_2020.csv"), "--method", "equivalent_factor",
                                    "--calculator", "priority", "--out", str(out)])
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert res.exit_code in (0, 2), res.output
    if res.exit_code == 0:  # GDP(万元) 100 000 → 1e9 CNY, as with the English table
        pr = {r["region_id"]: r for r in read_csv(out / "tables" / "transfer_priority.csv")}
        assert float(pr["510104"]["ecps"]) == pytest.approx(19_137_717 / 1e9)
