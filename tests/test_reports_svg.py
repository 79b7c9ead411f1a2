"""SVG geometry: projection, class breaks, bars, flows, tornado (hand-computed)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gep.reports.svg import (
    NO_DATA,
    PALETTE,
    choropleth,
    class_breaks,
    flow_diagram,
    hbar,
    tornado,
)


def _square(rid: str, lon: float, lat: float, size: float = 1.0) -> dict:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Feature", "properties": {"region_id": rid},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def test_projection_scales_longitude_by_cos_lat0() -> None:
    # Two 1°×1° cells side by side centred on lat 60.5°: width/height = 2·cos(60.5°) ≈ 0.985
    fc = {"type": "FeatureCollection", "features": [_square("a", 100, 60), _square("b", 101, 60)]}
    ch = choropleth(fc, {"a": 1.0, "b": 2.0}, {}, "u", "none", width=410)
    k = math.cos(math.radians(60.5))
    scale = 400 / (2 * k)  # px per degree of latitude
    assert ch.height == math.ceil(1 * scale) + 10
    # cell "a" spans x 5 … 205 and y 5 … 5 + scale
    assert ch.shapes[0].d.startswith("M5,")
    xs = [float(p.split(",")[0]) for p in ch.shapes[0].d[1:-1].split("L")]
    assert max(xs) == pytest.approx(205, abs=0.1)


def test_one_path_per_feature_multipolygon_and_no_data() -> None:
    island = {"type": "Feature", "properties": {"region_id": "c"}, "geometry": {
        "type": "MultiPolygon", "coordinates": [
            [[[0, 0], [1, 0], [1, 1], [0, 0]]], [[[2, 0], [3, 0], [3, 1], [2, 0]]]]}}
    fc = {"type": "FeatureCollection", "features": [_square("a", 0, 2), island]}
    ch = choropleth(fc, {"a": 5.0}, {"a": "A"}, "u", "no data")
    assert [s.region_id for s in ch.shapes] == ["a", "c"]
    assert ch.shapes[1].d.count("M") == 2  # both parts in one path
    assert ch.shapes[1].fill == NO_DATA and ch.shapes[1].title == "c"
    assert ch.legend[-1].color == NO_DATA and ch.legend[-1].text == "no data"


def test_quantile_breaks_and_colours() -> None:
    vals = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], dtype=float)
    # quintile cut points of 1..10 (linear interpolation): 2.8, 4.6, 6.4, 8.2
    assert class_breaks(vals) == pytest.approx([2.8, 4.6, 6.4, 8.2])
    assert class_breaks(np.array([np.nan])) == []
    feats = [_square(str(i), i, 0) for i in range(1, 11)]
    ch = choropleth({"features": feats}, {str(i): float(i) for i in range(1, 11)}, {}, "u", "-")
    fills = [s.fill for s in ch.shapes]
    assert fills[0] == PALETTE[0] and fills[-1] == PALETTE[-1]
    assert fills[2] == PALETTE[1]  # 3 lies in (2.8, 4.6]


def test_hbar_negative_values_left_of_zero() -> None:
    ch = hbar([("up", 300.0), ("down", -100.0)], "t", width=720, label_w=220)
    # a negative value keeps NEG_PAD = 100 px free for its value text: plot width
    # 720-220-110-100 = 290 over span 400 → zero at 220 + 100 + 100/400·290 = 392.5
    assert ch.zero_x == pytest.approx(392.5)
    up, down = ch.bars
    assert up.x == pytest.approx(392.5) and up.w == pytest.approx(217.5)
    assert down.x + down.w == pytest.approx(392.5) and down.w == pytest.approx(72.5)
    # the negative bar's text (right-aligned at x - 4 = 316) ends 96 px right of the labels
    assert down.x - 4 - ch.label_w == pytest.approx(96)
    # without negatives there is no pad: zero at the label column
    assert hbar([("a", 1.0)], "t").zero_x == pytest.approx(220)


def test_flow_band_widths_proportional_and_conserved() -> None:
    d = flow_diagram([("A", "B", 300.0), ("C", "B", 100.0)], {"A": "甲"}, "CNY")
    assert [n.name for n in d.left] == ["甲", "C"] and [n.name for n in d.right] == ["B"]
    assert d.links[0].w == pytest.approx(3 * d.links[1].w)
    # payee B node height = sum of incoming bands
    assert d.right[0].h == pytest.approx(d.links[0].w + d.links[1].w, abs=0.2)
    assert "甲 → B: 300.00 CNY" == d.links[0].title


def test_tornado_orders_by_swing() -> None:
    t = tornado([("small", 9.0, 11.0), ("big", 5.0, 20.0)], 10.0)
    assert [b.label for b in t.bars] == ["big", "small"]
    assert t.bars[0].w > t.bars[1].w


def test_ring_paths_all_at_once_equal_ring_by_ring() -> None:
    """_ring_paths (every ring in one numpy pass) gives _ring_path's text for each ring:
    repeated points dropped, rings under 3 (distinct) points empty."""
    from gep.reports.svg import _ring_path, _ring_paths

    rng = np.random.default_rng(7)
    rings = [rng.uniform(100, 110, (n, 2)) for n in (3, 4, 9, 50)]
    rings += [np.array([[101.0, 30.0]] * n) for n in (1, 2, 3, 4)]
    rings += [np.array([[101.0, 30.0], [101.0, 30.0], [102.0, 31.0], [102.0, 31.0], [103.0, 30.5]])]
    pts = np.concatenate(rings)
    lon_min, lat_max, k, s = pts[:, 0].min(), pts[:, 1].max(), math.cos(math.radians(30)), 61.7
    one_by_one = []
    for ring in rings:
        xy = np.empty_like(ring)
        xy[:, 0] = np.round((ring[:, 0] - lon_min) * k * s + 5, 1)
        xy[:, 1] = np.round((lat_max - ring[:, 1]) * s + 5, 1)
        one_by_one.append(_ring_path(xy))
    assert _ring_paths(pts, [len(r) for r in rings], lon_min, lat_max, k, s) == one_by_one
    assert one_by_one[4:8] == ["", "", "", ""] and one_by_one[8].count("L") == 2
