"""The ``[extent]`` step of a gep run: land-cover rasters or land-use polygons → the run's land cover.

Outputs: tables ``extent`` (region_id, year, class, ecosystem_type, area_ha — what ``prepare`` builds
from ``[inputs] landcover``; its first columns are the land-cover input contract), ``transitions``
(rasters, consecutive years on one grid), ``extent_coverage`` and ``extent_parameters``; ``ctx.extent``
is set so later steps (carbon, account) run on it. Every raster is recorded in the manifest inputs
with sha256, CRS, resolution and size. Methods: docs/spatial.md.

Not wired into gep.pipeline.STEPS yet (the integrating engineer adds ``("extent", "gep.spatial.step")``
before carbon, and skips ``prepare``'s land cover when ``[extent]`` is present).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gep.coefficients import load_crosswalk
from gep.context import RunContext
from gep.errors import InputError, Problem
from gep.extent import build_extent
from gep.inputkinds import InputKind
from gep.regions import load_registry
from gep.spatial.extent import raster_extent
from gep.spatial.io import load_zone_file, registry_zones
from gep.spatial.polygons import polygon_extent
from gep.spatial.runner import PROCESSES
from gep.spatial.zones import ZoneSet

DEMO_SCHEME = "demo:"


INPUT_KINDS: tuple[InputKind, ...] = ()
"""Table kinds this step declares for ``gep validate``: none (it reads rasters and vector files, which
it checks itself when it runs)."""


class Config(BaseModel):
    """``[extent]`` section (docs/spatial.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    landcover_rasters: dict[int, str] = Field(default_factory=dict, description="land-cover rasters by year "
                                              "(GeoTIFF/COG, integer class codes, any CRS), e.g. {2015 = 'lc2015.tif'}")
    landuse_polygons: str | None = Field(None, description="land-use polygon file (GPKG, Shapefile, GeoJSON), e.g. "
                                         "三调 图斑; instead of rasters")
    class_column: str | None = Field(None, description="class column of the polygons (地类编码 DLBM or 地类名称 DLMC)")
    year: int | None = Field(None, description="year of the land-use polygons")
    area_column: str | None = Field(None, description="survey area column of the polygons; empty = 图斑地类面积/TBDLMJ, "
                                    "else 图斑面积/TBMJ minus 扣除地类面积/KCMJ when present, else ellipsoidal area")
    deduct_column: str | None = Field(None, description="deduction column subtracted from area_column")
    area_unit: str = Field("m2", description="unit of the survey area column (三调: m2)")
    geometry_area: bool = Field(False, description="ignore survey area columns; use ellipsoidal polygon areas")
    encoding: str | None = Field(None, description="text encoding of a Shapefile .dbf without .cpg, e.g. GBK")
    zones: str | None = Field(None, description="zone polygons (GPKG, Shapefile, GeoJSON); empty = the boundaries "
                              "of the region registry")
    zone_id: str | None = Field(None, description="id column of the zones (the region_id of the tables)")
    zones_layer: str | None = Field(None, description="layer of a multi-layer zone file")
    regions: str | None = Field(None, description="region registry whose county boundaries are the zones "
                                "(default: [run] regions)")
    crosswalk: str | None = Field(None, description="crosswalk of raster codes / polygon classes (clcd, tnls, "
                                  "worldcover or a file; default: [inputs] crosswalk); empty = codes kept as classes")
    coverage: Literal["centre", "fraction"] = Field("centre", description="centre: a pixel belongs to the zone "
                                                    "containing its centre; fraction: boundary pixels split by share")
    nodata: int | None = Field(None, description="raster value to treat as nodata instead of the files' own "
                               "(e.g. 0 in CLCD files without a nodata tag)")
    transitions: bool = Field(True, description="count transitions between consecutive raster years (same grid)")
    scheduler: str = Field(PROCESSES, description="processes (local pool), inline, or a Dask scheduler address")
    workers: int | None = Field(None, ge=1, description="local worker processes (default: all cores)")
    tile_size: int | None = Field(None, ge=16, description="tile edge in pixels (default 1024, whole file blocks)")

    @field_validator("landcover_rasters", mode="before")
    @classmethod
    def _years(cls, v: Any) -> Any:
        return {int(k): p for k, p in v.items()} if isinstance(v, dict) else v

    @model_validator(mode="after")
    def _one_source(self) -> Config:
        if bool(self.landcover_rasters) == bool(self.landuse_polygons):
            raise ValueError("give landcover_rasters or landuse_polygons (one of them)")
        if self.landuse_polygons and (not self.class_column or self.year is None):
            raise ValueError("landuse_polygons needs class_column and year")
        if self.zones and not self.zone_id:
            raise ValueError("zones needs zone_id (the column with the region ids)")
        return self


def _read(ctx: RunContext, path: str, role: str) -> Path:
    return ctx.read_input(path, role) if ctx is not None else Path(path)


def _crosswalk(spec: str | None, ctx: RunContext) -> pl.DataFrame | None:
    if not spec:
        return None
    if spec.startswith(DEMO_SCHEME) or Path(spec).suffix:
        return load_crosswalk(_read(ctx, spec, "crosswalk"))
    return load_crosswalk(spec)


def load_zones(cfg: Config, ctx: RunContext, registry: Any) -> ZoneSet:
    """Zones of the step: the zone file, or the county boundaries of the registry; ids checked against it."""
    if cfg.zones:
        zones = load_zone_file(_read(ctx, cfg.zones, "zones"), cfg.zone_id or "", display_name=cfg.zones,
                               layer=cfg.zones_layer, encoding=cfg.encoding)
        if registry is not None:
            unknown = [z for z in zones.ids if not registry.has(z)]
            if unknown:
                raise InputError([Problem(
                    "UNKNOWN_REGION", f"zone id '{z}' is not a region of registry '{registry.name}'", file=cfg.zones,
                    column=cfg.zone_id, value=z, expected="a county code of the registry (or leave out --regions)")
                    for z in unknown[:50]])
        return zones
    if registry is None:
        raise InputError([Problem("BAD_CONFIG", "no zones: give zones + zone_id, or a region registry with boundaries",
                                  column="extent.zones", expected="zones = 'counties.gpkg' or regions = 'sichuan'")])
    return registry_zones(registry)


def run_step(cfg: Config, ctx: RunContext) -> None:
    """Run the extent step inside a gep run: sets ``ctx.extent`` and adds its tables and warnings."""
    if getattr(ctx, "extent", None) is not None:
        raise InputError([Problem("BAD_CONFIG", "land cover is given twice: [inputs] landcover and [extent]",
                                  column="extent", expected="one source of land cover per run")])
    registry = ctx.registry
    if cfg.regions:
        registry = load_registry(cfg.regions)
    cw_spec = cfg.crosswalk or ctx.config.inputs.crosswalk
    crosswalk = _crosswalk(cw_spec, ctx)
    zones = load_zones(cfg, ctx, registry)
    params: list[tuple[str, str]] = []
    if cfg.landcover_rasters:
        paths = {y: _read(ctx, p, "landcover_raster") for y, p in cfg.landcover_rasters.items()}
        res = raster_extent(paths, zones, crosswalk=crosswalk, crosswalk_name=cw_spec, coverage=cfg.coverage,
                            transitions=cfg.transitions, scheduler=cfg.scheduler, workers=cfg.workers,
                            tile_size=cfg.tile_size, display_names=dict(cfg.landcover_rasters),
                            nodata=cfg.nodata)
        entries: dict[str, dict[str, Any]] = {}
        for y, info in zip(sorted(paths), res.rasters):
            entry = info.manifest_entry() | {"year": y}
            if cfg.nodata is not None:
                entry["nodata_used"] = cfg.nodata
            entries[str(paths[y].resolve())] = entries[cfg.landcover_rasters[y]] = entry
        annotate_raster_inputs(ctx, entries, cfg.coverage)
        landcover, coverage, warnings = res.extent, res.coverage, res.warnings
        if cfg.transitions and len(paths) > 1:
            ctx.tables["transitions"] = res.transitions
        params += [(k, str(v)) for k, v in res.method.items()]
    else:
        path = _read(ctx, cfg.landuse_polygons or "", "landuse_polygons")
        pres = polygon_extent(path, cfg.class_column or "", int(cfg.year or 0), zones, crosswalk=crosswalk,
                              crosswalk_name=cw_spec, area_column=cfg.area_column, deduct_column=cfg.deduct_column,
                              area_unit=cfg.area_unit, use_survey_area=not cfg.geometry_area, encoding=cfg.encoding,
                              display_name=cfg.landuse_polygons)
        landcover, coverage, warnings = pres.extent, pres.coverage, pres.warnings
        params += [(k, v) for k, v in pres.method.items()]
    params += [("zones", cfg.zones or f"registry {registry.name}"), ("crosswalk", cw_spec or "")]
    ctx.extent = build_extent(landcover, crosswalk)
    ctx.tables["extent"] = ctx.extent
    ctx.tables["extent_coverage"] = coverage
    ctx.tables["extent_parameters"] = pl.DataFrame(params, schema={"parameter": pl.Utf8, "value": pl.Utf8},
                                                   orient="row")
    ctx.warnings.extend(warnings)


def annotate_raster_inputs(ctx: RunContext, entries: dict[str, dict[str, Any]], coverage: str) -> None:
    """Add CRS, resolution, size, dtype, nodata and the coverage rule to the manifest entries of the rasters."""
    inputs = getattr(ctx, "inputs", None)
    if inputs is None:
        return
    for item in inputs:
        if item.get("role") != "landcover_raster":
            continue
        entry = entries.get(item["path"])
        if entry is not None:
            item.update(entry)
            item["coverage_rule"] = coverage
