"""`atlas geocode --propose` / `--accept`: online coordinates reach the gazetteer only through a
review file a person checks, as `atlas ingest` does for facts.

`propose` asks the online geocoder about every place without a published point (precision
district) and writes what it found inside the place's district, with its source, query, date of
the lookup, licence, display name and type. `accept_proposals` puts the entries a reviewer kept
into `gazetteer.yaml`, each replacing its place's district-precision entry as text (the file's
comments and order stay), after the district check, and only if the merged gazetteer validates.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .boundaries import district_boundaries
from .datums import WGS84
from .errors import InputError, Problem
from .geocode import (
    COORD_DECIMALS, GAZETTEER_FILE, LAT_RANGE, LON_RANGE, WHOLE_DISTRICT_KINDS, GazetteerGeocoder,
    load_gazetteer, locate_online, wants_online,
)
from .ingest.reading import MAX_INPUT_BYTES
from .ingest.review import entries_block, write_files
from .load import default_seeds_dir, load_atlas
from .online import DAY, NOMINATIM_SOURCE, OSM_LICENCE, PRECISIONS, Online, number_problem, text_problem
from .yamlio import Node, read_yaml

REVIEW_KEY = "proposals"
# field -> required; every field but lon/lat is a string
FIELDS = {"place": True, "lon": True, "lat": True, "precision": True, "source": True, "query": True,
          "date": True, "licence": True, "display_name": True, "type": False, "url": False, "datum": False}
SOURCES = {"nominatim": (NOMINATIM_SOURCE, OSM_LICENCE)}


# --- proposing --------------------------------------------------------------------------------

@dataclass
class Proposed:
    entries: list[dict]
    warnings: list[str]


def propose(gazetteer: GazetteerGeocoder, online: Online) -> Proposed:
    """A proposal for every place without a curated point that the service finds inside its
    district; one warning per place it could not help."""
    source, licence = SOURCES.get(online.service, (online.service, ""))
    entries, warnings = [], []
    for place in gazetteer.atlas.places.values():
        if not wants_online(gazetteer, place):
            continue
        find, why = locate_online(gazetteer, online, place)
        if find is None:
            warnings.append(f"{place.id}: {why}")
            continue
        answer = find.answer
        entry = {"place": place.id, "lon": find.located.lon, "lat": find.located.lat,
                 "precision": find.located.precision, "source": source, "query": find.query,
                 "date": answer.get("date") or "", "licence": answer.get("licence") or licence,
                 "display_name": answer["address"], "type": answer.get("kind"), "url": answer.get("url"),
                 "datum": answer.get("datum") or WGS84}
        entries.append({k: v for k, v in entry.items() if v is not None})
    if trouble := online.save():
        warnings.append(trouble)
    return Proposed(entries, warnings)


def _comment(text: str) -> str:
    """Text safe inside a YAML comment: one line, control characters gone."""
    return "".join(c if c.isprintable() else " " for c in " ".join(text.split()))


def review_yaml(proposed: Proposed, service: str) -> str:
    """The review file: a header saying what to do, the places left out and why, the proposals."""
    source, licence = SOURCES.get(service, (service, ""))
    lines = [f"# atlas geocode --propose: coordinates proposed by {source} for places without a",
             "# published point (precision district). Check each against the map and its source; delete",
             "# the entries you do not accept (or correct them), then: atlas geocode --accept THIS_FILE",
             "# Each accepted entry replaces its place's gazetteer entry once its point lies in its district.",
             "# lon/lat are WGS84 (datum: what the service answered in, converted on arrival)."]
    if licence:
        lines.append(f"# {_comment(licence)}: keep the attribution with the coordinates.")
    if proposed.warnings:
        lines.append("# Not proposed:")
        lines += [f"#   {_comment(w)}" for w in proposed.warnings]
    body = f"{REVIEW_KEY}:\n{entries_block(proposed.entries)}" if proposed.entries else f"{REVIEW_KEY}: []\n"
    return "\n".join(lines) + "\n" + body


# --- accepting ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Merged:
    places: list[str]


def _field_problem(key: str, value: Any) -> str | None:
    if key in ("lon", "lat"):
        low, high = LON_RANGE if key == "lon" else LAT_RANGE
        return number_problem(value, low, high, "Chongqing")
    if key in ("place", "source", "query", "display_name", "licence") and isinstance(value, str) and not value.strip():
        return "must not be blank"
    if key == "datum" and value != WGS84:
        return f"review coordinates are WGS84 (converted when looked up); got {str(value)[:40]!r}"
    return text_problem(value, PRECISIONS if key == "precision" else (),
                        DAY if key == "date" else None, "the lookup's date, YYYY-MM-DD")


def _review_entries(data: Any, label: str) -> list[tuple[str, Node]]:
    """(name, entry) for every proposal, or `InputError` listing every misshapen one."""
    if not isinstance(data, dict) or set(data) != {REVIEW_KEY} or not isinstance(data[REVIEW_KEY], (list, type(None))):
        raise InputError(Problem(label, getattr(data, "line", None), "", "",
                                 f"expected one top-level list '{REVIEW_KEY}:' (as atlas geocode --propose writes)"))
    problems, out, seen = [], [], {}
    for index, entry in enumerate(data[REVIEW_KEY] or []):
        ident = entry.get("place") if isinstance(entry, dict) else None
        name = f"{REVIEW_KEY}[{ident if isinstance(ident, str) and len(ident) <= 80 else index}]"
        if not isinstance(entry, Node):
            problems.append(Problem(label, None, name, "", "must be a mapping of fields"))
            continue
        found = [Problem(label, entry.line_of(str(k)), name, str(k)[:40], f"unknown field (expected: {', '.join(FIELDS)})")
                 for k in entry if k not in FIELDS]
        for key, required in FIELDS.items():
            if key not in entry or entry[key] is None:
                if required:
                    found.append(Problem(label, entry.line, name, key, "missing required field"))
            elif message := _field_problem(key, entry[key]):
                found.append(Problem(label, entry.line_of(key), name, key, message))
        if not found and ident in seen:
            found.append(Problem(label, entry.line_of("place"), name, "place",
                                 f"proposed twice (first at line {seen[ident]})"))
        problems.extend(found)
        if not found:
            seen[ident] = entry.line
            out.append((name, entry))
    if problems:
        raise InputError(problems)
    return out


def _gazetteer_entry(entry: Node) -> dict:
    """The gazetteer entry an accepted proposal becomes: the point, and where it comes from, the
    licence's attribution included in `coord_source` (the one field every reader of a point sees)."""
    kind = f" ({entry['type']})" if entry.get("type") else ""
    link = f", {entry['url']}" if entry.get("url") else ""
    return {"place": entry["place"], "lon": round(float(entry["lon"]), COORD_DECIMALS),
            "lat": round(float(entry["lat"]), COORD_DECIMALS), "precision": entry["precision"],
            "coord_source": f"{entry['source']}: {entry['display_name']}{kind}{link}. {entry['licence']}",
            "query": entry["query"], "retrieved": entry["date"], "licence": entry["licence"]}


def _blocks(data: Node, text: str) -> dict[str, tuple[int, int]]:
    """place id -> (first, last) 0-based line of its entry's text in gazetteer.yaml; trailing
    blank and comment lines are left to whatever follows."""
    lines = text.splitlines()
    starts = [(entry["place"], entry.line - 1) for entry in data["gazetteer"]]
    out = {}
    for index, (place, first) in enumerate(starts):
        last = (starts[index + 1][1] if index + 1 < len(starts) else len(lines)) - 1
        while last > first and (not lines[last].strip() or lines[last].lstrip().startswith("#")):
            last -= 1
        out[place] = (first, last)
    return out


def accept_proposals(review_path: Path, seeds: Path | None = None) -> Merged:
    """Put a review's proposals into gazetteer.yaml, or change nothing: every entry is checked
    (shape, place, no curated point already, inside its district), the merged gazetteer is
    loaded and checked in a temporary file, and only then written over the real one."""
    seeds = Path(seeds) if seeds is not None else default_seeds_dir()
    label = str(review_path)
    if not review_path.is_file():  # a FIFO or a device would block or never end
        raise InputError(Problem(label, None, "", "", "review file is not a regular file"))
    proposals = _review_entries(read_yaml(review_path, label, MAX_INPUT_BYTES), label)
    if not proposals:
        return Merged([])
    atlas = load_atlas(seeds)
    path = seeds / GAZETTEER_FILE
    gazetteer = load_gazetteer(path, atlas.places)
    geocoder = GazetteerGeocoder(atlas, gazetteer, district_boundaries(atlas.districts))
    problems, new = [], {}
    for name, entry in proposals:
        place = atlas.places.get(entry["place"])
        current = gazetteer.entries.get(entry["place"])
        if place is None:
            problems.append(Problem(label, entry.line_of("place"), name, "place", f"unknown place {entry['place']!r}"))
        elif place.kind in WHOLE_DISTRICT_KINDS:
            problems.append(Problem(label, entry.line_of("place"), name, "place",
                                    f"{place.id!r} is a whole {place.kind}: it is located by its boundary"))
        elif current is None:
            problems.append(Problem(label, entry.line_of("place"), name, "place",
                                    f"{place.id!r} has no gazetteer entry to place a point in"))
        elif current.lon is not None:
            problems.append(Problem(label, entry.line_of("place"), name, "place",
                                    f"has a curated point already ({path}:{current.line}); curated coordinates "
                                    "win: remove them there first to replace them"))
        else:
            seed = _gazetteer_entry(entry)
            found = geocoder.check(place, _point(seed), seed["precision"], "review", tolerance_m=current.tolerance_m)
            if not found.ok:
                district = atlas.districts[place.district]
                problems.append(Problem(label, entry.line_of("lon"), name, "lon",
                                        f"({seed['lon']}, {seed['lat']}) lies {found.distance_to_district_m:,.0f} m "
                                        f"outside {place.id}'s district {district.name_en} ({district.code}); refused"))
            else:
                new[place.id] = (seed, entry)
    if problems:
        raise InputError(problems)
    text = path.read_text("utf-8")
    merged = _merged(text, read_yaml(path), {place: seed for place, (seed, _) in new.items()})
    _check_merged(merged, path, atlas, label, new)
    write_files({path: merged})
    return Merged(list(new))


def _point(seed: dict):
    from shapely.geometry import Point

    return Point(seed["lon"], seed["lat"])


def _merged(text: str, data: Node, seeds: dict[str, dict]) -> str:
    """gazetteer.yaml's text with each named place's entry replaced by its new one, indented alike."""
    lines = text.splitlines(keepends=True)
    blocks = _blocks(data, text)
    for place in sorted(seeds, key=lambda p: blocks[p][0], reverse=True):
        first, last = blocks[place]
        pad = re.match(r"( *)", lines[first]).group(1)
        block = entries_block([seeds[place]], pad)
        lines[first:last + 1] = [block if block.endswith("\n") else block + "\n"]
    return "".join(lines)


def _check_merged(merged: str, path: Path, atlas, label: str, new: dict[str, tuple[dict, Node]]) -> None:
    """Load the merged gazetteer from a temporary file; its problems name the review's lines for
    the accepted entries and the real gazetteer for the rest."""
    with tempfile.TemporaryDirectory(prefix="atlas-geocode-") as tmp:
        trial = Path(tmp) / GAZETTEER_FILE
        trial.write_text(merged, encoding="utf-8")
        try:
            load_gazetteer(trial, atlas.places)
        except InputError as exc:
            out = []
            for p in exc.problems:
                place = p.entry[len("gazetteer["):-1] if p.entry.startswith("gazetteer[") else ""
                if place in new:
                    entry = new[place][1]
                    out.append(Problem(label, entry.line_of(p.field), f"{REVIEW_KEY}[{place}]", p.field, p.message))
                else:
                    out.append(Problem(str(path), p.line, p.entry, p.field, p.message))
            raise InputError(out) from None
