"""The review file: candidates for seeds/ in its shape, each marked known or new, written so that
the same article always gives the same bytes."""

from __future__ import annotations

import os
import re
import stat
import tempfile
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import RunError
from ..model import Atlas
from .designations import batch_after, batch_in, clause_start, designation_places, list_heading, programme_names
from .document import Document, Paragraph, read_document
from .figures import (NEEDS_NAME, clause_at, counted_phrase, figure_place, figure_status, programme_count_key,
                      says_nothing, suggest_key)
from .numbers import Figure, find_figures, year_near
from .places import KNOWN, NEW
from .reading import MAX_CHINESE_EXCERPT, excerpt, slug


@dataclass(frozen=True)
class Review:
    """Candidates for seeds/, in the order the article gives them; `unplaced` counts the figures
    left out as being about no mapped place (a region, nothing named, Chongqing as a whole when
    seeds/ has no place for it);
    `outside` names the places outside Chongqing the article names (never mapped); `programmes`
    the programmes candidates use that seeds/ does not have yet."""

    source: dict
    places: list[dict]
    designations: list[dict]
    metrics: list[dict]
    unplaced: int
    outside: list[str] = field(default_factory=list)
    programmes: list[dict] = field(default_factory=list)

    def entries(self) -> dict[str, list[dict]]:
        return {"sources": [self.source], "places": self.places, "designations": self.designations,
                "metrics": self.metrics}


def article_source(atlas: Atlas, article: Path, text: str, source_id: str | None = None,
                   outlet: str | None = None, title: str | None = None, date: str | None = None) -> dict:
    """The source entry: the seeds' own when they cite this article (by id, else by file name), else
    a new one from the options, titled when no --title is given by the article's headline (one of its
    first lines, of 4 to 30 words, not ending as a sentence does; a Chinese one of 6 to 60 characters)."""
    known = atlas.sources.get(source_id) if source_id else next(
        (s for s in atlas.sources.values() if s.file == article.name), None)
    if known:
        fields = {k: getattr(known, k) for k in ("id", "kind", "outlet", "title", "date", "file", "url")}
        return {"id": known.id, "status": "known", **{k: v for k, v in fields.items() if v is not None and k != "id"}}
    lines = [" ".join(line.split()) for line in text.splitlines()[:20] if line.strip()][:3]
    headline = next((line for line in lines if (4 <= len(line.split()) <= 30 or re.search(r"[\u4e00-\u9fff]{4}", line)
                                                and 4 <= len(line) <= 60) and not re.search(r"[.。]$", line)), None)
    return {"id": source_id or slug(article.stem) or "article", "status": "new", "kind": "article",
            "outlet": outlet, "title": title or headline, "date": date, "file": article.name}


class Ids:
    """Ids in use; a new one is `ident`, or `ident-2`, `ident-3`, ... the first free. The next number
    to try is kept per ident, so that 100,000 figures of one key cost linear time, not quadratic."""

    def __init__(self, taken: set[str]):
        self.taken = taken
        self.next: dict[str, int] = {}

    def unique(self, ident: str) -> str:
        candidate, n = ident, self.next.get(ident, 2)
        while candidate in self.taken:
            candidate, n = f"{ident}-{n}", n + 1
        self.next[ident] = n
        self.taken.add(candidate)
        return candidate


def _anchor(para: Paragraph, place_id: str, start: int, end: int) -> tuple[int, int] | None:
    """Where the sentence [start, end) names the place, for the excerpt to reach out to."""
    return next(((m.start, m.end) for m in para.mentions if m.place == place_id and start <= m.start < end), None)


def place_candidates(doc: Document) -> list[dict]:
    """Each place the article names, once, with the ways it writes the name."""
    found: dict[str, dict] = {}
    for para in doc.paragraphs:
        for m in para.mentions:
            if m.role in (KNOWN, NEW):
                place = doc.atlas.places.get(m.place)
                entry = found.setdefault(m.place, doc.places.new[m.place] if place is None else {
                    "id": place.id, "status": "known", "name_en": place.name_en, "kind": place.kind,
                    "district": place.district, "mentions": []})
                said = para.original[m.start:m.end]
                if said not in entry["mentions"]:
                    entry["mentions"].append(said)
    return [{k: v for k, v in e.items() if v is not None or k in ("kind", "district")} for e in found.values()]


def designation_candidates(doc: Document, source: str, taken: Ids, counted: set[tuple[int, int]]) -> list[dict]:
    """A designation per place and programme phrase, with the batch its lead-in gives and the
    year of its sentence; the lines of a list under a heading that names a programme take it. A
    phrase a figure counts (`counted`: "has 12 ... demonstration towns") is a title of the places
    it lists, not of the subject."""
    found: dict[tuple[str, str], dict] = {}
    for index, para in enumerate(doc.paragraphs):
        inherited: tuple[str, ...] = ()
        for phrase in para.phrases:
            s0, s1 = para.sentences.at(phrase.start)
            places, shareable = designation_places(doc, index, phrase, inherited, (index, phrase.start) in counted)
            inherited = places if shareable else ()
            batch = batch_in(para.text[clause_start(para, phrase)[1]:phrase.start]) or batch_after(para.text, phrase)
            year = year_near(para.text, *clause_at(para.text, s0, s1, phrase.start), phrase.start)
            for place_id in places:
                evidence = excerpt(para.original, phrase.start, phrase.end, _anchor(para, place_id, s0, s1), (s0, s1))
                for level in phrase.levels:
                    _add_designation(found, doc, taken, place_id, phrase.rule.programmes[level], batch, year,
                                     source, evidence)
        found_heading = list_heading(doc.paragraphs, index)
        if found_heading is not None:
            owner, heading = found_heading
            h0, h1 = owner.sentences.at(heading.start)
            batch = batch_in(owner.text[h0:heading.start])
            year = year_near(owner.text, h0, h1, heading.start)
            for m in para.mentions:
                if m.role in (KNOWN, NEW) and not doc.places.is_district(m):
                    evidence = para.original if len(para.original) <= MAX_CHINESE_EXCERPT else excerpt(
                        para.original, m.start, m.end, None, (0, len(para.text)))
                    _add_designation(found, doc, taken, m.place, heading.rule.programmes[heading.levels[0]], batch,
                                     year, source, evidence)
    return list(found.values())


def metric_candidates(doc: Document, source: str, taken: Ids) -> tuple[list[dict], set[tuple[int, int]], int]:
    """A metric per place, value and key (a value said again is one metric, unless programme or
    vocabulary keys say it measures two things: "6 ... zones and 6 ... bases"); the programme
    phrases figures count, by paragraph and start; and how many figures are about no mapped place."""
    found: dict[tuple, list[dict]] = {}
    said: dict[tuple, str] = {}  # a figure's place, value and sentence -> its key: a sentence said again is read once
    counted: set[tuple[int, int]] = set()
    seeds: dict[tuple[str, str], list] = {}  # the seeds' metrics by place and unit, to find known ones
    for seed in doc.atlas.metrics.values():
        seeds.setdefault((seed.place, seed.base_unit), []).append(seed)
    unplaced = 0
    for index, para in enumerate(doc.paragraphs):
        mention_ends = sorted(m.end for m in para.mentions)
        before: tuple[int, str, str, int] | None = None  # the sentence, kind, key and end of the figure before
        previous_end = 0
        for figure in find_figures(para.text, para.original):
            phrase = counted_phrase(para.text, figure, para.phrases) if para.phrases else None
            if phrase is not None:
                counted.add((index, phrase.start))
            s0, s1 = para.sentences.at(figure.start)
            c0, c1 = clause_at(para.text, s0, s1, figure.start)
            # What a figure measures is said after the figure before it in its sentence, if any.
            since, previous_end = max(c0, previous_end), figure.end
            place_id = figure_place(doc, index, figure)
            if place_id is None:
                unplaced += 1
                before = None
                continue
            memo = (place_id, figure.base.unit, figure.base.value, para.text[s0:s1], figure.start - s0)
            name = said.get(memo)
            if name is None:
                i = bisect_right(mention_ends, figure.start)
                named = max(mention_ends[i - 1] if i else s0, since)
                name = programme_count_key(phrase) or suggest_key(para.text, figure, named, since)
                if name.startswith(NEEDS_NAME) and before and before[:2] == (s0, figure.base.kind) and says_nothing(
                        para.text, figure, para.mentions, before[3]):
                    name = before[2]  # "全市...达到330天，其中万州区达到340天": the same measure
            if not name.startswith(NEEDS_NAME):
                before = (s0, figure.base.kind, name, figure.end)
            if memo in said:
                continue
            said[memo] = name
            same = found.setdefault((place_id, figure.base.unit, figure.base.value), [])
            if any(m["key"] == name or m["key"].startswith(NEEDS_NAME) or name.startswith(NEEDS_NAME) for m in same):
                continue  # the same figure said again, not another measure of the same value
            metric = _metric(seeds.get((place_id, figure.base.unit), ()), taken, place_id, figure, name,
                             year_near(para.text, c0, c1, figure.start), source,
                             excerpt(para.original, figure.start, figure.end, _anchor(para, place_id, s0, s1), (s0, s1)),
                             figure_status(para.text, c0, figure))
            if all(m["key"] != metric["key"] for m in same):
                same.append(metric)
    return [m for same in found.values() for m in same], counted, unplaced


def ingest_article(text: str, atlas: Atlas, source: dict) -> Review:
    """Every candidate the article gives, each marked known when seeds/ holds it already: a
    designation with the same place and programme, a figure with the same place, value and key or
    with the same place and value from the same source (it then takes that seed's key and id), a
    place by any of its names."""
    doc = read_document(text, atlas, source.get("title"))
    taken = Ids(set(atlas.designations) | set(atlas.metrics))
    metrics, counted, unplaced = metric_candidates(doc, source["id"], taken)
    designations = designation_candidates(doc, source["id"], taken, counted)
    missing = {d["programme"] for d in designations} - set(atlas.programmes)
    used = {e["place"] for e in designations + metrics}
    places = [p for p in place_candidates(doc) if p["status"] == "known" or p["district"] or p["id"] in used]
    return Review(source, places, designations, metrics, unplaced, list(doc.places.outside),
                  [programme_names()[p] for p in sorted(missing) if p in programme_names()])


def _add_designation(found: dict, doc: Document, taken: Ids, place: str, programme: str, batch: int | None,
                     year: int | None, source: str, evidence: str) -> None:
    """One candidate per place and programme: a later mention only fills in a missing batch or year.
    A programme seeds/ lacks is proposed too (the review says what to add to programmes.yaml)."""
    atlas = doc.atlas
    entry = found.get((place, programme))
    level = atlas.programmes[programme].level if programme in atlas.programmes else (
        programme_names().get(programme, {}).get("level"))
    if level is None:
        return
    if entry:
        entry["batch"] = entry["batch"] or batch
        entry["year"] = entry["year"] or year
        return
    known = next((d for d in atlas.designations.values() if d.place == place and d.programme == programme), None)
    found[(place, programme)] = {
        "id": known.id if known else taken.unique(f"{place}-{programme}"),
        "status": "known" if known else "new", "place": place, "programme": programme,
        "level": level, "batch": batch, "year": year, "source": source, "evidence": evidence}


def _metric(seeds: Sequence, taken: Ids, place: str, figure: Figure, key: str, year: int | None,
            source: str, evidence: str, status: str | None) -> dict:
    """A metric candidate; known when one of `seeds` (the seeds' metrics of its place and unit) has
    its value and its key, or its value and its source."""
    alike = [m for m in seeds if abs(m.base_value - figure.base.value) <= 1e-9 * max(1.0, abs(m.base_value))]
    known = next((m for m in alike if m.key == key), None) or next(
        (m for m in alike if m.evidence.source == source), None)
    key = known.key if known else key
    ident = known.id if known else taken.unique(slug(f"{place} {key} {year or ''}"))
    value = int(figure.value) if float(figure.value).is_integer() else figure.value
    return {"id": ident, "status": "known" if known else (status or "new"), "place": place, "key": key,
            "value": value, "unit": figure.unit, "stated": figure.stated, "qualifier": figure.qualifier,
            "year": year, "source": source, "evidence": evidence}


# libyaml's emitter where PyYAML has it: a review of 100,000 figures in seconds.
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def entries_block(entries: Sequence[dict], indent: str = "  ") -> str:
    """YAML list items a blank line apart, indented like a seed file's own, so they can be appended
    to one as text, leaving its comments and order as they are."""
    blocks = []
    for entry in entries:
        text = yaml.dump([entry], Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000)
        blocks.append("".join(indent + line for line in text.splitlines(keepends=True)))
    return "\n".join(blocks)


def review_yaml(review: Review, article: str) -> str:
    """The review file: seeds/' shape, with `status` on each entry and `mentions` on places; no
    timestamps, entries in the article's order, so the same article always gives the same file."""
    header = (f"# atlas ingest: candidates from {article}, found by rules; check each against the article.\n"
              "# status: known = seeds/ has it already (never merged); new = merged by\n"
              f"#   atlas ingest --accept THIS_FILE\n"
              "# A figure stated as a target or a plan has status target or plan: merged as one.\n"
              "# Correct or delete new entries first; a new place needs kind and district; a key\n"
              "# needs_name_... needs a real name.\n")
    for name in review.outside:
        header += f"# outside Chongqing, left out: {name}\n"
    for p in review.programmes:
        header += (f"# programme {p['id']} is not in seeds/programmes.yaml: add it first (name_en: {p['name_en']}; "
                   f"name_zh: {p['name_zh']}; level: {p['level']})\n")
    sections = [f"{kind}:\n{entries_block(entries)}" if entries else f"{kind}: []\n"
                for kind, entries in review.entries().items()]
    return header + "\n".join(sections)


def write_files(files: Mapping[Path, str]) -> None:
    """Write each file beside its target, then rename them all into place; if any write or rename
    fails, the targets already renamed get their old bytes back, so all change or none does. A file
    keeps its mode; a new one gets the mode the umask gives."""
    old = {path: path.read_bytes() for path in files if path.exists()}
    temps: dict[Path, Path] = {}
    done: list[Path] = []
    try:
        for path, text in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            temps[path] = Path(tmp)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                out.write(text)
            os.chmod(tmp, stat.S_IMODE(path.stat().st_mode) if path in old else 0o666 & ~_umask())
        for path, tmp in temps.items():
            os.replace(tmp, path)
            done.append(path)
    except OSError as exc:
        for path in done:
            if path in old:
                path.write_bytes(old[path])
            else:
                path.unlink()
        raise RunError(f"could not write {exc.filename or 'a file'}: {exc.strerror or exc}; nothing was changed") from None
    finally:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
