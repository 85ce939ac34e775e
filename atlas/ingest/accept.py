"""`atlas ingest --accept`: merge the entries a reviewer left new into seeds/, all or nothing.

The review is read capped and checked entry by entry (one line per problem); the merged seed files
are built in a temporary copy and must load, geocode (the gazetteer) and name every place uniquely
(as render does) before they are renamed into place, keeping their modes."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, Problem
from ..geocode import GAZETTEER_FILE, WHOLE_DISTRICT_KINDS, load_gazetteer, name_index
from ..load import SCHEMAS, default_seeds_dir, entry_name, load_atlas
from ..yamlio import Node, parse_yaml
from .figures import NEEDS_NAME
from .reading import read_capped
from .review import entries_block, write_files

REVIEW_KINDS = ("sources", "places", "designations", "metrics")
# A review entry's status: known (never merged), new (merged); a new figure may be marked target or
# plan instead of new, and is merged as one.
STATUSES = ("new", "known")
FIGURE_STATUSES = ("target", "plan")
# Fields a review file adds to the seed shape, dropped when an entry is merged.
REVIEW_ONLY = ("status", "mentions")
# Null fields the seed files spell out (unknown batch / year); other nulls are left out when merging.
KEEP_NULL = {"designations": ("batch", "year")}
MAX_REVIEW_BYTES = 5 * 2**20
SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class Accepted:
    added: dict[str, int]
    known: int
    gazetteer: int


def _field_problem(value, key: str) -> str | None:
    """What is wrong with a field's value in shape alone: seed fields are scalars, but for lists of
    names (aliases, mentions)."""
    if key in ("aliases", "mentions"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "must be a list of names"
        return None
    if not isinstance(value, SCALARS):
        return f"must be a single value, not a {'mapping' if isinstance(value, dict) else 'list'}"
    return None


def _review_entries(data, label: str) -> tuple[dict[str, list[Node]], int]:
    """The review's new entries by kind, and how many are known; every misshapen entry is a problem."""
    if data is None:
        raise InputError(Problem(label, None, "", "", "file is empty; expected a review file from atlas ingest"))
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data) or not set(data) <= set(REVIEW_KINDS):
        raise InputError(Problem(label, getattr(data, "line", None), "", "",
                                 f"expected top-level lists {', '.join(REVIEW_KINDS)} (as atlas ingest writes)"))
    problems, new, known = [], {kind: [] for kind in REVIEW_KINDS}, 0
    for kind in REVIEW_KINDS:
        entries = data.get(kind) or []
        if not isinstance(entries, list):
            problems.append(Problem(label, data.line_of(kind), kind, "", "must be a list of entries"))
            continue
        allowed = STATUSES + (FIGURE_STATUSES if kind == "metrics" else ())
        for index, entry in enumerate(entries):
            name = entry_name(kind, index, entry)
            if not isinstance(entry, Node):
                problems.append(Problem(label, None, name, "", "must be a mapping of fields"))
                continue
            status = entry.get("status")
            if not isinstance(status, str) or status not in allowed:
                problems.append(Problem(label, entry.line_of("status"), name, "status",
                                        f"must be one of {', '.join(allowed)}; got {status!r}"))
                continue
            if status == "known":
                known += 1
                continue
            shape = [(k, msg) for k, v in entry.items() if (msg := _field_problem(v, str(k)))]
            shape += [(str(k), "is not a field of a review entry") for k in entry
                      if not isinstance(k, str) or (k not in SCHEMAS[kind] and k not in REVIEW_ONLY)]
            if not isinstance(entry.get("id" if kind != "districts" else "code"), str):
                shape.append(("id", "a new entry needs an id"))
            if kind == "metrics" and isinstance(entry.get("key"), str) and entry["key"].startswith(NEEDS_NAME):
                shape.append(("key", f"{entry['key']!r} is a placeholder: name this figure before accepting it"))
            for key, message in shape:
                problems.append(Problem(label, entry.line_of(key) if isinstance(key, str) else entry.line,
                                        name, str(key), message))
            if not shape:
                new[kind].append(entry)
    if problems:
        raise InputError(problems)
    return new, known


def _seed_entry(kind: str, entry: Node) -> dict:
    """The seed entry a review entry becomes: review-only fields dropped; a figure marked target or
    plan keeps that as its `status` where the seeds' schema has the field, else says so in `note`."""
    keep = KEEP_NULL.get(kind, ())
    out = {k: v for k, v in entry.items() if k not in REVIEW_ONLY and (v is not None or k in keep)}
    if kind == "metrics" and entry["status"] in FIGURE_STATUSES:
        if "status" in SCHEMAS["metrics"]:
            out["status"] = entry["status"]
        elif not out.get("note"):
            out["note"] = f"A {entry['status']}, not achieved."
    return out


def _appended(original: str, entries: Sequence[dict], review: str) -> str:
    """A seed file's text with entries appended after its last one, at its own indentation."""
    indent = re.search(r"^( *)- ", original, re.M)
    pad = indent.group(1) if indent else "  "
    return (original.rstrip("\n") + f"\n\n{pad}# --- added by atlas ingest --accept {review} ---\n"
            + entries_block(entries, pad))


def accept_review(review_path: Path, seeds: Path | None = None) -> Accepted:
    """Merge a review's new entries into seeds/, or change nothing: the merged files are built in a
    temporary copy and checked there (load_atlas, the gazetteer, unique place names), and renamed
    into place only when everything holds. Problems in merged entries name the review file."""
    seeds = Path(seeds) if seeds is not None else default_seeds_dir()
    label = str(review_path)
    raw = read_capped(review_path, "review file", MAX_REVIEW_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(Problem(label, raw[: exc.start].count(b"\n") + 1, "", "", "file is not valid UTF-8")) from None
    new, known = _review_entries(parse_yaml(text, label), label)
    if not any(new.values()):
        return Accepted({}, known, 0)
    load_atlas(seeds)  # the seeds must be sound before anything is added to them
    added = {f"{kind}.yaml": [_seed_entry(kind, e) for e in new[kind]] for kind in REVIEW_KINDS if new[kind]}
    gazetteer = seeds / GAZETTEER_FILE
    sited = [{"place": e["id"], "precision": "district",
              "coord_source": "none yet: added by atlas ingest; at its district's representative point"}
             for e in new["places"] if e.get("kind") not in WHOLE_DISTRICT_KINDS] if gazetteer.is_file() else []
    if sited:
        added[GAZETTEER_FILE] = sited
    originals = {name: (seeds / name).read_text("utf-8") for name in added}
    merged = {name: _appended(originals[name], entries, review_path.name) for name, entries in added.items()}
    with tempfile.TemporaryDirectory(prefix="atlas-ingest-") as tmp:
        trial = Path(tmp) / "seeds"
        shutil.copytree(seeds, trial)
        for name, text in merged.items():
            (trial / name).write_text(text, encoding="utf-8")
        try:
            places = load_atlas(trial).places
            name_index(places.values())  # render looks places up by name: each name names one place
            if gazetteer.is_file():
                load_gazetteer(trial / GAZETTEER_FILE, places)
        except InputError as exc:
            raise InputError(_rehome(exc.problems, trial, seeds, originals, new, label)) from None
    write_files({seeds / name: text for name, text in merged.items()})
    return Accepted({kind: len(entries) for kind, entries in new.items() if entries}, known, len(sited))


def _rehome(problems: Sequence[Problem], trial: Path, seeds: Path, originals: Mapping[str, str],
            new: Mapping[str, list[Node]], label: str) -> list[Problem]:
    """Problems found in the trial copy, pointed at what the user can edit: a merged entry's problem
    at its line in the review file, any other at the real seed file."""
    by_name = {entry_name(kind, 0, e): e for kind, entries in new.items() for e in entries}
    lines = {str(trial / name): text.count("\n") + 1 for name, text in originals.items()}
    out = []
    for p in problems:
        entry = by_name.get(p.entry)
        if entry is not None and (p.file == "places.yaml" or p.file in lines and (p.line or 0) > lines[p.file]):
            out.append(Problem(label, entry.line_of(p.field), p.entry, p.field, p.message))
        else:
            out.append(Problem(p.file.replace(str(trial), str(seeds), 1), p.line, p.entry, p.field, p.message))
    return out
