"""The `gep` command: a click group; each command family lives in its own module.

Exit status: 0 success, 1 engine error (a bug: please report it), 2 input or
usage error (the message names the file, row and column to fix).
"""

from __future__ import annotations

import importlib
import sys

import click

from gep import __version__
from gep.errors import InputError

# Each module exposes COMMANDS: list[click.Command].
COMMAND_MODULES = [
    "validate",
    "regions",
    "coefficients",
    "demo",
    "run",
    "account",
    "carbon",
    "biophysical",
    "compensate",
    "report",
    "tuning",
    "extent",
]


class GepGroup(click.Group):
    """Prints input problems for people, not tracebacks, and exits 2."""

    def invoke(self, ctx: click.Context) -> object:
        from gep.pipeline import LAST_RUN_WARNINGS

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
        finally:
            LAST_RUN_WARNINGS.reset(token)


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
    Start with `gep demo --out gep-demo` (embedded synthetic Sichuan data).
    """


def _register() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"gep.cli.{name}")
        for command in module.COMMANDS:
            main.add_command(command)


_register()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
