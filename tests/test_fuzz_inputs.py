"""Fuzz: mutated demo inputs through `gep validate`, a small `gep account`, and `gep validate RUN.toml` AND
`gep run RUN.toml` (issue 15): never a crash (exit 0 or 2 only).

Each example takes a few rows of one demo input kind, applies one mutation (truncated rows, extra
fields, swapped columns, huge/tiny numbers, NaN/inf, other encodings, empty and header-only files,
dropped columns; hidden and extra XLSX sheets) and checks: exit code 0 or 2, never 1 or a traceback,
and nothing is written when the exit code is 2. The run test puts each kind, cut to one region (a
small, self-consistent run), into a run config of its own and also checks that when validate passes
the run passes. derandomize=True keeps CI reproducible; the example counts bound the whole file to
about a minute on the 2-core CI machine (measured: about 45 s).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import openpyxl
import pytest
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
    "monitoring": DEMO / "compensation" / "sichuan_monitoring_synthetic.csv",
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


# ---------------------------------------------------------------------------
# gep validate RUN.toml and gep run RUN.toml on the same mutated input

RUN = '[run]\nreport = false\nregions = "sichuan"\n'
FV = '[account]\nmethods = ["function_value"]\n'


def _region_rows(path: Path, region: str | None = "510104", limit: int = 200) -> list[str]:
    """Header + the rows of one region (all rows when ``region`` is None)."""
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    prefix = region[:-1] if region and region.endswith("*") else None  # "TJ*": every section TJ..
    body = [ln for ln in lines[1:] if region is None or ln.split(",")[0] == region
            or (prefix is not None and ln.split(",")[0].startswith(prefix))]
    return [lines[0], *body[:limit]]


# kind → (demo file, region kept, config using IN (the mutated file) and fixed helper files LC/Q/S)
CASES: dict[str, tuple[Path, str | None, str]] = {
    "landcover": (DEMO / "sichuan_landcover_synthetic.csv", "510104",
                  RUN + '[inputs]\nlandcover = ["IN"]\ncrosswalk = "tnls"\n'
                  '[account]\nmethods = ["equivalent_factor"]\n'),
    "transitions": (DEMO / "sichuan_transitions_synthetic.csv", "510104",
                    RUN + '[inputs]\nlandcover = ["LC"]\ncrosswalk = "tnls"\n[carbon]\ntransitions = "IN"\n'),
    "quantities": (DEMO / "account" / "sichuan_account_quantities_synthetic.csv", "510104",
                   RUN + FV + 'quantities = ["IN"]\n'),
    "statistics": (DEMO / "account" / "sichuan_account_statistics_synthetic.csv", "510104",
                   RUN + FV + 'statistics = ["IN"]\n'),
    "emissions": (DEMO / "account" / "sichuan_emissions_synthetic.csv", "510104",
                  RUN + FV + 'quantities = ["Q"]\nemissions = ["IN"]\n'),
    "population": (DEMO / "account" / "sichuan_population_gdp_synthetic.csv", "510104",
                   RUN + FV + 'statistics = ["S"]\nsocio = "IN"\n'),
    "forest": (DEMO / "carbon" / "sichuan_forest_inventory_synthetic.csv", "511802",
               RUN + '[inputs]\nlandcover = ["LC511802"]\ncrosswalk = "tnls"\n'
               '[carbon]\nmethod = "gain-loss"\nforest_inventory = "IN"\n'),
    "grassland": (DEMO / "carbon" / "sichuan_grassland_management_synthetic.csv", "513201",
                  RUN + '[inputs]\nlandcover = ["LC513201"]\ncrosswalk = "tnls"\n'
                  '[carbon]\nmethod = "gain-loss"\ngrassland_management = "IN"\n'),
    # the Tuojiang chain (M4) with missing_data = "skip_period", so a cut or mutated table may still settle
    "monitoring": (DEMO / "compensation" / "sichuan_monitoring_synthetic.csv", "TJ*",
                   RUN + '[compensation]\nagreements = ["AGSKIP"]\nmonitoring = ["IN"]\n'),
    "price_index": (DEMO / "account" / "price_index_synthetic.csv", None,
                    RUN.replace("[run]\n", "[run]\nprice_base_year = 2020\n") + FV
                    + 'statistics = ["S"]\nprice_index = "IN"\n'),
}
HELPERS = {"LC": (DEMO / "sichuan_landcover_synthetic.csv", "510104"),
           "LC511802": (DEMO / "sichuan_landcover_synthetic.csv", "511802"),
           "LC513201": (DEMO / "sichuan_landcover_synthetic.csv", "513201"),
           "Q": (DEMO / "account" / "sichuan_account_quantities_synthetic.csv", "510104"),
           "S": (DEMO / "account" / "sichuan_account_statistics_synthetic.csv", "510104")}


def _project(tmp: Path, kind: str, data_file: Path) -> Path:
    """Write the helper files and the run config of ``kind`` reading ``data_file``; return the config."""
    text = CASES[kind][2]
    for key, (src, region) in HELPERS.items():
        if f'"{key}"' in text:
            (tmp / f"{key.lower()}.csv").write_text("\n".join(_region_rows(src, region)) + "\n", encoding="utf-8")
            text = text.replace(f'"{key}"', f'"{key.lower()}.csv"')
    if '"AGSKIP"' in text:
        agreement = (DEMO / "compensation" / "tuojiang_chain_m4_2024.toml").read_text(encoding="utf-8")
        (tmp / "ag.toml").write_text(agreement.replace('missing_data = "error"', 'missing_data = "skip_period"'),
                                     encoding="utf-8")
        text = text.replace('"AGSKIP"', '"ag.toml"')
    cfg = tmp / "run.toml"
    cfg.write_text(text.replace('"IN"', f'"{data_file.name}"'), encoding="utf-8")
    return cfg


def _validate_and_run(cfg: Path, out: Path) -> tuple[object, object]:
    val = CliRunner().invoke(main, ["validate", str(cfg)])
    run = CliRunner().invoke(main, ["run", str(cfg), "--out", str(out)])
    return val, run


def _never_crashes(res: object) -> None:
    assert res.exit_code in (0, 2), res.output  # type: ignore[attr-defined]
    assert "internal error" not in res.output and "Traceback" not in res.output  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", sorted(CASES))
def test_every_unmutated_case_validates_and_runs(kind: str, tmp_path: Path) -> None:
    src, region, _ = CASES[kind]
    f = tmp_path / "in.csv"
    f.write_text("\n".join(_region_rows(src, region, limit=1000)) + "\n", encoding="utf-8")
    val, run = _validate_and_run(_project(tmp_path, kind, f), tmp_path / "out")
    assert val.exit_code == 0, val.output  # type: ignore[attr-defined]
    assert run.exit_code == 0, run.output  # type: ignore[attr-defined]


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(kind=st.sampled_from(sorted(CASES)), mutation=st.sampled_from(MUTATIONS),
       fmt=st.sampled_from(["csv", "csv", "csv", "xlsx"]), data=st.data())
def test_validate_and_run_agree_and_never_crash(kind: str, mutation: str, fmt: str, data: st.DataObject) -> None:
    tmp = Path(tempfile.mkdtemp())
    try:
        src, region, _ = CASES[kind]
        grid, enc = _mutate(_region_rows(src, region, limit=12), mutation, data)
        f = _write(tmp, grid, enc, fmt, data)
        out = tmp / "out"
        val, run = _validate_and_run(_project(tmp, kind, f), out)
        _never_crashes(val)
        _never_crashes(run)
        if run.exit_code == 2:  # type: ignore[attr-defined]
            assert not out.exists() and not list(tmp.glob(".out*")), run.output  # type: ignore[attr-defined]
        if val.exit_code == 0:  # type: ignore[attr-defined]
            assert run.exit_code == 0, (val.output, run.output)  # type: ignore[attr-defined]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
