"""The atlas as a book: the index, a page per place, the timeline and the printable overview map."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import warnings
from collections import Counter
from functools import reduce
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

import matplotlib
import matplotlib.text
import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from PIL import Image
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from atlas import overview
from atlas.boundaries import district_boundaries, simplified_boundaries
from atlas.cli import cli
from atlas.geocode import geocode_atlas
from atlas.load import PLACE_KINDS, default_seeds_dir, load_atlas
from atlas.model import CITY
from atlas.pages import KIND_ZH, MAPS_DIR, PLACES_DIR, figure_label, timeline_chart, write_pages
from atlas.units import format_number
from benchmarks.synthetic import write_seeds
from tests.browser import requested_urls, severe_console_entries
from tests.seedtools import copy_seeds, edit_seed
from tests.test_validate import XSS_NAMES

ATLAS = load_atlas()
XSS_NAME = XSS_NAMES[0]  # "<script>alert(1)</script>"
JINJA_NAME = "{{ 7 * 7 }}{% if true %}x{% endif %}"  # data, never a template
CJK = re.compile(r"[\u3400-\u9fff]")


def render(out: Path, *args: str) -> Path:
    result = CliRunner().invoke(cli, ["render", "--out", str(out), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


def files_of(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    return render(tmp_path_factory.mktemp("book") / "output")


@pytest.fixture(scope="module")
def xss_book(tmp_path_factory) -> Path:
    """The bundled seeds with Jinyun Mountain renamed to a script tag."""
    root = tmp_path_factory.mktemp("xss-book")
    seeds = copy_seeds(root / "seeds")

    def rename(entries):
        jinyun = next(e for e in entries if e["id"] == "jinyun-mountain")
        jinyun["name_en"] = XSS_NAME
        jinyun["aliases"] = [XSS_NAMES[1], JINJA_NAME]
    edit_seed(seeds, "places", rename)
    return render(root / "output", "--seeds", str(seeds))


class Page(HTMLParser):
    """A page as the tests read it: every href/src, element ids, and the text of the whole page."""

    def __init__(self, path: Path):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.scripts = 0
        self.text: list[str] = []
        self.feed(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.links += [attrs[a] for a in ("href", "src") if attrs.get(a) is not None]
        if "id" in attrs:
            self.ids.add(attrs["id"])
        self.scripts += tag == "script"

    def handle_data(self, data):
        self.text.append(data)

    @property
    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())


def html_pages(out: Path) -> list[Path]:
    return [out / "index.html", out / "timeline.html", *sorted((out / "places").glob("*.html"))]


# --- the pages as files ---------------------------------------------------------------------

def test_every_place_has_a_page(book):
    assert {p.stem for p in (book / "places").glob("*.html")} == set(ATLAS.places)
    for place in ATLAS.places.values():
        text = Page(book / "places" / f"{place.id}.html").all_text
        assert place.name_en in text and (place.name_zh or "") in text
        assert ATLAS.district_of(place).name_en in text


def test_every_link_resolves_to_a_file_in_the_output(book):
    targets = set()
    for page in html_pages(book):
        for link in Page(page).links:
            parts = urlsplit(link)
            assert not parts.scheme and not parts.netloc, f"{page.name}: {link} leaves the book"
            target = (page.parent / unquote(parts.path)).resolve()
            assert target.is_file() and target.is_relative_to(book.resolve()), f"{page.name}: {link}"
            targets.add(target.relative_to(book.resolve()).as_posix())
    assert {"index.html", "timeline.html", "atlas.html", "atlas.png", "atlas.svg", "book.css"} <= targets
    assert {f"places/{p}.html" for p in ATLAS.places} <= targets


def districts_with_places(atlas) -> set[str]:
    return {p.district for p in located_places(atlas)}


def located_places(atlas) -> list:
    """The places with a point: all but Chongqing as a whole."""
    return [p for p in atlas.places.values() if not p.city_wide]


SPOT = re.compile(r'<div class="map( inset)?"><img src="([^"]+)" width="(\d+)" height="(\d+)" alt="[^"]*">'
                  r'<svg class="spot" style="left:([\d.]+)%;top:([\d.]+)%"')


def spots_on(page: Path) -> dict[str, tuple[Path, int, int, float, float]]:
    """The page's locator and inset: (image file, width, height, dot x and y in percent)."""
    found = {("inset" if inset else "locator"): (page.parent / src, int(w), int(h), float(x), float(y))
             for inset, src, w, h, x, y in SPOT.findall(page.read_text(encoding="utf-8"))}
    assert found.keys() == {"locator", "inset"}, page.name
    return found


def svg_shapes(svg: Path) -> dict[str, list[shapely.Polygon]]:
    """The polygons of a map file by class, read back from its path data (M x y x y ... Z rings)."""
    shapes: dict[str, list[shapely.Polygon]] = {}
    for path in ElementTree.parse(svg).getroot().iter("{http://www.w3.org/2000/svg}path"):
        rings = [np.array(ring.split(), dtype=float).reshape(-1, 2) for ring in re.findall(r"M([^MZ]+)Z", path.get("d"))]
        shapes.setdefault(path.get("class"), []).append(
            reduce(shapely.symmetric_difference, [shapely.Polygon(r) for r in rings if len(r) >= 3]))  # even-odd
    return shapes


def test_place_pages_share_their_districts_maps(book):
    """A locator map and a city inset per district with places, and none for the others; a place
    page draws no geometry of its own, only its dots."""
    maps = {p.name for p in (book / PLACES_DIR / MAPS_DIR).iterdir()}
    assert maps == {f"{code}{suffix}.svg" for code in districts_with_places(ATLAS) for suffix in ("", "-city")} \
        | {f"{CITY.code}.svg"}
    for place in located_places(ATLAS):
        page = book / PLACES_DIR / f"{place.id}.html"
        assert "<path" not in page.read_text(encoding="utf-8")
        found = spots_on(page)
        assert found["locator"][0].name == f"{place.district}.svg"
        assert found["inset"][0].name == f"{place.district}-city.svg"


def test_locator_map_shows_the_district_among_neighbours_with_scale_and_north(book):
    for code in districts_with_places(ATLAS):
        svg = book / PLACES_DIR / MAPS_DIR / f"{code}.svg"
        root = ElementTree.parse(svg).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
        assert any(t.endswith(" km") for t in texts) and "N ↑" in texts
        shapes = svg_shapes(svg)
        assert len(shapes["home"]) == 1 and len(shapes["neighbour"]) >= 1, code
        district = ATLAS.districts[code]
        assert district.name_en in root.find("{http://www.w3.org/2000/svg}title").text
        city = svg_shapes(book / PLACES_DIR / MAPS_DIR / f"{code}-city.svg")
        assert len(city["city"]) == len(city["home"]) == 1 and city["city"][0].contains(city["home"][0].buffer(-0.5))


def test_chongqing_as_a_whole_has_a_page_of_the_whole_city_without_a_dot(book):
    html = (book / PLACES_DIR / "chongqing.html").read_text(encoding="utf-8")
    assert f'src="{MAPS_DIR}/{CITY.code}.svg"' in html and 'class="spot"' not in html
    shapes = svg_shapes(book / PLACES_DIR / MAPS_DIR / f"{CITY.code}.svg")
    assert len(shapes["home"]) == 1 and "neighbour" not in shapes
    text = Page(book / PLACES_DIR / "chongqing.html").all_text
    assert "3.754 million households" in text and "Chongqing as a whole" in text
    index = Page(book / "index.html")
    assert "places/chongqing.html" in index.links and "atlas.html#place=chongqing" not in index.links


def test_figures_show_their_status_on_pages_and_in_the_index(book):
    """A target reads as a target: its own column on the place's page, a tag in the index."""
    page = (book / PLACES_DIR / "beibei.html").read_text(encoding="utf-8")
    row = re.search(r'<tr id="figure-beibei-strategic-emerging-industries-doubling">(.*?)</tr>', page, re.S)[1]
    assert 'class="status-target">target' in row and "2026" in row
    row = re.search(r'<tr id="figure-bishan-national-day-tourists">(.*?)</tr>', (
        book / PLACES_DIR / "bishan.html").read_text(encoding="utf-8"), re.S)[1]
    assert 'class="status-achieved">achieved' in row
    wulong = re.search(r'<tr id="place-wulong".*?</tr>', (book / "index.html").read_text(encoding="utf-8"), re.S)[0]
    assert '<span class="status-target">target</span> <strong>steadily above 350</strong>' in wulong


def test_place_dot_lies_where_the_place_is_on_both_maps(book):
    """The dot's percentages, read off the page, put it inside the district's shape as the
    district's map file draws it, and where the place lies across the district's extent, east to
    west and north to south (the maps are equirectangular: linear in longitude and latitude)."""
    located = geocode_atlas(ATLAS, default_seeds_dir(), None).by_place()
    frame = district_boundaries(ATLAS.districts)
    extent = dict(zip(frame["code"], frame.geometry.bounds.values.tolist()))
    for place in located_places(ATLAS):
        west, south, east, north = extent[place.district]
        across = ((located[place.id].lon - west) / (east - west), (north - located[place.id].lat) / (north - south))
        for which, (svg, width, height, x, y) in spots_on(book / PLACES_DIR / f"{place.id}.html").items():
            assert 0 <= x <= 100 and 0 <= y <= 100, (place.id, which)
            root = ElementTree.parse(svg).getroot()
            assert (root.get("width"), root.get("height")) == (str(width), str(height))
            dot = shapely.Point(x / 100 * width, y / 100 * height)
            home = svg_shapes(svg)["home"][0]
            assert home.distance(dot) <= 1.5, (place.id, which, home.distance(dot))
            left, top, right, bottom = home.bounds
            expected = (left + across[0] * (right - left), top + across[1] * (bottom - top))
            assert dot.distance(shapely.Point(expected)) <= 1.5, (place.id, which, dot, expected)


def test_place_page_of_a_large_atlas_stays_small(tmp_path):
    """A synthetic place (one designation, one figure) on a page of its own text: a few
    kilobytes, as against 37 when each page drew its district."""
    seeds = write_seeds(60, tmp_path / "seeds")
    atlas = load_atlas(seeds)
    located = geocode_atlas(atlas, seeds, None).by_place()
    written = write_pages(atlas, located, district_boundaries(atlas.districts), tmp_path / "book")
    pages = [p for p in written if p.parent.name == PLACES_DIR]
    assert len(pages) == len(atlas.places)
    assert max(p.stat().st_size for p in pages) < 8_000


def test_index_lists_every_place_with_its_page_and_map_link(book):
    page = Page(book / "index.html")
    assert {i.removeprefix("place-") for i in page.ids if i.startswith("place-")} == set(ATLAS.places)
    assert {link for link in page.links if link.startswith("atlas.html#")} == \
        {f"atlas.html#place={p.id}" for p in located_places(ATLAS)}
    assert {f"places/{p}.html" for p in ATLAS.places} <= set(page.links)
    text = page.all_text
    for d in ATLAS.designations.values():
        assert ATLAS.programmes[d.programme].name_en in text
    assert "Chashan Bamboo Sea Area" in text and "茶山竹海" in text and "Yongchuan District" in text


def test_place_page_shows_designations_in_time_order_with_sources(book):
    html = (book / "places" / "wushan.html").read_text(encoding="utf-8")
    timeline = html[html.index('<ol class="timeline">'):html.index("</ol>")]
    years = [int(y) if y.isdigit() else None
             for y in re.findall(r'<span class="year">(?:<span class="muted">)?(\d{4}|<span)', timeline)]
    dated = sorted(d.year for d in ATLAS.designations_of("wushan") if d.year)
    assert years[:len(dated)] == dated and len(years) == len(ATLAS.designations_of("wushan"))
    assert all(y is None for y in years[len(dated):])
    for d in ATLAS.designations_of("wushan"):
        assert ATLAS.sources[d.evidence.source].title.replace('"', "&#34;") in html


def test_place_page_tables_every_figure_with_unit_year_and_source(book):
    for place in ATLAS.places.values():
        page = Page(book / "places" / f"{place.id}.html")
        html = (book / "places" / f"{place.id}.html").read_text(encoding="utf-8")
        metrics = ATLAS.metrics_of(place.id)
        assert {i for i in page.ids if i.startswith("figure-")} == {f"figure-{m.id}" for m in metrics}
        for m in metrics:
            row = html[html.index(f'id="figure-{m.id}"'):]
            row = row[:row.index("</tr>")]
            source = ATLAS.sources[m.evidence.source]
            assert f"<td>{m.unit}</td>" in row and source.outlet in row
            assert (str(m.year) if m.year else "unknown") in row
            assert (m.qualifier or "–") in row


def test_kinds_have_chinese_names():
    assert set(KIND_ZH) == set(PLACE_KINDS)


@pytest.mark.parametrize("value, text", [(7600.0, "7,600"), (98.6, "98.6"), (239300000000.0, "239,300,000,000"),
                                         (10000 / 15, "666.6667"), (0.5, "0.5")])
def test_format_number(value, text):
    assert format_number(value) == text


def test_figure_label():
    assert figure_label("gep") == "GEP" and figure_label("eco_economy_gdp_share") == "Eco economy GDP share"


# --- the timeline ---------------------------------------------------------------------------

def test_timeline_chart_counts_every_dated_designation():
    designations = list(ATLAS.designations.values())
    chart = timeline_chart(designations)
    dated = Counter(d.year for d in designations if d.year)
    assert [bar.year for bar in chart.bars] == list(range(min(dated), max(dated) + 1))
    assert {bar.year: bar.total for bar in chart.bars if bar.total} == dict(dated)
    assert chart.bars[-1].cumulative == sum(dated.values())
    for bar in chart.bars:
        assert sum(s.height for s in bar.segments) == pytest.approx(bar.total * (chart.baseline - chart.ticks[-1][1])
                                                                    / chart.ticks[-1][0], abs=0.2)


def test_timeline_page_lists_every_designation(book):
    html = (book / "timeline.html").read_text(encoding="utf-8")
    listed = html[html.index('id="list"'):]
    links = Counter(re.findall(r'href="places/([a-z0-9-]+)\.html"', listed))
    assert links == Counter(d.place for d in ATLAS.designations.values())
    table = html[html.index('<table class="counts">'):html.index("</table>")]
    rows = re.findall(r'<th scope="row">(\d{4})</th>(.*?)</tr>', table, re.S)
    totals = {int(y): [int(n) for n in re.findall(r'class="num">(\d+)<', cells)][-2] for y, cells in rows}
    dated = Counter(d.year for d in ATLAS.designations.values() if d.year)
    assert {y: n for y, n in totals.items() if n} == dict(dated)


# --- determinism ----------------------------------------------------------------------------

def test_two_renders_are_byte_identical_pages_and_plates(book, tmp_path):
    first, second = files_of(book), files_of(render(tmp_path / "again"))
    assert first.keys() == second.keys()
    assert {"atlas.png", "atlas.svg", "index.html", "timeline.html", "book.css"} <= first.keys()
    assert [name for name in first if first[name] != second[name]] == []


BOOK = ("index.html", "timeline.html", "book.css", "atlas.png", "atlas.svg", "places/")


def test_book_is_byte_identical_in_another_process(book, tmp_path):
    """A fresh interpreter with another string-hash seed: no set or dict order may leak into
    the book's files."""
    again = tmp_path / "again"
    subprocess.run([sys.executable, "-m", "atlas.cli", "render", "--out", str(again)], check=True,
                   env={**os.environ, "PYTHONHASHSEED": "0"}, capture_output=True)
    first, second = files_of(book), files_of(again)
    names = [name for name in first if name.startswith(BOOK)]
    assert len(names) == len(ATLAS.places) + 2 * len(districts_with_places(ATLAS)) + 1 + len(BOOK) - 1
    assert [name for name in names if first[name] != second[name]] == []


# --- the printable overview map -------------------------------------------------------------

def test_png_is_landscape_a4_and_not_blank(book):
    image = Image.open(book / "atlas.png")
    assert image.size == overview.SIZE_PX == (2339, 1654)
    assert image.info["dpi"] == pytest.approx((overview.DPI, overview.DPI), abs=0.01)
    pixels = np.asarray(image.convert("RGB")).reshape(-1, 3)
    assert pixels.std() > 30  # not one flat colour
    assert len(np.unique(pixels, axis=0)) > 200  # shades, symbols and anti-aliased text
    white = (pixels == 255).all(axis=1).mean()
    assert 0.3 < white < 0.9  # a map on a sheet, neither empty nor solid


def test_svg_is_the_same_sheet(book):
    root = ElementTree.parse(book / "atlas.svg").getroot()
    assert root.get("width") == "842.04pt" and root.get("height") == "595.44pt"  # 297 x 210 mm
    svg = (book / "atlas.svg").read_text(encoding="utf-8")
    assert "<dc:date>" not in svg and "xlink:href=\"http" not in svg


def test_plate_written_again_is_the_same_bytes(book, tmp_path):
    """Same input, same bytes: the plate drawn again on its own is the one the render wrote."""
    located = geocode_atlas(ATLAS, default_seeds_dir(), None).by_place()
    written = overview.write_overview(ATLAS, located, simplified_boundaries(ATLAS.districts), tmp_path)
    assert sorted(p.name for p in written) == ["atlas.png", "atlas.svg"] == sorted(p.name for p in tmp_path.iterdir())
    for path in written:
        assert path.read_bytes() == (book / path.name).read_bytes()


def _plate_texts(atlas) -> list[str]:
    """Every string drawn on the plate, with the fonts this machine has."""
    located = geocode_atlas(atlas, default_seeds_dir(), None).by_place()
    families, text = overview._fonts()
    with matplotlib.rc_context(overview._rc(families)):
        fig = overview.draw_overview(atlas, located, simplified_boundaries(atlas.districts), text)
        fig.canvas.draw()
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text)]


def test_plate_draws_chinese_with_no_missing_glyphs():
    """CI installs fonts-noto-cjk; a missing glyph is a matplotlib warning, here an error."""
    if not overview._fonts()[1].cjk:
        if os.environ.get("CI"):
            pytest.fail("CI needs fonts-noto-cjk: .ci/run installs it")
        pytest.skip("no CJK font (Debian: fonts-noto-cjk)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        texts = _plate_texts(ATLAS)
    assert any(CJK.search(t) for t in texts)
    assert any("Jinyun Mountain" in t for t in texts) and any("N" == t for t in texts)


def test_plate_without_a_cjk_font_is_english_only(monkeypatch, caplog):
    monkeypatch.setattr(overview, "CJK_FONT", "No Such Font CJK")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        texts = _plate_texts(ATLAS)
    assert not any(CJK.search(t) for t in texts)
    assert "fonts-noto-cjk" in caplog.text


def test_key_shrinks_to_fit_when_places_outgrow_the_panel(tmp_path, caplog):
    """Designated places (more whole districts, which need no gazetteer entry) up to as many as
    the key holds at its smallest size."""
    seeds = copy_seeds(tmp_path / "seeds")
    taken = {p.district for p in ATLAS.places.values() if p.kind in ("district", "county")}
    today = len(overview.numbered_places(ATLAS))
    extra = [d for code, d in sorted(ATLAS.districts.items()) if code not in taken][:overview.KEY_MAX - today]
    assert len(extra) >= 5

    def add_places(entries):
        entries += [{"id": f"extra-{d.code}", "name_en": f"{d.name_en} (again)", "name_zh": d.name_zh,
                     "kind": d.kind, "district": d.code} for d in extra]

    def add_designations(entries):
        entries += [{"id": f"extra-{d.code}-demo", "place": f"extra-{d.code}",
                     "programme": "municipal-eco-civ-demo-zone", "level": "municipal",
                     "source": "carbon-credit-cq-named-zones-bases", "evidence": "a test"}
                    for d in extra]
    edit_seed(seeds, "places", add_places)
    edit_seed(seeds, "designations", add_designations)
    atlas = load_atlas(seeds)
    located = geocode_atlas(atlas, seeds, None).by_place()
    families, text = overview._fonts()
    with matplotlib.rc_context(overview._rc(families)):
        fig = overview.draw_overview(atlas, located, simplified_boundaries(atlas.districts), text)
        key = max(fig.texts, key=lambda t: t.get_text().count("\n"))
        assert key.get_text().count("\n") + 1 == len(overview.numbered_places(atlas)) == overview.KEY_MAX
        assert overview.KEY_PT[1] <= key.get_fontsize() < overview.KEY_PT[0]
        box = key.get_window_extent(fig.canvas.get_renderer())
    assert 0 < box.y0 and box.x1 < overview.SIZE_PX[0]
    assert "runs off the sheet" not in caplog.text


def test_book_of_many_places_draws_them_unnumbered(tmp_path, caplog):
    """More places than the key holds: the plate draws them all, unnumbered, with their count
    where the key would be and no warning; every place still has its page."""
    seeds = write_seeds(300, tmp_path / "seeds")
    atlas = load_atlas(seeds)
    located = geocode_atlas(atlas, seeds, None).by_place()
    pages = write_pages(atlas, located, district_boundaries(atlas.districts), tmp_path / "book")
    assert {p.stem for p in pages if p.parent.name == "places"} == set(atlas.places)
    families, text = overview._fonts()
    with warnings.catch_warnings(), matplotlib.rc_context(overview._rc(families)):
        warnings.simplefilter("error")
        fig = overview.draw_overview(atlas, located, simplified_boundaries(atlas.districts), text)
        fig.canvas.draw()
    texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    assert any(t.startswith("300 places") for t in texts)
    assert not any("Numbered places" in t for t in texts)
    assert not [a for a in fig.axes[0].texts if isinstance(a, matplotlib.text.Annotation)
                and re.fullmatch(r"[\d, ]+", a.get_text())]  # no place numbered on the map
    symbols = [line for line in fig.axes[0].get_lines() if line.get_marker() != "None"]
    assert sum(len(line.get_xdata()) for line in symbols) == 300 and len(symbols) <= len(overview.SYMBOLS)
    assert "runs off the sheet" not in caplog.text


# --- escaping -------------------------------------------------------------------------------

def test_script_name_is_text_in_index_and_page(xss_book):
    for path in (xss_book / "index.html", xss_book / "places" / "jinyun-mountain.html"):
        html = path.read_text(encoding="utf-8")
        assert XSS_NAME not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert XSS_NAME in Page(path).all_text
    page = xss_book / "places" / "jinyun-mountain.html"
    html = page.read_text(encoding="utf-8")
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html  # an alias
    assert JINJA_NAME in Page(page).all_text  # shown as written, never evaluated
    assert Page(xss_book / "places" / "jinyun-mountain.html").scripts == 0
    assert Page(xss_book / "index.html").scripts == 1  # our sorting and filtering, nothing else


# --- in a browser, offline ------------------------------------------------------------------

def open_page(browser, path: Path) -> None:
    browser.get(path.as_uri())
    for _ in range(50):
        if browser.execute_script("return document.readyState") == "complete":
            return
        time.sleep(0.1)


def assert_offline_and_clean(browser) -> None:
    assert severe_console_entries(browser) == []
    assert [u for u in requested_urls(browser) if u.startswith(("http:", "https:", "ws:", "//"))] == []


VISIBLE_ROWS = ("return [...document.querySelectorAll('#places tbody tr')]"
                ".filter(r => !r.hidden).map(r => r.id.slice('place-'.length));")


def places_with(**want) -> list[str]:
    """Place ids with one designation matching every (field, value) in `want`, by the seeds."""
    return sorted(p for p in ATLAS.places
                  if any(all(str(getattr(d, k)) == v for k, v in want.items()) for d in ATLAS.designations_of(p)))


def choose(browser, name: str, value: str) -> None:
    Select(browser.find_element(By.CSS_SELECTOR, f"select[name={name}]")).select_by_value(value)


def test_index_sorts_and_filters_offline(book, browser):
    open_page(browser, book / "index.html")
    by_name = [p.id for p in sorted(ATLAS.places.values(), key=lambda p: (p.name_en.casefold(), p.id))]
    assert browser.execute_script(VISIBLE_ROWS) == by_name
    browser.find_element(By.CSS_SELECTOR, "#places th:nth-child(1) button").click()  # name, now descending
    assert browser.execute_script(VISIBLE_ROWS) == by_name[::-1]
    browser.find_element(By.CSS_SELECTOR, "#places th:nth-child(4) button").click()  # designations, ascending
    counts = [len(ATLAS.designations_of(p)) for p in browser.execute_script(VISIBLE_ROWS)]
    assert counts == sorted(counts) and counts[0] == 0 and counts[-1] == max(counts)

    choose(browser, "level", "municipal")
    assert sorted(browser.execute_script(VISIBLE_ROWS)) == places_with(level="municipal")
    choose(browser, "batch", "5")
    assert sorted(browser.execute_script(VISIBLE_ROWS)) == places_with(level="municipal", batch="5")
    assert browser.find_element(By.ID, "shown").text == str(len(places_with(level="municipal", batch="5")))
    choose(browser, "district", "500114")  # Qianjiang
    assert browser.execute_script(VISIBLE_ROWS) == ["apeng-river-basin"]
    browser.find_element(By.CSS_SELECTOR, "button[type=reset]").click()
    time.sleep(0.1)
    assert len(browser.execute_script(VISIBLE_ROWS)) == len(ATLAS.places)
    choose(browser, "programme", "national-two-mountains-base")
    assert sorted(browser.execute_script(VISIBLE_ROWS)) == places_with(programme="national-two-mountains-base")
    assert_offline_and_clean(browser)


def test_place_page_opens_offline(book, browser):
    open_page(browser, book / "places" / "jinyun-mountain.html")
    state = browser.execute_script("""
        const maps = [...document.querySelectorAll('.locator .map')].map(m => {
            const img = m.querySelector('img').getBoundingClientRect();
            const dot = m.querySelector('.spot').getBoundingClientRect();
            return {loaded: m.querySelector('img').naturalWidth, width: img.width,
                    x: (dot.left + dot.width / 2 - img.left) / img.width,
                    y: (dot.top + dot.height / 2 - img.top) / img.height};
        });
        return {h1: document.querySelector('h1').textContent, maps: maps,
                figures: document.querySelectorAll('table.figures tbody tr').length,
                designations: document.querySelectorAll('ol.timeline > li').length};
    """)
    assert state["h1"] == "Jinyun Mountain 缙云山"
    locator, inset = state["maps"]
    assert locator["loaded"] > 100 and locator["width"] > 100 and inset["loaded"] > 50
    for drawn, page in zip(state["maps"], spots_on(book / "places" / "jinyun-mountain.html").values()):
        assert drawn["x"] == pytest.approx(page[3] / 100, abs=0.01)  # the dot where the page puts it,
        assert drawn["y"] == pytest.approx(page[4] / 100, abs=0.01)  # over the image as laid out
    assert state["figures"] == len(ATLAS.metrics_of("jinyun-mountain"))
    assert state["designations"] == len(ATLAS.designations_of("jinyun-mountain"))
    assert_offline_and_clean(browser)


def test_script_name_shows_as_text_in_the_browser(xss_book, browser):
    for path in (xss_book / "index.html", xss_book / "places" / "jinyun-mountain.html"):
        open_page(browser, path)
        assert XSS_NAME in browser.find_element(By.TAG_NAME, "body").text
        with pytest.raises(NoAlertPresentException):
            browser.switch_to.alert.text
        assert_offline_and_clean(browser)
