"""Gain–loss (rate) method: annual carbon sequestration per region, year and class.

* area × rate (t C/ha/yr), rates per ecosystem type, class or region (GEP practice,
  《生态产品总值核算规范（试行）》 2022 rate method: FCSR/GSR/SCSR × area);
* IPCC 2006 GL Vol 4 Eq 2.9/2.10 forest gain ΔC_G = A × G_total × CF,
  G_total = G_W × (1+R) or I_V × BCEF_I × (1+R); losses Eq 2.12 (wood removals
  H × BCEF_R × (1+R) × CF) and Eq 2.14 (disturbance A_d × B_W × (1+R) × CF × fd);
* IPCC Eq 2.25 grassland mineral-soil change by stock-change factors
  ΔC = A × SOC_REF × F_LU × (F_MG,t·F_I,t − F_MG,0·F_I,0) / D (2019 Refinement Table 6.2);
* wetland CH4 (t CH4 × GWP100 of the named set), reported as a negative (emission) row
  so that a wetland can be a net source.

Every row is one year's flow: year_from = year − 1, year_to = year; positive = removal.
Where an IPCC row exists for a (region, year, class) its area is taken out of the
area × rate row of that class, so the same hectare is never counted twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import polars as pl

from gep import units as U
from gep.carbon.params import CarbonSet
from gep.errors import InputError, Problem, ProblemCollector
from gep.tablespec import (
    AREA,
    CLASS,
    REGION_ID,
    ROW,
    YEAR,
    ColumnSpec,
    TableSpec,
    load_table,
)

FLOW_COLUMNS: tuple[str, ...] = ("region_id", "year_from", "year_to", "method", "class_from", "class_to",
                                 "area_ha", "delta_c_t")

C_PER_CO2: float = 1.0 / U.C_TO_CO2
"""12/44: t C per t CO2 (used to state a CO2e emission as its carbon equivalent)."""


def _opt(name: str, dtype: Literal["str", "int", "float"] = "float", aliases: tuple[str, ...] = (), nonneg: bool = True) -> ColumnSpec:
    return ColumnSpec(name=name, dtype=dtype, required=False, allow_null=True, aliases=aliases, nonnegative=nonneg)


RATES_SPEC = TableSpec(
    name="carbon sequestration rates",
    columns=(
        ColumnSpec(name="region_id", required=False, allow_null=True, aliases=REGION_ID.aliases),
        ColumnSpec(name="class", required=False, allow_null=True, aliases=CLASS.aliases),
        ColumnSpec(name="ecosystem_type", required=False, allow_null=True, aliases=("生态系统类型",)),
        ColumnSpec(name="rate_t_c_ha_yr", dtype="float", aliases=("rate", "固碳速率", "固碳速率(t C/ha/yr)"), nonnegative=False),
    ),
)

FOREST_SPEC = TableSpec(
    name="forest inventory (IPCC Tier 1 gain-loss)",
    columns=(
        REGION_ID, YEAR, CLASS,
        ColumnSpec(name="area_ha", dtype="float", required=False, allow_null=True, aliases=AREA.aliases,
                   dimension="area", canonical_unit="ha", nonnegative=True),
        _opt("gw_t_dm_ha_yr", aliases=("gw", "G_W")),
        _opt("iv_m3_ha_yr", aliases=("iv", "I_V", "蓄积年均净生长量")),
        _opt("r", aliases=("R", "根茎比")), _opt("bcef_i", aliases=("BCEF_I",)), _opt("bcef_r", aliases=("BCEF_R",)),
        _opt("cf", aliases=("CF", "含碳率")),
        _opt("harvest_m3", aliases=("H", "采伐量", "harvest")),
        _opt("disturbance_area_ha", aliases=("受灾面积",)),
        _opt("disturbance_bw_t_dm_ha", aliases=("B_W",)),
        _opt("disturbance_fd", aliases=("fd",)),
    ),
    keys=("region_id", "year", "class"),
)

GRASSLAND_SPEC = TableSpec(
    name="grassland management change (IPCC stock-change factors)",
    columns=(
        REGION_ID, YEAR, CLASS,
        ColumnSpec(name="area_ha", dtype="float", aliases=AREA.aliases, dimension="area", canonical_unit="ha",
                   nonnegative=True),
        ColumnSpec(name="climate_zone", description="e.g. warm_temperate_moist, cool_temperate_moist, tropical_montane"),
        ColumnSpec(name="soil_type", description="HAC, LAC, sandy, spodic, volcanic, wetland"),
        ColumnSpec(name="mg_from", description="nominal, high_intensity_grazing, severely_degraded, improved"),
        ColumnSpec(name="mg_to"),
        ColumnSpec(name="input_from", required=False, allow_null=True),
        ColumnSpec(name="input_to", required=False, allow_null=True),
        _opt("soc_ref_t_c_ha"), _opt("d_yr"),
    ),
    keys=("region_id", "year", "class"),
)


def load_rates(path: str | Path, display_name: str | None = None) -> pl.DataFrame:
    """User rate table (t C/ha/yr): region_id optional, class or ecosystem_type, rate_t_c_ha_yr."""
    df = load_table(path, RATES_SPEC, keep_rows=True, display_name=display_name)
    bad = df.filter(pl.col("class").is_null() & pl.col("ecosystem_type").is_null())
    if bad.height:
        raise InputError([Problem("MISSING_VALUE", "a rate row names neither a class nor an ecosystem type",
                                  file=display_name or str(path), row=r, column="class",
                                  expected="a land-cover class or an ecosystem type") for r in bad[ROW].to_list()])
    return df.drop(ROW)


def load_forest_inventory(path: str | Path, display_name: str | None = None) -> pl.DataFrame:
    """Forest inventory for IPCC Tier 1 gain-loss; each row needs gw_t_dm_ha_yr or iv_m3_ha_yr."""
    df = load_table(path, FOREST_SPEC, keep_rows=True, display_name=display_name)
    bad = df.filter(pl.col("gw_t_dm_ha_yr").is_null() & pl.col("iv_m3_ha_yr").is_null())
    if bad.height:
        raise InputError([Problem(
            "MISSING_VALUE", "a forest row has neither above-ground growth G_W nor volume increment I_V",
            file=display_name or str(path), row=r, column="gw_t_dm_ha_yr",
            expected="gw_t_dm_ha_yr (t dm/ha/yr) or iv_m3_ha_yr (m3/ha/yr)") for r in bad[ROW].to_list()])
    return df.with_columns(pl.col("year").cast(pl.Int32))


def load_grassland_management(path: str | Path, display_name: str | None = None) -> pl.DataFrame:
    """Grassland management-change table for IPCC Eq 2.25 (stock-change factors)."""
    return load_table(path, GRASSLAND_SPEC, keep_rows=True, display_name=display_name).with_columns(
        pl.col("year").cast(pl.Int32))


def _annual(df: pl.DataFrame, method: str) -> pl.DataFrame:
    return df.select(
        "region_id", (pl.col("year") - 1).cast(pl.Int32).alias("year_from"), pl.col("year").cast(pl.Int32).alias("year_to"),
        pl.lit(method).alias("method"), pl.col("class").alias("class_from"), pl.col("class").alias("class_to"),
        pl.col("area_ha").cast(pl.Float64), pl.col("delta_c_t").cast(pl.Float64),
    )


def resolve_rates(extent: pl.DataFrame, cset: CarbonSet, user_rates: pl.DataFrame | None = None) -> pl.DataFrame:
    """Rate (t C/ha/yr) per region and class. Precedence: user region+class > user region+type
    > user class > user type > the set's ``rates`` by ecosystem type > 0 (no rate: not counted).
    Returns region_id, class, rate_t_c_ha_yr."""
    keys = extent.select("region_id", "class", "ecosystem_type").unique()
    set_rates = cset.table("rates")
    out = keys
    if set_rates is not None:
        out = out.join(set_rates.select("ecosystem_type", pl.col("value").alias("r_set")), on="ecosystem_type", how="left")
    else:
        out = out.with_columns(pl.lit(None, dtype=pl.Float64).alias("r_set"))
    if user_rates is not None and user_rates.height:
        u = user_rates
        def pick(region: bool, by: str, name: str) -> pl.DataFrame:
            f = (pl.col("region_id").is_not_null() if region else pl.col("region_id").is_null()) & pl.col(by).is_not_null()
            if by == "ecosystem_type":
                f = f & pl.col("class").is_null()
            cols = ["region_id", by] if region else [by]
            return u.filter(f).select(*cols, pl.col("rate_t_c_ha_yr").alias(name)).unique(cols, keep="first")
        out = (out.join(pick(True, "class", "r1"), on=["region_id", "class"], how="left")
               .join(pick(True, "ecosystem_type", "r2"), on=["region_id", "ecosystem_type"], how="left")
               .join(pick(False, "class", "r3"), on="class", how="left")
               .join(pick(False, "ecosystem_type", "r4"), on="ecosystem_type", how="left"))
        out = out.with_columns(pl.coalesce("r1", "r2", "r3", "r4", "r_set").alias("rate_t_c_ha_yr"))
    else:
        out = out.with_columns(pl.col("r_set").alias("rate_t_c_ha_yr"))
    return out.select("region_id", "class", pl.col("rate_t_c_ha_yr").fill_null(0.0)).sort(["region_id", "class"])


def rate_flux(extent: pl.DataFrame, rates: pl.DataFrame, covered: pl.DataFrame | None = None) -> pl.DataFrame:
    """Annual sequestration = (area − area covered by IPCC rows) × rate, t C/yr, per region, year, class.

    ``extent``: region_id, year, class, area_ha; ``rates``: region_id, class, rate_t_c_ha_yr;
    ``covered``: region_id, year, class, covered_ha. Rows with a zero rate are dropped.
    """
    ext = extent.select("region_id", pl.col("year").cast(pl.Int32), "class", "area_ha")
    if covered is not None and covered.height:
        cov = covered.group_by("region_id", "year", "class").agg(pl.col("covered_ha").sum())
        ext = ext.join(cov, on=["region_id", "year", "class"], how="left").with_columns(
            pl.max_horizontal(pl.col("area_ha") - pl.col("covered_ha").fill_null(0.0), pl.lit(0.0)).alias("area_ha"))
    df = ext.join(rates, on=["region_id", "class"], how="inner").filter(pl.col("rate_t_c_ha_yr") != 0)
    df = df.with_columns((pl.col("area_ha") * pl.col("rate_t_c_ha_yr")).alias("delta_c_t"))
    return _annual(df, "gain_loss_rate")


def _factor(cset: CarbonSet, parameter: str) -> pl.DataFrame:
    ff = cset.table("forest_factors")
    if ff is None:
        return pl.DataFrame({"ecosystem_type": [], parameter.lower() + "_set": []},
                            schema={"ecosystem_type": pl.Utf8, parameter.lower() + "_set": pl.Float64})
    return ff.filter(pl.col("parameter") == parameter).select("ecosystem_type", pl.col("value").alias(parameter.lower() + "_set"))


def forest_ipcc_flux(
    inventory: pl.DataFrame, extent: pl.DataFrame, cset: CarbonSet, densities: pl.DataFrame, file: str = "forest inventory"
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """IPCC Tier 1 forest gain and losses (t C/yr). Returns (flux rows, covered areas).

    gain = A × G_total × CF, G_total = G_W × (1+R) if gw given else I_V × BCEF_I × (1+R) (Eq 2.9/2.10);
    harvest = H × BCEF_R × (1+R) × CF (Eq 2.12); disturbance = A_d × B_W × (1+R) × CF × fd (Eq 2.14),
    B_W default = c_above / CF of the class, fd default 1. Factors missing in the row come from the
    set's ``forest_factors`` by the class's ecosystem type (MISSING_COEFFICIENT if absent there too).
    """
    types = extent.select("region_id", pl.col("year").cast(pl.Int32), "class", "ecosystem_type",
                          pl.col("area_ha").alias("extent_ha"))
    inv = inventory.join(types, on=["region_id", "year", "class"], how="left")
    for p in ("R", "CF", "BCEF_I", "BCEF_R"):
        inv = inv.join(_factor(cset, p), on="ecosystem_type", how="left")
    inv = inv.join(densities.select("class", "c_above"), on="class", how="left").with_columns(
        pl.coalesce("area_ha", "extent_ha").alias("area_ha"),
        pl.coalesce("r", "r_set").alias("R"), pl.coalesce("cf", "cf_set").alias("CF"),
        pl.coalesce("bcef_i", "bcef_i_set").alias("BCEF_I"), pl.coalesce("bcef_r", "bcef_r_set").alias("BCEF_R"),
    )
    problems = ProblemCollector()
    checks = [
        ("area_ha", pl.col("area_ha").is_null(), "MISSING_VALUE", "no area: the class is not in the land cover of that year",
         "area_ha in this table or the class in the land cover"),
        ("r", pl.col("R").is_null(), "MISSING_COEFFICIENT", "no root-to-shoot ratio R for this class",
         "column r, or a forest ecosystem type with R in the coefficient set"),
        ("cf", pl.col("CF").is_null(), "MISSING_COEFFICIENT", "no carbon fraction CF for this class",
         "column cf, or a forest ecosystem type with CF in the set"),
        ("bcef_i", pl.col("gw_t_dm_ha_yr").is_null() & pl.col("BCEF_I").is_null(), "MISSING_COEFFICIENT",
         "volume increment given but no BCEF_I for this class", "column bcef_i or BCEF_I in the set"),
        ("bcef_r", (pl.col("harvest_m3").fill_null(0) > 0) & pl.col("BCEF_R").is_null(), "MISSING_COEFFICIENT",
         "harvest given but no BCEF_R for this class", "column bcef_r or BCEF_R in the set"),
    ]
    for col, cond, code, msg, exp in checks:
        for rec in inv.filter(cond).iter_rows(named=True):
            problems.add(code, f"region {rec['region_id']}, {rec['year']}, class {rec['class']}: {msg}",
                         file=file, row=rec[ROW], column=col, expected=exp)
    problems.raise_if_any()
    g_total = pl.when(pl.col("gw_t_dm_ha_yr").is_not_null()).then(pl.col("gw_t_dm_ha_yr") * (1 + pl.col("R"))).otherwise(
        pl.col("iv_m3_ha_yr") * pl.col("BCEF_I") * (1 + pl.col("R")))
    inv = inv.with_columns(
        (pl.col("area_ha") * g_total * pl.col("CF")).alias("gain"),
        (-(pl.col("harvest_m3").fill_null(0.0) * pl.col("BCEF_R").fill_null(0.0) * (1 + pl.col("R")) * pl.col("CF"))).alias("harvest"),
        (-(pl.col("disturbance_area_ha").fill_null(0.0)
           * pl.coalesce("disturbance_bw_t_dm_ha", pl.col("c_above") / pl.col("CF"))
           * (1 + pl.col("R")) * pl.col("CF") * pl.col("disturbance_fd").fill_null(1.0))).alias("disturbance"),
    )
    parts = [
        _annual(inv.with_columns(pl.col("gain").alias("delta_c_t")), "ipcc_forest_gain"),
        _annual(inv.filter(pl.col("harvest_m3").fill_null(0) > 0).with_columns(
            pl.col("harvest").alias("delta_c_t"), pl.lit(None, dtype=pl.Float64).alias("area_ha")), "ipcc_forest_harvest"),
        _annual(inv.filter(pl.col("disturbance_area_ha").fill_null(0) > 0).with_columns(
            pl.col("disturbance").alias("delta_c_t"), pl.col("disturbance_area_ha").alias("area_ha")), "ipcc_forest_disturbance"),
    ]
    covered = inv.select("region_id", "year", "class", pl.col("area_ha").alias("covered_ha"))
    return pl.concat(parts), covered


def _climate_class(zone: pl.Expr) -> pl.Expr:
    return (pl.when(zone.str.starts_with("tropical_montane")).then(pl.lit("tropical_montane"))
            .when(zone.str.starts_with("tropical")).then(pl.lit("tropical")).otherwise(pl.lit("temperate")))


def grassland_soc_flux(mgmt: pl.DataFrame, cset: CarbonSet, file: str = "grassland management") -> tuple[pl.DataFrame, pl.DataFrame]:
    """IPCC Eq 2.25 annual SOC change (t C/yr) from a change of grassland management.

    ΔC = A × SOC_REF × F_LU × (F_MG,to × F_I,to − F_MG,from × F_I,from) / D; F_I applies to
    'improved' grassland only (otherwise 1; default input level 'medium'); D default from the set (20 yr).
    Returns (flux rows, covered areas).
    """
    gf = cset.table("grassland_factors")
    soc = cset.table("grassland_soc_ref")
    if gf is None or soc is None:
        raise InputError([Problem("MISSING_COEFFICIENT", "the coefficient set has no grassland_factors/grassland_soc_ref tables",
                                  file=cset.path)])
    d_default = gf.filter(pl.col("factor") == "D")["value"]
    d_default_v = float(d_default[0]) if d_default.len() else 20.0
    fmg = gf.filter(pl.col("factor") == "F_MG").select("level", "climate", "value")
    fi = gf.filter(pl.col("factor") == "F_I").select("level", "climate", "value")
    flu = gf.filter(pl.col("factor") == "F_LU").select("climate", pl.col("value").alias("F_LU")).unique("climate")
    m = mgmt.with_columns(_climate_class(pl.col("climate_zone")).alias("climate"),
                          pl.col("input_from").fill_null("medium"), pl.col("input_to").fill_null("medium"))
    m = m.join(soc.select("climate_zone", "soil_type", pl.col("value").alias("soc_set")),
               on=["climate_zone", "soil_type"], how="left")
    for side in ("from", "to"):
        m = m.join(fmg.rename({"level": f"mg_{side}", "value": f"F_MG_{side}"}), on=[f"mg_{side}", "climate"], how="left")
        m = m.join(fi.rename({"level": f"input_{side}", "value": f"F_I_{side}_raw"}), on=[f"input_{side}", "climate"], how="left")
        m = m.with_columns(pl.when(pl.col(f"mg_{side}") == "improved").then(pl.col(f"F_I_{side}_raw")).otherwise(1.0)
                           .alias(f"F_I_{side}"))
    m = m.join(flu, on="climate", how="left").with_columns(
        pl.coalesce("soc_ref_t_c_ha", "soc_set").alias("SOC_REF"), pl.col("d_yr").fill_null(d_default_v).alias("D"))
    problems = ProblemCollector()
    for col, expr, exp in [
        ("soil_type", pl.col("SOC_REF").is_null(), "a climate_zone/soil_type pair of the set's grassland_soc_ref, or soc_ref_t_c_ha"),
        ("mg_from", pl.col("F_MG_from").is_null(), "nominal, high_intensity_grazing, severely_degraded or improved"),
        ("mg_to", pl.col("F_MG_to").is_null(), "nominal, high_intensity_grazing, severely_degraded or improved"),
        ("input_from", pl.col("F_I_from").is_null(), "medium or high"),
        ("input_to", pl.col("F_I_to").is_null(), "medium or high"),
    ]:
        for rec in m.filter(expr).iter_rows(named=True):
            problems.add("MISSING_COEFFICIENT", f"no stock-change factor for this row's {col}", file=file, row=rec[ROW],
                         column=col, value=rec.get(col), expected=exp)
    bad_d = m.filter(pl.col("D") <= 0)
    for rec in bad_d.iter_rows(named=True):
        problems.add("INVALID_VALUE", "the transition period D must be positive", file=file, row=rec[ROW], column="d_yr",
                     value=rec["D"], expected="years > 0 (IPCC default 20)")
    problems.raise_if_any()
    m = m.with_columns((pl.col("area_ha") * pl.col("SOC_REF") * pl.col("F_LU")
                        * (pl.col("F_MG_to") * pl.col("F_I_to") - pl.col("F_MG_from") * pl.col("F_I_from"))
                        / pl.col("D")).alias("delta_c_t"))
    covered = m.select("region_id", "year", "class", pl.col("area_ha").alias("covered_ha"))
    return _annual(m, "ipcc_grassland_soc"), covered


def ch4_factor_t_ch4(cset: CarbonSet, ef_key: str) -> tuple[float, str]:
    """EF of wetland CH4 in t CH4/ha/yr from the set's ``wetland_ch4`` row ``ef_key`` (kg CH4 or kg CH4-C per ha per yr)."""
    tab = cset.table("wetland_ch4")
    row = tab.filter(pl.col("ef_key") == ef_key) if tab is not None else pl.DataFrame()
    if row.height == 0:
        keys = [] if tab is None else tab["ef_key"].to_list()
        raise InputError([Problem("MISSING_COEFFICIENT", f"no wetland CH4 emission factor '{ef_key}'",
                                  column="wetland_ch4_ef", value=ef_key, expected="one of: " + ", ".join(keys))])
    unit = str(row["unit"][0])
    value = float(row["value"][0])
    compact = unit.replace(" ", "")
    mass_unit = compact.split("CH4")[0]
    factor = U.conversion_factor(mass_unit, "t", context="wetland CH4 emission factor")
    if "CH4-C" in compact:
        factor *= 16.0 / 12.0  # CH4-C → CH4, molar masses (IPCC 2013 Wetlands Supplement Ch 3)
    return value * factor, str(row["verification"][0])


def gwp_value(cset: CarbonSet, gwp_set: str, gas: str = "CH4") -> float:
    """GWP100 of ``gas`` in the named set (AR5, AR6) from the set's ``gwp`` table (t CO2e/t)."""
    tab = cset.table("gwp")
    row = tab.filter((pl.col("gwp_set") == gwp_set) & (pl.col("gas") == gas)) if tab is not None else pl.DataFrame()
    if row.height == 0:
        raise InputError([Problem("MISSING_COEFFICIENT", f"no GWP for {gas} in set '{gwp_set}'", column="gwp",
                                  value=gwp_set, expected="AR6 or AR5")])
    return float(row["value"][0])


def wetland_ch4_flux(extent: pl.DataFrame, groups: pl.DataFrame, ef_t_ch4_ha_yr: float, gwp: float,
                     ch4_groups: tuple[str, ...] = ("wetland",)) -> pl.DataFrame:
    """Wetland CH4 as a negative flow in carbon equivalent (t C-eq/yr):
    co2e = −A × EF (t CH4/ha/yr) × GWP; delta_c_t = co2e × 12/44 (so co2e_t = delta_c_t × 44/12 holds for every row).
    Applies to the classes whose ecosystem group is in ``ch4_groups``."""
    ext = extent.join(groups, on="ecosystem_type", how="inner").filter(pl.col("group").is_in(list(ch4_groups)))
    ext = ext.with_columns((-pl.col("area_ha") * ef_t_ch4_ha_yr * gwp * C_PER_CO2).alias("delta_c_t"))
    return _annual(ext, "wetland_ch4")
