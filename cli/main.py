"""The `gep` command: a click group; each command family lives in its own module.

Exit status: 0 success, 1 engine error (a bug: please report it), 2 input or
usage error (the message names the file, row and column to fix).
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from types import ModuleType

import click
from gep.cli import (
    account,
    biophysical,
    carbon,
    coefficients,
    compensate,
    demo,
    extent,
    init,
    regions,
    report,
    run,
    tuning,
    validate,
)
from gep.cli.common import command_line

from gep import __version__
from gep.errors import InputError
from gep.pipeline import LAST_RUN_WARNINGS


class GepGroup(click.Group):
    """Prints input problems for people, not tracebacks, and exits 2; an unexpected exception (a bug) prints a
    short located bug report ("gep: internal error … please report …") and exits 1."""

    def invoke(self, ctx: click.Context) -> object:

        token = LAST_RUN_WARNINGS.set(None)
        try:
            result = super().invoke(ctx)
            _echo_warnings(LAST_RUN_WARNINGS.get())
            return result
        except InputError as exc:
            n = len(exc.problems)
            click.echo(f"gep: {n} input problem{'s' if n != 1 else ''} found; nothing was written.", err=True)
            for p in exc.problems:
                click.echo("  - " + p.render(), err=True)
            ctx.exit(2)
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - a bug: a short located report instead of a traceback
            _echo_internal_error(exc)
            ctx.exit(1)
        finally:
            LAST_RUN_WARNINGS.reset(token)


def _echo_internal_error(exc: BaseException) -> None:
    """A short bug report for an unexpected exception: command, exception type and message, where it was raised,
    and the path of a log file ($TMPDIR/gep-bug-*.log) holding the full traceback.

    Set GEP_DEBUG=1 to also print the full traceback.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if any(d in f.filename.replace("\\", "/")
                                     for d in ("/gep/", "/cli/", "/coefficients/", "/reports/", "/regions/"))]
    where = (ours or frames or [None])[-1]
    loc = f"{where.filename}:{where.lineno} in {where.name}" if where is not None else "unknown location"
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    log = _write_bug_log(exc)
    click.echo(f"gep: internal error (a bug in gep {__version__}, not in your inputs); nothing was written.", err=True)
    click.echo(f"  command:   {command_line()}", err=True)
    click.echo(f"  error:     {type(exc).__name__}: {msg[:500]}", err=True)
    click.echo(f"  raised at: {loc}", err=True)
    click.echo(f"  log:       {log}" if log else "  log:       (could not be written)", err=True)
    click.echo("  please report this, with the command, the lines above and the log file, to the gep maintainers "
               "(set GEP_DEBUG=1 to print the full traceback)", err=True)
    if os.environ.get("GEP_DEBUG"):
        traceback.print_exception(exc)


def _write_bug_log(exc: BaseException) -> str | None:
    """Write gep's version, the command and the full traceback to $TMPDIR/gep-bug-*.log; its path (None if unwritable)."""
    try:
        fd, path = tempfile.mkstemp(prefix="gep-bug-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"gep {__version__}\ncommand: {command_line()}\npython: {sys.version.split()[0]}\n\n")
            fh.write("".join(traceback.format_exception(exc)))
        return path
    except OSError:
        return None


def _echo_warnings(warnings: list | None, limit: int = 10) -> None:
    """Print the run's warnings (also in manifest.json and the reports) so nobody misses them."""
    if not warnings:
        return
    n = len(warnings)
    click.echo(f"gep: {n} warning{'s' if n != 1 else ''} (also in manifest.json and the reports):", err=True)
    for w in warnings[:limit]:
        click.echo("  - " + w.render(), err=True)
    if n > limit:
        click.echo(f"  ... and {n - limit} more in manifest.json", err=True)


@click.group(cls=GepGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="gep")
def main() -> None:
    """gep: ecological-product value accounting for Chinese counties.

    GEP accounts (function-value and equivalent-factor methods), carbon sinks,
    upstream-downstream ecological compensation, and Excel/HTML reports.
    Start with `gep demo --out gep-demo` (embedded synthetic Sichuan data), then
    `gep init DIR` for input templates of your own county. Long steps show progress
    on stderr (--quiet silences it); every run ends with its headline results.
    """


COMMAND_MODULES: tuple[ModuleType, ...] = (
    init, validate, regions, coefficients, demo, run, extent, account, carbon, biophysical, compensate, report, tuning,
)
"""Each command family's module exposes ``COMMANDS: list[click.Command]``."""


def _register() -> None:
    for module in COMMAND_MODULES:
        for command in module.COMMANDS:
            main.add_command(command)


_register()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
