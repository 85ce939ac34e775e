"""Hostile inputs to geocoding: caches of the wrong shape, review files that lie, and networks that
fail in every way. Each case asserts the exit code, the message, that no traceback is printed, and
that every input and pre-existing file is byte-identical (and keeps its mode) afterwards.

No network: the geocoder is a fake Nominatim on 127.0.0.1 (tests/fake_nominatim.py) or a port
that drops connection attempts; every wait is bounded."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atlas import online
from atlas.cli import cli
from atlas.load import default_seeds_dir
from tests.fake_nominatim import Blackhole, FakeNominatim, place

SEEDS = default_seeds_dir()
GUANGYANG = place(106.6418, 29.5466, "广阳岛, 南岸区, 重庆市, 中国", "place", "island", ("way", 5), 0.05)
VALID = {"lon": 106.64, "lat": 29.55, "precision": "area", "address": "广阳岛"}


@pytest.fixture(autouse=True)
def _fast(monkeypatch):
    """No 1 s spacing between requests to a fake on loopback (the policy is tested on its own)."""
    monkeypatch.setattr(online, "MIN_INTERVAL_S", 0.0)


@pytest.fixture
def seeds(tmp_path):
    copy = tmp_path / "seeds"
    shutil.copytree(SEEDS, copy)
    return copy


def snapshot(root: Path) -> dict[str, tuple[bytes | None, int]]:
    """Every file and folder under root: its bytes (files) and mode."""
    out = {}
    for path in sorted(root.rglob("*")):
        out[str(path.relative_to(root))] = (path.read_bytes() if path.is_file() else None, path.stat().st_mode)
    return out


def run(args: list[str]):
    result = CliRunner().invoke(cli, args)
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), (result.exception, output)
    return result


def errors(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error: ")]


def closed_port() -> str:
    """A loopback port nothing listens on: connection refused, as with no network at all."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


# --- caches of the wrong shape -------------------------------------------------------------------------

def _deep(depth: int) -> str:
    return '{"nominatim|x": ' + "[" * depth + "]" * depth + "}"


CACHES = [
    # (case, file text (str) or bytes, line, target, message)
    ("not-a-mapping", "[1, 2]", 1, "", "must be one JSON object"),
    ("string-lon", '{\n "nominatim|x": {"lon": "106.6", "lat": 29.5, "precision": "area", "address": "a"}\n}',
     2, '"nominatim|x".lon', "must be a number, got str"),
    ("nan", '{"nominatim|x": {"lon": NaN, "lat": 29.5, "precision": "area", "address": "a"}}', 1, "",
     "NaN is not a number JSON allows"),
    ("overflow-inf", '{"nominatim|x": {"lon": 1e999, "lat": 29.5, "precision": "area", "address": "a"}}', 1,
     '"nominatim|x".lon', "must be a finite number, got inf"),
    ("nested-deep", _deep(100_000), 1, "", "nested too deeply"),
    ("nested-field", '{"nominatim|x": {"lon": 106.6, "lat": 29.5, "precision": "area", "address": {"a": {"b": 1}}}}',
     1, '"nominatim|x".address', "must be a string, got a mapping"),
    ("answer-a-list", '{"nominatim|x": [106.6, 29.5]}', 1, '"nominatim|x"', "must be a mapping of fields or null"),
    ("lone-surrogate-value", '{"nominatim|x": {"lon": 106.6, "lat": 29.5, "precision": "area", "address": "\\ud800"}}',
     1, '"nominatim|x".address', "lone surrogate"),
    ("lone-surrogate-key", '{"nominatim|\\udfff": null}', 1, '"nominatim|\\udfff"', "key holds a lone surrogate"),
    ("duplicate-key", '{\n "nominatim|x": null,\n "nominatim|x": null\n}', 3, '"nominatim|x"',
     "duplicate key (first at line 2)"),
    ("unknown-field", '{"nominatim|x": {"lon": 106.6, "lat": 29.5, "precision": "area", "address": "a", "eval": "x"}}',
     1, '"nominatim|x".eval', "unknown field"),
    ("district-precision", '{"nominatim|x": {"lon": 106.6, "lat": 29.5, "precision": "district", "address": "a"}}',
     1, '"nominatim|x".precision', "must be one of site, area"),
    ("huge-number", '{"nominatim|x": {"lon": ' + "9" * 5000 + ', "lat": 29.5, "precision": "area", "address": "a"}}',
     1, "", "malformed number"),
    ("truncated", '{"nominatim|x": {"lon": 106.6,', 1, "", "malformed JSON"),
    ("not-utf8", b'{"nominatim|x": "\xff"}', 1, "", "not valid UTF-8"),
    ("huge-file", None, None, "", "over 16 MB"),
    ("long-text", '{"nominatim|x": {"lon": 106.6, "lat": 29.5, "precision": "area", "address": "' + "a" * 5000 + '"}}',
     1, '"nominatim|x".address', "5,000 characters; at most 1,000"),
]


def _write_cache(path: Path, text) -> None:
    if text is None:
        with open(path, "wb") as out:
            out.write(b"{" + b" " * (online.MAX_CACHE_BYTES + 10) + b"}")
    else:
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize("case, text, line, target, message", CACHES, ids=[c[0] for c in CACHES])
@pytest.mark.parametrize("command", ["geocode", "validate"])
def test_a_cache_of_the_wrong_shape_is_refused_and_left_alone(tmp_path, case, text, line, target, message, command):
    cache = tmp_path / "cache.json"
    _write_cache(cache, text)
    cache.chmod(0o640)
    before = snapshot(tmp_path)
    if command == "geocode":  # refused before anything is asked: the port is closed anyway
        args = ["geocode", "--geocoder", "nominatim", "--geocoder-url", closed_port(), "--cache", str(cache)]
    else:
        args = ["validate", "--cache", str(cache)]
    result = run(args)
    assert result.exit_code == 2, result.output
    [error] = errors(result)
    where = f"{cache}:{line}: " if line else f"{cache}: "
    assert error.startswith(f"error: {where}{target + ': ' if target else ''}"), error
    assert message in error
    assert snapshot(tmp_path) == before


def test_a_fifo_cache_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "cache.json"
    os.mkfifo(fifo)
    started = time.monotonic()
    result = run(["geocode", "--geocoder", "nominatim", "--geocoder-url", closed_port(), "--cache", str(fifo)])
    assert result.exit_code == 2 and "geocode cache is not a regular file" in errors(result)[0]
    assert time.monotonic() - started < 10


def test_validate_reports_every_cache_problem_one_line_each(tmp_path):
    cache = tmp_path / "cache.json"
    cache.write_text(json.dumps({"nominatim|a": {**VALID, "lon": "x", "lat": 500}, "nominatim|b": {"precision": "site"},
                                 "nominatim|ok": VALID, "nominatim|none": None}, indent=1))
    result = run(["validate", "--cache", str(cache)])
    assert result.exit_code == 2
    assert [e.split(": ", 2)[1] for e in errors(result)] == [
        f"{cache}:2", f"{cache}:2", f"{cache}:8", f"{cache}:8", f"{cache}:8"]
    assert {e.rsplit(": ", 1)[1] for e in errors(result)} == {
        "must be a number, got str", "500 is outside (-90.0..90.0)", "missing required field"}
    cache.write_text(json.dumps({"nominatim|ok": VALID, "nominatim|none": None}))
    good = run(["validate", "--cache", str(cache)])
    assert good.exit_code == 0 and f"cache OK: {cache}: 2 answers (1 found, 1 nothing found)" in good.stdout


# --- networks that fail ----------------------------------------------------------------------------------

def _asked_places() -> int:
    text = (SEEDS / "gazetteer.yaml").read_text("utf-8")
    return text.count("precision: district")


def test_offline_geocode_never_breaks_and_warns_once_per_place(tmp_path, seeds):
    before = snapshot(tmp_path)
    started = time.monotonic()
    result = run(["geocode", "--seeds", str(seeds), "--geocoder", "nominatim", "--geocoder-url", closed_port(),
                  "--cache", str(tmp_path / "cache.json")])
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == _asked_places()
    assert sum("nominatim failed (GeocoderUnavailable" in w or "nominatim failed (GeocoderServiceError" in w
               for w in warnings) == online.GIVE_UP_AFTER
    assert re.search(r"^\d+ places located, all inside their districts$", result.stdout, re.M)
    assert elapsed < 10 and snapshot(tmp_path) == before  # nothing learnt, nothing written


def test_a_network_dropping_packets_is_bounded_by_the_deadline(tmp_path, seeds):
    with Blackhole() as hole:
        started = time.monotonic()
        result = run(["geocode", "--seeds", str(seeds), "--geocoder", "nominatim", "--geocoder-url", hole.url,
                      "--cache", str(tmp_path / "cache.json"), "--deadline", "2", "--timeout", "1.5"])
        elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == _asked_places()
    assert "timed out" in warnings[0].lower()
    assert any("not asked (the 2 s deadline passed)" in w for w in warnings)
    assert elapsed < 8, elapsed


def test_a_server_trickling_bytes_cannot_outlast_the_request_timeout(tmp_path, seeds):
    with FakeNominatim(default=("trickle", 0.2)) as fake:
        started = time.monotonic()
        result = run(["geocode", "--seeds", str(seeds), "--geocoder", "nominatim", "--geocoder-url", fake.url,
                      "--cache", str(tmp_path / "cache.json"), "--timeout", "1"])
        elapsed = time.monotonic() - started
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == _asked_places() and "no complete answer in 1 s" in warnings[0]
    assert elapsed < 3 * 1.5 + 4, elapsed  # three requests, then given up


def test_a_slow_server_is_waited_for_up_to_the_timeout_only(tmp_path, seeds):
    routes = [("广阳岛", ("slow", 0.3, [GUANGYANG])), ("汉丰湖", ("slow", 5, []))]
    with FakeNominatim(routes) as fake:
        started = time.monotonic()
        result = run(["geocode", "--seeds", str(seeds), "--geocoder", "nominatim", "--geocoder-url", fake.url,
                      "--cache", str(tmp_path / "cache.json"), "--timeout", "1.5"])
        elapsed = time.monotonic() - started
    assert result.exit_code == 0
    [row] = [line for line in result.stdout.splitlines() if line.startswith("guangyang-island ")]
    assert "nominatim" in row and "106.641800" in row  # slow but in time: used
    [warning] = [line for line in result.stderr.splitlines() if line.startswith("warning: hanfeng-lake:")]
    assert "nominatim failed (GeocoderTimedOut" in warning
    assert elapsed < 6, elapsed


MALFORMED = [
    ("html", ("raw", b"<html><body>502 Bad Gateway</body></html>", 200), "GeocoderParseError"),
    ("server-error", ("raw", b'{"error": "boom"}', 500), "Geocoder"),
    ("object-not-list", ("json", {"lat": "29.5", "lon": "106.6"}), "failed ("),
    ("lat-not-a-number", ("json", [{**GUANGYANG, "lat": "north"}]), "failed ("),
    ("lat-nan", ("json", [{**GUANGYANG, "lat": "nan"}]), "failed ("),
    ("lone-surrogate-name", ("raw", b'[{"lat": "29.5466", "lon": "106.6418", "display_name": "\\ud800"}]', 200),
     "lone surrogate"),
    ("huge-name", ("json", [{**GUANGYANG, "display_name": "x" * 5000}]), "at most 1,000"),
]


@pytest.mark.parametrize("case, behaviour, message", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_answers_are_one_warning_and_never_cached(tmp_path, seeds, case, behaviour, message):
    cache = tmp_path / "cache.json"
    with FakeNominatim([("广阳岛", behaviour)]) as fake:
        result = run(["geocode", "--seeds", str(seeds), "--geocoder", "nominatim", "--geocoder-url", fake.url,
                      "--cache", str(cache), "--timeout", "2"])
    assert result.exit_code == 0, result.output
    [warning] = [line for line in result.stderr.splitlines() if line.startswith("warning: guangyang-island:")]
    assert message in warning and warning.endswith("; using the gazetteer")
    answers = online.read_cache(cache)  # what was kept is still a valid cache
    assert not any(key.startswith("nominatim|广阳岛") for key in answers)


def test_render_offline_with_a_geocoder_still_renders(tmp_path, seeds):
    out = tmp_path / "out"
    result = run(["render", "--seeds", str(seeds), "--out", str(out), "--no-book", "--geocoder", "nominatim",
                  "--geocoder-url", closed_port(), "--cache", str(tmp_path / "cache.json")])
    assert result.exit_code == 0, result.output
    assert sum(line.startswith("warning: ") for line in result.stderr.splitlines()) == _asked_places()
    assert (out / "atlas.html").is_file()


def test_requests_are_spaced_and_name_the_application(tmp_path, seeds, monkeypatch):
    monkeypatch.setattr(online, "MIN_INTERVAL_S", 0.3)
    with FakeNominatim() as fake:  # finds nothing
        result = run(["geocode", "--seeds", str(seeds), "--geocoder", "nominatim", "--geocoder-url", fake.url,
                      "--cache", str(tmp_path / "cache.json"), "--deadline", "2"])
    assert result.exit_code == 0
    times = [r["at"] for r in fake.requests]
    assert 4 <= len(times) <= 8 and min(b - a for a, b in zip(times, times[1:])) >= 0.29
    assert "not asked (the 2 s deadline passed)" in result.stderr
    assert {r["user_agent"] for r in fake.requests} == {online.USER_AGENT}
    assert {r["path"] for r in fake.requests} == {"/search"}


# --- review files that lie -------------------------------------------------------------------------------

def review(tmp_path: Path, entries: list[dict] | str) -> Path:
    path = tmp_path / "gazetteer.review.yaml"
    if isinstance(entries, str):
        path.write_text(entries, encoding="utf-8")
    else:
        import yaml

        path.write_text(yaml.safe_dump({"proposals": entries}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def proposal(**fields) -> dict:
    entry = {"place": "guangyang-island", "lon": 106.6418, "lat": 29.5466, "precision": "area",
             "source": "OpenStreetMap Nominatim", "query": "广阳岛, 南岸区, 重庆市", "date": "2026-12-03",
             "licence": "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright",
             "display_name": "广阳岛, 南岸区, 重庆市, 中国", "type": "place/island",
             "url": "https://www.openstreetmap.org/way/5", "datum": "WGS84"}
    entry.update(fields)
    return {k: v for k, v in entry.items() if v is not ...}


REVIEWS = [
    ("outside-district", [proposal(lon=108.4, lat=30.8)], "proposals[guangyang-island].lon",
     "outside guangyang-island's district Nan'an District (500108); refused"),
    ("curated-point", [proposal(place="dazu-rock-carvings-area", lon=105.72, lat=29.71)],
     "proposals[dazu-rock-carvings-area].place", "curated coordinates win"),
    ("whole-district", [proposal(place="beibei")], "proposals[beibei].place", "is a whole district"),
    ("unknown-place", [proposal(place="atlantis")], "proposals[atlantis].place", "unknown place 'atlantis'"),
    ("nested-mapping", [proposal(display_name={"a": {"b": "c"}})], "proposals[guangyang-island].display_name",
     "must be a string, got a mapping"),
    ("nan-lon", "proposals:\n  - place: guangyang-island\n    lon: .nan\n    lat: 29.5\n", "proposals[guangyang-island].lon",
     "must be a finite number, got nan"),
    ("gcj02-datum", [proposal(datum="GCJ-02")], "proposals[guangyang-island].datum", "review coordinates are WGS84"),
    ("no-date", [proposal(date=...)], "proposals[guangyang-island].date", "missing required field"),
    ("bad-date", [proposal(date="yesterday")], "proposals[guangyang-island].date", "YYYY-MM-DD"),
    ("twice", [proposal(), proposal()], "proposals[guangyang-island].place", "proposed twice"),
    ("lone-surrogate-json", '{"proposals": [{"place": "guangyang-island", "query": "\\ud800"}]}',
     "", "no low surrogate"),
    ("lone-surrogate-yaml", 'proposals:\n  - place: guangyang-island\n    query: "\\ud800"\n', "",
     "malformed YAML: found invalid Unicode character escape code"),
    ("wrong-top-level", "gazetteer: []\n", "", "expected one top-level list 'proposals:'"),
    ("district-precision", [proposal(precision="district")], "proposals[guangyang-island].precision",
     "must be one of site, area"),
]


@pytest.mark.parametrize("case, entries, target, message", REVIEWS, ids=[r[0] for r in REVIEWS])
def test_a_lying_review_changes_nothing(tmp_path, seeds, case, entries, target, message):
    path = review(tmp_path, entries)
    (seeds / "gazetteer.yaml").chmod(0o640)
    before = snapshot(tmp_path)
    result = run(["geocode", "--seeds", str(seeds), "--accept", str(path)])
    assert result.exit_code == 2, result.output
    found = errors(result)
    assert any(f": {target}: " in line and message in line for line in found) if target else \
        any(message in line for line in found), found
    assert all(line.startswith(f"error: {path}:") for line in found)
    assert snapshot(tmp_path) == before


def test_a_fifo_review_is_refused_without_blocking(tmp_path, seeds):
    fifo = tmp_path / "review.yaml"
    os.mkfifo(fifo)
    before = snapshot(tmp_path)
    result = run(["geocode", "--seeds", str(seeds), "--accept", str(fifo)])
    assert result.exit_code == 2 and errors(result) == [f"error: {fifo}: review file is not a regular file"]
    assert snapshot(tmp_path) == before


def test_propose_then_accept_round_trip(tmp_path, seeds):
    """The whole way: a fake Nominatim answers, --propose writes the review, --accept merges it."""
    routes = [("广阳岛", ("json", [GUANGYANG])), ("汉丰湖", ("json", [place(108.4, 30.8, "far away")]))]
    out = tmp_path / "proposals.yaml"
    gazetteer = seeds / "gazetteer.yaml"
    gazetteer.chmod(0o640)
    with FakeNominatim(routes) as fake:
        result = run(["geocode", "--seeds", str(seeds), "--geocoder", "nominatim", "--geocoder-url", fake.url,
                      "--cache", str(tmp_path / "cache.json"), "--propose", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}: 1 proposed coordinates" in result.stdout
    text = out.read_text("utf-8")
    for expected in ("place: guangyang-island", "source: OpenStreetMap Nominatim", "query: 广阳岛, 南岸区, 重庆市",
                     "licence: Data © OpenStreetMap contributors, ODbL 1.0", "display_name: 广阳岛, 南岸区, 重庆市, 中国",
                     "type: place/island", "precision: area", "date: '"):
        assert expected in text, expected
    assert "#   hanfeng-lake: nominatim put it at (108.4, 30.8)" in text  # refused by the district check
    again = run(["geocode", "--seeds", str(seeds), "--geocoder", "nominatim", "--geocoder-url", closed_port(),
                 "--cache", str(tmp_path / "cache.json"), "--propose", "--out", str(out)])
    assert again.exit_code == 1 and "exists (it may hold review edits); pass --force" in again.stderr
    before = gazetteer.read_text("utf-8")
    merged = run(["geocode", "--seeds", str(seeds), "--accept", str(out)])
    assert merged.exit_code == 0, merged.output
    after = gazetteer.read_text("utf-8")
    assert after.splitlines()[:17] == before.splitlines()[:17]  # the header comments stay
    assert "coord_source: 'OpenStreetMap Nominatim: 广阳岛, 南岸区, 重庆市, 中国 (place/island), " \
           "https://www.openstreetmap.org/way/5. Data © OpenStreetMap contributors, ODbL 1.0. " \
           "http://osm.org/copyright'" in after
    assert "retrieved: '" in after and "    query: 广阳岛, 南岸区, 重庆市" in after
    assert oct(gazetteer.stat().st_mode & 0o777) == oct(0o640)
    located = run(["geocode", "--seeds", str(seeds)])
    [row] = [line for line in located.stdout.splitlines() if line.startswith("guangyang-island ")]
    assert "106.641800" in row and "gazetteer" in row and "area" in row and "ok: in 500108" in row
    second = run(["geocode", "--seeds", str(seeds), "--accept", str(out)])  # now curated: curated wins
    assert second.exit_code == 2 and "curated coordinates win" in errors(second)[0]
    rendered = tmp_path / "rendered"
    assert run(["render", "--seeds", str(seeds), "--out", str(rendered), "--no-book"]).exit_code == 0
    lookup_day = re.search(r"retrieved: '(\d{4}-\d{2}-\d{2})'", after).group(1).encode()
    files = [p for p in rendered.rglob("*") if p.is_file()]
    assert files and not [p.name for p in files if lookup_day in p.read_bytes()]  # no lookup date in outputs


def test_option_misuse_is_a_usage_error(tmp_path):
    assert run(["geocode", "--propose"]).exit_code == 2
    assert run(["geocode", "--out", str(tmp_path / "x.yaml")]).exit_code == 2
    assert run(["geocode", "--cache", str(tmp_path / "c.json")]).exit_code == 2
    assert run(["geocode", "--deadline", "-1"]).exit_code == 2
    path = review(tmp_path, [proposal()])
    mixed = run(["geocode", "--accept", str(path), "--geocoder", "nominatim"])
    assert mixed.exit_code == 2 and "--accept asks no geocoder" in mixed.stderr


# --- fuzzing --------------------------------------------------------------------------------------------

_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                           max_size=4), max_leaves=20)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.dictionaries(st.text(max_size=30), _JSON | st.fixed_dictionaries(
    {"lon": _SCALARS, "lat": _SCALARS, "precision": _SCALARS, "address": _SCALARS}), max_size=5) | _JSON,
       cut=st.integers(0, 400))
def test_any_cache_text_is_read_or_refused_with_lines(tmp_path, value, cut):
    cache = tmp_path / "fuzz.json"
    text = json.dumps(value, indent=1)
    for candidate in (text, text[:cut]):
        cache.write_text(candidate, encoding="utf-8")
        try:
            answers = online.read_cache(cache)
        except online.InputError as exc:
            assert exc.lines() and all(line.startswith(str(cache)) and "\n" not in line for line in exc.lines())
        else:
            assert isinstance(answers, dict)
            assert all(not online.answer_problems(a) for a in answers.values())


_FIELD_VALUES = _SCALARS | st.sampled_from(["guangyang-island", "beibei", "site", "area", "2026-12-03", "WGS84",
                                            106.6418, 29.5466, 108.4]) | st.dictionaries(st.text(max_size=3), _SCALARS,
                                                                                         max_size=2)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(st.fixed_dictionaries({}, optional={key: _FIELD_VALUES for key in (
    "place", "lon", "lat", "precision", "source", "query", "date", "licence", "display_name", "type", "datum", "x")}),
    max_size=3))
def test_any_review_merges_or_changes_nothing(tmp_path_factory, entries):
    import yaml

    from atlas.errors import InputError
    from atlas.georeview import accept_proposals

    root = tmp_path_factory.mktemp("fuzz-review")
    seeds = root / "seeds"
    shutil.copytree(SEEDS, seeds)
    path = root / "r.yaml"
    path.write_text(yaml.safe_dump({"proposals": entries}, allow_unicode=True), encoding="utf-8")
    before = snapshot(root)
    try:
        merged = accept_proposals(path, seeds)
    except InputError as exc:
        assert exc.lines() and all(line.startswith(str(path)) and "\n" not in line for line in exc.lines())
        assert snapshot(root) == before
    else:
        assert len(merged.places) <= len(entries)
