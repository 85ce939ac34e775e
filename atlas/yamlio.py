"""Read YAML with line numbers kept, so every error can point at the line it is about."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from .errors import InputError, Problem


class Node(dict):
    """A mapping that remembers the line it starts on and the line of each key."""

    line: int | None = None
    key_lines: dict = {}  # replaced per mapping by the YAML loader; JSON gives no lines

    def line_of(self, key: str) -> int | None:
        return self.key_lines.get(key, self.line)


# libyaml's parser where PyYAML was built with it (the wheels are): ten times faster on big seeds.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeLoader):
    """SafeLoader whose mappings are `Node`s carrying 1-based line numbers."""

    def construct_mapping(self, node, deep=False):
        mapping = Node(super().construct_mapping(node, deep=deep))
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {k.value: k.start_mark.line + 1 for k, _ in node.value if hasattr(k, "value")}
        return mapping


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping
)


def read_yaml(path: Path, label: str | None = None):
    """Parse one YAML file; any failure becomes an `InputError` naming the file and line.

    A file that is JSON (which is YAML too) goes to the JSON parser: a generated atlas of
    100,000 places then loads in a second or two, where the YAML parser takes half a minute.
    """
    label = label or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(Problem(label, None, "", "", f"cannot read file: {exc.strerror}")) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(Problem(label, line, "", "", "file is not valid UTF-8")) from None
    return parse_yaml(text, label)


def parse_yaml(text: str, label: str):
    """Parse YAML (or JSON) text read already, e.g. with a size cap; errors name `label`."""
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text, object_pairs_hook=Node)  # no line numbers: problems name none
        except json.JSONDecodeError:
            pass  # YAML flow style, not JSON: the YAML parser reads it and reports its errors
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(Problem(label, line, "", "", f"malformed YAML: {reason}")) from None
