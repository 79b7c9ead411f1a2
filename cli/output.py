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
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click
from rich.console import Console as RichConsole
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@dataclass
class Console:
    """Progress and notes on stderr (TTY-aware, silenced by --quiet), headlines on stdout."""

    quiet: bool = False
    tty: bool | None = None
    """Draw a bar (None: when stderr is a terminal)."""
    _bar: Progress | None = field(default=None, repr=False)
    _tasks: dict[str, Any] = field(default_factory=dict, repr=False)
    _last: dict[str, tuple[int | None, int | None]] = field(default_factory=dict, repr=False)

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
        last = self._last.get(step)
        self._last[step] = (done, total)
        if last is None:
            click.echo(f"gep: {step} …" if total is None else f"gep: {step} (0/{total})", err=True)
        elif total is not None and done == total and last != (done, total):
            click.echo(f"gep: {step} done ({done}/{total})", err=True)

    def _draw(self, step: str, done: int | None, total: int | None) -> None:
        if self._bar is None:
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=RichConsole(stderr=True), transient=True)
            self._bar.start()
        if step not in self._tasks:
            self._tasks[step] = self._bar.add_task(step, total=total)
        self._bar.update(self._tasks[step], completed=done or 0, total=total)

    def _stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
            self._tasks.clear()

    def close(self) -> None:
        self._stop()


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


__all__ = ["Console", "console_options"]
