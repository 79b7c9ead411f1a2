"""Demo agreements, the [compensation]/[transfer] steps, run directories and the CLI."""

from __future__ import annotations

import importlib.util
import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from gep.cli.main import main
from gep.regions import load_registry

from gep.compensation.agreement import load_agreements
from gep.compensation.monitoring import read_monitoring
from gep.compensation.settlement import settle
from gep.compensation.step import Config, river_graph_warnings
from gep.compensation.transfer_step import Config as TransferConfig
from gep.config import RunConfig, RunSection
from gep.pipeline import demo_data_dir, execute

D = Decimal
DEMO = demo_data_dir() / "compensation"
FILES = ["chishui_pool_2018.toml", "tuojiang_chain_m4_2024.toml", "minjiang_m3_2024.toml", "xinan_index_bet_2012.toml"]
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def registry():  # type: ignore[no-untyped-def]
    return load_registry("sichuan")


@pytest.fixture(scope="module")
def demo(registry):  # type: ignore[no-untyped-def]
    agreements = load_agreements([DEMO / f for f in FILES], set(registry.all_ids()))
    return agreements, settle(agreements, read_monitoring(DEMO / "sichuan_monitoring_synthetic.csv"))


def test_demo_settles_balanced(demo) -> None:  # type: ignore[no-untyped-def]
    agreements, r = demo
    assert {a.method for a in agreements} == {"index_bet", "pool", "load_price", "fixed_per_section"}
    sums = dict(r.net.group_by("agreement_id").agg(pl.col("net_cny").sum()).rows())
    assert sums == {"chishui-pool-2018": 0, "tuojiang-m4-2024": 0, "minjiang-m3-2024": 0, "xinan-m1-2012": 0}
    # M1 demo: P = 0.748708 (2012), 0.746352 (2013) → 浙江 pays 安徽 1亿; 2014 P = 1.031573 > 1 → 安徽 pays 浙江 1亿
    xa = r.ledger.filter(pl.col("agreement_id") == "xinan-m1-2012")
    bet = xa.filter(pl.col("rule") == "M1_index_bet")
    assert bet.select("period", "payer", "payee", "amount_cny").rows() == [
        ("2012", "330000", "340000", D("100000000.00")), ("2013", "330000", "340000", D("100000000.00")),
        ("2014", "340000", "330000", D("100000000.00")),
    ]
    assert "= 1.031573" in bet["basis"][2]
    # central 3亿/yr to 安徽, unconditional (no monitoring data used)
    central = xa.filter(pl.col("rule") == "UNCONDITIONAL_transfer")
    assert central.select("period", "payer", "payee", "amount_cny").rows() == [
        (y, "MOF", "340000", D("300000000.00")) for y in ("2012", "2013", "2014")]
    assert r.ledger.columns == ["agreement_id", "period", "section_id", "payer", "payee", "amount_cny", "rule", "basis"]


def test_chishui_published_ratios(demo) -> None:  # type: ignore[no-untyped-def]
    # per year: contributions 2亿 × 1:5:4 = 2000万/1亿/8000万; allocations 3:4:3 = 6000万/8000万/6000万.
    # synthetic data: 清水铺 TP annual mean > 0.1 in 2019 → Yunnan's 6000万 to Guizhou/Sichuan 50/50;
    # 茅台镇 NH3-N > 0.5 in 2020 → 0.5 × (0.5·8000万 + 0.5·6000万) = 3500万, borne 50/50 by Guizhou and Sichuan.
    # Yunnan 3·(6000−2000)万 − 6000万 = +6000万; Guizhou 3·(−2000)万 + 3000万 − 1750万 = −4750万; Sichuan the same.
    _, r = demo
    net = dict(r.net.filter(pl.col("agreement_id") == "chishui-pool-2018").select("party", "net_cny").rows())
    assert net == {"530000": D("60000000.00"), "520000": D("-47500000.00"), "510000": D("-47500000.00"),
                   "CHISHUI_FUND": D("0.00"), "MTZ_DEDUCTIONS": D("35000000.00")}
    basis = r.ledger.filter(pl.col("rule") == "M2_deduction")["basis"].to_list()
    assert all("UNVERIFIED parameters: pool.section_weights" in b for b in basis)


def test_tuojiang_sections_follow_the_river_graph(demo, registry) -> None:  # type: ignore[no-untyped-def]
    agreements, r = demo
    tj = next(a for a in agreements if a.id == "tuojiang-m4-2024")
    assert len(tj.sections) == 9
    assert river_graph_warnings([tj], registry.river_edges(river="沱江干流")) == []
    # the 内江 pair splits TJ05 by per-indicator coefficients, and the last section pays/receives with the province
    tj05 = tj.section("TJ05")
    assert [s.for_indicator("TP") for s in tj05.upstream] == [D("0.65"), D("0.35")]
    assert tj.section("TJ09").downstream[0].party == "SC_TREASURY"
    rules = set(r.ledger.filter(pl.col("agreement_id") == "tuojiang-m4-2024")["rule"].to_list())
    assert rules == {"M4_penalty", "M4_improvement"}


def test_demo_generator_is_deterministic() -> None:
    spec = importlib.util.spec_from_file_location("make_demo_monitoring", ROOT / "scripts" / "make_demo_monitoring.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    reg = load_registry("sichuan")
    assert mod.tuojiang_toml(reg) == (DEMO / "tuojiang_chain_m4_2024.toml").read_text(encoding="utf-8")
    import tomllib
    keys = ("chishui", "tuojiang", "minjiang", "xinan")
    ags = {k: tomllib.loads((DEMO / f).read_text(encoding="utf-8")) for k, f in zip(keys, FILES, strict=True)}
    assert mod.monitoring(ags).write_csv() == (DEMO / "sichuan_monitoring_synthetic.csv").read_text(encoding="utf-8")
    assert mod.socioeconomic(reg).write_csv() == (DEMO / "sichuan_socioeconomic_synthetic.csv").read_text(encoding="utf-8")
    text = (DEMO / "sichuan_monitoring_synthetic.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0].endswith("data_status") and all(line.endswith(",synthetic") for line in text.splitlines()[1:])


def test_step_writes_run_directory_byte_identical(tmp_path: Path) -> None:
    cfg = RunConfig(
        run=RunSection(title="补偿", regions="sichuan", synthetic=True, report=False),
        steps={"compensation": Config(agreements=[f"demo:compensation/{f}" for f in FILES],
                                      monitoring=["demo:compensation/sichuan_monitoring_synthetic.csv"])},
    )
    out1 = execute(cfg, tmp_path / "运行 1")
    out2 = execute(cfg, tmp_path / "运行 2")
    for name in ("compensation_ledger.csv", "compensation_net.csv", "compensation_assessment.csv"):
        assert (out1 / "tables" / name).read_bytes() == (out2 / "tables" / name).read_bytes()
    net = pl.read_csv(out1 / "tables" / "compensation_net.csv", schema_overrides={"net_cny": pl.Utf8, "party": pl.Utf8})
    assert sum((D(x) for x in net["net_cny"]), D(0)) == 0
    manifest = json.loads((out1 / "manifest.json").read_text(encoding="utf-8"))
    roles = {i["role"] for i in manifest["inputs"]}
    assert {"compensation_agreement", "compensation_monitoring"} <= roles
    assert "UNVERIFIED_PARAMETER" in {w["code"] for w in manifest["warnings"]}


def _fake_accounts(dir_: Path) -> Path:
    """A minimal `gep account` run directory (services.csv, gep.csv) for the 沱江 head counties."""
    t = dir_ / "tables"
    t.mkdir(parents=True)
    pl.DataFrame({
        "region_id": ["510121", "510185", "510121"], "year": [2020] * 3, "method": ["function_value"] * 3,
        "category": ["regulating", "regulating", "provisioning"],
        "service": ["water_conservation", "water_conservation", "agricultural_products"],
        "value_cny": [1000.0, 400.0, 5000.0],
    }).write_csv(t / "services.csv")
    pl.DataFrame({
        "region_id": ["510121", "510185"], "year": [2020, 2020], "method": ["function_value"] * 2,
        "provisioning_cny": [5000.0, 0.0], "regulating_cny": [1000.0, 400.0], "supporting_cny": [0.0, 0.0],
        "cultural_cny": [0.0, 0.0], "total_cny": [6000.0, 400.0],
    }).write_csv(t / "gep.csv")
    (dir_ / "manifest.json").write_text("{}", encoding="utf-8")
    return dir_


def test_transfer_step_on_an_accounts_directory(tmp_path: Path) -> None:
    acc = _fake_accounts(tmp_path / "账户")
    cfg = RunConfig(
        run=RunSection(regions="sichuan", synthetic=True, report=False),
        steps={"transfer": TransferConfig(accounts=str(acc), socio="demo:compensation/sichuan_socioeconomic_synthetic.csv",
                                          river="沱江干流", year=2020, efa_regions=["510121", "510185"],
                                          efa_total_cny=1000.0)},
    )
    out = execute(cfg, tmp_path / "transfer")
    spill = pl.read_csv(out / "tables" / "transfer_spillover.csv", schema_overrides={"upstream_id": pl.Utf8})
    # 金堂 510121 spills 1000 (water_conservation λ 1) to the 10 counties below it on the 沱江; shares add to 1
    s = spill.filter(pl.col("upstream_id") == "510121")
    assert s.height == 10 and abs(s["ceiling_cny"].sum() - 1000.0) < 1e-9
    efa = pl.read_csv(out / "tables" / "transfer_efa_allocation.csv", schema_overrides={"allocation_cny": pl.Utf8})
    assert sum(D(x) for x in efa["allocation_cny"]) == D("1000.00")


def test_cli_compensate_and_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "补偿 输出"
    res = runner.invoke(main, ["compensate", "--agreement", str(DEMO / FILES[0]), "--monitoring",
                               str(DEMO / "sichuan_monitoring_synthetic.csv"), "--synthetic", "--out", str(out)])
    assert res.exit_code == 0, res.output
    led = pl.read_csv(out / "tables" / "compensation_ledger.csv", schema_overrides={"payer": pl.Utf8, "payee": pl.Utf8})
    assert led.height == 22
    bad = tmp_path / "坏协议.toml"
    bad.write_text((DEMO / FILES[0]).read_text(encoding="utf-8").replace('method = "pool"', 'method = "poool"'), encoding="utf-8")
    out2 = tmp_path / "never"
    res = runner.invoke(main, ["compensate", "--agreement", str(bad), "--monitoring",
                               str(DEMO / "sichuan_monitoring_synthetic.csv"), "--out", str(out2)])
    assert res.exit_code == 2 and "INVALID_VALUE" in res.output
    assert not out2.exists()
