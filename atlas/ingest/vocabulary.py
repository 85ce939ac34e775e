"""The vocabulary ingest recognises (vocabulary.yaml beside this module), read once."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml

QUOTES_OR_SPACE = r"[\s\"'“”‘’「」『』]*"


@cache
def vocabulary() -> dict:
    return yaml.safe_load(Path(__file__).with_name("vocabulary.yaml").read_text("utf-8"))


def zh_pattern(word: str) -> str:
    """A Chinese word as a pattern that allows quotation marks or spaces between its characters
    (“绿水青山就是金山银山”实践创新基地 is 绿水青山就是金山银山实践创新基地)."""
    return QUOTES_OR_SPACE.join(re.escape(c) for c in word)


def alternation(en: list[str] | None, zh: list[str] | None) -> str:
    """English regexes and Chinese words as one alternation, longest Chinese first."""
    parts = [f"(?:{p})" for p in en or ()]
    parts += [zh_pattern(w) for w in sorted(zh or (), key=len, reverse=True)]
    return "|".join(parts)
