"""Geocoding: the offline gazetteer, its checks, online fallbacks with fake geopy geocoders, the CLI."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest
from click.testing import CliRunner
from geopy.exc import GeocoderRateLimited, GeocoderTimedOut
from geopy.geocoders.base import Geocoder
from geopy.location import Location

from atlas import geocode as gc
from atlas import online as ol
from atlas.boundaries import district_boundaries
from atlas.cli import cli
from atlas.errors import InputError
from atlas.load import default_seeds_dir, load_atlas
from atlas.model import PRECISIONS

SEEDS = default_seeds_dir()
ATLAS = load_atlas(SEEDS)
PLACES = [p.id for p in ATLAS.places.values() if not p.city_wide]  # Chongqing as a whole has no point


@pytest.fixture(scope="module")
def gazetteer():
    return gc.load_gazetteer(SEEDS / gc.GAZETTEER_FILE, ATLAS.places)


@pytest.fixture(scope="module")
def geocoder(gazetteer):
    return gc.GazetteerGeocoder(ATLAS, gazetteer, district_boundaries(ATLAS.districts))


# --- offline ----------------------------------------------------------------------------------

@pytest.mark.parametrize("place_id", PLACES)
def test_every_bundled_place_geocodes_offline_inside_its_district(geocoder, place_id):
    found = geocoder.locate(place_id)
    place = ATLAS.places[place_id]
    assert found.ok and found.inside_district and found.distance_to_district_m == 0.0
    assert found.district_code == place.district
    assert found.precision in PRECISIONS and found.coord_source
    assert round(found.lon, 6) == found.lon and round(found.lat, 6) == found.lat
    if place.kind in gc.WHOLE_DISTRICT_KINDS:
        assert (found.method, found.precision) == ("district", "district")
        assert found.geometry is not None and found.geometry.contains(gc.Point(found.lon, found.lat))
    else:
        assert found.method in ("gazetteer", "district") and found.geometry is None


@pytest.mark.parametrize("place_id, name", [(p, n) for p in PLACES for n in ATLAS.places[p].names()])
def test_every_name_and_alias_finds_its_place(geocoder, place_id, name):
    location = geocoder.geocode(name)
    assert location.raw["place_id"] == place_id
    assert (location.longitude, location.latitude) == pytest.approx(
        (geocoder.locate(place_id).lon, geocoder.locate(place_id).lat))


@pytest.mark.parametrize("query", ["guangyang island", "  GUANGYANG-ISLAND!! ", "Guangyang, Island.",
                                   "ＧＵＡＮＧＹＡＮＧ　ＩＳＬＡＮＤ", "广阳岛", "广 阳 岛。", "Guāngyáng Island"])
def test_matching_ignores_case_punctuation_spaces_width_and_accents(geocoder, query):
    assert geocoder.geocode(query).raw["place_id"] == "guangyang-island"


def test_a_run_keys_its_places_by_id(geocoder):
    run = gc.geocode_places(geocoder)
    assert list(run.by_place()) == PLACES and not run.warnings and not run.problems


def test_chongqing_as_a_whole_is_not_located(geocoder, gazetteer):
    assert "chongqing" not in gazetteer.entries and "chongqing" not in gc.geocode_places(geocoder).by_place()
    assert geocoder.geocode("Chongqing") is None and geocoder.geocode("重庆市", exactly_one=False) == []


def test_geopy_interface(geocoder):
    assert geocoder.geocode("Atlantis") is None
    assert geocoder.geocode("Atlantis", exactly_one=False) == []
    [found] = geocoder.geocode("Dazu Rock Carvings", exactly_one=False)
    assert found.raw == {"place_id": "dazu-rock-carvings-area", "precision": "area",
                         "method": "gazetteer", "district_code": "500111"}
    assert (found.latitude, found.longitude) == (29.701111, 105.705)


def test_a_name_shared_by_two_places_is_an_input_error(gazetteer):
    twin = dataclasses.replace(ATLAS.places["hanfeng-lake"], id="hanfeng-twin", aliases=("Guangyangdao",))
    atlas = dataclasses.replace(ATLAS, places={**ATLAS.places, "hanfeng-twin": twin})
    with pytest.raises(InputError, match="'Guangyangdao' also names place 'guangyang-island'"):
        gc.GazetteerGeocoder(atlas, gazetteer, district_boundaries(ATLAS.districts))


# --- the gazetteer file -------------------------------------------------------------------------

BAD_GAZETTEER = """\
gazetteer:
  - place: atlantis
    precision: site
    coord_source: a myth
    lon: 106.5
    lat: 29.5
  - place: beibei
    precision: district
    coord_source: whole district
  - place: dazu-rock-carvings-area
    lon: 29.701111
    lat: 105.705
    precision: area
    coord_source: swapped
  - place: guangyang-island
    lon: 106.6318749
    lat: 29.52816
    precision: site
    coord_source: too precise
    colour: green
  - place: hanfeng-lake
    lon: 108.4
    lat: 31.2
    precision: district
    coord_source: district with a point
  - place: jingzhu-village
    precision: exact
    coord_source: ""
    tolerance_m: -5
  - place: xiantao-data-valley
    precision: district
    coord_source: null tolerance is the default
    tolerance_m:
  - place: xiantao-data-valley
    precision: area
    coord_source: no point
  - place: xiantao-data-valley
    precision: district
    coord_source: duplicate
"""


def test_gazetteer_problems_one_line_each(tmp_path):
    path = tmp_path / "gazetteer.yaml"
    path.write_text(BAD_GAZETTEER, encoding="utf-8")
    with pytest.raises(InputError) as err:
        gc.load_gazetteer(path, ATLAS.places)
    lines = err.value.lines()
    expected = [
        ("gazetteer[atlantis].place", "unknown place 'atlantis'"),
        ("gazetteer[beibei].place", "is a whole district"),
        ("gazetteer[dazu-rock-carvings-area].lon", "29.701111 is outside Chongqing"),
        ("gazetteer[dazu-rock-carvings-area].lat", "105.705 is outside Chongqing"),
        ("gazetteer[guangyang-island].lon", "more than 6 decimals"),
        ("gazetteer[guangyang-island].colour", "unknown field"),
        ("gazetteer[hanfeng-lake].lon", "remove lon/lat"),
        ("gazetteer[jingzhu-village].precision", "must be one of site, area, district"),
        ("gazetteer[jingzhu-village].coord_source", "must not be blank"),
        ("gazetteer[jingzhu-village].tolerance_m", "must not be negative"),
        ("gazetteer[xiantao-data-valley].lon", "required with precision 'area'"),
        ("gazetteer[chashan-bamboo-sea].place", "no entry for place 'chashan-bamboo-sea'"),
    ]
    for target, message in expected:
        assert any(f": {target}: " in line and message in line and line.startswith(str(path))
                   for line in lines), (target, lines)
    assert all("\n" not in line for line in lines)
    assert any("gazetteer[atlantis].place" in line and f"{path}:2:" in line for line in lines)


def test_gazetteer_duplicates_and_structure(tmp_path, gazetteer):
    path = tmp_path / "gazetteer.yaml"
    text = (SEEDS / gc.GAZETTEER_FILE).read_text(encoding="utf-8")
    path.write_text(text + "  - place: hanfeng-lake\n    precision: district\n    coord_source: again\n")
    with pytest.raises(InputError, match=r"gazetteer\[hanfeng-lake\]\.place: duplicate entry"):
        gc.load_gazetteer(path, ATLAS.places)
    path.write_text("places: []\n")
    with pytest.raises(InputError, match="top-level key 'gazetteer:'"):
        gc.load_gazetteer(path, ATLAS.places)
    with pytest.raises(InputError, match="missing gazetteer file"):
        gc.load_gazetteer(tmp_path / "nowhere.yaml", ATLAS.places)


def test_a_point_outside_its_district_is_an_error_naming_place_district_distance(gazetteer):
    moved = dataclasses.replace(gazetteer.entries["dazu-rock-carvings-area"], lon=108.4, lat=30.8)
    bad = dataclasses.replace(gazetteer, entries={**gazetteer.entries, moved.place: moved})
    run = gc.geocode_places(gc.GazetteerGeocoder(ATLAS, bad, district_boundaries(ATLAS.districts)))
    [problem] = run.problems
    assert problem.entry == "gazetteer[dazu-rock-carvings-area]" and problem.line == moved.line
    assert "Dazu Rock Carvings Area" in problem.message and "Dazu District (500111)" in problem.message
    assert " m outside" in problem.message


def test_a_straddling_place_within_its_tolerance_passes(gazetteer, geocoder):
    # 0.02° east of Beibei's easternmost vertex: outside, by about 2 km.
    beibei = district_boundaries(ATLAS.districts).set_index("code").loc["500109", "geometry"]
    point = gc.Point(beibei.bounds[2] + 0.02, beibei.centroid.y)
    place = ATLAS.places["jinyun-mountain"]
    near = geocoder.check(place, point, "area", "gazetteer", tolerance_m=5000)
    assert not near.inside_district and 1500 < near.distance_to_district_m < 5000 and near.ok
    assert not geocoder.check(place, point, "area", "gazetteer", tolerance_m=100).ok


# --- online, with fake geopy geocoders ------------------------------------------------------------

INSIDE = (106.63, 29.53)  # on Nan'an's side (Guangyang Island's district)
FAR = (108.4, 30.8)  # Wanzhou, ~230 km away


class FakeGeocoder(Geocoder):
    """A geopy Geocoder that answers from a script instead of the network."""

    def __init__(self, *answers):
        super().__init__(user_agent="test")
        self.answers, self.queries = list(answers), []

    def geocode(self, query, exactly_one=True, **kwargs):
        self.queries.append(query)
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, Exception):
            raise answer
        if answer is None:
            return None
        lon, lat = answer
        return Location(f"somewhere near {query}", (lat, lon),
                        {"boundingbox": [str(lat - 0.001), str(lat + 0.001), str(lon - 0.001), str(lon + 0.001)]})


def online(fake, tmp_path, **limits):
    return ol.online_geocoder("fake", tmp_path / "cache.json", geocoder=fake, min_interval_s=0, **limits)


def run_one(place_id, gazetteer, onl):
    atlas = dataclasses.replace(ATLAS, places={place_id: ATLAS.places[place_id]})
    geo = gc.GazetteerGeocoder(atlas, gazetteer, district_boundaries(ATLAS.districts))
    return gc.geocode_places(geo, onl)


def test_an_online_answer_inside_the_district_is_used_and_cached(gazetteer, tmp_path):
    fake = FakeGeocoder(INSIDE)
    run = run_one("guangyang-island", gazetteer, online(fake, tmp_path))
    [found] = run.located
    assert (found.method, found.precision, found.lon, found.lat) == ("fake", "site", *INSIDE)
    assert found.inside_district and not run.warnings and not run.problems
    assert fake.queries == ["广阳岛, 南岸区, 重庆市"]
    cached = json.loads((tmp_path / "cache.json").read_text("utf-8"))
    assert cached["fake|广阳岛, 南岸区, 重庆市"]["lon"] == INSIDE[0]
    again = FakeGeocoder(FAR)  # would be wrong if asked
    assert run_one("guangyang-island", gazetteer, online(again, tmp_path)).located == run.located
    assert again.queries == []  # the second run asks nothing


def test_a_curated_point_is_never_asked_about_nor_replaced_from_the_cache(gazetteer, tmp_path):
    key = "fake|大足石刻片区, 大足区, 重庆市"
    (tmp_path / "cache.json").write_text(json.dumps({key: {"lon": 105.72, "lat": 29.71, "precision": "site",
                                                           "address": "inside Dazu, but not curated"}}))
    fake = FakeGeocoder(INSIDE)
    run = run_one("dazu-rock-carvings-area", gazetteer, online(fake, tmp_path))
    [found] = run.located
    assert (found.method, found.lon, found.lat) == ("gazetteer", 105.705, 29.701111)
    assert fake.queries == [] and not run.warnings


def test_timeout_falls_back_with_one_warning(gazetteer, tmp_path):
    fake = FakeGeocoder(*[GeocoderTimedOut("took too long")] * 3)
    run = run_one("guangyang-island", gazetteer, online(fake, tmp_path))
    assert len(fake.queries) == 1  # a failed request ends the place's turn: no second query, no retry
    [found] = run.located
    assert found.method == "district" and found.ok
    [warning] = run.warnings
    assert warning == ("guangyang-island: fake failed (GeocoderTimedOut: took too long); using the gazetteer")
    assert not (tmp_path / "cache.json").exists()  # failures are not cached: ask again next time


def test_rate_limited_falls_back(gazetteer, tmp_path):
    fake = FakeGeocoder(GeocoderRateLimited("slow down", retry_after=0), INSIDE)
    run = run_one("guangyang-island", gazetteer, online(fake, tmp_path))
    assert run.located[0].method == "district" and "GeocoderRateLimited: slow down" in run.warnings[0]


def test_three_failures_in_a_row_give_the_service_up(gazetteer, tmp_path):
    fake = FakeGeocoder(*[GeocoderTimedOut("no")] * 10)
    geo = gc.GazetteerGeocoder(ATLAS, gazetteer, district_boundaries(ATLAS.districts))
    run = gc.geocode_places(geo, online(fake, tmp_path))
    assert len(fake.queries) == ol.GIVE_UP_AFTER == 3
    asked = [p for p in ATLAS.places.values() if gc.wants_online(geo, p)]
    assert len(run.warnings) == len(asked)  # one line per place it could not help
    assert sum("not asked (given up after 3 failed requests in a row)" in w for w in run.warnings) == len(asked) - 3


def test_no_result_falls_back(gazetteer, tmp_path):
    fake = FakeGeocoder(None, None)
    run = run_one("hanfeng-lake", gazetteer, online(fake, tmp_path))
    assert fake.queries == ["汉丰湖, 开州区, 重庆市", "Hanfeng Lake, Kaizhou District, Chongqing, China"]
    assert run.located[0].method == "district"
    assert "fake found nothing" in run.warnings[0]
    again = FakeGeocoder()
    run_one("hanfeng-lake", gazetteer, online(again, tmp_path))
    assert again.queries == []  # "nothing found" is an answer too


def test_a_result_200_km_away_falls_back_naming_the_distance(gazetteer, tmp_path):
    run = run_one("guangyang-island", gazetteer, online(FakeGeocoder(FAR), tmp_path))
    [found] = run.located
    assert found.method == "district" and found.ok and not run.problems
    [warning] = run.warnings
    assert "fake put it at (108.4, 30.8)" in warning
    distance_km = float(warning.split(", ")[2].split(" km")[0])
    assert 150 < distance_km < 300 and "outside Nan'an District (500108)" in warning


def test_whole_districts_are_never_asked_online(gazetteer, tmp_path):
    fake = FakeGeocoder(FAR)
    run = run_one("beibei", gazetteer, online(fake, tmp_path))
    assert fake.queries == [] and run.located[0].method == "district"


def test_bd09_and_gcj02_answers_are_converted_to_wgs84(gazetteer, tmp_path):
    from atlas import datums

    wgs = INSIDE
    for datum, forward in (("BD-09", datums.wgs84_to_bd09), ("GCJ-02", datums.wgs84_to_gcj02)):
        shifted = tuple(map(float, forward(*wgs)))
        path = tmp_path / datum
        path.mkdir()
        onl = ol.online_geocoder("fake", path / "c.json", geocoder=FakeGeocoder(shifted), datum=datum, min_interval_s=0)
        [found] = run_one("guangyang-island", gazetteer, onl).located
        assert (found.lon, found.lat) == pytest.approx(wgs, abs=2e-6)
        assert json.loads((path / "c.json").read_text("utf-8"))["fake|广阳岛, 南岸区, 重庆市"]["datum"] == datum
    assert ol.SERVICE_DATUMS["baiduv3"] == "BD-09"


def test_online_geocoder_setup(monkeypatch, tmp_path):
    with pytest.raises(InputError, match="no such service"):
        ol.online_geocoder("atlantis", tmp_path / "c.json")
    with pytest.raises(InputError, match="cannot be set up"):
        ol.online_geocoder("opencage", tmp_path / "c.json")  # needs an API key
    with pytest.raises(InputError, match="cannot be set up"):
        ol.online_geocoder("baiduv3", tmp_path / "c.json")  # BD-09, converted; but it needs a key
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    nominatim = ol.online_geocoder("nominatim")  # built, never called: no network
    assert nominatim.cache.path == tmp_path / "atlas" / "geocode-nominatim.json"
    assert nominatim.geocoder.headers["User-Agent"].startswith("chongqing-green-atlas/")
    assert (nominatim.timeout_s, nominatim.min_interval_s, nominatim.datum) == (10.0, 1.0, "WGS84")
    hosted = ol.online_geocoder("nominatim", tmp_path / "c.json", url="http://127.0.0.1:9/nominatim/")
    assert (hosted.geocoder.scheme, hosted.geocoder.domain) == ("http", "127.0.0.1:9/nominatim")
    with pytest.raises(InputError, match="expected http"):
        ol.online_geocoder("nominatim", tmp_path / "c.json", url="ftp://x")


def test_an_unreadable_cache_is_a_clear_error(tmp_path):
    (tmp_path / "cache.json").write_text("{not json")
    with pytest.raises(InputError, match=r"cache.json:1: malformed JSON"):
        ol.GeocodeCache(tmp_path / "cache.json")


# --- the command --------------------------------------------------------------------------------

def test_cli_geocode_offline_shows_every_place():
    result = CliRunner().invoke(cli, ["geocode"])
    assert result.exit_code == 0, result.output
    for place in map(ATLAS.places.get, PLACES):
        assert any(line.startswith(place.id + " ") and "ok: in " + place.district in line
                   for line in result.stdout.splitlines()), place.id
    assert f"{len(PLACES)} places located" in result.stdout


def test_cli_geocode_fails_on_a_point_in_the_wrong_district(tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    path = seeds / gc.GAZETTEER_FILE
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("lon: 105.705\n    lat: 29.701111", "lon: 108.4\n    lat: 30.8"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["geocode", "--seeds", str(seeds)])
    assert result.exit_code == 2
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "gazetteer[dazu-rock-carvings-area].lon" in error and str(path) in error
    assert "Dazu District (500111)" in error and " m outside" in error
    assert "FAIL" in result.stdout


def test_cli_geocode_online_with_a_fake_service(monkeypatch, tmp_path):
    fakes = []

    def service(name):
        def make(**kwargs):
            fakes.append(FakeGeocoder())  # finds nothing, ever
            return fakes[-1]
        return make

    import geopy.geocoders

    monkeypatch.setattr(geopy.geocoders, "get_geocoder_for_service", service)
    monkeypatch.setattr(ol, "MIN_INTERVAL_S", 0)
    cache = tmp_path / "answers.json"
    args = ["geocode", "--geocoder", "fake", "--cache", str(cache)]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "geocoding with fake" in first.stderr
    geo = gc.GazetteerGeocoder(ATLAS, gc.load_gazetteer(SEEDS / gc.GAZETTEER_FILE, ATLAS.places),
                               district_boundaries(ATLAS.districts))
    asked = [p for p in ATLAS.places.values() if gc.wants_online(geo, p)]
    assert first.stderr.count("warning: ") == len(asked) and cache.exists()
    second = CliRunner().invoke(cli, args)
    assert second.exit_code == 0 and second.stdout == first.stdout
    assert len(fakes[0].queries) == sum(2 if p.name_zh else 1 for p in asked)  # Chinese name, then English
    assert fakes[1].queries == []  # the second run asks nothing


def test_cli_cache_needs_a_geocoder(tmp_path):
    result = CliRunner().invoke(cli, ["geocode", "--cache", str(tmp_path / "c.json")])
    assert result.exit_code == 2 and "--cache only applies with --geocoder" in result.stderr


@pytest.mark.parametrize("raw, precision", [
    ({"class": "natural", "type": "peak", "boundingbox": ["29.8", "29.8001", "106.38", "106.3801"]}, "site"),
    ({"class": "tourism", "type": "attraction", "boundingbox": ["29.8", "29.805", "106.38", "106.385"]}, "site"),
    ({"class": "leisure", "type": "park", "boundingbox": ["29.8", "29.9", "106.3", "106.4"]}, "area"),
    ({"class": "place", "type": "island", "boundingbox": ["29.54", "29.5401", "106.64", "106.6401"]}, "area"),
    ({"class": "boundary", "type": "administrative", "boundingbox": ["29.8", "29.8001", "106.3", "106.3001"]}, "area"),
    ({"class": "natural", "type": "peak"}, "area"),  # no extent given: no claim to be a site
    ({"class": "natural", "type": "peak", "boundingbox": ["nan", "1", "2", "3"]}, "area"),
])
def test_precision_is_honest_about_the_answer_type(raw, precision):
    assert ol._precision(raw) == precision
