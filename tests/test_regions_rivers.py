"""River graph: edges from the reach table, acyclicity, order, joins, filters, user tables."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from gep.errors import InputError
from gep.regions import check_edges, find_cycle, load_registry, topological_order
from gep.regions.registry import DATA_DIR

SC = DATA_DIR / "sichuan"
MIN = "岷江干流"


@pytest.fixture(scope="module")
def reg():
    return load_registry("sichuan")


@pytest.fixture(scope="module")
def edges(reg) -> pl.DataFrame:
    return reg.river_edges()


def test_edge_endpoints_are_registry_counties(reg, edges) -> None:
    ids = set(reg.ids())
    assert set(edges.get_column("upstream_id")) <= ids
    assert set(edges.get_column("downstream_id")) <= ids
    assert set(edges.get_column("confidence")) <= {"A", "B", "C"}
    assert edges.filter(pl.col("upstream_id") == pl.col("downstream_id")).height == 0
    assert edges.select("river", "upstream_id", "downstream_id").is_duplicated().sum() == 0


def test_graph_is_acyclic_per_river_and_as_a_whole(edges) -> None:
    assert find_cycle(edges) is None
    for river in edges.get_column("river").unique().to_list():
        sub = edges.filter(pl.col("river") == river)
        assert find_cycle(sub) is None
        order = topological_order(sub)
        pos = {c: i for i, c in enumerate(order)}
        for up, down in sub.select("upstream_id", "downstream_id").iter_rows():
            assert pos[up] < pos[down], (river, up, down)
    topological_order(edges)  # whole graph: no ValueError


def test_edge_count_matches_reach_table(edges) -> None:
    # Independent count from the source: Σ over rivers and steps of |step i| × |step i+1|,
    # minus pairs of the same county (no self-loops).
    src = pl.read_csv(SC / "river_reaches_source.csv", infer_schema=False).with_columns(
        pl.col("step").cast(pl.Int32)
    )
    nxt = src.with_columns((pl.col("step") - 1).alias("step"))
    pairs = src.join(nxt, on=["river", "step"], suffix="_dn").filter(pl.col("adcode") != pl.col("adcode_dn"))
    assert edges.height == pairs.height == 189
    # 岷江干流 step sizes 1,1,1,1,2,2,1,1,1,1,1,1,1,1 -> 1+1+1+2+4+2+1+1+1+1+1+1+1 = 18 edges
    assert edges.filter(pl.col("river") == MIN).height == 18


def test_known_order_minjiang(reg) -> None:
    order = reg.river_order(MIN)
    assert order.index("513224") < order.index("513223")  # 松潘县 above 茂县
    assert order[:4] == ["513224", "513223", "513221", "510181"]  # 松潘 茂县 汶川 都江堰
    assert order[-1] == "511502"  # 翠屏区 (宜宾)
    assert len(order) == 16
    up = reg.upstream_of("513223", MIN)
    assert up.get_column("upstream_id").to_list() == ["513224"]
    down = reg.downstream_of("513223", MIN)
    assert down.get_column("downstream_id").to_list() == ["513221"]
    # 茂县 also receives the 黑水河 from 黑水县
    assert set(reg.upstream_of("513223").get_column("upstream_id")) == {"513224", "513228"}


def test_shared_steps_are_cross_product(edges) -> None:
    # 岷江 step 5 {崇州 510184, 温江 510115} -> step 6 {双流 510116, 新津 510118}: 4 edges
    e = edges.filter((pl.col("river") == MIN) & (pl.col("from_step") == 5))
    assert sorted(e.select("upstream_id", "downstream_id").iter_rows()) == [
        ("510115", "510116"), ("510115", "510118"), ("510184", "510116"), ("510184", "510118"),
    ]
    # 金沙江下段: 仁和区 510411 is at steps 1 and 2 -> no 仁和区 -> 仁和区 self-loop
    j = edges.filter(pl.col("river").str.starts_with("金沙江下段") & (pl.col("from_step") == 1))
    assert sorted(j.select("upstream_id", "downstream_id").iter_rows()) == [
        ("510403", "510402"), ("510403", "510411"), ("510411", "510402"),
    ]


def test_confidence_is_lower_grade_and_overrides(reg, edges) -> None:
    assert reg.river_edges(min_confidence="A").get_column("confidence").unique().to_list() == ["A"]
    assert reg.river_edges(min_confidence="B").height == 17 + 76
    assert reg.river_edges(min_confidence="C").height == edges.height
    # 沱江干流 is graded A, but the 大安区 (510304) step is not sourced: its edges are C.
    t = edges.filter(pl.col("river") == "沱江干流")
    dz = t.filter((pl.col("upstream_id") == "510304") | (pl.col("downstream_id") == "510304"))
    assert dz.height == 3 and dz.get_column("confidence").unique().to_list() == ["C"]
    assert set(t.filter(pl.col("upstream_id") == "510121").get_column("confidence")) == {"A"}
    # 涪江 射洪 -> 大英/蓬溪 (C guess): A row meets C row -> C
    f = edges.filter((pl.col("river") == "涪江干流") & (pl.col("upstream_id") == "510981"))
    assert f.get_column("confidence").unique().to_list() == ["C"]
    with pytest.raises(ValueError):
        reg.river_edges(min_confidence="D")


def test_joins(reg) -> None:
    j = {r["river"]: r for r in reg.joins.iter_rows(named=True)}
    assert len(j) == 42 == reg.rivers().height
    assert j["黑水河"]["receiving_river"] == MIN and j["黑水河"]["join_ids"] == "513223"
    assert j["巴河(渠江上源)"]["receiving_river"] == "渠江"  # not 州河, which also ends at 渠县
    assert j["沱江干流"]["receiving_river"].startswith("长江干流")
    assert j["渠江"]["receiving_river"] is None and "重庆" in j["渠江"]["flows_into"]
    # every in-Sichuan join county lies on the receiving river
    for r in j.values():
        if r["receiving_river"]:
            on = reg.river_edges(r["receiving_river"])
            ids = set(on.get_column("upstream_id")) | set(on.get_column("downstream_id"))
            assert set(r["join_ids"].split()) <= ids, r["river"]


def test_rivers_summary(reg) -> None:
    r = reg.rivers().filter(pl.col("river") == MIN).row(0, named=True)
    assert (r["basin"], r["role"], r["n_counties"], r["n_edges"], r["grades"]) == ("岷江", "mainstem", 16, 18, "B")


# ---------------------------------------------------------------- user edge tables


def test_check_edges_finds_cycle_unknown_grade_and_self_loop(reg) -> None:
    e = pl.DataFrame({
        "river": ["r", "r", "r", "r", "r"],
        "upstream_id": ["513224", "513223", "513221", "999999", "510104"],
        "downstream_id": ["513223", "513221", "513224", "513224", "510104"],
        "confidence": ["A", "B", "Z", "C", "C"],
    })
    from gep.regions.rivers import normalise_edges

    probs = check_edges(normalise_edges(e), reg.all_ids(), file="edges.csv")
    got = {(p.code, p.row) for p in probs}
    assert ("UNKNOWN_REGION", 5) in got
    assert ("INVALID_VALUE", 4) in got
    assert ("SELF_LOOP", 6) in got
    cyc = [p for p in probs if p.code == "RIVER_CYCLE"]
    assert len(cyc) == 1 and "513221 -> 513224 -> 513223 -> 513221" in cyc[0].message


def test_user_edges_file_replaces_graph(reg, tmp_path: Path) -> None:
    d = tmp_path / "河流"
    d.mkdir()
    f = d / "边.csv"
    f.write_text("河流,上游代码,下游代码,可信度\n沱江,510121,510185,a\n沱江,510185,512002,Z\n", encoding="utf-8")
    with pytest.raises(InputError) as ei:
        reg.with_river_edges(f)  # grade Z on row 3
    assert [(p.code, p.row, p.column) for p in ei.value.problems] == [("INVALID_VALUE", 3, "confidence")]
    f.write_text("河流,上游代码,下游代码,可信度\n沱江,510121,510185,a\n沱江,510185,512002,\n", encoding="utf-8")
    r2 = reg.with_river_edges(f)
    assert r2.river_order("沱江") == ["510121", "510185", "512002"]
    assert r2.river_edges().get_column("confidence").to_list() == ["A", "C"]  # lower-case a; empty = C
    assert r2.river_edges().height == 2 and reg.river_edges().height == 189  # original untouched
    f.write_text("river,upstream_id\nx,510121\n", encoding="utf-8")
    with pytest.raises(InputError) as ei:
        reg.with_river_edges(f)
    assert [(p.code, p.column) for p in ei.value.problems] == [("MISSING_COLUMN", "downstream_id")]
