"""`atlas ingest`: read a new article into a review file of candidates; merge what a person accepts.

Rules find, people decide. `ingest_article` reads the places the gazetteer knows (and capitalised
place-like names it does not), programme phrases with their level, batch and year, and figures with
their units, and ties each designation and figure to a place by the rules of `figure_place` and
`designation_places`. Nothing reaches seeds/ until `accept_review` merges the entries a reviewer left
`status: new`, appending them as text blocks so the seed files keep their comments and order, and
only after the merged copy validates.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from pint.errors import UndefinedUnitError

from . import units
from .errors import InputError, Problem, RunError
from .geocode import GAZETTEER_FILE, WHOLE_DISTRICT_KINDS, name_index, load_gazetteer, normalise
from .load import BATCHES, MAX_EVIDENCE_WORDS, YEARS, entry_name, default_seeds_dir, load_atlas
from .model import Atlas
from .yamlio import Node, read_yaml

MAX_INPUT_BYTES = 5 * 2**20
REVIEW_KINDS = ("sources", "places", "designations", "metrics")
STATUSES = ("new", "known")
# Fields a review file adds to the seed shape, dropped when an entry is merged.
REVIEW_ONLY = ("status", "mentions")
# Null fields the seed files spell out (unknown batch / year); other nulls are left out when merging.
KEEP_NULL = {"designations": ("batch", "year")}

KNOWN, NEW, CITY, ANAPHOR = "known", "new", "city", "anaphor"
PLACE_ROLES = (KNOWN, ANAPHOR, CITY)


# --- reading input ----------------------------------------------------------------------------

def check_size(path: Path, what: str) -> None:
    """Refuse a file over MAX_INPUT_BYTES before reading it, so a stray log or disk image costs
    nothing."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(Problem(str(path), None, "", "", f"cannot read file: {exc.strerror}")) from None
    if size > MAX_INPUT_BYTES:
        raise InputError(Problem(str(path), None, "", "", f"is {size:,} bytes; a {what} may be at most "
                                                          f"{MAX_INPUT_BYTES // 2**20} MB"))


def read_article(path: Path) -> str:
    """The article's text. NUL bytes mark a binary file (which may still decode as UTF-8)."""
    check_size(path, "plain-text article")
    raw = path.read_bytes()
    label = str(path)
    if b"\0" in raw:
        raise InputError(Problem(label, None, "", "", f"is a binary file (NUL byte at offset {raw.find(0)}), "
                                                      "not a plain-text article"))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(Problem(label, line, "", "", "is not valid UTF-8; save the article as UTF-8 text")) from None
    if not text.strip():
        raise InputError(Problem(label, None, "", "", "is empty; expected a plain-text article"))
    return text


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs with whitespace collapsed, so excerpts are verbatim up to spacing. Articles come a
    paragraph a line; a hard-wrapped line (not ending a sentence, next one starting in lower case)
    goes on into the next."""
    paragraphs: list[str] = []
    joinable = False
    for line in text.splitlines():
        line = " ".join(line.split())
        if not line:
            joinable = False
        elif joinable and line[0].islower():
            paragraphs[-1] += " " + line
        else:
            paragraphs.append(line)
            joinable = not re.search(r"[.!?:;\"”’)。！？]$", line)
    return paragraphs


_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*(?= )|[。！？]")


def sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of each sentence: a full stop, ! or ? (closing quotes kept) before a space."""
    spans, start = [], 0
    for end in _SENTENCE_END.finditer(text):
        spans.append((start, end.end()))
        start = end.end() + (text[end.end():end.end() + 1] == " ")
    if start < len(text):
        spans.append((start, len(text)))
    return tuple(spans)


def excerpt(text: str, start: int, end: int, anchor: tuple[int, int] | None, bounds: tuple[int, int]) -> str:
    """At most MAX_EVIDENCE_WORDS whole words of `text` round [start, end), reaching out to `anchor`
    (the place) when it fits, else padded mostly with the words before (where subject and verb
    stand), never beyond `bounds` (the sentence): verbatim, so the seeds' evidence checks hold."""
    lo, hi = bounds
    tokens = [(lo + m.start(), lo + m.end()) for m in re.finditer(r"\S+", text[lo:hi])]
    first = next(i for i, t in enumerate(tokens) if t[1] > start)
    last = max(i for i, t in enumerate(tokens) if t[0] < end)
    last = min(last, first + MAX_EVIDENCE_WORDS - 1)
    if anchor:
        a_first = next((i for i, t in enumerate(tokens) if t[1] > anchor[0]), first)
        a_last = max((i for i, t in enumerate(tokens) if t[0] < anchor[1]), default=last)
        if max(last, a_last) - min(first, a_first) < MAX_EVIDENCE_WORDS:
            first, last = min(first, a_first), max(last, a_last)
    while last - first + 1 < MAX_EVIDENCE_WORDS and (first > 0 or last < len(tokens) - 1):
        before = last - first + 1 < MAX_EVIDENCE_WORDS - 2 or last == len(tokens) - 1
        first, last = (first - 1, last) if before and first > 0 else (first, min(last + 1, len(tokens) - 1))
    return text[tokens[first][0]:tokens[last][1]]


def slug(text: str, sep: str = "-") -> str:
    return sep.join(re.findall(r"[a-z0-9]+", text.lower()))


# --- places -----------------------------------------------------------------------------------

# "the <noun>" points back to the latest place of these kinds (or with the noun in its name).
# Reports call counties "the district" too, so both administrative kinds answer either.
ANAPHORA = {
    "district": WHOLE_DISTRICT_KINDS, "county": WHOLE_DISTRICT_KINDS, "region": WHOLE_DISTRICT_KINDS,
    "reserve": ("nature reserve",), "basin": ("river basin",), "lake": ("lake",), "island": ("island",),
    "village": ("village",), "park": ("park", "wetland park"),
}
_ANAPHOR = re.compile(r"\b(?:[Tt]he|[Tt]his)\s+(?:nature\s+)?(" + "|".join(ANAPHORA) + r")\b(?!\s+[A-Z])")
# Chongqing itself: the atlas maps no such place, so a figure about it is left out.
_CITY = re.compile(r"\bChongqing(?:\s+(?:City|Municipality))?\b|\b[Tt]he\s+(?:entire\s+|central\s+)?"
                   r"(?:city|municipality)\b")
_DATELINE = re.compile(r"\s*-")
# A run of capitalised words ending in a word that names a kind of place: a place the gazetteer
# may not know ("Xuebao Town", "Three Gorges Reservoir Area").
PLACE_WORDS = ("District", "County", "Mountains?", "River", "Lake", "Park", "Island", "Village", "Town",
               "Reservoir", "Basin", "Valley", "Reserve", "Gorges?", "Bridges?", "Wetland", "Area")
_CAPITALISED = re.compile(r"\b(?:[A-Z][\w'’-]*\s+){1,4}(?:" + "|".join(PLACE_WORDS) + r")\b(?:\s+(?:area|basin)\b)?")
# Capitalised only because they start a sentence or a title: not part of a name.
LEADING_WORDS = frozenset(
    "The In On At Of And A An As By For From With To During Based Located Around Near Along Both First "
    "Second Third Currently Additionally Furthermore Moreover Specifically Before After Since Today Yet But "
    "Also Nearby Its Their This That These".split())
_LOCATOR = re.compile(r"^,?\s*(?:located\s+)?in\s+(?:the\s+)?$")


def _name_regex(name: str) -> str:
    """A name as a pattern that also matches other spacing, hyphens, apostrophes or quotes, as
    `geocode.normalise` folds them; word boundaries only at Latin edges (Chinese has no spaces)."""
    parts = re.findall(r"\w+", name)
    body = r"[\s'’‘“”\"\-·]*".join(re.escape(p) for p in parts)
    return (r"\b" if parts[0][0].isascii() else "") + body + (r"\b" if parts[-1][-1].isascii() else "")


@dataclass(frozen=True)
class Names:
    """What the gazetteer knows, as one pattern: place names and aliases, and the names of districts
    that have no place entry yet (found as new places, ready to accept with their code)."""

    pattern: re.Pattern
    places: dict[str, str]       # normalised name -> place id
    districts: dict[str, dict]   # normalised name -> a new place entry for that district


def gazetteer_names(atlas: Atlas) -> Names:
    places = name_index(atlas.places.values())
    placed = {p.district for p in atlas.places.values() if p.kind in WHOLE_DISTRICT_KINDS}
    districts = {}
    for d in atlas.districts.values():
        if d.code not in placed:
            entry = {"id": slug(re.sub(r"\s+(?:District|County)$", "", d.name_en)), "name_en": d.name_en,
                     "name_zh": d.name_zh, "kind": d.kind, "district": d.code}
            districts.update({normalise(d.name_en): entry, normalise(d.name_zh): entry})
    names = {n for p in atlas.places.values() for n in p.names()}
    names |= {n for d in atlas.districts.values() if d.code not in placed for n in (d.name_en, d.name_zh)}
    pattern = re.compile("|".join(_name_regex(n) for n in sorted(names, key=len, reverse=True)), re.IGNORECASE)
    return Names(pattern, places, districts)


@dataclass(frozen=True)
class Mention:
    """Where a paragraph names a place: `place` is its id (known or new), None for Chongqing."""

    start: int
    end: int
    text: str
    place: str | None
    role: str  # KNOWN, NEW, CITY or ANAPHOR


def _free(spans: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    return all(end <= a or start >= b for a, b in spans)


def _resolve(noun: str, history: Sequence[str], atlas: Atlas) -> str | None:
    """The latest known place before "the <noun>" that the noun fits, by kind or by name."""
    for place_id in reversed(history):
        place = atlas.places[place_id]
        if place.kind in ANAPHORA[noun] or any(noun in n.lower().split() for n in place.names()):
            return place_id
    return None


def find_mentions(text: str, names: Names, atlas: Atlas, history: list[str], taken: Sequence[tuple[int, int]],
                  new_places: dict[str, dict]) -> tuple[Mention, ...]:
    """Every place a paragraph names, in order: gazetteer names (longest first), Chongqing itself,
    "the district"-style references resolved through `history` (known places so far, extended
    here), then capitalised place-like names, new, outside `taken` (programme phrases)."""
    found: list[Mention] = []
    for m in names.pattern.finditer(text):
        key = normalise(m.group())
        if key in names.places:
            found.append(Mention(m.start(), m.end(), m.group(), names.places[key], KNOWN))
        else:
            district = names.districts[key]
            entry = new_places.setdefault(district["id"], {"id": district["id"], "status": "new", **district,
                                                           "mentions": []})
            found.append(Mention(m.start(), m.end(), m.group(), entry["id"], NEW))
    spans = [(m.start, m.end) for m in found] + list(taken)
    for m in _CITY.finditer(text):
        if _free(spans, *m.span()) and not (m.start() == 0 and _DATELINE.match(text, m.end())):
            found.append(Mention(m.start(), m.end(), m.group(), None, CITY))
    spans = [(m.start, m.end) for m in found] + list(taken)
    for m in _CAPITALISED.finditer(text):
        words = m.group().split()
        while words and words[0] in LEADING_WORDS:
            words.pop(0)
        start = m.end() - len(" ".join(words))
        if len(words) > 1 and _free(spans, start, m.end()):
            name = " ".join(words)
            entry = new_places.setdefault(slug(name), {"id": slug(name), "status": "new", "name_en": name,
                                                        "kind": None, "district": None, "mentions": []})
            found.append(Mention(start, m.end(), name, entry["id"], NEW))
    anaphors = [m for m in _ANAPHOR.finditer(text) if _free([(f.start, f.end) for f in found], *m.span())]
    mentions: list[Mention] = []
    for m in sorted(found + anaphors, key=lambda x: x.start if isinstance(x, Mention) else x.start()):
        if isinstance(m, Mention):
            mentions.append(m)
            if m.role == KNOWN:
                history.append(m.place)
        elif (place := _resolve(m.group(1).lower(), history, atlas)) is not None:
            mentions.append(Mention(m.start(), m.end(), m.group(), place, ANAPHOR))
    return tuple(mentions)


# --- programmes -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProgrammeRule:
    """A way reports phrase a programme, and its programme id by level (first: the default)."""

    pattern: str
    programmes: Mapping[str, str]


_NATIONAL_OR_MUNICIPAL = ("national", "municipal")
# English phrasings as the reports translate them, checked in tests/test_ingest.py. Programmes with a
# national and a Chongqing round take their level from the words round the phrase (`phrase_levels`).
PROGRAMME_RULES = (
    ProgrammeRule(r"[\"'“‘]?two mountains[\"'”’]?\s+practic(?:e|al)(?:\s+and)?\s+innovati(?:on|ve)\s+bases?",
                  {"national": "national-two-mountains-base", "municipal": "municipal-two-mountains-base"}),
    ProgrammeRule(r"ecological civilization (?:construction )?demonstration (?:zones?|districts?|count(?:y|ies)|areas?)"
                  r"(?: and counties)?|demonstration (?:zones?|districts?|count(?:y|ies)) for (?:ecological "
                  r"civilization construction|eco-environmental progress)",
                  {"national": "national-eco-civ-demo-zone", "municipal": "municipal-eco-civ-demo-zone"}),
    ProgrammeRule(r"beautiful countryside pilot zones?",
                  {"national": "national-beautiful-countryside-pilot",
                   "municipal": "municipal-beautiful-countryside-pilot"}),
    ProgrammeRule(r"national nature reserves?", {"national": "national-nature-reserve"}),
    ProgrammeRule(r"\bEOD\b(?:\s*\([^)]*\))?\s+pilot", {"national": "national-eod-pilot"}),
    ProgrammeRule(r"national wetland parks?", {"national": "national-wetland-park"}),
    ProgrammeRule(r"agricultural green development pioneer areas?", {"national": "national-agri-green-pioneer-area"}),
    ProgrammeRule(r"model city with clear water and blue sky", {"national": "national-clear-water-blue-sky-model-city"}),
    ProgrammeRule(r"beautiful rivers and lakes", {"national": "national-beautiful-rivers-lakes"}),
    ProgrammeRule(r"national health count(?:y|ies)", {"national": "national-health-county"}),
    ProgrammeRule(r"eco-tourism demonstration zones?", {"national": "national-eco-tourism-demo-zone"}),
    ProgrammeRule(r"greening advanced count(?:y|ies)", {"national": "national-greening-advanced-county"}),
    ProgrammeRule(r"natural oxygen bars?", {"national": "china-natural-oxygen-bar"}),
    ProgrammeRule(r"pilot for realizing the value of ecological products", {"national": "national-eco-product-value-pilot"}),
    ProgrammeRule(r"pilot for coordinated innovation in pollution(?: reduction)? and carbon reduction",
                  {"national": "national-pollution-carbon-reduction-pilot"}),
    ProgrammeRule(r"[\"'“‘]?double top ten[\"'”’]? cases?", {"municipal": "municipal-double-top-ten-case"}),
    ProgrammeRule(r"world natural heritage", {"international": "world-natural-heritage"}),
    ProgrammeRule(r"world cultural heritage", {"international": "world-cultural-heritage"}),
    ProgrammeRule(r"best tourism village", {"international": "unwto-best-tourism-village"}),
)
# A level named right after the phrase ("... bases in Chongqing City", "... of the Ministry of ...").
_LEVEL_AFTER = re.compile(r"\s*(?:in|of)\s+(?:the\s+)?(?:(Chongqing)|(Ministry|State|country|nation))\b", re.I)
# Level words before it; the nearest one counts.
_LEVEL_BEFORE = re.compile(r"\b(?:(national|nation['’]s|state-level|country['’]s)|"
                           r"(municipal(?:-level)?|municipality['’]s|Chongqing(?:\s+City)?))\b", re.I)
# "the nation's first and the municipality's inaugural ... zones": both levels.
_BOTH_LEVELS = re.compile(r"^\s*\w+\s+and\s+(?:the\s+)?$")
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
            "eighth": 8, "ninth": 9, "tenth": 10}
CHINESE_NUMERALS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_BATCH = re.compile(r"\b(?:(" + "|".join(ORDINALS) + r")|(\d{1,2})(?:st|nd|rd|th))\s+batch\b|第([一二三四五六七八九十]|\d{1,2})批",
                    re.I)
_BRACKETS = re.compile(r"\s*\(([^)]*)\)")
_YEAR = re.compile(r"(?<![\d,.])(?:19|20)\d\d(?![\d,]\d)")


@dataclass(frozen=True)
class Phrase:
    """A programme phrase in a paragraph, with the levels the words round it give."""

    start: int
    end: int
    rule: ProgrammeRule
    levels: tuple[str, ...]
    reach: int  # the end of a bracketed list of places right after it, else `end`


def programme_rules(atlas: Atlas) -> tuple[ProgrammeRule, ...]:
    """The English rules, plus each programme's Chinese name (at its own level) from programmes.yaml."""
    chinese = tuple(ProgrammeRule(_name_regex(p.name_zh), {p.level: p.id})
                    for p in atlas.programmes.values() if p.name_zh)
    return PROGRAMME_RULES + chinese


def phrase_levels(text: str, start: int, end: int, sentence_start: int, rule: ProgrammeRule) -> tuple[str, ...]:
    """The level(s) of a phrase: a level named just after it, else the nearest level word before it in
    its sentence (two, when coordinated: "the nation's first and the municipality's"), else the
    rule's default. Programmes with one level keep it."""
    if len(rule.programmes) == 1:
        return tuple(rule.programmes)
    after = _LEVEL_AFTER.match(text, end)
    if after:
        return ("municipal",) if after.group(1) else ("national",)
    markers = list(_LEVEL_BEFORE.finditer(text, sentence_start, end))
    if not markers:
        return (next(iter(rule.programmes)),)
    levels = [_NATIONAL_OR_MUNICIPAL[0 if markers[-1].group(1) else 1]]
    if len(markers) > 1 and _BOTH_LEVELS.match(text[markers[-2].end():markers[-1].start()]):
        levels.insert(0, _NATIONAL_OR_MUNICIPAL[0 if markers[-2].group(1) else 1])
    return tuple(dict.fromkeys(levels))


def is_generic(text: str, start: int) -> bool:
    """Whether a phrase names a kind of thing rather than a title held: after "a" or "an" ("taking
    the establishment of an ecological civilization construction demonstration zone as the starting
    point"), unless after "as a" ("selected as a national EOD pilot")."""
    words = re.findall(r"[\w'’-]+", text[max(0, start - 40):start])
    while words and words[-1].lower() in ("national", "municipal", "municipal-level", "state-level"):
        words.pop()
    return bool(words) and words[-1].lower() in ("a", "an") and (len(words) < 2 or words[-2].lower() != "as")


def find_phrases(text: str, rules: Sequence[ProgrammeRule], sentences: Sequence[tuple[int, int]]) -> tuple[Phrase, ...]:
    """Programme phrases in a paragraph naming titles held, the first rule winning where two overlap."""
    found: list[Phrase] = []
    for rule in rules:
        for m in re.finditer(rule.pattern, text, re.I):
            if _free([(p.start, p.reach) for p in found], *m.span()) and not is_generic(text, m.start()):
                s0 = next(s for s, e in sentences if s <= m.start() < e)
                brackets = _BRACKETS.match(text, m.end())
                found.append(Phrase(m.start(), m.end(), rule, phrase_levels(text, m.start(), m.end(), s0, rule),
                                    brackets.end() if brackets else m.end()))
    return tuple(sorted(found, key=lambda p: p.start))


def batch_in(text: str) -> int | None:
    """The batch the words before a phrase give ("the fifth batch of", "the 6th batch", "第五批")."""
    for m in reversed(list(_BATCH.finditer(text))):
        word, digits, chinese = m.groups()
        batch = ORDINALS[word.lower()] if word else int(digits) if digits else CHINESE_NUMERALS.get(chinese) or int(chinese)
        if BATCHES[0] <= batch <= BATCHES[1]:
            return batch
    return None


def year_near(text: str, start: int, end: int, pos: int) -> int | None:
    """The year a fact is about: the nearest year before it in its sentence, else the nearest after."""
    years = [(m.start(), int(m.group())) for m in _YEAR.finditer(text, start, end) if YEARS[0] <= int(m.group()) <= YEARS[1]]
    before = [y for p, y in years if p < pos]
    after = [y for p, y in years if p >= pos]
    return before[-1] if before else after[0] if after else None


# --- figures ----------------------------------------------------------------------------------

# units' own number words, so whatever `parse_stated` reads, the search finds.
_FIGURE = re.compile(
    r"(?:\b(?P<qualifier>" + "|".join(sorted(units.QUALIFIERS, key=len, reverse=True)) + r")\s+)?"
    r"(?P<number>(?<![A-Za-z0-9_.,+-])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?!\w)|\b(?:"
    + "|".join(units.NUMBER_WORDS) + r")\b)(?P<scale>(?:\s+(?:thousand|million|billion)\b)*)(?P<percent>%)?",
    re.I)
_UNIT_WORD = re.compile(r"\s*([A-Za-z]+(?:[-'’][A-Za-z]+)*)")
MAX_WORDS_BEFORE_UNIT = 6
QUOTES = tuple("'\"‘“")
# The units a figure may be stated in (pint's names); counted nouns come from units.txt.
FIGURE_UNITS = frozenset(("hectare", "mu", "acre", "meter ** 2", "kilometer ** 2", "yuan", "watt", "kilowatt",
                          "megawatt", "gigawatt", "metric_ton", "kilogram", "day", "percent"))


@cache
def counted_nouns() -> frozenset[str]:
    """The counted things units.txt defines ("household = count", ...): only these count a figure,
    not pint's own dimensionless units (turn, radian, bit) that English words happen to spell."""
    text = Path(units.__file__).with_name("units.txt").read_text("utf-8")
    return frozenset(re.findall(r"^(\w+)\s*=\s*count\b", text, re.M))


def _symbol_plural(word: str) -> bool:
    """Whether pint reads `word` as a unit symbol plus a plural s, as it reads "has" (ha + s, hectares):
    no article writes symbols so."""
    try:
        return word.endswith("s") and units.registry().get_name(word[:-1]) != word[:-1]
    except UndefinedUnitError:
        return False


@cache
def unit_name(words: str) -> str | None:
    """pint's name for `words` when they are a unit a figure may be stated in, else None."""
    try:
        units.normalise(1, words)
    except units.UnitError:
        return None
    name = str(units.registry().Quantity(1, words).units)
    return name if name in FIGURE_UNITS | counted_nouns() and not _symbol_plural(words) else None


@dataclass(frozen=True)
class Figure:
    """A figure as stated ("nearly 400 million yuan"), read by `units.parse_stated`."""

    start: int
    end: int
    stated: str
    value: float
    unit: str
    qualifier: str | None
    base: units.Normalised
    noun_start: int  # where the words after the number begin (the counted thing, for keys)


def _unit_end(text: str, pos: int) -> tuple[int, list[str]] | None:
    """The end of the first unit within a few words after `pos`, and those words up to it."""
    words: list[tuple[str, int]] = []
    while len(words) <= MAX_WORDS_BEFORE_UNIT and (m := _UNIT_WORD.match(text, pos)):
        words.append((m.group(1), m.end()))
        pos = m.end()
        if unit_name(m.group(1)):
            return pos, [w for w, _ in words[-1:]]
        if len(words) > 1 and unit_name(f"{words[-2][0]} {m.group(1)}"):
            return pos, [w for w, _ in words[-2:]]
    return None


def find_figures(text: str) -> list[Figure]:
    """Numbers with units, multipliers and qualifiers: "7,600 hectares", "239.3 billion yuan",
    "98.6%", "over 73%", "nearly one million flowers and trees", "6,000 mu", "335 days"."""
    figures = []
    for m in _FIGURE.finditer(text):
        scale = m.group("scale").lower().split()
        number = m.group("number")
        if number.lower() in ("a", "an") and not scale or text[m.start() - 1:m.start()] in QUOTES:
            continue  # "a" alone is no number; a quoted one opens a slogan ("'one village, one product'")
        if number.isalpha() and re.match(r"\s+[A-Z]", text[m.end("number"):]):
            continue  # a number word starting a name: "Three Gorges", "Two Rivers and Four Banks"
        if m.group("percent"):
            end, unit_words = m.end(), ["percent"]
        elif (found := _unit_end(text, m.end())) is not None:
            end, unit_words = found
        else:
            continue
        stated = text[m.start():end]
        try:
            parsed = units.parse_stated(stated)
            base = units.normalise(parsed.value, parsed.unit)
        except units.UnitError:
            continue
        if parsed.unit != " ".join(scale + unit_words).replace("-", " "):
            continue  # the parser read other words as units: not a figure we can trust
        figures.append(Figure(m.start(), end, stated, parsed.value, parsed.unit, parsed.qualifier, base, m.end()))
    return figures


# Words between a figure and what it measures ("the forest coverage rate here reaches 98.6%").
LINK_WORDS = frozenset("reach reaches reached reaching is was were are be will has have had been at of to by "
                       "for about accounts account accounting valued totaling totalling here now with up "
                       "maintained remain remains stood stands".split())
STOP_WORDS = frozenset("the a an and its their this that in on from which it".split())


def suggest_key(text: str, figure: Figure, start: int) -> str:
    """A first guess at a new figure's key, for the reviewer to correct: for counted things the words
    naming them ("269 prominent environmental issues" -> prominent_environmental_issues), for other
    figures the words just before, from `start` on (after the place's name): "the forest coverage
    rate here reaches 98.6%" -> forest_coverage_rate."""
    if figure.base.kind == "count":
        words = re.findall(r"[A-Za-z]+", text[figure.noun_start:figure.end])
    else:
        before = re.findall(r"[A-Za-z][\w-]*", text[start:figure.start].split(",")[-1])
        while before and before[-1].lower() in LINK_WORDS:
            before.pop()
        words = []
        while before and len(words) < 3 and before[-1].lower() not in LINK_WORDS | STOP_WORDS:
            words.insert(0, before.pop())
    key = slug(" ".join(words), "_")
    return key if re.match(r"[a-z]", key) else figure.base.kind


# --- the article as a whole ---------------------------------------------------------------------

@dataclass(frozen=True)
class Paragraph:
    text: str
    sentences: tuple[tuple[int, int], ...]
    mentions: tuple[Mention, ...]
    phrases: tuple[Phrase, ...]

    def sentence_at(self, pos: int) -> tuple[int, int]:
        return next((s, e) for s, e in self.sentences if s <= pos < e)

    def subject(self) -> Mention | None:
        """The place a paragraph is about: the first it names (news paragraphs open on their subject)."""
        return next((m for m in self.mentions if m.role in PLACE_ROLES), None)


@dataclass(frozen=True)
class Document:
    paragraphs: tuple[Paragraph, ...]
    atlas: Atlas
    title_place: str | None  # the site an article is titled after, if any


def read_document(text: str, atlas: Atlas, title: str | None, new_places: dict[str, dict]) -> Document:
    names = gazetteer_names(atlas)
    rules = programme_rules(atlas)
    title_mentions = find_mentions(title or "", names, atlas, [], (), {})
    title_place = next((m.place for m in title_mentions if m.role == KNOWN
                        and atlas.places[m.place].kind not in WHOLE_DISTRICT_KINDS), None)
    history: list[str] = []
    paragraphs = []
    for body in split_paragraphs(text):
        sentences = sentence_spans(body)
        phrases = find_phrases(body, rules, sentences)
        mentions = find_mentions(body, names, atlas, history, [(p.start, p.end) for p in phrases], new_places)
        paragraphs.append(Paragraph(body, sentences, mentions, phrases))
    return Document(tuple(paragraphs), atlas, title_place)


def _in_district(doc: Document, place_id: str, district: str) -> bool:
    place = doc.atlas.places.get(place_id)
    return place is not None and place.kind not in WHOLE_DISTRICT_KINDS and place.district == district


def refine(doc: Document, mention: Mention, sentence: Sequence[Mention]) -> str | None:
    """The place a figure is about, given the mention chosen for it. A district named beside one of
    its sites in the same sentence is the body acting for the site ("Beibei District has invested 55
    million yuan to build a smart Jinyun platform"), and so is a district in an article titled after
    one of its sites; "the district" said outright stays the district."""
    if mention.role != KNOWN or mention.place not in doc.atlas.places:
        return mention.place
    place = doc.atlas.places[mention.place]
    if place.kind not in WHOLE_DISTRICT_KINDS:
        return mention.place
    site = next((m.place for m in sentence if m.role == KNOWN and _in_district(doc, m.place, place.district)), None)
    if site is None and doc.title_place and _in_district(doc, doc.title_place, place.district):
        site = doc.title_place
    return site or mention.place


def _nearest(pool: Sequence[Mention], start: int, end: int) -> Mention | None:
    before = [m for m in pool if m.end <= start]
    after = [m for m in pool if m.start >= end]
    return before[-1] if before else after[0] if after else None


_CLAUSE_BREAK = re.compile(r";|,\s+and\s+")


def clause_at(text: str, start: int, end: int, pos: int) -> tuple[int, int]:
    """The clause of the sentence [start, end) holding `pos`: reports pack several facts into one
    sentence, a clause each ("... has won the title of ..., and 23 towns (streets) ...")."""
    for m in _CLAUSE_BREAK.finditer(text, start, end):
        if m.end() <= pos:
            start = m.end()
        elif m.start() >= pos:
            return start, m.start()
    return start, end


def figure_place(doc: Document, index: int, figure: Figure) -> str | None:
    """The place a figure is about: the nearest place its clause names (before it, else after; new
    places only when no known one is there); else the subject of its paragraph, or of the one before
    when its own names none. Chongqing itself before the figure in its clause, or as the paragraph's
    subject, means the figure is the whole city's, which the atlas does not map: None. (Chongqing
    after it is what it is measured against: "12% of Chongqing's clean energy supply".)"""
    para = doc.paragraphs[index]
    s0, s1 = para.sentence_at(figure.start)
    c0, c1 = clause_at(para.text, s0, s1, figure.start)
    sentence = [m for m in para.mentions if s0 <= m.start < s1]
    clause = [m for m in sentence if c0 <= m.start < c1 and (m.role != CITY or m.end <= figure.start)]
    for roles in (PLACE_ROLES, (NEW,)):
        chosen = _nearest([m for m in clause if m.role in roles], figure.start, figure.end)
        if chosen:
            return refine(doc, chosen, sentence)
    for paragraph in doc.paragraphs[index::-1][:2]:
        subject = paragraph.subject()
        if subject:
            return refine(doc, subject, ())
    return None


def clause_start(para: Paragraph, phrase: Phrase) -> tuple[int, int]:
    """Where the words that lead into a phrase begin: after the previous phrase of its sentence
    (or the sentence start), and after the last semicolon (the clause start); both are returned."""
    s0, _ = para.sentence_at(phrase.start)
    previous_end = max([p.reach for p in para.phrases if s0 <= p.reach <= phrase.start] + [s0])
    return previous_end, max(previous_end, para.text.rfind(";", s0, phrase.start) + 1)


def designation_places(doc: Document, index: int, phrase: Phrase, inherited: tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
    """The places a programme phrase names, and whether a next phrase in the sentence may share them:
    the place whose name holds the phrase ("Jinyun Mountain National Nature Reserve"); else a list in
    brackets right after it ("... zones (Bishan, Yubei, Beibei, ...)"); else the places named before
    it in its clause, less those locating another ("the Apeng River Basin in Qianjiang District"), or
    the ones a previous phrase of the sentence took ("won the national health county, ... and China's
    natural oxygen bar"); else, after "it", the paragraph's subject; else the nearest named after it."""
    para = doc.paragraphs[index]
    text, mentions = para.text, [m for m in para.mentions if m.role != CITY]
    s0, s1 = para.sentence_at(phrase.start)

    def prefer_known(pool: list[Mention]) -> list[Mention]:
        known = [m for m in pool if m.role != NEW]
        return known or pool

    holder = [m.place for m in mentions if m.role == KNOWN and m.start <= phrase.start and phrase.end <= m.end]
    if holder:
        return tuple(holder), False
    brackets = _BRACKETS.match(text, phrase.end)
    if brackets:
        listed = prefer_known([m for m in mentions if brackets.start(1) <= m.start < brackets.end(1)])
        if listed:
            return tuple(dict.fromkeys(m.place for m in listed)), False
    previous_end, clause = clause_start(para, phrase)
    segment = [m for m in mentions if clause <= m.start and m.end <= phrase.start]
    subjects = [m for i, m in enumerate(segment) if not (i and _LOCATOR.match(text[segment[i - 1].end:m.start]))]
    if subjects := prefer_known(subjects):
        return tuple(dict.fromkeys(m.place for m in subjects)), True
    if inherited and clause == previous_end:
        return inherited, True
    if re.search(r"\b[Ii]ts?\b", text[s0:phrase.start]):
        subject = para.subject() or (doc.paragraphs[index - 1].subject() if index else None)
        if subject and subject.role != CITY:
            return (subject.place,), True
    after = prefer_known([m for m in mentions if phrase.end <= m.start < s1])
    return ((after[0].place,), False) if after else ((), False)


# --- the review ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Review:
    """Candidates for seeds/, in the order the article gives them; `unplaced` counts the figures
    left out as being about no mapped place (Chongqing as a whole, or nothing named)."""

    source: dict
    places: list[dict]
    designations: list[dict]
    metrics: list[dict]
    unplaced: int

    def entries(self) -> dict[str, list[dict]]:
        return {"sources": [self.source], "places": self.places, "designations": self.designations,
                "metrics": self.metrics}


def article_source(atlas: Atlas, article: Path, text: str, source_id: str | None = None,
                   outlet: str | None = None, title: str | None = None, date: str | None = None) -> dict:
    """The source entry: the seeds' own when they cite this article (by id, else by file name), else
    a new one from the options, titled when no --title is given by the article's headline (one of its
    first lines, of 4 to 30 words, not ending as a sentence does)."""
    known = atlas.sources.get(source_id) if source_id else next(
        (s for s in atlas.sources.values() if s.file == article.name), None)
    if known:
        fields = {k: getattr(known, k) for k in ("id", "kind", "outlet", "title", "date", "file", "url")}
        return {"id": known.id, "status": "known", **{k: v for k, v in fields.items() if v is not None and k != "id"}}
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()][:3]
    headline = next((line for line in lines if 4 <= len(line.split()) <= 30 and not line.endswith(".")), None)
    return {"id": source_id or slug(article.stem) or "article", "status": "new", "kind": "article",
            "outlet": outlet, "title": title or headline, "date": date, "file": article.name}


def _unique(ident: str, taken: set[str]) -> str:
    candidate, n = ident, 2
    while candidate in taken:
        candidate, n = f"{ident}-{n}", n + 1
    taken.add(candidate)
    return candidate


def _anchor(para: Paragraph, place_id: str, start: int, end: int) -> tuple[int, int] | None:
    """Where the sentence [start, end) names the place, for the excerpt to reach out to."""
    return next(((m.start, m.end) for m in para.mentions if m.place == place_id and start <= m.start < end), None)


def place_candidates(doc: Document, new_places: Mapping[str, dict]) -> list[dict]:
    """Each place the article names, once, with the ways it writes the name."""
    found: dict[str, dict] = {}
    for para in doc.paragraphs:
        for m in para.mentions:
            if m.role in (KNOWN, NEW):
                place = doc.atlas.places.get(m.place)
                entry = found.setdefault(m.place, new_places[m.place] if place is None else {
                    "id": place.id, "status": "known", "name_en": place.name_en, "kind": place.kind,
                    "district": place.district, "mentions": []})
                if m.text not in entry["mentions"]:
                    entry["mentions"].append(m.text)
    return list(found.values())


def designation_candidates(doc: Document, source: str, taken: set[str]) -> list[dict]:
    """A designation per place and programme phrase, with the batch its lead-in gives and the
    year of its sentence."""
    found: dict[tuple[str, str], dict] = {}
    for index, para in enumerate(doc.paragraphs):
        inherited: tuple[str, ...] = ()
        for phrase in para.phrases:
            s0, s1 = para.sentence_at(phrase.start)
            places, shareable = designation_places(doc, index, phrase, inherited)
            inherited = places if shareable else ()
            batch = batch_in(para.text[clause_start(para, phrase)[1]:phrase.start])
            year = year_near(para.text, s0, s1, phrase.start)
            for place_id in places:
                evidence = excerpt(para.text, phrase.start, phrase.end, _anchor(para, place_id, s0, s1), (s0, s1))
                for level in phrase.levels:
                    _add_designation(found, doc.atlas, taken, place_id, phrase.rule.programmes[level], batch, year,
                                     source, evidence)
    return list(found.values())


def metric_candidates(doc: Document, source: str, taken: set[str]) -> tuple[list[dict], int]:
    """A metric per place and value, and how many figures are about no mapped place."""
    found: dict[tuple, dict] = {}
    unplaced = 0
    for index, para in enumerate(doc.paragraphs):
        for figure in find_figures(para.text):
            place_id = figure_place(doc, index, figure)
            if place_id is None:
                unplaced += 1
                continue
            s0, s1 = para.sentence_at(figure.start)
            named = max([m.end for m in para.mentions if s0 <= m.end <= figure.start] + [s0])
            key = (place_id, figure.base.unit, figure.base.value)
            if key not in found:
                found[key] = _metric(doc.atlas, taken, place_id, figure, suggest_key(para.text, figure, named),
                                     year_near(para.text, s0, s1, figure.start), source,
                                     excerpt(para.text, figure.start, figure.end, _anchor(para, place_id, s0, s1),
                                             (s0, s1)))
    return list(found.values()), unplaced


def ingest_article(text: str, atlas: Atlas, source: dict) -> Review:
    """Every candidate the article gives, each marked known when seeds/ holds it already: a
    designation with the same place and programme, a figure with the same place and value (it then
    takes that seed's key and id), a place by any of its names."""
    new_places: dict[str, dict] = {}
    doc = read_document(text, atlas, source.get("title"), new_places)
    taken = set(atlas.designations) | set(atlas.metrics)
    metrics, unplaced = metric_candidates(doc, source["id"], taken)
    return Review(source, place_candidates(doc, new_places), designation_candidates(doc, source["id"], taken),
                  metrics, unplaced)


def _add_designation(found: dict, atlas: Atlas, taken: set[str], place: str, programme: str, batch: int | None,
                     year: int | None, source: str, evidence: str) -> None:
    """One candidate per place and programme: a later mention only fills in a missing batch or year."""
    entry = found.get((place, programme))
    if programme not in atlas.programmes:  # seeds of one's own may lack a programme the rules know
        return
    if entry:
        entry["batch"] = entry["batch"] or batch
        entry["year"] = entry["year"] or year
        return
    known = next((d for d in atlas.designations.values() if d.place == place and d.programme == programme), None)
    found[(place, programme)] = {
        "id": known.id if known else _unique(f"{place}-{programme}", taken),
        "status": "known" if known else "new", "place": place, "programme": programme,
        "level": atlas.programmes[programme].level, "batch": batch, "year": year, "source": source,
        "evidence": evidence}


def _metric(atlas: Atlas, taken: set[str], place: str, figure: Figure, key: str, year: int | None,
            source: str, evidence: str) -> dict:
    known = next((m for m in atlas.metrics.values() if m.place == place and m.base_unit == figure.base.unit
                  and abs(m.base_value - figure.base.value) <= 1e-9 * max(1.0, abs(m.base_value))), None)
    key = known.key if known else key
    ident = known.id if known else _unique(slug(f"{place} {key} {year or ''}"), taken)
    value = int(figure.value) if figure.value.is_integer() else figure.value
    return {"id": ident, "status": "known" if known else "new", "place": place, "key": key, "value": value,
            "unit": figure.unit, "stated": figure.stated, "qualifier": figure.qualifier, "year": year,
            "source": source, "evidence": evidence}


def entries_block(entries: Sequence[dict], indent: str = "  ") -> str:
    """YAML list items a blank line apart, indented like a seed file's own, so they can be appended
    to one as text, leaving its comments and order as they are."""
    blocks = []
    for entry in entries:
        text = yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, width=10_000)
        blocks.append("".join(indent + line for line in text.splitlines(keepends=True)))
    return "\n".join(blocks)


def review_yaml(review: Review, article: str) -> str:
    """The review file: seeds/' shape, with `status` on each entry and `mentions` on places; no
    timestamps, entries in the article's order, so the same article always gives the same file."""
    header = (f"# atlas ingest: candidates from {article}, found by rules; check each against the article.\n"
              "# status: known = seeds/ has it already (never merged); new = merged by\n"
              f"#   atlas ingest --accept THIS_FILE\n"
              "# Correct or delete new entries first; a new place needs kind and district.\n")
    sections = [f"{kind}:\n{entries_block(entries)}" if entries else f"{kind}: []\n"
                for kind, entries in review.entries().items()]
    return header + "\n".join(sections)


def write_files(files: Mapping[Path, str]) -> None:
    """Write each file beside its target (with the target's mode), then rename them all into place;
    if any write or rename fails, the targets already renamed get their old bytes back, so all
    change or none does."""
    old = {path: path.read_bytes() for path in files if path.exists()}
    modes = {path: stat.S_IMODE(path.stat().st_mode) for path in old}
    temps: dict[Path, Path] = {}
    done: list[Path] = []
    try:
        for path, text in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            temps[path] = Path(tmp)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                out.write(text)
            os.chmod(tmp, modes.get(path, 0o666 & ~_umask()))
        for path, tmp in temps.items():
            os.replace(tmp, path)
            done.append(path)
    except OSError as exc:
        for path in done:
            if path in old:
                path.write_bytes(old[path])
            else:
                path.unlink()
        raise RunError(f"could not write {exc.filename or 'a file'}: {exc.strerror or exc}; nothing was changed") from None
    finally:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)


def _umask() -> int:
    """The process's umask (read by setting it, so set straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- accepting a review -----------------------------------------------------------------------

@dataclass(frozen=True)
class Accepted:
    added: dict[str, int]
    known: int
    gazetteer: int


def _review_entries(data, label: str) -> tuple[dict[str, list[Node]], int]:
    """The review's new entries by kind, and how many are known; every misshapen entry is a problem."""
    if data is None:
        raise InputError(Problem(label, None, "", "", "file is empty; expected a review file from atlas ingest"))
    if not isinstance(data, dict) or not set(data) <= set(REVIEW_KINDS):
        raise InputError(Problem(label, getattr(data, "line", None), "", "",
                                 f"expected top-level lists {', '.join(REVIEW_KINDS)} (as atlas ingest writes)"))
    problems, new, known = [], {kind: [] for kind in REVIEW_KINDS}, 0
    for kind in REVIEW_KINDS:
        entries = data.get(kind) or []
        if not isinstance(entries, list):
            problems.append(Problem(label, data.line_of(kind), kind, "", "must be a list of entries"))
            continue
        for index, entry in enumerate(entries):
            name = entry_name(kind, index, entry)
            if not isinstance(entry, Node):
                problems.append(Problem(label, None, name, "", "must be a mapping of fields"))
            elif entry.get("status") not in STATUSES:
                problems.append(Problem(label, entry.line_of("status"), name, "status",
                                        f"must be one of {', '.join(STATUSES)}; got {entry.get('status')!r}"))
            elif entry["status"] == "known":
                known += 1
            elif not isinstance(entry.get("id"), str):
                problems.append(Problem(label, entry.line_of("id"), name, "id", "a new entry needs an id"))
            else:
                new[kind].append(entry)
    if problems:
        raise InputError(problems)
    return new, known


def _seed_entry(kind: str, entry: Node) -> dict:
    keep = KEEP_NULL.get(kind, ())
    return {k: v for k, v in entry.items() if k not in REVIEW_ONLY and (v is not None or k in keep)}


def _appended(original: str, entries: Sequence[dict], review: str) -> str:
    """A seed file's text with entries appended after its last one, at its own indentation."""
    indent = re.search(r"^( *)- ", original, re.M)
    pad = indent.group(1) if indent else "  "
    return (original.rstrip("\n") + f"\n\n{pad}# --- added by atlas ingest --accept {review} ---\n"
            + entries_block(entries, pad))


def accept_review(review_path: Path, seeds: Path | None = None) -> Accepted:
    """Merge a review's new entries into seeds/, or change nothing: the merged files are built in a
    temporary copy and checked there (load_atlas, and the gazetteer), and renamed into place only
    when everything validates. Problems in merged entries are reported against the review file."""
    seeds = Path(seeds) if seeds is not None else default_seeds_dir()
    label = str(review_path)
    check_size(review_path, "review file")
    new, known = _review_entries(read_yaml(review_path, label), label)
    if not any(new.values()):
        return Accepted({}, known, 0)
    load_atlas(seeds)  # the seeds must be sound before anything is added to them
    added = {f"{kind}.yaml": [_seed_entry(kind, e) for e in new[kind]] for kind in REVIEW_KINDS if new[kind]}
    gazetteer = seeds / GAZETTEER_FILE
    sited = [{"place": e["id"], "precision": "district",
              "coord_source": "none yet: added by atlas ingest; at its district's representative point"}
             for e in new["places"] if e.get("kind") not in WHOLE_DISTRICT_KINDS] if gazetteer.is_file() else []
    if sited:
        added[GAZETTEER_FILE] = sited
    originals = {name: (seeds / name).read_text("utf-8") for name in added}
    merged = {name: _appended(originals[name], entries, review_path.name) for name, entries in added.items()}
    with tempfile.TemporaryDirectory(prefix="atlas-ingest-") as tmp:
        trial = Path(tmp) / "seeds"
        shutil.copytree(seeds, trial)
        for name, text in merged.items():
            (trial / name).write_text(text, encoding="utf-8")
        try:
            places = load_atlas(trial).places
            if gazetteer.is_file():
                load_gazetteer(trial / GAZETTEER_FILE, places)
        except InputError as exc:
            raise InputError(_rehome(exc.problems, trial, seeds, originals, new, label)) from None
    write_files({seeds / name: text for name, text in merged.items()})
    return Accepted({kind: len(entries) for kind, entries in new.items() if entries}, known, len(sited))


def _rehome(problems: Sequence[Problem], trial: Path, seeds: Path, originals: Mapping[str, str],
            new: Mapping[str, list[Node]], label: str) -> list[Problem]:
    """Problems found in the trial copy, pointed at what the user can edit: a merged entry's problem
    at its line in the review file, any other at the real seed file."""
    by_name = {entry_name(kind, 0, e): e for kind, entries in new.items() for e in entries}
    lines = {str(trial / name): text.count("\n") + 1 for name, text in originals.items()}
    out = []
    for p in problems:
        entry = by_name.get(p.entry)
        if entry is not None and p.file in lines and (p.line or 0) > lines[p.file]:
            out.append(Problem(label, entry.line_of(p.field), p.entry, p.field, p.message))
        else:
            out.append(Problem(p.file.replace(str(trial), str(seeds), 1), p.line, p.entry, p.field, p.message))
    return out
