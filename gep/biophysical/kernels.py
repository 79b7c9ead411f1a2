"""Per-pixel biophysical kernels (功能量): pure numpy functions on one tile, no I/O.

Every function takes arrays of one tile (already aligned on one grid) plus scalar
parameters, and returns arrays of the same shape. Units are in the argument names;
the equations and their sources are in each docstring (``Notes``/``References``).
Nothing here loops over pixels, reads files or knows about zones; see
:mod:`gep.biophysical.engine` for the tile driver and the zonal sums.

Pixels that are not valid (nodata, outside every zone) are the caller's business:
the kernels compute on whatever they are given and the driver masks afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MM_TO_M: float = 1e-3
"""mm of water depth → m (1 mm over 1 m² = 1e-3 m³ = 1 kg of water)."""
G_PER_M2_TO_T: float = 1e-6
"""g → t (per m², times the pixel area in m²)."""
M2_PER_HA: float = 1e4
C_TO_CO2: float = 44.0 / 12.0
"""Mass ratio CO2 : C = 44.0095/12.011 ≈ 44/12 (molar masses; IPCC 2006 GL Vol 4 ch 2)."""
C_TO_O2: float = 32.0 / 12.0
"""Mass ratio O2 : C = 32/12 (photosynthesis CO2 + H2O → CH2O + O2: one O2 per C fixed)."""
J_PER_KWH: float = 3.6e6
G_PER_M3_WATER: float = 1e6
"""Density of water, 1 t/m³ = 1e6 g/m³."""

SFormula = Literal["liu1994", "mccool1987"]
O2Method = Literal["dry_matter", "carbon"]


# ---------------------------------------------------------------------------
# 水源涵养 water conservation (water balance)


@dataclass(frozen=True)
class WaterBalance:
    """Per-pixel water balance of one tile.

    ``runoff_mm`` R, ``conservation_mm`` Q = P − R − ET (may be negative),
    ``conservation_m3`` Q · A before clipping, ``negative`` where Q < 0.
    """

    runoff_mm: FloatArray
    conservation_mm: FloatArray
    conservation_m3: FloatArray
    negative: BoolArray


def water_conservation(
    precip_mm: FloatArray,
    et_mm: FloatArray,
    runoff_coefficient: FloatArray,
    pixel_area_m2: FloatArray,
) -> WaterBalance:
    """Water conservation (水源涵养量) by the water-balance method, per pixel.

    Parameters
    ----------
    precip_mm : annual precipitation P [mm/yr]
    et_mm : annual actual evapotranspiration ET [mm/yr]
    runoff_coefficient : storm-runoff coefficient α of the pixel's ecosystem type
        [1], so that R = P · α [mm/yr]
    pixel_area_m2 : pixel area A [m²] (broadcast: a per-row column for
        geographic grids, a scalar for projected ones)

    Notes
    -----
    Q_w = Σ_i (P_i − R_i − ET_i) · A_i, with R_i = P_i · α_i; mm × m² / 1000 = m³.
    The identity P = R + ET + Q holds on every pixel *before* any clipping of
    negative balances (tested). Negative balances are kept here; the GEP rule
    (set them to 0 and report count and volume) is applied by the driver.

    References
    ----------
    [1] 白玛卓嘎, 肖燚, 欧阳志云, 王莉雁, "甘孜藏族自治州生态系统生产总值核算研究,"
        生态学报 37(19):6302-6312, 2017 (ChinaXiv 201711.00120), water-retention
        formula ().
    [2] 欧阳志云 等, "生态系统生产总值核算：概念、核算方法与案例研究," 生态学报
        33(21):6747-6761, 2013.
    """
    runoff_mm = precip_mm * runoff_coefficient
    conservation_mm = precip_mm - runoff_mm - et_mm
    conservation_m3 = conservation_mm * MM_TO_M * pixel_area_m2
    return WaterBalance(runoff_mm, conservation_mm, conservation_m3, conservation_mm < 0)


# ---------------------------------------------------------------------------
# 土壤保持 soil retention (RUSLE)


def slope_horn_deg(dem_m_halo: FloatArray, dx_m: FloatArray | float, dy_m: FloatArray | float) -> FloatArray:
    """Slope [degrees] by Horn's 3 × 3 finite differences, from a DEM tile with a 1-pixel halo.

    Parameters
    ----------
    dem_m_halo : elevation [m], shape (rows + 2, cols + 2): the tile plus one pixel
        on every side (edge-replicated at the raster border)
    dx_m : pixel width [m], scalar or one value per output row (shape (rows, 1))
        for geographic grids
    dy_m : pixel height [m], scalar or per output row

    Notes
    -----
    dz/dx = ((c + 2f + i) − (a + 2d + g)) / (8 dx), dz/dy = ((g + 2h + i) − (a + 2b + c)) / (8 dy),
    slope = atan(√(dz/dx² + dz/dy²)); a..i are the 3 × 3 window row by row. A NaN
    (nodata) neighbour is replaced by the centre elevation (as edge replication at the
    raster border); a NaN centre gives a NaN slope.

    References
    ----------
    [1] B. K. P. Horn, "Hill shading and the reflectance map," Proc. IEEE 69(1):14-47, 1981.
    """
    z = dem_m_halo
    e = z[1:-1, 1:-1]
    holes = bool(np.isnan(z).any())

    def nb(v: FloatArray) -> FloatArray:  # a missing (NaN) neighbour takes the centre's elevation
        return np.where(np.isnan(v), e, v) if holes else v

    a, b, c = nb(z[:-2, :-2]), nb(z[:-2, 1:-1]), nb(z[:-2, 2:])
    d, f = nb(z[1:-1, :-2]), nb(z[1:-1, 2:])
    g, h, i = nb(z[2:, :-2]), nb(z[2:, 1:-1]), nb(z[2:, 2:])
    dzdx = ((c + 2.0 * f + i) - (a + 2.0 * d + g)) / (8.0 * np.asarray(dx_m, dtype=np.float64))
    dzdy = ((g + 2.0 * h + i) - (a + 2.0 * b + c)) / (8.0 * np.asarray(dy_m, dtype=np.float64))
    return np.degrees(np.arctan(np.hypot(dzdx, dzdy)))


def s_factor(slope_deg: FloatArray, formula: SFormula = "liu1994") -> FloatArray:
    """RUSLE slope-steepness factor S [1].

    Notes
    -----
    ``liu1994`` (steep-slope form used in Chinese soil-erosion work, e.g. 中国土壤流失方程 CSLE):
    S = 10.8 sin θ + 0.03 (θ < 5°), 16.8 sin θ − 0.50 (5° ≤ θ < 10°), 21.91 sin θ − 0.96 (θ ≥ 10°).

    ``mccool1987`` (RUSLE, as InVEST SDR): S = 10.8 sin θ + 0.03 (tan θ < 9 %), 16.8 sin θ − 0.50 otherwise.

    References
    ----------
    [1] B. Y. Liu, M. A. Nearing, L. M. Risse, "Slope gradient effects on soil loss for
        steep slopes," Trans. ASAE 37(6):1835-1840, 1994.
    [2] D. K. McCool et al., "Revised slope steepness factor for the Universal Soil Loss
        Equation," Trans. ASAE 30(5):1387-1396, 1987.
    [3] natcap/invest src/natcap/invest/sdr/sdr.py ``_calculate_ls_factor`` (InVEST 3.14+).
    """
    theta = np.radians(slope_deg)
    sin_t = np.sin(theta)
    if formula == "mccool1987":
        return np.where(np.tan(theta) * 100.0 < 9.0, 10.8 * sin_t + 0.03, 16.8 * sin_t - 0.50)
    if formula == "liu1994":
        return np.where(
            slope_deg < 5.0,
            10.8 * sin_t + 0.03,
            np.where(slope_deg < 10.0, 16.8 * sin_t - 0.50, 21.91 * sin_t - 0.96),
        )
    raise ValueError(f"unknown S formula {formula!r}: liu1994 or mccool1987")


def slope_length_exponent(slope_deg: FloatArray) -> FloatArray:
    """RUSLE slope-length exponent m [1], as InVEST SDR (Oliveira et al. 2013 table).

    Notes
    -----
    With s = tan θ in percent: m = 0.2 (s ≤ 1), 0.3 (1 < s ≤ 3.5), 0.4 (3.5 < s ≤ 5),
    0.5 (5 < s ≤ 9), β/(1 + β) (s > 9) with β = (sin θ / 0.0896) / (3 sin θ^0.8 + 0.56)
    (McCool et al. 1989).

    References
    ----------
    [1] natcap/invest sdr.py ``_calculate_ls_factor``; A. H. Oliveira et al., "Development
        of topographic factor modeling for application in soil erosion models," InTech, 2013.
    """
    theta = np.radians(slope_deg)
    s_pct = np.tan(theta) * 100.0
    sin_t = np.sin(theta)
    beta = (sin_t / 0.0896) / (3.0 * np.power(sin_t, 0.8) + 0.56)
    table = np.array([0.2, 0.3, 0.4, 0.5])
    idx = np.digitize(np.minimum(s_pct, 9.0), np.array([1.0, 3.5, 5.0, 9.0]), right=True)
    return np.where(s_pct > 9.0, beta / (1.0 + beta), table[np.minimum(idx, 3)])


def ls_factor_local(
    slope_deg: FloatArray,
    slope_length_m: FloatArray | float,
    s_formula: SFormula = "liu1994",
    l_max: float | None = None,
) -> FloatArray:
    """LS factor [1] from slope and a local (per-pixel) slope length: L = (λ/22.13)^m, LS = L · S.

    Parameters
    ----------
    slope_deg : slope θ [degrees]
    slope_length_m : horizontal slope length λ [m]; scalar or broadcastable array
    s_formula : ``liu1994`` (default, steep slopes of Chinese practice) or ``mccool1987`` (InVEST)
    l_max : cap on L (InVEST's ``l_max``); None = no cap

    Notes
    -----
    This is the *local* form: it needs only the pixel and a 1-pixel halo (for the slope), so
    it runs tile by tile. It does not accumulate flow (Desmet & Govers 1996, as InVEST SDR);
    on a pixel without upslope contributing area the two coincide when λ = D / x
    (D pixel size, x InVEST's aspect term): InVEST's L = ((0 + D²)^(m+1) − 0)/(D^(m+2) x^m 22.13^m)
    = (D/(x · 22.13))^m. Downslope pixels get a larger L in InVEST (tested and documented in
    docs/biophysical.md).

    References
    ----------
    [1] K. G. Renard et al., RUSLE, USDA Agriculture Handbook 703, 1997 (L = (λ/22.13)^m).
    [2] P. J. J. Desmet, G. Govers, J. Soil Water Conserv. 51(5):427-433, 1996.
    """
    m = slope_length_exponent(slope_deg)
    l_fac = np.power(np.asarray(slope_length_m, dtype=np.float64) / 22.13, m)
    if l_max is not None:
        l_fac = np.minimum(l_fac, l_max)
    return l_fac * s_factor(slope_deg, s_formula)


@dataclass(frozen=True)
class SoilRetention:
    """Per-pixel RUSLE results: potential A_p, actual A_a, retention A_p − A_a [t/pixel/yr]."""

    potential_t: FloatArray
    actual_t: FloatArray
    retention_t: FloatArray


def soil_retention(
    r_mj_mm_per_ha_h_yr: FloatArray,
    k_t_ha_h_per_ha_mj_mm: FloatArray,
    ls: FloatArray,
    c_factor: FloatArray,
    p_factor: FloatArray,
    pixel_area_m2: FloatArray,
) -> SoilRetention:
    """Soil retention (土壤保持量) by RUSLE: A_p = R·K·LS, A_a = R·K·LS·C·P, retention = A_p − A_a.

    Parameters
    ----------
    r_mj_mm_per_ha_h_yr : rainfall erosivity R [MJ·mm/(ha·h·yr)]
    k_t_ha_h_per_ha_mj_mm : soil erodibility K [t·ha·h/(ha·MJ·mm)]
    ls : slope length-steepness factor [1]
    c_factor, p_factor : cover-management and support-practice factors [1], 0..1
    pixel_area_m2 : pixel area [m²]

    Notes
    -----
    R·K·LS is in t/(ha·yr); × A/10⁴ gives t per pixel and year. InVEST SDR's ``rkls``,
    ``usle`` and ``avoided_erosion`` = rkls − usle are the same three quantities in t/(ha·yr)
    (before its pixel-area conversion), which the tests check on a tiny raster.

    References
    ----------
    [1] 肖玉, 谢高地, 安凯, "莽措湖流域生态系统服务功能经济价值变化研究," 应用生态学报, 2003
        (USLE form as cited in ).
    [2] K. G. Renard et al., RUSLE, USDA Agriculture Handbook 703, 1997.
    [3] natcap/invest sdr.py ``_calculate_rkls``, ``usle_op`` (InVEST SDR).
    """
    ha = pixel_area_m2 / M2_PER_HA
    potential = r_mj_mm_per_ha_h_yr * k_t_ha_h_per_ha_mj_mm * ls
    actual = potential * c_factor * p_factor
    return SoilRetention(potential * ha, actual * ha, (potential - actual) * ha)


def sediment_volume_m3(retention_t: FloatArray, bulk_density_t_per_m3: float,
                       sedimentation_coefficient: float) -> FloatArray:
    """Sediment that would silt reservoirs (减少泥沙淤积) [m³]: retention / ρ × λ.

    Notes
    -----
    V_s1 = λ · (A_s / ρ) · P_s (value); the physical part is λ · A_s / ρ.

    References
    ----------
    [1] 白玛卓嘎 et al. 2017, 生态学报 37(19) (λ = 0.24 after 欧阳志云 1999; ρ = 0.93 t/m³), ✅.
    """
    return retention_t / bulk_density_t_per_m3 * sedimentation_coefficient


def nutrient_t(retention_t: FloatArray, content_fraction: float) -> FloatArray:
    """N or P kept in the soil (减少面源污染) [t]: retention × content (0.0037 N, 0.00108 P).

    References
    ----------
    [1] 白玛卓嘎 et al. 2017 (C_N = 0.37 %, C_P = 0.108 %, after 侯元兆 1995), ✅.
    """
    return retention_t * content_fraction


# ---------------------------------------------------------------------------
# 固碳释氧 carbon fixation and oxygen release


@dataclass(frozen=True)
class CarbonOxygen:
    """Per-pixel carbon fixed [t C], as CO2 [t CO2], and O2 released [t O2]."""

    carbon_t_c: FloatArray
    co2_t: FloatArray
    o2_t: FloatArray


def carbon_oxygen(
    nep_g_c_per_m2: FloatArray,
    pixel_area_m2: FloatArray,
    o2_method: O2Method = "dry_matter",
) -> CarbonOxygen:
    """Carbon sequestration (固碳) and oxygen release (释氧) from NEP (or NPP) [g C/(m²·yr)].

    Parameters
    ----------
    nep_g_c_per_m2 : net ecosystem production (or NPP when the run says so) [g C/(m²·yr)]
    pixel_area_m2 : pixel area [m²]
    o2_method : ``dry_matter`` (default): 1 kg dry matter fixes 1.63 kg CO2 and releases
        1.20 kg O2, so O2 = CO2 × 1.20/1.63; ``carbon``: O2 = C × 32/12.

    Notes
    -----
    C [t] = NEP · A · 10⁻⁶; Q_CO2 = C · 44/12 (规范-style form, );
    the two O2 rules differ by 1.20/1.63 × 44/12 = 2.699 vs 32/12 = 2.667 t O2 per t C (1.2 %).

    References
    ----------
    [1] 江波 et al., 生态学报 37(8):2497-2505, 2017 (1.63 kg CO2 / 1.20 kg O2 per kg dry
        matter, ✅ ).
    [2] IPCC 2006 GL Vol 4 ch 2 (44/12).
    """
    carbon = nep_g_c_per_m2 * pixel_area_m2 * G_PER_M2_TO_T
    co2 = carbon * C_TO_CO2
    if o2_method == "dry_matter":
        o2 = co2 * (1.20 / 1.63)
    elif o2_method == "carbon":
        o2 = carbon * C_TO_O2
    else:
        raise ValueError(f"unknown O2 method {o2_method!r}: dry_matter or carbon")
    return CarbonOxygen(carbon, co2, o2)


# ---------------------------------------------------------------------------
# 气候调节 climate regulation


@dataclass(frozen=True)
class ClimateRegulation:
    """Per-pixel electricity equivalent [kWh/yr] of vegetation transpiration and water-surface evaporation."""

    vegetation_kwh: FloatArray
    water_surface_kwh: FloatArray


def climate_regulation(
    et_mm: FloatArray,
    pixel_area_m2: FloatArray,
    vegetation: BoolArray,
    water_surface: BoolArray,
    latent_heat_j_per_g: float,
    ac_eer: float,
    humidifier_kwh_per_m3: float = 0.0,
    temperature_c: FloatArray | None = None,
    threshold_c: float = 26.0,
) -> ClimateRegulation:
    """Climate regulation (气候调节): energy of evapotranspiration as air-conditioning electricity.

    Parameters
    ----------
    et_mm : evapotranspiration (vegetation) or evaporation (water surface) [mm] per period;
        shape (rows, cols) for one period, or (periods, rows, cols), e.g. 12 months
    pixel_area_m2 : pixel area [m²]
    vegetation, water_surface : masks of vegetated and open-water pixels (from the ecosystem type)
    latent_heat_j_per_g : latent heat of vaporisation q [J/g] (2450 J/g ≈ 2.45 MJ/kg at 20 °C)
    ac_eer : air-conditioner energy-efficiency ratio r [1]
    humidifier_kwh_per_m3 : humidifier consumption γ [kWh/m³] for the water-surface term (0 = off)
    temperature_c : mean air temperature [°C] per period, same shape as ``et_mm``; when given,
        only periods with temperature > ``threshold_c`` count (the AC-on days D)
    threshold_c : AC-on temperature threshold [°C] (26 °C, ⚠️ unverified default)

    Notes
    -----
    Vegetation: E_pt = ET · A · ρ_w · q / (3.6 × 10⁶ · r) — the energy form of the MEE/规范
    E_pt = Σ EPP_i · S_i · D · 10⁶/(3600 · r) with EPP = ET · ρ_w · q (⚠️ gep_methods §1.4).
    Water surface: E_we = E · ρ_w · q / 3.6 × 10⁶ + E · γ (E in m³), the Garzê form
    V_e = (E · ρ · q / 3600 + E · γ) · c (✅ gep_methods §1.4; no r in that formula).
    Pixels that are neither vegetation nor water give 0.

    References
    ----------
    [1] 白玛卓嘎 et al. 2017, 生态学报 37(19):6302-6312 (气候调节 formulas, ✅).
    [2] 《生态产品总值核算规范（试行）》 2022 (E_pt form, ⚠️ not checked).
    """
    et = et_mm
    if temperature_c is not None:
        et = np.where(temperature_c > threshold_c, et_mm, 0.0)
    if et.ndim == 3:
        et = et.sum(axis=0)
    water_m3 = et * MM_TO_M * pixel_area_m2
    heat_kwh = water_m3 * G_PER_M3_WATER * latent_heat_j_per_g / J_PER_KWH
    veg = np.where(vegetation, heat_kwh / ac_eer, 0.0)
    wat = np.where(water_surface, heat_kwh + water_m3 * humidifier_kwh_per_m3, 0.0)
    return ClimateRegulation(veg, wat)
