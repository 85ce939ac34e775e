"""Read YAML with line numbers kept, so every error can point at the line it is about.

Every file atlas reads comes through here, and any of them may be careless or hostile: the
reading is capped in size (counted while reading, never taken from `stat`), only regular files
are read (a FIFO or a device is refused, never waited on), and a YAML file may neither nest
deeper than `MAX_DEPTH` nor use anchors and aliases (whose expansion can be exponential).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import orjson
import yaml

from .errors import InputError, Problem

MB = 1024 * 1024
SEED_FILE_MAX = 256 * MB  # a seed or gazetteer file; 100,000 places take about 20 MB a file
MAX_DEPTH = 20  # nesting levels in any file; the deepest atlas file needs five


class Node(dict):
    """A mapping that remembers the line it starts on and the line of each key."""

    line: int | None = None
    key_lines: dict = {}  # replaced per mapping by the YAML loader; JSON gives no lines

    def line_of(self, key: str) -> int | None:
        return self.key_lines.get(key, self.line)


# libyaml's parser where PyYAML was built with it (the wheels are): ten times faster on big seeds.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeLoader):
    """SafeLoader whose mappings are `Node`s carrying 1-based line numbers, refusing a key twice."""

    def construct_mapping(self, node, deep=False):
        mapping = Node(super().construct_mapping(node, deep=deep))
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {k.value: k.start_mark.line + 1 for k, _ in node.value if hasattr(k, "value")}
        if len(mapping) != len(node.value):
            _duplicate_key(node)
        return mapping


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping
)


def _duplicate_key(node) -> None:
    """Raise for the second of two keys that are one (`3` and `03` are too)."""
    seen, mark, problem = set(), node.start_mark, "a key appears twice in one mapping"
    for key, _ in node.value:
        value = getattr(key, "value", None)
        if isinstance(value, str) and value in seen:
            mark, problem = key.start_mark, f"key {value!r} appears twice in one mapping"
            break
        seen.add(value)
    raise yaml.constructor.ConstructorError(None, None, problem, mark)


def _json_nodes(data: Any) -> Any:
    """orjson's dicts as `Node`s where the atlas's files keep their entries: the top-level mapping
    and the mappings in its lists (JSON gives no lines: every `line_of` is None)."""
    if type(data) is not dict:
        return data
    return Node({key: [Node(e) if type(e) is dict else e for e in value] if type(value) is list else value
                 for key, value in data.items()})


def read_capped(path: Path, label: str, limit: int) -> bytes:
    """The bytes of a regular file, refusing it once more than `limit` bytes have been read.

    The file is opened without blocking (a FIFO would otherwise wait for a writer forever) and
    its type checked on the open descriptor; its size is only a hint for the first read
    (/dev/zero and /proc files say 0)."""
    def refuse(message: str) -> InputError:
        return InputError(Problem(label, None, "", "", message))

    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise refuse(f"cannot read file: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise refuse("not a regular file (a FIFO, device or directory is never read)")
        chunks, size = [], 0
        want = min(max(info.st_size, 0), limit) + 1
        while size <= limit:
            chunk = os.read(fd, want)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            want = min(MB, limit + 1 - size) or 1
    except OSError as exc:
        raise refuse(f"cannot read file: {exc.strerror}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise refuse(f"file is larger than {_size(limit)}: refused")
    return b"".join(chunks)


def _size(n: int) -> str:
    return f"{n // MB} MB" if n >= MB and n % MB == 0 else f"{n:,} bytes"


def _check_events(text: str) -> None:
    """Refuse anchors, aliases and nesting deeper than `MAX_DEPTH` before anything is built:
    libyaml's composer recurses in C (deep nesting crashes the process) and aliases expand
    without bound. The event stream is flat, so this pass is safe and costs a tenth of a load."""
    depth = 0
    scalar, alias = yaml.ScalarEvent, yaml.AliasEvent
    opening, closing = (yaml.SequenceStartEvent, yaml.MappingStartEvent), (yaml.SequenceEndEvent, yaml.MappingEndEvent)
    for event in yaml.parse(text, Loader=_SafeLoader):
        kind = type(event)
        if kind is scalar:
            if event.anchor is None:
                continue
        elif kind in opening:
            depth += 1
            if depth > MAX_DEPTH:
                raise yaml.MarkedYAMLError(problem=f"nested more than {MAX_DEPTH} levels deep",
                                           problem_mark=event.start_mark)
            if event.anchor is None:
                continue
        elif kind in closing:
            depth -= 1
            continue
        elif kind is not alias:
            continue
        what = "alias *" if kind is alias else "anchor &"
        raise yaml.MarkedYAMLError(problem=f"YAML {what}{event.anchor} refused: anchors and aliases are not "
                                           "accepted (write the value out)", problem_mark=event.start_mark)


def read_yaml(path: Path, label: str | None = None, limit: int | None = None):
    """Parse one YAML file of at most `limit` bytes (`SEED_FILE_MAX` unless given); any failure becomes an `InputError`
    naming the file and line.

    A file that is JSON (which is YAML too) goes to the JSON parser: a generated atlas of
    100,000 places then loads in a second or two, where the YAML parser takes half a minute.
    (A key given twice in one JSON mapping keeps its last value, as JSON parsers do; in YAML
    it is refused.)
    """
    label = label or str(path)
    raw = read_capped(path, label, limit or SEED_FILE_MAX)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(Problem(label, line, "", "", "file is not valid UTF-8")) from None
    return parse_yaml(text, label)


def parse_yaml(text: str, label: str):
    """Parse YAML (or JSON) text read already, e.g. with a size cap; errors name `label`."""
    json_error = None
    if text.lstrip().startswith("{"):
        try:  # orjson is twice as fast as the json module; it refuses NaN, lone surrogates, depth over 1024
            return _json_nodes(orjson.loads(text))
        except orjson.JSONDecodeError as exc:
            json_error = exc  # maybe YAML flow style, not JSON: the YAML parser reads it
    try:
        _check_events(text)
        return yaml.load(text, Loader=_LineLoader)
    except (ValueError, OverflowError) as exc:  # a scalar the resolver took for a number it cannot be
        raise InputError(Problem(label, None, "", "", f"malformed YAML: {exc}")) from None
    except yaml.YAMLError as exc:
        if json_error is not None:  # neither JSON nor YAML: the JSON parser's words are the plainer
            raise InputError(Problem(label, json_error.lineno, "", "", f"malformed JSON: {json_error.msg}")) from None
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(Problem(label, line, "", "", f"malformed YAML: {reason}")) from None
