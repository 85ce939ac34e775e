"""Numbers with units in English and Chinese, as articles state them ("7,600 hectares", "nearly
one million flowers and trees", "Ninety-five percent", "约73%", "200多万亩", "20亿元", "百分之七十"),
and years ("2023", "2023年"). `units.parse_stated` reads what this module finds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pint.errors import UndefinedUnitError

from .. import units
from ..load import YEARS
from .vocabulary import names_pattern

ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
            "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12}
_YEAR = re.compile(r"(?<![\d.])(?<!\d,)(?:19|20)\d\d(?![\d,]\d)")

# units' own number words, so whatever `parse_stated` reads, the search finds.
_FIGURE = re.compile(
    r"(?:(?P<qualifier>" + names_pattern(units.QUALIFIERS) + r")\s+)?"
    r"(?P<number>(?<![A-Za-z0-9_.,+-])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w-])|(?:"
    + names_pattern(units.NUMBER_WORDS) + r")(?!-))"
    r"(?P<scale>(?:\s+(?:thousand|million|billion)\b)*)(?P<percent>%|\s+percent\b|\s+per\s+cent\b)?")
# A word before a unit, quoted or not ('6 "Two Mountains" practice and innovation bases').
_UNIT_WORD = re.compile(r"\s*[\"“”]?([A-Za-z]+(?:[-'’][A-Za-z]+)*)[\"“”]?")
MAX_WORDS_BEFORE_UNIT = 6
QUOTES = tuple("'\"‘“")
# The units a figure may be stated in (pint's names); counted nouns come from units.txt.
FIGURE_UNITS = frozenset(("hectare", "mu", "acre", "meter ** 2", "kilometer ** 2", "yuan", "watt", "kilowatt",
                          "megawatt", "gigawatt", "metric_ton", "tonne", "kilogram", "day", "percent", "kilometer",
                          "doubling"))

_ZH_NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[一二两三四五六七八九十百千万亿零〇点]{2,}|[一二两三四五六七八九十]"
_ZH_FIGURE = re.compile(
    r"(?P<qualifier>" + "|".join(sorted((q for q in units.ZH_QUALIFIERS_BEFORE if units.ZH_QUALIFIERS_BEFORE[q]),
                                        key=len, reverse=True)) + r")?"
    r"(?:百分之(?:[一二两三四五六七八九十百零点]+|\d+(?:\.\d+)?)"
    r"|(?<![\d.,])(?:" + _ZH_NUMBER + r")\s*(?:多|余)?(?:万亿|千万|百万|万|亿|千)?\s*"
    r"(?P<unit>" + "|".join(sorted(units.ZH_UNITS, key=len, reverse=True)) + r"))(?:以上|左右)?")


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
        stem = word[:-1]
        registry = units.registry()
        return word.endswith("s") and registry.get_symbol(stem) == stem and registry.get_name(stem) != stem
    except UndefinedUnitError:
        return False


@cache
def unit_name(words: str) -> str | None:
    """pint's name for `words` when they are a unit a figure may be stated in, else None."""
    if words.lower() in ("type", "types"):
        return "type" if words.lower() == "types" else None  # "120 types of trees": a count of kinds
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
    counted: tuple[int, int]  # the words naming what is counted or measured (after the number), for keys


def _unit_end(text: str, pos: int) -> tuple[int, list[str]] | None:
    """The end of the first unit within a few words after `pos`, and those words up to it."""
    words: list[tuple[str, int]] = []
    while len(words) <= MAX_WORDS_BEFORE_UNIT and (m := _UNIT_WORD.match(text, pos)):
        words.append((m.group(1), m.end()))
        pos = m.end()
        if len(words) > 1 and unit_name(f"{words[-2][0]} {m.group(1)}"):
            return pos, [w for w, _ in words[-2:]]  # "square kilometers" before "kilometers"
        if unit_name(m.group(1)):
            return pos, [w for w, _ in words[-1:]]
    return None


def _figure(text: str, start: int, end: int, counted: tuple[int, int], original: str) -> Figure | None:
    stated = original[start:end]
    try:
        parsed = units.parse_stated(stated)
        base = units.normalise(parsed.value, parsed.unit)
    except units.UnitError:
        return None
    return Figure(start, end, stated, parsed.value, parsed.unit, parsed.qualifier, base, counted)


# "the number of bird species ... from 144 to 243": bare numbers that count what "the number of" names.
_NUMBER_OF = re.compile(r"\b[Tt]he number of ((?:[\w-]+\s+){0,3}?[\w-]+?)\b(?=\s+(?:in|at|around|on|of|has|have|is|was|rose|grew|increased|reached)\b)")
_BARE = re.compile(r"(?<![\w.,])(?:\d{1,3}(?:,\d{3})+|\d+)(?![\w%]|[.,]\d)(?!\s+(?:percent|per cent|years?)\b)")


def find_figures(text: str, original: str | None = None) -> list[Figure]:
    """Numbers with units, multipliers and qualifiers, in English ("7,600 hectares", "239.3 billion
    yuan", "over 73%", "nearly one million flowers and trees", "6,000 mu", "335 days") and Chinese
    ("约73%", "325天", "20亿元"); `original` is the text as written (traditional Chinese), at the same
    offsets as `text` (read as simplified), for `stated`."""
    original = original or text
    figures = []
    lowered = text.lower()  # the pattern is in lower case: much faster than matching ignoring case
    for m in _FIGURE.finditer(lowered if len(lowered) == len(text) else text):
        scale = m.group("scale").lower().split()
        number = text[m.start("number"):m.end("number")]
        a = number.lower() in ("a", "an") and not scale
        if a and text[m.end():m.end() + 9].lower() != " doubling" or text[m.start() - 1:m.start()] in QUOTES:
            continue  # "a" alone is no number (but "a doubling" is); a quoted one opens a slogan
        if number.isalpha() and re.match(r"\s+[A-Z]", text[m.end("number"):]):
            continue  # a number word starting a name: "Three Gorges", "Two Rivers and Four Banks"
        if m.group("percent"):
            end, unit_words = m.end(), ["percent"]
        elif (found := _unit_end(text, m.end())) is not None:
            end, unit_words = found
        else:
            continue
        if a != (unit_words == ["doubling"]):
            continue  # only "a doubling" is one
        figure = _figure(text, m.start(), end, (m.end(), end), original)
        if figure is None:
            continue
        if m.group("percent") is None and figure.unit != " ".join(scale + unit_words).replace("-", " "):
            continue  # the parser read other words as units: not a figure we can trust
        figures.append(figure)
    for m in _ZH_FIGURE.finditer(text):
        if re.match(r"[年月日号届次批]", text[m.end():m.end() + 1]) and m.group("unit") not in ("%", "％"):
            continue
        figure = _figure(text, m.start(), m.end(), (m.end(), m.end()), original)
        if figure is not None:
            figures.append(figure)
    figures += _counted_by_number_of(text, original, {f.start for f in figures})
    kept: list[Figure] = []
    for figure in sorted(figures, key=lambda f: (f.start, -f.end)):
        if (not kept or figure.start >= kept[-1].end) and not _PER.search(text, max(0, figure.start - 8), figure.start):
            kept.append(figure)
    return kept


# A figure after "per" or 每 is what another is measured by ("energy consumption per 10,000 yuan
# of GDP", "每万元GDP能耗"), not a figure of its own.
_PER = re.compile(r"(?:\bper|每|单位)\s*$", re.I)


def _counted_by_number_of(text: str, original: str, taken: set[int]) -> list[Figure]:
    out = []
    for m in _NUMBER_OF.finditer(text):
        clause_end = min((i for i in (text.find(". ", m.end()), text.find(";", m.end())) if i >= 0), default=len(text))
        for n in _BARE.finditer(text, m.end(), clause_end):
            if n.start() not in taken and not _YEAR.fullmatch(n.group()):
                if figure := _figure(text, n.start(), n.end(), m.span(1), original):
                    out.append(figure)
    return out


def year_near(text: str, start: int, end: int, pos: int) -> int | None:
    """The year a fact is about: the nearest year before it in its sentence, else the nearest after."""
    years = [(m.start(), int(m.group())) for m in _YEAR.finditer(text, start, end) if YEARS[0] <= int(m.group()) <= YEARS[1]]
    before = [y for p, y in years if p < pos]
    after = [y for p, y in years if p >= pos]
    return before[-1] if before else after[0] if after else None
