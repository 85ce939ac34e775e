"""Field-by-field checks of YAML entries, shared by every file the atlas reads (seeds, layers).

Besides each field's own type and check, every value meets the rules any text or number must
meet to travel safely to every output: texts of at most `TEXT_MAX` characters, free of control
characters, lone surrogates and line or direction overrides, not starting like a spreadsheet
formula; finite numbers; lists and mappings of at most `ITEMS_MAX` items.
"""

from __future__ import annotations

import math
import re
import reprlib
from dataclasses import dataclass
from typing import Any, Callable

from .errors import Problem
from .yamlio import MAX_DEPTH, Node

STR, INT, NUM, LIST, DICT, BOOL = (str,), (int,), (int, float), (list,), (dict,), (bool,)
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z")  # \Z, not $: "$" also matches before a final newline
TEXT_MAX = 1_000  # characters in any one text; the longest the bundled data holds is 344
ID_MAX = 100  # characters in an id: ids become file names (places/<id>.html)
ITEMS_MAX = 1_000  # items in any one list or mapping value
# What a text may not hold: C0 and C1 controls (NUL, newline, ESC...), line and paragraph
# separators, bidirectional overrides (text that displays other than it reads), byte-order
# marks and non-characters, and lone surrogates (no UTF-8 writer can encode them).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff\ud800-\udfff]")
FORMULA_STARTS = "=+-@"  # a cell starting so is a formula to Excel and LibreOffice (CSV injection)
# Names Windows keeps for devices in every folder: a file `con.html` cannot be opened there.
WINDOWS_RESERVED = frozenset(("con", "prn", "aux", "nul", *(f"{port}{n}" for port in ("com", "lpt") for n in range(10))))
_SHORT = reprlib.Repr()
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlevel = 60, 60, 2


def short(value: Any) -> str:
    """A value as problems quote it: cut short, whatever its size or depth (an alias bomb too)."""
    return _SHORT.repr(value)


def text_problem(text: str) -> str | None:
    """Why a text cannot go into the atlas, or None."""
    if len(text) > TEXT_MAX:
        return f"is {len(text):,} characters long; at most {TEXT_MAX:,}"
    found = _UNSAFE.search(text)
    if found:
        char = found.group()
        what = "a lone surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
        return f"holds {what} (U+{ord(char):04X}) at character {found.start() + 1}"
    if text[:1] and text[0] in FORMULA_STARTS:
        return (f"starts with {text[0]!r}, which a spreadsheet reads as a formula"
                + (" (write a minus sign as U+2212 \u2212)" if text[0] == "-" else ""))
    return None


def value_problem(value: Any) -> str | None:
    """Why a value (a text, a number, or a list or mapping of them) cannot go into the atlas."""
    found = unsafe_part(value)
    return None if found is None else f"{found[0]}: {found[1]}" if found[0] else found[1]


def unsafe_part(value: Any, depth: int = 0) -> tuple[str, str] | None:
    """Where in a value (`.en`, `[2]`, or "" for the value itself) it breaks the rules, and why."""
    kind = type(value)
    if kind is str:
        if not value or (len(value) <= TEXT_MAX and value.isprintable() and value[0] not in FORMULA_STARTS):
            return None  # the common case, at C speed (isprintable() is stricter than _UNSAFE)
        problem = text_problem(value)
        return None if problem is None else ("", problem)
    if kind is float:
        return None if math.isfinite(value) else ("", f"must be a finite number, got {value!r}")
    if isinstance(value, (list, dict)):
        if len(value) > ITEMS_MAX:
            return "", f"holds {len(value):,} items; at most {ITEMS_MAX:,}"
        if depth >= MAX_DEPTH:
            return "", f"nested more than {MAX_DEPTH} levels deep"
        items = enumerate(value) if isinstance(value, list) else [*((k, k) for k in value), *value.items()]
        for at, item in items:
            found = unsafe_part(item, depth + 1)
            if found:
                step = f".{at}" if isinstance(at, str) and at.isidentifier() else f"[{short(at)}]"
                return step + found[0], found[1]
    return None


def type_name(value: Any) -> str:
    """A value's type as problems name it (a YAML mapping is a dict, whatever class holds it)."""
    return "dict" if isinstance(value, dict) else type(value).__name__


def file_name_problem(ident: str) -> str | None:
    """Why an id cannot name a file on every system, or None."""
    if len(ident) > ID_MAX:
        return f"is {len(ident):,} characters long; an id has at most {ID_MAX}"
    if ident.lower() in WINDOWS_RESERVED:
        return f"{ident!r} is a device name on Windows, where a file of that name cannot be opened"
    return None


@dataclass(frozen=True)
class Field:
    """One field of a seed entry: its type(s), whether it must be there, and an extra check."""

    types: tuple[type, ...]
    required: bool = True
    check: Callable[[Any], str | None] | None = None


def one_of(options) -> Callable[[Any], str | None]:
    allowed = frozenset(options)  # options are texts or numbers, and so is a checked value
    return lambda v: None if v in allowed else f"must be one of {', '.join(map(str, options))}; got {short(v)}"


def matches(pattern: re.Pattern, what: str) -> Callable[[Any], str | None]:
    """The whole value matches (fullmatch: a pattern ending in `$` would let a final newline by)."""
    whole = pattern.fullmatch
    return lambda v: None if whole(v) else f"{short(v)} is not {what}"


def in_range(bounds: tuple[int, int], what: str) -> Callable[[Any], str | None]:
    low, high = bounds
    return lambda v: None if low <= v <= high else f"{what} {v} is outside {low}..{high}"


def finite(v: float) -> str | None:
    return None if math.isfinite(v) else f"must be a finite number, got {v!r}"


def not_blank(v: str) -> str | None:
    return None if v and not v.isspace() else "must not be blank"


class Collector:
    """Gathers problems for one file, each tied to an entry and a field."""

    def __init__(self, label: str):
        self.label = label
        self.problems: list[Problem] = []

    def add(self, entry: Node | None, name: str, fieldname: str, message: str, key: str | None = None) -> None:
        """One problem with `entry.fieldname` (a path such as `style.color` names its `key`)."""
        line = entry.line_of(key or fieldname) if isinstance(entry, Node) else None
        self.problems.append(Problem(self.label, line, name, fieldname, message))


_COMPILED: dict[int, tuple[frozenset[str], dict[str, tuple]]] = {}


def _compiled(schema: dict[str, Field]) -> tuple[frozenset[str], dict[str, tuple]]:
    """The schema's required field names, and per field (types, whether a bool is one, check),
    worked out once (schemas are module constants: cached by identity)."""
    found = _COMPILED.get(id(schema))
    if found is None:
        found = _COMPILED[id(schema)] = (frozenset(k for k, spec in schema.items() if spec.required),
                                         {k: (spec.types, bool in spec.types, spec.check) for k, spec in schema.items()})
    return found


def check_entry(schema: dict[str, Field], entry: Any, name: str, out: Collector) -> bool:
    """Check one entry against its schema and the rules every value meets; True when it is
    sound enough to build.

    Only the fields an entry has are looked at, and a value of exactly a listed type passes
    at once: a seed file can hold 100,000 entries."""
    if not isinstance(entry, dict):
        out.add(None, name, "", f"must be a mapping of fields, got {type_name(entry)}")
        return False
    required, rules = _compiled(schema)
    ok = True
    if not entry.keys() <= rules.keys():
        for fieldname in entry:
            if fieldname not in rules:
                out.add(entry, name, short(fieldname).strip("'"), f"unknown field (expected: {', '.join(schema)})")
                ok = False
    if not (required <= entry.keys() and None not in entry.values()):
        for fieldname in schema:
            if fieldname in required and entry.get(fieldname) is None:
                out.add(entry, name, fieldname, "missing required field")
                ok = False
    for fieldname, value in entry.items():
        rule = rules.get(fieldname)
        if rule is None or value is None:
            continue
        types, takes_bool, check = rule
        kind = type(value)
        if kind not in types and (isinstance(value, bool) != takes_bool or not isinstance(value, types)):
            expected = " or ".join(t.__name__ for t in types)
            out.add(entry, name, fieldname, f"must be {expected}, got {type_name(value)} {short(value)}")
            ok = False
            continue
        if kind is str:  # the common case inline, at C speed
            unsafe = None if (len(value) <= TEXT_MAX and value.isprintable() and value[:1] not in FORMULA_STARTS
                              ) else unsafe_part(value)
        else:
            unsafe = None if kind is int or kind is bool else unsafe_part(value)
        if unsafe:
            out.add(entry, name, fieldname + unsafe[0], unsafe[1], fieldname)
            ok = False
            continue
        message = check(value) if check else None
        if message:
            out.add(entry, name, fieldname, message)
            ok = False
    return ok
