"""Geometry for the offline SVG charts and the choropleth map (numbers only, no markup).

The template draws these shapes; all text goes through Jinja2 autoescaping. Map
projection: equirectangular with cos(lat0) scaling of longitude (lat0 = mid latitude),
good enough for a county map of one province (distortion < 1 % across Sichuan's span).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PALETTE = ("#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c")
NO_DATA = "#d9d9d9"
POS, NEG = "#31a354", "#d95f0e"
NEG_PAD = 100  # px for the value text of negative bars (left of the bars)


def fmt_num(value: float | None, digits: int = 2) -> str:
    """Thousands-separated number text ('—' for missing)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    text = f"{value:,.{digits}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text  # no "-0.00"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str
    x: float
    w: float
    y: float
    color: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    zero_x: float
    label_w: int
    bar_h: int
    unit: str


def hbar(items: Sequence[tuple[str, float]], unit: str, *, width: int = 720,
         label_w: int = 220, bar_h: int = 18, gap: int = 6, digits: int = 2) -> BarChart:
    """Horizontal bar chart geometry; negative values extend left of a zero axis.

    When some value is negative, NEG_PAD px are kept between the label column and the
    plot, so the value text of a negative bar never overlaps the row labels.
    """
    tiny = 0.5 * 10.0 ** -digits  # shown as 0.00: drawn as zero, never as a negative bar
    vals = [0.0 if abs(float(v or 0.0)) < tiny else float(v or 0.0) for _, v in items]
    lo, hi = min([0.0, *vals]), max([0.0, *vals])
    span = (hi - lo) or 1.0
    pad = NEG_PAD if lo < 0 else 0
    plot_w = width - label_w - 110 - pad
    zero_x = label_w + pad + (0 - lo) / span * plot_w
    bars = []
    for i, ((name, _), v) in enumerate(zip(items, vals, strict=True)):
        w = abs(v) / span * plot_w
        x = zero_x if v >= 0 else zero_x - w
        bars.append(Bar(str(name), v, fmt_num(v, digits), round(x, 1), round(max(w, 0.5), 1),
                        i * (bar_h + gap) + 4, POS if v >= 0 else NEG))
    height = len(bars) * (bar_h + gap) + 10
    return BarChart(width, height, bars, round(zero_x, 1), label_w, bar_h, unit)


@dataclass(frozen=True)
class MapShape:
    region_id: str
    d: str
    fill: str
    title: str


@dataclass(frozen=True)
class LegendItem:
    color: str
    text: str


@dataclass(frozen=True)
class Choropleth:
    width: int
    height: int
    shapes: list[MapShape]
    legend: list[LegendItem]


def _rings(geometry: dict[str, Any]) -> list[Any]:
    gtype = geometry.get("type") if geometry else None
    coords = geometry.get("coordinates") if geometry else None
    if gtype == "Polygon":
        return list(coords or [])
    if gtype == "MultiPolygon":
        return [ring for poly in coords or [] for ring in poly]
    return []


def _ring_path(ring: np.ndarray) -> str:
    if ring.shape[0] < 3:
        return ""
    keep = np.ones(ring.shape[0], dtype=bool)
    keep[1:] = np.any(np.diff(ring, axis=0) != 0, axis=1)  # drop repeated points
    pts = ring[keep]
    if pts.shape[0] < 3:
        return ""
    body = "L".join(f"{x:g},{y:g}" for x, y in pts.tolist())
    return f"M{body}Z"


def _ring_paths(points: np.ndarray, lengths: list[int], lon_min: float, lat_max: float,
                k: float, s: float) -> list[str]:
    """SVG path of each ring (``lengths`` points each, in order, in ``points``), projected and
    rounded to 0.1 px; what :func:`_ring_path` gives ring by ring, for all rings at once."""
    xy = np.empty_like(points)
    xy[:, 0] = np.round((points[:, 0] - lon_min) * k * s + 5, 1)
    xy[:, 1] = np.round((lat_max - points[:, 1]) * s + 5, 1)
    starts = np.cumsum([0, *lengths[:-1]], dtype=np.int64)
    keep = np.ones(xy.shape[0], dtype=bool)
    keep[1:] = np.any(np.diff(xy, axis=0) != 0, axis=1)  # drop repeated points
    keep[starts] = True  # the first point of every ring
    kept = np.add.reduceat(keep.astype(np.int64), starts) if len(lengths) else np.array([])
    texts = [f"{x:g},{y:g}" for x, y in xy[keep].tolist()]
    out = []
    at = 0
    for n, m in zip(lengths, kept.tolist(), strict=True):
        out.append(f"M{'L'.join(texts[at:at + m])}Z" if n >= 3 and m >= 3 else "")
        at += m
    return out


def class_breaks(values: np.ndarray, n: int = len(PALETTE)) -> list[float]:
    """Quantile class breaks (n-1 interior breaks, deduplicated, ascending)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return []
    qs = np.quantile(finite, np.linspace(0, 1, n + 1)[1:-1])
    return sorted({float(q) for q in qs})


@dataclass(frozen=True)
class Classes:
    """Quantile classes of one map layer: per-region class index (-1 = no data) and legend."""

    index: list[int]
    legend: list[LegendItem]


def classify(vals: np.ndarray, unit: str, no_data: str) -> Classes:
    """Class index of each value (quantile breaks, PALETTE order; -1 for NaN) and the legend."""
    breaks = class_breaks(vals)
    finite_mask = np.isfinite(vals)
    if breaks:
        idx = np.searchsorted(np.asarray(breaks), np.where(finite_mask, vals, 0.0), side="right")
    else:
        idx = np.full(vals.shape, len(PALETTE) - 1)
    idx = np.where(finite_mask, idx, -1)
    edges = [None, *breaks, None]
    legend = []
    finite = vals[finite_mask]
    for i in range(len(breaks) + 1):
        lo = edges[i] if edges[i] is not None else (float(finite.min()) if finite.size else 0)
        hi = edges[i + 1] if edges[i + 1] is not None else (float(finite.max()) if finite.size
                                                            else 0)
        if not finite.size:
            break
        legend.append(LegendItem(PALETTE[i] if breaks else PALETTE[-1],
                                 f"{fmt_num(lo)} – {fmt_num(hi)} {unit}"))
    if not finite_mask.all():
        legend.append(LegendItem(NO_DATA, no_data))
    return Classes([int(i) for i in idx.tolist()], legend)


def fill_of(index: int) -> str:
    """Fill colour of a class index from :func:`classify` (-1 → no-data grey)."""
    return NO_DATA if index < 0 else PALETTE[index]


def choropleth(boundaries: dict[str, Any], values: dict[str, float], titles: dict[str, str],
               unit: str, no_data: str, *, width: int = 760) -> Choropleth:
    """One path per feature (property region_id), filled by quantile class of ``values``."""
    feats = [f for f in boundaries.get("features", []) if isinstance(f, dict)]
    rings_by = []
    all_pts = []
    for f in feats:
        rid = str((f.get("properties") or {}).get("region_id", ""))
        rings = [np.asarray(r, dtype=float)[:, :2] for r in _rings(f.get("geometry") or {})
                 if len(r) > 0]
        rings_by.append((rid, rings))
        all_pts.extend(rings)
    if not all_pts:
        return Choropleth(width, 40, [], [])
    stacked = np.concatenate(all_pts)
    lon_min, lat_min = stacked.min(axis=0)
    lon_max, lat_max = stacked.max(axis=0)
    k = math.cos(math.radians((lat_min + lat_max) / 2))
    span_x = max((lon_max - lon_min) * k, 1e-9)
    span_y = max(lat_max - lat_min, 1e-9)
    s = (width - 10) / span_x
    height = math.ceil(span_y * s) + 10
    vals = np.array([values.get(rid, np.nan) for rid, _ in rings_by], dtype=float)
    classes = classify(vals, unit, no_data)
    paths = _ring_paths(stacked, [len(r) for r in all_pts], lon_min, lat_max, k, s)
    shapes = []
    at = 0
    for (rid, rings), ci in zip(rings_by, classes.index, strict=True):
        shapes.append(MapShape(rid, "".join(paths[at:at + len(rings)]), fill_of(ci),
                               titles.get(rid, rid)))
        at += len(rings)
    return Choropleth(width, height, shapes, classes.legend)


@dataclass(frozen=True)
class FlowNode:
    name: str
    x: float
    y: float
    h: float
    text: str


@dataclass(frozen=True)
class FlowLink:
    d: str
    w: float
    title: str


@dataclass(frozen=True)
class FlowDiagram:
    width: int
    height: int
    left: list[FlowNode]
    right: list[FlowNode]
    links: list[FlowLink] = field(default_factory=list)
    unit: str = ""  # unit of the node labels


def flow_diagram(flows: Sequence[tuple[str, str, float]], names: dict[str, str], unit: str,
                 *, width: int = 720, node_w: int = 14, label_scale: float = 1.0,
                 label_unit: str | None = None) -> FlowDiagram:
    """Two-column flow diagram: payers left, payees right, band width ∝ amount.

    Hover titles give each flow in ``unit``; node labels give each party's total × ``label_scale``
    followed by ``label_unit`` (default ``unit``), e.g. amounts in 元 shown in 万元.
    """
    shown = unit if label_unit is None else label_unit
    if not flows:
        return FlowDiagram(width, 20, [], [], unit=shown)
    payers: dict[str, float] = {}
    payees: dict[str, float] = {}
    for a, b, v in flows:
        payers[a] = payers.get(a, 0.0) + v
        payees[b] = payees.get(b, 0.0) + v
    total = sum(payers.values()) or 1.0
    gap = 10
    avail = max(24 * max(len(payers), len(payees)), 320)
    scale = avail / total
    def column(d: dict[str, float], x: float) -> dict[str, FlowNode]:
        out = {}
        y = 10.0
        for name, v in d.items():
            h = max(v * scale, 3.0)
            digits = 0 if label_scale == 1.0 else 2
            out[name] = FlowNode(names.get(name, name), x, round(y, 1), round(h, 1),
                                 f"{fmt_num(v * label_scale, digits)} {shown}")
            y += h + gap
        return out
    lx, rx = 200.0, float(width - 200 - node_w)
    left, right = column(payers, lx), column(payees, rx)
    lo = {k: n.y for k, n in left.items()}
    ro = {k: n.y for k, n in right.items()}
    links = []
    for a, b, v in flows:
        w = max(v * scale, 1.0)
        y1, y2 = lo[a] + w / 2, ro[b] + w / 2
        lo[a] += w
        ro[b] += w
        x1, x2 = lx + node_w, rx
        mx = (x1 + x2) / 2
        d = f"M{x1:g},{y1:.1f}C{mx:g},{y1:.1f} {mx:g},{y2:.1f} {x2:g},{y2:.1f}"
        links.append(FlowLink(d, round(w, 1),
                              f"{names.get(a, a)} → {names.get(b, b)}: {fmt_num(v)} {unit}"))
    height = int(max([n.y + n.h for n in [*left.values(), *right.values()]]) + 10)
    return FlowDiagram(width, height, list(left.values()), list(right.values()), links, shown)


@dataclass(frozen=True)
class TornadoBar:
    label: str
    x: float  # the whole bar: from the lower to the higher output
    w: float
    y: float
    text: str
    lo_x: float  # the part from the output at the coefficient's low value to the base
    lo_w: float
    hi_x: float  # the part from the base to the output at the coefficient's high value
    hi_w: float
    title: str = ""


@dataclass(frozen=True)
class Tornado:
    width: int
    height: int
    bars: list[TornadoBar]
    base_x: float
    label_w: int = 300
    text_x: float = 0.0
    ticks: list[tuple[float, str]] = field(default_factory=list)
    axis_y: float = 0.0


def tornado(items: Sequence[tuple[str, float, float]], base: float, *, width: int = 1000,
            label_w: int = 300, bar_h: int = 18, text_w: int = 220,
            titles: Sequence[str] | None = None) -> Tornado:
    """Tornado geometry: one bar per coefficient from its low to its high result, widest first.

    ``items`` are (name, output at the coefficient's low value, output at its high value);
    each bar is split at ``base`` (the point estimate) into a low part and a high part.
    Three axis ticks (lowest output, base, highest output) go under the bars.
    """
    if not items:
        return Tornado(width, 20, [], 0, label_w)
    ends = [base, *(v for _, a, b in items for v in (a, b))]
    lo, hi = min(ends), max(ends)
    span = (hi - lo) or 1.0
    plot_w = width - label_w - text_w - 20

    def px(v: float) -> float:
        return round(label_w + 10 + (v - lo) / span * plot_w, 1)

    bx = px(base)
    bars = []
    order = sorted(range(len(items)), key=lambda i: (-abs(items[i][2] - items[i][1]),
                                                     items[i][0]))
    for row, i in enumerate(order):
        name, a, b = items[i]
        x0, x1 = px(min(a, b)), px(max(a, b))
        xa, xb = px(a), px(b)
        bars.append(TornadoBar(
            name, x0, max(x1 - x0, 0.5), row * (bar_h + 6) + 4,
            f"{fmt_num(a)} … {fmt_num(b)}", min(xa, bx), max(abs(xa - bx), 0.5),
            min(xb, bx), max(abs(xb - bx), 0.5), (titles[i] if titles else name)))
    axis_y = len(bars) * (bar_h + 6) + 8
    ticks = [(px(lo), fmt_num(lo)), (bx, fmt_num(base)), (px(hi), fmt_num(hi))]
    return Tornado(width, int(axis_y + 22), bars, bx, label_w,
                   label_w + 10 + plot_w + 10, ticks, axis_y)


@dataclass(frozen=True)
class Interval:
    label: str
    x_lo: float
    x_mid: float
    x_hi: float
    y: float
    text: str


@dataclass(frozen=True)
class IntervalChart:
    width: int
    height: int
    items: list[Interval]
    unit: str
    label_w: int = 220
    text_x: float = 0.0


def intervals(items: Sequence[tuple[str, float, float, float]], unit: str, *,
              width: int = 1000, label_w: int = 220, row_h: int = 20,
              text_w: int = 370, digits: int = 2) -> IntervalChart:
    """P5–P95 whiskers with a P50 mark per row (Monte Carlo uncertainty), in the given order.

    The P5/P50/P95 numbers are written in a fixed column right of the plot (``text_x``),
    so long numbers never run past the chart.
    """
    if not items:
        return IntervalChart(width, 20, [], unit, label_w, 0.0)
    lo = min(min(a, b, c) for _, a, b, c in items)
    hi = max(max(a, b, c) for _, a, b, c in items)
    lo = min(lo, 0.0)
    span = (hi - lo) or 1.0
    plot_w = width - label_w - text_w - 20

    def px(v: float) -> float:
        return round(label_w + (v - lo) / span * plot_w, 1)

    out = [Interval(name, px(p5), px(p50), px(p95), i * row_h + 10,
                    f"P5 {fmt_num(p5, digits)} · P50 {fmt_num(p50, digits)} · "
                    f"P95 {fmt_num(p95, digits)}")
           for i, (name, p5, p50, p95) in enumerate(items)]
    return IntervalChart(width, len(out) * row_h + 14, out, unit, label_w,
                         label_w + plot_w + 20)
