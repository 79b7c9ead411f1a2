"""Stocks, stock difference and transition reconciliation (gep.carbon.stock / transitions / params)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gep.carbon import params
from gep.carbon import transitions as TR
from gep.carbon.step import compute
from gep.carbon.stock import carbon_stock, stock_totals
from gep.carbon.valuation import CarbonPrice
from gep.errors import InputError, Problem

# Built-in set, placeholder densities (t C/ha): 阔叶 50+11+100+5 = 166; 草甸 1.5+8+120+0 = 129.5; 水田 2+0.5+55+0 = 57.5
EXT = pl.DataFrame({
    "region_id": ["A"] * 8,
    "year": [2015, 2015, 2015, 2015, 2020, 2020, 2020, 2020],
    "class": ["林", "草", "田", "城"] * 2,
    "ecosystem_type": ["阔叶", "草甸", "水田", None] * 2,
    "area_ha": [100.0, 50.0, 30.0, 20.0, 110.0, 40.0, 25.0, 25.0],
}).with_columns(pl.col("year").cast(pl.Int32))
TR_OK = pl.DataFrame({
    "region_id": ["A"] * 7, "year_from": [2015] * 7, "year_to": [2020] * 7,
    "class_from": ["林", "草", "草", "田", "田", "城", "林"],
    "class_to": ["林", "草", "林", "田", "城", "城", "林"],
    "area_ha": [60.0, 40.0, 10.0, 25.0, 5.0, 20.0, 40.0],
}).with_columns(pl.col("year_from").cast(pl.Int32), pl.col("year_to").cast(pl.Int32)).with_row_index("_row", offset=2)
# 林→林 is given in two rows (60 + 40); merged, as keys must be unique
TR_OK = TR_OK.group_by("region_id", "year_from", "year_to", "class_from", "class_to", maintain_order=True).agg(
    pl.col("area_ha").sum(), pl.col("_row").min().cast(pl.Int64))


def _dens(warn: list[Problem] | None = None) -> pl.DataFrame:
    return params.set_densities(EXT, params.load_carbon_set(), warn)


def test_stock_hand_computed_and_pools_sum_to_total() -> None:
    warn: list[Problem] = []
    stock = carbon_stock(EXT, _dens(warn))
    assert set(stock.columns) == {"region_id", "year", "class", "pool", "c_t"}
    # 2015: 100×166 + 50×129.5 + 30×57.5 + 20×0 = 16600 + 6475 + 1725 + 0 = 24800 t C
    tot = dict(stock_totals(stock).select("year", "c_t").iter_rows())
    assert tot[2015] == pytest.approx(24800.0, rel=1e-12)
    # pools sum to the class total: 林 2015 = 100 × 166
    lin = stock.filter((pl.col("class") == "林") & (pl.col("year") == 2015))
    assert dict(lin.select("pool", "c_t").iter_rows()) == {"c_above": 5000.0, "c_below": 1100.0, "c_dead": 500.0, "c_soil": 10000.0}
    assert lin["c_t"].sum() == pytest.approx(16600.0)
    # built-up (no ecosystem type) counts zero and is named in a warning
    assert [w.code for w in warn] == ["NO_CARBON_POOLS"] and "城" in warn[0].message


def test_flux_equals_stock_difference_with_and_without_transitions() -> None:
    d = _dens()
    stock = stock_totals(carbon_stock(EXT, d))
    s = dict(stock.select("year", "c_t").iter_rows())
    TR.reconcile(EXT, TR_OK)
    via_tr = TR.stock_difference_from_transitions(TR_OK, d)["delta_c_t"].sum()
    via_ext = TR.stock_difference_from_extent(EXT, d)["delta_c_t"].sum()
    # 10 ha 草→林: 10 × (166 − 129.5) = 365; 5 ha 田→城: 5 × (0 − 57.5) = −287.5; ΔC = 77.5 t C
    assert via_tr == pytest.approx(77.5, rel=1e-12)
    assert via_tr == pytest.approx(s[2020] - s[2015], rel=1e-12)
    assert via_ext == pytest.approx(s[2020] - s[2015], rel=1e-12)


def test_unknown_ecosystem_type_is_missing_coefficient() -> None:
    bad = EXT.with_columns(pl.when(pl.col("class") == "林").then(pl.lit("红树林")).otherwise(pl.col("ecosystem_type")).alias("ecosystem_type"))
    with pytest.raises(InputError) as ei:
        params.set_densities(bad, params.load_carbon_set())
    assert ei.value.codes == ["MISSING_COEFFICIENT"] and "红树林" in ei.value.problems[0].message


def test_not_reconciled_names_region_class_and_side() -> None:
    broken = TR_OK.with_columns(pl.when((pl.col("class_from") == "草") & (pl.col("class_to") == "林"))
                                .then(12.0).otherwise(pl.col("area_ha")).alias("area_ha"))
    with pytest.raises(InputError) as ei:
        TR.reconcile(EXT, broken, file="转移矩阵.csv")
    probs = ei.value.problems
    assert {p.code for p in probs} == {"NOT_RECONCILED"}
    # 草 opening: 50 ha in 2015 vs 40 + 12 = 52 ha out; 林 closing: 110 ha in 2020 vs 100 + 12 = 112 ha in
    assert sorted((p.column, p.value) for p in probs) == [("class_from", "草"), ("class_to", "林")]
    assert all("region A" in p.message and p.file == "转移矩阵.csv" for p in probs)
    opening = next(p for p in probs if p.column == "class_from")
    assert "50.0000 ha" in opening.message and "52.0000 ha" in opening.message and opening.row is not None


def test_reconcile_tolerance_is_001_ha() -> None:
    ok = TR_OK.with_columns(pl.when(pl.col("class_from") == "城").then(20.009).otherwise(pl.col("area_ha")).alias("area_ha"))
    # 城: |20 − 20.009| = 0.009 ≤ 0.01 on both sides → reconciles
    TR.reconcile(EXT, ok)
    bad = TR_OK.with_columns(pl.when(pl.col("class_from") == "城").then(20.011).otherwise(pl.col("area_ha")).alias("area_ha"))
    with pytest.raises(InputError) as ei:
        TR.reconcile(EXT, bad)
    assert {p.value for p in ei.value.problems} == {"城"}


def test_missing_extent_year() -> None:
    tr = TR_OK.with_columns(pl.lit(2025).cast(pl.Int32).alias("year_to"))
    with pytest.raises(InputError) as ei:
        TR.reconcile(EXT, tr)
    assert ei.value.codes == ["MISSING_EXTENT_YEAR"] and "2025" in ei.value.problems[0].message


def test_load_transitions_checks_years_and_units(tmp_path: Path) -> None:
    d = tmp_path / "四川_转移"
    d.mkdir()
    p = d / "t.csv"
    # 面积(亩): 15 亩 = 1 ha; row 3 has year_to before year_from
    p.write_text("region_id,year_from,year_to,class_from,class_to,面积(亩)\nA,2015,2020,林,林,15\nA,2020,2015,草,林,30\n",
                 encoding="utf-8")
    with pytest.raises(InputError) as ei:
        TR.load_transitions(p)
    assert ei.value.codes == ["INVALID_VALUE"] and ei.value.problems[0].row == 3
    p.write_text("region_id,year_from,year_to,class_from,class_to,面积(亩)\nA,2015,2020,林,林,15\n", encoding="utf-8")
    df = TR.load_transitions(p)
    assert df["area_ha"].to_list() == [pytest.approx(1.0)]


_CSET = params.load_carbon_set()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e5, allow_nan=False), min_size=16, max_size=16))
def test_any_reconciled_matrix_flux_equals_stock_difference(cells: list[float]) -> None:
    # a random 4×4 transition matrix defines both extents; Σ_ij A_ij (D_j − D_i) = S(t2) − S(t1) exactly
    cls = ["林", "草", "田", "城"]
    tr = pl.DataFrame({"region_id": ["A"] * 16, "year_from": [2015] * 16, "year_to": [2020] * 16,
                       "class_from": [cls[i // 4] for i in range(16)], "class_to": [cls[i % 4] for i in range(16)],
                       "area_ha": cells}).with_columns(pl.col("year_from").cast(pl.Int32), pl.col("year_to").cast(pl.Int32),
                                                       pl.lit(2).cast(pl.Int64).alias("_row"))
    types = dict(zip(cls, ["阔叶", "草甸", "水田", None]))
    a1 = tr.group_by("class_from").agg(pl.col("area_ha").sum()).rename({"class_from": "class"}).with_columns(pl.lit(2015).alias("year"))
    a2 = tr.group_by("class_to").agg(pl.col("area_ha").sum()).rename({"class_to": "class"}).with_columns(pl.lit(2020).alias("year"))
    ext = pl.concat([a1, a2]).with_columns(pl.lit("A").alias("region_id"), pl.col("year").cast(pl.Int32),
                                           pl.col("class").replace_strict(types, default=None).alias("ecosystem_type"))
    d = params.set_densities(ext, _CSET)
    TR.reconcile(ext, tr)
    s = dict(stock_totals(carbon_stock(ext, d)).select("year", "c_t").iter_rows())
    flux = TR.stock_difference_from_transitions(tr, d)["delta_c_t"].sum()
    assert flux == pytest.approx(s[2020] - s[2015], rel=1e-9, abs=1e-6)


def test_periods_without_transitions_fall_back_to_the_extent() -> None:
    # land cover 2015, 2020, 2025; transitions only 2015→2020 → 2020→2025 from the extent difference
    ext3 = pl.concat([EXT, EXT.filter(pl.col("year") == 2020).with_columns(
        pl.lit(2025).cast(pl.Int32).alias("year"),
        pl.when(pl.col("class") == "林").then(120.0).when(pl.col("class") == "草").then(30.0)
        .otherwise(pl.col("area_ha")).alias("area_ha"))])
    d = _dens()
    res = compute(ext3, d, params.load_carbon_set(), CarbonPrice(1.0, None, "t", "user"), transitions=TR_OK)
    sums = res.flux.group_by("year_from", "year_to").agg(pl.col("delta_c_t").sum())
    per = {(a, b): v for a, b, v in sums.iter_rows()}
    # 2015→2020 from transitions: 77.5; 2020→2025: +10 ha 林 × 166 − 10 ha 草 × 129.5 = 365
    assert per == {(2015, 2020): pytest.approx(77.5), (2020, 2025): pytest.approx(365.0)}
    # a transition period 2015→2025 covers both extent periods: nothing from the extent is added
    only = TR.stock_difference_from_extent(ext3, d, skip_periods=pl.DataFrame(
        {"region_id": ["A"], "year_from": [2015], "year_to": [2025]}))
    assert only.height == 0
