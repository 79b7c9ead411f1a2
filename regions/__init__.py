"""Region registries (built-in ``sichuan``: 183 counties, 21 prefectures), boundaries, river graph.

    from gep.regions import load_registry
    reg = load_registry("sichuan")           # or a registry folder, or a CSV/XLSX region file
    reg.counties, reg.prefectures, reg.boundaries(), reg.river_edges(min_confidence="B")

With no registry named, gep accepts any region id (``check_region_ids(..., registry=None)`` → []).
See docs/regions.md.
"""

from gep.regions.check import check_region_ids
from gep.regions.registry import (
    RegionRegistry,
    describe_registries,
    find_ids,
    list_registries,
    load_region_file,
    load_registry,
    suggest_ids,
)
from gep.regions.rivers import (
    GRADES,
    check_edges,
    find_cycle,
    load_river_edges,
    topological_order,
)

__all__ = [
    "GRADES",
    "RegionRegistry",
    "check_edges",
    "check_region_ids",
    "describe_registries",
    "find_cycle",
    "find_ids",
    "list_registries",
    "load_region_file",
    "load_registry",
    "load_river_edges",
    "suggest_ids",
    "topological_order",
]
