"""Field-by-field checks of YAML entries, shared by every file the atlas reads (seeds, layers)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable

from .errors import Problem
from .yamlio import Node

STR, INT, NUM, LIST, DICT, BOOL = (str,), (int,), (int, float), (list,), (dict,), (bool,)
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Field:
    """One field of a seed entry: its type(s), whether it must be there, and an extra check."""

    types: tuple[type, ...]
    required: bool = True
    check: Callable[[Any], str | None] | None = None


def one_of(options) -> Callable[[Any], str | None]:
    return lambda v: None if v in options else f"must be one of {', '.join(map(str, options))}; got {v!r}"


def matches(pattern: re.Pattern, what: str) -> Callable[[Any], str | None]:
    return lambda v: None if pattern.match(v) else f"{v!r} is not {what}"


def in_range(bounds: tuple[int, int], what: str) -> Callable[[Any], str | None]:
    low, high = bounds
    return lambda v: None if low <= v <= high else f"{what} {v} is outside {low}..{high}"


def finite(v: float) -> str | None:
    return None if math.isfinite(v) else f"must be a finite number, got {v!r}"


def not_blank(v: str) -> str | None:
    return None if v.strip() else "must not be blank"


class Collector:
    """Gathers problems for one file, each tied to an entry and a field."""

    def __init__(self, label: str):
        self.label = label
        self.problems: list[Problem] = []

    def add(self, entry: Node | None, name: str, fieldname: str, message: str) -> None:
        line = entry.line_of(fieldname) if isinstance(entry, Node) else None
        self.problems.append(Problem(self.label, line, name, fieldname, message))


_REQUIRED: dict[int, frozenset[str]] = {}


def _required(schema: dict[str, Field]) -> frozenset[str]:
    """The schema's required field names (schemas are module constants: cached by identity)."""
    found = _REQUIRED.get(id(schema))
    if found is None:
        found = _REQUIRED[id(schema)] = frozenset(k for k, spec in schema.items() if spec.required)
    return found


def check_entry(schema: dict[str, Field], entry: Any, name: str, out: Collector) -> bool:
    """Check one entry against its schema; True when it is sound enough to build.

    Only the fields an entry has are looked at, and a value of exactly a listed type passes
    at once: a seed file can hold 100,000 entries."""
    if not isinstance(entry, dict):
        out.add(None, name, "", f"must be a mapping of fields, got {type(entry).__name__}")
        return False
    ok = True
    if not entry.keys() <= schema.keys():
        for fieldname in entry:
            if fieldname not in schema:
                out.add(entry, name, str(fieldname), f"unknown field (expected: {', '.join(schema)})")
                ok = False
    if not (_required(schema) <= entry.keys() and None not in entry.values()):
        for fieldname, spec in schema.items():
            if spec.required and entry.get(fieldname) is None:
                out.add(entry, name, fieldname, "missing required field")
                ok = False
    for fieldname, value in entry.items():
        spec = schema.get(fieldname)
        if spec is None or value is None:
            continue
        if type(value) not in spec.types and (isinstance(value, bool) != (bool in spec.types)
                                              or not isinstance(value, spec.types)):
            expected = " or ".join(t.__name__ for t in spec.types)
            out.add(entry, name, fieldname, f"must be {expected}, got {type(value).__name__} {value!r}")
            ok = False
            continue
        message = spec.check(value) if spec.check else None
        if message:
            out.add(entry, name, fieldname, message)
            ok = False
    return ok
