"""Transfer calculators with hand-computed fixtures (gep.compensation.transfer)."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from gep.compensation.transfer import (
    downstream_closure,
    efa_allocation,
    opportunity_cost_floor,
    payment_capacity,
    priority_ranking,
    spillover_ceiling,
)
from gep.errors import InputError

D = Decimal


def test_payment_capacity_reference_values() -> None:
    # 谢余初 et al. 2017 formula, computed: En = 0.25 → 0.7311; 0.30 → 0.5826; 0.35 → 0.4643; 0.40 → 0.3775
    got = pl.DataFrame({"en": [0.25, 0.30, 0.35, 0.40]}).select(payment_capacity(pl.col("en")).round(4).alias("L"))["L"].to_list()
    assert got == [0.7311, 0.5826, 0.4643, 0.3775]


def test_closure_follows_the_chain() -> None:
    edges = pl.DataFrame({"upstream_id": ["U", "A", "X"], "downstream_id": ["A", "B", "B"]})
    assert downstream_closure(edges).rows() == [("A", "B"), ("U", "A"), ("U", "B"), ("X", "B")]


def test_spillover_ceiling_hand_computed() -> None:
    # U: water_conservation 100 × λ 1.0 + soil_retention 40 × λ 0.5 = 120 spills (food 1000 has no λ);
    # downstream of U: A (water use 30) and B (10) → shares 0.75 / 0.25 → ceilings 90 / 30.
    # A: 10 spills, only B downstream → 10. Capacity L(0.25) = 0.731059 for A, L(0.40) = 0.377541 for B.
    services = pl.DataFrame({
        "region_id": ["U", "U", "U", "A"], "year": [2020] * 4,
        "service": ["water_conservation", "soil_retention", "food_production", "water_conservation"],
        "value_cny": [100.0, 40.0, 1000.0, 10.0],
    })
    edges = pl.DataFrame({"upstream_id": ["U", "A"], "downstream_id": ["A", "B"]})
    water = pl.DataFrame({"region_id": ["A", "B"], "water_use_m3": [30.0, 10.0]})
    engel = pl.DataFrame({"region_id": ["A", "B"], "engel_coefficient": [0.25, 0.40]})
    out = spillover_ceiling(services, edges, water, {"water_conservation": 1.0, "soil_retention": 0.5}, engel)
    rows = out.select("upstream_id", "downstream_id", "spill_value_cny", "ceiling_cny",
                      pl.col("capacity_scaled_cny").round(4)).rows()
    assert rows == [("A", "B", 10.0, 10.0, 3.7754), ("U", "A", 120.0, 90.0, 65.7953), ("U", "B", 120.0, 30.0, 11.3262)]
    # conservation: the ceilings of one upstream region add up to its spill value
    per_u = out.group_by("upstream_id").agg(pl.col("ceiling_cny").sum(), pl.col("spill_value_cny").first())
    assert (per_u["ceiling_cny"] - per_u["spill_value_cny"]).abs().max() < 1e-9


def test_spillover_missing_column() -> None:
    with pytest.raises(InputError) as exc:
        spillover_ceiling(pl.DataFrame({"region_id": ["U"], "year": [2020], "value_cny": [1.0]}),
                          pl.DataFrame({"upstream_id": ["U"], "downstream_id": ["A"]}),
                          pl.DataFrame({"region_id": ["A"], "water_use_m3": [1.0]}))
    assert exc.value.codes == ["MISSING_COLUMN"] and exc.value.problems[0].column == "service"


SOCIO = pl.DataFrame({
    "region_id": ["R1", "R2"], "year": [2020, 2020],
    "income_urban_cny": [40000.0, 50000.0], "income_rural_cny": [15000.0, 20000.0],
    "population_urban": [1000, 3000], "population_rural": [2000, 2000],
})


def test_opportunity_cost_floor() -> None:
    # population-weighted reference: urban (40000·1000 + 50000·3000)/4000 = 47500; rural (15000·2000 + 20000·2000)/4000 = 17500
    # R1: 7500·1000 + 2500·2000 = 12 500 000; R2 is richer on both → 0 (gaps clipped)
    out = opportunity_cost_floor(SOCIO)
    assert out.select("region_id", "ref_income_urban_cny", "floor_cny").rows() == [
        ("R1", 47500.0, 12_500_000.0), ("R2", 47500.0, 0.0)
    ]
    # explicit reference 60000 / 20000: R1 20000·1000 + 5000·2000 = 30e6; R2 10000·3000 + 0 = 30e6
    out = opportunity_cost_floor(SOCIO, {"income_urban_cny": 60000, "income_rural_cny": 20000})
    assert out["floor_cny"].to_list() == [30e6, 30e6]


def test_priority_ranking() -> None:
    # A: (80 + 0 + 20)/1000 = 0.1; B: 300/1000 = 0.3 (provisioning excluded) → B first
    gep = pl.DataFrame({
        "region_id": ["A", "B"], "year": [2020, 2020], "method": ["function_value"] * 2,
        "provisioning_cny": [500.0, 900.0], "regulating_cny": [80.0, 300.0], "supporting_cny": [0.0, 0.0],
        "cultural_cny": [20.0, 0.0], "total_cny": [600.0, 1200.0], "gdp_cny": [1000.0, None],
    })
    out = priority_ranking(gep, pl.DataFrame({"region_id": ["B"], "year": [2020], "gdp_cny": [1000.0]}))
    assert out.select("region_id", "ecps", "priority_rank").rows() == [("B", 0.3, 1), ("A", 0.1, 2)]


FACTORS = pl.DataFrame({
    "region_id": ["A", "B"], "fiscal_gap_cny": [300.0, 100.0], "redline_area_km2": [10.0, 30.0],
    "protected_area_km2": [1.0, 3.0], "assessment_score": [90.0, 70.0],
})


def test_efa_allocation_hand_computed() -> None:
    # base pot 800: share A = 0.5·300/400 + 0.5·10/40 = 0.5 → 400 each; protected pot 200 → A 50, B 150;
    # S̄ = (400·90 + 400·70)/800 = 80; reward A = 0.1·400·(90/80 − 1) = +5, B = −5 → A 455, B 545
    out = efa_allocation(FACTORS, 1000, base_weights={"fiscal_gap_cny": 0.5, "redline_area_km2": 0.5})
    assert out.select("region_id", "base_cny", "protected_cny", "reward_penalty_cny").rows() == [
        ("A", 400.0, 50.0, 5.0), ("B", 400.0, 150.0, -5.0)
    ]
    assert out["allocation_cny"].to_list() == [D("455.00"), D("545.00")]
    # guidance 100 to A off the top: pot 900 → base 360 each, protected 45 / 135, reward ±4.5 → A 509.5, B 490.5
    out = efa_allocation(FACTORS, 1000, base_weights={"fiscal_gap_cny": 0.5, "redline_area_km2": 0.5}, guidance={"A": 100})
    assert out["allocation_cny"].to_list() == [D("509.50"), D("490.50")]


def test_efa_allocation_sums_exactly_to_the_pot() -> None:
    f = pl.DataFrame({"region_id": ["A", "B", "C"], "fiscal_gap_cny": [1.0] * 3, "protected_area_km2": [1.0] * 3})
    out = efa_allocation(f, 100, base_weights={"fiscal_gap_cny": 1.0}, reward_rate=0.0)
    # 33.333… each: floors 33.33 ×3, the missing fen goes to the first (equal remainders, ties by order)
    assert out["allocation_cny"].to_list() == [D("33.34"), D("33.33"), D("33.33")]
    with pytest.raises(InputError) as exc:
        efa_allocation(f, 100, base_weights={"fiscal_gap_cny": 1.0}, reward_rate=0.0, guidance={"A": 200})
    assert exc.value.codes == ["INVALID_VALUE"]


def test_factor_allocation_incentive_shape() -> None:
    # R = 1,000,000 by importance (A 3, B 1) and agreed fund (A 1, B 3), weights 0.5/0.5 → shares 0.5 each;
    # with weights 0.75/0.25: A = 0.75·0.75 + 0.25·0.25 = 0.625 → 625,000.00; B 375,000.00
    from gep.compensation.transfer import factor_allocation

    f = pl.DataFrame({"region_id": ["B", "A"], "importance_score": [1.0, 3.0], "agreed_fund_cny": [3.0, 1.0]})
    out = factor_allocation(f, 1_000_000, {"importance_score": 0.75, "agreed_fund_cny": 0.25})
    assert out.select("region_id", "allocation_cny").rows() == [("A", D("625000.00")), ("B", D("375000.00"))]


def test_region_without_gdp_gets_no_priority_rank() -> None:
    """ECPS needs GDP; a region without it is listed last and unranked."""
    import polars as pl

    from gep.compensation.transfer import priority_ranking

    gep = pl.DataFrame({"region_id": ["A", "B"], "year": [2020, 2020], "method": ["function_value"] * 2,
                        "provisioning_cny": [10.0, 10.0], "regulating_cny": [90.0, 50.0], "cultural_cny": [0.0, 0.0],
                        "total_cny": [100.0, 60.0]})
    gdp = pl.DataFrame({"region_id": ["A"], "year": [2020], "gdp_cny": [1000.0]})
    out = priority_ranking(gep, gdp)
    ranks = dict(zip(out["region_id"].to_list(), out["priority_rank"].to_list()))
    assert ranks == {"A": 1, "B": None}
