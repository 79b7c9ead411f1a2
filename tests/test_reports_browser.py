"""Open the HTML report in headless Chromium: no console errors, no network, map, sorting.

Needs Debian `chromium` + `chromium-driver` (apt) and selenium; skipped with the reason
when either is missing. Selenium Manager is never used (explicit chromedriver path).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from gep.reports import write_reports
from gep.reports.sample import make_sample_run

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or (
    "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None)
SCREENSHOT_COPY = Path("/tmp/gep_report_screenshot.png")


def _driver(tmp: Path):  # type: ignore[no-untyped-def]
    if CHROMIUM is None or CHROMEDRIVER is None:
        if os.environ.get("GEP_REQUIRE_BROWSER") == "1":  # CI: must run, never skip
            pytest.fail("GEP_REQUIRE_BROWSER=1 but chromium/chromedriver were not found")
        pytest.skip("headless Chromium not found: install the Debian packages "
                    "`chromium chromium-driver` (apt-get install -y chromium chromium-driver)")
    from selenium import webdriver  # selenium is in the [test] extra: missing is a failure, never a skip
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-default-apps",
                "--disable-extensions", "--window-size=1280,1800",
                f"--user-data-dir={tmp / 'chrome-profile'}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    driver = _driver(tmp_path_factory.mktemp("chrome"))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def opened(browser, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("浏览器报告")
    names = {"510101": "<script>alert(1)</script>", "510102": '=HYPERLINK("http://x")'}
    run, bounds, region_names = make_sample_run(tmp / "运行", n_regions=30, names=names)
    write_reports(run, formats=["html"], lang="zh-en", boundaries=bounds,
                  region_names=region_names)
    browser.get_log("performance")  # drop the start-up tab's own chrome:// requests
    browser.get_log("browser")
    browser.get((run / "report.html").as_uri())
    return browser, tmp, len(bounds["features"])


def test_no_console_errors_and_no_network(opened) -> None:  # type: ignore[no-untyped-def]
    driver, _, _ = opened
    logs = driver.get_log("browser")
    errors = [e for e in logs if e.get("level") in ("SEVERE", "ERROR")]
    assert errors == []
    # The injected name must not have run: no alert is open and the text is shown literally.
    assert "<script>alert(1)</script>" in driver.page_source.replace("&lt;", "<").replace(
        "&gt;", ">")
    urls, from_page = [], []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            url = msg["params"]["request"]["url"]
            urls.append(url)
            if str(msg["params"].get("documentURL", "")).startswith("file://"):
                from_page.append(url)
    assert any(u.endswith("report.html") for u in from_page), "page load not logged"
    # Everything the report's document asked for is the file itself or inline data ...
    assert [u for u in from_page if not u.startswith(("file://", "data:"))] == []
    # ... and nothing at all went to the network while the report was open.
    assert [u for u in urls if u.startswith(("http:", "https:", "ws:", "wss:"))] == []


def test_map_has_one_shape_per_region(opened) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    driver, _, n_regions = opened
    shapes = driver.find_elements(By.CSS_SELECTOR, "svg#gep-map path.region")
    assert len(shapes) == n_regions == 30
    ids = {s.get_attribute("data-region-id") for s in shapes}
    assert len(ids) == 30
    title = driver.find_element(
        By.CSS_SELECTOR, 'svg#gep-map path[data-region-id="510101"] title')
    assert "<script>alert(1)</script>" in title.get_attribute("textContent")


def test_clicking_a_header_sorts(opened) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    driver, tmp, _ = opened
    table = driver.find_element(By.ID, "t-gep")
    headers = table.find_elements(By.CSS_SELECTOR, "thead th")
    total_col = next(i for i, h in enumerate(headers) if h.text.startswith("合计"))

    def column() -> list[float]:
        cells = table.find_elements(By.CSS_SELECTOR, f"tbody tr td:nth-child({total_col + 1})")
        return [float(c.text.replace(",", "")) for c in cells]

    before = column()
    assert before != sorted(before)  # the fixture is not already sorted by total
    driver.execute_script("arguments[0].scrollIntoView()", headers[total_col])
    headers[total_col].click()
    assert column() == sorted(before)
    assert headers[total_col].get_attribute("aria-sort") == "ascending"
    headers[total_col].click()
    assert column() == sorted(before, reverse=True)
    driver.execute_script("window.scrollTo(0, 0)")
    shot = tmp / "report.png"
    assert driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    shutil.copyfile(shot, SCREENSHOT_COPY)


def test_sichuan_registry_map_in_browser(
        browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Real county boundaries from gep.regions (183 counties): one shape each, no errors."""
    from gep.regions import load_registry
    from selenium.webdriver.common.by import By

    reg = load_registry("sichuan")
    bounds = reg.boundaries()
    assert bounds is not None, "the sichuan registry ships a boundaries file"
    ids = reg.counties.get_column("region_id").to_list()
    run, _, _ = make_sample_run(tmp_path / "四川", region_ids=ids, regions="sichuan")
    write_reports(run, formats=["html"], lang="zh-en")  # names and map from the registry
    driver = browser
    driver.get_log("browser")
    driver.get((run / "report.html").as_uri())
    assert [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"] == []
    shapes = driver.find_elements(By.CSS_SELECTOR, "svg#gep-map path.region")
    assert len(shapes) == len(bounds["features"]) == len(ids)
    jinjiang = driver.find_element(
        By.CSS_SELECTOR, 'svg#gep-map path[data-region-id="510104"] title')
    assert jinjiang.get_attribute("textContent").startswith("锦江区 (510104): ")
    box = driver.find_element(By.ID, "gep-map").rect
    assert box["width"] > 500 and box["height"] > 300  # drawn, not collapsed
    driver.execute_script("document.getElementById('map').scrollIntoView()")
    shot = tmp_path / "sichuan.png"
    assert driver.save_screenshot(str(shot))
    shutil.copyfile(shot, SCREENSHOT_COPY.with_name("gep_report_screenshot_sichuan.png"))


def test_map_year_method_selector_switches_layers(
        browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Choosing another year and method recolours the map, retitles it and redraws the legend."""
    import polars as pl
    from gep.reports.svg import PALETTE, fmt_num
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    run, bounds, names = make_sample_run(tmp_path / "地图图层", n_regions=30,
                                         years=(2015, 2020),
                                         methods=("function_value", "equivalent_factor"))
    write_reports(run, formats=["html"], lang="zh-en", boundaries=bounds, region_names=names)
    gep = pl.read_csv(run / "tables" / "gep.csv", schema_overrides={"region_id": pl.Utf8})
    driver = browser
    driver.get_log("browser")
    driver.get((run / "report.html").as_uri())
    svg = driver.find_element(By.ID, "gep-map")
    first = gep.get_column("method")[0]  # the table's first method is the printed one
    other = ({"function_value", "equivalent_factor"} - {first}).pop()
    assert svg.get_attribute("data-layer") == f"2020|{first}"  # latest year, first method

    def fills() -> dict[str, str]:
        return {p.get_attribute("data-region-id"): p.get_attribute("fill")
                for p in svg.find_elements(By.CSS_SELECTOR, "path.region")}

    default = fills()
    Select(driver.find_element(By.ID, "map-year")).select_by_value("2015")
    Select(driver.find_element(By.ID, "map-method")).select_by_value(other)
    assert svg.get_attribute("data-layer") == f"2015|{other}"
    after = fills()
    shapes = svg.find_elements(By.CSS_SELECTOR, "path.region")
    assert len(shapes) == len(after) == 30  # still one shape per region
    # expected colours from the engine table: the lowest GEP/km² of that year and method
    # is in the first quantile class, the highest in the last
    layer = gep.filter((pl.col("year") == 2015) & (pl.col("method") == other))
    lo = layer.sort("gep_cny_per_km2").row(0, named=True)
    hi = layer.sort("gep_cny_per_km2").row(-1, named=True)
    assert after[lo["region_id"]] == PALETTE[0] and after[hi["region_id"]] == PALETTE[-1]
    assert after != default
    title = svg.find_element(
        By.CSS_SELECTOR, f'path[data-region-id="{hi["region_id"]}"] title')
    value = fmt_num(hi["gep_cny_per_km2"] * 1e-4)  # CNY → 万元
    assert title.get_attribute("textContent").endswith(f"): {value} 万元/km² / 10k CNY/km²")
    legend = driver.find_elements(By.CSS_SELECTOR, "#map-legend div")
    assert len(legend) == 5
    assert legend[0].text.startswith(fmt_num(lo["gep_cny_per_km2"] * 1e-4) + " – ")
    assert legend[-1].text.split(" – ")[1].startswith(value)
    assert driver.find_element(By.ID, "map-caption").text == "2015 · " + {
        "equivalent_factor": "当量因子法 / Equivalent-factor method",
        "function_value": "功能价值法 / Function-value method"}[other]
    # and back: the static (printed) layer returns exactly
    Select(driver.find_element(By.ID, "map-year")).select_by_value("2020")
    Select(driver.find_element(By.ID, "map-method")).select_by_value(first)
    assert fills() == default
    assert [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"] == []


CHART_TEXT = ("svg.chart text, svg.tornado text, svg.intervals text, svg#flow text")
# effective size of each chart text on screen: computed font size × the SVG's drawn scale
# (a viewBox drawn narrower than its width shrinks its text; getComputedStyle does not see that)
EFFECTIVE_SIZES = """
return Array.from(document.querySelectorAll(arguments[0])).filter(function(t){
  return t.getClientRects().length > 0;
}).map(function(t){
  var svg = t.ownerSVGElement, vb = svg.viewBox.baseVal;
  var scale = vb && vb.width ? svg.getBoundingClientRect().width / vb.width : 1;
  return parseFloat(getComputedStyle(t).fontSize) * scale;
});
"""


@pytest.fixture(scope="module")
def demo_like(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 regions, two years, two methods, with a compensation ledger (flow diagram)."""
    run, bounds, names = make_sample_run(tmp_path_factory.mktemp("手机") / "运行", n_regions=30,
                                         years=(2015, 2020),
                                         methods=("function_value", "equivalent_factor"))
    (run / "tables" / "compensation_ledger.csv").write_text(
        "agreement_id,period,payer,payee,amount_cny\nX,2020,510101,510102,1250000\n"
        "X,2020,510103,510102,250000\n", encoding="utf-8")
    write_reports(run, formats=["html"], lang="zh-en", boundaries=bounds, region_names=names)
    return run


@pytest.mark.parametrize("size", [(390, 844), (1440, 900)], ids=["phone", "desktop"])
def test_account_scope_total_and_readable_charts(browser, demo_like: Path,
                                                 size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    import polars as pl
    from selenium.webdriver.common.by import By

    width, height = size
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
    try:
        browser.get_log("browser")
        browser.get((demo_like / "report.html").as_uri())
        assert browser.execute_script("return window.innerWidth") == width
        # the account table says what it shows: all regions, the latest year, the first method
        scope = browser.find_element(By.ID, "account-scope").text
        assert "全部区域" in scope and "(30)" in scope and "2020" in scope
        assert "功能价值法" in scope or "当量因子法" in scope
        assert "万元" in scope
        # the total row equals the sum of the category subtotals, and of the lines
        table = browser.find_element(By.ID, "t-account")

        def values(cls: str) -> list[float]:
            rows = table.find_elements(By.CSS_SELECTOR, f"tbody tr{cls}")
            return [float(r.find_elements(By.TAG_NAME, "td")[5].get_attribute("textContent")
                          .replace(",", "")) for r in rows]

        lines, subs, (total,) = values(":not(.sub):not(.total)"), values(".sub"), values(".total")
        assert len(subs) >= 2 and len(lines) > len(subs)
        assert total == pytest.approx(sum(subs), abs=0.01 * len(subs))
        assert total == pytest.approx(sum(lines), abs=0.01 * len(lines))
        # and the engine's total: Σ gep.total_cny of that year and method, in 万元
        gep = pl.read_csv(demo_like / "tables" / "gep.csv")
        first = gep.get_column("method")[0]
        engine = gep.filter((pl.col("year") == 2020) & (pl.col("method") == first))[
            "total_cny"].sum() * 1e-4
        assert total == pytest.approx(engine, abs=0.01)
        # money cells carry their value in 元 as hover title
        cell = table.find_element(By.CSS_SELECTOR, "tbody tr.total td:nth-child(6)")
        assert cell.get_attribute("title").endswith(" 元 / CNY") or "元" in cell.get_attribute("title")
        # the flow diagram labels carry their unit
        flow = browser.find_elements(By.CSS_SELECTOR, "svg#flow text")
        assert flow and all(t.get_attribute("textContent").endswith("万元 / 10k CNY")
                            for t in flow)
        # every chart text is at least 11 px on screen
        sizes = browser.execute_script(EFFECTIVE_SIZES, CHART_TEXT)
        assert len(sizes) > 50
        assert min(sizes) >= 11 - 1e-6, f"smallest chart text {min(sizes):.1f} px at {width} px"
        # legends wrap instead of running off the screen
        for legend in browser.find_elements(By.CSS_SELECTOR, ".legend"):
            assert legend.value_of_css_property("flex-wrap") == "wrap"
            assert legend.rect["width"] <= width
        assert [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"] == []
        browser.execute_script("document.getElementById('account-heading').scrollIntoView()")
        assert browser.save_screenshot(str(demo_like / f"account_{width}.png"))
        shutil.copyfile(demo_like / f"account_{width}.png",
                        SCREENSHOT_COPY.with_name(f"gep_report_screenshot_{width}.png"))
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
