"""End-to-end: an InVEST user brings an unchanged InVEST carbon pool table to `gep carbon`.

tests/data/e2e/carbon: pools (t C/ha) 乔木林地 50/10/80/5 = 145, 旱地 5/1/40/0 = 46, 城镇住宅用地 0/0/10/0 = 10;
锦江区 510104: 2015 乔木林地 100, 旱地 50, 城镇 20 ha; 2020 乔木林地 120, 旱地 30, 城镇 20 ha (20 ha 旱地 → 乔木林地).
Stocks: 2015 = 14 500 + 2 300 + 200 = 17 000 t C; 2020 = 17 400 + 1 380 + 200 = 18 980 t C; Δ = 1 980 t C
= 20 ha × (145 − 46). InVEST valuation, p = 100 CNY/t C, r = 7 %, g = 0, n = 5 years:
NPV = 1980 × (100/5) × Σ_{t=0..4} 1/1.07^t = 39 600 × 4.387211 = 173 733.5658 CNY; CO2e = 1980 × 44/12 = 7 260 t.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from _e2e import gep, read_csv

DATA = Path(__file__).parent / "data" / "e2e" / "carbon"




def test_invest_pool_table_stocks_flux_and_npv_by_hand(tmp_path: Path) -> None:
    out = tmp_path / "碳汇"
    res = gep("carbon", "--landcover", DATA / "landcover_2015_2020.csv", "--transitions",
              DATA / "transitions_2015_2020.csv", "--coefficients", DATA / "invest_pools.csv", "--crosswalk", "tnls",
              "--price-per-tc", "100", "--discount-rate", "7", "--price-change", "0", "--regions", "sichuan",
              "--out", out)
    assert res.exit_code == 0, res.output
    stock = read_csv(out / "tables" / "carbon_stock.csv")
    totals: dict[str, float] = {}
    for r in stock:
        totals[r["year"]] = totals.get(r["year"], 0.0) + float(r["c_t"])
    assert totals == pytest.approx({"2015": 17_000.0, "2020": 18_980.0})
    soil_2020 = sum(float(r["c_t"]) for r in stock if r["year"] == "2020" and r["pool"] == "c_soil")
    assert soil_2020 == pytest.approx(120 * 80 + 30 * 40 + 20 * 10)  # 11 000
    flux = [r for r in read_csv(out / "tables" / "carbon_flux.csv") if r["method"] == "stock_difference"]
    assert sum(float(r["delta_c_t"]) for r in flux) == pytest.approx(18_980.0 - 17_000.0)
    (conv,) = [r for r in flux if r["class_from"] == "旱地" and r["class_to"] == "乔木林地"]
    assert float(conv["delta_c_t"]) == pytest.approx(1980.0)
    assert float(conv["co2e_t"]) == pytest.approx(7260.0)
    assert float(conv["npv_cny"]) == pytest.approx(173_733.5658, abs=1e-3)


def test_transitions_that_do_not_reconcile_name_region_and_class(tmp_path: Path) -> None:
    out = tmp_path / "不平衡"
    res = gep("carbon", "--landcover", DATA / "landcover_2015_2020.csv", "--transitions",
              DATA / "transitions_not_reconciled.csv", "--coefficients", DATA / "invest_pools.csv", "--crosswalk",
              "tnls", "--price-per-tc", "100", "--out", out)
    assert res.exit_code == 2, res.output
    assert res.output.count("[NOT_RECONCILED]") == 2
    assert "transitions_not_reconciled.csv" in res.output and "510104" in res.output
    assert "class 乔木林地" in res.output and "class 旱地" in res.output and "125.0000 ha" in res.output
    assert not out.exists()
