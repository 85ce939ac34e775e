"""The pipeline's plumbing at scale: writers forked beside the map, the hand-written GeoJSON
writer, column-built layer frames, and the vectorised offline geocoder."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pyogrio
import pytest
from click.testing import CliRunner
from shapely.geometry import MultiPolygon, Point, Polygon

from atlas.boundaries import district_boundaries
from atlas.build import Beside, Prepared
from atlas.cli import cli
from atlas.errors import RunError
from atlas.export import geojson_geometries, write_geojson
from atlas.geocode import GazetteerGeocoder, load_gazetteer
from atlas.layers import Layer, PlaceColumns, build_layers, load_layer_specs, typed_frame
from atlas.load import default_seeds_dir, load_atlas
from tests.seedtools import copy_seeds


# --- writers beside the main process ----------------------------------------------------------

def test_beside_collects_paths_and_seconds(tmp_path):
    with Beside(tmp_path) as beside:
        for name in ("a", "b"):
            beside.start(name, lambda name=name: [(tmp_path / name).write_text(name) and tmp_path / name])
        files, seconds = beside.finish()
    assert files == ["a", "b"]
    assert set(seconds) == {"a", "b"}
    assert (tmp_path / "a").read_text() == "a"  # written by the child, seen by the parent


def test_beside_raises_a_writers_error_after_all_finish(tmp_path):
    def broken():
        raise RunError("disk full")

    def slow():
        time.sleep(0.3)
        (tmp_path / "slow").write_text("done")
        return [tmp_path / "slow"]

    with Beside(tmp_path) as beside:
        beside.start("broken", broken)
        beside.start("slow", slow)
        with pytest.raises(RunError, match="disk full"):
            beside.finish()
    assert (tmp_path / "slow").read_text() == "done"


def test_beside_reports_a_writer_that_died(tmp_path):
    with Beside(tmp_path) as beside:
        beside.start("doomed", lambda: os._exit(3))
        with pytest.raises(RunError, match="doomed process died \\(exit code 3\\)"):
            beside.finish()


def test_leaving_early_stops_the_writers(tmp_path):
    """An error in the main process stops the forked writers: none writes on into a staging
    directory that is being removed."""
    def forever():
        while True:
            time.sleep(0.05)

    with pytest.raises(ValueError):
        with Beside(tmp_path) as beside:
            beside.start("forever", forever)
            processes = list(beside._processes)
            raise ValueError("the map failed")
    assert processes and not any(p.is_alive() for p in processes)


def write_marker(folder, text: str) -> list:
    """A writer for `Prepared`, which finds its function by name."""
    (folder / "marker").write_text(f"{text} {os.getpid()}")
    return [folder / "marker"]


def test_a_prepared_writer_runs_in_its_own_process_once_handed_its_work(tmp_path):
    with Prepared("tests.test_build:write_marker") as writer:
        with Beside(tmp_path) as beside:
            beside.start_prepared("marker", writer, tmp_path, "hello")
            files, seconds = beside.finish()
    assert files == ["marker"] and set(seconds) == {"marker"}
    text, pid = (tmp_path / "marker").read_text().split()
    assert text == "hello" and int(pid) == writer.process.pid != os.getpid()
    assert writer.process.exitcode == 0


def test_a_prepared_writer_never_handed_work_ends_with_the_block():
    with Prepared("tests.test_build:write_marker") as writer:
        pass
    assert not writer.process.is_alive() and writer.process.exitcode == 0


def test_a_prepared_writer_that_cannot_import_reports_it_as_its_error(tmp_path):
    with Prepared("tests.no_such_module:write") as writer:
        with Beside(tmp_path) as beside:
            beside.start_prepared("missing", writer, tmp_path)
            with pytest.raises(ModuleNotFoundError, match="tests.no_such_module"):
                beside.finish()


def test_a_prepared_writer_stops_when_the_render_fails_before_it(tmp_path):
    """Bad seeds fail the render while the printable map's writer waits: it goes too."""
    import multiprocessing

    seeds = copy_seeds(tmp_path / "seeds")
    (seeds / "places.yaml").write_text("places: [unclosed\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["render", "--seeds", str(seeds), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "places.yaml" in result.output and "malformed YAML" in result.output
    assert multiprocessing.active_children() == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seeds"]


@pytest.mark.parametrize("module, writer", [("atlas.render", "write_map"),  # in the main process
                                            ("atlas.export", "write_geopackage"),  # in a forked one
                                            ("atlas.pages", "write_pages"),
                                            ("atlas.overview", "write_overview")])  # in a prepared one
def test_a_failing_writer_keeps_the_old_output_and_no_staging_left(module, writer, tmp_path, monkeypatch):
    import importlib

    out = tmp_path / "output"
    assert CliRunner().invoke(cli, ["render", "--no-book", "--out", str(out)]).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def broken(*args, **kwargs):
        raise ValueError("a writer's bug")
    monkeypatch.setattr(importlib.import_module(module), writer, broken)
    result = CliRunner().invoke(cli, ["render", "--out", str(out)])
    assert result.exit_code != 0 and "a writer's bug" in str(result.exception)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["output"]


# --- GeoJSON --------------------------------------------------------------------------------

def _signed_area(ring) -> float:
    xy = np.asarray(ring)
    return 0.5 * float(np.sum(xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1]))


def test_geojson_geometries_follow_rfc7946():
    clockwise_with_hole = Polygon([(0, 0), (0, 1), (1, 1), (1, 0)], [[(0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8)]])
    multi = MultiPolygon([clockwise_with_hole, Polygon([(2, 0), (3, 0), (3, 1)])])
    polygon, multipolygon = geojson_geometries([clockwise_with_hole, multi])
    assert polygon["type"] == "Polygon" and multipolygon["type"] == "MultiPolygon"
    for rings in [polygon["coordinates"], *multipolygon["coordinates"]]:
        assert _signed_area(rings[0]) > 0  # outer ring counter-clockwise
        assert all(_signed_area(hole) < 0 for hole in rings[1:])  # holes clockwise
    [point] = geojson_geometries([Point(106.123456789, 29.5000004)])
    assert point == {"type": "Point", "coordinates": [106.123457, 29.5]}


def test_write_geojson_reads_back_through_gdal(tmp_path):
    frame = typed_frame([{"id": "b", "name_en": "<script>x</script>", "batch": None, "area_ha": 1.5, "lon": 1.0},
                         {"id": "a", "name_en": "甲", "batch": 3, "area_ha": None, "lon": 2.0}])
    import geopandas as gpd

    layer = Layer(None, gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy([1, 2], [3, 4]), crs="EPSG:4326"))
    path = write_geojson(layer, tmp_path / "x.geojson")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert "crs" not in data and [f["id"] for f in data["features"]] == ["b", "a"]
    assert data["features"][0]["properties"] == {"name_en": "<script>x</script>", "batch": None, "area_ha": 1.5,
                                                 "lon": 1.0}
    info = pyogrio.read_info(path)
    assert dict(zip(info["fields"], info["dtypes"])) == {"id": "object", "name_en": "object", "batch": "int32",
                                                         "area_ha": "float64", "lon": "float64"}
    back = pyogrio.read_dataframe(path)
    assert back["name_en"].tolist() == ["<script>x</script>", "甲"]


# --- layer frames ---------------------------------------------------------------------------

def test_typed_frame_keeps_one_type_per_column():
    frame = typed_frame([{"id": "a", "year": 2020, "value": 1}, {"id": "b", "year": None, "value": 2.5, "note": "x"}])
    assert list(frame.columns) == ["id", "year", "value", "note"]
    assert str(frame["year"].dtype) == "Int64" and frame["year"].isna().tolist() == [False, True]
    assert frame["value"].dtype == np.float64
    assert frame["note"].isna().tolist() == [True, False] and frame["note"][1] == "x"


@pytest.fixture(scope="module")
def bundled():
    atlas = load_atlas()
    seeds = default_seeds_dir()
    districts = district_boundaries(atlas.districts)
    gazetteer = GazetteerGeocoder(atlas, load_gazetteer(seeds / "gazetteer.yaml", atlas.places), districts)
    return atlas, gazetteer, districts


def test_layer_rows_match_their_places(bundled):
    """Each layer row carries its own place's columns and figures (rows are taken by position)."""
    atlas, gazetteer, districts = bundled
    located = {p: gazetteer.locate(p) for p, place in atlas.places.items() if not place.city_wide}
    columns = PlaceColumns(atlas, located)
    for layer in build_layers(load_layer_specs(), atlas, columns, districts):
        frame = layer.frame
        if "place_id" not in frame:
            continue
        assert frame["id"].tolist() == sorted(frame["id"])
        for row in frame.to_dict("records"):
            place = atlas.places[row["place_id"]]
            assert (row["name_en"], row["district_code"]) == (place.name_en, place.district)
            if place.city_wide:  # Chongqing as a whole: no point, drawn as the city's outline
                assert layer.spec.geometry == "district" and np.isnan(row["lon"])
                assert layer.frame.geometry[layer.frame["place_id"] == place.id].iloc[0].area > 7
            else:
                assert (row["lon"], row["lat"]) == (located[place.id].lon, located[place.id].lat)
            if layer.spec.draw != "metric":
                for m in atlas.metrics_of(place.id):  # achieved figures as columns, targets and plans not
                    value = row.get(m.field_name)
                    present = value is not None and not np.isnan(value)
                    assert present == any(o.field_name == m.field_name and o.achieved
                                          for o in atlas.metrics_of(place.id)), (place.id, m.id)


# --- geocoding ------------------------------------------------------------------------------

def test_locate_all_matches_locate_one_by_one(bundled):
    atlas, gazetteer, _ = bundled
    places = [p for p in atlas.places.values() if not p.city_wide]
    assert gazetteer.locate_all(places) == [gazetteer.locate(p.id) for p in places]


def test_locate_all_measures_a_point_outside_its_district(bundled):
    atlas, gazetteer, _ = bundled
    place = next(p for p in atlas.places.values() if p.id in gazetteer.gazetteer.entries)
    entry = gazetteer.gazetteer.entries[place.id]
    from dataclasses import replace

    gazetteer.gazetteer.entries[place.id] = replace(entry, lon=120.5, lat=31.2, precision="site")
    try:
        [found] = gazetteer.locate_all([place])
        assert not found.inside_district and found.distance_to_district_m > 500_000
        assert found == gazetteer.locate(place.id)
    finally:
        gazetteer.gazetteer.entries[place.id] = entry
