"""`gep coefficients list|show|validate|diff`: coefficient sets and land-cover crosswalks.

Exit status 2 for an unknown set, an invalid set or crosswalk (every problem is
printed with file, row and column), 0 otherwise.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click
import polars as pl
from gep.cli.common import text_table, text_width
from gep.coefficients import (
    CoefficientSet,
    apply_overrides,
    diff_sets,
    list_crosswalks,
    list_sets,
    load_crosswalk,
    load_set,
    validate_crosswalk,
    validate_set,
)
from gep.coefficients._rows import rename_headers
from gep.coefficients.crosswalks import CROSSWALK_ALIASES

from gep.errors import InputError, Problem
from gep.readers import read_raw


def _cell(v: object, max_width: int) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        text = f"{v:.6g}"
    else:
        text = str(v)
    if text_width(text) > max_width:
        out = ""
        for ch in text:
            if text_width(out + ch) > max_width - 1:
                break
            out += ch
        text = out + "…"
    return text


def _render(df: pl.DataFrame, fmt: str, max_width: int = 60) -> str:
    """A frame as aligned text (CJK-width aware) or CSV."""
    if fmt == "csv":
        return df.write_csv().rstrip("\n")
    numeric = [dt.is_numeric() for dt in df.dtypes]
    rows = [[_cell(v, max_width) for v in r] for r in df.iter_rows()]
    return text_table(df.columns, rows, numeric)


def _fail(problems: Sequence[Problem], what: str = "") -> None:
    n = len(problems)
    head = f"gep: {n} problem{'s' if n != 1 else ''} found{what}."
    click.echo(head, err=True)
    for p in problems:
        click.echo("  - " + p.render(), err=True)
    sys.exit(2)


def _load_set(spec: str, overrides: str | None = None) -> CoefficientSet:
    try:
        cs = load_set(spec)
    except InputError as exc:
        _fail(exc.problems, f" in coefficient set '{spec}'")
        raise  # unreachable
    if overrides is None:
        return cs
    try:
        return apply_overrides(cs, overrides)
    except InputError as exc:
        _fail(exc.problems, f" in override file '{overrides}'")
        raise  # unreachable


def _is_crosswalk(spec: str) -> bool:
    """A crosswalk id, or a table file whose header has class and ecosystem_type columns."""
    if spec in list_crosswalks() and spec not in list_sets():
        return True
    p = Path(spec)
    if p.is_file() and p.name != "set.toml":
        try:


            cols = rename_headers(read_raw(p).df, CROSSWALK_ALIASES)[0].columns
        except InputError:
            return False
        return "class" in cols and "ecosystem_type" in cols and "value" not in cols
    return False


@click.group("coefficients")
def coefficients() -> None:
    """Coefficient sets (系数集) and land-cover crosswalks (地类对照表).

    Built-in sets: xie2015 (谢高地 2015, 14 types × 11 services, 3406.5 元/hm² at 2010
    prices), xie2003, xie2008, a function-value set and a carbon set. Every row carries value, unit,
    price year, source and verification (verified / secondary / unverified).
    """


@coefficients.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True)
def list_cmd(fmt: str) -> None:
    """List built-in sets and crosswalks: id, version, family, price year, verification, rows, unverified rows."""
    recs: list[dict[str, object]] = []
    problems: list[Problem] = []
    for sid in list_sets():
        try:
            cs = load_set(sid)
        except InputError as exc:
            problems += exc.problems
            recs.append({"kind": "set", "id": sid, "version": None, "family": None, "price_year": None,
                         "verification": "INVALID", "rows": None, "unverified_rows": None})
            continue
        rows, unv = cs.row_counts()
        m = cs.manifest
        recs.append({"kind": "set", "id": m.id, "version": m.version, "family": m.method_family,
                     "price_year": m.price_year, "verification": m.verification, "rows": rows,
                     "unverified_rows": unv})
    for cid in list_crosswalks():
        try:
            cw = load_crosswalk(cid)
        except InputError as exc:
            problems += exc.problems
            continue
        unv = cw.filter(pl.col("verification") == "unverified").height if "verification" in cw.columns else None
        worst = ("unverified" if unv else "secondary") if "verification" in cw.columns else None
        recs.append({"kind": "crosswalk", "id": cid, "version": None, "family": "crosswalk", "price_year": None,
                     "verification": worst, "rows": cw.height, "unverified_rows": unv})
    df = pl.DataFrame(recs, schema={"kind": pl.Utf8, "id": pl.Utf8, "version": pl.Utf8, "family": pl.Utf8,
                                    "price_year": pl.Int64, "verification": pl.Utf8, "rows": pl.Int64,
                                    "unverified_rows": pl.Int64})
    click.echo(_render(df, fmt))
    if problems:
        _fail(problems, " in the built-in coefficients")


@coefficients.command("show")
@click.argument("set_id")
@click.option("--table", "-t", "table", help="Only this table of the set (default: all tables).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True)
@click.option("--full", is_flag=True, help="Do not shorten long text (source, note) in table format.")
@click.option("--overrides", type=click.Path(exists=True, dir_okay=False),
              help="Apply this override file (key columns + value) before showing.")
def show_cmd(set_id: str, table: str | None, fmt: str, full: bool, overrides: str | None) -> None:
    """Show the rows of a set (id, folder or table file) or of a crosswalk: value, unit, price year, verification, source."""
    width = 10_000 if full else 60
    if overrides is None and _is_crosswalk(set_id):
        try:
            cw = load_crosswalk(set_id)
        except InputError as exc:
            _fail(exc.problems, f" in crosswalk '{set_id}'")
            return
        cols = [c for c in ("class", "code", "ecosystem_type", "class_name_en", "verification", "source") if c in cw.columns]
        click.echo(_render(cw.select(cols), fmt, width))
        return
    cs = _load_set(set_id, overrides)
    names = [t.name for t in cs.manifest.tables]
    if table is not None:
        if table not in cs.tables:
            _fail([Problem("UNKNOWN_TABLE", f"coefficient set '{cs.id}' has no table '{table}'", value=table,
                           expected="one of: " + ", ".join(names))])
        names = [table]
    m = cs.manifest
    blocks: list[str] = []
    if fmt == "table":
        py = f", price year {m.price_year}" if m.price_year is not None else ""
        blocks.append(f"{m.id} {m.version}: {m.title}\n{m.method_family}{py}, verification {m.verification}\n"
                      f"citation: {m.citation}")
        if m.base_id:
            n = len(m.overrides)
            blocks.append(f"based on {m.base_id} {m.base_version} with {n} overridden row{'s' if n != 1 else ''}")
    frames: list[pl.DataFrame] = []
    for name in names:
        t = cs.tables[name]
        keys = cs.keys(name)
        if fmt == "csv":
            frames.append(t.select(
                pl.lit(name).alias("table"),
                pl.concat_str([pl.col(k).cast(pl.Utf8).fill_null("") for k in keys], separator=" | ").alias("key"),
                "value", "unit", "price_year", "verification", "source"))
        else:
            blocks.append(f"[{name}] keys: {', '.join(keys)}; {t.height} row{'s' if t.height != 1 else ''}")
            blocks.append(_render(t.select(*keys, "value", "unit", "price_year", "verification", "source"), fmt, width))
    if fmt == "csv":
        click.echo(_render(pl.concat(frames, how="vertical_relaxed"), "csv"))
    else:
        click.echo("\n\n".join(blocks))


@coefficients.command("validate")
@click.argument("paths", nargs=-1, required=True)
def validate_cmd(paths: tuple[str, ...]) -> None:
    """Check sets (id, folder, set.toml or single table) and crosswalks; exit 2 listing every problem."""
    problems: list[Problem] = []
    for spec in paths:
        if _is_crosswalk(spec):
            probs = validate_crosswalk(spec)
            kind = "crosswalk"
        else:
            probs = validate_set(spec)
            kind = "coefficient set"
        if probs:
            problems += probs
            click.echo(f"INVALID {kind} {spec}: {len(probs)} problem{'s' if len(probs) != 1 else ''}")
        else:
            click.echo(f"OK {kind} {spec}")
    if problems:
        _fail(problems)


@coefficients.command("diff")
@click.argument("a")
@click.argument("b")
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True)
@click.option("--overrides", type=click.Path(exists=True, dir_okay=False),
              help="Apply this override file to B first (e.g. `diff xie2015 xie2015 --overrides my.csv`).")
def diff_cmd(a: str, b: str, fmt: str, overrides: str | None) -> None:
    """Rows that differ between sets A and B: changed / added / removed, old and new value, relative change."""
    sa, sb = _load_set(a), _load_set(b, overrides)
    d = diff_sets(sa, sb)
    if fmt == "table":
        counts = {s: d.filter(pl.col("status") == s).height for s in ("changed", "added", "removed")}
        click.echo(f"{sa.id} {sa.version} → {sb.id} {sb.version}: "
                   f"{counts['changed']} changed, {counts['added']} added, {counts['removed']} removed")
        if d.height:
            click.echo(_render(d, fmt))
    else:
        click.echo(_render(d, fmt))


COMMANDS = [coefficients]
