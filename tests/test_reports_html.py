"""HTML report: self-contained, escaped, synthetic label on top, map shapes, determinism."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from gep.reports import write_reports
from gep.reports.html import safe_json
from gep.reports.sample import (
    SAMPLE_LABEL,
    SCRIPT_CLASS,
    make_hand_run,
    make_sample_run,
)

EVIL_TITLE = "</script><script>alert(2)</script>"


class _Collect(HTMLParser):
    """Collect tags, attributes and script bodies."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._in_script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = dict(attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            self.scripts.append((self._in_script, data))


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return make_hand_run(tmp_path_factory.mktemp("网页") / "运行", title=EVIL_TITLE)


def _html(hand, lang: str = "zh-en") -> str:  # type: ignore[no-untyped-def]
    run, bounds, names = hand
    (path,) = write_reports(run, formats=["html"], lang=lang, boundaries=bounds,
                            region_names=names)
    return path.read_text(encoding="utf-8")


def test_no_external_resources(hand) -> None:  # type: ignore[no-untyped-def]
    page = _html(hand)
    p = _Collect()
    p.feed(page)
    for tag, attrs in p.tags:
        for key in ("src", "href", "xlink:href", "data", "action"):
            v = attrs.get(key)
            assert v is None or v.startswith("#"), (tag, key, v)
        assert tag not in ("link", "img", "iframe", "object", "embed"), tag
    assert "@import" not in page and "url(" not in page
    # the CSP forbids any fetch even if something slipped through
    assert "default-src 'none'" in page


def test_user_strings_are_escaped(hand) -> None:  # type: ignore[no-untyped-def]
    page = _html(hand)
    p = _Collect()
    p.feed(page)
    # only our scripts exist: the JSON manifest, the sorting code and the map selector code
    # (one year, one method: no map-layer JSON, see test_map_layers_*)
    assert [a.get("type") for a, _ in p.scripts] == ["application/json", None, None]
    assert all("alert(" not in body for a, body in p.scripts if a.get("type") is None)
    assert SCRIPT_CLASS not in page  # never raw ...
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # ... always as text
    assert "<script>alert(2)" not in page
    manifest = json.loads(p.scripts[0][1])
    assert manifest["title"] == EVIL_TITLE  # the safe JSON decodes to the original string
    assert "\\u003c/script\\u003e" in page


def test_safe_json_escapes_breakout_characters() -> None:
    text = str(safe_json({"a": "</script>&\u2028"}))
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script>&\u2028"}


def test_synthetic_banner_first_and_unverified_flagged(hand) -> None:  # type: ignore[no-untyped-def]
    page = _html(hand)
    body = page.index("<body>")
    banner = page.index('id="synthetic-banner"')
    assert body < banner < page.index("<main>")
    assert SAMPLE_LABEL in page[banner:banner + 400]
    assert 'id="unverified-note"' in page
    # the unverified coefficient row carries the visible flag
    row = re.search(r"<tr><td>fv\.water_conservation</td>.*?</tr>", page)
    assert row and "⚠ 未核实 / ⚠ unverified" in row.group(0) and 'class="w"' in row.group(0)


def test_map_one_shape_per_region_coloured_by_value(hand) -> None:  # type: ignore[no-untyped-def]
    page = _html(hand)
    shapes = re.findall(r'<path class="region" data-region-id="(\d+)" fill="(#[0-9a-f]+)"', page)
    assert [s[0] for s in shapes] == ["510104", "510105"]
    fills = dict(shapes)
    # 510104 has 6.3 万元/km2 > 510105's 2.0: darkest vs lightest class
    assert fills["510104"] == "#006d2c" and fills["510105"] == "#edf8e9"
    assert "锦江区 (510104): 6.30 万元/km² / 10k CNY/km²" in page


def test_summary_numbers(hand) -> None:  # type: ignore[no-untyped-def]
    page = _html(hand, "zh")
    # GEP 2020 = 6,300,000 + 1,200,000 = 7,500,000 CNY = 0.075 亿元, shown to 2 decimals
    card = re.search(r'<div class="k">GEP总值 2020 · 功能价值法</div><div class="v">([0-9.]+)<',
                     page)
    assert card and card.group(1) == f"{7_500_000 * 1e-8:.2f}"
    # compensation paid = money changing hands: 510104 pays 1,000,000 and receives 250,000, so the
    # positive net is 750,000 CNY = 75 万元 (not the Σ of ledger lines, 125 万元)
    assert '<div class="k">补偿资金(净额划转) 2020</div><div class="v">75.00</div>' in page


@pytest.mark.parametrize(("lang", "present", "absent"), [
    ("zh", "核算总表", "GEP account"),
    ("en", "GEP account", "核算总表"),
    ("zh-en", "核算总表 / GEP account", None),
])
def test_language(hand, lang: str, present: str, absent: str | None) -> None:  # type: ignore[no-untyped-def]
    page = _html(hand, lang)
    assert present in page
    if absent:
        assert absent not in page


def test_deterministic_and_path_independent(hand, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run, bounds, names = hand
    first = _html(hand)
    other = tmp_path / "副本"
    shutil.copytree(run, other)
    assert _html(hand) == first
    assert _html((other, bounds, names)) == first


def test_missing_tables_and_no_boundaries(tmp_path: Path) -> None:
    run = tmp_path / "只有清单"
    (run / "tables").mkdir(parents=True)
    (run / "manifest.json").write_text('{"title": "t", "synthetic": false}', encoding="utf-8")
    (run / "tables" / "mystery.csv").write_text("a,b\n1,x\n", encoding="utf-8")
    (path,) = write_reports(run, formats=["html"], lang="en")
    page = path.read_text(encoding="utf-8")
    assert 'id="synthetic-banner"' not in page
    assert "No region boundaries" in page
    assert "<h3>mystery</h3>" in page  # unknown tables are shown, not dropped


def test_uncertainty_intervals_and_tornado(tmp_path: Path) -> None:
    run, bounds, names = make_hand_run(tmp_path / "不确定性")
    # shapes of gep/tuning: uncertainty (p5/p50/p95_cny per service, 'total', region 'all')
    (run / "tables" / "uncertainty.csv").write_text(
        "region_id,year,method,service,point_cny,p5_cny,p50_cny,p95_cny\n"
        "510104,2020,function_value,total,6300000,5000000,6300000,8000000\n"
        "510104,2020,function_value,recreation,300000,1,2,3\n"
        "510105,2020,function_value,total,1200000,1000000,1200000,1500000\n"
        "all,2020,function_value,total,7500000,6000000,7500000,9500000\n", encoding="utf-8")
    (run / "tables" / "sensitivity.csv").write_text(
        "output,analysis,coefficient,low,high,output_point_cny,output_at_low_cny,"
        "output_at_high_cny\n"
        "all/total,oat,fv.price_small,1,2,100,95,105\n"
        "all/total,oat,fv.price_big,1,9,100,60,150\n"
        "all/total,sobol,fv.price_big,1,9,100,,\n", encoding="utf-8")
    (path,) = write_reports(run, formats=["html"], lang="en", boundaries=bounds,
                            region_names=names)
    page = path.read_text(encoding="utf-8")
    svg = page[page.index('<svg id="intervals"'):]
    svg = svg[:svg.index("</svg>")]
    # 510104 first (larger P50), 510105 second; 'all' and per-service rows not drawn.
    # 630 万元 = P50 of 6,300,000 CNY; P5 500, P95 800 万元
    titles = re.findall(r"<title>(.*?)</title>", svg)
    assert titles == ["Jinjiang: P5 500.00 · P50 630.00 · P95 800.00",
                      '=HYPERLINK(&#34;http://x&#34;): P5 100.00 · P50 120.00 · P95 150.00']
    torn = page[page.index('<svg id="tornado"'):]
    torn = torn[:torn.index("</svg>")]
    # widest swing first: price_big (60…150) before price_small (95…105)
    assert re.findall(r"<title>(.*?):", torn) == ["fv.price_big", "fv.price_small"]
    assert "all/total" in page


def test_missing_manifest_fields_print_blank(tmp_path: Path) -> None:
    run = tmp_path / "空字段"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({
        "title": None, "price_base_year": None,
        "coefficient_sets": [{"id": "c", "price_year": None, "verification": "verified"}],
        "warnings": [{"code": "X", "message": "m", "file": None, "row": None}]}),
        encoding="utf-8")
    (path,) = write_reports(run, formats=["html"], lang="en")
    body = path.read_text(encoding="utf-8").split("<main>")[1].split('<script type=')[0]
    assert ">None<" not in body


KNOWN_TABLES = ["gep", "services", "extent", "carbon_stock", "carbon_flux",
                "carbon_flux_summary", "compensation_ledger", "compensation_net",
                "coefficients_used", "uncertainty", "sensitivity", "extent_account",
                "gep_constant", "change_decomposition", "uncertainty_carbon",
                "sensitivity_carbon"]


@pytest.mark.parametrize("name", KNOWN_TABLES)
@pytest.mark.parametrize("header", ["foo,bar\n1,x\n", "region_id,year\n510104,2020\n",
                                    "region_id,value_cny,co2e_t,amount_cny\n1,2,3,4\n"])
def test_known_table_with_unexpected_columns_does_not_crash(tmp_path: Path, name: str,
                                                            header: str) -> None:
    run = tmp_path / "r"
    (run / "tables").mkdir(parents=True)
    (run / "manifest.json").write_text('{"synthetic": true}', encoding="utf-8")
    (run / "tables" / f"{name}.csv").write_text(header, encoding="utf-8")
    paths = write_reports(run, formats=["xlsx", "html"], lang="zh")
    assert [p.name for p in paths] == ["report.xlsx", "report.html"]


def test_prefecture_run_maps_prefecture_boundaries(tmp_path: Path) -> None:
    from gep.regions import load_registry

    reg = load_registry("sichuan")
    assert reg.prefecture_boundaries() is not None, "the sichuan registry ships prefecture boundaries"
    ids = reg.prefectures.get_column("region_id").to_list()  # a run rolled up to 21 prefectures
    run, _, _ = make_sample_run(tmp_path / "市级", region_ids=ids, regions="sichuan")
    (path,) = write_reports(run, formats=["html"], lang="zh")
    page = path.read_text(encoding="utf-8")
    shapes = re.findall(r'<path class="region" data-region-id="(\d+)" fill="(#[0-9a-f]+)"', page)
    assert sorted(s[0] for s in shapes) == sorted(ids)
    assert "#d9d9d9" not in {s[1] for s in shapes}  # every prefecture has a value
    assert "成都市 (510100): " in page


def test_map_carries_the_registry_caveat(tmp_path) -> None:
    """The 审图号 note of the registry is printed under the map of a Sichuan run."""
    import json

    from gep.regions import load_registry
    from gep.reports import write_reports

    run = tmp_path / "审图"
    (run / "tables").mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps({"regions": "sichuan", "title": "t"}), encoding="utf-8")
    (run / "tables" / "gep.csv").write_text(
        "region_id,year,method,total_cny\n510104,2020,equivalent_factor,1000000\n", encoding="utf-8")
    (html,) = write_reports(run, formats=("html",))
    caveat = load_registry("sichuan").map_caveat
    assert caveat and caveat in html.read_text(encoding="utf-8").replace("&#39;", "'").replace("&#34;", '"')


def test_account_table_subtotals_total_and_scope(hand) -> None:  # type: ignore[no-untyped-def]
    """Hand run, 2020, function value, both regions: 220 + 500 + 30 = 750 万元 (sample.py)."""
    page = _html(hand, "zh")
    scope = re.search(r'<span class="scope" id="account-scope"> — (.*?)</span>', page).group(1)
    assert scope == "全部区域 (2) · 2020年 · 功能价值法 · 价值量单位：万元"
    body = page[page.index('id="t-account"'):]
    body = body[:body.index("</table>")]
    assert 'class="sortable"' not in page[page.index('id="t-account"') - 40:page.index(
        'id="t-account"')]  # subtotal rows must not be sorted away from their lines
    rows = re.findall(r'<tr( class="(sub|total)")?>(.*?)</tr>', body, re.DOTALL)

    def value(cells: str) -> float:
        return float(re.findall(r"<td[^>]*>(.*?)</td>", cells)[5].replace(",", ""))

    subs = [value(c) for _, k, c in rows if k == "sub"]
    (total,) = [value(c) for _, k, c in rows if k == "total"]
    assert subs == [220.0, 500.0, 30.0] and total == 750.0
    assert 'title="7,500,000.00 元"' in body  # the total in 元 on hover


def test_engine_tables_in_words_and_wan_yuan(hand) -> None:  # type: ignore[no-untyped-def]
    page = _html(hand, "zh")
    net = page[page.index('id="t-net"'):]
    head = re.findall(r"<th[^>]*>(.*?)</th>", net[:net.index("</thead>")])
    assert "净额 (万元)" in head or any(h.endswith("(万元)") for h in head)
    assert 'title="-750,000.00 元"' in net[:net.index("</table>")]  # −75 万元 shown, 元 on hover


# the table rows as the template's jinja loop wrote them before Table.body (same environment options)
_JINJA_ROWS = """{% for row in t.rows %}
<tr{% if t.row_classes and t.row_classes[loop.index0] %} class="{{ t.row_classes[loop.index0] }}"{% endif %}>{% for c in row %}<td{% if c.numeric %} class="n"{% elif c.warn %} class="w"{% endif %}{% if c.title %} title="{{ c.title }}"{% endif %}>{{ c.text }}</td>{% endfor %}</tr>
{% endfor %}
"""


def test_table_body_is_the_jinja_loop() -> None:
    """Table.body() (rows rendered in Python) gives the bytes of the template loop it replaced."""
    import polars as pl
    from gep.reports.html import Cell, Table, _blank_none, make_table
    from jinja2 import Environment

    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True, finalize=_blank_none,
                      keep_trailing_newline=True)
    loop = env.from_string(_JINJA_ROWS)
    cells = [[Cell("1,234.50", True, False, 'v "1" & <2> 元'), Cell("a<b>&'c'", False, True),
              Cell("", True, True)], [Cell(EVIL_TITLE, False), Cell("x", False, False, ""),
                                      Cell("=1+1", False)]]
    for classes in (None, ["sub", ""], ["total", "a\"b"]):
        t = Table("t", ["a", "b", "c"], [True, False, True], cells, None, classes)
        assert str(t.body()) == loop.render(t=t)
    df = pl.DataFrame({"region_id": ["510104", None], "value_cny": [12_345.5, float("nan")],
                       "n": [3, None], "verification": ["unverified", "verified"]})
    t = make_table("t-x", df, "zh-en", "x", names={"510104": "锦江区 & <co>"})
    assert str(t.body()) == loop.render(t=t)
    assert t.rows[0][1].text == "锦江区 & <co>" and t.rows[0][2].title and t.rows[1][2].text == "—"
