"""Places an article names: the gazetteer's places and every Chongqing district or county by any of
its names (with or without its suffix, in English or Chinese), new places named inside a district
("X区Y片区", "the A River basin in X District"), references back ("the district", "the reserve",
"该区", "当地"), Chongqing itself, regions spanning districts, and places outside Chongqing (which
are reported and never mapped)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

from ..geocode import WHOLE_DISTRICT_KINDS, normalise
from ..load import PLACE_KINDS
from ..model import Atlas
from .reading import slug
from .vocabulary import names_pattern, vocabulary

KNOWN, NEW, CITY, ANAPHOR, REGION, OUTSIDE = "known", "new", "city", "anaphor", "region", "outside"
# Roles whose mention stands for no place of the atlas.
UNMAPPED = (CITY, REGION, OUTSIDE)

# "the <noun>" points back to the latest place of these kinds (or with the noun in its name).
# Reports call counties "the district" too, so both administrative kinds answer either.
ANAPHORA = {
    "district": WHOLE_DISTRICT_KINDS, "county": WHOLE_DISTRICT_KINDS, "region": WHOLE_DISTRICT_KINDS,
    "reserve": ("nature reserve",), "basin": ("river basin",), "lake": ("lake",), "island": ("island",),
    "village": ("village",), "park": ("park", "wetland park"), "valley": (), "garden": (), "gorge": (),
    "mountain": ("mountain", "mountain area"),
}
_ANAPHOR = re.compile(r"\b(?:[Tt]he|[Tt]his)\s+(?:nature\s+|scenic\s+|whole\s+|entire\s+)?(" + "|".join(ANAPHORA)
                      + r")\b(?!\s+[A-Z])")
_CITY = re.compile(r"\bChongqing(?:\s+(?:City|Municipality))?\b(?!['’]s\s+[A-Z])|\b[Tt]he\s+(?:entire\s+|central\s+)?"
                   r"(?:city|municipality)\b|重庆市?|全市|本市|我市|市委|市政府")
_DATELINE = re.compile(r"\s*-")
# Capitalised only because they start a sentence or a title: not part of a name.
LEADING_WORDS = frozenset(
    "The In On At Of And A An As By For From With To During Based Located Around Near Along Both First "
    "Second Third Currently Additionally Furthermore Moreover Specifically Before After Since Today Yet But "
    "Also Nearby Its Their This That These Scenic Lately Summer Spring Winter Autumn Village".split())
# A new place's name followed by where it is: "Tongluo Flower Valley in the Nanan district",
# "the Furong River basin in Wulong District", "Hongya County, Sichuan Province".
_IN_DISTRICT = re.compile(r"^(?:,\s*|\s+)(?:(?:located|situated|which is)\s+)?in\s+(?:the\s+)?$|^['’]s\s+$")
_APPOSITIVE = re.compile(r"\b([A-Z][a-z]+(?:\s[A-Z][a-z]+)?),\s+an?\s+(?:small\s+|mountain\s+|riverside\s+)?"
                         r"(town|township|village)\b")




_EN_SUFFIX = re.compile(r"\s+(?:(?:Tujia|Miao|Hui|Yi)(?:\s+and\s+\w+)*\s+Autonomous\s+)?(?:District|County)$")
_ZH_SUFFIX = re.compile(r"(?:土家族苗族自治县|苗族土家族自治县|土家族自治县|自治县|区|县)$")


def district_names(name_en: str, name_zh: str, ambiguous: Sequence[str]) -> set[str]:
    """Every way a report names a district: "Nan'an District", "Nanan district", "Nan'an", "Nan'an
    County" (for the counties that became districts), 南岸区, 武隆县 and 武隆 (short Chinese names that
    are also common words, such as 南岸 "south bank", only with a suffix)."""
    short_en = _EN_SUFFIX.sub("", name_en)
    short_zh = _ZH_SUFFIX.sub("", name_zh)
    names = {name_en, name_zh, short_en, f"{short_en} District", f"{short_en} County"}
    names |= {short_zh + "区", short_zh + "县"}
    if len(short_zh) >= 2 and short_zh not in ambiguous:
        names.add(short_zh)
    return names


@dataclass(frozen=True)
class Names:
    """What ingest knows, as one pattern: the gazetteer's places, every district by every name,
    regions, provinces outside Chongqing, and Chongqing itself."""

    pattern: re.Pattern           # on lower-case text (the fast way) ...
    pattern_ignoring_case: re.Pattern  # ... where lowering changes a text's length (rare letters)
    places: dict[str, str]        # normalised name -> place id
    districts: dict[str, dict]    # normalised name -> a new place entry for a district with no place
    district_of: dict[str, str]   # place id (known or new district) -> district code
    kinds: dict[str, str | None]  # place id -> kind
    outside: frozenset[str]       # normalised province names; other names no place has are regions
    city: str | None              # the place for Chongqing as a whole, if the seeds have one


def gazetteer_names(atlas: Atlas) -> Names:
    vocab = vocabulary()
    ambiguous = vocab["ambiguous_short_zh"]
    # Chongqing as a whole is read by _CITY in all its ways ("Chongqing", "the city", 全市), not
    # as a place name: it holds city-wide figures, never a title or a place of its own.
    mapped = [p for p in atlas.places.values() if not p.city_wide]
    places: dict[str, str] = {}
    for place in mapped:
        for name in place.names():
            places.setdefault(normalise(name), place.id)
    by_code = {p.district: p.id for p in mapped if p.kind in WHOLE_DISTRICT_KINDS}
    districts: dict[str, dict] = {}
    all_names: set[str] = {n for p in mapped for n in p.names()}
    for d in atlas.districts.values():
        names = district_names(d.name_en, d.name_zh, ambiguous)
        all_names |= names
        if d.code in by_code:
            for name in names:
                places.setdefault(normalise(name), by_code[d.code])
        else:
            short = _EN_SUFFIX.sub("", d.name_en)
            entry = {"id": slug(short), "name_en": d.name_en, "name_zh": d.name_zh, "kind": d.kind,
                     "district": d.code}
            districts.update({normalise(n): entry for n in names})
    regions = vocab["regions"]["en"] + vocab["regions"]["zh"]
    outside = vocab["outside"]["en"] + vocab["outside"]["zh"]
    outside_names = outside + [f"{n} Province" for n in vocab["outside"]["en"]]
    pattern = names_pattern(all_names | set(regions) | set(outside_names), boundary=False)
    district_of = {p.id: p.district for p in atlas.places.values()} | {
        e["id"]: e["district"] for e in districts.values()}
    kinds = {p.id: p.kind for p in atlas.places.values()} | {e["id"]: e["kind"] for e in districts.values()}
    city = next((p.id for p in atlas.places.values() if p.city_wide), None)
    return Names(re.compile(pattern), re.compile(pattern, re.IGNORECASE), places, districts, district_of, kinds,
                 frozenset(normalise(n) for n in outside), city)


@dataclass(frozen=True)
class Mention:
    """Where a paragraph names a place: `place` is its id (known or new); for Chongqing as a whole
    the seeds' place for the city (which takes city-wide figures, never a title), if any; None for
    a region or a place outside Chongqing."""

    start: int
    end: int
    text: str
    place: str | None
    role: str  # KNOWN, NEW, CITY, ANAPHOR, REGION or OUTSIDE


@dataclass
class Places:
    """What an article has named so far: new places (by id), the last place of each kind for
    references back, and the names outside Chongqing (reported, never mapped)."""

    names: Names
    atlas: Atlas
    new: dict[str, dict] = field(default_factory=dict)
    last: dict[str, Mention] = field(default_factory=dict)  # anaphor noun -> last mention it fits
    outside: dict[str, None] = field(default_factory=dict)

    def district(self, place: str | None) -> str | None:
        if place is None:
            return None
        return self.names.district_of.get(place) or self.new.get(place, {}).get("district")

    def kind(self, place: str | None) -> str | None:
        if place is None:
            return None
        return self.names.kinds.get(place) or self.new.get(place, {}).get("kind")

    def is_district(self, mention: Mention) -> bool:
        return mention.role == OUTSIDE or self.kind(mention.place) in WHOLE_DISTRICT_KINDS

    def role(self, ident: str) -> str:
        """KNOWN for a seed place, else NEW (what `add_new` gave)."""
        return KNOWN if ident in self.atlas.places else NEW

    def add_new(self, name_en: str | None, name_zh: str | None, kind: str | None, district: str | None,
                text: str, ident: str | None = None) -> str:
        """A new place (or more words for one already proposed): its id, from its English name or,
        for a Chinese name, from its pinyin. An id the seeds have for a place of the same district
        is that place, named in a way the seeds lack (厚坝镇 for the town Houba, houba-town): its id
        is returned, and no new place; of another district, the new place's id gets a number."""
        ident = ident or (slug(name_en) if name_en else None)
        if not ident:
            ident = slug(pinyin_name(name_zh or text)) or "place"
        seed = self.atlas.places.get(ident)
        if seed is not None and district in (None, seed.district):
            return ident
        base, n = ident, 2
        while ident in self.atlas.places:
            ident, n = f"{base}-{n}", n + 1
        entry = self.new.setdefault(ident, {"id": ident, "status": "new", "name_en": name_en or pinyin_name(name_zh),
                                            "name_zh": name_zh, "kind": kind, "district": district, "mentions": []})
        entry["district"] = entry["district"] or district
        entry["kind"] = entry["kind"] or kind
        return ident


_PINYIN_SUFFIX = {"镇": "Town", "乡": "Township", "街道": "Subdistrict", "村": "Village", "片区": "Area",
                  "流域": "River Basin", "湖": "Lake", "岛": "Island", "山": "Mountain", "公园": "Park",
                  "湿地公园": "Wetland Park", "自然保护区": "Nature Reserve", "保护区": "Nature Reserve",
                  "景区": "Scenic Area", "风景区": "Scenic Area", "水库": "Reservoir", "河": "River", "江": "River",
                  "峡": "Gorge", "示范区": "Demonstration Area"}


def pinyin_name(name_zh: str | None) -> str | None:
    """An English name for a Chinese place name, as Chinese official usage writes it: the proper
    name in pinyin, the generic suffix translated (蔺市镇 -> Linshi Town). A proposal to check."""
    if not name_zh:
        return None
    from pypinyin import lazy_pinyin  # the standard library for pinyin, dictionary-based

    suffix = next((s for s in sorted(_PINYIN_SUFFIX, key=len, reverse=True) if name_zh.endswith(s)
                   and len(name_zh) > len(s)), "")
    proper = "".join(lazy_pinyin(name_zh[: len(name_zh) - len(suffix)])).capitalize()
    return f"{proper} {_PINYIN_SUFFIX[suffix]}".strip() if suffix else proper


@cache
def _zh_new_place() -> re.Pattern:
    suffixes = sorted(vocabulary()["place_suffixes_zh"], key=len, reverse=True)
    return re.compile(r"[\u4e00-\u9fff]{1,6}(?:" + "|".join(suffixes) + r")(?![\u4e00-\u9fff]{0,1}(?:局|委|办|部|站|厅|会))")


@cache
def _named_after() -> re.Pattern:
    words = vocabulary()["named_after_known"]
    # 乡村 is "rural", 村民 "villagers": no place.
    return re.compile(r"\s+(?:" + "|".join(words["en"]) + r")\b|(?:" + "|".join(words["zh"]) + ")(?![村民镇落])", re.I)


@cache
def _en_new_place() -> re.Pattern:
    words = sorted(vocabulary()["place_words_en"], key=len, reverse=True)
    alternatives = "|".join(re.escape(w) for w in words)
    return re.compile(r"\b(?:[A-Z][\w'’-]*\s+){1,4}(?:(?:" + alternatives + r")\b|(?:" + alternatives.lower()
                      + r")\b(?!\s+[A-Z]))(?:\s+(?:area|basin)\b)?")


class SpanSet:
    """Taken spans, tested for overlap in logarithmic time (they never overlap each other)."""

    def __init__(self, spans=()):
        self.spans = sorted(spans)

    def free(self, start: int, end: int) -> bool:
        from bisect import bisect_left

        i = bisect_left(self.spans, (start, start))
        before = self.spans[i - 1] if i else None
        after = self.spans[i] if i < len(self.spans) else None
        return (before is None or before[1] <= start) and (after is None or after[0] >= end)

    def add(self, start: int, end: int) -> None:
        from bisect import insort

        insort(self.spans, (start, end))


def _kind_of_words(name: str) -> str | None:
    words = vocabulary()["place_words_en"]
    for word in sorted(words, key=len, reverse=True):  # a new place's, rarely
        if name.lower().endswith(word.lower()):
            kind = words[word]
            return kind if kind in PLACE_KINDS else None
    return None


def _kind_of_zh(name: str) -> str | None:
    suffixes = vocabulary()["place_suffixes_zh"]
    for suffix in sorted(suffixes, key=len, reverse=True):
        if name.endswith(suffix):
            return suffixes[suffix]
    return None


@cache
def _zh_anaphora() -> tuple[re.Pattern, dict[str, str]]:
    table = {w: kind for kind, words in vocabulary()["anaphora_zh"].items() for w in words}
    return re.compile("|".join(sorted(table, key=len, reverse=True))), table


def find_mentions(text: str, sentences, state: Places, taken: Sequence[tuple[int, int]]) -> tuple[Mention, ...]:
    """Every place a paragraph names, in order: known names (longest first), regions, places outside
    Chongqing, Chongqing itself; new places inside a district; capitalised place-like names; then
    references back, resolved to the last place of their kind (updated as the text goes on)."""
    names = state.names
    found: list[Mention] = []
    spans = SpanSet()
    lowered = text.lower()
    matches = names.pattern.finditer(lowered) if len(lowered) == len(text) else names.pattern_ignoring_case.finditer(text)
    for m in matches:
        if m.group()[0].isascii() and m.start() and text[m.start() - 1].isalnum():
            continue  # inside a word: names begin at a word boundary (Chinese has none)
        key = normalise(m.group())
        known = names.places.get(key)
        after = _named_after().match(text, m.end()) if known and names.kinds[known] not in WHOLE_DISTRICT_KINDS else None
        if after:
            mention = _named_after_known(text, m.start(), after.end(), known, state)
        elif known:
            mention = Mention(m.start(), m.end(), text[m.start():m.end()], known, KNOWN)
        elif key in names.districts:
            district = names.districts[key]
            ident = state.add_new(district["name_en"], district["name_zh"], district["kind"], district["district"],
                                  m.group(), district["id"])
            mention = Mention(m.start(), m.end(), text[m.start():m.end()], ident, NEW)
        elif normalise(re.sub(r"\s+Province$", "", m.group(), flags=re.I)) in names.outside:
            end = _outside_end(text, m.end())
            state.outside[text[m.start():end]] = None
            mention = Mention(m.start(), end, text[m.start():end], None, OUTSIDE)
        else:
            mention = Mention(m.start(), m.end(), text[m.start():m.end()], None, REGION)
        found.append(mention)
        spans.add(mention.start, mention.end)
    for start, end in taken:  # programme phrases are no places (but a place's name may hold one)
        if spans.free(start, end):
            spans.add(start, end)
    for m in _CITY.finditer(text):
        if spans.free(*m.span()) and not (m.start() == 0 and _DATELINE.match(text, m.end())):
            found.append(Mention(m.start(), m.end(), m.group(), names.city, CITY))
            spans.add(*m.span())
    found.sort(key=lambda x: x.start)
    found += _new_places(text, sentences, found, spans, state)
    return _resolve_references(text, sorted(found, key=lambda x: x.start), spans, state, sentences)


def _named_after_known(text: str, start: int, end: int, known: str, state: Places) -> Mention:
    """A known place's name and a place word after it: another place named after it (仙女山镇, "the
    Furong River basin"), new, in its district; the known place itself when the word only says what
    it is ("Houba Town" for the town Houba) or the longer name is its id."""
    name = text[start:end]
    english = name[0].isascii()
    title = " ".join(w if w[0].isupper() else w.capitalize() for w in name.split()) if english else None
    kind = _kind_of_words(title) if english else _kind_of_zh(name)
    if kind == state.names.kinds[known] or (english and slug(title) == known):
        return Mention(start, end, name, known, KNOWN)
    ident = state.add_new(title, None if english else name, kind, state.names.district_of.get(known), name)
    return Mention(start, end, name, ident, state.role(ident))


_OUTSIDE_NAME = re.compile(r"(?:省|自治区|市)?[\u4e00-\u9fff]{0,6}?(?:县|市|旗|州|盟|区)"
                           r"|\s*Province|(?:,\s*|\s+)[A-Z]\w+\s+(?:County|City|Prefecture)\b")


def _outside_end(text: str, end: int) -> int:
    """Where a name led by a province ends: 四川省洪雅县, 内蒙古杭锦旗."""
    m = _OUTSIDE_NAME.match(text, end)
    return m.end() if m else end


def _new_places(text: str, sentences, found: list[Mention], spans: SpanSet, state: Places) -> list[Mention]:
    """New places: Chinese names right after a district ("江津区大四面山片区", "涪陵区蔺市镇") or
    listed after one ("合川区:钱塘镇、太和镇"), English capitalised names ending in a place word, "X,
    a town ...". A new place takes the district it is named in ("the A River basin in X District",
    "X区Y镇", "X District's Y"), else the one district its paragraph names, else none."""
    out: list[Mention] = []
    districts = [m for m in found if m.role in (KNOWN, NEW) and state.is_district(m)]
    zh_place = _zh_new_place()
    # Chinese: directly after a district name, a list after "X区:", or one after 包括 ("including")
    # in a sentence that names a district before it.
    starts = []
    for d in districts:
        listing = _LISTING.match(text, d.end)
        starts.append((listing.end() if listing else d.end, bool(listing), state.district(d.place)))
    for m in _INCLUDING_ZH.finditer(text) if districts else ():
        before = [d for d in districts if d.end <= m.start() and sentences.at(d.start) == sentences.at(m.start())]
        if before:
            starts.append((m.end(), True, state.district(before[-1].place)))
    for pos, listing, district in starts:
        while True:
            m = zh_place.match(text, pos)
            if not m or not spans.free(*m.span()) or m.group() in state.names.places:
                break
            m = _first_of_pair(text, m, zh_place)
            name = m.group()
            if CITY_WORDS.search(name):
                break
            ident = state.add_new(None, name, _kind_of_zh(name), district, name)
            out.append(Mention(m.start(), m.end(), name, ident, state.role(ident)))
            spans.add(*m.span())
            sep = re.match(r"[、，,和及与]", text[m.end():m.end() + 1]) if listing else None
            if not sep:
                break
            pos = m.end() + 1
    # English capitalised names ending in a place word; "X, a town".
    candidates = []
    for m in _en_new_place().finditer(text):
        words = m.group().split()
        while words and (words[0] in LEADING_WORDS or not spans.free(m.end() - len(" ".join(words)), m.end())):
            words.pop(0)  # "Nan'an District's Tushan Village": the district's name is taken
        start = m.end() - len(" ".join(words))
        if len(words) > 1 and spans.free(start, m.end()):
            name = " ".join(w if w[0].isupper() else w.capitalize() for w in words)
            candidates.append((start, m.end(), name))
    for m in _APPOSITIVE.finditer(text):
        words = m.group(1).split()
        while words and words[0] in LEADING_WORDS:
            words.pop(0)
        start = m.end(1) - len(" ".join(words))
        if words and spans.free(start, m.end(1)):
            candidates.append((start, m.end(1), f"{' '.join(words)} {m.group(2).capitalize()}"))
    paragraph_districts = {state.district(d.place) for d in districts}
    last = state.last.get("district")
    article_district = state.district(last.place) if last is not None else None
    for start, end, name in candidates:
        if not spans.free(start, end):
            continue
        if re.search(r"\b(?:County|District|City|Province)$", name):
            state.outside[name] = None  # every Chongqing district and county is known: this one is not
            out.append(Mention(start, end, name, None, OUTSIDE))
            spans.add(start, end)
            continue
        district = _district_named_with(text, start, end, districts, state)
        if district is None:
            district = next(iter(paragraph_districts)) if len(paragraph_districts) == 1 else article_district
        ident = state.add_new(name, None, _kind_of_words(name), district, name)
        out.append(Mention(start, end, name, ident, state.role(ident)))
        spans.add(start, end)
    return out


def _first_of_pair(text: str, m: re.Match, zh_place: re.Pattern) -> re.Match:
    """"厚坝镇和竹溪镇" is two places: the first, when both halves are place names."""
    for i in range(m.start() + 2, m.end() - 2):
        if text[i] in "和及与" and zh_place.fullmatch(text, m.start(), i) and zh_place.fullmatch(text, i + 1, m.end()):
            return zh_place.match(text, m.start(), i)
    return m


_LISTING = re.compile(r"\s*[:：]\s*")
# Words after which a sentence lists members of a group ("23 towns, including Houba", 包括): the
# figures, designations and new places all read them.
MEMBERS_EN = r"\b(?:including|such as|among them)\b"
MEMBERS_ZH = r"包括|其中有"
_INCLUDING_ZH = re.compile(MEMBERS_ZH)
CITY_WORDS = re.compile(r"生态环境|政府|委员会|人民|环境局|记者")


def _district_named_with(text: str, start: int, end: int, districts: Sequence[Mention], state: Places) -> str | None:
    """The district a new place is placed in by the words round it: "Y in (the) X District", "X
    District's Y" / "X's Y"."""
    for d in districts:
        if d.start >= end and _IN_DISTRICT.match(text[end:d.start]):
            return state.district(d.place)
        if d.end <= start and _IN_DISTRICT.match(text[d.end:start]):
            return state.district(d.place)
    return None


def _resolve_references(text: str, found: list[Mention], spans: SpanSet, state: Places, sentences) -> tuple[Mention, ...]:
    """References back, in text order with the places: "the district" / 该区 / 当地 is the last
    district named (outside Chongqing too: then it maps nowhere); 全区 / 全县 ("the whole district")
    is the district its own sentence names, else the last one; "the reserve" the last reserve."""
    refs: list[tuple[int, int, str, str]] = []
    for m in _ANAPHOR.finditer(text):
        if spans.free(*m.span()):
            refs.append((m.start(), m.end(), m.group(), m.group(1).lower()))
    pattern, table = _zh_anaphora()
    for m in pattern.finditer(text):
        if spans.free(*m.span()) and table[m.group()] != "city":
            refs.append((m.start(), m.end(), m.group(), table[m.group()]))
    events = sorted([(m.start, 0, m) for m in found] + [(r[0], 1, r) for r in refs], key=lambda e: (e[0], e[1]))
    mentions: list[Mention] = []
    for _, is_ref, item in events:
        if not is_ref:
            mentions.append(item)
            _remember(item, state)
            continue
        start, end, said, noun = item
        target = None
        if noun == "whole_district":
            s0, s1 = sentences.at(start)
            here = [m for m in found if s0 <= m.start < s1 and m.role in (KNOWN, NEW, OUTSIDE) and state.is_district(m)]
            target = here[0] if here else None
            noun = "district"
        target = target or state.last.get(noun)
        if target is not None:
            mention = Mention(start, end, said, target.place, ANAPHOR if target.place else OUTSIDE)
            mentions.append(mention)
    return tuple(mentions)


def _remember(mention: Mention, state: Places) -> None:
    """Make `mention` the last place of each kind it fits, for references back."""
    if mention.role in (CITY, REGION):
        return
    if mention.role == OUTSIDE:
        for noun in ("district", "county", "region"):
            state.last[noun] = mention
        return
    kind = state.kind(mention.place)
    words = mention.text.lower().split()
    for noun, kinds in ANAPHORA.items():
        if kind in kinds or noun in words:
            state.last[noun] = mention
