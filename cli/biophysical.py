"""`gep biophysical`: physical quantities (功能量) of regulating services from rasters (docs/biophysical.md)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import polars as pl
from gep.cli.common import command_line
from gep.cli.output import Console, console_options
from gep.context import names_demo
from gep.coefficients import load_set

from gep.biophysical import engine as E
from gep.biophysical import params as PR
from gep.biophysical.step import (
    ROLE_FIELDS,
    Config,
    GenericRaster,
    run_rasters,
    run_step,
)
from gep.config import SYNTHETIC_LABEL
from gep.errors import InputError, Problem

# gep.biophysical needs the raster stack (rasterio, pyogrio, shapely, pyproj), which a base install may lack;
# it is imported when the command runs so `gep --help` and the other commands work without it.

_RASTER_HELP = {
    "precipitation": "Annual precipitation raster P [mm; --precipitation-unit] (水源涵养).",
    "et": "Actual evapotranspiration raster ET [mm per band; 1 band = year, n bands = periods] (水源涵养, 气候调节).",
    "temperature": "Mean air temperature raster [°C], one band per ET band (气候调节: periods above the threshold).",
    "dem": "Elevation raster [m] (土壤保持: slope, LS).",
    "r_factor": "Rainfall erosivity raster R [MJ·mm/(ha·h·yr)] (土壤保持).",
    "k_factor": "Soil erodibility raster K [t·ha·h/(ha·MJ·mm)] (土壤保持).",
    "nep": "NEP (or NPP with --carbon-basis npp) raster [g C/m2/yr] (固碳释氧).",
}


@dataclass
class _Context:
    """The part of a run context the biophysical step uses, for the stand-alone command."""

    base: Path
    synthetic: bool = False
    inputs: list[dict[str, Any]] = field(default_factory=list)
    coefficient_sets: list[dict[str, Any]] = field(default_factory=list)
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)

    def resolve(self, path: str) -> Path:
        if path.startswith("demo:"):
            return Path(__file__).resolve().parents[1] / "gep" / "demo_data" / path[len("demo:"):]
        p = Path(path)
        return p if p.is_absolute() else self.base / p

    def read_input(self, path: str, role: str) -> Path:
        p = self.resolve(path)
        if not p.exists():
            raise InputError([Problem("MISSING_FILE", f"{role}: file not found", file=path,
                                      expected="an existing file")])
        h = hashlib.sha256()
        with p.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        self.inputs.append({"role": role, "path": path, "sha256": h.hexdigest()})
        return p

    def record_coefficient_set(self, cset: Any) -> None:
        self.coefficient_sets.append(cset.record())


def _raster_option(name: str) -> Any:
    return click.option(f"--{name.replace('_', '-')}", name, type=click.Path(dir_okay=False), default=None,
                        help=_RASTER_HELP[name])


@click.command("biophysical")
@click.option("--year", type=int, required=True, help="Accounting year of the quantities rows.")
@click.option("--zones", required=True, type=click.Path(dir_okay=False),
              help="Zones: polygons (GeoPackage/GeoJSON/Shapefile) with --zone-id-field, or a raster of region codes.")
@click.option("--zone-id-field", default="region_id", show_default=True, help="Region id column of the polygons.")
@click.option("--landcover", required=True, type=click.Path(dir_okay=False),
              help="Land-cover raster [integer codes]; every other raster must be on its grid (never resampled).")
@click.option("--landcover-classes", required=True, type=click.Path(dir_okay=False),
              help="Table code, ecosystem_type mapping land-cover codes to the 14 ecosystem types.")
@_raster_option("precipitation")
@click.option("--precipitation-unit", default="mm", show_default=True, help="Unit of precipitation (mm, m).")
@_raster_option("et")
@click.option("--et-unit", default="mm", show_default=True, help="Unit of ET (mm, m).")
@_raster_option("temperature")
@click.option("--temperature-unit", default="°C", show_default=True, help="Unit of temperature (°C).")
@_raster_option("dem")
@click.option("--dem-unit", default="m", show_default=True, help="Unit of elevation.")
@_raster_option("r_factor")
@click.option("--r-factor-unit", default="MJ·mm/(ha·h·yr)", show_default=True, help="Unit of R (SI spellings only).")
@_raster_option("k_factor")
@click.option("--k-factor-unit", default="t·ha·h/(ha·MJ·mm)", show_default=True, help="Unit of K (SI spellings only).")
@_raster_option("nep")
@click.option("--nep-unit", default="g C/m2/yr", show_default=True, help="Unit of NEP/NPP (g C/m2/yr, t C/ha/yr).")
@click.option("--carbon-basis", type=click.Choice(["nep", "npp"]), default="nep", show_default=True,
              help="What the --nep raster holds.")
@click.option("--generic", "generic", multiple=True, metavar="PATH:UNIT:SERVICE:COMPONENT:OUT_UNIT",
              help="Any raster summed by zone, e.g. sand.tif:t/ha:sand_fixation::t (per-pixel unit: total or per area).")
@click.option("--coefficients", default="biophysical_cn", show_default=True, help="Coefficient set id or folder.")
@click.option("--s-formula", type=click.Choice(["liu1994", "mccool1987"]), default="liu1994", show_default=True,
              help="RUSLE S factor: Liu et al. 1994 (steep slopes) or McCool 1987 (as InVEST).")
@click.option("--slope-length-m", type=float, default=None, help="Slope length λ [m] (default: the pixel width).")
@click.option("--l-max", type=float, default=None, help="Cap on L (InVEST l_max).")
@click.option("--o2-method", type=click.Choice(["dry_matter", "carbon"]), default="dry_matter", show_default=True,
              help="O2 = CO2 × 1.20/1.63 (dry matter) or C × 32/12.")
@click.option("--ac-threshold-c", type=float, default=26.0, show_default=True,
              help="AC-on temperature threshold [°C] (unverified usual default).")
@click.option("--negative-water", type=click.Choice(["clip", "keep"]), default="clip", show_default=True,
              help="Pixels with P − R − ET < 0: 0 in the GEP quantity (reported) or kept.")
@click.option("--allow-nodata", is_flag=True, default=False, help="Skip nodata pixels inside zones (warned).")
@click.option("--tile-size", type=int, default=1024, show_default=True, help="Tile edge in pixels.")
@click.option("--scheduler", default="inline", show_default=True,
              help="inline, processes, or a dask.distributed scheduler address (tcp://host:8786).")
@click.option("--workers", type=int, default=None, help="Worker processes (--scheduler processes).")
@click.option("--pixels", is_flag=True, default=False, help="Also write a per-pixel GeoTIFF of each service.")
@click.option("--synthetic", is_flag=True, default=False, help="Label the outputs as synthetic data.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Output directory.")
@console_options
def biophysical(year: int, zones: str, zone_id_field: str, landcover: str, landcover_classes: str,
                precipitation: str | None, precipitation_unit: str, et: str | None, et_unit: str,
                temperature: str | None, temperature_unit: str, dem: str | None, dem_unit: str,
                r_factor: str | None, r_factor_unit: str, k_factor: str | None, k_factor_unit: str, nep: str | None, nep_unit: str, carbon_basis: str, generic: tuple[str, ...],
                coefficients: str, s_formula: str, slope_length_m: float | None, l_max: float | None,
                o2_method: str, ac_threshold_c: float, negative_water: str, allow_nodata: bool, tile_size: int,
                scheduler: str, workers: int | None, pixels: bool, synthetic: bool, out: str,
                console: Console) -> None:
    """Water conservation, soil retention, carbon/oxygen and climate regulation by zone from rasters.

    Each model runs when its rasters are given: 水源涵养 needs --precipitation and --et; 土壤保持
    --dem, --r-factor and --k-factor; 固碳释氧 --nep; 气候调节 --et. Writes DIR/quantities.csv
    (region_id, year, service, component, quantity, unit, ecosystem_type + provenance: the input of
    `gep account --method function-value --quantities`), DIR/detail.csv, DIR/parameters.csv,
    DIR/manifest.json and with --pixels DIR/pixels/*.tif. Nothing is written when an input is wrong.
    """

    gens = []
    for spec in generic:
        parts = spec.split(":")
        if len(parts) != 5:
            raise InputError([Problem("BAD_OPTION", "--generic needs PATH:UNIT:SERVICE:COMPONENT:OUT_UNIT",
                                      column="--generic", value=spec, expected="5 fields separated by ':'")])
        gens.append(GenericRaster(path=parts[0], unit=parts[1], service=parts[2], component=parts[3],
                                  out_unit=parts[4]))
    cfg = Config(year=year, zones=zones, zone_id_field=zone_id_field, landcover=landcover,
                 landcover_classes=landcover_classes, precipitation=precipitation,
                 precipitation_unit=precipitation_unit, et=et, et_unit=et_unit, temperature=temperature,
                 temperature_unit=temperature_unit, dem=dem, dem_unit=dem_unit, r_factor=r_factor,
                 r_factor_unit=r_factor_unit, k_factor=k_factor, k_factor_unit=k_factor_unit, nep=nep, nep_unit=nep_unit,
                 carbon_basis=carbon_basis, generic=tuple(gens), coefficients=coefficients,  # type: ignore[arg-type]
                 s_formula=s_formula, slope_length_m=slope_length_m, l_max=l_max,  # type: ignore[arg-type]
                 o2_method=o2_method, ac_threshold_c=ac_threshold_c,  # type: ignore[arg-type]
                 negative_water=negative_water, allow_nodata=allow_nodata, tile_size=tile_size,  # type: ignore[arg-type]
                 scheduler=scheduler, workers=workers)
    # the embedded demo data are synthetic: so is every output made from them
    synthetic = synthetic or names_demo(cfg.model_dump(mode="json"))
    ctx = _Context(Path.cwd(), synthetic)
    console.progress("biophysical models", 0, 1)
    run_step(cfg, ctx)
    console.progress("biophysical models", 1, 1)
    out_dir = Path(out)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise InputError([Problem("BAD_OUTPUT", "the output directory exists and is not empty", file=out,
                                  expected="a new or empty directory")])
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".gep-bio-", dir=out_dir.parent))
    try:
        names = {"biophysical_quantities": "quantities", "biophysical_detail": "detail",
                 "biophysical_parameters": "parameters", "biophysical_carbon_check": "carbon_check"}
        for key, df in ctx.tables.items():
            if synthetic:
                df = df.with_columns(pl.lit("synthetic").alias("data_status"))
            df.write_csv(tmp / f"{names.get(key, key)}.csv", float_precision=None)
        if pixels:
            _write_pixels(cfg, ctx, tmp / "pixels", synthetic)
        manifest = {"command": command_line(), "synthetic": synthetic, "inputs": ctx.inputs,
                    "coefficient_sets": ctx.coefficient_sets, "config": cfg.model_dump(mode="json"),
                    "warnings": [w.as_dict() for w in ctx.warnings]}
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                                           encoding="utf-8")
        if out_dir.exists():
            out_dir.rmdir()
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for w in ctx.warnings:
        click.echo(f"warning: {w.render()}", err=True)
    if synthetic:
        console.headline(SYNTHETIC_LABEL)
    console.headline(f"wrote {out_dir}")
    for line in quantity_headline(ctx.tables.get("biophysical_quantities"), year):
        console.headline(line)


def quantity_headline(quantities: pl.DataFrame | None, year: int) -> list[str]:
    """The result line of ``gep biophysical``: each service's total quantity over all zones, in its unit."""
    if quantities is None or quantities.is_empty():
        return [f"biophysical {year}: no quantities (no model had its rasters)"]
    tot = (quantities.group_by("service", "unit", maintain_order=True).agg(pl.col("quantity").sum())
           .sort("service", "unit"))
    parts = [f"{s} {q:,.4g} {u}" for s, u, q in tot.select("service", "unit", "quantity").iter_rows()]
    zones = quantities["region_id"].n_unique()
    return [f"biophysical {year} ({zones} zone{'s' if zones != 1 else ''}): " + "; ".join(parts)]


def _write_pixels(cfg: Any, ctx: _Context, out_dir: Path, synthetic: bool) -> None:
    """Per-pixel GeoTIFFs: a second pass of the models keeping the arrays (only with --pixels)."""

    rasters = {"landcover": E.RasterInput("landcover", str(ctx.resolve(cfg.landcover)), "", cfg.landcover)}
    for role in ROLE_FIELDS:
        if getattr(cfg, role):
            rasters[role] = E.RasterInput(role, str(ctx.resolve(getattr(cfg, role))), getattr(cfg, f"{role}_unit"),
                                          getattr(cfg, role))
    params, _ = PR.resolve(load_set(cfg.coefficients), PR.load_classes(ctx.resolve(cfg.landcover_classes)))
    options = E.Options(s_formula=cfg.s_formula, slope_length_m=cfg.slope_length_m, l_max=cfg.l_max,
                        o2_method=cfg.o2_method, carbon_basis=cfg.carbon_basis, ac_threshold_c=cfg.ac_threshold_c,
                        negative_water=cfg.negative_water, allow_nodata=cfg.allow_nodata)
    res = run_rasters(rasters, params, options, cfg.year, str(ctx.resolve(cfg.zones)), cfg.zones, cfg.zone_id_field,
                      tile_size=cfg.tile_size, scheduler=cfg.scheduler, workers=cfg.workers, keep_pixels=True)
    grid, _, _ = E.open_grid(rasters["landcover"])
    E.write_pixels(res.pixels or {}, grid, out_dir, synthetic=synthetic)


COMMANDS = [biophysical]
