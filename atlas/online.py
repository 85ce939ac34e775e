"""Online geocoders: asking them within bounds, and the cache of their answers.

Optional, and never allowed to break a run: every request has a timeout and runs in a thread of
its own, the whole run has a deadline, requests are spaced by the service's policy (Nominatim: one
a second, from an application that names itself), a service that keeps failing is given up for the
rest of the run, and each place it could not help gets one warning line from the caller.

The cache is a JSON file mapping "service|query" to the service's answer, or to null for "nothing
found":

    {"nominatim|缙云山, 北碚区, 重庆市": {"lon": 106.38, "lat": 29.83, "precision": "area",
        "address": "缙云山, ...", "kind": "natural/peak", "date": "2026-12-03",
        "licence": "Data © OpenStreetMap contributors, ODbL 1.0. ...",
        "url": "https://www.openstreetmap.org/node/1", "datum": "WGS84"}}

lon/lat are always WGS84: an answer in GCJ-02 or BD-09 is converted before it is kept, and `datum`
says what the service answered in. A cache is anybody's file (shared, edited, truncated): every
entry is checked on reading, each problem is one `file:line: entry.field: message` line, and a
cache with any problem is refused whole (exit 2) and left as it is.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from json.decoder import scanstring
from pathlib import Path
from typing import Any

from pyproj import Geod

from . import __version__
from .datums import BD09, DATUMS, WGS84, to_wgs84
from .errors import InputError, Problem, RunError

DEFAULT_DEADLINE_S = 120.0
REQUEST_TIMEOUT_S = 10.0
# Nominatim's usage policy: at most one request a second, from an application that names itself.
MIN_INTERVAL_S = 1.0
USER_AGENT = f"chongqing-green-atlas/{__version__} (atlas geocode; geopy)"
# Consecutive failed requests after which the service counts as unreachable for the run.
GIVE_UP_AFTER = 3
# geopy services whose answers are in a Chinese datum, converted to WGS84 before use.
SERVICE_DATUMS = {"baidu": BD09, "baiduv3": BD09}
NOMINATIM_SOURCE = "OpenStreetMap Nominatim"
OSM_LICENCE = "Data © OpenStreetMap contributors, ODbL 1.0. https://osm.org/copyright"
# An answer whose bounding box is smaller than this is a site (unless it is a boundary or a
# settlement, which are areas however small).
SITE_EXTENT_M = 1000.0
AREA_CLASSES = ("boundary", "place", "landuse")
COORD_DECIMALS = 6
_GEOD = Geod(ellps="WGS84")

MAX_CACHE_BYTES = 16 * 2**20
MAX_ENTRIES = 100_000
MAX_KEY_CHARS = 1_000
MAX_TEXT_CHARS = 1_000
PRECISIONS = ("site", "area")  # what an online answer can be: never "district"
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WS = re.compile(r"[ \t\n\r]*")


def number_problem(value: Any, low: float, high: float, where: str = "") -> str | None:
    """Why `value` is not a finite number in low..high (`where` names the range), or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"must be a number, got {_kind(value)}"
    if not math.isfinite(value):
        return f"must be a finite number, got {value}"
    if not low <= value <= high:
        return f"{value} is outside {where + ' ' if where else ''}({low}..{high})"
    return None


def text_problem(value: Any, choices: tuple[str, ...] = (), pattern: re.Pattern | None = None,
                 shape: str = "") -> str | None:
    """Why `value` is not a string that may be kept (capped, valid Unicode, no NUL; one of
    `choices`, or matching `pattern`, described as `shape`), or None."""
    if not isinstance(value, str):
        return f"must be a string, got {_kind(value)}"
    if len(value) > MAX_TEXT_CHARS:
        return f"is {len(value):,} characters; at most {MAX_TEXT_CHARS:,}"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "holds a lone surrogate (not valid Unicode)"
    if "\x00" in value:
        return "holds a NUL character"
    if choices and value not in choices:
        return f"must be one of {', '.join(choices)}; got {value[:40]!r}"
    if pattern is not None and not pattern.match(value):
        return f"must be {shape}; got {value[:40]!r}"
    return None


FIELDS: dict[str, tuple[bool, Callable[[Any], str | None]]] = {
    "lon": (True, lambda v: number_problem(v, -180.0, 180.0)),
    "lat": (True, lambda v: number_problem(v, -90.0, 90.0)),
    "precision": (True, lambda v: text_problem(v, PRECISIONS)),
    "address": (True, text_problem),
    "kind": (False, text_problem),
    "date": (False, lambda v: text_problem(v, pattern=DAY, shape="a date, YYYY-MM-DD")),
    "licence": (False, text_problem),
    "url": (False, text_problem),
    "datum": (False, lambda v: text_problem(v, DATUMS)),
}


def _kind(value: Any) -> str:
    """What a value is, in a reader's words."""
    for types, word in ((dict, "a mapping"), (list, "a list"), (type(None), "null")):
        if isinstance(value, types):
            return word
    return type(value).__name__


def answer_problems(answer: Any) -> list[tuple[str, str]]:
    """(field, message) for everything wrong with one answer; [] when it may be kept."""
    if answer is None:
        return []
    if not isinstance(answer, dict):
        return [("", f"must be a mapping of fields or null (nothing found), got {_kind(answer)}")]
    out = [(str(key)[:40], f"unknown field (expected: {', '.join(FIELDS)})") for key in answer if key not in FIELDS]
    for key, (required, check) in FIELDS.items():
        if key not in answer:
            if required:
                out.append((key, "missing required field"))
        elif message := check(answer[key]):
            out.append((key, message))
    return out


def label(key: str) -> str:
    """An entry's name in a problem line: the key, quoted, escaped and cut short."""
    text = json.dumps(key)  # ASCII-escaped: a lone surrogate shows as \\udXXX
    return text if len(text) <= 80 else text[:76] + '..."'


class _Constant(ValueError):
    """NaN or Infinity in the file: not JSON, and not a coordinate."""


def _no_constant(name: str):
    raise _Constant(name)


_DECODER = json.JSONDecoder(parse_constant=_no_constant)


def _read_text(path: Path, file: str) -> str:
    """The file's text, read up to the cap (a FIFO or /dev/zero cannot make it read forever)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_CACHE_BYTES + 1)
    except OSError as exc:
        raise InputError(Problem(file, None, "", "", f"cannot read geocode cache: {exc.strerror or exc}")) from None
    if len(raw) > MAX_CACHE_BYTES:
        raise InputError(Problem(file, None, "", "", f"geocode cache is over {MAX_CACHE_BYTES // 2**20} MB"))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(Problem(file, line, "", "", "geocode cache is not valid UTF-8")) from None


def read_cache(path: Path) -> dict[str, Any]:
    """The answers in a cache file ({} for a missing or empty one); `InputError` listing every
    problem, one line each, when anything in it is of the wrong shape."""
    file = str(path)
    if not path.exists():
        return {}
    if not path.is_file():  # a FIFO or a device would block or never end
        raise InputError(Problem(file, None, "", "", "geocode cache is not a regular file"))
    text = _read_text(path, file)

    def line_at(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    def fail(pos: int, message: str) -> InputError:
        return InputError(Problem(file, line_at(pos), "", "", message))

    pos = _WS.match(text, 0).end()
    if pos == len(text):
        return {}
    if text[pos] != "{":
        raise fail(pos, 'geocode cache must be one JSON object mapping "service|query" to an answer or null')
    answers: dict[str, Any] = {}
    first_line: dict[str, int] = {}
    problems: list[Problem] = []
    pos = _WS.match(text, pos + 1).end()
    closing = text.startswith("}", pos)
    while not closing:
        if len(answers) >= MAX_ENTRIES:
            raise fail(pos, f"geocode cache has more than {MAX_ENTRIES:,} entries")
        start = pos
        try:
            if not text.startswith('"', pos):
                raise fail(pos, "malformed JSON: expected a quoted key")
            key, pos = scanstring(text, pos + 1)
            pos = _WS.match(text, pos).end()
            if not text.startswith(":", pos):
                raise fail(pos, "malformed JSON: expected ':' after the key")
            pos = _WS.match(text, pos + 1).end()
            value, pos = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise InputError(Problem(file, exc.lineno, "", "", f"malformed JSON: {exc.msg}")) from None
        except RecursionError:
            raise fail(start, "nested too deeply to be a geocode answer") from None
        except _Constant as exc:
            raise fail(start, f"{exc} is not a number JSON allows") from None
        except ValueError as exc:  # e.g. an integer of thousands of digits
            raise fail(start, f"malformed number: {str(exc)[:80]}") from None
        line = line_at(start)
        name = label(key)
        if len(key) > MAX_KEY_CHARS:
            problems.append(Problem(file, line, name, "", f"key is {len(key):,} characters; at most {MAX_KEY_CHARS:,}"))
        elif reason := text_problem(key):
            problems.append(Problem(file, line, name, "", f"key {reason}"))
        elif "|" not in key:
            problems.append(Problem(file, line, name, "", 'key must be "service|query"'))
        elif key in first_line:
            problems.append(Problem(file, line, name, "", f"duplicate key (first at line {first_line[key]})"))
        problems.extend(Problem(file, line, name, field, message) for field, message in answer_problems(value))
        first_line.setdefault(key, line)
        answers[key] = value
        pos = _WS.match(text, pos).end()
        if text.startswith(",", pos):
            pos = _WS.match(text, pos + 1).end()
        elif text.startswith("}", pos):
            closing = True
        else:
            raise fail(pos, "malformed JSON: expected ',' or '}' after an entry")
    end = _WS.match(text, pos + 1).end()
    if end != len(text):
        raise fail(end, "malformed JSON: text after the closing '}'")
    if problems:
        raise InputError(problems)
    return answers


def check_caches(paths) -> str:
    """`atlas validate --cache`: every problem in every cache at once (InputError), else a summary.
    A cache that does not exist is a problem here: validating it was asked for."""
    problems, lines = [], []
    for path in map(Path, paths):
        if not path.is_file():
            problems.append(Problem(str(path), None, "", "", "no such geocode cache file"))
            continue
        try:
            answers = read_cache(path)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        found = sum(answer is not None for answer in answers.values())
        lines.append(f"cache OK: {path}: {len(answers)} answers ({found} found, {len(answers) - found} nothing found)")
    if problems:
        raise InputError(problems)
    return "\n".join(lines)


class GeocodeCache:
    """An online geocoder's answers (including "nothing found") kept between runs, so a second
    run asks nothing. Errors and timeouts are not kept: the next run asks again."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._answers = read_cache(self.path)
        self._changed = False

    def get(self, key: str) -> tuple[bool, Any]:
        return key in self._answers, self._answers.get(key)

    def put(self, key: str, answer: Any) -> None:
        self._answers[key] = answer
        self._changed = True

    def save(self) -> None:
        """Write the file atomically, its mode kept, if anything new was learnt; `RunError` when
        it cannot be written."""
        if not self._changed:
            return
        from .ingest import write_files

        text = json.dumps(self._answers, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunError(f"could not write geocode cache {self.path}: {exc.strerror or exc}") from None
        write_files({self.path: text})
        self._changed = False


# --- asking ----------------------------------------------------------------------------------

def default_cache_path(service: str) -> Path:
    """~/.cache/atlas/geocode-<service>.json (or under $XDG_CACHE_HOME): outside the output
    directory, which `render` replaces whole, so answers survive between runs."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "atlas" / f"geocode-{service}.json"


class NotAsked(Exception):
    """The service was not asked (deadline passed, or given up after repeated failures)."""


@dataclass
class Online:
    """An online geopy-style geocoder with its cache, request timeout, spacing and run deadline.

    `service` names its answers' method; `datum` is what its coordinates are in (converted to
    WGS84 on arrival). The deadline counts from the first request of the run.
    """

    service: str
    geocoder: Any  # has geocode(query, exactly_one=True, timeout=seconds)
    cache: GeocodeCache
    datum: str = WGS84
    deadline_s: float = DEFAULT_DEADLINE_S
    timeout_s: float = REQUEST_TIMEOUT_S
    min_interval_s: float = MIN_INTERVAL_S
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _ends: float | None = field(default=None, repr=False)
    _last: float | None = field(default=None, repr=False)
    _failures: int = field(default=0, repr=False)
    _gave_up: str = field(default="", repr=False)

    def _remaining(self) -> float:
        if self._ends is None:
            self._ends = self.clock() + self.deadline_s
        return self._ends - self.clock()

    def _request(self, query: str) -> Any:
        """One request, in a thread of its own so that nothing (a server trickling bytes, a
        resolver that hangs) can hold the run past the request's timeout or the deadline."""
        remaining = self._remaining()
        if self._last is not None:
            wait = self._last + self.min_interval_s - self.clock()
            if wait >= remaining:
                raise NotAsked(f"the {self.deadline_s:g} s deadline passed")
            if wait > 0:
                self.sleep(wait)
                remaining = self._remaining()
        if remaining <= 0:
            raise NotAsked(f"the {self.deadline_s:g} s deadline passed")
        timeout = min(self.timeout_s, remaining)
        outcome: dict[str, Any] = {}

        def ask() -> None:
            try:
                outcome["answer"] = self.geocoder.geocode(query, exactly_one=True, timeout=timeout)
            except Exception as exc:  # hostile answers break parsers in any way: report, never raise
                outcome["error"] = exc

        worker = threading.Thread(target=ask, name="atlas-geocode", daemon=True)
        worker.start()
        worker.join(timeout + 0.5)
        self._last = self.clock()  # spacing counts from the end of a request: the server sees it too
        if worker.is_alive():
            raise TimeoutError(f"no complete answer in {timeout:g} s")
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("answer")

    def ask(self, query: str) -> Any:
        """The answer to one query, from the cache or (then cached) from the service; raises
        `NotAsked`, or the service's error (counted towards giving up)."""
        key = f"{self.service}|{query}"
        hit, answer = self.cache.get(key)
        if hit:
            return answer
        if self._gave_up:
            raise NotAsked(self._gave_up)
        try:
            location = self._request(query)
            answer = None if location is None else _answer(location, self.datum)
        except NotAsked as exc:
            self._gave_up = str(exc)
            raise
        except Exception:
            self._failures += 1
            if self._failures >= GIVE_UP_AFTER:
                self._gave_up = f"given up after {self._failures} failed requests in a row"
            raise
        self._failures = 0
        self.cache.put(key, answer)
        return answer

    def save(self) -> str:
        """Keep what was learnt; a warning (not an error) when the cache cannot be written."""
        try:
            self.cache.save()
        except RunError as exc:
            return str(exc)
        return ""


def _service_url(url: str) -> tuple[str, str]:
    """(scheme, domain) of a self-hosted service's base URL, e.g. http://localhost:8080."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InputError(f"--geocoder-url {url!r}: expected http(s)://HOST[:PORT][/PATH]")
    return parts.scheme, parts.netloc + parts.path.rstrip("/")


def online_geocoder(service: str, cache_path: Path | None = None, *, geocoder=None, url: str | None = None,
                    datum: str | None = None, deadline_s: float = DEFAULT_DEADLINE_S,
                    timeout_s: float = REQUEST_TIMEOUT_S, min_interval_s: float | None = None) -> Online:
    """A geopy geocoder by service name (e.g. "nominatim"), with our user agent, the stdlib HTTP
    adapter (no hidden retries), and a disk cache read and checked now.

    `url` points it at a self-hosted instance; `geocoder` replaces the service's own instance
    (tests pass fakes); `datum` overrides what its coordinates are in. Raises `InputError` for an
    unknown service, one that needs settings (an API key), or a cache of the wrong shape.
    """
    from geopy.adapters import URLLibAdapter
    from geopy.exc import ConfigurationError, GeocoderNotFound
    from geopy.geocoders import get_geocoder_for_service

    if geocoder is None:
        options: dict[str, Any] = {"user_agent": USER_AGENT, "timeout": timeout_s, "adapter_factory": URLLibAdapter}
        if url:
            options["scheme"], options["domain"] = _service_url(url)
        try:
            geocoder = get_geocoder_for_service(service)(**options)
        except GeocoderNotFound:
            raise InputError(f"--geocoder {service}: geopy has no such service") from None
        except (TypeError, ConfigurationError) as exc:
            raise InputError(f"--geocoder {service}: cannot be set up without more settings ({exc})") from None
    cache = GeocodeCache(cache_path or default_cache_path(service))
    return Online(service, geocoder, cache, datum or SERVICE_DATUMS.get(service, WGS84), deadline_s, timeout_s,
                  MIN_INTERVAL_S if min_interval_s is None else min_interval_s)


def _precision(raw: Mapping) -> str:
    """site when the answer is a thing of its own under SITE_EXTENT_M across (Nominatim's
    bounding box: south, north, west, east), else area; boundaries and settlements are areas."""
    if raw.get("class") in AREA_CLASSES or raw.get("addresstype") in ("county", "state", "city", "district"):
        return "area"
    try:
        south, north, west, east = (float(v) for v in raw["boundingbox"])
    except (KeyError, TypeError, ValueError):
        return "area"
    if not all(map(math.isfinite, (south, north, west, east))):
        return "area"
    return "site" if _GEOD.inv(west, south, east, north)[2] < SITE_EXTENT_M else "area"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _answer(location: Any, datum: str) -> dict:
    """What is kept of a geopy `Location`: WGS84 point, precision, address, kind, licence, link,
    date of the lookup. Raises ValueError for an answer that is not usable as it stands."""
    raw = location.raw if isinstance(getattr(location, "raw", None), Mapping) else {}
    lon, lat = float(location.longitude), float(location.latitude)
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValueError(f"non-finite coordinates ({lon}, {lat})")
    if datum != WGS84:
        lon, lat = to_wgs84(lon, lat, datum)
    answer = {"lon": round(lon, COORD_DECIMALS), "lat": round(lat, COORD_DECIMALS), "precision": _precision(raw),
              "address": str(location.address), "date": date.today().isoformat(), "datum": datum}
    if (cls := _text(raw.get("class"))) and (kind := _text(raw.get("type"))):
        answer["kind"] = f"{cls}/{kind}"
    if licence := _text(raw.get("licence")):
        answer["licence"] = licence
    osm_type, osm_id = raw.get("osm_type"), raw.get("osm_id")
    if osm_type in ("node", "way", "relation") and isinstance(osm_id, int) and not isinstance(osm_id, bool):
        answer["url"] = f"https://www.openstreetmap.org/{osm_type}/{osm_id}"
    if problems := answer_problems(answer):
        raise ValueError("; ".join(f"{field or 'answer'} {message}" for field, message in problems))
    return answer


def why(exc: BaseException) -> str:
    """An error as a short single line: its type and message."""
    text = " ".join(str(exc).split()) or "no detail"
    return f"{type(exc).__name__}: {text[:160]}"
