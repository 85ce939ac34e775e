"""Stage 1: read `seeds/*.yaml`, check every entry, and build the `Atlas` model.

All problems are collected before failing, so one run lists everything to fix, one line each.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .errors import InputError, Problem
from .model import (CITY, LEVELS, STATUSES, Atlas, Designation, District, Evidence, Metric, Place,
                    Programme, Source)
from .schema import (ID_MAX, INT, LIST, NUM, SLUG, STR, Collector, Field, check_entry, file_name_problem,
                     finite, in_range, matches, not_blank, one_of)
from .yamlio import Node, read_yaml

SEED_FILES = ("sources", "districts", "programmes", "places", "designations", "metrics")
PLACE_KINDS = (
    "district", "county", "mountain", "mountain area", "river basin", "lake", "island", "park",
    "wetland park", "nature reserve", "village", "reservoir", "complex", "heritage site",
    "scenic area", "demonstration area", "municipality", "town", "river", "monitoring section",
    "heritage site component", "industrial park", "project", "airport", "transit line",
)
CITY_WIDE_KIND = "municipality"
CONFIDENCE = ("high", "medium", "low")
YEARS = (1949, 2050)
BATCHES = (1, 20)
MAX_EVIDENCE_WORDS = 12
KEY = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
CHONGQING_CODE = re.compile(r"^500[12]\d\d$")
PLACE_CODE = re.compile(rf"^(?:500[12]\d\d|{CITY.code})$")  # a district, or the city as a whole
WEB_URL = re.compile(r"^https?://[^\s/]+\.[^\s/]+(?:/\S*)?$")  # https where the page serves it
DATE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")


def default_seeds_dir() -> Path:
    """The bundled seeds: `seeds/` beside the package in a checkout."""
    return Path(__file__).resolve().parent.parent / "seeds"


def _excerpt(v: str) -> str | None:
    words = len(v.split())
    if not words:
        return "must not be blank"
    return None if words <= MAX_EVIDENCE_WORDS else f"has {words} words; an excerpt has at most {MAX_EVIDENCE_WORDS}"


def _aliases(v: list) -> str | None:
    return None if all(isinstance(a, str) and a.strip() for a in v) else "must be a list of non-blank strings"


SCHEMAS: dict[str, dict[str, Field]] = {
    "sources": {
        "id": Field(STR, check=matches(SLUG, "a lowercase slug")),
        "kind": Field(STR, check=one_of(("article", "external"))),
        "outlet": Field(STR, check=not_blank),
        "title": Field(STR, check=not_blank),
        "date": Field(STR, False, matches(DATE, "an ISO date (YYYY, YYYY-MM or YYYY-MM-DD)")),
        "file": Field(STR, False, not_blank),
        "url": Field(STR, False, matches(WEB_URL, "a URL a reader can open (https://...)")),
        "confidence": Field(STR, False, one_of(CONFIDENCE)),
        "note": Field(STR, False),
    },
    "districts": {
        "code": Field(STR, check=matches(CHONGQING_CODE, "a Chongqing district code (5001xx or 5002xx)")),
        "name_en": Field(STR, check=not_blank),
        "name_zh": Field(STR, check=not_blank),
        "kind": Field(STR, check=one_of(("district", "county"))),
    },
    "programmes": {
        "id": Field(STR, check=matches(SLUG, "a lowercase slug")),
        "name_en": Field(STR, check=not_blank),
        "name_zh": Field(STR, False, not_blank),
        "level": Field(STR, check=one_of(LEVELS)),
        "awarding_body": Field(STR, False, not_blank),
        "awarding_body_zh": Field(STR, False, not_blank),
    },
    "places": {
        "id": Field(STR, check=matches(SLUG, "a lowercase slug")),
        "name_en": Field(STR, check=not_blank),
        "name_zh": Field(STR, False, not_blank),
        "aliases": Field(LIST, False, _aliases),
        "kind": Field(STR, check=one_of(PLACE_KINDS)),
        "district": Field(STR, check=matches(PLACE_CODE, "a Chongqing district code (5001xx or 5002xx; "
                                                         f"{CITY.code} for the city as a whole)")),
        "role": Field(STR, False, not_blank),
        "source": Field(STR, False),
        "evidence": Field(STR, False, _excerpt),
    },
    "designations": {
        "id": Field(STR, check=matches(SLUG, "a lowercase slug")),
        "place": Field(STR),
        "programme": Field(STR),
        "level": Field(STR, check=one_of(LEVELS)),
        "batch": Field(INT, False, in_range(BATCHES, "batch")),
        "year": Field(INT, False, in_range(YEARS, "year")),
        "source": Field(STR),
        "evidence": Field(STR, check=_excerpt),
        "batch_source": Field(STR, False),
        "batch_evidence": Field(STR, False, _excerpt),
        "year_source": Field(STR, False),
        "year_evidence": Field(STR, False, _excerpt),
        "confidence": Field(STR, False, one_of(CONFIDENCE)),
    },
    "metrics": {
        "id": Field(STR, check=matches(SLUG, "a lowercase slug")),
        "place": Field(STR),
        "key": Field(STR, check=matches(KEY, "a snake_case key")),
        "value": Field(NUM, check=finite),
        "unit": Field(STR, check=not_blank),
        "stated": Field(STR, check=not_blank),
        "year": Field(INT, False, in_range(YEARS, "year")),
        "qualifier": Field(STR, False),
        "status": Field(STR, False, one_of(STATUSES)),
        "source": Field(STR),
        "evidence": Field(STR, check=_excerpt),
        "note": Field(STR, False),
    },
}
ID_FIELD = {name: ("code" if name == "districts" else "id") for name in SCHEMAS}


EVIDENCE_FIELDS = {prefix: (f"{prefix}source", f"{prefix}evidence") for prefix in ("", "batch_", "year_")}


def entry_name(kind: str, index: int, entry: Any) -> str:
    """How problems name an entry: `places[jinyun-mountain]`, or its position when it has no id."""
    key = ID_FIELD[kind]
    ident = entry.get(key) if isinstance(entry, dict) else None
    named = type(ident) is int or (type(ident) is str and len(ident) <= ID_MAX)
    return f"{kind}[{ident}]" if named else f"{kind}[{index}]"


def _read_file(seeds: Path, kind: str, problems: list[Problem]) -> list[tuple[Node, str]] | None:
    """Read `seeds/<kind>.yaml` and return its sound entries with their names (None: no entries
    could be read at all)."""
    path = seeds / f"{kind}.yaml"
    label = str(path)
    if not (path.exists() or path.is_symlink()):  # anything else there is read, or refused as not a file
        problems.append(Problem(label, None, "", "", "missing seed file"))
        return None
    try:
        data = read_yaml(path, label)
    except InputError as exc:
        problems.extend(exc.problems)
        return None
    if data is None:
        problems.append(Problem(label, None, "", "", f"file is empty; expected a top-level '{kind}:' list"))
        return None
    if not isinstance(data, dict) or set(data) != {kind}:
        problems.append(Problem(label, getattr(data, "line", None), "", "",
                                f"expected exactly one top-level key '{kind}:' holding a list"))
        return None
    entries = data[kind]
    if not isinstance(entries, list):
        problems.append(Problem(label, data.line_of(kind), kind, "", "must be a list of entries"))
        return None
    out = Collector(label)
    sound, seen = [], {}
    for index, entry in enumerate(entries):
        name = entry_name(kind, index, entry)
        if not check_entry(SCHEMAS[kind], entry, name, out):
            continue
        ident = entry[ID_FIELD[kind]]
        unfit = (len(ident) > ID_MAX or len(ident) < 5) and file_name_problem(ident)  # device names are short
        if unfit:
            out.add(entry, name, ID_FIELD[kind], unfit)
            continue
        if ident in seen:
            out.add(entry, name, ID_FIELD[kind], f"duplicate id (first at line {seen[ident]})")
            continue
        seen[ident] = entry.line
        sound.append((entry, name))
    problems.extend(out.problems)
    return sound


def load_atlas(seeds: Path | str | None = None) -> Atlas:
    """Load and cross-check every seed file; raise `InputError` listing all problems found."""
    seeds = Path(seeds) if seeds is not None else default_seeds_dir()
    if not seeds.is_dir():
        raise InputError(Problem(str(seeds), None, "", "", "seeds directory does not exist"))
    if not any(seeds.glob("*.yaml")):
        raise InputError(Problem(str(seeds), None, "", "", "no seed files (*.yaml) in this directory"))
    problems: list[Problem] = []
    raw = {kind: _read_file(seeds, kind, problems) for kind in SEED_FILES}
    if None in raw.values():  # a file not read at all: every reference to its entries would look broken
        raise InputError(_in_order(problems))
    atlas = _build(seeds, raw, problems)
    if problems:
        raise InputError(_in_order(problems))
    return atlas


def _in_order(problems: list[Problem]) -> list[Problem]:
    return sorted(set(problems), key=lambda p: (p.file, p.line or 0, p.entry, p.field))


def _build(seeds: Path, raw: dict[str, list[tuple[Node, str]]], problems: list[Problem]) -> Atlas:
    """Turn sound entries into model objects, checking references between files."""
    from .units import UnitError, normalise, parse_stated

    def collector(kind: str) -> Collector:
        return Collector(str(seeds / f"{kind}.yaml"))

    out = collector("sources")
    sources = {}
    for e, name in raw["sources"]:
        if e["kind"] == "article" and not e.get("file"):
            out.add(e, name, "file", "an article source needs the file name of the article")
        elif e["kind"] == "external" and not (e.get("url") or e.get("note")):
            out.add(e, name, "url", "an external source needs the URL of the report, or a note saying why "
                                    "there is none")
        sources[e["id"]] = Source(**e)
    problems.extend(out.problems)

    districts = {e["code"]: District(**e) for e, _ in raw["districts"]}
    programmes = {e["id"]: Programme(**e) for e, _ in raw["programmes"]}

    out = collector("places")
    places = {}
    for e, name in raw["places"]:
        city_wide = e["kind"] == CITY_WIDE_KIND
        if city_wide != (e["district"] == CITY.code):
            out.add(e, name, "district", f"{CITY.code} is the district of a place of kind {CITY_WIDE_KIND!r} "
                                         "(Chongqing as a whole), and of no other")
            continue
        if not city_wide and districts and e["district"] not in districts:
            out.add(e, name, "district", f"unknown district code {e['district']!r}")
            continue
        if e.get("role") is not None and e.get("evidence") is None:
            out.add(e, name, "evidence", "a role needs its source and evidence")
        if e.get("source") is not None and e["source"] not in sources:
            out.add(e, name, "source", f"unknown source {e['source']!r}")
        elif (e.get("source") is None) != (e.get("evidence") is None):
            out.add(e, name, "source" if e.get("source") is None else "evidence", "source and evidence go together")
        else:
            evidence = Evidence(e["source"], e["evidence"]) if e.get("source") else None
            fields = {k: v for k, v in e.items() if k != "source"}
            places[e["id"]] = Place(**{**fields, "aliases": tuple(e.get("aliases") or ()), "evidence": evidence})
    problems.extend(out.problems)

    def evidence(e: Node, name: str, out: Collector, prefix: str = "") -> Evidence | None:
        source_field, excerpt_field = EVIDENCE_FIELDS[prefix]
        source, excerpt = e.get(source_field), e.get(excerpt_field)
        if source is None and excerpt is None:
            return None
        if source is None or excerpt is None:
            missing = source_field if source is None else excerpt_field
            out.add(e, name, missing, f"{source_field} and {excerpt_field} go together")
            return None
        if source not in sources:
            out.add(e, name, source_field, f"unknown source {source!r}")
            return None
        return Evidence(source, excerpt)

    def known_place(e: Node, name: str, out: Collector) -> bool:
        if e["place"] in places:
            return True
        out.add(e, name, "place", f"unknown place {e['place']!r}")
        return False

    out = collector("designations")
    designations = {}
    for e, name in raw["designations"]:
        ok = known_place(e, name, out)
        programme = programmes.get(e["programme"])
        if programme is None:
            out.add(e, name, "programme", f"unknown programme {e['programme']!r}")
            ok = False
        elif programme.level != e["level"]:
            out.add(e, name, "level", f"{e['level']!r} does not match programme level {programme.level!r}")
            ok = False
        main = evidence(e, name, out)
        extra = {}
        for part in ("batch", "year"):
            found = extra[part] = evidence(e, name, out, f"{part}_")
            if found and e.get(part) is None:
                out.add(e, name, f"{part}_source", f"cites a source for the {part} but the {part} is null")
                ok = False
        if ok and main:
            designations[e["id"]] = Designation(
                e["id"], e["place"], e["programme"], e["level"], e.get("batch"), e.get("year"), main,
                extra["batch"], extra["year"], e.get("confidence", "high"))
    problems.extend(out.problems)

    out = collector("metrics")
    metrics, kinds = {}, {}
    for e, name in raw["metrics"]:
        ok = known_place(e, name, out)
        try:
            base = normalise(e["value"], e["unit"])
        except UnitError as exc:
            out.add(e, name, "unit", str(exc))
            continue
        try:
            stated = parse_stated(e["stated"], e["unit"])
            as_stated = normalise(stated.value, stated.unit)
        except UnitError as exc:
            out.add(e, name, "stated", str(exc))
            continue
        if as_stated.unit != base.unit or abs(as_stated.value - base.value) > 1e-9 * max(1.0, abs(base.value)):
            out.add(e, name, "value", f"{e['value']} {e['unit']} does not match stated {e['stated']!r}")
            ok = False
        if e.get("qualifier") != stated.qualifier:
            out.add(e, name, "qualifier", f"{e.get('qualifier')!r} does not match stated {e['stated']!r}")
            ok = False
        first = kinds.setdefault(e["key"], base.kind)
        if first != base.kind:
            out.add(e, name, "unit", f"key {e['key']!r} holds {first} figures elsewhere, not {base.kind}")
            ok = False
        main = evidence(e, name, out)
        if ok and main:
            metrics[e["id"]] = Metric(e["id"], e["place"], e["key"], e["value"], e["unit"], e["stated"], main,
                                      base.value, base.unit, base.kind, e.get("year"), e.get("qualifier"),
                                      e.get("note"), e.get("status", "achieved"))
    problems.extend(out.problems)
    return Atlas(sources, districts, programmes, places, designations, metrics)
