"""`atlas ingest` measured: precision and recall on the annotated corpus (../shared/ingest-corpus,
annotated in tests/ingest_corpus.py) and on the five seed articles (their curated facts, as
tests/test_ingest.py measures them), then the CPU seconds of a 5 MB article and of a 100,000-line
one.

    python benchmarks/ingest_score.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from atlas.ingest import ingest_article, read_article  # noqa: E402
from atlas.load import load_atlas  # noqa: E402
from atlas.runtime import collector_paused  # noqa: E402
from tests.ingest_corpus import CORPUS, corpus_scores, seed_scores, table  # noqa: E402
from tests.shared import ARTICLES  # noqa: E402


def timings(atlas) -> list[str]:
    corpus = "".join(p.read_text("utf-8") + "\n" for p in sorted(ARTICLES.glob("*.txt")) + sorted(CORPUS.glob("*.txt")))
    big = (corpus * (5 * 2**20 // len(corpus.encode()) + 1)).encode()[: 5 * 2**20 - 4].decode("utf-8", "ignore")
    lines = "\n".join(f"Line {i}. Wulong District planted {i} mu" for i in range(100_000))
    rows = ["| article | MB | CPU seconds |", "|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in (("5 MB of the articles, repeated", big), ("100,000 lines, a figure each", lines)):
            path = Path(tmp) / "article.txt"
            path.write_text(text, "utf-8")
            started = time.process_time()
            with collector_paused():  # as `atlas ingest` runs it (the CLI pauses it for every command)
                ingest_article(read_article(path), atlas, {"id": "bench", "title": None})
            rows.append(f"| {name} | {path.stat().st_size / 2**20:.1f} | {time.process_time() - started:.1f} |")
    return rows


def main() -> None:
    atlas = load_atlas()
    print(table(corpus_scores(atlas)))
    print()
    print(table(seed_scores(atlas), "seed article | curated", overall=False))
    print()
    print("\n".join(timings(atlas)))


if __name__ == "__main__":
    main()
