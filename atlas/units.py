"""Quantities: parse figures as the articles state them and normalise them to base units.

pint does the unit arithmetic; `units.txt` adds yuan, mu, scale words and counted nouns.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path

# Base unit per kind of quantity, and the suffix exports put in field names (DESIGN.md).
BASE_UNITS = {
    "area": ("hectare", "ha"),
    "money": ("yuan", "cny"),
    "power": ("kilowatt", "kw"),
    "mass": ("tonne", "t"),
    "time": ("day", "days"),
    "length": ("kilometer", "km"),
    "percent": ("percent", "pct"),
    "count": ("count", "count"),
}

QUALIFIERS = (
    "more than", "over", "nearly", "almost", "about", "around", "approximately",
    "above", "below", "less than", "up to", "at least", "surpassed", "steadily above", "some", "roughly",
)

_ONES = ("one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
         "seventeen eighteen nineteen").split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()


def _number_words() -> dict[str, int]:
    """English number words from one to ninety-nine ("ninety-five"), a / an, and hundred."""
    words = {"a": 1, "an": 1, "hundred": 100} | {w: i for i, w in enumerate(_ONES, 1)}
    for i, tens in enumerate(_TENS, 2):
        words[tens] = i * 10
        words |= {f"{tens}-{one}": i * 10 + j for j, one in enumerate(_ONES[:9], 1)}
    return words


NUMBER_WORDS = _number_words()
_NUMBER = (r"(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|"
           + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")(?![\w-])")
_QUALIFIER = r"(?:(?P<qualifier>" + "|".join(sorted(QUALIFIERS, key=len, reverse=True)) + r")\s+)?"
_STATED = re.compile(r"^\s*" + _QUALIFIER + _NUMBER + r"\s*(?P<rest>.*?)\s*$", re.IGNORECASE)


def _tons_are_tonnes(text: str) -> str:
    """Chinese reports mean metric tonnes by 'tons'; pint's `ton` is the short ton."""
    return re.sub(r"\btons?\b", "metric_ton", text)


@cache
def registry():
    """The shared pint registry, built once per process.

    Parsing pint's definitions takes a tenth of a second or more, most of a small render's
    own time; pint's disk cache (the user's cache directory) makes it a hundredth. A cache
    that cannot be read or written only costs that time: the registry is then built afresh."""
    import pint

    definitions = str(Path(__file__).with_name("units.txt"))
    try:
        ureg = pint.UnitRegistry(preprocessors=[_tons_are_tonnes], on_redefinition="raise", cache_folder=":auto:")
        ureg.load_definitions(definitions)
    except Exception:  # noqa: BLE001 - any failure of the cache; the uncached registry below is the same
        ureg = pint.UnitRegistry(preprocessors=[_tons_are_tonnes], on_redefinition="raise")
        ureg.load_definitions(definitions)
    return ureg


class UnitError(ValueError):
    """A unit pint cannot read, or one of a kind the atlas has no base unit for."""


@dataclass(frozen=True)
class Normalised:
    """A figure in its base unit: `value` in `unit`, of `kind` (a key of BASE_UNITS)."""

    value: float
    unit: str
    kind: str

    @property
    def suffix(self) -> str:
        return BASE_UNITS[self.kind][1]


def _kind(quantity) -> str:
    dims = quantity.dimensionality
    if not dims:
        return "percent" if "percent" in str(quantity.units) else "count"
    for kind in ("area", "money", "power", "mass", "time", "length"):
        if dims == registry().Quantity(1, BASE_UNITS[kind][0]).dimensionality:
            return kind
    raise UnitError(f"no base unit for quantities of dimension {dims}")


@lru_cache(maxsize=4096)
def _conversion(unit: str) -> tuple[float, str]:
    """How one `unit` converts to its base unit: (factor, kind). Cached, because pint parses a
    unit in tens of microseconds and a large atlas names the same few units many times."""
    try:
        quantity = registry().Quantity(1.0, unit)
        kind = _kind(quantity)
        return float(quantity.to(BASE_UNITS[kind][0]).magnitude), kind
    except UnitError:
        raise
    except Exception as exc:  # pint's parser raises many error types on arbitrary text
        raise UnitError(f"unknown unit {unit!r}") from exc


def normalise(value: float, unit: str) -> Normalised:
    """Convert `value` `unit` (a pint expression such as 'billion yuan') to its base unit.

    Every unit the atlas knows is a plain multiple of its base unit (no offsets as for
    temperatures), so converting is multiplying by the unit's factor."""
    factor, kind = _conversion(unit)
    converted = value * factor
    if not math.isfinite(converted):
        raise UnitError(f"{value} {unit} is not a finite quantity")
    return Normalised(round(converted, 6), BASE_UNITS[kind][0], kind)


@dataclass(frozen=True)
class Stated:
    """A figure read from text: number, the unit words after it, and any qualifier before it."""

    value: float
    unit: str
    qualifier: str | None


@lru_cache(maxsize=1 << 16)
def parse_stated(text: str, bare_unit: str | None = None) -> Stated:
    """Read '7,600 hectares', 'over 73%', 'nearly one million flowers and trees', ...

    The unit is the longest tail of the words after the number that pint understands, so
    '269 prominent environmental issues' reads as 269 issue (a count). A bare number ('steadily
    above 350', where the unit is in the words before it) reads in `bare_unit` when given.
    Cached: a large atlas states the same figures again and again ('over 90%', '300 days').
    """
    if _CJK.search(text):
        return _parse_chinese(text)
    match = _STATED.match(text.replace("%", " percent"))
    if not match:
        raise UnitError(f"no number in {text!r}")
    raw = match["number"].lower()
    value = float(NUMBER_WORDS[raw]) if raw in NUMBER_WORDS else float(raw.replace(",", ""))
    words = match["rest"].replace("-", " ").split()
    qualifier = match["qualifier"].lower() if match["qualifier"] else None
    scale = []
    while words and words[0].lower() in ("thousand", "million", "billion"):
        scale.append(words.pop(0).lower())
    for start in range(len(words)):
        unit = " ".join(scale + words[start:])
        try:
            normalise(1, unit)
        except UnitError:
            continue
        return Stated(value, unit, qualifier)
    if not words:  # "243" (the number of bird species), "1.2 million": counts, or the entry's unit
        return Stated(value, " ".join(scale + [bare_unit or "count"]), qualifier)
    raise UnitError(f"no known unit in {text!r}")


# --- Chinese statements ("约73%", "200多萬畝", "20亿元", "百分之七十"), simplified or traditional --------

_CJK = re.compile(r"[\u3400-\u9fff]")
# Qualifiers before the number and after it ("300余", "200多万", "90%以上"), as the English ones.
ZH_QUALIFIERS_BEFORE = {"超过": "more than", "超過": "more than", "逾": "over", "近": "nearly", "将近": "nearly",
                        "將近": "nearly", "接近": "nearly", "约": "about", "約": "about", "大约": "about",
                        "大約": "about", "达": None, "達": None, "共": None, "累计": None, "累計": None}
ZH_QUALIFIERS_AFTER = {"多": "more than", "余": "more than", "餘": "more than", "以上": "over", "左右": "about"}
ZH_SCALES = {"万亿": 10**12, "萬億": 10**12, "千万": 10**7, "千萬": 10**7, "百万": 10**6, "百萬": 10**6,
             "万": 10**4, "萬": 10**4, "亿": 10**8, "億": 10**8, "千": 10**3}
# Chinese units as pint expressions; measure words of counted things are counts.
ZH_UNITS = {
    "平方公里": "square kilometer", "平方千米": "square kilometer", "平方米": "square meter", "公顷": "hectare",
    "公頃": "hectare", "亩": "mu", "畝": "mu", "公里": "kilometer", "千米": "kilometer", "米": "meter",
    "元": "yuan", "吨": "metric_ton", "噸": "metric_ton", "千瓦": "kilowatt", "兆瓦": "megawatt", "天": "day",
    "%": "percent", "％": "percent",
    **dict.fromkeys("个個家项項座户戶人名种種处處只隻株棵所条條头頭辆輛艘", "count"), "人次": "count",
}
_ZH_NUMERAL = "零〇一二两兩三四五六七八九十百千万萬亿億点點"
_ZH_STATED = re.compile(
    r"^\s*(?P<before>" + "|".join(sorted(ZH_QUALIFIERS_BEFORE, key=len, reverse=True)) + r")?\s*"
    r"(?:(?P<percent_of>百分之)(?P<pnum>[" + _ZH_NUMERAL + r"]+|\d+(?:\.\d+)?)"
    r"|(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|[" + _ZH_NUMERAL + r"]+?)\s*"
    r"(?P<mid>多|余|餘)?(?P<scale>" + "|".join(sorted(ZH_SCALES, key=len, reverse=True)) + r")?\s*"
    r"(?P<unit>" + "|".join(sorted(ZH_UNITS, key=len, reverse=True)) + r"))"
    r"\s*(?P<after>以上|左右)?\s*$")
_TRADITIONAL_NUMERALS = str.maketrans("萬億兩點〇", "万亿两点零")


def chinese_numeral(text: str) -> Decimal:
    """A number in Chinese numerals ("一百二十", "两千", "三点五") or digits, exactly."""
    if re.fullmatch(r"[\d,]+(?:\.\d+)?", text):
        return Decimal(text.replace(",", ""))
    import cn2an  # well kept, and slow to import: only articles in Chinese need it

    try:
        return Decimal(str(cn2an.cn2an(text.translate(_TRADITIONAL_NUMERALS), "smart")))
    except (ValueError, KeyError, TypeError) as exc:
        raise UnitError(f"{text!r} is not a number") from exc


def english_scale(value: Decimal, unit: str) -> tuple[float, str]:
    """A value stated with 万 or 亿 as English reports give it: 2e9 yuan -> 2 billion yuan."""
    for word, size in (("billion", Decimal(10**9)), ("million", Decimal(10**6))):
        if unit not in ("percent",) and abs(value) >= size and (value / size) == round(value / size, 4):
            return float(value / size), f"{word} {unit}"
    return float(value), unit


def _parse_chinese(text: str) -> Stated:
    match = _ZH_STATED.match(text)
    if not match:
        raise UnitError(f"no number with a known unit in {text!r}")
    qualifier = ZH_QUALIFIERS_BEFORE.get(match["before"]) if match["before"] else None
    if match["percent_of"]:
        return Stated(float(chinese_numeral(match["pnum"])), "percent", qualifier)
    value = chinese_numeral(match["number"]) * ZH_SCALES.get(match["scale"], 1)
    qualifier = qualifier or ZH_QUALIFIERS_AFTER.get(match["mid"] or match["after"] or "")
    number, unit = english_scale(value, ZH_UNITS[match["unit"]])
    return Stated(number, unit, qualifier)


UNIT_SYMBOLS = {"hectare": "ha", "kilowatt": "kW", "tonne": "t"}


def format_number(value: float) -> str:
    """A figure's number with thousands separators, at most four decimals and no trailing zeros:
    7600.0 -> "7,600", 98.6 -> "98.6", a converted 666.666666... mu-in-hectares -> "666.6667"."""
    return f"{value:,.4f}".rstrip("0").rstrip(".")


def in_base_unit(value: float, unit: str, base_value: float, base_unit: str) -> str | None:
    """The figure in its base unit where that tells a reader more than the stated one does
    ("62 ha" for 620,000 square meters; "239,300,000,000 yuan" for 239.3 billion yuan); None for
    counts, shares, and figures already stated in their base unit."""
    if base_unit in ("count", "percent") or (unit == base_unit and value == base_value):
        return None
    return f"{format_number(base_value)} {UNIT_SYMBOLS.get(base_unit, base_unit)}"
