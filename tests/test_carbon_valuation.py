"""Valuation: CO2e, price units, prices from the set, InVEST NPV incl. special cases."""

from __future__ import annotations

import polars as pl
import pytest

from gep.carbon import params
from gep.carbon import valuation as V
from gep.errors import InputError

CSET = params.load_carbon_set()


def _flux(n: int, delta: float = -2780.0, method: str = "stock_difference") -> pl.DataFrame:
    return pl.DataFrame({"region_id": ["A"], "year_from": [2015], "year_to": [2015 + n], "method": [method],
                         "class_from": ["x"], "class_to": ["y"], "area_ha": [1.0], "delta_c_t": [delta]})


def test_price_units() -> None:
    # per t CO2 → per t C: × 44/12; 62.36 × 44/12 = 228.6533…
    assert V.price_from_unit(62.36, "CNY/t CO2") == pytest.approx(62.36 * 44 / 12, rel=1e-15)
    assert V.price_from_unit(1320, "元/t C") == 1320.0
    # 0.01 万元/t CO2e = 100 CNY/t CO2 = 366.67 CNY/t C
    assert V.price_from_unit(0.01, "万元/t CO2e") == pytest.approx(100 * 44 / 12, rel=1e-12)
    with pytest.raises(InputError) as ei:
        V.price_from_unit(5, "CNY/m3")
    assert ei.value.codes == ["UNIT_MISMATCH"]


def test_price_from_set_year_source_and_verification() -> None:
    p = V.price_from_set(CSET, "CEA", 2025)
    assert p.per_t_co2 == pytest.approx(62.36, rel=1e-12) and p.year == 2025 and p.verification == "verified"
    assert "CEA 2025" in p.source
    assert V.price_from_set(CSET, "CEA").year == 2025  # latest when no year is asked
    assert V.price_from_set(CSET, "swedish_carbon_tax_lyt1721").verification == "unverified"
    with pytest.raises(InputError) as ei:
        V.price_from_set(CSET, "CEA", 2019)
    assert ei.value.codes == ["MISSING_COEFFICIENT"] and "2021" in (ei.value.problems[0].expected or "")


def test_value_and_co2e_identities() -> None:
    out = V.value_flux(_flux(10), V.CarbonPrice(100.0, None, "t", "user"))
    r = out.row(0, named=True)
    assert r["co2e_t"] == pytest.approx(-2780 * 44 / 12, rel=1e-15)
    # value = co2e × price per t CO2 = ΔC × price per t C
    assert r["value_cny"] == pytest.approx(r["co2e_t"] * (100.0 * 12 / 44), rel=1e-12)
    assert r["npv_cny"] == pytest.approx(-278000.0, rel=1e-12)  # r = g = 0 → ΔC × p


def test_npv_discounting_matches_the_invest_sum() -> None:
    # explicit sum of InVEST's formula, n = 5, r = 3 %, g = −1 %
    n, r, g, p = 5, 3.0, -1.0, 228.65
    s = sum(1 / ((1 + r / 100) ** t * (1 + g / 100) ** t) for t in range(n))
    out = V.value_flux(_flux(n, 1000.0), V.CarbonPrice(p, None, "t", "user"), r, g)
    assert out["npv_cny"][0] == pytest.approx(1000.0 * p / n * s, rel=1e-12)


def test_npv_k_equal_one_is_n() -> None:
    # (1 + 5/100)(1 + g/100) = 1 with g = −100·5/105 → k = 1: Σ = n, NPV = ΔC × p
    g = -100 * 5 / 105
    out = V.value_flux(_flux(7, 10.0), V.CarbonPrice(50.0, None, "t", "user"), 5.0, g)
    assert out["npv_cny"][0] == pytest.approx(10.0 * 50.0, rel=1e-9)


def test_npv_only_for_stock_difference_rows() -> None:
    out = V.value_flux(_flux(1, 5.0, method="gain_loss_rate"), V.CarbonPrice(50.0, None, "t", "user"), 3.0)
    assert out["npv_cny"][0] is None and out["value_cny"][0] == 250.0


def test_invalid_rates() -> None:
    with pytest.raises(InputError) as ei:
        V.check_npv_rates(-100.0, -150.0)
    assert [p.column for p in ei.value.problems] == ["discount_rate", "price_change"]
