"""Per-pixel kernels of gep.biophysical: hand-computed pixels, mass balance, InVEST SDR equations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gep.biophysical import kernels as K
from gep.biophysical.zonal import QUANTUM, ZonalAccumulator

# ---------------------------------------------------------------- water conservation


def test_water_conservation_hand_computed() -> None:
    # pixel 1: P 1000 mm, α 0.1 → R 100 mm; ET 600 → Q 300 mm; × 10,000 m² / 1000 = 3000 m³
    # pixel 2: P 500, α 0.2 → R 100; ET 500 → Q −100 mm; × 900 m² / 1000 = −90 m³ (negative)
    wb = K.water_conservation(np.array([1000.0, 500.0]), np.array([600.0, 500.0]),
                              np.array([0.1, 0.2]), np.array([10_000.0, 900.0]))
    assert_allclose(wb.runoff_mm, [100.0, 100.0])
    assert_allclose(wb.conservation_mm, [300.0, -100.0])
    assert_allclose(wb.conservation_m3, [3000.0, -90.0])
    assert_array_equal(wb.negative, [False, True])


def test_water_balance_closes_on_every_pixel() -> None:
    rng = np.random.default_rng(7)
    p = rng.uniform(0, 2500, (40, 50))
    et = rng.uniform(0, 1500, (40, 50))
    alpha = rng.uniform(0, 0.6, (40, 50))
    wb = K.water_conservation(p, et, alpha, np.full((40, 1), 900.0))
    # P = R + ET + Q before any clipping, on every pixel
    assert_allclose(wb.runoff_mm + et + wb.conservation_mm, p, rtol=0, atol=1e-9)
    assert wb.negative.any() and (~wb.negative).any()


# ---------------------------------------------------------------- soil retention


def test_slope_horn_plane() -> None:
    # z = column index × 1 m, dx = 10 m → dz/dx = (4 × 2 m)/(8 × 10 m) = 0.1 → atan(0.1) = 5.7106°
    dem = np.tile(np.arange(5, dtype=float), (5, 1))
    slope = K.slope_horn_deg(dem, 10.0, 10.0)
    assert slope.shape == (3, 3)
    assert_allclose(slope, 5.710593137499643, rtol=1e-12)
    # per-row dx (geographic grid): row 0 has dx 20 m → slope atan(0.05)
    slope2 = K.slope_horn_deg(dem, np.array([[20.0], [10.0], [10.0]]), 10.0)
    assert_allclose(slope2[0], math.degrees(math.atan(0.05)))


@pytest.mark.parametrize(("deg", "liu", "mccool"), [
    (3.0, 0.5952283274237935, 0.5952283274237935),      # 10.8 sin 3° + 0.03 (both: tan 3° = 5.2 % < 9 %)
    (5.710593137499643, 1.1716624795527821, 1.1716624795527821),  # 16.8 × 0.0995037 − 0.50 (10 % slope)
    (20.0, 6.533661340265402, 5.245938407871234),       # Liu: 21.91 sin 20° − 0.96; McCool: 16.8 sin 20° − 0.5
])
def test_s_factor(deg: float, liu: float, mccool: float) -> None:
    assert_allclose(K.s_factor(np.array([deg]), "liu1994"), [liu], rtol=1e-12)
    assert_allclose(K.s_factor(np.array([deg]), "mccool1987"), [mccool], rtol=1e-12)


def test_slope_length_exponent_table() -> None:
    pct = np.array([0.5, 0.99, 2.0, 3.4, 4.0, 4.99, 7.0, 8.99, 10.0])
    deg = np.degrees(np.arctan(pct / 100))
    # 10 %: sinθ = 0.0995037, β = (sinθ/0.0896)/(3 sinθ^0.8 + 0.56) = 1.0744532 → m = β/(1+β) = 0.5179453
    expected = [0.2, 0.2, 0.3, 0.3, 0.4, 0.4, 0.5, 0.5, 0.5179452588202286]
    assert_allclose(K.slope_length_exponent(deg), expected, rtol=1e-9)


def test_ls_local_hand_computed() -> None:
    # 6 % slope: m = 0.5; λ = 4 × 22.13 m → L = 4^0.5 = 2; S (Liu, θ = 3.43° < 5°) = 10.8 sinθ + 0.03
    deg = math.degrees(math.atan(0.06))
    s = 10.8 * math.sin(math.radians(deg)) + 0.03
    assert_allclose(K.ls_factor_local(np.array([deg]), 4 * 22.13), [2 * s], rtol=1e-12)
    assert_allclose(K.ls_factor_local(np.array([deg]), 4 * 22.13, l_max=1.5), [1.5 * s], rtol=1e-12)


def test_soil_retention_hand_computed() -> None:
    # R 4000 MJ·mm/(ha·h·yr) × K 0.03 × LS 2 = 240 t/ha/yr potential; × C 0.1 × P 0.5 = 12 t/ha/yr actual
    # pixel 900 m² = 0.09 ha → 21.6 t, 1.08 t, retention 20.52 t
    sr = K.soil_retention(np.array([4000.0]), np.array([0.03]), np.array([2.0]), np.array([0.1]),
                          np.array([0.5]), np.array([900.0]))
    assert_allclose(sr.potential_t, [21.6])
    assert_allclose(sr.actual_t, [1.08])
    assert_allclose(sr.retention_t, [20.52])
    # sediment 20.52 t / 0.93 t/m³ × 0.24 = 5.2954839 m³; N 20.52 × 0.37 % = 0.075924 t; P × 0.108 % = 0.02216 t
    assert_allclose(K.sediment_volume_m3(sr.retention_t, 0.93, 0.24), [5.295483870967741])
    assert_allclose(K.nutrient_t(sr.retention_t, 0.0037), [0.075924])
    assert_allclose(K.nutrient_t(sr.retention_t, 0.00108), [0.0221616])


# InVEST SDR, transcribed from the docstring and code of natcap/invest src/natcap/invest/sdr/sdr.py
# (_calculate_ls_factor, _calculate_rkls, usle_op; avoided_erosion = rkls − usle):
#   contributing_area = sqrt((FA − 1) · D²); x = |sin b| + |cos b| (b = slope angle, as InVEST computes it)
#   L = ((ca + D²)^(m+1) − ca^(m+1)) / (D^(m+2) · x^m · 22.13^m), capped at l_max; LS = L · S (McCool S, 9 %)
#   rkls = LS · R · K [t/(ha·yr)]; usle = rkls · C · P; avoided_erosion = rkls − usle


def _invest_ls(percent_slope: np.ndarray, flow_acc: np.ndarray, cell_size: float, l_max: float) -> np.ndarray:
    cell_area = cell_size**2
    ca = np.sqrt((flow_acc - 1) * cell_area)
    b = np.arctan(percent_slope / 100)
    x = np.abs(np.sin(b)) + np.abs(np.cos(b))
    s = np.where(percent_slope < 9, 10.8 * np.sin(b) + 0.03, 16.8 * np.sin(b) - 0.5)
    beta = (np.sin(b) / 0.0896) / (3 * np.sin(b) ** 0.8 + 0.56)
    m = np.where(percent_slope > 9, beta / (1 + beta),
                 np.array([0.2, 0.3, 0.4, 0.5])[np.digitize(np.minimum(percent_slope, 9), [1, 3.5, 5, 9], right=True)])
    lf = ((ca + cell_area) ** (m + 1) - ca ** (m + 1)) / (cell_size ** (m + 2) * x**m * 22.13**m)
    return np.minimum(lf, l_max) * s


def test_invest_sdr_ridge_pixels_match_local_ls() -> None:
    """On pixels without upslope area (FA = 1) InVEST's Desmet–Govers L equals the local L with λ = D/x."""
    pct = np.array([[0.5, 2.0, 4.0], [7.0, 12.0, 35.0]])
    deg = np.degrees(np.arctan(pct / 100))
    d = 30.0
    b = np.radians(deg)
    lam = d / (np.abs(np.sin(b)) + np.abs(np.cos(b)))
    ours = K.ls_factor_local(deg, lam, s_formula="mccool1987", l_max=122.0)
    assert_allclose(ours, _invest_ls(pct, np.ones_like(pct), d, 122.0), rtol=1e-12)


def test_invest_sdr_avoided_erosion_same_ls() -> None:
    """avoided_erosion = rkls − usle (InVEST) equals gep's retention per ha with the same LS raster."""
    pct = np.array([[3.0, 12.0], [25.0, 60.0]])
    fa = np.array([[1.0, 4.0], [9.0, 30.0]])  # InVEST's flow accumulation (pixels, incl. itself)
    ls = _invest_ls(pct, fa, 30.0, 122.0)
    r = np.array([[3500.0, 4200.0], [5000.0, 2800.0]])
    k = np.array([[0.02, 0.035], [0.04, 0.028]])
    c = np.array([[0.006, 0.31], [0.04, 1.0]])
    p = np.array([[1.0, 0.4], [1.0, 1.0]])
    rkls = ls * r * k
    usle = rkls * c * p
    avoided_t_per_ha = rkls - usle
    # hand check of one pixel: [1,1]: 60 % slope, FA 30 → LS computed above; C = 1, P = 1 → avoided 0
    assert avoided_t_per_ha[1, 1] == 0.0
    ours = K.soil_retention(r, k, ls, c, p, np.full((2, 2), 900.0))
    assert_allclose(ours.retention_t / 0.09, avoided_t_per_ha, rtol=1e-12)
    assert_allclose(ours.potential_t / 0.09, rkls, rtol=1e-12)
    assert_allclose(ours.actual_t / 0.09, usle, rtol=1e-12)


def test_invest_sdr_downslope_pixels_differ_documented() -> None:
    """Documented difference: with upslope area InVEST's L grows, the local L does not."""
    pct = np.array([12.0])
    deg = np.degrees(np.arctan(pct / 100))
    b = np.radians(deg)
    lam = 30.0 / (np.abs(np.sin(b)) + np.abs(np.cos(b)))
    local = K.ls_factor_local(deg, lam, s_formula="mccool1987")
    # 12 % slope, 30 m pixels: InVEST L / local L = 1.130 at FA 10, 1.375 at FA 100, 1.957 at FA 1000
    # (InVEST takes the square root of the catchment area as "upstream area", sdr.py comment / ADR-0001)
    for fa, ratio in ((10.0, 1.1302), (100.0, 1.3753), (1000.0, 1.9572)):
        invest = _invest_ls(pct, np.array([fa]), 30.0, 122.0)
        assert_allclose(invest[0] / local[0], ratio, rtol=1e-4)


# ---------------------------------------------------------------- carbon and oxygen


def test_carbon_oxygen_hand_computed() -> None:
    # NEP 300 g C/m² × 10,000 m² = 3 t C → × 44/12 = 11 t CO2
    # O2 dry matter: 11 × 1.20/1.63 = 8.0981595 t; carbon-based: 3 × 32/12 = 8 t
    co = K.carbon_oxygen(np.array([300.0]), np.array([10_000.0]))
    assert_allclose(co.carbon_t_c, [3.0])
    assert_allclose(co.co2_t, [11.0])
    assert_allclose(co.o2_t, [8.098159509202453])
    assert_allclose(K.carbon_oxygen(np.array([300.0]), np.array([10_000.0]), "carbon").o2_t, [8.0])


# ---------------------------------------------------------------- climate regulation


def test_climate_regulation_hand_computed() -> None:
    # ET 500 mm × 10,000 m² = 5000 m³ = 5e9 g × 2450 J/g = 1.225e13 J / 3.6e6 = 3,402,777.8 kWh
    # vegetation: / r 3 = 1,134,259.3 kWh; water: 3,402,777.8 + 5000 m³ × 120 kWh/m³ = 4,002,777.8 kWh
    et = np.array([500.0, 500.0, 500.0])
    cr = K.climate_regulation(et, np.full(3, 10_000.0), np.array([True, False, False]),
                              np.array([False, True, False]), 2450.0, 3.0, 120.0)
    assert_allclose(cr.vegetation_kwh, [3402777.777777778 / 3, 0.0, 0.0])
    assert_allclose(cr.water_surface_kwh, [0.0, 4002777.777777778, 0.0])


def test_climate_regulation_hot_months_only() -> None:
    # 12 months × 50 mm; only 3 months above 26 °C → 150 mm count: 1500 m³ × 680.56 kWh/m³ / 3
    et = np.full((12, 1, 1), 50.0)
    temp = np.array([5, 8, 12, 17, 22, 25, 27, 28, 26.5, 20, 12, 6], dtype=float).reshape(12, 1, 1)
    cr = K.climate_regulation(et, np.full((1, 1), 10_000.0), np.array([[True]]), np.array([[False]]),
                              2450.0, 3.0, temperature_c=temp, threshold_c=26.0)
    assert_allclose(cr.vegetation_kwh, [[1500 * 1e6 * 2450 / 3.6e6 / 3]])


# ---------------------------------------------------------------- exact zonal sums


def test_zonal_sum_independent_of_tiling() -> None:
    rng = np.random.default_rng(3)
    vals = rng.lognormal(3, 2, (64, 48)) * rng.choice([-1, 1], (64, 48))
    zones = rng.integers(-1, 5, (64, 48))
    whole = ZonalAccumulator(5, ("v",))
    whole.add(zones, {"v": vals}, np.ones_like(vals, dtype=bool))
    parts = []
    for r0 in (0, 17, 40):
        for c0 in (0, 30):
            r1 = {0: 17, 17: 40, 40: 64}[r0]
            c1 = {0: 30, 30: 48}[c0]
            acc = ZonalAccumulator(5, ("v",))
            acc.add(zones[r0:r1, c0:c1], {"v": vals[r0:r1, c0:c1]}, np.ones((r1 - r0, c1 - c0), dtype=bool))
            parts.append(acc)
    tiled = ZonalAccumulator(5, ("v",))
    for i, acc in enumerate(reversed(parts)):  # any order, dense or sparse partials
        tiled.merge(acc.sparsify() if i % 2 else acc)
    assert whole.totals()["v"].tobytes() == tiled.totals()["v"].tobytes()
    assert_array_equal(whole.count, tiled.count)
    for z in range(5):
        exact = math.fsum(vals[zones == z].tolist())
        assert abs(whole.totals()["v"][z] - exact) <= (zones == z).sum() * QUANTUM
