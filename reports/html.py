"""Self-contained offline HTML report (Jinja2, inline CSS/JS/SVG, no network requests).

Every user string is escaped by Jinja2 autoescaping (table rows, rendered in Python by
``Table.body``, with the same escapes); the manifest is embedded as JSON with <, >, & written
as \\u escapes so no string can close the script element.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from itertools import groupby
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape

from gep.units import conversion_factor

from .data import RunData, coefficients_table
from .labels import PROVINCES, label, with_province_names
from .svg import (
    NO_DATA,
    PALETTE,
    choropleth,
    classify,
    flow_diagram,
    fmt_num,
    hbar,
    intervals,
    tornado,
)
from .views import (
    WAN,
    ACCOUNT_COLUMNS,
    DECOMPOSITION_PARTS,
    DEDUCTION,
    TYPE_FROM,
    account_items,
    all_regions_total,
    category_columns,
    change_matrix,
    decomposition_totals,
    flows,
    growth_shown,
    growth_table,
    growth_totals,
    latest_year,
    level_totals,
    money_columns,
    net_year_matrix,
    per_km2_column,
    primary,
    row_sums,
    select_slice,
    sum_by,
    tornado_outputs,
    with_intervals,
)

HTML_MAX_ROWS = 3000  # GEP, account, compensation and coefficient tables
HTML_DETAIL_ROWS = 500  # extent, carbon and other detail tables (complete in report.xlsx / CSV)
YI = conversion_factor("CNY", "亿CNY")
TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Cell:
    text: str
    numeric: bool = False
    warn: bool = False
    title: str | None = None  # hover text (money in 万元 carries its value in 元 here)


@dataclass(frozen=True)
class Table:
    id: str
    headers: list[str]
    numeric: list[bool]
    rows: list[list[Cell]]
    note: str | None
    row_classes: list[str] | None = None  # "sub" / "total" rows of the account table
    sortable: bool = True

    def body(self) -> Markup:
        """The <tr> rows of the table body, one per line (the template's ``table`` macro)."""
        classes = self.row_classes or []
        out = []
        for i, row in enumerate(self.rows):
            cls = classes[i] if i < len(classes) else None
            cells = "".join(map(_td, row))
            out.append(f'<tr class="{_esc(cls)}">{cells}</tr>\n' if cls else f"<tr>{cells}</tr>\n")
        return Markup("".join(out))


_TD_CLASS = {(True, True): ' class="n"', (True, False): ' class="n"', (False, True): ' class="w"',
             (False, False): ""}


_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"})


def _esc(value: Any) -> str:
    """markupsafe.escape (jinja's autoescape) as plain text; plain str by a translate table."""
    if type(value) is str:
        return value.translate(_ESCAPES)
    return "" if value is None else str(escape(value))


def _td(c: Cell) -> str:
    title = f' title="{_esc(c.title)}"' if c.title else ""
    return f"<td{_TD_CLASS[(c.numeric, c.warn)]}{title}>{_esc(c.text)}</td>"


def safe_json(obj: Any) -> Markup:
    """JSON for an inline <script type="application/json">: <, >, & and U+2028/9 escaped."""
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, default=str)
    for a, b in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
                 ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(a, b)
    return Markup(text)


def _texts(values: list[Any], dtype: pl.DataType) -> list[str]:
    """Cell texts of one column: integers and text as they are, other numbers with thousands
    separators and two decimals (NaN/inf as —), missing values empty."""
    if dtype.is_integer() or not dtype.is_numeric():
        return ["" if v is None else str(v) for v in values]
    return ["" if v is None else fmt_num(float(v)) if math.isfinite(float(v)) else "—"
            for v in values]


def money_in_wan(df: pl.DataFrame, lang: str) -> tuple[pl.DataFrame, list[str], dict[str, str]]:
    """Columns in words, money (``*_cny``, not ``*_per_*``) in 万元; returns the table, the
    headers and, per money column, the name of its 元 column kept for the hover titles."""
    money = [c for c in df.columns if c.endswith("_cny") and "_per_" not in c
             and df.schema[c].is_numeric()]
    wan = label("wan_yuan", lang)
    heads = [f"{label(c[:-4], lang)} ({wan})" if c in money else label(c, lang)
             for c in df.columns]
    yuan = {c: f"__yuan_{c}" for c in money}
    out = df.with_columns(*(pl.col(c).alias(yuan[c]) for c in money),
                          *(pl.col(c) * WAN for c in money))
    return out, heads, yuan


def make_table(tid: str, df: pl.DataFrame, lang: str, name: str | None = None,
               headers: list[str] | None = None, max_rows: int = HTML_MAX_ROWS,
               names: dict[str, str] | None = None) -> Table:
    """A sortable HTML table of ``df`` (first ``max_rows`` rows, with a note when cut).

    Without ``headers`` (an engine table shown as written) the headers are labels in the
    report language and money columns are shown in 万元 with the value in 元 as hover title.
    ``names``: a region_name column after region_id (:func:`_with_names`, joined to the rows
    shown only).
    """
    total = df.height
    shown = df.head(max_rows)
    if names is not None:
        shown = _with_names(shown, names)
    yuan: dict[str, str] = {}
    if headers is None:
        shown, headers, yuan = money_in_wan(shown, lang)
    if "method" in shown.columns and shown.schema["method"] == pl.Utf8:  # method names in words
        shown = shown.with_columns(pl.col("method").replace_strict(
            {m: label(m, lang) for m in shown.get_column("method").drop_nulls().unique().to_list()},
            default=None, return_dtype=pl.Utf8))
    warn_col = (shown.get_column("verification").fill_null("") == "unverified").to_list() \
        if "verification" in shown.columns else [False] * shown.height
    cols = [c for c in shown.columns if c not in set(yuan.values())]
    dtypes = [shown.schema[c] for c in cols]
    yuan_label = label("yuan", lang)
    flag = label("unverified_flag", lang)
    columns = []  # the cells of each column, then the rows
    for c, t in zip(cols, dtypes, strict=True):
        texts = _texts(shown.get_column(c).to_list(), t)
        num = t.is_numeric()
        if c in yuan:  # the value in 元 as the hover title of each 万元 cell
            titles = [None if v is None or not math.isfinite(float(v)) else
                      f"{fmt_num(float(v))} {yuan_label}" for v in shown.get_column(yuan[c]).to_list()]
            columns.append([Cell(x, num, False, tt) for x, tt in zip(texts, titles, strict=True)])
        elif c == "verification":
            columns.append([Cell(flag, False, True) if w else Cell(x, num)
                            for x, w in zip(texts, warn_col, strict=True)])
        else:
            columns.append([Cell(x, num) for x in texts])
    rows = [list(r) for r in zip(*columns, strict=True)] if columns else [[] for _ in range(shown.height)]
    note = None
    if total > max_rows:
        note = label("truncated", lang, shown=max_rows, total=total, name=name or tid)
    return Table(tid, headers or cols, [t.is_numeric() for t in dtypes], rows, note)


def _names(run: RunData, lang: str) -> dict[str, str]:
    if run.region_names is None:
        return {}
    col = "name_en" if lang == "en" else "name_zh"
    if col not in run.region_names.columns:
        return {}
    return {k: v for k, v in run.region_names.select("region_id", col).rows() if v}


def _with_names(df: pl.DataFrame, names: dict[str, str]) -> pl.DataFrame:
    if "region_id" not in df.columns or not names:
        return df
    lookup = pl.DataFrame({"region_id": list(names), "region_name": list(names.values())},
                          schema={"region_id": pl.Utf8, "region_name": pl.Utf8})
    cols = list(df.columns)
    i = cols.index("region_id") + 1
    return df.join(lookup, on="region_id", how="left", maintain_order="left").select(
        [*cols[:i], "region_name", *cols[i:]])


def _feature_ids(fc: dict[str, Any]) -> set[str]:
    return {str((f.get("properties") or {}).get("region_id", ""))
            for f in fc.get("features", []) if isinstance(f, dict)}


def _best_boundaries(run: RunData, ids: set[str]) -> dict[str, Any] | None:
    """County boundaries, or prefecture boundaries when the run is rolled up to prefectures."""
    candidates = [fc for fc in (run.boundaries, run.prefecture_boundaries) if fc]
    if not candidates:
        return None
    return max(candidates, key=lambda fc: len(_feature_ids(fc) & ids))


def _map_values(run: RunData, gep: pl.DataFrame, lang: str) -> tuple[pl.DataFrame | None,
                                                                     str | None]:
    """GEP per km² [万元/km²] per region, year, method (columns region_id, year, method, v)."""
    method = pl.col("method") if "method" in gep.columns else pl.lit(None, pl.Utf8)
    year = pl.col("year") if "year" in gep.columns else pl.lit(None, pl.Int64)
    col = per_km2_column(gep)
    if col is not None:
        return gep.select("region_id", year.alias("year"), method.alias("method"),
                          (pl.col(col) * WAN).alias("v")), None
    if run.region_names is not None and "area_km2" in run.region_names.columns \
            and "total_cny" in gep.columns:
        return (gep.join(run.region_names.select("region_id", "area_km2"), on="region_id",
                         how="left")
                .select("region_id", year.alias("year"), method.alias("method"),
                        (pl.col("total_cny") * WAN / pl.col("area_km2")).alias("v")),
                label("display_ratio", lang))
    return None, None


def _map(run: RunData, lang: str, names: dict[str, str]) -> tuple[Any, str | None]:
    """The choropleth of the latest year and first method, plus every year × method layer.

    The SVG is drawn once (static fills = the default layer, so it prints and works without
    JavaScript); the other layers are class indices and value texts in a JSON block that
    a small inline script applies when the year or method selector changes.
    """
    gep = run.table("gep")
    if gep is None or "region_id" not in gep.columns:
        return None, label("no_map", lang)
    boundaries = _best_boundaries(run, set(gep.get_column("region_id").to_list()))
    if boundaries is None:
        return None, label("no_map", lang)
    per, note = _map_values(run, gep, lang)
    if per is None:
        return None, label("no_map", lang)
    year, method = latest_year(gep), primary(gep, "method")
    unit, no_data = label("wan_yuan_per_km2", lang), label("no_data", lang)

    def layer_values(y: Any, mth: Any) -> dict[str, float]:
        part = select_slice(per, y, mth)
        return {k: v for k, v in part.select("region_id", "v").rows() if v is not None}

    values = layer_values(year, method)
    titles = {rid: f"{names.get(rid, rid)} ({rid}): {fmt_num(v)} {unit}"
              for rid, v in values.items()}
    for f in boundaries.get("features", []):
        rid = str((f.get("properties") or {}).get("region_id", ""))
        titles.setdefault(rid, f"{names.get(rid, rid)} ({rid}): {no_data}")
    chart = choropleth(boundaries, values, titles, unit, no_data)
    ids = [s.region_id for s in chart.shapes]
    years = sorted({y for y in per.get_column("year").to_list() if y is not None})
    methods = per.get_column("method").unique(maintain_order=True).to_list()
    layers: dict[str, Any] = {}
    for y in years or [None]:
        for mth in methods:
            vals = layer_values(y, mth)
            arr = np.array([vals.get(r, np.nan) for r in ids], dtype=float)
            cls = classify(arr, unit, no_data)
            layers[f"{y}|{mth}"] = {
                "c": "".join("n" if i < 0 else str(i) for i in cls.index),
                "v": [None if not np.isfinite(x) else fmt_num(float(x)) for x in arr.tolist()],
                "legend": [[item.color, item.text] for item in cls.legend],
                "caption": _caption(y, mth, lang)}
    data = {"ids": ids, "names": [names.get(r, r) for r in ids], "unit": unit,
            "no_data": no_data, "palette": list(PALETTE), "nodata_color": NO_DATA,
            "layers": layers, "default": f"{year}|{method}"}
    selector = len(layers) > 1
    return {"chart": chart, "caption": _caption(year, method, lang),
            "years": [(str(y), str(y)) for y in years] if selector and len(years) > 1 else [],
            "methods": [(str(mth), label(str(mth), lang)) for mth in methods]
            if selector and len(methods) > 1 and methods != [None] else [],
            "year": str(year), "method": str(method),
            "json": safe_json(data) if selector else None}, note


def _caption(year: Any, method: Any, lang: str) -> str:
    parts = [str(year)] if year is not None else []
    if method is not None:
        parts.append(label(str(method), lang))
    return " · ".join(parts)


def percentile_columns(df: pl.DataFrame) -> tuple[str, str, str] | None:
    """The P5, P50, P95 columns of an uncertainty table (names containing p5/p50/p95)."""
    found: dict[str, str] = {}
    for c in df.columns:
        if not df.schema[c].is_numeric():
            continue
        for tag in ("p50", "p95", "p5"):
            if re.search(rf"(^|_){tag}(_|$)", c.lower()):
                found.setdefault(tag, c)
                break
    if {"p5", "p50", "p95"} <= set(found):
        return found["p5"], found["p50"], found["p95"]
    return None


def _unit_of(column: str, values: list[Any], lang: str) -> tuple[float, str]:
    """Display factor and unit for a tuning column: *_cny → 万元/亿元, *_c_t → t C."""
    if column.endswith("_cny"):
        return _money_unit(values, lang)
    if column.endswith("_co2e_t"):
        return 1.0, "t CO₂e"
    if column.endswith("_c_t"):
        return 1.0, "t C"
    return 1.0, ""


def _interval_chart(unc: pl.DataFrame, names: dict[str, str], lang: str) -> Any:
    """P5–P50–P95 of total GEP for the 20 regions with the largest P50 (latest year, first method)."""
    cols = percentile_columns(unc)
    if cols is None or "region_id" not in unc.columns:
        return None
    p5, p50, p95 = cols
    part = select_slice(unc, latest_year(unc), primary(unc, "method"))
    if "service" in part.columns and (part.get_column("service") == "total").any():
        part = part.filter(pl.col("service") == "total")  # Σ services, per the tuning step
    part = part.filter(pl.col("region_id") != "all")
    top = part.sort([p50, "region_id"], descending=[True, False]).head(20)
    rows = top.select("region_id", p5, p50, p95).rows()
    scale, unit = _unit_of(p50, [r[3] for r in rows], lang)
    chart = intervals([(names.get(r, r), a * scale, b * scale, c * scale)
                       for r, a, b, c in rows], unit)
    return {"chart": chart, "caption": _caption(latest_year(unc), primary(unc, "method"), lang)}


def _pool_intervals(unc: pl.DataFrame, lang: str) -> Any:
    """P5–P50–P95 per carbon pool for all regions (latest year, first method) [t C]."""
    cols = percentile_columns(unc)
    if cols is None or "pool" not in unc.columns:
        return None
    p5, p50, p95 = cols
    part = select_slice(unc, latest_year(unc), primary(unc, "method"))
    if "region_id" in part.columns:
        part = part.filter(pl.col("region_id") == "all")
    if part.height == 0:
        return None
    part = part.sort(["pool"])
    scale, unit = _unit_of(p50, part.get_column(p50).to_list(), lang)
    chart = intervals([(label(str(pool), lang), a * scale, b * scale, c * scale)
                       for pool, a, b, c in part.select("pool", p5, p50, p95).rows()], unit,
                      digits=0 if scale == 1.0 else 2)
    return {"chart": chart, "caption": _caption(latest_year(unc), primary(unc, "method"), lang)}


def _group_label(group: str, lang: str) -> str:
    """Label of a carbon flux group ("forest" → 森林 / forest); unknown groups unchanged."""
    text = label(f"flux_group_{group}", lang)
    return group if text == f"flux_group_{group}" else text


def flux_intervals(unc: pl.DataFrame, lang: str, unit: str = "c_t") -> Any:
    """P5–P50–P95 of the carbon sink per group for all regions (latest year, first method).

    ``unit`` "c_t": the gain–loss flux [t C/yr]; "cny": the sink's value [CNY, shown 万元/亿元].
    Rows from uncertainty_carbon_flux.csv with region_id "all"; groups by name, "all" last.
    """
    cols = tuple(f"{p}_{unit}" for p in ("p5", "p50", "p95"))
    if not {"region_id", "group", *cols} <= set(unc.columns):
        return None
    p5, p50, p95 = cols
    y = latest_year(unc)
    mth = primary(unc, "method")
    part = select_slice(unc, y, mth).filter(pl.col("region_id") == "all")
    if part.height == 0:
        return None
    part = part.sort([pl.col("group") == "all", "group"])
    if unit == "c_t":
        scale, shown = 1.0, "t C/yr"
    else:
        scale, shown = _unit_of(p50, part.get_column(p50).to_list(), lang)
    chart = intervals([(_group_label(str(g), lang), a * scale, b * scale, c * scale)
                       for g, a, b, c in part.select("group", p5, p50, p95).rows()], shown,
                      digits=0 if unit == "c_t" else 2)
    when: Any = y if "year_from" not in part.columns else \
        f"{part.get_column('year_from').min()!s}–{y!s}"
    return {"chart": chart, "caption": _caption(when, mth, lang)}


def _short_coefficient(name: str) -> str:
    """'set:table:key' → 'key [table]'; 'agreement:path' → 'path' (the set or agreement is
    the same for every bar of a tornado and is named in its title)."""
    parts = name.split(":")
    if len(parts) == 2 and parts[1]:
        return parts[1]
    return f"{parts[-1]} [{parts[-2]}]" if len(parts) >= 3 else name


def _output_title(output: str, lang: str) -> str:
    """'method/region/year/service' or 'compensation/agreement/period/party/measure' in words."""
    parts = output.split("/")
    if len(parts) == 5 and parts[0] == "compensation":
        _, agreement, period, party, measure = parts
        return " · ".join([label("compensation", lang), agreement,
                           label("all_regions", lang) if period == "all" else period,
                           party, measure])
    if len(parts) != 4:
        return output
    mth, region, year, service = parts
    return " · ".join([label(mth, lang), label("all_regions", lang) if region == "all"
                       else region, year, label(service, lang)])


def _tornado(sens: pl.DataFrame, lang: str = "zh-en", output: str | None = None
             ) -> tuple[Any, str]:
    """One-at-a-time sensitivity of one output (default: the first): output at each coefficient's low/high.

    Bars whose elasticity is empty (a step/kinked output, e.g. a compensation rule that
    flips inside the range) are marked † and the table's ``note`` is shown under the chart.
    """
    low = next((c for c in sens.columns if c.startswith("output_at_low")), None)
    high = next((c for c in sens.columns if c.startswith("output_at_high")), None)
    base = next((c for c in sens.columns if c.startswith("output_point")), None)
    pname = next((c for c in ("coefficient", "parameter", "coefficient_id") if c in sens.columns),
                 None)
    if not (low and high and pname) or not (sens.schema[low].is_numeric()
                                            and sens.schema[high].is_numeric()):
        return None, ""
    df = sens
    if "analysis" in df.columns:
        df = df.filter(pl.col("analysis") == "oat")
    title = ""
    if "output" in df.columns and df.height:
        title = output if output is not None else str(df.get_column("output").first())
        df = df.filter(pl.col("output") == title)
    df = df.filter(pl.col(low).is_not_null() & pl.col(high).is_not_null())
    if df.height == 0:
        return None, ""
    first = df.get_column(base).first() if base else None
    b = float(first) if isinstance(first, int | float) else 0.0
    step = pl.lit(False)
    note = pl.lit(None, pl.Utf8)
    if "elasticity" in df.columns and "note" in df.columns:
        note = pl.col("note").cast(pl.Utf8).str.strip_chars()
        step = pl.col("elasticity").is_null() & note.fill_null("").ne("")
    rows = df.select(pname, low, high, step.alias("_step"), note.alias("_note")).rows()
    items = sorted(((str(p), float(a), float(c), bool(st), n) for p, a, c, st, n in rows),
                   key=lambda t: (-abs(t[2] - t[1]), t[0]))[:15]
    scale, unit = _unit_of(low, [b, *(v for _, a, c, _s, _n in items for v in (a, c))], lang)
    chart = tornado([(_short_coefficient(p) + (" †" if st else ""), a * scale, c * scale)
                     for p, a, c, st, _n in items],
                    b * scale, titles=[p + (f" — {n}" if st else "") for p, _, _, st, n in items])
    notes = sorted({str(n) for _, _, _, st, n in items if st})
    step_note = f"{label('step_output_note', lang)}: {'; '.join(notes)}" if notes else ""
    return {"chart": chart, "unit": unit, "output": title, "step_note": step_note,
            "title": _output_title(title, lang)}, title


def _interval_cards(unc: pl.DataFrame, lang: str) -> list[tuple[str, str, str]]:
    """Cards with the P5–P95 interval of total GEP, all regions, latest year, per method [亿元]."""
    if not {"region_id", "service", "p5_cny", "p95_cny"} <= set(unc.columns):
        return []
    y = latest_year(unc)
    part = select_slice(unc, y, None).filter((pl.col("region_id") == "all")
                                             & (pl.col("service") == "total"))
    method = pl.col("method") if "method" in part.columns else pl.lit(None, pl.Utf8)
    cards = []
    for mth, lo, hi in part.select(method, "p5_cny", "p95_cny").rows():
        suffix = f" · {label(mth, lang)}" if mth else ""
        cards.append((f"{label('card_interval', lang)} {y}{suffix}",
                      f"{fmt_num(lo * YI)} – {fmt_num(hi * YI)}", label("yi_yuan", lang)))
    return cards


def _growth_context(run: RunData, names: dict[str, str], lang: str,
                    tables: dict[str, Table]) -> dict[str, Any] | None:
    """增长率: change between consecutive years (constant prices when gep_constant exists)."""
    found = growth_table(run)
    if found is None:
        return None
    full, constant = found
    if constant:
        pby = primary(full, "price_base_year") or run.manifest.get("price_base_year")
        basis = label("constant_prices", lang, year=pby)
    else:
        basis = label("current_prices", lang)
    g = growth_shown(full)
    province = label("province_total", lang)
    lookup = pl.DataFrame({"region_id": list(names), "region_name": list(names.values())},
                          schema={"region_id": pl.Utf8, "region_name": pl.Utf8})
    named = g.join(lookup, on="region_id", how="left", maintain_order="left").with_columns(
        pl.when(pl.col("level") == "province")
        .then(pl.coalesce(pl.col("region_name"), pl.lit(province)))
        .otherwise(pl.col("region_name")).alias("region_name"))
    shown = named.select(
        pl.col("level").replace_strict({"all": label("all_regions", lang), "province": province,
                                        "region": label("region", lang)}, return_dtype=pl.Utf8),
        "region_id", "region_name",
        pl.col("method").map_elements(lambda m: label(m, lang), return_dtype=pl.Utf8),
        "year_from", "year_to", *(pl.col(c) * WAN for c in ("value_from_cny", "value_to_cny",
                                                             "change_cny")),
        "change_pct", "annual_pct")
    wan = label("wan_yuan", lang)
    heads = [label(k, lang) for k in ("level", "region_id", "region_name", "method",
                                      "year_from", "year_to")]
    heads += [f"{label(k, lang)} ({wan})" for k in ("value_from", "value_to", "change")]
    heads += [f"{label('change_pct', lang)} (%)", f"{label('annual_pct', lang)} (%)"]
    tables["growth"] = make_table("t-growth", shown, lang, "gep_growth", heads)
    prov = growth_totals(full, g)
    several = prov.get_column("region_id").n_unique() > 1
    charts = []
    for mth in prov.get_column("method").unique(maintain_order=True).to_list():
        part = prov.filter(pl.col("method") == mth) if mth is not None else prov
        f, unit = _money_unit(part.get_column("change_cny").to_list(), lang)
        items = [(f"{y0}–{y1}" + (f" · {rid}" if several else "")
                  + (f" ({pct:+.2f} %)" if pct is not None else ""), v * f)
                 for rid, y0, y1, v, pct in part.select(
                     "region_id", "year_from", "year_to", "change_cny", "change_pct").rows()]
        title = label("growth_total", lang) + (f" · {label(str(mth), lang)}" if mth else "")
        charts.append({"title": title, "unit": unit, "chart": hbar(items, unit)})
    n_growth = len(charts)
    dec = run.table("change_decomposition")
    if dec is not None and {"year_from", "year_to"} <= set(dec.columns) and any(
            c in dec.columns for c in DECOMPOSITION_PARTS):
        tot = decomposition_totals(dec)
        parts = [c for c in ("total_change_cny", *DECOMPOSITION_PARTS) if c in tot.columns]
        methods = tot.get_column("method").unique(maintain_order=True).to_list() \
            if "method" in tot.columns else [None]
        for mth in methods:
            part = tot if mth is None else tot.filter(pl.col("method") == mth)
            f, unit = _money_unit([v for c in parts for v in part.get_column(c).to_list()],
                                  lang)
            items = [(f"{row['year_from']}–{row['year_to']} · {label(c[:-4], lang)}",
                      (row[c] or 0.0) * f) for row in part.iter_rows(named=True) for c in parts]
            chart = hbar(items, unit, width=1000, label_w=420)
            title = label("decomposition_chart", lang) + (f" · {label(mth, lang)}" if mth else "")
            charts.append({"title": title, "unit": unit, "chart": chart})
    return {"basis": basis, "charts": charts, "n_growth": n_growth}


def _allocation_charts(run: RunData, names: dict[str, str], lang: str) -> list[dict[str, Any]]:
    """Σ allocation_cny by region (latest year, top 20) of each transfer_* allocation table."""
    charts = []
    for name in sorted(n for n in run.tables if n.startswith("transfer_")):
        df = run.table(name)
        if df is None or not {"region_id", "allocation_cny"} <= set(df.columns) \
                or not df.schema["allocation_cny"].is_numeric():
            continue
        y = latest_year(df)
        part = select_slice(df, y, None)
        rows = sum_by(part, "region_id", "allocation_cny").head(20).rows()
        if not rows:
            continue
        f, unit = _money_unit([v for _, v in rows], lang)
        when = f" {y}" if y is not None else ""
        charts.append({"title": f"{label(name, lang)}{when}", "unit": unit,
                       "chart": hbar([(names.get(r, r), v * f) for r, v in rows], unit)})
    return charts


def _period(df: pl.DataFrame) -> str:
    """'year_from–year_to' of a flux table slice (or the last year_to)."""
    to = str(df.get_column("year_to").max())
    return f"{df.get_column('year_from').min()!s}–{to}" if "year_from" in df.columns else to


def _money_unit(values_cny: list[Any], lang: str) -> tuple[float, str]:
    """万元 for county-sized numbers, 亿元 once the largest reaches 10⁴ 万元 (1 亿元)."""
    peak = max([abs(float(v)) for v in values_cny if v is not None] or [0.0])
    return (YI, label("yi_yuan", lang)) if peak >= 1e8 else (WAN, label("wan_yuan", lang))


def _carbon_cards(summary: pl.DataFrame | None, flux: pl.DataFrame,
                  lang: str) -> list[tuple[str, str, str]]:
    """Net CO₂e per method for its latest period (engine summary, group 'all', if written)."""
    src = flux
    if summary is not None and {"method", "co2e_t", "year_to"} <= set(summary.columns):
        src = summary.filter(pl.col("group") == "all") if "group" in summary.columns \
            else summary
    if not {"method", "year_to"} <= set(src.columns):
        return [(label("card_carbon", lang), fmt_num(float(src.get_column("co2e_t").sum()), 0),
                 label("t_co2e", lang))]
    cards = []
    for mth in src.get_column("method").unique(maintain_order=True).to_list():
        part = src.filter(pl.col("method") == mth)
        part = part.filter(pl.col("year_to") == part.get_column("year_to").max())
        period = _period(part)
        cards.append((f"{label('card_carbon', lang)} {period} · {label(str(mth), lang)}",
                      fmt_num(float(part.get_column("co2e_t").sum() or 0), 0),
                      label("t_co2e", lang)))
    return cards


def _lbl(lang: str) -> Any:
    return lambda key, **kw: label(str(key), lang, **kw)


def build_context(run: RunData, lang: str) -> dict[str, Any]:
    """Everything the template shows, computed from the run's tables."""
    m = run.manifest
    names = _names(run, lang)
    ids = sorted({str(v) for df in run.tables.values() for c in ("region_id", "payer", "payee",
                                                                 "party") if c in df.columns
                  for v in df.get_column(c).drop_nulls().unique().to_list()})
    ids += [f"{k}0000" for k in PROVINCES]  # province totals of the growth view
    names = with_province_names(names, ids, lang)
    names.setdefault("all", label("all_regions", lang))  # the tuning tables' all-region rows
    coeffs = coefficients_table(run)
    wan, yi = label("wan_yuan", lang), label("yi_yuan", lang)
    charts: list[dict[str, Any]] = []
    tables: dict[str, Table] = {}
    cards: list[tuple[str, str, str]] = []
    gep, services = run.table("gep"), run.table("services")
    year = method = None
    if gep is not None and "region_id" not in gep.columns:
        gep = None  # not the engine's gep table: shown under other tables
        others_extra = ["gep"]
    else:
        others_extra = []
    run_totals = level_totals(run)  # the engine's all-region totals (gep_totals)
    if gep is not None:
        year, method = latest_year(gep), primary(gep, "method")
        part = select_slice(gep, year, method)
        totals = run_totals
        if "total_cny" in gep.columns and totals is not None:
            methods = (gep.get_column("method").unique(maintain_order=True).to_list()
                       if "method" in gep.columns else [None])
            for mth in methods:
                total = all_regions_total(totals, year, mth).get("total_cny")
                suffix = f" · {label(mth, lang)}" if mth else ""
                when = f" {year}" if year is not None else ""
                cards.append((label("card_gep", lang) + f"{when}{suffix}",
                              fmt_num(float(total or 0) * YI), yi))
        cards.append((label("card_regions", lang), str(gep.get_column("region_id").n_unique()),
                      ""))
        cats = category_columns(gep)
        whole = all_regions_total(totals, year, method)
        if cats and whole:
            items = [(label(c[:-4], lang), float(whole.get(c) or 0) * YI) for c in cats]
            ded = f"{DEDUCTION}_cny"
            if whole.get(ded):  # subtracted: a negative bar
                items.append((label(DEDUCTION, lang), -float(whole[ded]) * YI))
            charts.append({"title": label("by_category", lang), "unit": yi,
                           "chart": hbar(items, yi)})
        if totals is not None and gep.get_column("year").n_unique() > 1:
            by_year = select_slice(totals.filter(pl.col("level") == "all"), None, method).select(
                "year", "total_cny").sort("year")
            charts.append({"title": f"{label('by_year', lang)} · {label('current_prices', lang)}",
                           "unit": yi,
                           "chart": hbar([(str(y), v * YI) for y, v in by_year.rows()], yi)})
        if "total_cny" in part.columns:
            top = part.sort(["total_cny", "region_id"], descending=[True, False]).head(15)
            rows = top.select("region_id", "total_cny").rows()
            f, unit = _money_unit([v for _, v in rows], lang)
            charts.append({"title": label("top_regions", lang), "unit": unit,
                           "chart": hbar([(names.get(r, r), v * f) for r, v in rows], unit)})
        gep_shown = with_intervals(gep, run.table("uncertainty"))
        money = money_columns(gep_shown)
        shown = _with_names(gep_shown.with_columns([pl.col(c) * WAN for c in money]), names)
        heads = [f"{label(c[:-4], lang)} ({wan})" if c in money else
                 label(c, lang) for c in shown.columns]
        tables["gep"] = make_table("t-gep", shown, lang, "gep", heads)
    if services is not None and {"service", "value_cny"} <= set(services.columns):
        y = year if year is not None else latest_year(services)
        sv = select_slice(services, y, method)
        rows = sum_by(sv, "service").head(20).rows()
        f, unit = _money_unit([v for _, v in rows], lang)
        charts.append({"title": label("by_service", lang), "unit": unit, "chart": hbar(
            [(label(s, lang), v * f) for s, v in rows], unit)})
        if "ecosystem_type" in sv.columns:
            rows = sum_by(sv, "ecosystem_type").rows()
            f, unit = _money_unit([v for _, v in rows], lang)
            charts.append({"title": label("by_ecosystem", lang), "unit": unit, "chart": hbar(
                [(label(str(s), lang), v * f) for s, v in rows], unit)})
    account_scope = None
    if services is not None and ACCOUNT_COLUMNS <= set(services.columns):
        y = year if year is not None else latest_year(services)
        sv = select_slice(services, y, method)
        tables["account"] = account_table(sv, coeffs, run_totals, y, method, lang)
        ids = sv.get_column("region_id").unique().to_list()
        region = names.get(ids[0], ids[0]) if len(ids) == 1 else \
            f"{label('all_regions', lang)} ({len(ids)})"
        # one sentence in the report language (bilingual names inside the Chinese sentence)
        account_scope = label("account_scope", "en" if lang == "en" else "zh", region=region,
                              year=y, method=label(str(method), lang) if method else "",
                              unit=wan)
    stock, flux = run.table("carbon_stock"), run.table("carbon_flux")
    carbon_charts = []
    if stock is not None and {"pool", "c_t"} <= set(stock.columns):
        sy = latest_year(stock)
        carbon_charts.append({"title": f"{label('stock_by_pool', lang)} {sy} (t C)",
                              "unit": "t C", "chart": hbar(
                                  [(label(p, lang), v) for p, v in
                                   sum_by(select_slice(stock, sy, None), "pool", "c_t").rows()],
                                  "t C")})
        tables["carbon_stock"] = make_table("t-stock", stock, lang,
                                            "carbon_stock", max_rows=HTML_DETAIL_ROWS, names=names)
    if flux is not None and "co2e_t" in flux.columns:
        # one period and one method at a time: methods are alternatives, periods differ
        last = flux.filter(pl.col("year_to") == pl.col("year_to").max()) \
            if "year_to" in flux.columns else flux
        fm = primary(last, "method")
        one = select_slice(last, None, fm)
        period = _period(one) if "year_to" in one.columns else ""
        if {"class_from", "class_to"} <= set(one.columns):
            tr = one.with_columns((pl.col("class_from") + " → " + pl.col("class_to"))
                                  .alias("transition"))
            items = sum_by(tr, "transition", "co2e_t").head(15).rows()
            carbon_charts.append({"title": f"{label('flux_by_transition', lang)} {period}"
                                           f"{' · ' + label(str(fm), lang) if fm else ''} (t CO₂e)",
                                  "unit": "t CO₂e", "chart": hbar(items, "t CO₂e")})
        cards.extend(_carbon_cards(run.table("carbon_flux_summary"), flux, lang))
        tables["carbon_flux"] = make_table("t-flux", flux, lang,
                                           "carbon_flux", max_rows=HTML_DETAIL_ROWS, names=names)
    ledger, net = run.table("compensation_ledger"), run.table("compensation_net")
    flow = None
    if ledger is not None and {"payer", "payee", "amount_cny"} <= set(ledger.columns):
        flow_rows = flows(ledger)
        names = dict(names)
        for code_col, name_col in (("payer", "payer_name"), ("payee", "payee_name")):
            if name_col in ledger.columns:  # funds, ministries: the names the agreements give
                for code, nm in ledger.select(code_col, name_col).unique().rows():
                    if nm and code not in names:
                        names[code] = nm
        flow = flow_diagram([(a, b, float(v)) for a, b, v in flow_rows.rows()], names,
                            label("yuan", lang), label_scale=WAN, label_unit=wan)
        span = ""
        if "period" in ledger.columns and ledger.get_column("period").drop_nulls().len():
            periods = ledger.get_column("period").drop_nulls().cast(pl.Utf8)
            p_first, p_last = str(periods.min()), str(periods.max())
            span = f" {p_first}–{p_last}" if p_first != p_last else f" {p_first}"
        moved, pooled = money_changing_hands(ledger, run.table("compensation_net_by_year"))
        cards.append((label("card_compensation", lang) + span, fmt_num(float(moved) * WAN), wan))
        if pooled:
            cards.append((label("card_compensation_pool", lang) + span, fmt_num(float(pooled) * WAN), wan))
        tables["compensation_ledger"] = make_table("t-ledger", ledger, lang,
                                                   "compensation_ledger")
    if net is not None:
        tables["compensation_net"] = make_table("t-net", net, lang, "compensation_net")
    by_year_t = run.table("compensation_net_by_year")
    if by_year_t is not None:
        wide_years = net_year_matrix(by_year_t)
        if wide_years.height:
            tables["compensation_net_years"] = make_table("t-net-years", wide_years, lang,
                                                          "compensation_net_years")
    sheet_table = run.table("compensation_settlement_sheet")
    settlement_sheets = []
    if sheet_table is not None and {"agreement_id", "year", "text"} <= set(sheet_table.columns):
        for (aid, yr), part in sheet_table.group_by(["agreement_id", "year"], maintain_order=True):
            settlement_sheets.append({"id": f"{aid} {yr}",
                                      "text": "\n".join(str(t or "") for t in part.get_column("text"))})
    tornados: list[dict[str, Any]] = []
    interval_charts: list[dict[str, Any]] = []
    for name in ("sensitivity", "sensitivity_carbon"):
        sens = run.table(name)
        if sens is None:
            continue
        tables[name] = make_table(f"t-{name}", sens, lang, name)
        outputs: list[str | None] = [*tornado_outputs(sens)] or [None]
        for output in outputs:
            torn, _ = _tornado(sens, lang, output)
            if torn is not None and torn["chart"].bars:
                torn["id"] = "tornado" if not tornados else f"tornado-{len(tornados) + 1}"
                tornados.append(torn)
    unc = run.table("uncertainty")
    if unc is not None:
        tables["uncertainty"] = make_table("t-unc", unc, lang, "uncertainty",
                                           max_rows=HTML_DETAIL_ROWS, names=names)
        ic = _interval_chart(unc, names, lang)
        if ic is not None and ic["chart"].items:
            ic.update(id="intervals", title=label("interval_regions", lang))
            interval_charts.append(ic)
        cards.extend(_interval_cards(unc, lang))
    unc_c = run.table("uncertainty_carbon")
    if unc_c is not None:
        tables["uncertainty_carbon"] = make_table("t-unc-carbon", unc_c,
                                                  lang, "uncertainty_carbon",
                                                  max_rows=HTML_DETAIL_ROWS, names=names)
        ic = _pool_intervals(unc_c, lang)
        if ic is not None and ic["chart"].items:
            ic.update(id="intervals-carbon", title=label("interval_pools", lang))
            interval_charts.append(ic)
    unc_f = run.table("uncertainty_carbon_flux")
    if unc_f is not None:
        tables["uncertainty_carbon_flux"] = make_table(
            "t-unc-carbon-flux", unc_f, lang, "uncertainty_carbon_flux",
            max_rows=HTML_DETAIL_ROWS, names=names)
        for tag, key, iid in (("c_t", "interval_carbon_flux", "intervals-carbon-flux"),
                              ("cny", "interval_carbon_flux_value",
                               "intervals-carbon-flux-value")):
            ic = flux_intervals(unc_f, lang, tag)
            if ic is not None and ic["chart"].items:
                ic.update(id=iid, title=label(key, lang))
                interval_charts.append(ic)
    n_unverified = 0
    if coeffs is not None:
        if "verification" in coeffs.columns:
            n_unverified = coeffs.filter(pl.col("verification") == "unverified").height
        tables["coefficients"] = make_table("t-coef", coeffs, lang, "coefficients_used")
    cards.append((label("card_unverified", lang), str(n_unverified), ""))
    matrices = []
    ecm = run.table("extent_change_matrix")
    if ecm is not None:
        for i, ((y0, y1), wide) in enumerate(change_matrix(ecm)):
            types = [c for c in wide.columns if c != TYPE_FROM]
            full = wide.with_columns(pl.col(TYPE_FROM).map_elements(
                lambda t: label(t, lang), return_dtype=pl.Utf8),
                pl.Series("_total", row_sums(wide, types), dtype=pl.Float64))
            totals = full.select(pl.lit(label("total", lang)).alias(TYPE_FROM),
                                 *(pl.col(c).sum() for c in [*types, "_total"]))
            heads = [label("opening_closing", lang), *(label(t, lang) for t in types),
                     label("total", lang)]
            matrices.append((f"{y0}–{y1}", make_table(f"t-ecm{i}", pl.concat([full, totals]),
                                                     lang, "extent_change_matrix", heads)))
    extent = run.table("extent")
    if extent is not None:
        tables["extent"] = make_table("t-extent", extent, lang, "extent",
                                      max_rows=HTML_DETAIL_ROWS, names=names)
    grow = _growth_context(run, names, lang, tables)
    shown_names = {"gep", "services", "carbon_stock", "carbon_flux", "compensation_ledger",
                   "compensation_net", "sensitivity", "uncertainty", "coefficients_used",
                   "extent", "sensitivity_carbon", "uncertainty_carbon",
                   "uncertainty_carbon_flux", "compensation_settlement_sheet",
                   "gep_growth"} - set(others_extra)
    if matrices:
        shown_names.add("extent_change_matrix")
    all_others = [(n, make_table(f"t-x{i}", run.tables[n], lang, n,
                                 max_rows=HTML_DETAIL_ROWS, names=names))
                  for i, n in enumerate(sorted(run.tables))
                  if n not in shown_names and run.tables[n].height > 0]
    # engine tables that belong to a section are shown there, the rest under "other tables"
    carbon_extra = [(n, t) for n, t in all_others if n.startswith("carbon_")]
    comp_extra = [(n, t) for n, t in all_others
                  if n.startswith(("compensation_", "transfer_"))]
    others = [(n, t) for n, t in all_others
              if (n, t) not in carbon_extra and (n, t) not in comp_extra]
    comp_charts = _allocation_charts(run, names, lang)
    map_ctx, map_note = _map(run, lang, names)
    warnings = [w for w in (m.get("warnings") or []) if isinstance(w, dict)]
    return {
        "lang": lang, "html_lang": "en" if lang == "en" else "zh-CN", "L": _lbl(lang),
        "m": m, "synthetic": bool(m.get("synthetic")),
        "data_label": m.get("data_label") or "SYNTHETIC",
        "cards": cards, "charts": charts, "carbon_charts": carbon_charts, "flow": flow,
        "tornados": tornados, "interval_charts": interval_charts, "growth": grow,
        "matrices": matrices,
        "tables": tables, "others": others, "map": map_ctx, "carbon_extra": carbon_extra,
        "comp_extra": comp_extra, "comp_charts": comp_charts, "settlement_sheets": settlement_sheets,
        "map_note": map_note, "account_scope": account_scope, "map_caveat": run.map_caveat, "warnings": warnings, "notes": list(run.notes),
        "n_unverified": n_unverified, "manifest_json": safe_json(m), "year": year,
        "method": method,
    }


def account_table(sv: pl.DataFrame, coeffs: pl.DataFrame | None, totals: pl.DataFrame | None,
                  year: Any, method: Any, lang: str) -> Table:
    """The account (总表) of all regions for one year and method: lines by category, a 小计 per
    category and the GEP合计 (万元; 元 in the hover titles). Subtotals and the total are the
    engine's gep_totals (all regions) when it has them, else the sums of the lines."""
    items = account_items(sv.with_columns(pl.lit("*").alias("region_id")), coeffs)
    whole = all_regions_total(totals, year, method)
    lines = items.rows(named=True)
    total_cny = whole.get("total_cny")
    if total_cny is None:
        total_cny = math.fsum(d["value_cny"] or 0.0 for d in lines)
    yuan = label("yuan", lang)
    unverified = label("unverified_flag", lang)

    def money(v: float, bold: bool = False) -> list[Cell]:
        share = v / total_cny * 100 if total_cny else 0.0
        return [Cell(fmt_num(v * WAN), True, False, f"{fmt_num(v)} {yuan}"),
                Cell(fmt_num(share), True)]

    rows: list[list[Cell]] = []
    classes: list[str] = []
    for cat, group in groupby(lines, key=lambda d: d["category"]):
        part = list(group)
        for d in part:
            q = d["quantity"]
            rows.append([Cell(label(str(cat), lang)), Cell(label(str(d["service"]), lang)),
                         Cell(fmt_num(q) if q is not None and math.isfinite(q) else "", True),
                         Cell(d["quantity_unit"] or ""), Cell(d["pricing_method"] or ""),
                         *money(d["value_cny"] or 0.0), Cell(d["source"] or ""),
                         Cell(unverified if d["unverified"] else "", False, d["unverified"])])
            classes.append("")
        key = f"{cat}_cny"
        if cat == DEDUCTION and whole.get(key) is not None:
            sub = -float(whole[key])
        elif whole.get(key) is not None:
            sub = float(whole[key])
        else:
            sub = math.fsum(d["value_cny"] or 0.0 for d in part)
        rows.append([Cell(label(str(cat), lang)), Cell(label("subtotal", lang)), Cell("", True),
                     Cell(""), Cell(""), *money(sub), Cell(""), Cell("")])
        classes.append("sub")
    rows.append([Cell(label("gep_total", lang)), Cell(""), Cell("", True), Cell(""), Cell(""),
                 *money(total_cny), Cell(""), Cell("")])
    classes.append("total")
    heads = [label(k, lang) for k in ("category", "service", "quantity", "unit",
                                       "pricing_method")]
    heads += [label("value_wan", lang), label("share", lang) + " (%)", label("source", lang),
              label("verification", lang)]
    numeric = [False, False, True, False, False, True, True, False, False]
    return Table("t-account", heads, numeric, rows, None, classes, sortable=False)


def money_changing_hands(ledger: pl.DataFrame, by_year: pl.DataFrame | None) -> tuple[Decimal, Decimal]:
    """(Σ positive nets per agreement, year and party, Σ pool legs) [CNY]: the honest headline.

    The money that changes hands in a year is what the net payers pay the net receivers, not the
    sum of every ledger line (a pool's contributions and allocations, or two opposite lines between
    the same parties, would count twice). Pool parties net to zero in every period; the money booked
    through them is returned separately (Σ of their received amounts, from compensation_net_by_year).
    """
    lines = ledger.with_columns(pl.col("period").cast(pl.Utf8).str.slice(0, 4).alias("_y"),
                                pl.col("amount_cny").cast(pl.Utf8).alias("_a"))
    nets: dict[tuple[str, str, str], Decimal] = {}
    for aid, y, payer, payee, amount in lines.select("agreement_id", "_y", "payer", "payee", "_a").rows():
        x = Decimal(str(amount or 0))
        nets[(aid, y, payer)] = nets.get((aid, y, payer), Decimal(0)) - x
        nets[(aid, y, payee)] = nets.get((aid, y, payee), Decimal(0)) + x
    moved = sum((n for n in nets.values() if n > 0), Decimal(0))
    pooled = Decimal(0)
    if by_year is not None and {"party_kind", "year", "received_cny"} <= set(by_year.columns):
        pool = by_year.filter((pl.col("party_kind") == "pool") & (pl.col("year") != "合计"))
        pooled = sum((Decimal(str(x)) for x in pool.get_column("received_cny").cast(pl.Utf8).to_list()), Decimal(0))
    return moved, pooled


def _blank_none(value: Any) -> Any:
    """Missing manifest fields print as nothing, not as 'None'."""
    return "" if value is None else value


def render_html(run: RunData, lang: str) -> str:
    """The report as one HTML string."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True, finalize=_blank_none,
                      keep_trailing_newline=True)
    return env.get_template("report.html.j2").render(**build_context(run, lang))


def write_html(run: RunData, path: Path, lang: str) -> Path:
    """Write the HTML report to ``path`` (UTF-8, LF line ends); returns ``path``."""
    path.write_text(render_html(run, lang), encoding="utf-8", newline="\n")
    return path
