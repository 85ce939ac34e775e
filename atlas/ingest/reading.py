"""Reading an article: capped and safe to open, decoded, traditional Chinese read as simplified,
cut into paragraphs and sentences, and excerpts cut back out of it verbatim."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..errors import InputError, Problem
from ..load import MAX_EVIDENCE_WORDS

MAX_INPUT_BYTES = 5 * 2**20
# Past these a "paragraph" or "sentence" is no prose (a log, a table dump): it is cut into windows
# of this size, so that the work per window is bounded and ingest stays linear in the article.
MAX_PARAGRAPH_CHARS = 4_000
MAX_SENTENCE_CHARS = 1_000
CJK = re.compile(r"[\u3400-\u9fff]")


def read_capped(path: Path, what: str, cap: int = MAX_INPUT_BYTES) -> bytes:
    """At most `cap` bytes of a regular file, or an InputError. The file is opened without blocking
    (a FIFO with no writer would wait forever) and checked to be a regular file (/dev/zero states
    a size of 0 and never ends); the cap is enforced on the bytes read, not on what stat says."""
    label = str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputError(Problem(label, None, "", "", f"cannot read file: {exc.strerror}")) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(Problem(label, None, "", "", f"is not a regular file; a {what} must be one"))
        if info.st_size > cap:
            raise InputError(Problem(label, None, "", "", f"is {info.st_size:,} bytes; a {what} may be at most "
                                                          f"{cap // 2**20} MB"))
        chunks, size = [], 0
        while size <= cap and (chunk := os.read(fd, min(2**20, cap + 1 - size))):
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise InputError(Problem(label, None, "", "", f"cannot read file: {exc.strerror}")) from None
    finally:
        os.close(fd)
    if size > cap:
        raise InputError(Problem(label, None, "", "", f"is over {cap // 2**20} MB; a {what} may be at most "
                                                      f"{cap // 2**20} MB"))
    return b"".join(chunks)


def read_article(path: Path) -> str:
    """The article's text. NUL bytes mark a binary file (which may still decode as UTF-8)."""
    raw = read_capped(path, "plain-text article")
    label = str(path)
    if b"\0" in raw:
        raise InputError(Problem(label, None, "", "", f"is a binary file (NUL byte at offset {raw.find(0)}), "
                                                      "not a plain-text article"))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(Problem(label, line, "", "", "is not valid UTF-8; save the article as UTF-8 text")) from None
    if not text.strip():
        raise InputError(Problem(label, None, "", "", "is empty; expected a plain-text article"))
    return text


@cache
def _converter():
    import opencc  # OpenCC's own library: phrase-aware, C++, a 5 MB article in a fraction of a second

    return opencc.OpenCC("t2s.json")


def simplified(text: str) -> str:
    """`text` in simplified Chinese, character for character, so an offset in one is the same place
    in the other and excerpts are cut verbatim from the original. Where OpenCC changes a line's
    length (a phrase mapped to one of another length), that line is converted a character at a time."""
    if not CJK.search(text):
        return text
    convert = _converter().convert
    out = []
    for line in text.splitlines(keepends=True):
        converted = convert(line)
        out.append(converted if len(converted) == len(line) else "".join(
            c2 if len(c2 := convert(c)) == 1 else c for c in line))
    return "".join(out)


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs with whitespace collapsed, so excerpts are verbatim up to spacing. Articles come a
    paragraph a line; a hard-wrapped line (not ending a sentence, next one starting in lower case)
    goes on into the next. Overlong paragraphs are cut into windows (see MAX_PARAGRAPH_CHARS)."""
    paragraphs: list[list[str]] = []
    joinable = False
    for line in text.splitlines():
        line = " ".join(line.split())
        if not line:
            joinable = False
        elif joinable and line[0].islower() and sum(map(len, paragraphs[-1])) < MAX_PARAGRAPH_CHARS:
            paragraphs[-1].append(line)
        else:
            paragraphs.append([line])
            joinable = not re.search(r"[.!?:;\"”’)。！？]$", line)
    return [window for lines in paragraphs for window in _windows(" ".join(lines), MAX_PARAGRAPH_CHARS)]


def _windows(text: str, size: int) -> list[str]:
    """`text` cut at spaces (else anywhere) into pieces of at most about `size` characters."""
    pieces = []
    while len(text) > size:
        cut = text.rfind(" ", size // 2, size)
        cut = cut if cut > 0 else size
        pieces.append(text[:cut])
        text = text[cut:].lstrip()
    return pieces + [text] if text else pieces


# A sentence ends at . ! ? before a space, or at 。！？ unless a closing quote follows (“……。”他说，……。
# is one sentence: the speaker after the quote is part of it).
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*(?= )|[。！？](?![”’」』\"])")


def sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of each sentence, none longer than MAX_SENTENCE_CHARS."""
    spans, start = [], 0
    for end in _SENTENCE_END.finditer(text):
        spans.append((start, end.end()))
        start = end.end() + (text[end.end():end.end() + 1] == " ")
    if start < len(text):
        spans.append((start, len(text)))
    out = []
    for s, e in spans:
        while e - s > MAX_SENTENCE_CHARS:
            out.append((s, s + MAX_SENTENCE_CHARS))
            s += MAX_SENTENCE_CHARS
        out.append((s, e))
    return tuple(out)


@dataclass(frozen=True)
class Sentences:
    """A paragraph's sentences, looked up by position in logarithmic time."""

    spans: tuple[tuple[int, int], ...]

    def at(self, pos: int) -> tuple[int, int]:
        from bisect import bisect_right

        return self.spans[max(0, bisect_right(self.spans, (pos, float("inf"))) - 1)]


# Chinese has no spaces: an excerpt there is the clause round the fact, at most this many characters.
MAX_CHINESE_EXCERPT = 40
_CHINESE_CLAUSE = re.compile(r"[，,；;：:、。！？”’」』]")


def excerpt(text: str, start: int, end: int, anchor: tuple[int, int] | None, bounds: tuple[int, int]) -> str:
    """At most MAX_EVIDENCE_WORDS whole words of `text` round [start, end), reaching out to `anchor`
    (the place) when it fits, else padded mostly with the words before (where subject and verb
    stand), never beyond `bounds` (the sentence): verbatim, so the seeds' evidence checks hold.
    Chinese text is cut by characters (see `_chinese_excerpt`)."""
    lo, hi = bounds
    if CJK.search(text, start, end) or CJK.search(text, max(lo, start - 2), min(hi, end + 2)):
        return _chinese_excerpt(text, start, end, anchor, bounds)
    tokens = [(lo + m.start(), lo + m.end()) for m in re.finditer(r"\S+", text[lo:hi])]
    first = next(i for i, t in enumerate(tokens) if t[1] > start)
    last = max(i for i, t in enumerate(tokens) if t[0] < end)
    last = min(last, first + MAX_EVIDENCE_WORDS - 1)
    if anchor:
        a_first = next((i for i, t in enumerate(tokens) if t[1] > anchor[0]), first)
        a_last = max((i for i, t in enumerate(tokens) if t[0] < anchor[1]), default=last)
        if max(last, a_last) - min(first, a_first) < MAX_EVIDENCE_WORDS:
            first, last = min(first, a_first), max(last, a_last)
    while last - first + 1 < MAX_EVIDENCE_WORDS and (first > 0 or last < len(tokens) - 1):
        before = last - first + 1 < MAX_EVIDENCE_WORDS - 2 or last == len(tokens) - 1
        first, last = (first - 1, last) if before and first > 0 else (first, min(last + 1, len(tokens) - 1))
    return text[tokens[first][0]:tokens[last][1]]


def _chinese_excerpt(text: str, start: int, end: int, anchor: tuple[int, int] | None,
                     bounds: tuple[int, int]) -> str:
    """The clause holding [start, end) (between Chinese commas, semicolons, colons), reaching back to
    the anchor when the whole stays within MAX_CHINESE_EXCERPT characters; a few words of Latin
    script inside count as characters, and the result never has more than MAX_EVIDENCE_WORDS words."""
    lo, hi = bounds
    c0 = max([m.end() for m in _CHINESE_CLAUSE.finditer(text, max(lo, start - MAX_CHINESE_EXCERPT), start)] + [lo])
    c1 = next((m.start() for m in _CHINESE_CLAUSE.finditer(text, end, min(hi, end + MAX_CHINESE_EXCERPT))), hi)
    if anchor and anchor[0] < c0 and c1 - anchor[0] <= MAX_CHINESE_EXCERPT and anchor[0] >= lo:
        c0 = anchor[0]
    c0 = max(c0, end - MAX_CHINESE_EXCERPT, lo)
    c1 = min(c1, c0 + MAX_CHINESE_EXCERPT, hi)
    c1 = max(c1, end)
    piece = text[c0:c1].strip(" ，,；;：:、。“”")
    words = piece.split()
    if len(words) > MAX_EVIDENCE_WORDS:
        piece = " ".join(words[:MAX_EVIDENCE_WORDS])
    return piece


def slug(text: str, sep: str = "-") -> str:
    return sep.join(re.findall(r"[a-z0-9]+", text.lower()))
