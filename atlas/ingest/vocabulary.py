"""The vocabulary ingest recognises (vocabulary.yaml beside this module), read once."""

from __future__ import annotations

import re
from functools import cache
from collections.abc import Iterable
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


_SEP, _END = " ", ""
_SEP_PATTERN = r"[\s'’‘“”\"\-·]*"


def names_pattern(names: Iterable[str], boundary: bool = True) -> str:
    """Names as one pattern, a trie of their characters, so that a long list costs little more per
    character of text than a short one. Each name also matches other spacing, hyphens, apostrophes
    or quotes where it has any (as `geocode.normalise` folds them: "Nan'an", "Nanan"); the longest
    name wins at a position; word boundaries only at Latin edges (Chinese has no spaces), the one
    before a name left to the caller with `boundary=False` (the pattern then scans much faster)."""
    trie: dict = {}
    for name in names:
        tokens: list[str] = []
        for char in name.strip():
            if char.isalnum():
                tokens.append(char.lower())
            elif tokens and tokens[-1] != _SEP:
                tokens.append(_SEP)
        while tokens and tokens[-1] == _SEP:
            tokens.pop()
        if tokens:
            node = trie
            for token in tokens:
                node = node.setdefault(token, {})
            node[_END] = tokens[-1].isascii()

    def emit(node: dict) -> str:
        branches = [(_SEP_PATTERN if key == _SEP else re.escape(key)) + emit(node[key])
                    for key in sorted(node) if key != _END]
        if _END in node:
            branches.append(r"\b" if node[_END] else "")
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return "|".join((r"\b" if boundary and key.isascii() else "") + re.escape(key) + emit(trie[key])
                    for key in sorted(trie))
