"""Fuzz: mutated demo inputs through `gep validate` and a small `gep account` never crash (exit 0 or 2 only).

Each example takes a few rows of one demo input kind, applies one mutation (truncated rows, extra
fields, swapped columns, huge/tiny numbers, NaN/inf, other encodings, empty and header-only files,
hidden and extra XLSX sheets) and checks: exit code 0 or 2, never 1 or a traceback, and nothing is
written when the exit code is 2. derandomize=True keeps CI reproducible; the bound is about a minute.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import openpyxl
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gep.cli.main import main
from gep.context import demo_data_dir

DEMO = demo_data_dir()
KINDS = {
    "landcover": DEMO / "sichuan_landcover_synthetic.csv",
    "transitions": DEMO / "sichuan_transitions_synthetic.csv",
    "quantities": DEMO / "account" / "sichuan_account_quantities_synthetic.csv",
    "statistics": DEMO / "account" / "sichuan_account_statistics_synthetic.csv",
    "price_index": DEMO / "account" / "price_index_synthetic.csv",
    "population": DEMO / "account" / "sichuan_population_gdp_synthetic.csv",
    "emissions": DEMO / "account" / "sichuan_emissions_synthetic.csv",
    "forest": DEMO / "carbon" / "sichuan_forest_inventory_synthetic.csv",
}
NUMBERS = ["1e308", "1e-308", "-1e300", "nan", "inf", "-inf", "1e400", "0", "-0", "１２", "510104.0", "", "x"]
MUTATIONS = ["truncate", "extra", "swap", "number", "encoding", "empty", "header_only", "drop_column", "none"]


def _lines(kind: str, n: int = 6) -> list[str]:
    return KINDS[kind].read_text(encoding="utf-8-sig").splitlines()[:n]


def _mutate(lines: list[str], mutation: str, data: st.DataObject) -> tuple[list[list[str]], str]:
    grid = [line.split(",") for line in lines]
    enc = "utf-8"
    r = data.draw(st.integers(1, len(grid) - 1))
    c = data.draw(st.integers(0, len(grid[0]) - 1))
    if mutation == "truncate":
        grid[r] = grid[r][: data.draw(st.integers(0, len(grid[r]) - 1))]
    elif mutation == "extra":
        grid[r] = grid[r] + ["1"] * data.draw(st.integers(1, 3))
    elif mutation == "swap":
        d = data.draw(st.integers(0, len(grid[0]) - 1))
        for row in grid:
            if len(row) > max(c, d):
                row[c], row[d] = row[d], row[c]
    elif mutation == "number":
        for _ in range(data.draw(st.integers(1, 3))):
            rr = data.draw(st.integers(1, len(grid) - 1))
            grid[rr][data.draw(st.integers(0, len(grid[rr]) - 1))] = data.draw(st.sampled_from(NUMBERS))
    elif mutation == "encoding":
        enc = data.draw(st.sampled_from(["utf-16", "gb18030", "big5", "latin-1", "utf-8-sig"]))
    elif mutation == "empty":
        grid = []
    elif mutation == "header_only":
        grid = grid[:1]
    elif mutation == "drop_column":
        grid = [row[:c] + row[c + 1:] for row in grid]
    return grid, enc


def _write(tmp: Path, grid: list[list[str]], enc: str, fmt: str, data: st.DataObject) -> Path:
    if fmt == "csv":
        p = tmp / "in.csv"
        p.write_bytes("\n".join(",".join(r) for r in grid).encode(enc, errors="replace") + b"\n")
        return p
    wb = openpyxl.Workbook()
    first = wb.active
    layout = data.draw(st.sampled_from(["plain", "hidden_first", "extra_sheet"]))
    if layout == "hidden_first":
        first.title = "old"
        first.append(["a", "b"])
        first.append(["1", "2"])
        first.sheet_state = "hidden"
        first = wb.create_sheet("data")
    elif layout == "extra_sheet":
        wb.create_sheet("notes").append(["note"])
    for row in grid:
        first.append(row)
    p = tmp / "in.xlsx"
    wb.save(p)
    return p


def _check(res: object, out: Path | None = None) -> None:
    assert res.exit_code in (0, 2), res.output  # type: ignore[attr-defined]
    assert "internal error" not in res.output and "Traceback" not in res.output  # type: ignore[attr-defined]
    if out is not None and res.exit_code == 2:  # type: ignore[attr-defined]
        assert not out.exists()
        assert not list(out.parent.glob(f".{out.name}*"))


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(kind=st.sampled_from(sorted(KINDS)), mutation=st.sampled_from(MUTATIONS),
       fmt=st.sampled_from(["csv", "csv", "xlsx"]), data=st.data())
def test_validate_never_crashes(kind: str, mutation: str, fmt: str, data: st.DataObject) -> None:
    tmp = Path(tempfile.mkdtemp())
    try:
        grid, enc = _mutate(_lines(kind), mutation, data)
        path = _write(tmp, grid, enc, fmt, data)
        _check(CliRunner().invoke(main, ["validate", str(path)]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(mutation=st.sampled_from(MUTATIONS), data=st.data())
def test_account_never_crashes(mutation: str, data: st.DataObject) -> None:
    tmp = Path(tempfile.mkdtemp())
    try:
        grid, enc = _mutate(_lines("quantities", 8), mutation, data)
        path = _write(tmp, grid, enc, "csv", data)
        out = tmp / "out"
        res = CliRunner().invoke(main, ["account", "--method", "function-value", "--quantities", str(path),
                                        "--out", str(out)])
        _check(res, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
