"""`gep init DIR`: a ready-to-fill project — input templates (CSV and XLSX), a README per file and a run.toml.

Each template holds a few example rows of the chosen counties taken from the embedded
demo (synthetic, labelled so in every row and in the run.toml), under Chinese headers
with their units (面积(公顷), GDP(万元)), so `gep run DIR/run.toml` works as written and
every template passes `gep validate`. Replace the rows with your county's figures and
set ``synthetic = false`` in run.toml.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import click
import polars as pl
import xlsxwriter
from gep.cli.output import Console, console_options

from gep.config import SYNTHETIC_LABEL
from gep.context import demo_data_dir
from gep.errors import InputError, Problem, os_error_reason

DEFAULT_REGIONS = ("513221",)
"""汶川县: a county with rows in every demo table."""


@dataclass(frozen=True)
class Template:
    """One input kind's template: where its example rows come from and how its columns are headed."""

    kind: str
    """Input kind (`gep validate --list-kinds`)."""
    file: str
    """File name without extension (inputs/NAME.csv and inputs/NAME.xlsx)."""
    demo: str
    """Demo file the example rows come from (relative to gep/demo_data)."""
    headers: dict[str, str]
    """Demo column → Chinese header with its unit; columns not listed are dropped."""
    title: str
    source: str
    """Where a county's numbers come from (the README of the file)."""
    by_region: bool = True
    limit: int | None = None


TEMPLATES: tuple[Template, ...] = (
    Template("landcover", "landcover", "sichuan_landcover_synthetic.csv",
             {"region_id": "地区代码", "year": "年份", "class": "地类", "area_ha": "面积(公顷)",
              "data_status": "data_status"},
             "土地利用现状 / land cover: area of each class per county and year",
             "第三次全国国土调查（三调）及年度国土变更调查的地类面积汇总（自然资源局），或土地覆盖图（CLCD、"
             "GlobeLand30）按县统计（`gep extent`）。地类名称用三调一级/二级类（crosswalk tnls）。\n"
             "Third National Land Survey (三调) and the annual land-change survey (natural resources bureau), or a "
             "land-cover map summed by county (`gep extent`). Class names as in 三调 (crosswalk `tnls`)."),
    Template("transitions", "transitions", "sichuan_transitions_synthetic.csv",
             {"region_id": "地区代码", "year_from": "起始年", "year_to": "终止年", "class_from": "原地类",
              "class_to": "现地类", "area_ha": "面积(公顷)", "data_status": "data_status"},
             "地类转移 / land-cover transitions between two survey years (carbon, extent account)",
             "年度国土变更调查的地类转移矩阵，或两期土地覆盖图叠加。每个起始地类的转出面积之和必须等于起始年面积。\n"
             "Transition matrix of the annual land-change survey, or two land-cover maps overlaid. Areas leaving a "
             "class must add up to that class's area in the first year (gep checks it against landcover)."),
    Template("quantities", "quantities", "account/sichuan_account_quantities_synthetic.csv",
             {"region_id": "地区代码", "year": "年份", "service": "核算指标", "component": "分项",
              "quantity": "功能量", "unit": "单位", "data_status": "data_status"},
             "功能量 / physical quantities of services (water supply, hydropower …)",
             "统计年鉴（水资源公报的供水量、水电发电量）、部门统计（水利局、能源局）。单位写在“单位”列（万m3、万kWh、t）。\n"
             "Statistical yearbook, water resources bulletin (water supplied), energy statistics (hydropower). "
             "Units in the unit column (万m3, 万kWh, t)."),
    Template("statistics", "statistics", "account/sichuan_account_statistics_synthetic.csv",
             {"region_id": "地区代码", "year": "年份", "service": "核算指标", "component": "分项",
              "value": "价值量", "unit": "单位", "data_status": "data_status"},
             "价值量 / values given directly (agricultural, forestry, fishery output, tourism …)",
             "统计年鉴（农林牧渔业总产值分项、旅游总收入）。金额单位写在“单位”列（元、万元、亿元）。\n"
             "Statistical yearbook (output value of farming, forestry, animal husbandry and fishery; tourism "
             "revenue). Money unit in the unit column (元, 万元, 亿元)."),
    Template("emissions", "emissions", "account/sichuan_emissions_synthetic.csv",
             {"region_id": "地区代码", "year": "年份", "污染物": "污染物", "排放量": "排放量", "单位": "单位",
              "data_status": "data_status"},
             "污染物排放量 / pollutant emissions capping air and water purification",
             "环境统计（生态环境局）：二氧化硫、氮氧化物、颗粒物、化学需氧量、氨氮、总磷的排放量。没有这张表时，"
             "大气和水质净化不计算。\n"
             "Environmental statistics (环境统计, ecology and environment bureau): SO2, NOx, dust, COD, NH3-N, TP. "
             "Without this table air and water purification are not computed."),
    Template("socio", "population_gdp", "account/sichuan_population_gdp_synthetic.csv",
             {"region_id": "地区代码", "year": "年份", "population": "常住人口", "GDP(万元)": "GDP(万元)",
              "data_status": "data_status"},
             "人口与GDP / population and GDP (per-capita GEP, GEP/GDP)",
             "统计年鉴或国民经济和社会发展统计公报：年末常住人口（人）、地区生产总值（万元）。\n"
             "Statistical yearbook or statistical communiqué: resident population (people), GDP (万元)."),
    Template("price-index", "price_index", "account/price_index_synthetic.csv",
             {"year": "年份", "index": "价格指数", "data_status": "data_status"}, 
             "价格指数 / price index by year (constant prices, 不变价)",
             "统计年鉴的居民消费价格指数（CPI）或GDP平减指数，换算为同一基期（例如2010=100）。\n"
             "Statistical yearbook: consumer price index or GDP deflator, chained to one base (e.g. 2010 = 100).",
             by_region=False),
    Template("monitoring", "monitoring", "compensation/sichuan_monitoring_synthetic.csv",
             {"section_id": "断面", "date": "日期", "indicator": "指标", "concentration_mg_l": "浓度(mg/L)",
              "flow_m3s": "流量(m3/s)", "data_status": "data_status"},
             "水质监测 / water-quality monitoring at river sections (ecological compensation)",
             "国控、省控断面自动监测站或手工监测（生态环境局监测站）：断面编号、采样日期、指标（CODMn、NH3-N、TP）、"
             "浓度(mg/L)，按负荷结算的协议还需流量(m3/s)。用于 `gep compensate --agreement 协议.toml`，"
             "不在 run.toml 中。\n"
             "National and provincial monitoring stations (automatic or manual sampling): section, date, indicator, "
             "concentration (mg/L), and flow (m3/s) for load-based agreements. Used with "
             "`gep compensate --agreement AGREEMENT.toml`; not part of run.toml.",
             by_region=False, limit=12),
)
"""The templates `gep init` writes, one per input kind of a county account (and monitoring)."""

SYNTHETIC_VALUE = "synthetic"


def example_rows(demo: pl.DataFrame, template: Template, regions: tuple[str, ...]) -> pl.DataFrame:
    """The template's example rows: demo rows of ``regions`` (all rows for tables without regions, or the
    first ``limit``), columns renamed to their Chinese headers, every row labelled ``data_status = synthetic``."""
    rows = demo.filter(pl.col("region_id").is_in(list(regions))) if template.by_region else demo
    if template.limit is not None:
        rows = rows.head(template.limit)
    rows = rows.with_columns(pl.lit(SYNTHETIC_VALUE).alias("data_status"))
    return rows.select([pl.col(src).alias(dst) for src, dst in template.headers.items()])


def unknown_regions(landcover: pl.DataFrame, regions: tuple[str, ...]) -> list[str]:
    """Codes of ``regions`` that have no rows in the demo land cover (the examples come from there)."""
    known = set(landcover["region_id"].unique().to_list())
    return [r for r in regions if r not in known]


def _write_xlsx(df: pl.DataFrame, path: Path, sheet: str) -> None:
    """One sheet with a bold header; fixed document dates so the same template is the same bytes."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    wb.set_properties({"title": sheet, "comments": SYNTHETIC_LABEL, "created": datetime(2026, 1, 1)})
    ws = wb.add_worksheet(sheet)
    bold = wb.add_format({"bold": True})
    for j, name in enumerate(df.columns):
        ws.write_string(0, j, name, bold)
        ws.set_column(j, j, max(10, 2 * len(name) + 2))
    for i, row in enumerate(df.iter_rows(), start=1):
        for j, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, (int, float)):
                ws.write_number(i, j, value)
            else:
                ws.write_string(i, j, str(value))
    wb.close()


def _readme(t: Template, n_rows: int, regions: tuple[str, ...]) -> str:
    where = "、".join(regions) if t.by_region else "the demo"
    return (
        f"# {t.file}.csv / {t.file}.xlsx — {t.title}\n\n"
        f"Kind: `{t.kind}` (`gep validate --list-kinds` lists its columns and aliases).\n\n"
        f"## 数据来源 / where the numbers come from\n\n{t.source}\n\n"
        f"## 示例行 / example rows\n\n"
        f"The {n_rows} rows in this file are **synthetic** examples taken from gep's Sichuan demo ({where}), "
        f"labelled `data_status = synthetic`: {SYNTHETIC_LABEL}. Replace them with your county's figures "
        "(keep the header row; the CSV and the XLSX are the same table, fill whichever you prefer and point "
        "run.toml at it), then check the file:\n\n"
        "```bash\n"
        f"gep validate inputs/{t.file}.csv --regions sichuan\n"
        "```\n"
    )


def run_toml(regions: tuple[str, ...]) -> str:
    """A run configuration over the templates that runs as written (paths relative to this file)."""
    return f"""# gep run configuration for your county: `gep run run.toml` (schema: docs/run_config.md).
# Input paths are relative to this file, so the folder can be moved or shared.
# The inputs hold SYNTHETIC example rows for {", ".join(regions)} taken from the gep demo:
# {SYNTHETIC_LABEL}
# Replace them with your own figures and set synthetic = false.

[run]
title = "County GEP account (example rows: synthetic)"
regions = "sichuan"
synthetic = true
price_base_year = 2020
out = "run"

[inputs]
landcover = ["inputs/landcover.csv"]
crosswalk = "tnls"

[account]
methods = ["function_value", "equivalent_factor"]
quantities = ["inputs/quantities.csv"]
statistics = ["inputs/statistics.csv"]
emissions = ["inputs/emissions.csv"]
socio = "inputs/population_gdp.csv"
price_index = "inputs/price_index.csv"

[carbon]
coefficients = "carbon_default"
method = "both"
transitions = "inputs/transitions.csv"
"""


def project_readme(regions: tuple[str, ...]) -> str:
    lines = [
        "# gep project",
        "",
        f"Input templates for {', '.join(regions)} with **synthetic** example rows from the gep demo "
        f"({SYNTHETIC_LABEL}).",
        "",
        "```bash",
        "gep validate inputs/*.csv --regions sichuan --crosswalk tnls   # check the tables",
        "gep run run.toml                                              # account + carbon into run/",
        "```",
        "",
        "| file | what | README |",
        "|---|---|---|",
    ]
    lines += [f"| inputs/{t.file}.csv, .xlsx | {t.title} | inputs/{t.file}.README.md |" for t in TEMPLATES]
    lines += ["", "Other input kinds (prices, per-area rates, grain, adjustments, carbon pools, imported products): "
              "`gep validate --list-kinds` and docs/input_tables.md.", ""]
    return "\n".join(lines)


def write_project(target: Path, regions: tuple[str, ...]) -> list[Path]:
    """Write the templates, their READMEs, README.md and run.toml into ``target``; the paths written."""
    demo_dir = demo_data_dir()
    landcover = pl.read_csv(demo_dir / TEMPLATES[0].demo, infer_schema_length=0)
    missing = unknown_regions(landcover, regions)
    if missing:
        raise InputError([Problem(
            "UNKNOWN_REGION", "the example rows come from the Sichuan demo, which has no county with this code",
            column="--region", value=", ".join(missing),
            expected="a Sichuan county code (gep regions list sichuan), e.g. 513221")])
    inputs = target / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for t in TEMPLATES:
        demo = landcover if t is TEMPLATES[0] else pl.read_csv(demo_dir / t.demo, infer_schema_length=0)
        rows = example_rows(demo, t, regions)
        csv_path = inputs / f"{t.file}.csv"
        rows.write_csv(csv_path)
        xlsx_path = inputs / f"{t.file}.xlsx"
        _write_xlsx(rows.with_columns(_numeric(rows)), xlsx_path, t.file)
        readme = inputs / f"{t.file}.README.md"
        readme.write_text(_readme(t, rows.height, regions), encoding="utf-8")
        written += [csv_path, xlsx_path, readme]
    (target / "run.toml").write_text(run_toml(regions), encoding="utf-8")
    (target / "README.md").write_text(project_readme(regions), encoding="utf-8")
    return [*written, target / "run.toml", target / "README.md"]


def _numeric(rows: pl.DataFrame) -> list[pl.Expr]:
    """Columns whose every value is a number become numbers in the workbook (codes and years stay text)."""
    keep_text = {"地区代码", "断面", "日期", "data_status"}
    out = []
    for name in rows.columns:
        if name in keep_text:
            continue
        as_num = rows[name].cast(pl.Float64, strict=False)
        if as_num.null_count() == rows[name].null_count() + (rows[name] == "").sum():
            out.append(pl.col(name).cast(pl.Float64, strict=False))
    return out


def write_project_atomically(directory: Path, regions: tuple[str, ...]) -> list[Path]:
    """:func:`write_project` into a temporary folder beside ``directory``, then moved in place: a failure (a path
    below a file, no permission, disk full) leaves nothing half-written and is a located BAD_OUTPUT, never a
    traceback."""
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.init-", dir=directory.parent))
    except OSError as exc:
        raise InputError([Problem("BAD_OUTPUT", f"the project folder cannot be created ({os_error_reason(directory, exc)})",
                                  file=str(directory), expected="a folder gep may create and write")]) from exc
    try:
        written = write_project(tmp, regions)
        if directory.exists():  # an empty (or unrelated) folder: move gep's files in, nothing of the user's is touched
            for name in ("inputs", "run.toml", "README.md"):
                os.replace(tmp / name, directory / name)
            tmp.rmdir()
        else:
            os.replace(tmp, directory)
    except OSError as exc:
        raise InputError([Problem("BAD_OUTPUT", f"the project cannot be written ({os_error_reason(directory, exc)})",
                                  file=str(directory), expected="a folder gep may create and write")]) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [directory / p.relative_to(tmp) for p in written]


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--region", "regions", multiple=True, metavar="CODE",
              help="County code(s) whose demo rows serve as examples (repeatable; default 513221 汶川县).")
@console_options
def init(directory: Path, regions: tuple[str, ...], console: Console) -> None:
    """Write a ready-to-fill project into DIRECTORY: input templates, a README per file and run.toml.

    \b
    DIRECTORY/inputs/KIND.csv and KIND.xlsx   one template per input kind, Chinese headers with
                                             units, a few SYNTHETIC example rows from the demo
    DIRECTORY/inputs/KIND.README.md           where the numbers come from (三调, 统计年鉴, 环境统计 …)
    DIRECTORY/run.toml                        runs as written: gep run DIRECTORY/run.toml
    An existing file of the same name is not overwritten (gep refuses and names it).
    """
    regions = tuple(dict.fromkeys(r.strip() for r in regions)) or DEFAULT_REGIONS
    clash = [str(directory / n) for n in ("run.toml", "README.md", "inputs") if (directory / n).exists()]
    if clash:
        raise InputError([Problem("BAD_OUTPUT", "gep init will not overwrite an existing project file",
                                  file=c, expected="a new or empty directory") for c in clash])
    written = write_project_atomically(directory, regions)
    console.headline(f"wrote a gep project for {', '.join(regions)} into {directory} ({len(written)} files); "
                 "example rows are SYNTHETIC")
    console.headline(f"next: fill {directory / 'inputs'}/*.csv, then gep run {directory / 'run.toml'}")


COMMANDS = [init]
