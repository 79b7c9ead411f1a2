"""`gep demo`: the embedded Sichuan demo (synthetic data), end to end."""

from __future__ import annotations

import time

import click
from gep.cli.output import Console, console_options
from gep.cli.common import detail_option

from gep.pipeline import demo_config


@click.command("demo")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Output directory.")
@console_options
@detail_option
def demo(out: str, console: Console, detail: str | None = None) -> None:
    """Run the embedded Sichuan demo: all 183 counties, 2015/2020/2025.

    The demo data are SYNTHETIC (合成演示数据): land cover fitted to the
    provincial totals of the Third National Land Survey, not official county
    statistics. Every output carries that label.

    Prints progress on stderr and ends with the headlines: GEP by method, the carbon sink, the
    compensation nets, uncertainty and sensitivity, and the report to open.
    """

    t0 = time.perf_counter()
    console.run(demo_config(), out, detail=detail)
    console.note(f"gep: the demo took {time.perf_counter() - t0:.1f} s")


COMMANDS = [demo]
