"""Helpers shared by the command modules."""

from __future__ import annotations

import shlex
import sys


def command_line() -> str:
    """The command line as typed (recorded in the manifest)."""
    args = [a for a in sys.argv[1:]]
    return "gep " + " ".join(shlex.quote(a) for a in args)
