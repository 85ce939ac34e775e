"""The article as a whole: paragraphs, each with its sentences, the places it names and its
programme phrases, read in order (references back reach across paragraphs)."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Atlas
from .designations import Phrase, find_phrases
from .places import ANAPHOR, CITY, KNOWN, NEW, OUTSIDE, REGION, Mention, Places, find_mentions, gazetteer_names
from .reading import Sentences, sentence_spans, simplified, split_paragraphs


@dataclass(frozen=True)
class Paragraph:
    text: str       # as read: traditional Chinese as simplified, at the same offsets as `original`
    original: str   # as written, for excerpts and stated figures
    sentences: Sentences
    mentions: tuple[Mention, ...]
    phrases: tuple[Phrase, ...]
    places: Places

    def subject(self) -> Mention | None:
        """The place a paragraph is about: the first it names (news paragraphs open on their subject);
        a new place only when its district is known."""
        return next((m for m in self.mentions if m.role in (KNOWN, ANAPHOR, CITY, OUTSIDE, REGION)
                     or (m.role == NEW and self.places.district(m.place))), None)


@dataclass(frozen=True)
class Document:
    paragraphs: tuple[Paragraph, ...]
    atlas: Atlas
    title_place: str | None  # the site an article is titled after, if any
    places: Places


def read_document(text: str, atlas: Atlas, title: str | None) -> Document:
    places = Places(gazetteer_names(atlas), atlas)
    title_state = Places(places.names, atlas)
    title_text = simplified(title or "")
    title_mentions = find_mentions(title_text, Sentences(sentence_spans(title_text) or ((0, 0),)), title_state, ())
    title_place = next((m.place for m in title_mentions if m.role == KNOWN
                        and atlas.places[m.place].kind not in ("district", "county")), None)
    paragraphs = []
    for original in split_paragraphs(text):
        body = simplified(original)
        sentences = Sentences(sentence_spans(body))
        phrases = find_phrases(body, sentences)
        mentions = find_mentions(body, sentences, places, [(p.start, p.end) for p in phrases])
        paragraphs.append(Paragraph(body, original, sentences, mentions, phrases, places))
    return Document(tuple(paragraphs), atlas, title_place, places)
