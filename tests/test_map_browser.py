"""The map on a phone (390 x 844) and a desktop (1400 x 900) in headless Chromium, offline.

Screenshots of every state checked are kept as test artefacts: under $ATLAS_SCREENSHOTS when set,
else in pytest's temporary directory (the path is printed; `pytest -s` shows it).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from atlas.cli import cli
from tests.browser import browser_available, make_driver, requested_urls, severe_console_entries

SIZES = [(390, 844), (1400, 900)]
UI_JS = "const ui = Object.values(window).find(v => v && v.entries && v.setLanguage);"
MAP_JS = "const map = Object.values(window).find(v => v instanceof L.Map);"


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    out = tmp_path_factory.mktemp("map") / "output"
    result = CliRunner().invoke(cli, ["render", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def screens(tmp_path_factory):
    where = Path(os.environ["ATLAS_SCREENSHOTS"]) if os.environ.get("ATLAS_SCREENSHOTS") else \
        tmp_path_factory.mktemp("screens")
    where.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {where}")
    return where


@pytest.fixture(params=SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def sized(request, tmp_path_factory):
    """Offline Chromium whose page is exactly width x height CSS pixels (a phone's is a touch screen)."""
    if not browser_available():
        if os.environ.get("CI"):
            pytest.fail("CI needs chromium and chromium-driver: .ci/run installs them")
        pytest.skip("chromium/chromedriver/selenium not installed")
    width, height = request.param
    driver = make_driver(tmp_path_factory.mktemp("chromium-profile"), width, height)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
    driver.size = (width, height)
    try:
        yield driver
    finally:
        driver.quit()


def open_page(driver, path: Path, fragment: str = "") -> None:
    driver.get(path.as_uri() + fragment)
    for _ in range(50):
        if driver.execute_script("return document.readyState") == "complete":
            break
        time.sleep(0.1)
    time.sleep(0.4)


def shoot(driver, screens: Path, name: str) -> Path:
    path = screens / f"{name}-{driver.size[0]}x{driver.size[1]}.png"
    driver.save_screenshot(str(path))
    return path


def assert_clean(driver) -> None:
    assert severe_console_entries(driver) == []
    assert [u for u in requested_urls(driver) if u.startswith(("http:", "https:", "ws:"))] == []


COVERAGE_JS = """
const box = document.querySelector('.folium-map').getBoundingClientRect();
const rects = [...document.querySelectorAll('.leaflet-control')].map(c => c.getBoundingClientRect())
  .filter(r => r.width && r.height)
  .map(r => ({left: r.left - box.left, top: r.top - box.top, right: r.right - box.left, bottom: r.bottom - box.top}));
return AtlasCore.coverage(rects, box.width, box.height);
"""


def test_controls_cover_at_most_a_quarter_of_the_map(out, sized, screens):
    open_page(sized, out / "atlas.html")
    covered = sized.execute_script(COVERAGE_JS)
    print(f"\ncontrols cover {covered:.1%} of the map at {sized.size}")
    shoot(sized, screens, "map")
    assert covered <= 0.25
    width = sized.execute_script("return document.documentElement.scrollWidth")
    assert width <= sized.size[0]  # nothing wider than the screen
    assert_clean(sized)


POPUP_BOX_JS = """
const popup = document.querySelector('.leaflet-popup');
if (!popup) return null;
const r = popup.getBoundingClientRect();
return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: innerWidth, height: innerHeight};
"""


def assert_inside(box) -> None:
    assert box is not None, "no popup"
    assert box["left"] >= 0 and box["top"] >= 0, box
    assert box["right"] <= box["width"] and box["bottom"] <= box["height"], box


WIDER_THAN_POPUP_JS = """
const content = document.querySelector('.leaflet-popup-content');
return content.scrollWidth - content.clientWidth;
"""


# Chongqing as a whole is drawn as an outline, not a point, and its figures' notes hold a long address.
@pytest.mark.parametrize("place", ["jinyun-mountain", "wulong", "guangyang-island", "chongqing"])
def test_an_opened_popup_lies_inside_the_viewport(out, sized, screens, place):
    open_page(sized, out / "atlas.html", f"#place={place}")
    time.sleep(0.5)
    box = sized.execute_script(POPUP_BOX_JS)
    print(f"\npopup of {place} at {sized.size}: {box}")
    assert_inside(box)
    summaries = sized.find_elements(By.CSS_SELECTOR, ".leaflet-popup-content summary")
    summaries[0].click()  # a folded part (figures), as a reader opens it; then every other one
    sized.execute_script("document.querySelectorAll('.leaflet-popup-content details').forEach(d => { d.open = true; })")
    time.sleep(0.6)
    unfolded = sized.execute_script(POPUP_BOX_JS)
    shoot(sized, screens, f"popup-{place}")
    assert_inside(unfolded)
    assert sized.execute_script(WIDER_THAN_POPUP_JS) <= 0  # every line wraps: nothing to scroll sideways
    assert_clean(sized)


HIT_TEST_JS = UI_JS + MAP_JS + """
const box = map.getContainer().getBoundingClientRect();
const designations = ui.entries.filter(e => e.layer instanceof L.AtlasPoints && e.layer._map
  && !e.layer.options.cluster && e.id !== 'places' && e.id !== 'good-air-days');
const renderer = map.getRenderer(L.circleMarker([0, 0]));
const results = [];
for (const entry of designations) {
  entry.layer.eachLayer(marker => {
    const point = map.latLngToContainerPoint(marker.getLatLng());
    const x = box.left + point.x, y = box.top + point.y;
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) return;
    const element = document.elementFromPoint(x, y);
    let top = null;  // the canvas's own hit test: the last drawn path containing the point
    for (let order = renderer._drawFirst; order; order = order.next) {
      if (order.layer._containsPoint && order.layer._containsPoint(point)) top = order.layer;
    }
    results.push({layer: entry.id, place: marker.feature.properties.p,
      element: element ? element.tagName + '.' + (element.className || '') : null,
      control: !!(element && element.closest('.leaflet-control')),
      cluster: !!(top && top.cluster),
      own: !!(element && element.closest('.leaflet-overlay-pane')),
      designation: !!(top && designations.some(e => e.layer.hasLayer(top))),
      itself: top === marker});
  });
}
return results;
"""


def test_every_designation_marker_hit_tests_to_the_map_layer(out, sized, screens):
    open_page(sized, out / "atlas.html")
    results = sized.execute_script(HIT_TEST_JS)
    shoot(sized, screens, "hit-test")
    assert len(results) >= 10
    wrong = [r for r in results if r["control"] or r["cluster"] or not r["own"] or not r["designation"]]
    assert wrong == []
    print(f"\n{len(results)} designation markers at {sized.size}; "
          f"{sum(r['itself'] for r in results)} hit themselves, the others a designation marker drawn above")
    assert sum(r["itself"] for r in results) >= len(results) - 2
    assert_clean(sized)


FILLS_JS = UI_JS + """
const out = {};
ui.entries.find(e => e.id === 'districts').layer.eachLayer(l => { out[l.feature.properties.p] = l.options.fillColor; });
return out;
"""
CLUSTER_COUNTS_JS = UI_JS + """
const places = ui.entries.find(e => e.id === 'places').layer;
return places.shownGroups().reduce((n, [key, features]) => n + features.length, 0);
"""


def open_panel(driver, key: str) -> None:
    panel = driver.find_element(By.CSS_SELECTOR, f".atlas-panel-{key}")
    if "atlas-open" not in panel.get_attribute("class"):
        panel.find_element(By.CSS_SELECTOR, ".atlas-toggle").click()
        time.sleep(0.2)


LINK_BOXES_JS = """
return [...document.querySelectorAll('.atlas-panel-links a')].map(a => {
  const r = a.getClientRects()[0];
  return {text: a.textContent, href: a.getAttribute('href'), top: r.top, bottom: r.bottom, width: r.width,
          clipped: a.scrollWidth > a.clientWidth + 1};
});
"""


def test_the_links_read_as_text_one_under_another(out, sized, screens):
    """The book, the printable map and the downloads, linked from the map: whole words, one line
    after another (a panel's links once took Leaflet's 30-pixel button style and overlapped),
    and each credit said once when it has one language only."""
    open_page(sized, out / "atlas.html")
    open_panel(sized, "links")
    shoot(sized, screens, "links")
    links = sized.execute_script(LINK_BOXES_JS)
    assert {"index.html", "timeline.html", "atlas.png", "atlas.gpkg"} <= {link["href"] for link in links}
    for above, below in zip(links, links[1:]):
        assert above["bottom"] <= below["top"] + 1, (above, below)
    assert all(link["width"] > 60 and not link["clipped"] for link in links), links
    credits = sized.execute_script("return [...document.querySelectorAll('.atlas-credits li')].map(l => l.textContent)")
    halves = [text.split(" \u00b7 ") for text in credits]
    assert credits and not [parts for parts in halves if len(parts) == 2 and parts[0] == parts[1]], credits
    assert_clean(sized)


OPEN_PANELS_JS = """
const frame = document.querySelector('.folium-map').getBoundingClientRect();
return [...document.querySelectorAll('.atlas-panel.atlas-open')].map(panel => {
  const r = panel.getBoundingClientRect();
  return {panel: panel.className, inside: r.top >= frame.top && r.left >= frame.left && r.bottom <= frame.bottom
          && r.right <= frame.right};
});
"""


def test_panels_opened_one_after_another_stay_inside_the_map(out, sized, screens):
    """However many panels a reader opens, each lies whole inside the map, its body scrolling:
    the links panel, opened under the filter on a short screen, once ran past the map's bottom
    edge and its first lines could not be reached."""
    open_page(sized, out / "atlas.html")
    for key in ("filter", "links", "layers", "legend"):
        open_panel(sized, key)
        panels = sized.execute_script(OPEN_PANELS_JS)
        assert panels and all(p["inside"] for p in panels), (key, panels)
    shoot(sized, screens, "panels")
    assert_clean(sized)


TIP_BOXES_JS = """
return [...document.querySelectorAll('.search-tooltip .search-tip')].map(tip => {
  const r = tip.getBoundingClientRect();
  return {text: tip.textContent, left: r.left, right: r.right, clipped: tip.scrollWidth > tip.clientWidth + 1};
});
"""


def test_the_names_found_stay_on_the_screen(out, sized, screens):
    """The search list is as wide as the search box, its long names wrapped: on a phone it
    once ran past the screen's right edge, names cut off."""
    open_page(sized, out / "atlas.html")
    if not sized.find_element(By.CSS_SELECTOR, ".leaflet-control-search input").is_displayed():
        sized.find_element(By.CSS_SELECTOR, ".leaflet-control-search .search-button").click()  # folded on a phone
    sized.find_element(By.CSS_SELECTOR, ".leaflet-control-search input").send_keys("shan")
    time.sleep(0.8)  # leaflet-search waits 400 ms after typing
    shoot(sized, screens, "search")
    tips = sized.execute_script(TIP_BOXES_JS)
    assert len(tips) >= 3 and any("Jinyun" in tip["text"] for tip in tips)
    assert all(0 <= tip["left"] and tip["right"] <= sized.size[0] and not tip["clipped"] for tip in tips), tips
    assert_clean(sized)


def test_the_filter_changes_the_shading_and_the_counts(out, sized, screens):
    open_page(sized, out / "atlas.html")
    fills, places = sized.execute_script(FILLS_JS), sized.execute_script(CLUSTER_COUNTS_JS)
    open_panel(sized, "filter")
    count = sized.find_element(By.CSS_SELECTOR, ".atlas-count").text
    programme = Select(sized.find_element(By.CSS_SELECTOR, ".atlas-panel-filter select[name=programme]"))
    national = next(o for o in programme.options if o.text.startswith("National \"Two Mountains\""))
    programme.select_by_value(national.get_attribute("value"))
    time.sleep(0.3)
    shoot(sized, screens, "filter")
    assert sized.execute_script(FILLS_JS) != fills
    assert sized.find_element(By.CSS_SELECTOR, ".atlas-count").text != count
    assert sized.execute_script(CLUSTER_COUNTS_JS) < places
    batches = [o.text for o in Select(sized.find_element(
        By.CSS_SELECTOR, ".atlas-panel-filter select[name=batch]")).options]
    assert all(b.startswith("National \"Two Mountains\"") for b in batches[1:])  # only that programme's batches
    legend = sized.execute_script("return document.querySelector('.atlas-panel-legend').textContent")
    assert "Municipal \"Two Mountains\" base, batch" not in legend  # values no longer present leave the legend
    assert_clean(sized)


def test_title_lang_and_address_follow_the_place_and_language(out, sized, screens):
    open_page(sized, out / "atlas.html")
    assert sized.execute_script("return [document.title, document.documentElement.lang]") == \
        ["Chongqing Green Atlas · 重庆绿色地图集", "en"]
    sized.execute_script(UI_JS + MAP_JS + """
        const places = ui.entries.find(e => e.id === 'places').layer;
        ui.open(places.locate('wulong'), 'place', 'wulong');""")
    time.sleep(0.3)
    assert sized.execute_script("return location.hash") == "#place=wulong"
    assert sized.execute_script("return document.title").startswith("Wulong District · 武隆区 – ")
    Select(sized.find_element(By.CSS_SELECTOR, ".atlas-language select")).select_by_value("zh")
    time.sleep(0.3)
    shoot(sized, screens, "chinese")
    assert sized.execute_script("return [document.documentElement.lang, location.hash, document.title]") == \
        ["zh-Hans", "#place=wulong&lang=zh", "武隆区 – 重庆绿色地图集"]
    popup = sized.execute_script("return document.querySelector('.leaflet-popup-content').textContent")
    assert "武隆区" in popup and "Wulong District" not in popup
    legend = sized.execute_script("return document.querySelector('.atlas-panel-legend').textContent")
    assert "图例" in legend and "Legend" not in legend
    sized.execute_script(MAP_JS + "map.closePopup()")
    time.sleep(0.3)
    assert sized.execute_script("return location.hash") == "#lang=zh"
    open_page(sized, out / "atlas.html", "#place=no-such-place&lang=en")
    notice = sized.find_element(By.CSS_SELECTOR, ".atlas-notice").text
    shoot(sized, screens, "wrong-place")
    assert "no-such-place" in notice and "No such place" in notice
    assert_clean(sized)


@pytest.mark.parametrize("page", ["index.html", "timeline.html", "places/jinyun-mountain.html"])
def test_book_pages_fit_the_screen(out, sized, screens, page):
    open_page(sized, out / page)
    shoot(sized, screens, page.replace("/", "-").removesuffix(".html"))
    assert sized.execute_script("return document.documentElement.scrollWidth") <= sized.size[0]
    assert sized.execute_script("return [document.documentElement.lang, !!document.title]") == ["en", True]
    assert_clean(sized)
