"""`gep demo`: the embedded Sichuan demo (synthetic data), end to end."""

from __future__ import annotations

import time

import click
from gep.cli.common import command_line, detail_option, reporter

from gep.config import SYNTHETIC_LABEL
from gep.pipeline import demo_config, execute


@click.command("demo")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Output directory.")
@detail_option
def demo(out: str, detail: str = "capped") -> None:
    """Run the embedded Sichuan demo: all 183 counties, 2015/2020/2025.

    The demo data are SYNTHETIC (合成演示数据): land cover fitted to the
    provincial totals of the Third National Land Survey, not official county
    statistics. Every output carries that label.
    """

    t0 = time.perf_counter()
    path = execute(demo_config(), out, command_line(), reporter=reporter(detail))
    click.echo(SYNTHETIC_LABEL)
    click.echo(f"wrote {path} in {time.perf_counter() - t0:.1f} s")
    for name in ("tables", "manifest.json", "run.toml", "report.xlsx", "report_detail.xlsx", "report.html"):
        if (path / name).exists():
            click.echo(f"  {path / name}")


COMMANDS = [demo]
