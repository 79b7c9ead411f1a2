"""What a command prints: progress on stderr, the headline result on stdout.

Progress goes to stderr so that stdout carries only results: on a terminal a
``rich`` progress bar (one task per step, redrawn in place); when stderr is not a
terminal (CI, a pipe, a log file) one plain line per step (``gep: [2/5] account``);
``--quiet`` silences progress and notes, never the headline or errors. Engines
never print: the run passes :meth:`Console.progress` down as the run context's
progress callback (:data:`gep.context.ProgressCallback`).
"""

from __future__ import annotations

import functools
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import polars as pl
from gep.cli.common import command_line
from gep.reports import write_run_reports
from rich.console import Console as RichConsole
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gep.config import SYNTHETIC_LABEL, RunConfig
from gep.pipeline import execute


@dataclass
class Console:
    """Progress and notes on stderr (TTY-aware, silenced by --quiet), headlines on stdout."""

    quiet: bool = False
    tty: bool | None = None
    """Draw a bar (None: when stderr is a terminal)."""
    _bar: Progress | None = field(default=None, repr=False)
    _tasks: dict[str, Any] = field(default_factory=dict, repr=False)
    _started: dict[str, float] = field(default_factory=dict, repr=False)

    @property
    def is_tty(self) -> bool:
        return sys.stderr.isatty() if self.tty is None else self.tty

    def headline(self, text: str) -> None:
        """A result line (stdout; never silenced)."""
        self._stop()
        click.echo(text)

    def note(self, text: str) -> None:
        """A side remark on stderr (silenced by --quiet)."""
        if not self.quiet:
            self._stop()
            click.echo(text, err=True)

    def progress(self, step: str, done: int | None = None, total: int | None = None) -> None:
        """Progress of ``step``: ``done`` of ``total`` units (None: the step started / has no count).

        A bar on a terminal; otherwise one line when a step starts and when it completes (``done == total``),
        so a log shows every step once or twice, never a flood."""
        if self.quiet:
            return
        if self.is_tty:
            self._draw(step, done, total)
            return
        counted = total is not None and total > 1
        if step not in self._started:
            self._started[step] = time.perf_counter()
            click.echo(f"gep: {step} …" + (f" (0/{total})" if counted else ""), err=True)
        if total is not None and done == total and done:
            seconds = time.perf_counter() - self._started.pop(step)
            click.echo(f"gep: {step} done" + (f" ({done}/{total})" if counted else "") + f" in {seconds:.1f} s",
                       err=True)

    def _draw(self, step: str, done: int | None, total: int | None) -> None:
        if self._bar is None:
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=RichConsole(stderr=True), transient=True)
            self._bar.start()
        if step not in self._tasks:
            self._tasks[step] = self._bar.add_task(step, total=total)
        self._bar.update(self._tasks[step], completed=done or 0, total=total)
        if total is not None and done == total and done:  # a finished step leaves the screen
            self._bar.remove_task(self._tasks.pop(step))

    def _stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
            self._tasks.clear()

    def close(self) -> None:
        self._stop()

    def run(self, config: RunConfig, out: str | Path, detail: str | None = None) -> Path:
        """Execute ``config`` into ``out`` with progress on stderr, then print what it wrote and its headlines;
        ``detail`` is the reports' ``--detail`` (``full`` adds report_detail.xlsx)."""
        if detail is not None:  # --detail given: it overrides [run] report_detail (and run.toml records it)
            config = config.model_copy(update={"run": config.run.model_copy(update={"report_detail": detail})})
        path = execute(config, out, command_line(), reporter=write_run_reports, progress=self.progress)
        self.finish(path)
        return path

    def finish(self, run_dir: Path) -> None:
        """The end of every command that writes a run folder: the synthetic label, ``wrote DIR``, the headlines
        (:func:`run_headlines`) and the report to open."""
        self._stop()
        for line in run_headlines(run_dir):
            self.headline(line)


# ---------------------------------------------------------------------------
# headlines: the results a user came for, read from the run folder


def money(cny: float) -> str:
    """CNY in the unit a Chinese report would use: 亿元 from 10^8, 万元 from 10^4, else 元."""
    if abs(cny) >= 1e8:
        return f"{cny / 1e8:,.2f} 亿元"
    if abs(cny) >= 1e4:
        return f"{cny / 1e4:,.2f} 万元"
    return f"{cny:,.2f} 元"


def _regions(ids: list[str]) -> str:
    return ", ".join(ids) if len(ids) <= 3 else f"{len(ids)} regions"


def gep_headline(gep: pl.DataFrame) -> list[str]:
    """GEP by method for the latest year, summed over the regions of the table (CNY → 亿元/万元)."""
    if gep.height == 0:
        return []
    year = gep["year"].max()
    latest = gep.filter(pl.col("year") == year)
    by_method = latest.group_by("method").agg(pl.col("total_cny").sum()).sort("method")
    ids = sorted(latest["region_id"].unique().to_list())
    parts = [f"{m} {money(v)}" for m, v in by_method.iter_rows()]
    return [f"GEP {year} ({_regions(ids)}): " + "; ".join(parts)]


def carbon_headline(summary: pl.DataFrame) -> list[str]:
    """The net carbon sink of the latest period per method (t CO2e per year, positive = removal) and its value."""
    rows = summary.filter(pl.col("group") == "all") if "group" in summary.columns else summary
    if rows.height == 0:
        return []
    last = rows["year_to"].max()
    per = (rows.filter(pl.col("year_to") == last)
           .group_by("method", "year_from")
           .agg(pl.col("co2e_t").sum(), pl.col("value_cny").sum())
           .with_columns((pl.col("co2e_t") / (last - pl.col("year_from"))).alias("co2e_t_yr"),
                         (pl.col("value_cny") / (last - pl.col("year_from"))).alias("value_cny_yr"))
           .sort("method"))
    parts = [f"{m} {co2 / 1e4:,.2f} 万t CO2e/yr ({money(v)}/yr, {y0}→{last})"
             for m, y0, co2, v in per.select("method", "year_from", "co2e_t_yr", "value_cny_yr").iter_rows()]
    return ["carbon sink: " + "; ".join(parts)]


def compensation_headline(net: pl.DataFrame, limit: int = 4) -> list[str]:
    """Net position of each party per agreement (+ receives, − pays), largest first."""
    lines = []
    for (agreement,), rows in net.sort("agreement_id").group_by("agreement_id", maintain_order=True):
        rows = rows.with_columns(pl.col("net_cny").cast(pl.Float64)).sort(pl.col("net_cny").abs(), descending=True)
        parts = [f"{name or party} {'+' if v > 0 else ''}{money(v)}"
                 for party, name, v in rows.select("party", "party_name", "net_cny").head(limit).iter_rows()]
        more = f" … (+{rows.height - limit} parties)" if rows.height > limit else ""
        lines.append(f"compensation {agreement}: " + ", ".join(parts) + more)
    return lines


def sensitivity_headline(sens: pl.DataFrame, top: int = 3) -> list[str]:
    """The ``top`` coefficients of each output by one-at-a-time swing."""
    oat = sens.filter(pl.col("analysis") == "oat") if "analysis" in sens.columns else sens
    lines = []
    for (output,), rows in oat.sort("output", "rank").group_by("output", maintain_order=True):
        names = rows.head(top)["coefficient"].to_list()
        lines.append(f"sensitivity {output}: top coefficients " + ", ".join(f"{i}. {n}" for i, n in
                                                                          enumerate(names, start=1)))
    return lines


def uncertainty_headline(unc: pl.DataFrame) -> list[str]:
    """P5–P95 of total GEP (all regions, latest year) per method."""
    rows = unc.filter((pl.col("service") == "total") & (pl.col("region_id") == "all"))
    if rows.height == 0:
        return []
    year = rows["year"].max()
    return [f"uncertainty {m} {year}: P5 {money(p5)} – P95 {money(p95)} ({d} draws)"
            for m, p5, p95, d in rows.filter(pl.col("year") == year).sort("method")
            .select("method", "p5_cny", "p95_cny", "draws").iter_rows()]


HEADLINES: tuple[tuple[str, Callable[[pl.DataFrame], list[str]]], ...] = (
    ("gep", gep_headline),
    ("carbon_flux_summary", carbon_headline),
    ("compensation_net", compensation_headline),
    ("uncertainty", uncertainty_headline),
    ("sensitivity", sensitivity_headline),
)
"""Table of a run folder → its headline lines, in the order they are printed."""


def run_headlines(run_dir: Path) -> list[str]:
    """What a finished run prints: the synthetic label, ``wrote DIR``, one line per result, the report to open."""
    manifest_path = run_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
    lines = []
    if manifest.get("synthetic"):
        lines.append(manifest.get("data_label") or SYNTHETIC_LABEL)
    lines.append(f"wrote {run_dir}")
    for name, headline in HEADLINES:
        table = run_dir / "tables" / f"{name}.parquet"
        if table.exists():
            lines += headline(pl.read_parquet(table))
    if (run_dir / "report.html").exists():
        lines.append(f"open {run_dir / 'report.html'}")
    return lines


def console_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``-q/--quiet`` to a command and pass it a :class:`Console` as ``console``."""

    @click.option("-q", "--quiet", is_flag=True, default=False,
                  help="No progress or notes on stderr (results and errors are still printed).")
    @functools.wraps(fn)
    def wrapper(*args: Any, quiet: bool, **kwargs: Any) -> Any:
        console = Console(quiet=quiet)
        try:
            return fn(*args, console=console, **kwargs)
        finally:
            console.close()

    return wrapper


__all__ = ["HEADLINES", "Console", "console_options", "money", "run_headlines"]
