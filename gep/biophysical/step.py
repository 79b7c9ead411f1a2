"""The ``[biophysical]`` step of a gep run: rasters → physical quantities (功能量) for the account.

Models (docs/biophysical.md): 水源涵养 water balance, 土壤保持 RUSLE with a local LS,
固碳释氧 from NEP/NPP, 气候调节 from ET, and any raster summed by zone. Outputs:
``biophysical_quantities`` (the account's quantities contract: region_id, year, service,
component, quantity, unit, ecosystem_type, plus provenance ``model``, ``coefficient_ids``,
``source_rasters``), ``biophysical_detail`` (every per-zone, per-type sum: potential and
actual erosion, sediment m3, N and P t, t C, negative-balance pixels ...),
``biophysical_parameters`` (the coefficient rows used) and, when the carbon step ran too,
``biophysical_carbon_check``.

Carbon is counted once: when the run has the carbon step's ``carbon_gep_quantities`` the
account takes sequestration from there and this step's NEP-based rows move to
``biophysical_carbon_check`` (``carbon_source = "carbon-step-if-present"``, the default).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
import pyogrio
import shapely
from pydantic import BaseModel, ConfigDict, Field
from pyproj import CRS, Transformer

from gep.biophysical import engine as E
from gep.biophysical import params as PR
from gep.coefficients import load_set
from gep.context import RunContext
from gep.errors import InputError, Problem
from gep.inputkinds import InputKind
from gep.spatial.zones import ZoneSet

RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".img", ".nc")


class GenericRaster(BaseModel):
    """A raster summed by zone into quantities rows (e.g. an InVEST output or a sand-fixation map)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(description="raster on the same grid as the others")
    unit: str = Field(description="per-pixel unit: a total (t, m3) or a density (t/ha, m3/hm2)")
    service: str = Field(description="service code of the function-value set, e.g. sand_fixation")
    component: str = Field("", description="component (may be empty)")
    out_unit: str = Field(description="unit of the quantities rows, e.g. t or m3")


INPUT_KINDS: tuple[InputKind, ...] = ()
"""Table kinds this step declares for ``gep validate``: none (it reads rasters and vector files, which
it checks itself when it runs)."""


class Config(BaseModel):
    """``[biophysical]`` section; every raster must be on the grid of the land-cover raster."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    year: int = Field(description="accounting year of the quantities rows")
    zones: str = Field(description="zones: polygons (GeoPackage, GeoJSON, Shapefile) with a region id column, or "
                       "a raster of integer region codes on the grid")
    zone_id_field: str = Field("region_id", description="column of the polygon file holding the region id")
    landcover: str = Field(description="land-cover raster (integer codes)")
    landcover_classes: str = Field(description="table code, ecosystem_type mapping the land-cover codes to the 14 "
                                   "ecosystem types")
    precipitation: str | None = Field(None, description="annual precipitation raster (水源涵养)")
    precipitation_unit: str = Field("mm", description="unit of precipitation (mm, m)")
    et: str | None = Field(None, description="actual evapotranspiration raster, 1 band (annual) or 1 band per "
                           "period (水源涵养 uses the band sum; 气候调节)")
    et_unit: str = Field("mm", description="unit of ET per band (mm, m)")
    temperature: str | None = Field(None, description="mean air temperature per ET band (气候调节 counts only "
                                    "periods above ac_threshold_c)")
    temperature_unit: str = Field("°C", description="unit of temperature (°C)")
    dem: str | None = Field(None, description="elevation raster (土壤保持 LS)")
    dem_unit: str = Field("m", description="unit of elevation (m)")
    r_factor: str | None = Field(None, description="rainfall erosivity raster R")
    r_factor_unit: str = Field("MJ·mm/(ha·h·yr)", description="unit of R (SI only)")
    k_factor: str | None = Field(None, description="soil erodibility raster K")
    k_factor_unit: str = Field("t·ha·h/(ha·MJ·mm)", description="unit of K (SI only)")
    nep: str | None = Field(None, description="NEP (or NPP, see carbon_basis) raster (固碳释氧)")
    nep_unit: str = Field("g C/m2/yr", description="unit of NEP (g C/m2/yr, t C/ha/yr ...)")
    carbon_basis: Literal["nep", "npp"] = Field("nep", description="what the nep raster holds: NEP (规范 form) or "
                                                "NPP (as Ouyang-school case studies); recorded in the rows' model")
    generic: tuple[GenericRaster, ...] = Field((), description="further rasters summed by zone")
    coefficients: str = Field(PR.DEFAULT_SET, description="coefficient set id or folder (biophysical parameters)")
    s_formula: Literal["liu1994", "mccool1987"] = Field("liu1994", description="RUSLE S: Liu et al. 1994 steep "
                                                        "slopes (Chinese practice) or McCool 1987 (InVEST)")
    slope_length_m: float | None = Field(None, gt=0, description="slope length λ for L = (λ/22.13)^m; empty = the "
                                         "pixel width (as an InVEST cell without upslope area)")
    l_max: float | None = Field(None, gt=0, description="cap on L (InVEST l_max, 122 there); empty = no cap")
    o2_method: Literal["dry_matter", "carbon"] = Field("dry_matter", description="O2 = CO2 × 1.20/1.63 (dry "
                                                       "matter, 江波 2017) or C × 32/12")
    ac_threshold_c: float = Field(26.0, description="temperature above which AC runs (气候调节; ⚠️ unverified "
                                  "usual default)")
    negative_water: Literal["clip", "keep"] = Field("clip", description="P − R − ET < 0 on a pixel: set to 0 in the "
                                                    "GEP quantity (reported) or keep the negative balance")
    allow_nodata: bool = Field(False, description="skip nodata pixels inside zones (counted, warned) instead of "
                               "refusing the run")
    carbon_source: Literal["carbon-step-if-present", "biophysical"] = Field(
        "carbon-step-if-present", description="which path gives carbon_sequestration to the account when the "
        "carbon step also ran")
    tile_size: int = Field(1024, gt=0, description="tile edge in pixels")
    scheduler: str = Field("inline", description="inline, processes, or a dask.distributed scheduler address")
    workers: int | None = Field(None, gt=0, description="worker processes (scheduler = processes)")


ROLE_FIELDS: tuple[str, ...] = ("precipitation", "et", "temperature", "dem", "r_factor", "k_factor", "nep")


def read_zones(path: Path, id_field: str, grid_crs_wkt: str, display: str) -> ZoneSet:
    """Polygons → ZoneSet in the grid's CRS (reprojected with pyproj; the raster is never reprojected)."""
    try:
        meta, _fids, geoms, fields = pyogrio.raw.read(path)
    except Exception as exc:  # noqa: BLE001 - any GDAL/OGR failure is an input problem
        raise InputError([Problem("NOT_A_VECTOR", f"cannot read the zones: {exc}", file=display,
                                  expected="a GeoPackage, GeoJSON or Shapefile of polygons")]) from exc
    names = list(meta["fields"])
    if id_field not in names:
        raise InputError([Problem("MISSING_COLUMN", f"the zones have no column '{id_field}'", file=display,
                                  column=id_field, value=", ".join(names), expected="zone_id_field naming a column")])
    ids = [str(v) for v in fields[names.index(id_field)]]
    g = shapely.from_wkb(geoms)
    src = CRS.from_user_input(meta["crs"]) if meta.get("crs") else None
    dst = CRS.from_wkt(grid_crs_wkt) if grid_crs_wkt else None
    if src is None or dst is None:
        raise InputError([Problem("MISSING_CRS", "the zones or the rasters have no CRS", file=display,
                                  expected="polygons and rasters with a defined CRS")])
    if not src.equals(dst):
        tr = Transformer.from_crs(src, dst, always_xy=True)
        g = shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise InputError([Problem("DUPLICATE_KEY", f"zone id {d} appears more than once", file=display,
                                  column=id_field, value=d, expected="one polygon (or multipolygon) per zone")
                          for d in dup])
    return ZoneSet(ids, np.asarray(g, dtype=object), grid_crs_wkt)


def _coefficient_ids(q: pl.DataFrame, set_id: str) -> pl.DataFrame:
    """Provenance: the set rows behind each quantities row."""
    t = pl.col("ecosystem_type")
    ids = (
        pl.when(pl.col("service") == "water_conservation")
        .then(pl.format(set_id + ":ecosystem_params:{}/runoff_coefficient", t))
        .when(pl.col("service") == "soil_retention")
        .then(pl.format(set_id + ":ecosystem_params:{}/usle_c;" + set_id + ":ecosystem_params:{}/usle_p", t, t))
        .when((pl.col("service") == "climate_regulation") & (pl.col("component") == "vegetation"))
        .then(pl.lit(f"{set_id}:parameters:latent_heat;{set_id}:parameters:ac_eer"))
        .when((pl.col("service") == "climate_regulation") & (pl.col("component") == "water_surface"))
        .then(pl.lit(f"{set_id}:parameters:latent_heat;{set_id}:parameters:humidifier"))
        .otherwise(pl.lit(""))
    )
    return q.with_columns(ids.alias("coefficient_ids"))


SERVICE_ROLES: dict[str, tuple[str, ...]] = {
    "water_conservation": ("precipitation", "et", "landcover"),
    "soil_retention": ("dem", "r_factor", "k_factor", "landcover"),
    "carbon_sequestration": ("nep",),
    "oxygen_release": ("nep",),
    "climate_regulation": ("et", "temperature", "landcover"),
}


def source_rasters(rasters: dict[str, E.RasterInput], generic: list[E.GenericQuantity]) -> pl.Expr:
    """Provenance: the input rasters behind each quantities row (by service)."""
    expr = pl.when(pl.lit(False)).then(pl.lit(""))
    for service, roles in SERVICE_ROLES.items():
        names = "; ".join(rasters[r].display for r in roles if r in rasters)
        expr = expr.when(pl.col("service") == service).then(pl.lit(names))
    for g in generic:
        expr = expr.when((pl.col("service") == g.service) & (pl.col("component") == g.component)).then(
            pl.lit(g.raster.display))
    return expr.otherwise(pl.lit(""))


def reconcile_carbon(bio: pl.DataFrame, carbon: pl.DataFrame | None,
                     source: str = "carbon-step-if-present") -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """Carbon counted once: (quantities for the account, comparison table or None).

    With the carbon step's quantities present and ``source`` = carbon-step-if-present, the
    biophysical carbon_sequestration rows of the (region, year)s the carbon step covers leave the
    account's rows; the comparison gives both t CO2 per region and year.
    """
    if carbon is None or not carbon.height or source == "biophysical":
        return bio, None
    is_c = pl.col("service") == "carbon_sequestration"
    covered = carbon.select("region_id", pl.col("year").cast(pl.Int32)).unique()
    bio_c = bio.filter(is_c).join(covered, on=["region_id", "year"], how="semi")
    kept = bio.join(bio_c.select("region_id", "year", "service").unique(), on=["region_id", "year", "service"],
                    how="anti")
    cmp = (
        bio_c.group_by("region_id", "year").agg(pl.col("quantity").sum().alias("biophysical_t_co2"))
        .join(carbon.group_by("region_id", pl.col("year").cast(pl.Int32)).agg(pl.col("quantity").sum()
              .alias("carbon_step_t_co2")), on=["region_id", "year"], how="full", coalesce=True)
        .with_columns(pl.lit("carbon step").alias("used_in_account"))
        .sort("region_id", "year")
    )
    return kept, cmp


def _path(ctx: RunContext, path: str, role: str) -> tuple[str, str]:
    """(local path, display name) of an input, read through ctx (sha256 in the manifest)."""
    p = ctx.read_input(path, role) if ctx is not None else Path(path)
    return str(p), path


def run_step(cfg: Config, ctx: RunContext) -> None:
    """Run the biophysical step inside a gep run (docs/contracts.md §8: run_step(cfg, ctx))."""
    ref = cfg.coefficients
    if ref.startswith("demo:") or "/" in ref or "\\" in ref:  # a folder: relative to the config, not the cwd
        ref = str(ctx.resolve(ref))
    cset = load_set(ref)
    ctx.record_coefficient_set(cset)
    problems: list[Problem] = []
    rasters: dict[str, E.RasterInput] = {}
    lp, ld = _path(ctx, cfg.landcover, "biophysical_landcover")
    rasters["landcover"] = E.RasterInput("landcover", lp, "", ld)
    for role in ROLE_FIELDS:
        value = getattr(cfg, role)
        if value:
            p, d = _path(ctx, value, f"biophysical_{role}")
            rasters[role] = E.RasterInput(role, p, getattr(cfg, f"{role}_unit"), d)
    generic = []
    for i, g in enumerate(cfg.generic):
        p, d = _path(ctx, g.path, f"biophysical_generic_{i}")
        generic.append(E.GenericQuantity(E.RasterInput(f"{g.service}_{g.component or i}", p, g.unit, d), g.service,
                                         g.component, g.out_unit))
    cp, cd = _path(ctx, cfg.landcover_classes, "biophysical_landcover_classes")
    try:
        classes = PR.load_classes(cp, cd)
        params, used = PR.resolve(cset, classes)
    except InputError as exc:
        problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    zp, zd = _path(ctx, cfg.zones, "biophysical_zones")
    options = E.Options(s_formula=cfg.s_formula, slope_length_m=cfg.slope_length_m, l_max=cfg.l_max,
                        o2_method=cfg.o2_method, carbon_basis=cfg.carbon_basis, ac_threshold_c=cfg.ac_threshold_c,
                        negative_water=cfg.negative_water, allow_nodata=cfg.allow_nodata)
    res = run_rasters(rasters, params, options, cfg.year, zp, zd, cfg.zone_id_field, generic=generic,
                      tile_size=cfg.tile_size, scheduler=cfg.scheduler, workers=cfg.workers)
    q = _coefficient_ids(res.quantities, cset.id).with_columns(source_rasters(rasters, generic).alias("source_rasters"))
    if "et" in rasters and "temperature" not in rasters and "climate_regulation" in set(q["service"].to_list()):
        ctx.warnings.append(Problem(
            "AC_DAYS_NOT_LIMITED", "气候调节 counts all ET of the year: no temperature raster limits it to periods "
            f"above {cfg.ac_threshold_c:g} °C (an upper bound)", column="temperature"))
    ctx.warnings.extend(res.warnings)
    unverified = used.filter(pl.col("verification") == "unverified")
    if unverified.height:
        ctx.warnings.append(Problem(
            "UNVERIFIED_COEFFICIENT", f"biophysical set '{cset.id}': {unverified.height} parameter rows used are "
            "unverified (" + ", ".join(sorted(set(unverified["parameter"].to_list()))) + "); results are illustrative",
            column="coefficients", value=cset.id))
    carbon_q = ctx.tables.get("carbon_gep_quantities") if hasattr(ctx, "tables") else None
    q, cmp = reconcile_carbon(q, carbon_q, cfg.carbon_source)
    if cmp is not None:
        ctx.tables["biophysical_carbon_check"] = cmp
        ctx.warnings.append(Problem(
            "CARBON_COUNTED_ONCE", "carbon_sequestration is taken from the carbon step; the biophysical NEP-based "
            "values are in biophysical_carbon_check (carbon_source = \"biophysical\" to use them instead)",
            column="carbon_source"))
    net_source = q.filter((pl.col("service") == "oxygen_release") & (pl.col("quantity").cast(pl.Float64) < 0))
    if net_source.height:  # a net carbon source releases no oxygen: O2 counts removals only, as the account does
        ctx.warnings.append(Problem(
            "OXYGEN_NET_SOURCE", f"{net_source.height} oxygen-release rows come from net carbon sources (NEP < 0) and "
            "are counted as 0 t O2 (oxygen release counts net removals only)", column="nep"))
        q = q.with_columns(pl.when((pl.col("service") == "oxygen_release") & (pl.col("quantity") < 0))
                           .then(0.0).otherwise(pl.col("quantity")).alias("quantity"))
    ctx.tables["biophysical_quantities"] = q
    ctx.tables["biophysical_detail"] = res.detail
    ctx.tables["biophysical_parameters"] = used


def run_rasters(rasters: dict[str, E.RasterInput], params: E.Params, options: E.Options, year: int,
                zones_path: str, zones_display: str, zone_id_field: str = "region_id", *,
                generic: list[E.GenericQuantity] | None = None, tile_size: int = 1024, scheduler: Any = "inline",
                workers: int | None = None, keep_pixels: bool = False) -> E.BiophysicalResult:
    """Zones from a raster (by suffix) or polygons, then :func:`gep.biophysical.engine.run`."""
    generic = generic or []
    if Path(zones_path).suffix.lower() in RASTER_SUFFIXES:
        return E.run(rasters, params, options, year, zone_raster=E.RasterInput("zones", zones_path, "", zones_display),
                     generic=generic, tile_size=tile_size, scheduler=scheduler, workers=workers,
                     keep_pixels=keep_pixels)
    grid, _, _ = E.open_grid(rasters["landcover"])
    zs = read_zones(Path(zones_path), zone_id_field, grid.crs_wkt, zones_display)
    return E.run(rasters, params, options, year, zones=zs, generic=generic, tile_size=tile_size,
                 scheduler=scheduler, workers=workers, keep_pixels=keep_pixels)
