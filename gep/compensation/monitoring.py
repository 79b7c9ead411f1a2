"""Water-quality monitoring data for settlement: read, validate, aggregate to periods.

Table (one row per sample): ``section_id``, ``date`` (YYYY-MM-DD or YYYY-MM; also
YYYY/M/D, YYYY-M-D, YYYY年M月D日, YYYY.MM.DD as Excel writes them in a Chinese locale, and
XLSX date cells; a time of day is ignored),
``indicator`` (e.g. CODMn, NH3-N, TP, TN), ``concentration_mg_l`` (mg/L) and,
for load-based methods, ``flow_m3s`` (m3/s). Metadata columns (data_status,
source, note, 备注) are ignored. Chinese header aliases are accepted.
Concentrations and flows are read as exact decimals (6 decimal places) so that
period means and loads enter the money arithmetic without binary rounding.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl

from gep.errors import InputError, ProblemCollector
from gep.readers import read_raw

CONC_DTYPE = pl.Decimal(38, 6)
FLUX_DTYPE = pl.Decimal(38, 12)

ALIASES: dict[str, tuple[str, ...]] = {
    "section_id": ("section_id", "section", "断面", "断面编号", "断面代码"),
    "date": ("date", "sample_date", "日期", "采样日期", "监测日期"),
    "indicator": ("indicator", "指标", "监测指标", "项目"),
    "concentration_mg_l": ("concentration_mg_l", "concentration", "浓度", "浓度(mg/L)", "浓度(mg/l)", "浓度（mg/L）", "value_mg_l"),
    "flow_m3s": ("flow_m3s", "flow_m3_s", "flow", "流量", "流量(m3/s)", "流量（m3/s）", "流量(m³/s)"),
}
REQUIRED = ("section_id", "date", "indicator", "concentration_mg_l")
INDICATOR_ALIASES: dict[str, str] = {
    "高锰酸盐指数": "CODMn", "codmn": "CODMn", "氨氮": "NH3-N", "nh3-n": "NH3-N", "nh3n": "NH3-N",
    "总磷": "TP", "tp": "TP", "总氮": "TN", "tn": "TN", "化学需氧量": "COD", "cod": "COD",
}


DATE_FORMATS = ("YYYY-MM-DD, YYYY/M/D, YYYY年M月D日 or YYYY.MM.DD, or an Excel date cell "
                "(YYYY-MM, YYYY/M or YYYY年M月 for monthly means)")
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_DATE_PATTERNS = (
    rf"^(\d{{4}})-(\d{{1,2}})(?:-(\d{{1,2}}))?{_TIME}$",  # ISO, YYYY-M-D, spreadsheet cells with a time
    rf"^(\d{{4}})/(\d{{1,2}})(?:/(\d{{1,2}}))?{_TIME}$",  # Excel zh-CN short date 2024/4/15
    rf"^(\d{{4}})\.(\d{{1,2}})\.(\d{{1,2}})(){_TIME}$",  # 2024.04.15 (a full date only: 2024.04 is a number)
    rf"^(\d{{4}})\s*年\s*(\d{{1,2}})\s*月(?:\s*(\d{{1,2}})\s*日)?{_TIME}$",  # Excel zh-CN long date 2024年4月15日
)


def iso_date(text: pl.Expr) -> pl.Expr:
    """Date text in any accepted spelling → 'YYYY-MM-DD' (or 'YYYY-MM' for a month); null when not a date form.

    Only the form is checked here; whether the day exists (2024-02-30) is left to ``str.to_date``.
    """
    forms = []
    for pat in _DATE_PATTERNS:
        g = text.str.extract_groups(pat)
        y, m, d = g.struct.field("1"), g.struct.field("2"), g.struct.field("3")
        forms.append(
            pl.when(y.is_not_null())
            .then(pl.when(d.is_not_null() & (d != ""))
                  .then(pl.concat_str(y, m.str.zfill(2), d.str.zfill(2), separator="-"))
                  .otherwise(pl.concat_str(y, m.str.zfill(2), separator="-")))
        )
    return pl.coalesce(forms)


def read_monitoring(path: str | Path, sheet: str | None = None, display_name: str | None = None) -> pl.DataFrame:
    """Read a monitoring file (CSV UTF-8/GBK, XLSX or Parquet, via gep.loaders.read_raw) and validate it."""
    raw = read_raw(path, sheet=sheet, display_name=display_name)
    return validate_monitoring(raw.df, raw.file, rows=raw.rows)


def validate_monitoring(raw: pl.DataFrame, file: str = "<monitoring>", rows: pl.Series | None = None) -> pl.DataFrame:
    """Validate a text table of samples; return section_id, date, month, indicator, concentration_mg_l, flow_m3s, row.

    Problems (all collected): MISSING_COLUMN, MISSING_VALUE, WRONG_TYPE (bad date or number),
    NEGATIVE_VALUE, DUPLICATE_KEY (same section, date and indicator twice). ``row`` is the
    spreadsheet row (header = 1); ``rows`` gives it per data row when the reader skipped blank lines.
    """
    pc = ProblemCollector()
    lower = {c.strip().lower(): c for c in raw.columns}
    rename: dict[str, str] = {}
    for canon, names in ALIASES.items():
        for n in names:
            if n.lower() in lower:
                rename[lower[n.lower()]] = canon
                break
    for canon in REQUIRED:
        if canon not in rename.values():
            pc.add("MISSING_COLUMN", f"the monitoring table has no '{canon}' column", file=file, row=1, column=canon,
                   expected="columns " + ", ".join(REQUIRED) + " (flow_m3s for load-based agreements)")
    pc.raise_if_any()
    df = raw.rename(rename).select([c for c in ALIASES if c in rename.values()])
    df = df.with_columns(pl.all().cast(pl.Utf8).str.strip_chars())
    if "flow_m3s" not in df.columns:
        df = df.with_columns(pl.lit(None, dtype=pl.Utf8).alias("flow_m3s"))
    if rows is not None and rows.len() == df.height:
        df = df.with_columns(rows.cast(pl.Int64).alias("row"))
    else:
        df = df.with_row_index("row", offset=2).with_columns(pl.col("row").cast(pl.Int64))
    df = df.with_columns(
        pl.col("indicator")
        .str.to_lowercase()
        .replace_strict(INDICATOR_ALIASES | {k.lower(): v for k, v in INDICATOR_ALIASES.items()},
                        default=pl.col("indicator"), return_dtype=pl.Utf8)
        .alias("indicator"),
        iso_date(pl.col("date")).alias("_iso"),
    )
    parsed = df.with_columns(
        pl.when(pl.col("_iso").str.len_chars() == 7)
        .then(pl.col("_iso").str.to_date("%Y-%m", strict=False))
        .otherwise(pl.col("_iso").str.to_date("%Y-%m-%d", strict=False))
        .alias("_m"),
        pl.col("concentration_mg_l").cast(CONC_DTYPE, strict=False).alias("_c"),
        pl.col("flow_m3s").cast(CONC_DTYPE, strict=False).alias("_q"),
    )
    checks: list[tuple[pl.Expr, str, str, str, str]] = []
    for col in REQUIRED:
        checks.append((pl.col(col).is_null() | (pl.col(col) == ""), "MISSING_VALUE", col, f"'{col}' is empty", "a value"))
    checks += [
        (pl.col("date").is_not_null() & (pl.col("date") != "") & pl.col("_m").is_null(), "WRONG_TYPE", "date",
         "the date is not a calendar date", DATE_FORMATS),
        (pl.col("concentration_mg_l").is_not_null() & (pl.col("concentration_mg_l") != "") & pl.col("_c").is_null(),
         "WRONG_TYPE", "concentration_mg_l", "the concentration is not a number", "a number in mg/L"),
        (pl.col("_c") < 0, "NEGATIVE_VALUE", "concentration_mg_l", "the concentration is negative", "a number ≥ 0 in mg/L"),
        (pl.col("flow_m3s").is_not_null() & (pl.col("flow_m3s") != "") & pl.col("_q").is_null(),
         "WRONG_TYPE", "flow_m3s", "the flow is not a number", "a number in m3/s (or empty)"),
        (pl.col("_q") < 0, "NEGATIVE_VALUE", "flow_m3s", "the flow is negative", "a number ≥ 0 in m3/s"),
    ]
    for expr, code, col, msg, expected in checks:
        bad = parsed.filter(expr.fill_null(False)).select("row", col)
        for r, val in bad.iter_rows():
            pc.add(code, msg, file=file, row=r, column=col, value=val if val not in (None, "") else None, expected=expected)
    parsed = parsed.with_columns(pl.coalesce(pl.col("_iso"), pl.col("date")).alias("date"))  # ISO from here on
    dup = parsed.filter(pl.len().over("section_id", "date", "indicator") > 1).select("row", "section_id", "date", "indicator")
    for r, s, d, i in dup.iter_rows():
        pc.add("DUPLICATE_KEY", "the same section, date and indicator appear more than once", file=file, row=r,
               column="date", value=f"{s} {d} {i}", expected="one sample per section, date and indicator")
    pc.raise_if_any()
    return parsed.select(
        "section_id",
        "date",
        pl.col("_m").dt.strftime("%Y-%m").alias("month"),
        "indicator",
        pl.col("_c").alias("concentration_mg_l"),
        pl.col("_q").alias("flow_m3s"),
        "row",
    ).with_columns(pl.lit(file).alias("file"))


def aggregate_monitoring(mon: pl.DataFrame, period_key: pl.Expr) -> pl.DataFrame:
    """Exact sums per (section_id, indicator, period): samples, Σ concentration, Σ C·Q, Σ Q, months covered.

    ``period_key`` maps the ``month`` column to a period key (gep.compensation.periods.period_expr).
    Means are formed later in Decimal: mean C = Σ C / n; flux uses only samples that have a flow.
    """
    return (
        mon.with_columns(period_key.alias("period"))
        .with_columns(
            (pl.col("concentration_mg_l").cast(FLUX_DTYPE) * pl.col("flow_m3s").cast(FLUX_DTYPE)).alias("_cq"),
        )
        .group_by("section_id", "indicator", "period")
        .agg(
            pl.len().alias("n_samples"),
            pl.col("concentration_mg_l").sum().alias("conc_sum"),
            pl.col("_cq").drop_nulls().sum().alias("flux_sum"),
            pl.col("flow_m3s").drop_nulls().sum().alias("flow_sum"),
            pl.col("flow_m3s").drop_nulls().len().alias("n_flow"),
            pl.col("month").unique().sort().alias("months"),
            pl.col("month").filter(pl.col("flow_m3s").is_not_null()).unique().sort().alias("flow_months"),
        )
        .sort("section_id", "indicator", "period")
    )


def sample_rows(mon: pl.DataFrame) -> dict[tuple[str, str, str], list[tuple[str, Decimal]]]:
    """(section, indicator, month) -> samples; small helper for share_of_months compliance."""
    grouped = mon.group_by("section_id", "indicator", "month", maintain_order=True).agg(
        pl.col("date"), pl.col("concentration_mg_l"))
    return {(s, i, m): list(zip(d, c, strict=True)) for s, i, m, d, c in grouped.iter_rows()}


def missing_data_error(items: list[tuple[str, str, str, str]], file: str) -> InputError:
    """Build the MISSING_MONITORING error: items are (agreement, section, indicator or 'flow', months)."""
    pc = ProblemCollector()
    for agreement_id, section, indicator, months in items:
        pc.add(
            "MISSING_MONITORING",
            f"agreement '{agreement_id}' needs monitoring data for section '{section}', {indicator}, months {months}",
            file=file,
            column="flow_m3s" if indicator == "flow" else "concentration_mg_l",
            value=None,
            expected="at least one sample in every month of the settlement period, or missing_data = "
            "\"mean_of_available\" / \"skip_period\" in the agreement",
        )
    return InputError(pc.problems)
