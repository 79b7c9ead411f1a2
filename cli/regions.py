"""`gep regions list|show`: the region registries, their counties, and the river graph.

Exit status 2 for an unknown registry, region or prefecture (the message lists near matches).
"""

from __future__ import annotations

import sys

import click
import polars as pl
from gep.cli.common import text_table
from gep.regions import RegionRegistry, describe_registries, load_registry
from gep.regions.check import describe_ids

from gep.errors import InputError

LIST_COLUMNS = ["region_id", "name_zh", "name_en", "parent_id", "parent_name_zh", "type_zh", "area_km2"]


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(2)


def _load(name: str) -> RegionRegistry:
    try:
        return load_registry(name)
    except InputError as exc:
        _fail(exc.render())
        raise  # unreachable


def _resolve(reg: RegionRegistry, query: str, what: str = "region") -> str:
    """One id for a code or name; exits 2 with near matches when unknown or ambiguous."""
    hits = reg.find(query)
    if what == "prefecture":
        hits = [h for h in hits if h in reg.prefecture_ids()] or hits
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        _fail(f"'{query}' matches several regions / 多个匹配: {describe_ids(reg, hits)}. Use the code.")
    near = reg.suggest(query)
    hint = f" Did you mean / 您是否要找: {describe_ids(reg, near)}?" if near else ""
    _fail(f"Unknown {what} '{query}' in registry '{reg.name}' / 未找到该地区.{hint}")
    raise AssertionError("unreachable")


@click.group("regions")
def regions() -> None:
    """Region registries (区域): counties, prefectures, boundaries, river graph.

    The built-in registry `sichuan` holds the 183 county-level units of Sichuan (GB/T 2260
    codes) and 21 prefectures. A registry argument may also be a CSV/XLSX region file.
    """


@regions.command("list")
@click.argument("registry", required=False)
@click.option("--prefecture", "-p", help="Only counties of this prefecture (code or name, e.g. 510100 or 成都市).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True)
def list_cmd(registry: str | None, prefecture: str | None, fmt: str) -> None:
    """List the registries, or the counties of REGISTRY (code, 名称, name, prefecture, area km²)."""
    if registry is None:
        df = describe_registries()
        if fmt == "csv":
            click.echo(df.write_csv(), nl=False)
            return
        rows = [[r["name"], r["title"], str(r["n_counties"]), str(r["n_prefectures"]), str(r["rivers"])]
                for r in df.iter_rows(named=True)]
        click.echo(text_table(["registry", "title 说明", "counties 县级", "prefectures 地级", "rivers 河段"], rows,
                          [False, False, True, True, True]))
        click.echo("\nShow the counties with: gep regions list sichuan")
        return
    reg = _load(registry)
    df = reg.counties
    if prefecture is not None:
        pid = _resolve(reg, prefecture, "prefecture")
        if pid not in reg.prefecture_ids():
            _fail(f"'{prefecture}' is a county, not a prefecture / 不是地级单位: {describe_ids(reg, [pid])}")
        df = df.filter(pl.col("parent_id") == pid)
    df = df.select(LIST_COLUMNS).sort("region_id")
    if fmt == "csv":
        click.echo(df.write_csv(), nl=False)
        return
    rows = [
        [r["region_id"], r["name_zh"] or "", r["name_en"] or "", r["parent_name_zh"] or "",
         "" if r["area_km2"] is None else f"{r['area_km2']:,.1f}"]
        for r in df.iter_rows(named=True)
    ]
    click.echo(text_table(["code 代码", "名称", "name", "prefecture 地级", "area km² 面积"], rows,
                      [False, False, False, False, True]))
    total = df.get_column("area_km2").sum()
    total_txt = f", total {total:,.1f} km² 合计" if total else ""
    click.echo(f"\n{df.height} counties 县级单位{total_txt}")


def _edge_list(df: pl.DataFrame, id_col: str, name_col: str) -> str:
    items = [f"{i} {n} ({g})" for i, n, g in df.select(id_col, name_col, "confidence").sort(id_col).iter_rows()]
    return ", ".join(items) if items else "—"


@regions.command("show")
@click.argument("region")
@click.option("--registry", "-r", default="sichuan", show_default=True, help="Registry name or region file.")
@click.option("--min-confidence", type=click.Choice(["A", "B", "C"]), default=None,
              help="Only river edges of at least this grade (A best).")
def show_cmd(region: str, registry: str, min_confidence: str | None) -> None:
    """Show one county or prefecture (code or name): names, parent, area, rivers with neighbours."""
    reg = _load(registry)
    rid = _resolve(reg, region)
    if rid in reg.province_ids():
        p = reg.provinces.filter(pl.col("region_id") == rid).row(0, named=True)
        click.echo(f"{rid}  {p['name_zh']}  {p['name_en'] or ''}".rstrip())
        click.echo("level 级别:       province 省级")
        if p["area_km2"] is not None:
            click.echo(f"area 面积:        {p['area_km2']:,.1f} km²")
        prefs = [x for x in reg.prefecture_ids() if reg.parent_of(x) == rid]
        click.echo(f"prefectures 地级: {len(prefs)}    counties 县级: {p['n_counties']}")
        for i in prefs:
            click.echo(f"  {i}  {reg.name_of(i)}")
        return
    if rid in reg.prefecture_ids():
        p = reg.prefectures.filter(pl.col("region_id") == rid).row(0, named=True)
        click.echo(f"{rid}  {p['name_zh']}  {p['name_en'] or ''}".rstrip())
        click.echo("level 级别:       prefecture 地级")
        if p["area_km2"] is not None:
            click.echo(f"area 面积:        {p['area_km2']:,.1f} km²")
        ids = reg.counties_of(rid)
        click.echo(f"counties 县级:    {len(ids)}")
        for i in ids:
            c = reg.counties.filter(pl.col("region_id") == i).row(0, named=True)
            area = "" if c["area_km2"] is None else f"  {c['area_km2']:,.1f} km²"
            click.echo(f"  {i}  {c['name_zh']}  {c['name_en'] or ''}{area}")
        return
    c = reg.counties.filter(pl.col("region_id") == rid).row(0, named=True)
    click.echo(f"{rid}  {c['name_zh']}  {c['name_en'] or ''}".rstrip())
    if c["type_zh"]:
        click.echo(f"type 类型:        {c['type_zh']}")
    if c["parent_id"]:
        click.echo(f"prefecture 地级:  {c['parent_id']} {c['parent_name_zh'] or ''}".rstrip())
    if c["area_km2"] is not None:
        click.echo(f"area 面积:        {c['area_km2']:,.1f} km²")
    if c["label_lon"] is not None:
        click.echo(f"label point:      {c['label_lon']:.4f}E, {c['label_lat']:.4f}N")
    edges = reg.river_edges(min_confidence=min_confidence)
    touching = edges.filter((pl.col("upstream_id") == rid) | (pl.col("downstream_id") == rid))
    rivers = touching.select("basin", "river").unique().sort("basin", "river")
    if rivers.height == 0:
        click.echo("rivers 河流:      none in the river graph 未列入河流图")
        return
    click.echo("rivers 河流 (grade A sourced / B consistent / C inferred):")
    for basin, river in rivers.iter_rows():
        up = reg.upstream_of(rid, river, min_confidence)
        down = reg.downstream_of(rid, river, min_confidence)
        click.echo(f"  {river} [{basin}]")
        click.echo(f"    upstream 上游:   {_edge_list(up, 'upstream_id', 'upstream_name_zh')}")
        joins = reg.joins.filter(
            (pl.col("river") == river) & pl.col("join_ids").str.split(" ").list.contains(rid)
        )
        tail = "".join(f"  (flows into {j} here 在此汇入)" for j in joins.get_column("flows_into").to_list())
        if down.height == 0 and joins.height == 0:
            flows = reg.joins.filter(pl.col("river") == river).get_column("flows_into").to_list()
            tail = f"  (river leaves the graph here; flows into {flows[0]})" if flows and flows[0] else ""
        click.echo(f"    downstream 下游: {_edge_list(down, 'downstream_id', 'downstream_name_zh')}{tail}")


COMMANDS = [regions]
