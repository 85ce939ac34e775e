"""`atlas ingest` measured: precision and recall on the annotated corpus (../shared/ingest-corpus,
annotated in tests/ingest_corpus.py) and recall on the five seed articles (their curated facts),
then the CPU seconds of a 5 MB article and of a 100,000-line one.

    python benchmarks/ingest_score.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from atlas.ingest import article_source, ingest_article, read_article  # noqa: E402
from atlas.load import load_atlas  # noqa: E402
from atlas.units import normalise  # noqa: E402
from tests.ingest_corpus import CORPUS, corpus_scores, table  # noqa: E402
from tests.shared import ARTICLES  # noqa: E402


def seed_rows(atlas) -> list[str]:
    """Today's measure of tests/test_ingest.py: a seed article's curated designations (place,
    programme) and figures (place, key, value) found among its candidates."""
    def facts(designations, metrics):
        out = {("d", d["place"], d["programme"]) for d in designations}
        for m in metrics:
            base = normalise(m["value"], m["unit"])
            out.add(("m", m["place"], m["key"], base.unit, round(base.value, 6)))
        return out

    everything = facts([vars(d) for d in atlas.designations.values()],
                       [{"place": m.place, "key": m.key, "value": m.base_value, "unit": m.base_unit}
                        for m in atlas.metrics.values()])
    rows = ["| seed article | curated | candidates | recall | precision |", "|---|---|---|---|---|"]
    for path in sorted(ARTICLES.glob("*.txt")):
        source = next(s for s in atlas.sources.values() if s.file == path.name)
        wanted = facts([vars(d) for d in atlas.designations.values() if d.evidence.source == source.id],
                       [{"place": m.place, "key": m.key, "value": m.base_value, "unit": m.base_unit}
                        for m in atlas.metrics.values() if m.evidence.source == source.id])
        text = read_article(path)
        review = ingest_article(text, atlas, article_source(atlas, path, text))
        found = facts(review.designations, review.metrics)
        rows.append(f"| {path.name} | {len(wanted)} | {len(found)} | {len(wanted & found) / len(wanted):.2f} | "
                    f"{len(found & everything) / len(found):.2f} |")
    return rows


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
            ingest_article(read_article(path), atlas, {"id": "bench", "title": None})
            rows.append(f"| {name} | {path.stat().st_size / 2**20:.1f} | {time.process_time() - started:.1f} |")
    return rows


def main() -> None:
    atlas = load_atlas()
    print(table(corpus_scores(atlas)))
    print()
    print("\n".join(seed_rows(atlas)))
    print()
    print("\n".join(timings(atlas)))


if __name__ == "__main__":
    main()
