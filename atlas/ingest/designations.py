"""Designations: programme phrases (from vocabulary.yaml, English and Chinese) with their level,
batch ("the fifth batch", "5th", "第五批") and year, and the places each names, alone or listed
together ("A, B and C were named ...", "九龙坡区、开州区、忠县被命名为...", "... zones (Bishan, Beibei)",
a notice's list of "X区:A镇、B镇" under its heading)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from ..load import BATCHES
from .numbers import ORDINALS
from .places import MEMBERS_EN, MEMBERS_ZH, NEW, Mention
from .reading import CJK
from .vocabulary import alternation, vocabulary, zh_pattern

if TYPE_CHECKING:
    from .document import Document, Paragraph


@dataclass(frozen=True)
class ProgrammeRule:
    """A way reports phrase a programme, and its programme id by level (first: the default)."""

    pattern: re.Pattern
    programmes: Mapping[str, str]


@cache
def any_programme() -> re.Pattern:
    """Every rule's phrasings in one pattern: most paragraphs name no programme, and one pass says so."""
    return re.compile("|".join(alternation(p.get("en"), p.get("zh")) for p in vocabulary()["programmes"]), re.I)


@cache
def programme_rules() -> tuple[ProgrammeRule, ...]:
    return tuple(ProgrammeRule(re.compile(alternation(p.get("en"), p.get("zh")), re.I), p["ids"])
                 for p in vocabulary()["programmes"])


@cache
def programme_names() -> dict[str, dict]:
    """What vocabulary.yaml says of programmes seeds/ may lack: id -> name_en, name_zh, level."""
    out = {}
    for p in vocabulary()["programmes"]:
        for level, ident in p["ids"].items():
            if "name_en" in p:
                out[ident] = {"id": ident, "name_en": p["name_en"], "name_zh": p.get("name_zh"), "level": level}
    return out


# A level named right after the phrase ("... bases in Chongqing City", "... of the Ministry of ...").
_LEVEL_AFTER = re.compile(r"\s*(?:in|of)\s+(?:the\s+)?(?:(Chongqing)|(Ministry|State|country|nation))\b", re.I)


@cache
def _level_before() -> re.Pattern:
    levels = vocabulary()["levels"]
    return re.compile("|".join(f"(?P<{level}>{alternation(words.get('en'), words.get('zh'))})"
                               for level, words in levels.items()), re.I)


# "the nation's first and the municipality's inaugural ... zones": both levels.
_BOTH_LEVELS = re.compile(r"^\s*\w+\s+and\s+(?:the\s+)?$")
_BATCH = re.compile(r"\b(?:(" + "|".join(ORDINALS) + r")|(\d{1,2})(?:st|nd|rd|th))\s+batch\b|第([一二三四五六七八九十]+|\d{1,2})批",
                    re.I)
_BRACKETS = re.compile(r"\s*[(（]([^)）]*)[)）]")
_LOCATOR = re.compile(r"^,?\s*(?:located\s+)?in\s+(?:the\s+)?$|^['’]s\s+$|^$")


@dataclass(frozen=True)
class Phrase:
    """A programme phrase in a paragraph, with the levels the words round it give."""

    start: int
    end: int
    rule: ProgrammeRule
    levels: tuple[str, ...]
    reach: int  # the end of a bracketed list of places right after it, else `end`


def phrase_levels(text: str, start: int, end: int, sentence_start: int, rule: ProgrammeRule) -> tuple[str, ...]:
    """The level(s) of a phrase: a level named just after it, else the nearest level word before it in
    its sentence (two, when coordinated: "the nation's first and the municipality's"), else the
    rule's default. Programmes with one level keep it."""
    if len(rule.programmes) == 1:
        return tuple(rule.programmes)
    after = _LEVEL_AFTER.match(text, end)
    if after:
        return ("municipal",) if after.group(1) else ("national",)
    markers = [m for m in _level_before().finditer(text, sentence_start, end) if m.start() < end]
    if not markers:
        return (next(iter(rule.programmes)),)
    levels = [markers[-1].lastgroup]
    if len(markers) > 1 and _BOTH_LEVELS.match(text[markers[-2].end():markers[-1].start()]):
        levels.insert(0, markers[-2].lastgroup)
    return tuple(level for level in dict.fromkeys(levels) if level in rule.programmes) or (next(iter(rule.programmes)),)


@cache
def _generic_zh() -> tuple[re.Pattern, re.Pattern]:
    words = vocabulary()["generic_zh"]
    after = re.compile(r"(?:[(（][^)）]{0,6}[)）])?(?:" + "|".join(zh_pattern(w) for w in words["after"]) + ")")
    before = re.compile("(?:" + "|".join(zh_pattern(w) for w in words["before"]) + r")(?:[^，,。；;]{0,12})$")
    return after, before


def is_generic(text: str, start: int, end: int) -> bool:
    """Whether a phrase names a kind of thing rather than a title held: after "a" or "an" ("taking
    the establishment of an ecological civilization construction demonstration zone as the starting
    point"), unless after "as a" ("selected as a national EOD pilot"), or between "the" and "site"
    ("safeguard the World Natural Heritage site"); in Chinese, before 考核 or 标准
    ("达到生态乡镇考核指标要求") or after 争创 ("积极争创国家生态乡镇")."""
    if CJK.search(text, start, end):
        after, before = _generic_zh()
        return bool(after.match(text, end) or before.search(text[max(0, start - 20):start]))
    words = re.findall(r"[\w'’-]+", text[max(0, start - 40):start])
    while words and words[-1].lower() in ("national", "municipal", "municipal-level", "state-level"):
        words.pop()
    if words and words[-1].lower() == "the" and re.match(r"\s+(?:site|area|property)\b", text[end:end + 10]):
        return True  # "safeguard the World Natural Heritage site": a place spoken of, not a title given
    return bool(words) and words[-1].lower() in ("a", "an") and (len(words) < 2 or words[-2].lower() not in TITLE_VERBS)


# "named a national ... zone": after these, "a" introduces a title held.
TITLE_VERBS = frozenset("as named became become becomes designated awarded rated recognized recognised selected "
                        "listed approved honored honoured crowned".split())


def find_phrases(text: str, sentences) -> tuple[Phrase, ...]:
    """Programme phrases in a paragraph naming titles held, the first rule winning where two overlap."""
    found: list[Phrase] = []
    if not any_programme().search(text):
        return ()
    for rule in programme_rules():
        for m in rule.pattern.finditer(text):
            if all(m.end() <= p.start or m.start() >= p.reach for p in found) and not is_generic(text, m.start(), m.end()):
                s0, _ = sentences.at(m.start())
                brackets = _BRACKETS.match(text, m.end())
                found.append(Phrase(m.start(), m.end(), rule, phrase_levels(text, m.start(), m.end(), s0, rule),
                                    brackets.end() if brackets else m.end()))
    return tuple(sorted(found, key=lambda p: p.start))


_ZH_DIGITS = {c: i for i, c in enumerate("一二三四五六七八九", 1)}


def _zh_ordinal(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _ZH_DIGITS.get(text[1:], 0)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _ZH_DIGITS.get(tens, 0) * 10 + (_ZH_DIGITS.get(ones, 0) if ones else 0)
    return _ZH_DIGITS.get(text)


def batch_in(text: str) -> int | None:
    """The batch the words before a phrase give ("the fifth batch of", "the 6th batch", "第五批")."""
    for m in reversed(list(_BATCH.finditer(text))):
        word, digits, chinese = m.groups()
        batch = ORDINALS[word.lower()] if word else int(digits) if digits else _zh_ordinal(chinese)
        if batch and BATCHES[0] <= batch <= BATCHES[1]:
            return batch
    return None


_BATCH_AFTER = re.compile(r"[^.;。；]{0,40}?\b(?:in|of|as)\s+(?:the|its)\s+((?:\w+)\s+batch)\b", re.I)


def batch_after(text: str, phrase: Phrase) -> int | None:
    """A batch named just after a phrase: "... zone in the seventh batch"."""
    m = _BATCH_AFTER.match(text, phrase.reach)
    return batch_in(m.group(1)) if m else None


def clause_start(para: Paragraph, phrase: Phrase) -> tuple[int, int]:
    """Where the words that lead into a phrase begin: after the previous phrase of its sentence
    (or the sentence start), and after the last semicolon (the clause start); both are returned."""
    s0, _ = para.sentences.at(phrase.start)
    previous_end = max([p.reach for p in para.phrases if s0 <= p.reach <= phrase.start] + [s0])
    semicolon = max(para.text.rfind(";", s0, phrase.start), para.text.rfind("；", s0, phrase.start))
    return previous_end, max(previous_end, semicolon + 1)


def designation_places(doc: Document, index: int, phrase: Phrase, inherited: tuple[str, ...],
                       counted: bool = False) -> tuple[tuple[str, ...], bool]:
    """The places a programme phrase names, and whether a next phrase in the sentence may share them:
    the place whose name holds the phrase ("Jinyun Mountain National Nature Reserve"); else a list in
    brackets right after it ("... zones (Bishan, Yubei, Beibei, ...)"); else the places named before
    it in its clause, less those locating another ("the Apeng River Basin in Qianjiang District",
    "黔江区阿蓬江流域"), or the ones a previous phrase of the sentence took ("won the national health
    county, ... and China's natural oxygen bar"); else, after "it" / 其, the paragraph's subject;
    else the nearest named after it in its clause. A place outside Chongqing before the phrase
    means the title is not one the atlas maps: none; a phrase a figure counts goes to its list in
    brackets or the places after "including" / 包括, never to the subject."""
    para = doc.paragraphs[index]
    text = para.text
    mentions = [m for m in para.mentions if m.role not in ("city", "region")]
    s0, s1 = para.sentences.at(phrase.start)

    def mapped(pool: list[Mention]) -> list[Mention]:
        known = [m for m in pool if m.role != NEW or doc.places.is_district(m)]
        return [m for m in (known or pool) if m.place is not None]

    holder = [m.place for m in mentions if m.role == "known" and m.start <= phrase.start and phrase.end <= m.end]
    if holder:
        return tuple(holder), False
    brackets = _BRACKETS.match(text, phrase.end)
    if brackets:
        listed = mapped([m for m in mentions if brackets.start(1) <= m.start < brackets.end(1)])
        if listed:
            return tuple(dict.fromkeys(m.place for m in listed)), False
    if counted:  # a count of the title's holders: those it names after "including" hold it
        members = _MEMBERS_AFTER.search(text, phrase.end, s1)
        listed = mapped([m for m in mentions if members and members.end() <= m.start < s1
                         and not doc.places.is_district(m)])
        return tuple(dict.fromkeys(m.place for m in listed)), False
    previous_end, clause = clause_start(para, phrase)
    segment = [m for m in mentions if clause <= m.start and m.end <= phrase.start]
    subjects = [m for i, m in enumerate(segment)
                if not (i + 1 < len(segment) and doc.places.is_district(m) and not doc.places.is_district(segment[i + 1])
                        and _LOCATOR.match(text[m.end:segment[i + 1].start]))
                and not (i and _LOCATOR.match(text[segment[i - 1].end:m.start]) and doc.places.is_district(m))]
    if subjects and any(m.role == "outside" for m in subjects) and not mapped(subjects):
        return (), False
    if subjects := mapped(subjects):
        return tuple(dict.fromkeys(m.place for m in subjects)), True
    if inherited and clause == previous_end > s0:
        return inherited, True
    if re.search(r"\b[Ii]ts?\b|其", text[s0:phrase.start]):
        subject = para.subject() or (doc.paragraphs[index - 1].subject() if index else None)
        if subject and subject.place is not None:
            return (subject.place,), True
    after = mapped([m for m in mentions if phrase.end <= m.start < s1])
    return ((after[0].place,), False) if after else ((), False)


_MEMBERS_AFTER = re.compile(f"{MEMBERS_EN}|{MEMBERS_ZH}")


LIST_LINE = re.compile(r"^[\u4e00-\u9fff]{1,12}(?:区|县)\s*[:：]")
LIST_HEADING = re.compile(r"名单|名录|[:：]\s*$|\blist\b", re.I)


MAX_LIST_LINES = 200


def list_heading(paragraphs: Sequence[Paragraph], index: int) -> tuple[Paragraph, Phrase] | None:
    """The heading paragraph and phrase a list line ("合川区:钱塘镇、太和镇") stands under: the last
    phrase of the nearest paragraph before it that is not a list line (at most MAX_LIST_LINES
    back), when that one announces a list (名单, 名录, "list", or ends with a colon)."""
    para = paragraphs[index]
    if not LIST_LINE.match(para.text) or para.phrases:
        return None
    for before in paragraphs[max(0, index - MAX_LIST_LINES):index][::-1]:
        if LIST_LINE.match(before.text):
            continue
        if before.phrases and LIST_HEADING.search(before.text):
            return before, before.phrases[-1]
        return None
    return None
