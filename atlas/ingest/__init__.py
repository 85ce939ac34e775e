"""`atlas ingest`: read a new article into a review file of candidates; merge what a person accepts.

Rules find, people decide. One module per concern: `reading` (capped, safe reading; traditional
Chinese read as simplified; paragraphs, sentences, excerpts), `numbers` (figures and years in
English and Chinese), `places`, `designations`, `figures` (keys, places, targets and plans),
`document` (the article as a whole), `review` (the review file), `accept` (--accept). What is
recognised (programme phrases, levels, figure keys, regions, provinces) is data: vocabulary.yaml.
"""

from .accept import Accepted, accept_review
from .reading import read_article
from .review import Review, article_source, ingest_article, review_yaml, write_files

__all__ = ["Accepted", "Review", "accept_review", "article_source", "ingest_article", "read_article",
           "review_yaml", "write_files"]
