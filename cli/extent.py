"""`gep extent`: land-cover rasters or land-use polygons × county zones → extent tables (docs/spatial.md)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import click
from gep.cli.common import command_line
from gep.cli.output import Console, console_options
from gep.context import names_demo

from gep.config import InputsSection, RunConfig, RunSection
from gep.errors import InputError, Problem
from gep.pipeline import (
    LAST_RUN_WARNINGS,
    RunContext,
    check_out_dir,
    commit_dir,
    load_registry_or_none,
    write_run,
)
from gep.spatial.step import Config, run_step


def _raster_option(values: tuple[str, ...]) -> dict[int, str]:

    out: dict[int, str] = {}
    problems = []
    for v in values:
        year, sep, path = v.partition("=")
        if not sep or not year.strip().isdigit() or not path:
            problems.append(Problem("BAD_OPTION", "--landcover-raster takes YEAR=PATH", column="--landcover-raster",
                                    value=v, expected="e.g. 2020=lc2020.tif"))
            continue
        y = int(year)
        if y in out:
            problems.append(Problem("BAD_OPTION", f"year {y} is given twice", column="--landcover-raster", value=v,
                                    expected="one raster per year"))
        out[y] = path
    if problems:
        raise InputError(problems)
    return out


@click.command("extent")
@click.option("--landcover-raster", "rasters", multiple=True, metavar="YEAR=PATH",
              help="Land-cover raster of a year (GeoTIFF/COG, integer class codes, any CRS, nodata honoured); repeat "
              "for several years (transitions between consecutive years need the same grid).")
@click.option("--landuse-polygons", type=click.Path(dir_okay=False), default=None,
              help="Land-use polygons instead of rasters (GPKG, Shapefile, GeoJSON), e.g. 三调 图斑.")
@click.option("--class-column", default=None, help="Class column of the polygons (DLBM 地类编码 or DLMC 地类名称).")
@click.option("--year", type=int, default=None, help="Year of the land-use polygons.")
@click.option("--area-column", default=None,
              help="Survey area column of the polygons (default: 图斑地类面积/TBDLMJ, else 图斑面积/TBMJ − "
              "扣除地类面积/KCMJ when present, else ellipsoidal polygon area).")
@click.option("--deduct-column", default=None, help="Column subtracted from --area-column (e.g. KCMJ).")
@click.option("--area-unit", default="m2", show_default=True, help="Unit of the survey area column.")
@click.option("--geometry-area", is_flag=True, default=False, help="Ignore survey area columns; use ellipsoidal areas.")
@click.option("--encoding", default=None, help="Encoding of a Shapefile .dbf without .cpg (e.g. GBK).")
@click.option("--regions", default=None, help="Region registry whose county boundaries are the zones (e.g. sichuan); "
              "with --zones, zone ids are checked against it.")
@click.option("--zones", type=click.Path(dir_okay=False), default=None, help="Zone polygons (GPKG, Shapefile, GeoJSON).")
@click.option("--zone-id", default=None, help="Id column of --zones (becomes region_id).")
@click.option("--zones-layer", default=None, help="Layer of a multi-layer zone file.")
@click.option("--crosswalk", default=None, help="Crosswalk of the class codes (clcd, tnls, worldcover or a file).")
@click.option("--coverage", type=click.Choice(["centre", "fraction"]), default="centre", show_default=True,
              help="centre: a pixel belongs to the zone containing its centre; fraction: boundary pixels are split "
              "by the share of the pixel inside each zone (slower).")
@click.option("--nodata", type=int, default=None,
              help="Raster value to treat as nodata instead of the files' own (e.g. 0 in CLCD files without a nodata tag).")
@click.option("--no-transitions", is_flag=True, default=False, help="Do not count transitions between years.")
@click.option("--scheduler", default="processes", show_default=True,
              help="processes (local process pool), inline, or the address of a Dask scheduler (tcp://host:8786).")
@click.option("--workers", type=int, default=None, help="Local worker processes (default: all cores).")
@click.option("--tile-size", type=int, default=None, help="Tile edge in pixels (default 1024).")
@click.option("--synthetic", is_flag=True, default=False, help="Label the outputs as synthetic data.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Output directory.")
@console_options
def extent(rasters: tuple[str, ...], landuse_polygons: str | None, class_column: str | None, year: int | None,
           area_column: str | None, deduct_column: str | None, area_unit: str, geometry_area: bool,
           encoding: str | None, regions: str | None, zones: str | None, zone_id: str | None,
           zones_layer: str | None, crosswalk: str | None, coverage: str, nodata: int | None, no_transitions: bool, scheduler: str,
           workers: int | None, tile_size: int | None, synthetic: bool, out: str, console: Console) -> None:
    """Extent (region_id, year, class, area_ha) by zone from land-cover rasters or land-use polygons.

    Writes DIR/tables/extent.csv, transitions.csv (rasters, consecutive years), extent_coverage.csv
    (pixels, nodata share, raster vs polygon area per zone), extent_parameters.csv and manifest.json
    (every raster with sha256, CRS, resolution and size). extent.csv is a land-cover input of
    `gep account` / `gep carbon`.
    """
    from pydantic import ValidationError


    # the embedded demo data are synthetic: so is every output made from them
    synthetic = synthetic or names_demo([str(v).split("=", 1)[-1] for v in (*rasters, landuse_polygons, zones) if v])
    if not rasters and not landuse_polygons:
        raise InputError([Problem("BAD_OPTION", "give --landcover-raster YEAR=PATH or --landuse-polygons FILE",
                                  column="--landcover-raster", expected="at least one land-cover source")])
    if not zones and not regions:
        raise InputError([Problem("BAD_OPTION", "give --regions NAME or --zones FILE --zone-id COLUMN",
                                  column="--zones", expected="the zones to count land cover in")])
    try:
        step = Config(landcover_rasters=_raster_option(rasters), landuse_polygons=landuse_polygons,
                      class_column=class_column, year=year, area_column=area_column, deduct_column=deduct_column,
                      area_unit=area_unit, geometry_area=geometry_area, encoding=encoding, zones=zones,
                      zone_id=zone_id, zones_layer=zones_layer, crosswalk=crosswalk, coverage=coverage,  # type: ignore[arg-type]
                      nodata=nodata, transitions=not no_transitions, scheduler=scheduler, workers=workers, tile_size=tile_size)
    except ValidationError as exc:
        raise InputError([Problem("BAD_OPTION", e["msg"].removeprefix("Value error, "),
                                  column="--" + "-".join(str(x) for x in e["loc"]).replace("_", "-") if e["loc"] else None)
                          for e in exc.errors()]) from exc
    cfg = RunConfig(run=RunSection.model_validate({"title": "gep extent", "regions": regions, "synthetic": synthetic,
                                                   "report": False}),
                    inputs=InputsSection.model_validate({"crosswalk": crosswalk}), steps={})
    target = Path(out)
    check_out_dir(target)
    ctx = RunContext(config=cfg, progress=console.progress)
    ctx.registry = load_registry_or_none(regions, ctx)
    console.progress("extent", 0, 1)
    run_step(step, ctx)
    console.progress("extent", 1, 1)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    os.chmod(tmp, 0o755)
    try:
        write_run(ctx, tmp, target, ["extent"], command_line())
        commit_dir(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    LAST_RUN_WARNINGS.set(list(ctx.warnings))  # printed by the gep group after the command, as for gep run
    console.finish(target)


COMMANDS = [extent]
