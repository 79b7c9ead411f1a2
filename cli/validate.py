"""`gep validate`: check input tables without computing anything."""

from __future__ import annotations

import click
import polars as pl

from gep.errors import InputError, Problem


@click.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--regions", "regions", default=None,
              help="Region registry to check ids against (e.g. sichuan) or a region table; omit to accept any id.")
@click.option("--crosswalk", default=None,
              help="Crosswalk id (clcd, cnlucc, tnls, worldcover) or file; every class must be in it.")
@click.option("--sheet", default=None, help="XLSX sheet name (default: first sheet).")
def validate(files: tuple[str, ...], regions: str | None, crosswalk: str | None, sheet: str | None) -> None:
    """Check land-cover tables and report every problem with file, row and column.

    Checks: columns (English or Chinese names, misspellings suggested), types,
    negative or non-finite areas, units (ha, km2, 亩, 万亩 ...), duplicate
    region+year+class, unknown region ids (with --regions), classes missing from
    the crosswalk (with --crosswalk), and classes of a region adding up to more
    than its official area by over 1 %. Exit status 2 when anything is wrong.
    """
    from gep.loaders import load_landcover

    registry = None
    if regions:
        from gep.regions import load_registry

        registry = load_registry(regions)
    cw = None
    if crosswalk:
        from gep.coefficients import load_crosswalk

        cw = load_crosswalk(crosswalk)
    problems: list[Problem] = []
    summaries = []
    for f in files:
        try:
            df = load_landcover(f, registry=registry, crosswalk=cw, sheet=sheet)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        summaries.append((f, df))
    if problems:
        raise InputError(problems)
    for f, df in summaries:
        years = ", ".join(str(y) for y in df["year"].unique().sort().to_list())
        click.echo(
            f"OK {f}: {df.height} rows, {df['region_id'].n_unique()} regions, years {years}, "
            f"{df['class'].n_unique()} classes, {df['area_ha'].sum():,.2f} ha"
        )
    if len(files) > 1:
        total = pl.concat([d for _, d in summaries])
        click.echo(f"all {len(files)} files valid: {total.height} rows")


COMMANDS = [validate]
