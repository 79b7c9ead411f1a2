"""Build monitoring sections of a river chain from the region river graph (gep.regions river_edges).

Each boundary between consecutive counties becomes one section: the connected
components of the bipartite graph (upstream county → downstream county) of one
river's edges. Where a step of the chain has two counties (e.g. 内江 市中区 and
东兴区 on the 沱江), the section has two upstream or downstream parties with equal
shares (to be replaced by agreed split coefficients, e.g. the 九里 section of 《镇江市太湖流域环境资源区域补偿方案》).
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from gep.regions.rivers import topological_order


def equal_shares(n: int) -> list[Decimal]:
    """n shares to 6 decimal places that sum to exactly 1 (the last takes the remainder)."""
    base = (Decimal(1) / Decimal(n)).quantize(Decimal("0.000001"))
    return [base] * (n - 1) + [Decimal(1) - base * (n - 1)]


def chain_sections(edges: pl.DataFrame, prefix: str) -> pl.DataFrame:
    """Sections of a river from its edges: section_id, river, upstream_ids, downstream_ids (lists, sorted).

    ``edges``: gep.regions river_edges() rows of one river (upstream_id, downstream_id, river).
    Sections are ordered along the flow (topological order of their first upstream county)
    and numbered ``{prefix}01``, ``{prefix}02``, ...
    """
    pairs = edges.select("upstream_id", "downstream_id").unique().sort("upstream_id", "downstream_id").rows()
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(x: tuple[str, str]) -> tuple[str, str]:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for u, d in pairs:
        ru, rd = find(("u", u)), find(("d", d))
        if ru != rd:
            parent[max(ru, rd)] = min(ru, rd)
    groups: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
    for u, d in pairs:
        g = groups.setdefault(find(("u", u)), (set(), set()))
        g[0].add(u)
        g[1].add(d)
    order = {rid: i for i, rid in enumerate(topological_order(edges))}
    river = edges["river"][0] if edges.height else ""
    comps = sorted(groups.values(), key=lambda g: (min(order.get(u, 0) for u in g[0]), sorted(g[0])))
    rows = [
        (f"{prefix}{i + 1:02d}", river, sorted(ups), sorted(downs))
        for i, (ups, downs) in enumerate(comps)
    ]
    return pl.DataFrame(
        rows,
        schema={"section_id": pl.Utf8, "river": pl.Utf8, "upstream_ids": pl.List(pl.Utf8), "downstream_ids": pl.List(pl.Utf8)},
        orient="row",
    )
