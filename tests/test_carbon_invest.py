"""InVEST-equivalence of gep.carbon: a small case whose InVEST Carbon 3.20 result is derived by hand
from InVEST's documented formulas (user guide "carbonstorage"; natcap.invest carbon.py), and an
independent per-pixel re-implementation of InVEST's raster algorithm (float32 rasters, 1 ha pixels).

Case (one region, baseline 2015, alternate 2025, n = 10 years):
  lucode  lulc_name  c_above c_below c_soil c_dead   D (t C/ha)
  1       forest       60      15     100     5       180
  2       grass         2       8      80     0        90
  3       crop          5       1      50     0        56
  4       urban         0       0      20     0        20
Transitions (ha): 1→1 440, 1→3 40, 1→4 20; 2→2 250, 2→1 50; 3→3 130, 3→4 10, 3→1 10; 4→4 50.
Baseline areas 1:500 2:300 3:150 4:50; alternate 1:500 2:250 3:170 4:80 (total 1000 ha both years).
storage_bas = 500·180 + 300·90 + 150·56 + 50·20 = 90000 + 27000 + 8400 + 1000 = 126400 t C
storage_alt = 500·180 + 250·90 + 170·56 + 80·20 = 90000 + 22500 + 9520 + 1600 = 123620 t C
ΔC = 123620 − 126400 = −2780 t C
   = Σ A_ij (D_j − D_i) = 40(56−180) + 20(20−180) + 50(180−90) + 10(20−56) + 10(180−56)
   = −4960 − 3200 + 4500 − 360 + 1240 = −2780 ✓
NPV, p = 100 CNY/t C, r = 7 %, g = 2 %: Σ_{t=0}^{9} 1/(1.07^t·1.02^t) = 6.961275455217626,
valuation constant = 100/10 × 6.961275455217626 = 69.61275455217626 CNY per t C,
NPV = −2780 × 69.61275455217626 = −193523.45765505 CNY.
With r = g = 0 (the InVEST 3.9.1 fix, PR #492): NPV = ΔC × p = −278000 CNY.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from gep.carbon import params
from gep.carbon.step import compute, invest_pool_densities
from gep.carbon.stock import stock_totals
from gep.carbon.valuation import CarbonPrice

POOL_ROWS = [(1, "forest", 60, 15, 100, 5), (2, "grass", 2, 8, 80, 0), (3, "crop", 5, 1, 50, 0), (4, "urban", 0, 0, 20, 0)]
TRANSITIONS = [(1, 1, 440), (1, 3, 40), (1, 4, 20), (2, 2, 250), (2, 1, 50), (3, 3, 130), (3, 4, 10), (3, 1, 10), (4, 4, 50)]
REL = 1e-6


def rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


@pytest.fixture()
def invest_csv(tmp_path: Path) -> Path:
    d = tmp_path / "碳库_InVEST表"
    d.mkdir()
    p = d / "carbon_pools.csv"
    p.write_text("lucode,lulc_name,c_above,c_below,c_soil,c_dead\n"
                 + "".join(f"{c},{n},{a},{b},{s},{dd}\n" for c, n, a, b, s, dd in POOL_ROWS), encoding="utf-8")
    return p


def _tables(names: bool = False) -> tuple[pl.DataFrame, pl.DataFrame]:
    label = {c: (n if names else str(c)) for c, n, *_ in POOL_ROWS}
    tr = pl.DataFrame({
        "region_id": ["510000"] * len(TRANSITIONS), "year_from": [2015] * len(TRANSITIONS),
        "year_to": [2025] * len(TRANSITIONS), "class_from": [label[i] for i, _, _ in TRANSITIONS],
        "class_to": [label[j] for _, j, _ in TRANSITIONS], "area_ha": [float(a) for *_, a in TRANSITIONS],
        "_row": list(range(2, len(TRANSITIONS) + 2)),
    }).with_columns(pl.col("year_from").cast(pl.Int32), pl.col("year_to").cast(pl.Int32))
    bas = tr.group_by("class_from").agg(pl.col("area_ha").sum()).rename({"class_from": "class"}).with_columns(pl.lit(2015).alias("year"))
    alt = tr.group_by("class_to").agg(pl.col("area_ha").sum()).rename({"class_to": "class"}).with_columns(pl.lit(2025).alias("year"))
    ext = pl.concat([bas.select("year", "class", "area_ha"), alt.select("year", "class", "area_ha")]).with_columns(
        pl.lit("510000").alias("region_id"), pl.lit(None, dtype=pl.Utf8).alias("ecosystem_type"),
        pl.col("year").cast(pl.Int32)).select("region_id", "year", "class", "ecosystem_type", "area_ha").sort("year", "class")
    return ext, tr


def _invest_rasters() -> dict[str, float]:
    """InVEST's algorithm on rasters: reclassify each pool (float32), sum, × pixel area (m²) / 10 000.

    Pixels of 100 m × 100 m = 1 ha; the baseline/alternate rasters follow the transition table.
    """
    bas = np.concatenate([np.full(a, i, dtype=np.int32) for i, _, a in TRANSITIONS])
    alt = np.concatenate([np.full(a, j, dtype=np.int32) for _, j, a in TRANSITIONS])
    rng = np.random.default_rng(7)  # pixel order must not matter
    perm = rng.permutation(bas.size)
    bas, alt = bas[perm].reshape(40, 25), alt[perm].reshape(40, 25)
    pixel_area_m2 = 100.0 * 100.0
    storage = {}
    for name, lulc in (("bas", bas), ("alt", alt)):
        total = np.zeros(lulc.shape, dtype=np.float32)
        for pool_idx in range(4):
            table = np.zeros(5, dtype=np.float32)  # reclassify: lucode → pool density (float32, as InVEST)
            for row in POOL_ROWS:
                table[row[0]] = np.float32(row[2 + pool_idx])
            total = total + table[lulc]
        storage[name] = total  # c_storage_{bas,alt}.tif, t C/ha
    change = storage["alt"] - storage["bas"]  # c_change_bas_alt.tif
    p, r, g, n = 100.0, 7.0, 2.0, 10
    constant = p / n * sum(1.0 / ((1 + r / 100) ** t * (1 + g / 100) ** t) for t in range(n))
    npv = change * np.float32(constant)  # npv_alt.tif, currency/ha
    to_total = pixel_area_m2 / 10000.0  # raster_values_summary.csv: Σ pixel × area / 10 000
    return {"bas": float(storage["bas"].sum(dtype=np.float64) * to_total),
            "alt": float(storage["alt"].sum(dtype=np.float64) * to_total),
            "change": float(change.sum(dtype=np.float64) * to_total),
            "npv": float(npv.sum(dtype=np.float64) * to_total)}


@pytest.mark.parametrize("by_name", [False, True])
def test_invest_equivalence_stocks_change_npv(invest_csv: Path, by_name: bool) -> None:
    ext, tr = _tables(names=by_name)
    dens = invest_pool_densities(ext, params.load_invest_table(invest_csv), str(invest_csv))
    res = compute(ext, dens, params.load_carbon_set(), CarbonPrice(100.0, None, "test", "user"),
                  method="stock-difference", transitions=tr, discount_rate=7.0, price_change=2.0)
    totals = dict(stock_totals(res.stock).select("year", "c_t").iter_rows())
    change = res.flux["delta_c_t"].sum()
    npv = res.flux["npv_cny"].sum()
    # hand-derived InVEST numbers (module docstring)
    assert rel(totals[2015], 126400.0) <= 1e-12
    assert rel(totals[2025], 123620.0) <= 1e-12
    assert rel(change, -2780.0) <= 1e-12
    assert rel(npv, -193523.45765505) <= REL
    # independent raster re-implementation of InVEST (float32) → tolerance at float32 precision
    inv = _invest_rasters()
    assert rel(totals[2015], inv["bas"]) <= REL
    assert rel(totals[2025], inv["alt"]) <= REL
    assert rel(change, inv["change"]) <= REL
    assert rel(npv, inv["npv"]) <= REL


def test_invest_zero_rates_npv_is_change_times_price(invest_csv: Path) -> None:
    # r = g = 0: Σ_{t=0}^{n-1} 1 = n, so NPV = ΔC × p / n × n = −2780 × 100 = −278000 (InVEST PR #492)
    ext, tr = _tables()
    dens = invest_pool_densities(ext, params.load_invest_table(invest_csv), str(invest_csv))
    res = compute(ext, dens, params.load_carbon_set(), CarbonPrice(100.0, None, "test", "user"),
                  method="stock-difference", transitions=tr)
    assert rel(res.flux["npv_cny"].sum(), -278000.0) <= 1e-12
    # undiscounted value of the change = ΔC × p per t C
    assert rel(res.flux["value_cny"].sum(), -278000.0) <= 1e-12


def test_invest_per_conversion_rows(invest_csv: Path) -> None:
    ext, tr = _tables()
    dens = invest_pool_densities(ext, params.load_invest_table(invest_csv), str(invest_csv))
    res = compute(ext, dens, params.load_carbon_set(), CarbonPrice(100.0, None, "test", "user"), transitions=tr)
    rows = {(a, b): d for a, b, d in res.flux.select("class_from", "class_to", "delta_c_t").iter_rows()}
    # 40 ha forest→crop: 40 × (56 − 180) = −4960 (emission, negative); 50 ha grass→forest: +4500 (removal)
    assert rows == {("1", "3"): -4960.0, ("1", "4"): -3200.0, ("2", "1"): 4500.0, ("3", "4"): -360.0, ("3", "1"): 1240.0}
    assert set(res.flux["co2e_t"].round(6).to_list()) == {round(v * 44 / 12, 6) for v in rows.values()}


def test_invest_table_missing_code_is_listed(tmp_path: Path) -> None:
    p = tmp_path / "pools.csv"
    p.write_text("lucode,c_above,c_below,c_soil,c_dead\n1,60,15,100,5\n", encoding="utf-8")
    ext, _ = _tables()
    with pytest.raises(params.InputError) as ei:
        invest_pool_densities(ext, params.load_invest_table(p), str(p))
    assert ei.value.codes == ["MISSING_COEFFICIENT"]
    assert "2, 3, 4" in ei.value.problems[0].message


def test_invest_code_matching_ignores_leading_zeros(tmp_path: Path) -> None:
    # 三调 codes such as '0301' match an integer lucode 301
    p = tmp_path / "pools.csv"
    p.write_text("lucode,c_above,c_below,c_soil,c_dead\n301,40,10,90,4\n", encoding="utf-8")
    classes = pl.DataFrame({"class": ["0301"]})
    d = params.invest_densities(classes, params.load_invest_table(p), str(p))
    assert d.row(0) == ("0301", 40.0, 10.0, 90.0, 4.0)
