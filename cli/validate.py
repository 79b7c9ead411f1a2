"""`gep validate`: check input files of every kind gep reads, without computing anything."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from gep.coefficients import load_crosswalk
from gep.regions import load_registry

from gep.config import SYNTHETIC_LABEL
from gep.context import names_demo
from gep.errors import InputError, Problem
from gep.inputs_catalog import AUTO, KIND_NAMES, Options, describe_kinds, validate_files
from gep.loaders import load_landcover
from gep.readers import collect_read_notes

_HELP = """Check input files and report every problem with file, row and column.

\b
Kinds (--kind, default auto):
  landcover            land cover: region_id, year, class, area (地区代码, 年份, 地类, 面积)
  transitions          land-cover transitions (class_from → class_to); with
                       --landcover, opening and closing areas must reconcile
  quantities           physical quantities 功能量 (service, quantity, unit)
  statistics           values 价值量 (service, value, unit in 元/万元/亿元)
  prices               unit prices (service, price, unit)
  rates                per-area rates by ecosystem type (account)
  grain                grain statistics for the standard equivalent value
  adjustments          regional ratios npp / precipitation / soil
  price-index          price index by year
  emissions            pollutant emissions (环境统计) capping purification
  socio                population and GDP
  carbon-pools         InVEST carbon pool table (lucode, c_above ... c_dead, t C/ha)
  carbon-rates, forest-inventory, grassland-management   carbon step tables
  monitoring           water-quality samples (断面, 日期, 指标, 浓度)
  agreement            compensation agreement TOML (problems name the line)
  config               run configuration TOML (gep run) and every input file
                       it names, checked as its kind with the config's
                       regions, crosswalk and land cover
  coefficients         coefficient set: folder, set.toml or one table
  crosswalk            land-cover class → ecosystem type
  regions              custom region table or registry folder
  rivers               river graph edges (upstream_id → downstream_id)

\b
auto: a .toml is an agreement, a run config or a set.toml by its keys; a
table is recognised by its header (English names or Chinese aliases). The
OK line says what was detected and from which columns; when the columns fit
several kinds, gep names them and asks for --kind.

A FILE may also be a built-in name (xie2015, tnls, sichuan) or demo:NAME
(the embedded demo data). Every problem of every file is listed before gep
stops (exit status 2).
With --regions, region ids (and agreement parties) must be in the registry;
with --crosswalk, classes must be in the crosswalk; with --landcover,
transitions must reconcile with it and an InVEST pool table must cover its
classes.
"""


@click.command("validate", help=_HELP)
@click.argument("files", nargs=-1, type=click.Path())
@click.option("--kind", "kind", default=AUTO, show_default=True, metavar="KIND",
              type=click.Choice([AUTO, *KIND_NAMES]), help="What the files are (see the list above); auto detects each file.")
@click.option("--regions", "regions", default=None,
              help="Region registry to check ids against (e.g. sichuan) or a region table; omit to accept any id.")
@click.option("--crosswalk", default=None,
              help="Crosswalk id (clcd, cnlucc, tnls, worldcover) or file; every class must be in it.")
@click.option("--landcover", "landcover", multiple=True, type=click.Path(dir_okay=False),
              help="Land-cover table(s) to reconcile transitions against (repeatable).")
@click.option("--sheet", default=None,
              help="XLSX sheet name for land cover, monitoring, regions (or write FILE.xlsx#SHEET for any file; "
                   "default: the only visible sheet with a table).")
@click.option("--config-only", is_flag=True,
              help="Run configs: check the config and that the files it names exist, not their contents.")
@click.option("--list-kinds", is_flag=True, help="List the input kinds with their required columns and exit.")
def validate(files: tuple[str, ...], kind: str, regions: str | None, crosswalk: str | None,
             landcover: tuple[str, ...], sheet: str | None, config_only: bool, list_kinds: bool) -> None:

    if list_kinds:
        for rec in describe_kinds().iter_rows(named=True):
            click.echo(f"{rec['kind']:<22}{rec['title']}  [{rec['documented_in']}]")
            click.echo(f"{'':<22}columns: {rec['columns']}")
        return
    if not files:
        raise click.UsageError("give at least one FILE to check (or --list-kinds)")



    problems: list[Problem] = []

    def reference(load: Callable[[], Any]) -> Any:
        """Load a reference input (registry, crosswalk, land cover), collecting its problems."""
        try:
            return load()
        except InputError as exc:
            problems.extend(exc.problems)
            return None

    registry = reference(lambda: load_registry(regions)) if regions else None
    cw = reference(lambda: load_crosswalk(crosswalk)) if crosswalk else None
    extent = (reference(lambda: load_landcover(list(landcover), registry=registry, crosswalk=cw, sheet=sheet))
              if landcover else None)
    if problems:  # the reference inputs themselves are broken: nothing can be checked against them
        raise InputError(problems)

    opts = Options(registry=registry, crosswalk=cw, crosswalk_name=crosswalk, landcover=extent,
                   landcover_files=tuple(landcover), sheet=sheet, deep_config=not config_only)
    with collect_read_notes() as notes:
        report = validate_files(files, kind=kind, opts=opts)
    for c in report.checked:
        click.echo(c.line())
    for n in notes:  # the sheet a workbook was read from, region codes normalised: as a run notes them
        click.echo("WARNING " + n.render(), err=True)
    if names_demo([str(f) for f in files]):  # the embedded demo data are synthetic: say so
        click.echo(SYNTHETIC_LABEL)
    if report.problems:
        for file, how, n in report.failed:
            click.echo(f"FAILED {file} ({how}): {n} problem{'s' if n != 1 else ''}", err=True)
        raise InputError(report.problems)
    if len(files) > 1:
        click.echo(f"all {len(files)} files valid")


COMMANDS = [validate]
