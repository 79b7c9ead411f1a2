"""Excel and HTML reports of a gep run (reads run_dir/tables/*.csv and manifest.json).

``write_reports(run_dir)`` writes ``report.xlsx`` and ``report.html`` into the run
directory. Reports only render the tables the engine wrote (docs/contracts.md §10).
"""

from __future__ import annotations

import gc
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl

from .data import RunData, load_run
from .html import write_html
from .labels import check_lang
from .filing import COUNTY_SHEETS_MAX
from .xlsx import write_xlsx

FORMATS = ("xlsx", "html")
DETAIL = ("capped", "full")

__all__ = ["COUNTY_SHEETS_MAX", "DETAIL", "FORMATS", "RunData", "load_run", "write_reports", "write_run_reports"]


def _atomic_write(path: Path, writer: Callable[[Path], Any]) -> Path:
    """Write via a temp file in the same folder, then rename (no half-written reports)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        writer(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; reports are meant to be shared
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


@contextmanager
def _without_gc() -> Iterator[None]:
    """Python's cyclic garbage collector paused (then restored as it was).

    Writing the reports allocates millions of short-lived strings, lists and cells (freed by
    reference counting; they form no cycles worth collecting), and each allocation burst
    triggers collections that scan every object of the process: about 12 % of the reports'
    time at national size (docs/reports.md).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def write_reports(run_dir: Path | str, formats: Iterable[str] = FORMATS, lang: str = "zh-en",
                  *, out_dir: Path | str | None = None, detail_rows: int | None = None,
                  detail: str = "capped", boundaries: dict[str, Any] | None = None,
                  region_names: pl.DataFrame | None = None,
                  county_sheets: int | None = COUNTY_SHEETS_MAX) -> list[Path]:
    """Write report.xlsx / report.html for the run in ``run_dir``; return the paths written.

    report.xlsx is the filing workbook (summary, one account sheet per county, the first
    200 rows of each detail table). ``detail`` "full" also writes report_detail.xlsx (the
    all-region account and every table, ``detail_rows`` rows each; None or 0 = all).
    ``boundaries`` (GeoJSON) and ``region_names`` override the regions registry named in
    the manifest (used by tests and benchmarks). County account sheets are written for runs of at
    most ``county_sheets`` counties (default 400; None: always).
    """
    check_lang(lang)
    if detail not in DETAIL:
        raise ValueError(f"detail must be one of {list(DETAIL)}; got {detail!r}")
    wanted = [f.strip().lower() for f in formats if f.strip()]
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown report format(s) {unknown}; choose from {list(FORMATS)}")
    with _without_gc():
        return _write_reports(run_dir, wanted, lang, out_dir, detail_rows, detail, boundaries,
                              region_names, county_sheets)


def _write_reports(run_dir: Path | str, wanted: list[str], lang: str, out_dir: Path | str | None,
                   detail_rows: int | None, detail: str, boundaries: dict[str, Any] | None,
                   region_names: pl.DataFrame | None, county_sheets: int | None) -> list[Path]:
    run = load_run(run_dir, boundaries=boundaries, region_names=region_names)
    out = Path(out_dir) if out_dir is not None else run.run_dir
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for fmt in FORMATS:
        if fmt not in wanted:
            continue
        if fmt == "xlsx":

            written.append(_atomic_write(out / "report.xlsx",
                                         lambda p: write_xlsx(run, p, lang, detail_rows,
                                                                             county_sheets=county_sheets)))
            if detail == "full":
                written.append(_atomic_write(out / "report_detail.xlsx", lambda p: write_xlsx(
                    run, p, lang, detail_rows, part="detail")))
        else:

            written.append(_atomic_write(out / "report.html",
                                         lambda p: write_html(run, p, lang)))
    return written


def write_run_reports(run_dir: Path, lang: str = "zh-en", detail_rows: int | None = None,
                      detail: str = "capped") -> list[Path]:
    """Both reports of a finished run directory: the reporter the CLI hands to :func:`gep.pipeline.execute`.

    ``detail`` "full" adds report_detail.xlsx; the pipeline passes ``[run] report_detail`` (or ``--detail``).
    """
    return write_reports(run_dir, formats=FORMATS, lang=lang, detail_rows=detail_rows, detail=detail)
