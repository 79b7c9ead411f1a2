"""Validators for `gep validate`: agreement TOML files and monitoring tables, problems returned, never raised.

``validate_agreement_file(path) -> list[Problem]`` — every problem of one agreement file, each with its
line number (``row``; missing top-level keys at line 1, missing keys of a table at the table's header).
``validate_monitoring_file(path, ...) -> list[Problem]`` — every problem of one monitoring table with its
spreadsheet row (header = 1) and column; with ``agreements`` it also checks that the data cover every
month, section and indicator those agreements settle (MISSING_MONITORING). An empty list means valid.
Input problems are returned; only engine bugs raise. Formats: docs/compensation.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gep.compensation.agreement import load_agreement, load_agreements
from gep.compensation.monitoring import read_monitoring
from gep.compensation.settlement import settle
from gep.errors import InputError, Problem


def _unreadable(path: str | Path, exc: OSError) -> Problem:
    return Problem("UNREADABLE_FILE", f"the file cannot be read ({exc.strerror or exc.__class__.__name__})", file=str(path),
                   expected="a readable file")


def validate_agreement_file(path: str | Path, known_regions: set[str] | None = None) -> list[Problem]:
    """Problems of one agreement TOML file (empty list = valid); ``known_regions`` checks county/prefecture ids."""

    try:
        load_agreement(path, known_regions)
    except InputError as exc:
        return list(exc.problems)
    except OSError as exc:
        return [_unreadable(path, exc)]
    return []


def validate_monitoring_file(
    path: str | Path,
    sheet: str | None = None,
    agreements: Sequence[str | Path] = (),
    known_regions: set[str] | None = None,
) -> list[Problem]:
    """Problems of one monitoring table (CSV/XLSX/Parquet; empty list = valid).

    Row-level checks always (columns, empty cells, dates, numbers, negative values, duplicate samples).
    With ``agreements`` (agreement TOML paths) and a clean table: the agreements' own problems, then the
    data gaps each agreement would hit when settled (MISSING_MONITORING, per section, indicator and months).
    """

    try:
        mon = read_monitoring(path, sheet=sheet)
    except InputError as exc:
        return list(exc.problems)
    except OSError as exc:
        return [_unreadable(path, exc)]
    if not agreements:
        return []
    try:
        settle(load_agreements(list(agreements), known_regions), mon, str(path))
    except InputError as exc:
        return list(exc.problems)
    except OSError as exc:
        return [_unreadable(path, exc)]
    return []
