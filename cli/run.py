"""`gep run`: a whole run described by a TOML configuration."""

from __future__ import annotations

from pathlib import Path

import click
from gep.cli.output import Console, console_options
from gep.cli.common import detail_option

from gep.config import load_config
from gep.errors import InputError, Problem


@click.command("run")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--out", "out", default=None, type=click.Path(file_okay=False),
              help="Output directory (default: [run] out in the config).")
@console_options
@detail_option
def run(config: str, out: str | None, console: Console, detail: str | None = None) -> None:
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
    elif out:
        target = out
    else:  # [run] out is relative to the config file's folder, like every input path
        target = str(cfg.base_dir / cfg.run.out) if cfg.run.out else None
    if not target:
        raise InputError([Problem("BAD_CONFIG", "no output directory", file=config, column="run.out",
                                  expected="--out DIR or out = \"DIR\" in [run]")])
    console.run(cfg, target, detail=detail)


COMMANDS = [run]
