"""`gep run`: a whole run described by a TOML configuration."""

from __future__ import annotations

from pathlib import Path

import click
from gep.cli.common import command_line
from gep.reports import write_run_reports

from gep.config import SYNTHETIC_LABEL, load_config
from gep.errors import InputError, Problem
from gep.pipeline import execute


@click.command("run")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--out", "out", default=None, type=click.Path(file_okay=False),
              help="Output directory (default: [run] out in the config).")
def run(config: str, out: str | None) -> None:
    """Run everything a configuration file describes (schema: docs/run_config.md).

    Writes DIR/tables/*.parquet and, for tables of at most [run] csv_max_rows rows
    (default 1,048,576), *.csv; DIR/manifest.json, DIR/run.toml (the
    fully resolved configuration: `gep run DIR/run.toml` repeats the run) and
    DIR/report.xlsx, DIR/report.html. On an input error nothing is written.
    Without --out, a run.toml that sits in a run directory writes to that directory
    (so a copied run folder never overwrites the original); any other config writes
    to its [run] out.
    """

    cfg = load_config(config)
    here = Path(config).resolve().parent
    if out is None and (here / "manifest.json").exists():
        # a run.toml inside a run directory repeats that run in place, even when the folder was
        # copied or moved: the `out` it records may point at the original, which must stay untouched
        target: str | None = str(here)
    else:
        target = out or cfg.run.out
    if not target:
        raise InputError([Problem("BAD_CONFIG", "no output directory", file=config, column="run.out",
                                  expected="--out DIR or out = \"DIR\" in [run]")])
    path = execute(cfg, target, command_line(), reporter=write_run_reports)
    if cfg.run.synthetic:

        click.echo(cfg.run.data_label or SYNTHETIC_LABEL)
    click.echo(f"wrote {path}")


COMMANDS = [run]
