"""Hostile text in the map and the book: layer titles, groups, legends, colours, tooltips, place,
district, programme and source names holding HTML, script or template syntax. None of it is ever
evaluated as a template, none of it ends a <script>, and the browser shows it as text.

The map is built from specs changed in memory, past the layer-file checks, so the page's own
escaping is what is tested: it must hold whatever the checks upstream let through.
"""

from __future__ import annotations

import dataclasses
import json
import time

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By

from atlas.layers import load_layer_specs
from atlas.load import load_atlas
from atlas.plugins import script_json
from tests.browser import requested_urls, severe_console_entries
from tests.seedtools import copy_seeds, edit_seed

TEMPLATE = "{{ 7*191 }}"  # 1337 if evaluated
TEMPLATE_BLOCK = "{% for x in [1,2,3] %}{{ x }}{% endfor %}"  # 123 if evaluated
PWN_SCRIPT = "</script><script>window.pwned=1</script>"
PWN_IMG = '"><img src=x onerror="window.pwned=1">'
PWN_COLOUR = "#5f6b6d</script><script>window.pwned=1</script>"
SEPARATORS = "line\u2028separator\u2029paragraph"


def test_script_json_escapes_what_could_end_a_script_or_a_line():
    data = {"name": f"{PWN_SCRIPT} & <!-- {SEPARATORS}", "n": 1}
    text = script_json(data)
    for raw in ("<", ">", "&", "\u2028", "\u2029"):
        assert raw not in text
    assert json.loads(text) == data  # the same value for JSON.parse and a JS literal


def hostile_specs():
    specs = []
    for spec in load_layer_specs():
        style = dict(spec.style)
        if spec.id == "districts":
            style["color"] = PWN_COLOUR
        if spec.id == "national-two-mountains-bases":
            style["fill_color"] = PWN_COLOUR
        specs.append(dataclasses.replace(
            spec, title={"en": f"{TEMPLATE} {spec.title['en']}", "zh": f"{TEMPLATE_BLOCK}{PWN_SCRIPT}"},
            group={"en": f"{PWN_IMG} {spec.group['en']}", "zh": TEMPLATE},
            legend={"en": f"{TEMPLATE} {PWN_IMG}", "zh": PWN_SCRIPT}, style=style))
    return specs


HOSTILE_PLACES = {"jinyun-mountain": f"{TEMPLATE} {PWN_SCRIPT}", "wulong": PWN_IMG,
                  "guangyang-island": TEMPLATE_BLOCK, "wushan": SEPARATORS}


@pytest.fixture(scope="module")
def hostile_map(tmp_path_factory):
    """The bundled atlas with hostile place, district, programme and source names, drawn by
    hostile layer specs."""
    from atlas.boundaries import district_boundaries, simplified_boundaries
    from atlas.geocode import geocode_atlas
    from atlas.layers import PlaceColumns, build_layers
    from atlas.render import write_map

    root = tmp_path_factory.mktemp("hostile-map")
    seeds = copy_seeds(root / "seeds")

    atlas = load_atlas(seeds)
    # In memory, past the seed checks (which refuse line separators in names): the escaping is on trial.
    atlas = dataclasses.replace(atlas, places={**atlas.places, **{
        place_id: dataclasses.replace(atlas.places[place_id], name_en=name,
                                      aliases=(*atlas.places[place_id].aliases, name))
        for place_id, name in HOSTILE_PLACES.items()}})
    first_district, first_programme = sorted(atlas.districts)[0], sorted({d.programme for d in
                                                                           atlas.designations.values()})[0]
    source = sorted(atlas.sources)[0]
    atlas = dataclasses.replace(
        atlas,
        districts={**atlas.districts, first_district: dataclasses.replace(atlas.districts[first_district],
                                                                          name_en=f"{TEMPLATE}{PWN_IMG}")},
        programmes={**atlas.programmes, first_programme: dataclasses.replace(atlas.programmes[first_programme],
                                                                             name_en=f"{PWN_SCRIPT}{TEMPLATE}")},
        sources={**atlas.sources, source: dataclasses.replace(atlas.sources[source], outlet=PWN_IMG,
                                                              title=TEMPLATE)})
    located = geocode_atlas(atlas, seeds).by_place()
    layers = build_layers(hostile_specs(), atlas, PlaceColumns(atlas, located), district_boundaries(atlas.districts))
    path = write_map(layers, atlas, simplified_boundaries(atlas.districts), root / "atlas.html")
    return path, atlas


def test_nothing_hostile_is_evaluated_or_left_raw_in_the_page(hostile_map):
    path, _ = hostile_map
    html = path.read_text(encoding="utf-8")
    assert "1337" not in html and TEMPLATE in html  # written as data, never evaluated
    assert "{% for x in [1,2,3] %}" in html
    for raw in (PWN_SCRIPT, "<script>window.pwned", "<img src=x", "\u2028", "\u2029"):
        assert raw not in html
    # Every script element ends where the page means it to: as many starts as ends.
    assert html.count("<script") == html.count("</script>")


@pytest.fixture
def opened(hostile_map, browser):
    path, atlas = hostile_map

    def open_(fragment=""):
        browser.get(path.as_uri() + fragment)
        time.sleep(1.0)
        return browser
    yield open_, atlas
    assert browser.execute_script("return window.pwned === undefined")
    with pytest.raises(NoAlertPresentException):
        _ = browser.switch_to.alert.text
    assert browser.execute_script("return document.querySelectorAll('img[src=x], .leaflet-container script').length") == 0
    assert severe_console_entries(browser) == []
    assert [u for u in requested_urls(browser) if u.startswith(("http:", "https:"))] == []


def test_layer_titles_groups_and_legends_show_literally(opened):
    open_, _ = opened
    browser = open_()
    browser.find_element(By.CSS_SELECTOR, ".atlas-panel-layers .atlas-toggle").click()
    layers = browser.find_element(By.CSS_SELECTOR, ".atlas-panel-layers").text
    assert f"{TEMPLATE} Districts and counties" in layers and "1337" not in layers
    assert PWN_IMG.strip() in layers or PWN_IMG in layers
    legend = browser.execute_script("return document.querySelector('.atlas-panel-legend').textContent")
    assert f"{TEMPLATE} {PWN_IMG}" in legend and PWN_SCRIPT in legend
    colours = browser.execute_script(
        "return [...document.querySelectorAll('.atlas-panel-legend i')].map(i => i.style.background)")
    assert colours and not any("script" in c for c in colours)  # an impossible colour is no colour


@pytest.mark.parametrize("place", sorted(HOSTILE_PLACES))
def test_hostile_names_show_as_text_in_popups_and_titles(opened, place):
    open_, _ = opened
    browser = open_(f"#place={place}")
    heading = browser.execute_script("const h = document.querySelector('.leaflet-popup-content h4');"
                                     "return h ? h.textContent : null;")
    assert heading is not None and heading.startswith(HOSTILE_PLACES[place])
    assert browser.execute_script("return document.title").startswith(HOSTILE_PLACES[place])


def test_hostile_tooltips_programmes_districts_and_sources_show_as_text(opened):
    open_, atlas = opened
    browser = open_()
    tooltip = browser.execute_script("""
        const ui = Object.values(window).find(v => v && v.entries && v.setLanguage);
        const districts = ui.entries.find(e => e.id === 'districts').layer;
        const polygon = districts.getLayers().find(l => l.feature.properties.p === arguments[0]);
        polygon.fire('mouseover', {latlng: polygon.getBounds().getCenter()}, true);
        const t = document.querySelector('.leaflet-tooltip');
        return t ? t.textContent : null;
    """, sorted(atlas.districts)[0])
    assert tooltip and tooltip.startswith(f"{TEMPLATE}{PWN_IMG}")
    browser.find_element(By.CSS_SELECTOR, ".atlas-panel-filter .atlas-toggle").click()
    options = browser.execute_script(
        "return [...document.querySelectorAll('.atlas-panel-filter select[name=programme] option')].map(o => o.text)")
    assert any(o.startswith(f"{PWN_SCRIPT}{TEMPLATE}") for o in options)
    browser.find_element(By.CSS_SELECTOR, ".atlas-panel-links .atlas-toggle").click()
    credits = browser.find_element(By.CSS_SELECTOR, ".atlas-credits").text
    assert f"{PWN_IMG}: {TEMPLATE}" in credits


def test_hostile_place_names_show_as_text_in_the_search_list(opened):
    open_, _ = opened
    browser = open_()
    box = browser.find_element(By.CSS_SELECTOR, ".leaflet-control-search input")
    box.send_keys("pwned")
    time.sleep(0.8)
    tips = [tip.text for tip in browser.find_elements(By.CSS_SELECTOR, ".search-tooltip .search-tip")]
    assert any(tip.startswith(f"{TEMPLATE} {PWN_SCRIPT}") for tip in tips), tips
    assert any(tip.startswith(PWN_IMG) for tip in tips), tips


def test_hostile_names_in_the_book_are_text(tmp_path):
    """The book's Jinja pages autoescape, and a name holding template syntax stays data."""
    from click.testing import CliRunner

    from atlas.cli import cli

    seeds = copy_seeds(tmp_path / "seeds")

    def rename(entries):
        for entry in entries:
            if entry["id"] in HOSTILE_PLACES and entry["id"] != "wushan":  # the seeds refuse line separators
                entry["name_en"] = HOSTILE_PLACES[entry["id"]]
    edit_seed(seeds, "places", rename)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["render", "--seeds", str(seeds), "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    for page in ("index.html", "timeline.html", "places/jinyun-mountain.html", "places/guangyang-island.html"):
        html = (out / page).read_text(encoding="utf-8")
        assert "1337" not in html and "<script>window.pwned" not in html and "<img src=x" not in html, page
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "{{ 7*191 }}" in index and "{% for x in [1,2,3] %}" in index
