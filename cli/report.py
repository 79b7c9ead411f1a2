"""`gep report`: Excel and HTML reports of a finished run directory."""

from __future__ import annotations

from pathlib import Path

import click
from gep.cli.output import Console, console_options
from gep.cli.common import detail_option
from gep.reports import COUNTY_SHEETS_MAX, FORMATS, write_reports

from gep.errors import InputError, Problem


def _all_or_count(text: str, option: str, what: str, minimum: int) -> int | None:
    """An option that takes 'all' (None) or a whole number of at least ``minimum``; a usage error otherwise."""
    t = text.strip().lower()
    if t == "all":
        return None
    if t.isdigit() and int(t) >= minimum:
        return int(t)
    raise click.BadParameter(f"{what} or 'all'; got {text!r}", param_hint=option)


@click.command("report")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "formats", default="xlsx,html", show_default=True,
              help="Comma-separated report formats: xlsx, html.")
@click.option("--lang", type=click.Choice(["zh", "en", "zh-en"]), default="zh-en",
              show_default=True, help="Label language: Chinese, English or both.")
@detail_option
@click.option("--detail-rows", default="all", show_default=True,
              help="Rows kept per detail sheet: of report_detail.xlsx with --detail full ('all', "
                   "or a number); report.xlsx keeps at most 200 (fewer if this is smaller). "
                   "The cover and the sheet say when a sheet is shortened.")
@click.option("--county-sheets", default=str(COUNTY_SHEETS_MAX), show_default=True,
              help="Write one account sheet per county in report.xlsx when the run has at most this many "
                   "counties ('all': always). Above it, the summary and GEP-by-region sheets hold every "
                   "county and the cover says so (a national run's 2,800 sheets take half a minute).")
@console_options
def report(run_dir: Path, formats: str, lang: str, detail: str | None, detail_rows: str, county_sheets: str,
           console: Console) -> None:
    """Write RUN_DIR/report.xlsx and RUN_DIR/report.html from a run's tables and manifest.

    report.xlsx is the filing workbook: a summary sheet and one GEP account sheet per county
    (指标 by category, 功能量, 价值量 in 万元, 占比; totals as formulas), ready to print on A4
    (county sheets for runs of at most --county-sheets counties).
    With --detail full, RUN_DIR/report_detail.xlsx holds every table in full.

    RUN_DIR is the output folder of `gep run` or `gep demo` (it holds manifest.json and
    tables/*.csv). Reports only show what the run computed; run it again to change numbers.
    Prints each file written with its size, and the page to open.
    """

    wanted = [f.strip().lower() for f in formats.split(",") if f.strip()]
    bad = [f for f in wanted if f not in FORMATS]
    if bad or not wanted:
        raise click.BadParameter(f"choose from {', '.join(FORMATS)} (comma-separated); got "
                                 f"{formats!r}", param_hint="--format")
    if not run_dir.is_dir():
        raise InputError([Problem("FILE_NOT_FOUND", "The run directory does not exist.",
                                  file=str(run_dir), expected="the --out folder of gep run/demo")])
    rows = _all_or_count(detail_rows, "--detail-rows", "a positive number of rows", minimum=1) or 0
    county_limit = _all_or_count(county_sheets, "--county-sheets", "a number of counties", minimum=0)
    console.progress("writing reports", 0, 1)
    written = write_reports(run_dir, formats=wanted, lang=lang, detail_rows=rows, detail=detail or "capped",
                            county_sheets=county_limit)
    console.progress("writing reports", 1, 1)
    for path in written:
        console.headline(f"wrote {path} ({path.stat().st_size / 1024:,.0f} KB)")
    html = [p for p in written if p.suffix == ".html"]
    if html:
        console.headline(f"open {html[0]}")


COMMANDS = [report]
