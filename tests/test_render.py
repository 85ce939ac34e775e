"""`atlas render` end to end: the exports as GDAL reads them, the map as a browser shows it."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from atlas.cli import cli
from atlas.layers import load_layer_specs
from atlas.load import load_atlas
from tests.browser import requested_urls, severe_console_entries
from tests.seedtools import copy_seeds, edit_seed
from tests.test_validate import XSS_NAMES

GOLDEN = Path(__file__).with_name("golden")
GOLDEN_LAYER = "national-two-mountains-bases"
SPECS = {spec.id: spec for spec in load_layer_specs()}
ATLAS = load_atlas()


def render(*args: str):
    return CliRunner().invoke(cli, ["render", *args], catch_exceptions=False)


def files_of(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    out = tmp_path_factory.mktemp("render") / "output"
    result = render("--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def expected_ids(layer_id: str) -> set[str]:
    """The features a layer should hold, counted straight from the seeds, not from the layer code."""
    spec = SPECS[layer_id]
    where = spec.where
    if spec.draw == "districts":
        return set(ATLAS.districts)
    def drawn(place) -> bool:  # Chongqing as a whole is an outline, never a point
        return place.kind in where.get("kind", [place.kind]) and (spec.geometry == "district" or not place.city_wide)

    if spec.draw == "places":
        return {p.id for p in ATLAS.places.values() if drawn(p)}
    if spec.draw == "metric":  # achieved figures: a target is not a value to draw
        return {m.id for m in ATLAS.metrics.values() if m.key in where["key"] and m.achieved
                and drawn(ATLAS.places[m.place])}
    ids = set()
    for d in ATLAS.designations.values():
        kind = ATLAS.places[d.place].kind
        if d.programme in where["programme"] and (spec.geometry == "point" or kind in ("district", "county")):
            ids.add(d.id)
    return ids


# --- the exports, read back with GDAL -------------------------------------------------------

def test_render_reports_and_writes_every_file(out):
    names = set(files_of(out))
    assert {f"geojson/{layer}.geojson" for layer in SPECS} <= names
    assert {"atlas.html", "atlas.gpkg", "places.csv", "sources.csv", "metrics.csv", "designations.csv"} <= names
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".output.")]  # no staging leftovers


@pytest.mark.parametrize("layer_id", sorted(SPECS))
def test_geojson_reads_in_gdal_as_rfc7946(out, layer_id):
    path = out / "geojson" / f"{layer_id}.geojson"
    info = pyogrio.read_info(path)
    assert info["driver"] == "GeoJSON" and info["crs"] == "EPSG:4326"
    assert info["features"] == len(expected_ids(layer_id))
    types = dict(zip(info["fields"], info["dtypes"]))
    assert types["name_en"] == "object" and types["name_zh"] == "object"
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert "crs" not in raw
    assert {f["id"] for f in raw["features"]} == expected_ids(layer_id)
    for feature in raw["features"]:
        geometry = shapely.geometry.shape(feature["geometry"])
        assert geometry.is_valid
        minx, miny, maxx, maxy = geometry.bounds
        assert 105.2 < minx <= maxx < 110.3 and 28.1 < miny <= maxy < 32.3  # Chongqing, lon/lat order
        for x, y in shapely.get_coordinates(geometry):
            assert round(x, 6) == x and round(y, 6) == y
        for polygon in shapely.get_parts(geometry):
            if isinstance(polygon, shapely.Polygon):
                assert polygon.exterior.is_ccw and not any(ring.is_ccw for ring in polygon.interiors)
        for key, value in feature["properties"].items():  # one type per key, numbers as numbers
            if key in ("batch", "year", "designations") and value is not None:
                assert isinstance(value, int), key
            if key.endswith(("_ha", "_cny", "_pct", "_kw")) and value is not None:
                assert isinstance(value, (int, float)), key


def test_designation_layers_carry_designation_fields(out):
    info = pyogrio.read_info(out / "geojson" / "municipal-two-mountains-bases.geojson")
    types = dict(zip(info["fields"], info["dtypes"]))
    for name in ("programme", "programme_zh", "level", "source_id", "district_code", "precision"):
        assert types[name] == "object"
    assert types["batch"].startswith("int") and types["year"].startswith("int")
    assert types["lon"] == types["lat"] == "float64"
    frame = pyogrio.read_dataframe(out / "geojson" / "municipal-two-mountains-bases.geojson")
    apeng = frame.set_index("id").loc["apeng-river-basin-municipal-two-mountains"]
    assert (apeng["batch"], apeng["level"], apeng["district_code"]) == (5, "municipal", "500114")


def test_metric_layer_names_its_unit(out):
    frame = pyogrio.read_dataframe(out / "geojson" / "good-air-days.geojson").set_index("id")
    kaizhou = frame.loc["kaizhou-good-air-days-2023"]
    assert kaizhou["good_air_days"] == 335 and kaizhou["unit"] == "day" and kaizhou["stated"] == "335 days"


def test_golden_geojson(out):
    """One layer byte for byte; regenerate with ATLAS_UPDATE_GOLDEN=1 after a deliberate change."""
    written = (out / "geojson" / f"{GOLDEN_LAYER}.geojson").read_bytes()
    golden = GOLDEN / f"{GOLDEN_LAYER}.geojson"
    if os.environ.get("ATLAS_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_bytes(written)
    assert written == golden.read_bytes()


def test_geopackage_holds_every_layer_typed(out):
    path = out / "atlas.gpkg"
    layers = dict(pyogrio.list_layers(path))
    assert set(SPECS) | {"designations", "metrics", "sources"} <= set(layers)
    for layer_id, spec in SPECS.items():
        info = pyogrio.read_info(path, layer=layer_id)
        assert info["driver"] == "GPKG" and info["crs"] == "EPSG:4326"
        assert info["features"] == len(expected_ids(layer_id))
        assert layers[layer_id] == ("MultiPolygon" if spec.geometry == "district" else "Point")
    types = dict(zip(*(pyogrio.read_info(path, layer="national-eco-civ-demo-zones")[k] for k in ("fields", "dtypes"))))
    assert types["batch"] == "int64" and types["year"] == "int64" and types["name_zh"] == "object"
    assert layers["metrics"] is None
    metrics = pyogrio.read_dataframe(path, layer="metrics", read_geometry=False)
    assert len(metrics) == len(ATLAS.metrics)
    assert set(metrics.columns) >= {"place_id", "key", "value", "unit", "stated", "qualifier", "year", "source_id"}
    assert metrics["value"].dtype == "float64"


def test_layer_styles_hold_each_layers_qml(out):
    """QGIS reads a layer's default style from the `layer_styles` table (QML in `styleQML`);
    tests/test_qgis.py opens them in QGIS."""
def test_figure_status_in_every_table_and_in_the_popup_data(out):
    """A target or plan says so in metrics.csv and the GeoPackage's metrics table, stays out of
    the per-place figure columns, and leads its popup text with a tag."""
    with (out / "metrics.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = {row["metric_id"]: row for row in csv.DictReader(handle)}
    assert {row["status"] for row in rows.values()} == {"achieved", "target", "plan"}
    doubling = rows["beibei-strategic-emerging-industries-doubling"]
    assert (doubling["status"], doubling["year"], doubling["key"]) == (
        "target", "2026", "strategic_emerging_industries_output_multiple")
    assert rows["wulong-gep"]["status"] == "achieved"
    table = pyogrio.read_dataframe(out / "atlas.gpkg", layer="metrics", read_geometry=False).set_index("metric_id")
    assert table.loc["beibei-zero-sewage-villages-target", "status"] == "plan"
    assert (table["status"] == "target").sum() == sum(m.status == "target" for m in ATLAS.metrics.values())
    with (out / "places.csv").open(encoding="utf-8-sig", newline="") as handle:
        places = {row["place_id"]: row for row in csv.DictReader(handle)}
    assert "zero_sewage_villages_count" not in places["beibei"]  # a plan, not a value Beibei has
    assert places["wulong"]["good_air_days"] == ""  # its 350 days are a target
    assert places["kaizhou"]["good_air_days"] == "335"
    city = places["chongqing"]
    assert (city["kind"], city["lon"], city["district_code"], city["waste_sorting_households_count"]) == (
        "municipality", "", "500000", "3754000")
    html = (out / "atlas.html").read_text(encoding="utf-8")
    assert '"target 2026: a doubling; Output value' in html and '"target"]' in html and '"plan"]' in html


def test_chongqing_as_a_whole_is_an_outline_not_a_point(out):
    frame = pyogrio.read_dataframe(out / "geojson" / "chongqing.geojson")
    assert frame["id"].tolist() == ["chongqing"] and frame.geometry.iloc[0].geom_type == "MultiPolygon"
    districts = pyogrio.read_dataframe(out / "geojson" / "districts.geojson")
    assert frame.geometry.iloc[0].area == pytest.approx(shapely.union_all(districts.geometry.values).area, rel=1e-3)
    for layer in ("places", "other-designations", "good-air-days"):
        assert "chongqing" not in set(pyogrio.read_dataframe(out / "geojson" / f"{layer}.geojson")["place_id"])


def test_geopackage_layers_open_styled_in_qgis(out):
    """QGIS reads a layer's default style from the `layer_styles` table (QML in `styleQML`)."""
    styles = pyogrio.read_dataframe(out / "atlas.gpkg", layer="layer_styles", read_geometry=False)
    by_layer = styles.set_index("f_table_name")
    assert set(by_layer.index) == set(SPECS)
    assert by_layer["useAsDefault"].astype(bool).all()
    assert set(by_layer["f_geometry_column"]) == {"geom"}
    for layer_id, spec in SPECS.items():
        root = ElementTree.fromstring(by_layer.loc[layer_id, "styleQML"])  # well-formed QML
        assert root.tag == "qgis"
        kinds = {s.get("type") for s in root.iter("symbol")}
        assert kinds == ({"marker"} if spec.geometry == "point" else {"fill"})
    batches = ElementTree.fromstring(by_layer.loc["municipal-two-mountains-bases", "styleQML"]).find("renderer-v2")
    assert (batches.get("type"), batches.get("attr")) == ("categorizedSymbol", "batch")
    categories = {c.get("value"): c.get("symbol") for c in batches.iter("category")}
    assert set(categories) == {"3", "4", "5", ""}  # "" is QGIS's "all other values": unknown batch
    colour = batches.find(f"symbols/symbol[@name='{categories['5']}']/layer/Option/Option[@name='color']")
    assert colour.get("value") == "84,39,143,230"  # #54278f at fill_opacity 0.9
    districts = ElementTree.fromstring(by_layer.loc["districts", "styleQML"]).find("renderer-v2")
    assert districts.get("type") == "graduatedSymbol" and districts.get("attr") == "designations"
    assert [(r.get("lower"), r.get("upper")) for r in districts.iter("range")][:2] == [("-0.5", "0.5"), ("0.5", "1.5")]
    metric = ElementTree.fromstring(by_layer.loc["good-air-days", "styleQML"])
    assert '"good_air_days"' in metric.find(".//Option[@name='expression']").get("value")


def test_csv_exports(out):
    with (out / "places.csv").open(encoding="utf-8-sig", newline="") as handle:
        places = list(csv.DictReader(handle))
    assert [row["place_id"] for row in places] == sorted(ATLAS.places)
    jinyun = next(row for row in places if row["place_id"] == "jinyun-mountain")
    assert jinyun["area_ha"] == "7600" and jinyun["forest_cover_pct"] == "98.6"
    assert "national-nature-reserve" in jinyun["programmes"].split("; ")
    assert float(jinyun["lon"]) and float(jinyun["lat"])
    with (out / "sources.csv").open(encoding="utf-8-sig", newline="") as handle:
        sources = {row["source_id"] for row in csv.DictReader(handle)}
    cited = {m.evidence.source for m in ATLAS.metrics.values()} | {s for d in ATLAS.designations.values()
                                                                    for s in d.sources()}
    assert cited <= sources


# --- determinism and atomic writes ----------------------------------------------------------

def test_two_renders_are_byte_identical(out, tmp_path):
    """The second render runs in a fresh process with another hash seed: no set order leaks."""
    again = tmp_path / "again"
    subprocess.run([sys.executable, "-m", "atlas.cli", "render", "--out", str(again)], check=True,
                   env={**os.environ, "PYTHONHASHSEED": "12345"}, capture_output=True)
    first, second = files_of(out), files_of(again)
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []


def test_failing_render_leaves_old_output_whole(tmp_path):
    out = tmp_path / "output"
    assert render("--out", str(out)).exit_code == 0
    before = files_of(out)
    seeds = copy_seeds(tmp_path / "seeds")
    (seeds / "places.yaml").write_text("places: [\n", encoding="utf-8")
    result = render("--out", str(out), "--seeds", str(seeds))
    assert result.exit_code == 2 and "places.yaml" in result.output and "Traceback" not in result.output
    assert files_of(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["output", "seeds"]


# --- layer specs and options ----------------------------------------------------------------

def test_no_book_writes_map_and_exports_only(tmp_path):
    out = tmp_path / "out"
    result = render("--out", str(out), "--no-book")
    assert result.exit_code == 0, result.output
    names = set(files_of(out))
    assert {"atlas.html", "atlas.gpkg", "places.csv"} <= names
    assert not names & {"index.html", "timeline.html", "atlas.png", "atlas.svg"}
    assert not any(name.startswith("places/") for name in names)


def test_book_left_out_above_its_size_unless_asked(tmp_path, monkeypatch):
    monkeypatch.setattr("atlas.build.BOOK_MAX_PLACES", len(ATLAS.places) - 1)
    result = render("--out", str(tmp_path / "auto"))
    assert result.exit_code == 0, result.output
    assert f"the book (index, a page per place, timeline, printable map) is left out: {len(ATLAS.places)} places " \
           f"is more than {len(ATLAS.places) - 1}; --book writes it" in result.stderr
    names = set(files_of(tmp_path / "auto"))
    assert "atlas.html" in names and "index.html" not in names and "atlas.png" not in names
    result = render("--out", str(tmp_path / "asked"), "--book")
    assert result.exit_code == 0 and "left out" not in result.stderr
    assert {"index.html", "atlas.png", f"places/{next(iter(ATLAS.places))}.html"} <= set(files_of(tmp_path / "asked"))


def test_book_written_by_default_up_to_its_size(out):
    assert {"index.html", "timeline.html", "atlas.png", "atlas.svg"} <= set(files_of(out))


def test_only_some_layers(tmp_path):
    out = tmp_path / "out"
    result = render("--out", str(out), "--layers", "districts,good-air-days")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "geojson").iterdir()) == ["districts.geojson", "districts.qml",
                                                                 "good-air-days.geojson", "good-air-days.qml"]


@pytest.mark.parametrize("content, field", [
    ("id: Bad Id\n", "id"),
    ("{id: x, title: {en: X}, group: {en: G, zh: 组}, draw: places, geometry: point, style: {}, legend: {en: L, zh: 图}}",
     "title.zh"),
    ("{id: x, title: {en: X, zh: 叉}, group: {en: G, zh: 组}, draw: stars, geometry: point, style: {}, "
     "legend: {en: L, zh: 图}}", "draw"),
    ("{id: x, title: {en: X, zh: 叉}, group: {en: G, zh: 组}, draw: places, geometry: point, "
     "style: {glow: 1}, legend: {en: L, zh: 图}}", "style.glow"),
    ("{id: x, title: {en: X, zh: 叉}, group: {en: G, zh: 组}, draw: metric, geometry: point, style: {}, "
     "legend: {en: L, zh: 图}}", "where"),
    ("id: [unclosed\n", ""),
])
def test_bad_layer_file_is_named(tmp_path, content, field):
    layers = tmp_path / "layers"
    layers.mkdir()
    (layers / "10-bad.yaml").write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["render", "--layers-dir", str(layers), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "10-bad.yaml" in result.output and f".{field}:" in result.output if field else "10-bad.yaml" in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_unknown_layer_and_tiles_are_refused(tmp_path):
    result = CliRunner().invoke(cli, ["render", "--out", str(tmp_path / "o"), "--layers", "nope"])
    assert result.exit_code == 2 and "no layer 'nope'" in result.output
    result = CliRunner().invoke(cli, ["render", "--out", str(tmp_path / "o"), "--tiles", "google"])
    assert result.exit_code == 2 and "--tiles" in result.output and "google" in result.output


def test_tiles_are_optional_online_overlays(tmp_path):
    out = tmp_path / "out"
    assert render("--out", str(out), "--tiles", "osm,esri-imagery").exit_code == 0
    html = (out / "atlas.html").read_text(encoding="utf-8")
    assert "tile.openstreetmap.org" in html and "osm tiles (online)" in html and "arcgisonline" in html


def test_default_map_references_no_server(out):
    html = (out / "atlas.html").read_text(encoding="utf-8")
    assert "tile.openstreetmap" not in html and "arcgisonline" not in html
    assert "<script src=" not in html and "<link rel=\"stylesheet\" href=\"http" not in html


def test_help_has_an_example():
    result = CliRunner().invoke(cli, ["render", "--help"])
    assert result.exit_code == 0 and "atlas render --out" in result.output


# --- the map page's data -------------------------------------------------------------------

@pytest.fixture(scope="module")
def bundled_layers():
    from atlas.boundaries import district_boundaries
    from atlas.geocode import geocode_atlas
    from atlas.layers import PlaceColumns, build_layers
    from atlas.load import default_seeds_dir

    located = geocode_atlas(ATLAS, default_seeds_dir()).by_place()
    layers = build_layers(list(SPECS.values()), ATLAS, PlaceColumns(ATLAS, located), district_boundaries(ATLAS.districts))
    return {layer.spec.id: layer for layer in layers}


@pytest.mark.parametrize("layer_id", sorted(SPECS))
def test_web_columns_hold_every_feature(bundled_layers, layer_id):
    from atlas.layers import colour_for
    from atlas.render import POINT_DECIMALS, web_columns

    layer, spec = bundled_layers[layer_id], SPECS[layer_id]
    columns = web_columns(layer, ATLAS)
    assert {len(values) for values in columns.values()} == {len(layer.frame)}
    assert sorted(columns["p"]) == expected_places(layer_id)
    frame = layer.frame.drop(columns="geometry")
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    assert columns["c"] == [colour_for(spec, row) for row in rows]
    if spec.geometry == "point":
        scale = 10 ** POINT_DECIMALS
        for lon, lat, point in zip(columns["lon"], columns["lat"], layer.frame.geometry):
            assert isinstance(lon, int) and abs(lon / scale - point.x) <= 0.51 / scale
            assert isinstance(lat, int) and abs(lat / scale - point.y) <= 0.51 / scale
    if spec.search:
        assert [ATLAS.places[p].aliases for p in columns["p"]] == [tuple(a) for a in columns["a"]]


def test_point_layer_keeps_colours_as_a_palette():
    from atlas.plugins import PointLayer

    columns = {"p": ["a", "b", "c"], "lon": [1, 2, 3], "lat": [4, 5, 6]}
    mixed = PointLayer({**columns, "c": ["#111", "#222", "#111"]}, 5, {"radius": 4}, cluster=True)
    page, options = json.loads(mixed.columns), json.loads(mixed.options)
    assert [options["palette"][i] for i in page["c"]] == ["#111", "#222", "#111"]
    assert options["scale"] == 100000 and options["cluster"] and "supercluster" in dict(mixed.default_js)
    single = PointLayer({**columns, "c": ["#111"] * 3}, 5, {"radius": 4}, cluster=False)
    page, options = json.loads(single.columns), json.loads(single.options)
    assert "c" not in page and "palette" not in options and options["style"]["fillColor"] == "#111"
    assert single.default_js == [] and options["cluster"] is None


def test_map_page_carries_shared_code_once(out):
    html = (out / "atlas.html").read_text(encoding="utf-8")
    assert html.count("L.AtlasPoints = L.FeatureGroup.extend") == 1
    assert html.count("/* atlas/js/atlas.js */") == html.count("/* atlas/js/core.js */") == 1
    assert html.count("supercluster.js: npm supercluster@") == 1
    assert "markercluster.js:" not in html and "markercluster.default.css:" not in html  # clusters: on the canvas


def test_map_page_has_a_title_and_a_language(out):
    html = (out / "atlas.html").read_text(encoding="utf-8")
    assert html.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert "<title>Chongqing Green Atlas · 重庆绿色地图集</title>" in html


# --- the map in a real browser, offline -----------------------------------------------------

UI_JS = "const ui = Object.values(window).find(v => v && v.entries && v.setLanguage);"

LAYERS_JS = UI_JS + """
const out = {};
for (const entry of ui.entries) {
  const layer = entry.layer;
  const drawn = layer.getLayers();
  const ids = l => l.features ? l.features.map(f => f.properties.p) : [l.feature.properties.p];
  out[entry.id] = {
    points: layer instanceof L.AtlasPoints,
    places: (layer instanceof L.AtlasPoints ? layer.columns.p : drawn.map(l => l.feature.properties.p)).slice().sort(),
    shown: [...new Set(drawn.flatMap(ids))].sort(),
    markers: drawn.filter(l => l instanceof L.CircleMarker).length,
    polygons: drawn.filter(l => l instanceof L.Polygon).length,
    onMap: !!layer._map};
}
return out;
"""

LAYER_CONTROL_JS = """
return [...document.querySelectorAll('.atlas-panel-layers h5, .atlas-panel-layers label.atlas-layer')]
  .map(l => [l.textContent.trim(), l.querySelector('input') ? l.querySelector('input').checked : null]);
"""

POPUP_JS = "const p = document.querySelector('.leaflet-popup-content'); return p ? p.textContent : null;"


def designations_listed(browser) -> int:
    """How many designations the open popup lists."""
    return browser.execute_script("return document.querySelectorAll('.leaflet-popup-content .atlas-designations li').length")


def title(layer_id: str) -> str:
    """The key of a layer in what LAYERS_JS returns."""
    return layer_id


def label(layer_id: str) -> str:
    """The layer's name in the layer list (in the page's first language: both)."""
    spec = SPECS[layer_id]
    return f"{spec.title['en']} · {spec.title['zh']}"


def expected_places(layer_id: str, keep=lambda feature_id: True) -> list[str]:
    """The place (district code for the districts layer) each of a layer's features draws,
    sorted, counted from the seeds; `keep` picks features by their id."""
    spec = SPECS[layer_id]
    ids = [i for i in expected_ids(layer_id) if keep(i)]
    if spec.draw in ("districts", "places"):
        return sorted(ids)
    table = ATLAS.metrics if spec.draw == "metric" else ATLAS.designations
    return sorted(table[i].place for i in ids)


def open_map(browser, path: Path, fragment: str = ""):
    browser.get(path.as_uri() + fragment)
    for _ in range(50):
        if browser.execute_script("return document.readyState") == "complete":
            break
        time.sleep(0.1)
    return browser.find_element(By.CSS_SELECTOR, ".folium-map")


def assert_offline_and_clean(browser):
    assert severe_console_entries(browser) == []
    assert [u for u in requested_urls(browser) if u.startswith(("http:", "https:", "ws:"))] == []


def point_layers_drawn_together(drawn: dict) -> set[str]:
    """Every place the visible point layers draw, whichever layer's marker lists it."""
    return {p for layer in drawn.values() if layer["points"] and layer["onMap"] for p in layer["shown"]}


def test_map_opens_offline_with_every_layer(out, browser):
    open_map(browser, out / "atlas.html")
    assert browser.execute_script("return L.version") == "1.9.3"
    labels = dict(browser.execute_script(LAYER_CONTROL_JS))
    for spec in SPECS.values():
        assert labels[f"{spec.title['en']} · {spec.title['zh']}"] == spec.visible
        assert labels[f"{spec.group['en']} · {spec.group['zh']}"] is None  # group heading
    drawn = browser.execute_script(LAYERS_JS)
    assert len(drawn) == len(SPECS)
    together = point_layers_drawn_together(drawn)
    for layer_id, spec in SPECS.items():
        layer = drawn[title(layer_id)]
        assert layer["places"] == expected_places(layer_id) and layer["onMap"] == spec.visible, layer_id
        assert layer["points"] == (spec.geometry == "point")
        if spec.geometry == "district":
            assert layer["polygons"] == len(layer["places"]) and layer["markers"] == 0
        elif not spec.visible:  # made only when first shown
            assert layer["markers"] == 0
        elif spec.cluster:  # some places in clusters, the others drawn
            assert 0 < layer["markers"] < len(layer["places"])
        else:  # every place drawn once: by this layer, or listed by the marker of a layer above at its point
            assert 0 < layer["markers"] <= len(set(layer["places"])) and set(layer["places"]) <= together, layer_id
    state = browser.execute_script("""
        const map = document.querySelector('.folium-map');
        return {scale: !!map.querySelector('.leaflet-control-scale'),
                fullscreen: !!map.querySelector('.leaflet-control-zoom-fullscreen'),
                search: !!map.querySelector('.leaflet-control-search input'),
                filter: !!map.querySelector('.atlas-panel-filter .atlas-toggle'),
                legend: map.querySelector('.atlas-panel-legend').textContent,
                clusters: map.querySelectorAll('.atlas-cluster-count').length};
    """)
    assert state["scale"] and state["fullscreen"] and state["search"] and state["filter"]
    assert state["clusters"] >= 1
    for spec in SPECS.values():
        assert (spec.legend["en"] in state["legend"]) == spec.visible
    assert_offline_and_clean(browser)


JSON_BLOCKS_JS = """
return Object.fromEntries([...document.querySelectorAll('script[type="application/json"]')]
  .map(s => [s.id, s.textContent]));
"""

# Counts what JSON.parse reads, from before the page's own scripts run.
COUNT_PARSES_JS = """
window.atlasParsed = [];
const parse = JSON.parse;
JSON.parse = function (text, reviver) { window.atlasParsed.push(String(text)); return parse.call(this, text, reviver); };
"""


def test_map_data_is_json_that_a_hidden_layer_parses_when_shown(out, browser):
    """A layer's columns and the popup table sit in JSON script elements (data, never run as
    code), and a layer hidden at first parses its columns only when it is shown."""
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": COUNT_PARSES_JS})
    map_element = open_map(browser, out / "atlas.html")
    blocks = browser.execute_script(JSON_BLOCKS_JS)
    layers = browser.execute_script(UI_JS + """
        return ui.entries.filter(e => e.layer instanceof L.AtlasPoints)
          .map(e => [e.id, Object.keys(window).find(name => window[name] === e.layer), !!e.layer._map]);
    """)
    assert len(layers) == sum(spec.geometry == "point" for spec in SPECS.values())
    parsed = browser.execute_script("return window.atlasParsed")
    code = "".join(s for s in browser.execute_script(
        "return [...document.scripts].filter(s => !s.type).map(s => s.textContent)"))
    popups = [text for block, text in blocks.items() if block.endswith("-data")]
    assert len(popups) == 1 and set(json.loads(popups[0])["places"]) <= set(ATLAS.places)
    assert popups[0] in parsed and popups[0] not in code
    hidden = None
    for layer_id, name, shown in layers:
        columns = blocks[f"{name}-columns"]
        assert sorted(json.loads(columns)["p"]) == expected_places(layer_id), layer_id
        assert columns not in code
        assert (columns in parsed) == shown, layer_id
        if not shown:
            hidden, hidden_name = layer_id, name
    assert hidden, "the bundled layers hide a point layer at first"
    toggle_layers(browser, map_element, [label(hidden)])
    assert blocks[f"{hidden_name}-columns"] in browser.execute_script("return window.atlasParsed")
    assert browser.execute_script(LAYERS_JS)[title(hidden)]["markers"] > 0
    assert_offline_and_clean(browser)


def toggle_layers(browser, map_element, titles: list[str]) -> None:
    """Tick or untick layers in the layer list as a user does: open it, click, close it."""
    toggle = browser.find_element(By.CSS_SELECTOR, ".atlas-panel-layers .atlas-toggle")
    toggle.click()
    for row in browser.find_elements(By.CSS_SELECTOR, ".atlas-panel-layers label.atlas-layer"):
        if any(row.text.startswith(title) for title in titles):
            row.find_element(By.TAG_NAME, "input").click()
    toggle.click()
    time.sleep(0.3)


def centre_on(browser, place_id: str, zoom: int) -> None:
    """Centre the map on a drawn marker that lists the place."""
    found = browser.execute_script("""
        const map = Object.values(window).find(v => v instanceof L.Map);
        for (const value of Object.values(window)) {
          if (!(value instanceof L.AtlasPoints) || !value._map) continue;
          const marker = value.getLayers().find(l => l.features.some(f => f.properties.p === arguments[0]));
          if (marker) { map.setView(marker.getLatLng(), arguments[1], {animate: false}); return true; }
        }
        return false;
    """, place_id, zoom)
    assert found, f"no marker of {place_id} is drawn"
    time.sleep(0.3)


def click_place(browser, map_element, place_id: str, zoom: int = 9, right: int = 0) -> str | None:
    """Centre the map on a drawn marker of the place, click it with the mouse (`right` pixels off
    its centre), return the popup's text."""
    centre_on(browser, place_id, zoom)
    ActionChains(browser).move_to_element_with_offset(map_element, right, 0).click().perform()
    time.sleep(0.3)
    return browser.execute_script(POPUP_JS)


def test_hovering_a_marker_shows_its_tooltip(out, browser, bundled_layers):
    """The tooltip: names from the popup table, the layer's other fields, no empty placeholders."""
    drawn_at = {}  # point -> the places the visible point layers draw there
    for layer in bundled_layers.values():
        if layer.spec.visible and layer.spec.geometry == "point":
            for place_id, point in zip(layer.frame["place_id"], layer.frame.geometry):
                drawn_at.setdefault((point.x, point.y), set()).add(place_id)
    alone = {next(iter(ids)) for ids in drawn_at.values() if len(ids) == 1}
    d = next(ATLAS.designations[i] for i in sorted(expected_ids("municipal-two-mountains-bases"))  # drawn last
             if ATLAS.designations[i].place in alone and ATLAS.designations[i].batch is not None)
    precision = dict(zip(bundled_layers["places"].frame["place_id"], bundled_layers["places"].frame["precision"]))
    map_element = open_map(browser, out / "atlas.html")
    centre_on(browser, d.place, 12)
    ActionChains(browser).move_to_element(map_element).perform()
    time.sleep(0.3)
    tooltip = browser.execute_script("const t = document.querySelector('.leaflet-tooltip'); return t && t.textContent;")
    place = ATLAS.places[d.place]
    parts = [place.name_en, place.name_zh, f"batch {d.batch}"] + ([str(d.year)] if d.year else [])
    if precision[d.place] == "district":
        parts.append("located only to its district · 位置仅到区县")
    assert tooltip == " · ".join(parts)
    assert "–" not in tooltip
    assert_offline_and_clean(browser)


def test_clicking_a_marker_opens_its_figures(out, browser):
    """Good-air days is hidden at first: its markers are made when it is switched on."""
    map_element = open_map(browser, out / "atlas.html")
    toggle_layers(browser, map_element, ["All places", "Good-air days"])
    labels = dict(browser.execute_script(LAYER_CONTROL_JS))
    assert labels["All places · 全部地点"] is False and labels["Good-air days per year · 空气质量优良天数"] is True
    air = browser.execute_script(LAYERS_JS)[title("good-air-days")]
    assert air["onMap"] and air["markers"] == len(expected_places("good-air-days")) == 2
    # Off the centre, where Hanfeng Lake's designation marker (above the size symbol) is not.
    popup = click_place(browser, map_element, "kaizhou", right=16)
    assert popup is not None, "no popup opened"
    assert "Kaizhou District" in popup and "开州区" in popup
    assert "335 days" in popup and "2023" in popup and "China Carbon Credit Platform" in popup
    assert "batch" in popup  # its designations, with batch and year
    assert_offline_and_clean(browser)


def test_place_in_url_hash_opens_its_popup(out, browser):
    open_map(browser, out / "atlas.html", "#place=jinyun-mountain")
    time.sleep(0.5)
    popup = browser.execute_script(POPUP_JS)
    assert popup and "Jinyun Mountain" in popup and "7,600 hectares" in popup
    assert_offline_and_clean(browser)


def test_a_place_known_for_its_role_shows_it_in_its_popup(out, browser):
    """Fairy Mountain has no designation or figure of its own: its popup says what the article
    says of it, with the source."""
    open_map(browser, out / "atlas.html", "#place=fairy-mountain")
    time.sleep(0.5)
    popup = browser.execute_script(POPUP_JS)
    assert popup and "Fairy Mountain" in popup and "forestry reform pilot" in popup
    assert "Chongqing Daily" in popup
    assert_offline_and_clean(browser)


def test_chongqing_as_a_whole_opens_from_its_outline(out, browser):
    """The city's layer is off at first; switched on, a click inside the city opens the popup of
    its city-wide figures."""
    map_element = open_map(browser, out / "atlas.html")
    toggle_layers(browser, map_element, ["Chongqing as a whole"])
    browser.execute_script("""
        const map = Object.values(window).find(v => v && v._container && v.setView && v.getCenter);
        const p = map.latLngToContainerPoint([31.6, 108.9]);
        document.elementFromPoint(p.x, p.y).dispatchEvent(
            new MouseEvent('click', {bubbles: true, clientX: p.x, clientY: p.y}));""")
    time.sleep(0.5)
    popup = browser.execute_script(POPUP_JS)
    assert popup and "Chongqing Municipality" in popup and "3.754 million households" in popup
    assert "municipality" in popup
    assert_offline_and_clean(browser)


def open_filter(browser) -> None:
    panel = browser.find_element(By.CSS_SELECTOR, ".atlas-panel-filter")
    if "atlas-open" not in panel.get_attribute("class"):
        panel.find_element(By.CSS_SELECTOR, ".atlas-toggle").click()
        time.sleep(0.2)


def select_filter(browser, key: str, value: str) -> None:
    open_filter(browser)
    select = browser.find_element(By.CSS_SELECTOR, f".atlas-panel-filter select[name={key}]")
    select.find_element(By.CSS_SELECTOR, f"option[value='{value}']").click()
    time.sleep(0.2)


def district_fills(browser) -> dict[str, str]:
    return browser.execute_script(UI_JS + """
        const shading = ui.entries.find(e => e.id === 'districts').layer;
        const out = {};
        shading.eachLayer(l => { out[l.feature.properties.p] = l.options.fillColor; });
        return out;
    """)


def test_filter_by_batch_hides_other_batches(out, browser):
    from atlas.render import programme_order

    municipal = programme_order(ATLAS)["municipal-two-mountains-base"]

    def batch_5(designation_id):
        d = ATLAS.designations[designation_id]
        return d.batch == 5 and d.programme == "municipal-two-mountains-base"

    open_map(browser, out / "atlas.html")
    fills = district_fills(browser)
    open_filter(browser)
    count = browser.find_element(By.CSS_SELECTOR, ".atlas-count").text
    assert count.startswith(f"{len(ATLAS.designations)} of {len(ATLAS.designations)} designations match")
    batches = [o.get_attribute("value") for o in browser.find_elements(By.CSS_SELECTOR, "select[name=batch] option")]
    assert f"{municipal}|5" in batches and "5" not in batches  # a batch is a programme's
    select_filter(browser, "batch", f"{municipal}|5")
    drawn = browser.execute_script(LAYERS_JS)
    wanted = {d.place for i, d in ATLAS.designations.items() if batch_5(i)}
    assert wanted and set(drawn["municipal-two-mountains-bases"]["shown"]) == wanted
    for layer_id, spec in SPECS.items():
        if spec.draw == "designations" and layer_id != "municipal-two-mountains-bases":
            assert drawn[layer_id]["shown"] == [], layer_id
    after = browser.find_element(By.CSS_SELECTOR, ".atlas-count").text
    assert after.startswith(f"{sum(map(batch_5, ATLAS.designations))} of {len(ATLAS.designations)} designations")
    assert district_fills(browser) != fills  # the shading follows the filter
    hidden = [layer_id for layer_id, spec in SPECS.items() if spec.draw == "designations" and not spec.visible]
    assert hidden
    toggle_layers(browser, None, [SPECS[layer_id].title["en"] for layer_id in hidden])  # closes the filter
    drawn = browser.execute_script(LAYERS_JS)
    for layer_id in hidden:  # shown after the filter was set: filtered too
        assert drawn[layer_id]["onMap"] and drawn[layer_id]["shown"] == []
    select_filter(browser, "batch", "")
    assert district_fills(browser) == fills
    drawn = browser.execute_script(LAYERS_JS)
    assert set(expected_places("national-two-mountains-bases")) <= point_layers_drawn_together(drawn)
    assert_offline_and_clean(browser)


def search_for(browser, text: str) -> list[str]:
    """Type into the search box; the suggestions it lists."""
    box = browser.find_element(By.CSS_SELECTOR, ".leaflet-control-search input")
    box.clear()
    box.send_keys(text)
    time.sleep(0.8)  # leaflet-search waits 400 ms after typing
    return [tip.text for tip in browser.find_elements(By.CSS_SELECTOR, ".search-tooltip .search-tip")]


@pytest.mark.parametrize("text", ["Jinyun", "缙云", "Jinyunshan"])
def test_search_finds_a_place_by_any_name_and_opens_it(out, browser, text):
    assert "Jinyunshan" in ATLAS.places["jinyun-mountain"].aliases
    open_map(browser, out / "atlas.html")
    tips = search_for(browser, text)
    expected = " / ".join(ATLAS.places["jinyun-mountain"].names())
    assert expected in tips
    browser.find_elements(By.CSS_SELECTOR, ".search-tooltip .search-tip")[tips.index(expected)].click()
    time.sleep(0.5)
    popup = browser.execute_script(POPUP_JS)
    assert popup and popup.startswith("Jinyun Mountain · 缙云山") and "7,600 hectares" in popup
    assert_offline_and_clean(browser)


def test_clicking_a_stack_of_places_lists_them(out, browser):
    """Places at one point (a district's, say) stay one cluster at the closest zoom: a click
    lists them, and a name in the list opens that place's popup."""
    map_element = open_map(browser, out / "atlas.html")
    browser.execute_script("""
        const map = Object.values(window).find(v => v instanceof L.Map);
        const places = Object.values(window).find(v => v instanceof L.AtlasPoints && v.options.cluster);
        map.setView(places.locate("hanfeng-lake"), map.getMaxZoom(), {animate: false});
    """)
    time.sleep(0.3)
    ActionChains(browser).move_to_element(map_element).click().perform()  # the cluster at the centre
    time.sleep(0.3)
    popup = browser.execute_script(POPUP_JS)
    stacked = sum(p.district == "500154" for p in ATLAS.places.values())  # all at Kaizhou's point
    assert stacked >= 2 and popup and popup.startswith(f"{stacked} places · {stacked} 个地点")
    assert "Hanfeng Lake" in popup and "Kaizhou District" in popup
    browser.find_element(By.PARTIAL_LINK_TEXT, "Hanfeng Lake").click()
    time.sleep(0.3)
    popup = browser.execute_script(POPUP_JS)
    assert popup and popup.startswith("Hanfeng Lake") and designations_listed(browser)
    assert_offline_and_clean(browser)


@pytest.fixture(scope="module")
def synthetic_out(tmp_path_factory):
    """The map of 400 synthetic places: more than one view's worth of clusters."""
    from benchmarks.synthetic import write_seeds

    root = tmp_path_factory.mktemp("synthetic")
    out = root / "output"
    result = render("--seeds", str(write_seeds(400, root / "seeds")), "--out", str(out), "--no-book")
    assert result.exit_code == 0, result.output
    return out


def test_clustered_places_open_their_popups(synthetic_out, browser):
    map_element = open_map(browser, synthetic_out / "atlas.html")
    places = browser.execute_script(LAYERS_JS)[title("places")]
    assert len(places["places"]) == 400 and places["markers"] < 400
    clusters = browser.find_elements(By.CSS_SELECTOR, ".atlas-cluster-count")  # on the canvas, their counts above
    assert clusters
    zoom = browser.execute_script("return Object.values(window).find(v => v instanceof L.Map).getZoom()")
    # A count takes no clicks: the click lands on the cluster's circle beneath (or on a designation
    # marker drawn above it, which opens a popup instead: try the next cluster).
    for cluster in clusters[:8]:
        ActionChains(browser).move_to_element(cluster).click().perform()  # zooms in to part it
        time.sleep(0.6)
        if browser.execute_script("return Object.values(window).find(v => v instanceof L.Map).getZoom()") > zoom:
            break
        browser.execute_script("Object.values(window).find(v => v instanceof L.Map).closePopup()")
    assert browser.execute_script("return Object.values(window).find(v => v instanceof L.Map).getZoom()") > zoom
    browser.execute_script("""
        const map = Object.values(window).find(v => v instanceof L.Map);
        const places = Object.values(window).find(v => v instanceof L.AtlasPoints && v.options.cluster);
        map.setView(places.locate("p000123"), 15, {animate: false});
    """)
    time.sleep(0.3)
    popup = click_place(browser, map_element, "p000123", zoom=15)
    assert popup and popup.startswith("Synthetic place 123 · 合成地点123") and "days" in popup
    assert_offline_and_clean(browser)


def test_clustered_place_in_url_hash_opens_its_popup(synthetic_out, browser):
    open_map(browser, synthetic_out / "atlas.html", "#place=p000321")
    time.sleep(0.5)
    popup = browser.execute_script(POPUP_JS)
    assert popup and popup.startswith("Synthetic place 321 · 合成地点321") and designations_listed(browser)
    browser.execute_script("window.location.hash = '#place=p000007'")
    time.sleep(0.5)
    assert browser.execute_script(POPUP_JS).startswith("Synthetic place 7 · 合成地点7")
    assert_offline_and_clean(browser)


# Also a name that is Jinja syntax: branca re-parses rendered scripts as templates unless told not to.
XSS_PLACES = dict(zip(("jinyun-mountain", "guangyang-island", "wushan", "wulong"),
                      [*XSS_NAMES, "{{ 7 * 7 }} {% raw %}Wulong"]))


@pytest.fixture(scope="module")
def xss_out(tmp_path_factory):
    root = tmp_path_factory.mktemp("xss")
    seeds = copy_seeds(root / "seeds")

    def rename(entries):
        for entry in entries:
            if entry["id"] in XSS_PLACES:
                entry["name_en"] = XSS_PLACES[entry["id"]]
                entry["aliases"] = [*entry.get("aliases", []), XSS_PLACES[entry["id"]]]
    edit_seed(seeds, "places", rename)
    out = root / "output"
    result = render("--seeds", str(seeds), "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def test_xss_names_are_escaped_in_the_page(xss_out):
    html = (xss_out / "atlas.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x onerror=alert(1)>" not in html
    assert "{{ 7 * 7 }} {% raw %}Wulong" in html  # data, never evaluated as a template
    frame = pyogrio.read_dataframe(xss_out / "geojson" / "places.geojson")
    assert set(XSS_NAMES) <= set(frame["name_en"])  # the exports keep the data as it is


def test_xss_names_show_as_text_in_the_browser(xss_out, browser):
    for place_id, name in XSS_PLACES.items():
        browser.get((xss_out / "atlas.html").as_uri() + f"#place={place_id}")
        time.sleep(1.0)
        heading = browser.execute_script(
            "const h = document.querySelector('.leaflet-popup-content h4'); return h ? h.textContent : null;")
        assert heading is not None and heading.startswith(name)
        assert browser.execute_script("return document.querySelectorAll('img[src=x], .leaflet-popup script').length") == 0
        with pytest.raises(NoAlertPresentException):
            browser.switch_to.alert.text
        assert_offline_and_clean(browser)


def test_xss_names_show_as_text_in_the_search_list(xss_out, browser):
    open_map(browser, xss_out / "atlas.html")
    tips = search_for(browser, "onerror")
    assert any(tip.startswith(XSS_NAMES[1]) for tip in tips), tips
    tips = search_for(browser, "raw %")
    assert any(tip.startswith("{{ 7 * 7 }} {% raw %}Wulong") for tip in tips), tips
    assert browser.execute_script("return document.querySelectorAll('img[src=x], .search-tooltip script').length") == 0
    with pytest.raises(NoAlertPresentException):
        _ = browser.switch_to.alert.text
    assert_offline_and_clean(browser)
