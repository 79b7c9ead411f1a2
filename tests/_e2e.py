"""Shared helpers of the end-to-end tests: run the real `gep` CLI and read its CSV outputs."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner, Result
from gep.cli.main import main


def gep(*args: str | Path) -> Result:
    """Run `gep ARGS...` in-process (the real CLI, exceptions not swallowed)."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV output as dicts of text (as a user opening the file sees them)."""
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))
