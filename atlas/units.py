"""Quantities: parse figures as the articles state them and normalise them to base units.

pint does the unit arithmetic; `units.txt` adds yuan, mu, scale words and counted nouns.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

# Base unit per kind of quantity, and the suffix exports put in field names (DESIGN.md).
BASE_UNITS = {
    "area": ("hectare", "ha"),
    "money": ("yuan", "cny"),
    "power": ("kilowatt", "kw"),
    "mass": ("tonne", "t"),
    "time": ("day", "days"),
    "percent": ("percent", "pct"),
    "count": ("count", "count"),
}

QUALIFIERS = (
    "more than", "over", "nearly", "almost", "about", "around", "approximately",
    "above", "below", "less than", "up to", "at least", "surpassed", "steadily above",
)

NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twenty": 20, "hundred": 100,
}
_NUMBER = r"(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|" + "|".join(NUMBER_WORDS) + r")"
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
    for kind in ("area", "money", "power", "mass", "time"):
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
    if not words and (scale or bare_unit):
        return Stated(value, " ".join(scale + [bare_unit or "count"]), qualifier)
    raise UnitError(f"no known unit in {text!r}")


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
