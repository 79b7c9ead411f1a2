"""Tornado of compensation outputs (gep.tuning.compensation): hand-computed M4 and M1 cases, grammar, ranges, step."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from gep.cli.main import main

from gep.compensation.agreement import parse_agreement
from gep.compensation.monitoring import validate_monitoring
from gep.compensation.settlement import settle
from gep.config import load_config
from gep.errors import InputError
from gep.pipeline import execute
from gep.tuning.compensation import (
    CompensationSelector,
    agreement_parameters,
    compensation_tornado,
    load_compensation_ranges,
    rescale_shares,
)

M4 = """
id = "m4-test"
method = "load_price"
period = "month"
start = "2024-01"
end = "2024-01"
[[parties]]
id = "A"
name = "甲县"
kind = "external"
[[parties]]
id = "B"
name = "乙县"
kind = "external"
[[parties]]
id = "D"
name = "丙县"
kind = "external"
[[sections]]
id = "S1"
name = "断面"
river = "测试河"
upstream = [{ party = "A", share = 0.6 }, { party = "B", share = 0.4 }]
downstream = [{ party = "D", share = 1 }]
[[indicators]]
name = "COD"
standard_mg_l = 20
[load_price]
penalty_prices_cny_per_t = { COD = 1000 }
improvement_payer = "downstream"
[[provenance]]
parameter = "load_price.penalty_prices_cny_per_t"
verification = "unverified"
source = "test"
"""

M4_MON = pl.DataFrame({"section_id": ["S1"], "date": ["2024-01-15"], "indicator": ["COD"],
                       "concentration_mg_l": ["30"], "flow_m3s": ["10"]})

M1 = """
id = "m1-test"
method = "index_bet"
period = "year"
start = "2020-01"
end = "2020-12"
[[parties]]
id = "U"
name = "上游省"
kind = "external"
[[parties]]
id = "W"
name = "下游省"
kind = "external"
[[sections]]
id = "J"
name = "界"
river = "测试河"
upstream = "U"
downstream = "W"
[[indicators]]
name = "COD"
[index_bet]
section = "J"
k0 = 1
weights = { COD = 1 }
baselines_mg_l = { COD = 1.0 }
[[index_bet.tiers]]
p_at_most = 1
payer = "downstream"
payee = "upstream"
amount_cny = 100
[[index_bet.tiers]]
p_above = 1
payer = "upstream"
payee = "downstream"
amount_cny = 100
"""

M1_MON = pl.DataFrame({"section_id": ["J"] * 12, "date": [f"2020-{m:02d}-10" for m in range(1, 13)],
                       "indicator": ["COD"] * 12, "concentration_mg_l": ["0.95"] * 12})


def rows(df: pl.DataFrame) -> dict[str, dict[str, object]]:
    return {r["coefficient"].split(":", 1)[1]: r for r in df.iter_rows(named=True)}


def test_m4_tornado_hand_computed() -> None:
    a = parse_agreement(M4)
    mon = validate_monitoring(M4_MON)
    sel = CompensationSelector.parse("compensation/m4-test/all/A/net")
    df = compensation_tornado(a, mon, sel, range_pct=10)
    r = rows(df)
    # excess load = (30 × 10 − 20 × 10) mg/L·m3/s × 2,678,400 s (January) × 1e-6 = 267.84 t
    # amount = 267.84 t × 1000 CNY/t = 267,840 CNY; A pays 0.6 → net −160,704 CNY
    assert df["output_point_cny"][0] == pytest.approx(-160704.0)
    price = r["load_price.penalty_prices_cny_per_t.COD"]
    # price 900 / 1100 → −144,633.60 / −176,774.40; elasticity exactly 1
    assert price["output_at_low_cny"] == pytest.approx(-144633.6)
    assert price["output_at_high_cny"] == pytest.approx(-176774.4)
    assert price["swing_cny"] == pytest.approx(32140.8)
    assert price["elasticity"] == pytest.approx(1.0, abs=1e-12)
    assert price["verification"] == "unverified" and price["coefficient_unit"] == "CNY/t"
    # A's split coefficient 0.54 / 0.66 (B takes the rest): −267,840 × share, linear, elasticity 1
    sa = r["sections.S1.upstream.share.A"]
    assert (sa["low"], sa["high"]) == pytest.approx((0.54, 0.66))
    assert sa["output_at_low_cny"] == pytest.approx(-144633.6)
    assert sa["output_at_high_cny"] == pytest.approx(-176774.4)
    assert sa["elasticity"] == pytest.approx(1.0, abs=1e-12)
    # B's share 0.36 / 0.44 → A's 0.64 / 0.56: −171,417.60 / −149,990.40; ε = (21,427.2/−160,704)/(0.08/0.4) = −2/3
    sb = r["sections.S1.upstream.share.B"]
    assert sb["output_at_low_cny"] == pytest.approx(-171417.6)
    assert sb["output_at_high_cny"] == pytest.approx(-149990.4)
    assert sb["elasticity"] == pytest.approx(-2 / 3, abs=1e-12)
    # standard C0 18 / 22: y = −0.6 × 1000 × (30 − C0) × 10 × 2.6784 → −192,844.8 / −128,563.2; ε = −C0/(30 − C0) = −2
    st = r["indicators.standard_mg_l.COD"]
    assert st["output_at_low_cny"] == pytest.approx(-192844.8)
    assert st["output_at_high_cny"] == pytest.approx(-128563.2)
    assert st["elasticity"] == pytest.approx(-2.0, abs=1e-12)
    # ranked by swing: the standard (64,281.6) before the equal price/share swings (32,140.8, ties by name)
    assert df["rank"].to_list() == [1, 2, 3, 4]
    assert df["coefficient"][0] == "m4-test:indicators.standard_mg_l.COD"
    assert df["note"].to_list() == ["", "", "", ""]


def test_m4_payer_share_moves_linearly_and_section_total_does_not() -> None:
    a = parse_agreement(M4)
    mon = validate_monitoring(M4_MON)
    df = compensation_tornado(a, mon, CompensationSelector.parse("compensation/m4-test/2024-01/section:S1"),
                              range_pct=10)
    r = rows(df)
    # the section's transfer is 267,840 CNY whoever pays it: the split coefficients swing 0
    assert df["output_point_cny"][0] == pytest.approx(267840.0)
    assert r["sections.S1.upstream.share.A"]["swing_cny"] == pytest.approx(0.0)
    assert r["load_price.penalty_prices_cny_per_t.COD"]["elasticity"] == pytest.approx(1.0)


def test_m1_threshold_flip_is_a_swing_with_empty_elasticity() -> None:
    a = parse_agreement(M1)
    mon = validate_monitoring(M1_MON)
    df = compensation_tornado(a, mon, CompensationSelector.parse("compensation/m1-test/all/U/net"), range_pct=10,
                              monitoring_range_pct=10)
    r = rows(df)
    # P = 1 × 1 × 0.95 / 1.0 = 0.95 ≤ 1 → W pays U 100: U's net +100
    assert df["output_point_cny"][0] == pytest.approx(100.0)
    # baseline 0.9 → P = 1.0556 > 1 → U pays 100 (−100); baseline 1.1 → P = 0.8636 → +100: swing 200, step
    b = r["index_bet.baselines_mg_l.COD"]
    assert (b["output_at_low_cny"], b["output_at_high_cny"], b["swing_cny"]) == pytest.approx((-100.0, 100.0, 200.0))
    assert b["elasticity"] is None and "regime" in b["note"]
    # k0 0.9 / 1.1 → P 0.855 / 1.045: +100 / −100; the threshold 0.9 / 1.1 (both tiers' bound moves): −100 / +100
    assert r["index_bet.k0"]["elasticity"] is None and r["index_bet.k0"]["swing_cny"] == pytest.approx(200.0)
    thr = r["index_bet.tiers.p_at_most.1"]
    assert (thr["output_at_low_cny"], thr["output_at_high_cny"]) == pytest.approx((-100.0, 100.0))
    assert "index_bet.tiers.p_above.2" not in r  # the shared bound is one parameter
    # concentration × 0.9 / × 1.1 → P 0.855 / 1.045: +100 / −100
    m = r["monitoring.J.COD"]
    assert (m["value"], m["low"], m["high"]) == pytest.approx((1.0, 0.9, 1.1))
    assert (m["output_at_low_cny"], m["output_at_high_cny"]) == pytest.approx((100.0, -100.0))
    assert m["elasticity"] is None
    # the paid tier's amount 90 / 110 → U's net 90 / 110: elasticity exactly 1, no regime change
    t1 = r["index_bet.tiers.amount_cny.1"]
    assert t1["elasticity"] == pytest.approx(1.0, abs=1e-12) and t1["note"] == ""
    # the other tier is not paid: swing 0, elasticity 0
    assert r["index_bet.tiers.amount_cny.2"]["swing_cny"] == 0.0
    assert r["index_bet.tiers.amount_cny.2"]["elasticity"] == 0.0
    # rank 1 is a 200 CNY swing, last the unpaid tier
    assert df["swing_cny"][0] == pytest.approx(200.0) and df["rank"][-1] == df.height


def test_selector_grammar_and_errors() -> None:
    s = CompensationSelector.parse("compensation/x")
    assert (s.agreement_id, s.period, s.who, s.measure) == ("x", "all", "all", "amount")
    assert CompensationSelector.parse("compensation/x/2020/U").measure == "net"
    assert CompensationSelector.parse("compensation/x/all/U/paid").label == "compensation/x/all/U/paid"
    for bad in ("compensation/", "compensation/x/all/section:S1/net", "compensation/x/all/U/amount",
                "compensation/x/a/b/c/d"):
        with pytest.raises(InputError) as e:
            CompensationSelector.parse(bad)
        assert e.value.problems[0].code == "BAD_CONFIG"
    a = parse_agreement(M1)
    mon = validate_monitoring(M1_MON)
    with pytest.raises(InputError) as e:
        compensation_tornado(a, mon, CompensationSelector.parse("compensation/m1-test/2019/Z/net"), range_pct=10)
    assert [p.code for p in e.value.problems] == ["UNKNOWN_OUTPUT", "UNKNOWN_OUTPUT"]
    assert {p.value for p in e.value.problems} == {"2019", "Z"}


def test_rescaled_shares_sum_to_one_exactly() -> None:
    a = parse_agreement(M4)
    new = rescale_shares(a.sections[0].upstream, "A", None, Decimal("0.7"))
    assert [s.share for s in new] == [Decimal("0.7"), Decimal("0.3")]
    assert sum(s.share for s in new) == 1
    # settling the perturbed agreement is the real engine: 0.7 × 267,840 = 187,488 CNY paid by A
    p = {x.path: x for x in agreement_parameters(a)}["sections.S1.upstream.share.A"]
    led = settle([p.setter(a, Decimal("0.7"))], validate_monitoring(M4_MON)).ledger
    assert float(led.filter(pl.col("payer") == "A")["amount_cny"].sum()) == pytest.approx(187488.0)


def test_declared_ranges_prefix_and_problems(tmp_path: Path) -> None:
    a = parse_agreement(M4)
    d = tmp_path / "补偿范围"
    d.mkdir()
    f = d / "范围.csv"
    f.write_text("agreement_id,parameter,low,high,range_pct\n"
                 "m4-test,load_price,,,50\n"
                 "m4-test,load_price.penalty_prices_cny_per_t.COD,800,1000,\n", encoding="utf-8")
    decl = load_compensation_ranges(str(f), "范围.csv", [a])
    df = compensation_tornado(a, validate_monitoring(M4_MON), CompensationSelector.parse("compensation/m4-test/all/A"),
                              range_pct=None, declared=decl)
    r = rows(df)
    # only the price has a range (the longest prefix wins: 800..1000, not ±50 %); nothing else varies
    assert list(r) == ["load_price.penalty_prices_cny_per_t.COD"]
    p = r["load_price.penalty_prices_cny_per_t.COD"]
    assert (p["low"], p["high"], p["range_source"]) == (800.0, 1000.0, "declared")
    # ε = ((−160,704 − −128,563.2)/−160,704)/(200/1000) = 0.2/0.2 = 1
    assert p["elasticity"] == pytest.approx(1.0)
    bad = d / "坏.csv"
    bad.write_text("agreement_id,parameter,low,high,range_pct\n"
                   "nope,k0,1,2,\n"
                   "m4-test,load_price.nothing,1,2,\n"
                   "m4-test,load_price,5,1,\n"
                   "m4-test,load_price,x,,\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_compensation_ranges(str(bad), "坏.csv", [a])
    got = [(p.code, p.row) for p in e.value.problems]
    assert got == [("UNKNOWN_AGREEMENT", 2), ("UNKNOWN_PARAMETER", 3), ("INVALID_VALUE", 4), ("WRONG_TYPE", 5),
                   ("MISSING_VALUE", 5)]


def _comp_run(root: Path, sens: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "协议.toml").write_text(M4, encoding="utf-8")
    M4_MON.write_csv(root / "监测.csv")
    cfg = root / "运行.toml"
    cfg.write_text(f"""[run]
title = "compensation sensitivity"
report = false

[compensation]
agreements = ["协议.toml"]
monitoring = ["监测.csv"]
check_regions = false

{sens}
""", encoding="utf-8")
    return cfg


def test_step_and_cli_write_sensitivity_csv(tmp_path: Path) -> None:
    cfg = _comp_run(tmp_path / "补偿运行", """[sensitivity]
outputs = ["compensation/m4-test/all/A/net"]
compensation_range_pct = 10
monitoring_range_pct = 10
""")
    out = execute(load_config(cfg), tmp_path / "输出")
    s = pl.read_csv(out / "tables" / "sensitivity.csv")
    assert s["output"].unique().to_list() == ["compensation/m4-test/all/A/net"]
    e = dict(zip(s["coefficient"].to_list(), s["elasticity"].to_list(), strict=True))
    assert e["m4-test:load_price.penalty_prices_cny_per_t.COD"] == pytest.approx(1.0)
    # concentration × 0.9 / 1.1: excess (27 − 20)/(33 − 20) × 10 × 2.6784 → ε = 30/(30 − 20) = 3
    assert e["m4-test:monitoring.S1.COD"] == pytest.approx(3.0)
    assert {"swing_cny", "output_at_low_cny", "note"} <= set(s.columns)
    # the CLI repeats the run with other options
    res = CliRunner().invoke(main, ["sensitivity", str(out), "--output", "compensation/m4-test/all/section:S1",
                                    "--compensation-range-pct", "20", "--out", str(tmp_path / "再次")])
    assert res.exit_code == 0, res.output
    s2 = pl.read_csv(tmp_path / "再次" / "tables" / "sensitivity.csv")
    assert s2["output"].unique().to_list() == ["compensation/m4-test/all/section:S1/amount"]
    p = s2.filter(pl.col("coefficient") == "m4-test:load_price.penalty_prices_cny_per_t.COD")
    assert (p["low"][0], p["high"][0]) == pytest.approx((800.0, 1200.0))


def test_step_rejects_unknown_agreement_and_missing_section(tmp_path: Path) -> None:
    cfg = _comp_run(tmp_path / "甲", """[sensitivity]
outputs = ["compensation/none/all/A/net"]
compensation_range_pct = 10
""")
    with pytest.raises(InputError) as e:
        execute(load_config(cfg), tmp_path / "出")
    assert e.value.problems[0].code == "UNKNOWN_OUTPUT"


M3 = """
id = "m3-test"
method = "fixed_per_section"
period = "year"
start = "2021-01"
end = "2021-12"
[[parties]]
id = "U"
name = "上游县"
kind = "external"
[[parties]]
id = "W"
name = "下游县"
kind = "external"
[[sections]]
id = "S"
name = "断面"
river = "测试河"
upstream = "U"
downstream = "W"
[[indicators]]
name = "COD"
standard_mg_l = 20
[fixed_per_section]
amount_met_improved_cny = 500
amount_not_met_cny = 1000
"""


def test_m3_compliance_flip_is_a_step() -> None:
    a = parse_agreement(M3)
    mon = validate_monitoring(pl.DataFrame({
        "section_id": ["S"] * 24, "indicator": ["COD"] * 24,
        "date": [f"{y}-{m:02d}-05" for y in (2020, 2021) for m in range(1, 13)],
        "concentration_mg_l": ["22"] * 12 + ["19"] * 12}))
    df = compensation_tornado(a, mon, CompensationSelector.parse("compensation/m3-test/2021/U/net"), range_pct=10)
    r = rows(df)
    # 2021 mean 19 ≤ 20 (met) and −13.6 % vs 2020 (improved) → W pays U 500: U's net +500
    assert df["output_point_cny"][0] == pytest.approx(500.0)
    # standard 18 → 19 > 18 not met → U pays W 1000 (−1000); standard 22 → still met and improved (+500)
    s = r["indicators.standard_mg_l.COD"]
    assert (s["output_at_low_cny"], s["output_at_high_cny"], s["swing_cny"]) == pytest.approx((-1000.0, 500.0, 1500.0))
    assert s["elasticity"] is None and "regime" in s["note"]
    # the paid amount: elasticity 1; the unpaid not-met amount: swing 0, elasticity 0
    assert r["fixed_per_section.amount_met_improved_cny"]["elasticity"] == pytest.approx(1.0, abs=1e-12)
    assert r["fixed_per_section.amount_not_met_cny"]["swing_cny"] == 0.0
    assert df["coefficient"][0] == "m3-test:indicators.standard_mg_l.COD"
