"""Figures: the place each is about, its key (from vocabulary.yaml, else one that says it needs a
name), and whether it is achieved or only a target or a plan."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

from .designations import Phrase
from .numbers import Figure
from .places import ANAPHOR, CITY, KNOWN, MEMBERS_EN, NEW, OUTSIDE, REGION, UNMAPPED, Mention
from .reading import CJK, slug
from .vocabulary import alternation, vocabulary

if TYPE_CHECKING:
    from .document import Document

NEEDS_NAME = "needs_name"
# Words between a figure and what it measures ("the forest coverage rate here reaches 98.6%").
LINK_WORDS = frozenset("reach reaches reached reaching is was were are be will has have had been at of to by "
                       "for about accounts account accounting valued totaling totalling here now with up "
                       "maintained remain remains stood stands from rose risen grew increased".split())
STOP_WORDS = frozenset("the a an and but while whereas its their this that in on from which it".split())


@cache
def _key_patterns() -> tuple[tuple[str, str, re.Pattern], ...]:
    return tuple((key, spec["kind"], re.compile(alternation(spec.get("en"), spec.get("zh")), re.I))
                 for key, spec in vocabulary()["figure_keys"].items())


_CLAUSE_ZH = re.compile(r"[，,；;。：:]")


def key_window(text: str, figure: Figure, start: int) -> tuple[str, int, str]:
    """The words that say what a figure measures: those before it from `start` (its clause, after
    the place named), and those after it naming what is counted ("243 bird species", "3,500 tons
    of trash", "企业26家" has them before)."""
    if CJK.search(text, max(0, figure.start - 2), figure.start):
        starts = [m.end() for m in _CLAUSE_ZH.finditer(text, max(0, figure.start - 30), figure.start)]
        start = max(starts[-1] if starts else max(0, figure.start - 30), 0)
        return text[start:figure.start], start, ""
    after = text[figure.counted[0]:figure.counted[1]]
    of = re.match(r"\s+of\s+((?:[\w-]+\s+){0,2}[\w-]+)", text[figure.end:figure.end + 60])
    return text[start:figure.start], start, after + (" of " + of.group(1) if of else "")


def suggest_key(text: str, figure: Figure, start: int, clause: int | None = None) -> str:
    """The figure's key: the vocabulary key of its kind whose words stand nearest the figure (after
    it, for what is counted; else before it); failing that `needs_name_<the words before it>`, which
    --accept refuses until a person names it: "the forest coverage rate here reaches 98.6%" ->
    forest_cover; "Ninety-five percent of the waste is collected" -> needs_name_waste."""
    before, _, after = key_window(text, figure, start)
    if clause is not None and clause < start and not CJK.search(before):
        before = text[clause:figure.start]  # the clause's words, the place's name included
    best: tuple[int, int, str] | None = None
    for key, kind, pattern in _key_patterns():
        if kind != figure.base.kind:
            continue
        for m in pattern.finditer(after):
            score = (m.start() - 1000, -len(m.group()))
            best = min(best or (score[0], score[1], key), (score[0], score[1], key))
        for m in pattern.finditer(before):
            score = (len(before) - m.end(), -len(m.group()))
            best = min(best or (score[0], score[1], key), (score[0], score[1], key))
    if best is not None:
        return best[2]
    before = key_window(text, figure, start)[0]
    return f"{NEEDS_NAME}_{_guess(text, figure, before, after) or figure.base.kind}"


# Words that say nothing of what a figure measures: with these alone between a figure and the one
# before in its sentence, it measures the same ("其中万州区达到340天", "and Yubei 330 days").
_FILLER_ZH = re.compile(r"其中|分别|达到|提升至|提高到|增至|增加到|降至|以及|[达为是有和与及、，,；;:：\s]")


def says_nothing(text: str, figure: Figure, mentions: Sequence[Mention], since: int) -> bool:
    """Whether only places and filler stand between the figure before (ending at `since`) and
    `figure`, and before its unit."""
    words = text[since:figure.start]
    for m in sorted(mentions, key=lambda m: -m.start):
        if since <= m.start and m.end <= figure.start:
            words = words[:m.start - since] + " " + words[m.end - since:]
    words += " ".join(text[figure.counted[0]:figure.counted[1]].split()[:-1])
    if CJK.search(words):
        return not _FILLER_ZH.sub("", words)
    return all(w.lower() in LINK_WORDS | STOP_WORDS | {"respectively"} for w in re.findall(r"[A-Za-z]+", words))


def _guess(text: str, figure: Figure, before: str, after: str) -> str:
    """A few words to name an unnamed figure by: what is counted, or the words before it."""
    if CJK.search(before + after):
        return ""
    stop = LINK_WORDS | STOP_WORDS
    nouns = []
    words = re.findall(r"[A-Za-z]+", after)
    if figure.unit == "doubling":  # "a doubling of its forest area": what is doubled, as a multiple
        words = [w for w in words[1:] if w.lower() not in stop] and [*words[1:], "multiple"]
    for word in words:
        if word.lower() in stop and nouns:
            break
        if word.lower() not in stop:
            nouns.append(word)
    if figure.base.kind == "count" and nouns:
        return slug(" ".join(nouns[:3]), "_")
    words = re.findall(r"[A-Za-z][\w-]*", before.split(",")[-1])
    while words and words[-1].lower() in stop:
        words.pop()
    picked = []
    while words and len(picked) < 3 and words[-1].lower() not in stop:
        picked.insert(0, words.pop())
    picked = picked or nouns[:3]
    key = slug(" ".join(picked), "_")
    return key if re.match(r"[a-z]", key) else ""


# Between a count and the programme phrase naming what it counts: level words, quotes, or a bracket
# ("6 national ... demonstration zones", "生态文明建设示范乡镇(街道)321个").
_COUNT_GAP = re.compile(r"^(?:\s|[\"'“”‘’]|national|municipal(?:-level)?|state-level|[(（][^)）]{0,8}[)）])*$", re.I)


def counted_phrase(text: str, figure: Figure, phrases: Sequence[Phrase]) -> Phrase | None:
    """The programme phrase a figure counts the holders of: "6 national ecological civilization
    construction demonstration zones", "“绿水青山就是金山银山”实践创新基地24个"."""
    if figure.base.kind != "count":
        return None
    return next((phrase for phrase in phrases if (figure.start < phrase.start <= figure.counted[1] or phrase.end <= figure.start)
                 and _COUNT_GAP.match(text[figure.counted[0]:phrase.start] if phrase.start > figure.start
                                      else text[phrase.end:figure.start])), None)


def programme_count_key(phrase: Phrase | None) -> str | None:
    """The key of a count of a title's holders: its programme, plural (national_eco_civ_demo_zones)."""
    return phrase.rule.programmes[phrase.levels[0]].replace("-", "_") + "s" if phrase else None


# --- targets and plans ---------------------------------------------------------------------------

_TARGET = re.compile(r"\b(?:aims?\s+to|aiming\s+to|target(?:s|ed)?|goal|strives?\s+to|striving\s+to|seeks?\s+to)\b"
                     r"|力争|目标|确保|争取", re.I)
_PLAN = re.compile(r"\b(?:will|plans?\s+to|planned|planning\s+to|is\s+expected\s+to|are\s+expected\s+to|"
                   r"by\s+(?:the\s+end\s+of\s+)?20\d\d)\b|计划|规划|预计|拟|将|到20\d\d年", re.I)


def figure_status(text: str, clause_start: int, figure: Figure) -> str | None:
    """target or plan when the words before a figure in its clause say so ("aims to", "力争";
    "will", "计划", "by 2027"), else None (achieved)."""
    before = text[clause_start:figure.start]
    if _TARGET.search(before):
        return "target"
    if _PLAN.search(before):
        return "plan"
    return None


# --- the place a figure is about ----------------------------------------------------------------

def refine(doc: Document, mention: Mention, sentence: Sequence[Mention]) -> str | None:
    """The place a figure is about, given the mention chosen for it. A district named beside one of
    its sites in the same sentence is the body acting for the site ("Beibei District has invested 55
    million yuan to build a smart Jinyun platform"), and so is a district in an article titled after
    one of its sites; "the district" said outright stays the district."""
    if mention.role != KNOWN or mention.place not in doc.atlas.places:
        return mention.place
    place = doc.atlas.places[mention.place]
    if place.kind not in ("district", "county"):
        return mention.place
    site = next((m.place for m in sentence if m.role == KNOWN and _in_district(doc, m.place, place.district)), None)
    if site is None and doc.title_place and _in_district(doc, doc.title_place, place.district):
        site = doc.title_place
    return site or mention.place


def _in_district(doc: Document, place_id: str, district: str) -> bool:
    place = doc.atlas.places.get(place_id)
    return place is not None and place.kind not in ("district", "county") and place.district == district


_LOCATOR = re.compile(r"^(?:,\s*|\s+)(?:(?:located|situated)\s+)?in\s+(?:the\s+)?$|^$")


def _located(doc: Document, text: str, clause: Sequence[Mention], chosen: Mention) -> Mention:
    """The place a district locates, when the district is named only to say where it is: "Jinfo
    Mountain in Nanchuan District covers ...", "南川区金佛山..." has Jinfo Mountain as subject."""
    if not doc.places.is_district(chosen):
        return chosen
    before = [m for m in clause if m.end <= chosen.start]
    after = [m for m in clause if m.start >= chosen.end]
    if before and not doc.places.is_district(before[-1]) and before[-1].place and _LOCATOR.match(
            text[before[-1].end:chosen.start]) and text[before[-1].end:chosen.start]:
        return before[-1]
    if after and not doc.places.is_district(after[0]) and after[0].place and after[0].start == chosen.end:
        return after[0]
    return chosen


def _nearest(pool: Sequence[Mention], start: int, end: int) -> Mention | None:
    before = [m for m in pool if m.end <= start]
    after = [m for m in pool if m.start >= end]
    return before[-1] if before else after[0] if after else None


_CLAUSE_BREAK = re.compile(r";|；|,\s+and\s+")


def clause_at(text: str, start: int, end: int, pos: int) -> tuple[int, int]:
    """The clause of the sentence [start, end) holding `pos`: reports pack several facts into one
    sentence, a clause each ("... has won the title of ..., and 23 towns (streets) ..."; Chinese
    clauses between semicolons)."""
    brackets = _brackets(text, start, end)
    for m in _CLAUSE_BREAK.finditer(text, start, end):
        if any(b0 < m.start() < b1 for b0, b1 in brackets):
            continue  # a list in brackets: "(Bishan, Yubei, and Chengkou)"
        if m.end() <= pos:
            start = m.end()
        elif m.start() >= pos:
            return start, m.start()
    return start, end


SUBJECT_ROLES = (KNOWN, ANAPHOR, CITY, OUTSIDE, REGION)
# Places in brackets list examples ("6 ... zones (Bishan, Yubei, ...) and 6 ... bases"); places
# after "including" are among those counted ("23 towns including Houba"): neither is a subject.
_BRACKETED = re.compile(r"[(（][^)）]*[)）]")
_MEMBERS = re.compile(r"[^.;。；]{0,40}?" + MEMBERS_EN + r"|[^。；]{0,10}?(?:包括|其中)")  # 其中 alone too: "其中万州区..."
# Chongqing named after a place only to say where it is: "Wanzhou, in northeast Chongqing, has ...",
# "Tongluo Flower Valley in the Nanan district of Chongqing covers ...".
_CITY_LOCATOR = re.compile(r"\b(?:in|of|across|within)\s+(?:the\s+)?(?:(?:north|south|east|west)*(?:ern)?\s+|central\s+)?$",
                           re.I)


def _brackets(text: str, start: int, end: int) -> list[tuple[int, int]]:
    if text.find("(", start, end) < 0 and text.find("（", start, end) < 0:
        return []  # most sentences: no search
    return [b.span() for b in _BRACKETED.finditer(text, start, end)]


def figure_place(doc: Document, index: int, figure: Figure) -> str | None:
    """The place a figure is about: the nearest place its clause names (before it, else after; new
    places only when no known one is there); else the subject of its paragraph, or of the one before
    when its own names none. Chongqing itself chosen so gives the seeds' place for the city as a
    whole (None if they have none); a region or a place outside Chongqing means the figure is about
    no place the atlas maps: None. Places after the figure are no subject when they are what it is
    measured against ("12% of Chongqing's clean energy supply") or among what it counts ("23 towns
    including Houba"), nor are places in brackets. A figure right after 等 ("A镇等8个乡镇") counts
    a group, not the place before."""
    para = doc.paragraphs[index]
    if para.text[max(0, figure.start - 1):figure.start] == "等":
        return None
    s0, s1 = para.sentences.at(figure.start)
    c0, c1 = clause_at(para.text, s0, s1, figure.start)
    sentence = [m for m in para.mentions if s0 <= m.start < s1]
    brackets = [b for b in _brackets(para.text, c0, c1) if not b[0] <= figure.start < b[1]]
    clause = [m for m in sentence if c0 <= m.start < c1 and (m.role not in UNMAPPED or m.end <= figure.start)]
    if brackets:
        clause = [m for m in clause if not any(b0 <= m.start < b1 for b0, b1 in brackets)]
    if clause and clause[-1].start >= figure.end and _MEMBERS.match(para.text, figure.end):
        clause = [m for m in clause if m.start < figure.end]
        sentence = [m for m in sentence if m.start < figure.end]  # nor does a member stand for its district
    clause = [m for i, m in enumerate(clause) if not (m.role == CITY and i and clause[i - 1].place is not None
                                                      and _CITY_LOCATOR.search(para.text, clause[i - 1].end, m.start))]
    for roles in (SUBJECT_ROLES, (NEW,)):
        pool = [m for m in clause if m.role in roles or (m.role == NEW and doc.places.is_district(m))]
        chosen = _nearest(pool, figure.start, figure.end)
        if chosen:
            return refine(doc, _located(doc, para.text, clause, chosen), sentence)
    for paragraph in doc.paragraphs[max(0, index - 1):index + 1][::-1]:
        subject = paragraph.subject()
        if subject:
            return refine(doc, subject, ())
    return None
