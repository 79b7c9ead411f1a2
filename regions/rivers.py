"""River graph: directed county -> county edges along river reaches, with confidence grades.

An edge table has one row per (river, upstream_id, downstream_id) with columns
``basin, river, role, kind, from_step, to_step, upstream_id, upstream_name_zh, downstream_id,
downstream_name_zh, confidence, note`` (only ``river, upstream_id, downstream_id`` are required
in a user table; ``confidence`` defaults to ``C``). Grades: A sourced, B consistent with several
sources, C inferred or guessed (rules in docs/regions.md §4).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from pathlib import Path

import polars as pl
from gep.regions.tables import ROW, read_raw_table, rename_aliases

from gep.errors import Problem, ProblemCollector

GRADES: tuple[str, ...] = ("A", "B", "C")  # best first
GRADE_RANK: dict[str, int] = {"A": 3, "B": 2, "C": 1}

EDGE_SCHEMA: dict[str, type[pl.DataType] | pl.DataType] = {
    "basin": pl.Utf8,
    "river": pl.Utf8,
    "role": pl.Utf8,
    "kind": pl.Utf8,
    "from_step": pl.Int32,
    "to_step": pl.Int32,
    "upstream_id": pl.Utf8,
    "upstream_name_zh": pl.Utf8,
    "downstream_id": pl.Utf8,
    "downstream_name_zh": pl.Utf8,
    "confidence": pl.Utf8,
    "note": pl.Utf8,
}
EDGE_COLUMNS: list[str] = list(EDGE_SCHEMA)

# Column aliases accepted in a user edges table (Chinese headers included).
EDGE_ALIASES: dict[str, list[str]] = {
    "basin": ["basin", "流域"],
    "river": ["river", "河流", "河流名称", "河段"],
    "role": ["role", "干支流"],
    "upstream_id": ["upstream_id", "上游代码", "上游地区代码", "上游"],
    "downstream_id": ["downstream_id", "下游代码", "下游地区代码", "下游"],
    "confidence": ["confidence", "可信度", "置信度", "等级"],
    "note": ["note", "备注", "说明"],
}


def empty_edges() -> pl.DataFrame:
    """An edge table with no rows and the canonical columns."""
    return pl.DataFrame(schema=EDGE_SCHEMA)


def normalise_edges(edges: pl.DataFrame) -> pl.DataFrame:
    """Add missing optional columns (confidence C, kind 'reach') and order columns canonically."""
    defaults: dict[str, pl.Expr] = {
        "basin": pl.col("river"),
        "role": pl.lit(None, pl.Utf8),
        "kind": pl.lit("reach"),
        "from_step": pl.lit(None, pl.Int32),
        "to_step": pl.lit(None, pl.Int32),
        "upstream_name_zh": pl.lit(None, pl.Utf8),
        "downstream_name_zh": pl.lit(None, pl.Utf8),
        "confidence": pl.lit("C"),
        "note": pl.lit(None, pl.Utf8),
    }
    missing = [expr.alias(col) for col, expr in defaults.items() if col not in edges.columns]
    out = edges.with_columns(missing) if missing else edges
    return out.select([pl.col(c).cast(t) for c, t in EDGE_SCHEMA.items()])


def filter_min_confidence(edges: pl.DataFrame, min_confidence: str | None) -> pl.DataFrame:
    """Edges whose grade is at least ``min_confidence`` ('A' keeps A; 'B' keeps A and B; None keeps all)."""
    if min_confidence is None:
        return edges
    grade = min_confidence.strip().upper()
    if grade not in GRADE_RANK:
        raise ValueError(f"min_confidence must be one of A, B, C, not {min_confidence!r}")
    keep = [g for g in GRADES if GRADE_RANK[g] >= GRADE_RANK[grade]]
    return edges.filter(pl.col("confidence").is_in(keep))


def edges_of_river(edges: pl.DataFrame, river: str) -> pl.DataFrame:
    """The edges of one river (reach name exactly as in the table)."""
    return edges.filter(pl.col("river") == river)


def upstream_edges(edges: pl.DataFrame, region_id: str) -> pl.DataFrame:
    """Edges that flow into ``region_id`` (their ``upstream_id`` is a direct upstream neighbour)."""
    return edges.filter(pl.col("downstream_id") == region_id)


def downstream_edges(edges: pl.DataFrame, region_id: str) -> pl.DataFrame:
    """Edges that leave ``region_id`` (their ``downstream_id`` is a direct downstream neighbour)."""
    return edges.filter(pl.col("upstream_id") == region_id)


def rivers_of(edges: pl.DataFrame, region_id: str) -> list[str]:
    """Names of the rivers whose edges touch ``region_id``, sorted."""
    hit = edges.filter((pl.col("upstream_id") == region_id) | (pl.col("downstream_id") == region_id))
    return sorted(hit.get_column("river").unique().to_list())


def topological_order(edges: pl.DataFrame) -> list[str]:
    """County ids in upstream -> downstream order (Kahn's algorithm).

    Ties are broken by the smallest ``from_step`` at which a county appears, then by id, so the
    order is stable. Raises ValueError if the edges contain a cycle.
    """
    succ: dict[str, set[str]] = defaultdict(set)
    indeg: dict[str, int] = defaultdict(int)
    rank: dict[str, int] = {}
    pairs = edges.select("upstream_id", "downstream_id", "from_step", "to_step").unique()
    big = 10**9
    for up, down, fs, ts in pairs.iter_rows():
        if down not in succ[up]:
            succ[up].add(down)
            indeg[down] += 1
        indeg.setdefault(up, 0)
        rank[up] = min(rank.get(up, big), fs if fs is not None else big)
        rank[down] = min(rank.get(down, big), ts if ts is not None else big)
    heap = [(rank[n], n) for n, d in indeg.items() if d == 0]
    heapq.heapify(heap)
    order: list[str] = []
    while heap:
        _, node = heapq.heappop(heap)
        order.append(node)
        for nxt in succ[node]:
            indeg[nxt] -= 1
            if indeg[nxt] == 0:
                heapq.heappush(heap, (rank[nxt], nxt))
    if len(order) != len(indeg):
        cyc = find_cycle(edges)
        raise ValueError(f"river edges contain a cycle: {' -> '.join(cyc or [])}")
    return order


def find_cycle(edges: pl.DataFrame) -> list[str] | None:
    """One directed cycle as a list of ids (first id repeated at the end), or None if acyclic."""
    succ: dict[str, list[str]] = defaultdict(list)
    for up, down in edges.select("upstream_id", "downstream_id").unique().sort(pl.all()).iter_rows():
        succ[up].append(down)
    white, grey, black = 0, 1, 2
    colour: dict[str, int] = defaultdict(int)
    for start in sorted(succ):
        if colour[start] != white:
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = [start]
        colour[start] = grey
        while stack:
            node, i = stack[-1]
            if i < len(succ[node]):
                stack[-1] = (node, i + 1)
                nxt = succ[node][i]
                if colour[nxt] == grey:
                    cyc = path[path.index(nxt) :]
                    k = cyc.index(min(cyc))  # start at the smallest id: stable message
                    cyc = cyc[k:] + cyc[:k]
                    return cyc + [cyc[0]]
                if colour[nxt] == white:
                    colour[nxt] = grey
                    stack.append((nxt, 0))
                    path.append(nxt)
            else:
                colour[node] = black
                stack.pop()
                path.pop()
    return None


def check_edges(
    edges: pl.DataFrame,
    known_ids: set[str] | None,
    *,
    file: str | None = None,
    rows: pl.Series | None = None,
) -> list[Problem]:
    """Problems in an edge table: unknown counties, bad grades, self-loops, duplicates, cycles.

    ``rows`` gives the spreadsheet row of each edge (header = row 1); default index + 2.
    ``known_ids`` None accepts any region id.
    """
    col = ProblemCollector()
    df = edges.with_columns(
        (rows if rows is not None else pl.int_range(2, edges.height + 2, dtype=pl.Int64)).alias("_row")
    )
    for c in ("upstream_id", "downstream_id"):
        if known_ids is not None:
            bad = df.filter(~pl.col(c).is_in(sorted(known_ids)) & pl.col(c).is_not_null())
            for value, row in bad.select(c, "_row").iter_rows():
                col.add("UNKNOWN_REGION", "this county code is not in the region registry",
                        file=file, row=row, column=c, value=value, expected="a code from `gep regions list`")
        for row in df.filter(pl.col(c).is_null() | (pl.col(c) == "")).get_column("_row").to_list():
            col.add("MISSING_VALUE", "the county code is empty", file=file, row=row, column=c)
    bad_grade = pl.col("confidence").is_null() | ~pl.col("confidence").is_in(list(GRADES))
    for value, row in df.filter(bad_grade).select("confidence", "_row").iter_rows():
        col.add("INVALID_VALUE", "confidence must be a grade A, B or C", file=file, row=row,
                column="confidence", value=value, expected="A, B or C")
    for value, row in df.filter(pl.col("upstream_id") == pl.col("downstream_id")).select("upstream_id", "_row").iter_rows():
        col.add("SELF_LOOP", "an edge must go from one county to another, not to itself",
                file=file, row=row, column="downstream_id", value=value)
    dup = df.filter(pl.struct("river", "upstream_id", "downstream_id").is_duplicated())
    for river, up, down, row in dup.select("river", "upstream_id", "downstream_id", "_row").iter_rows():
        col.add("DUPLICATE_KEY", f"edge {up} -> {down} on {river} appears more than once",
                file=file, row=row, column="upstream_id", value=f"{up} -> {down}")
    ok = df.filter(pl.col("upstream_id") != pl.col("downstream_id"))
    for river in sorted(ok.get_column("river").drop_nulls().unique().to_list()):
        cyc = find_cycle(ok.filter(pl.col("river") == river))
        if cyc:
            col.add("RIVER_CYCLE", f"the edges of river {river} form a loop: {' -> '.join(cyc)}; "
                    "water cannot flow back upstream, so one of these edges is reversed",
                    file=file, column="river", value=river)
    whole = find_cycle(ok)
    if whole and not col.problems:
        col.add("RIVER_CYCLE", f"edges of different rivers together form a loop: {' -> '.join(whole)}",
                file=file)
    return col.problems


def load_river_edges(path: str | Path, known_ids: set[str] | None = None) -> pl.DataFrame:
    """Read and check a user's edges table (CSV/XLSX; Chinese headers allowed); raises InputError."""

    raw, file = read_raw_table(Path(path))
    col = ProblemCollector()
    df, missing = rename_aliases(raw, EDGE_ALIASES, required=["river", "upstream_id", "downstream_id"])
    for name in missing:
        col.add("MISSING_COLUMN", f"the edges table needs a column '{name}'", file=file, row=1,
                column=name, expected=" or ".join(EDGE_ALIASES[name]))
    col.raise_if_any()
    df = df.with_columns(
        # an empty grade counts as C (inferred), like a table without the column
        pl.col("confidence").str.strip_chars().str.to_uppercase().fill_null("C")
        if "confidence" in df.columns
        else pl.lit("C").alias("confidence")
    )
    rows = df.get_column(ROW)
    df = normalise_edges(df.select([c for c in df.columns if c in EDGE_SCHEMA]))
    col.extend(check_edges(df, known_ids, file=file, rows=rows))
    col.raise_if_any()
    return df
