"""What a careful reader finds in each article of ../shared/ingest-corpus, and how `atlas ingest`
is scored against it (precision and recall per article and overall); and how it is scored on the
five seed articles against their curated facts. Shared by tests/test_ingest_corpus.py,
tests/test_ingest.py and benchmarks/ingest_score.py.

Each expected fact names its place by id (places the seeds know) or by a name the article uses:
- ("place", name, district code)
- ("designation", place, programme, batch, year): batch and year as the article states them
- ("metric", place, key, value, unit): the value in any unit pint reads; key "needs_name" when no
  key of the vocabulary fits, for which any needs_name_... key is right.
A fact marked optional (a fourth element True for places) counts neither way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from atlas.geocode import normalise
from atlas.ingest import article_source, ingest_article, read_article
from atlas.model import Atlas
from atlas.units import normalise as to_base

from .shared import ARTICLES, SHARED

CORPUS = SHARED / "ingest-corpus"
GOAL = 0.9

EXPECTED: dict[str, list[tuple]] = {
    # Wanzhou: the Yangtze's stretch through the district, trash collected, population. The
    # 6,300-kilometer river is the whole Yangtze: no place of the atlas.
    "chinadaily-2018-07-30.txt": [
        ("place", "wanzhou", "500101"),
        ("metric", "wanzhou", "river_length", 80.3, "km"),
        ("metric", "wanzhou", "waste_collected", 3500, "tonne"),
        ("metric", "wanzhou", "population", 1.76e6, "count"),
    ],
    # Tongluo Flower Valley in Nan'an: its area and the kinds of trees and flowers it has; Fangniu
    # village, whose dumping ground it was. The start year (2017) is no figure.
    "chinadaily-2021-01-05.txt": [
        ("place", "Tongluo Flower Valley", "500108"),
        ("place", "Nan'an District", "500108"),
        ("place", "Fangniu Village", "500108"),
        ("place", "Tongluo Flower Valley Ecological Park", "500108", True),  # the same site, by its park's name
        ("metric", "Tongluo Flower Valley", "area", 13, "hectare"),
        ("metric", "Tongluo Flower Valley", "plant_species", 120, "count"),
    ],
    # Liangping: its wetland area and the title of International Wetland City.
    "chinaservicesinfo-2023-06-05.txt": [
        ("place", "Liangping District", "500155"),
        ("designation", "Liangping District", "international-wetland-city", None, None),
        ("metric", "Liangping District", "wetland_area", 20000, "hectare"),
    ],
    # The third batch of Chongqing eco-towns, town by district (Wulong still a county in 2014). The
    # year is only the notice's date, not in its text.
    "cqeeb-2014-08-06-zh.txt": [
        ("place", "fuling", "500102"), ("place", "蔺市镇", "500102"),
        ("place", "合川区", "500117"), ("place", "钱塘镇", "500117"), ("place", "太和镇", "500117"),
        ("place", "綦江区", "500110"), ("place", "三角镇", "500110"), ("place", "郭扶镇", "500110"),
        ("place", "wulong", "500156"), ("place", "仙女山镇", "500156"),
        *[("designation", town, "municipal-eco-town", 3, None)
          for town in ("蔺市镇", "钱塘镇", "太和镇", "三角镇", "郭扶镇", "仙女山镇")],
    ],
    # 2023's municipal demonstration districts and Two Mountains bases; Kaizhou's and Wushan's
    # national titles; Jiulongpo's good-air days and satisfaction (2019 and 2023); Zhong County's
    # transformed enterprises; the municipality's running totals, Chongqing's as a whole (the
    # seeds' place `chongqing` since issue 16), counts of the places holding each title.
    "kxzc-2024-06-07-zh.txt": [
        *[("place", p, code) for p, code in (
            ("kaizhou", "500154"), ("jiulongpo", "500107"), ("zhong-county", "500233"), ("wushan", "500237"),
            ("qianjiang", "500114"), ("apeng-river-basin", "500114"), ("江津区", "500116"),
            ("damian-mountain-area", "500116"), ("永川区", "500118"), ("chashan-bamboo-sea", "500118"),
            ("大足区", "500111"), ("dazu-rock-carvings-area", "500111"), ("荣昌区", "500153"),
            ("laixi-river-basin", "500153"))],
        *[("designation", p, "municipal-eco-civ-demo-zone", None, 2023)
          for p in ("jiulongpo", "kaizhou", "zhong-county", "wushan")],
        ("designation", "kaizhou", "national-agri-green-pioneer-area", 2, None),
        ("designation", "wushan", "national-two-mountains-base", 6, 2022),
        *[("designation", p, "municipal-two-mountains-base", None, 2023)
          for p in ("apeng-river-basin", "damian-mountain-area", "chashan-bamboo-sea", "dazu-rock-carvings-area",
                    "laixi-river-basin")],
        ("metric", "jiulongpo", "good_air_days", 303, "day"),
        ("metric", "jiulongpo", "good_air_days", 325, "day"),
        ("metric", "jiulongpo", "public_satisfaction", 73, "percent"),
        ("metric", "jiulongpo", "public_satisfaction", 94, "percent"),
        ("metric", "zhong-county", "green_transformed_enterprises", 26, "count"),
        ("metric", "chongqing", "municipal_eco_civ_demo_zones", 15, "count"),
        ("metric", "chongqing", "municipal_two_mountains_bases", 24, "count"),
        ("metric", "chongqing", "municipal_eco_civ_demo_towns", 321, "count"),
    ],
    # Fengjie's floating-waste shares, navel-orange area and output; Hanfeng Lake's bird species
    # (a decade ago and now); Qutang Gorge and Yongle town, both in Fengjie.
    "stdaily-2025-08-26.txt": [
        ("place", "fengjie", "500236"), ("place", "hanfeng-lake", "500154"), ("place", "kaizhou", "500154"),
        ("place", "Qutang Gorge", "500236"), ("place", "Yongle Town", "500236"),
        ("metric", "fengjie", "needs_name", 95, "percent"),
        ("metric", "fengjie", "needs_name", 100, "percent"),
        ("metric", "hanfeng-lake", "bird_species", 144, "count"),
        ("metric", "hanfeng-lake", "bird_species", 243, "count"),
        ("metric", "fengjie", "crop_area", 383000, "mu"),
        ("metric", "fengjie", "crop_output", 507000, "tonne"),
    ],
    # Every place it names is outside Chongqing (Ruicheng in Shanxi, Hongya in Sichuan, Hangjin
    # Banner in Inner Mongolia): nothing for the atlas.
    "xinhua-2018-12-15-zh-hant.txt": [],
}


@dataclass(frozen=True)
class Score:
    article: str
    expected: int
    found: int
    matched_expected: int
    matched_found: int

    @property
    def recall(self) -> float:
        return self.matched_expected / self.expected if self.expected else 1.0

    @property
    def precision(self) -> float:
        return self.matched_found / self.found if self.found else 1.0


def _names(review, atlas: Atlas) -> dict[str, set[str]]:
    """Place id -> every name it goes by in the review (and the seeds), normalised."""
    out: dict[str, set[str]] = {}
    for p in review.places:
        names = {p["id"], p.get("name_en") or "", p.get("name_zh") or "", *p.get("mentions", [])}
        if p["id"] in atlas.places:
            names |= set(atlas.places[p["id"]].names())
        out[p["id"]] = {normalise(n) for n in names if n}
    for place in atlas.places.values():
        out.setdefault(place.id, {normalise(n) for n in (place.id, *place.names())})
    return out


def _district(review, atlas: Atlas, place: str) -> str | None:
    entry = next((p for p in review.places if p["id"] == place), None)
    return entry["district"] if entry else atlas.places[place].district if place in atlas.places else None


def _base(value: float, unit: str) -> tuple[str, float]:
    try:
        base = to_base(value, unit)
    except ValueError:  # a unit an older atlas cannot read (when scoring it, for comparison)
        return unit, value
    return base.unit, round(base.value, 4)


def score(name: str, review, atlas: Atlas) -> Score:
    """Match a review's places, designations and figures against what a reader finds."""
    names = _names(review, atlas)
    expected = EXPECTED[name]

    def place_is(place_id: str, said: str) -> bool:
        return normalise(said) in names.get(place_id, set())

    def fits(fact: tuple, found: tuple) -> bool:
        if fact[0] != found[0]:
            return False
        if fact[0] == "place":
            return place_is(found[1], fact[1]) and found[2] == fact[2]
        if fact[0] == "designation":
            return place_is(found[1], fact[1]) and found[2:] == fact[2:5]
        key_ok = found[2].startswith("needs_name") if fact[2] == "needs_name" else found[2] == fact[2]
        return place_is(found[1], fact[1]) and key_ok and found[3] == _base(fact[3], fact[4])

    found = [("place", p["id"], p["district"]) for p in review.places]
    found += [("designation", d["place"], d["programme"], d["batch"], d["year"]) for d in review.designations]
    found += [("metric", m["place"], m["key"], _base(m["value"], m["unit"])) for m in review.metrics]
    wanted = [f for f in expected if not (f[0] == "place" and len(f) > 3)]
    optional = [f for f in expected if f[0] == "place" and len(f) > 3]
    hit_expected = sum(any(fits(f, g) for g in found) for f in wanted)
    counted = [g for g in found if not any(fits(f, g) for f in optional)]
    hit_found = sum(any(fits(f, g) for f in wanted) for g in counted)
    return Score(name, len(wanted), len(counted), hit_expected, hit_found)


def corpus_scores(atlas: Atlas, corpus: Path = CORPUS) -> list[Score]:
    scores = []
    for name in sorted(EXPECTED):
        path = corpus / name
        text = read_article(path)
        scores.append(score(name, ingest_article(text, atlas, article_source(atlas, path, text)), atlas))
    return scores


def total(scores: Iterable[Score]) -> Score:
    scores = list(scores)
    return Score("overall", *(sum(getattr(s, f) for s in scores)
                              for f in ("expected", "found", "matched_expected", "matched_found")))


def table(scores: list[Score], header: str = "article | expected", overall: bool = True) -> str:
    rows = [f"| {header} | candidates | recall | precision |", "|---|---|---|---|---|"]
    for s in [*scores, total(scores)] if overall else scores:
        rows.append(f"| {s.article} | {s.expected} | {s.found} | {s.recall:.2f} | {s.precision:.2f} |")
    return "\n".join(rows)


# --- the seed articles -----------------------------------------------------------------------------

def fact_keys(designations: Iterable[dict], metrics: Iterable[dict]) -> set[tuple]:
    """Designations as (place, programme); figures as (place, key, base unit, base value). A
    candidate figure takes a seed's key when it has that seed's place and value and comes from the
    seed's source, so for a seed article's figures this measures place and value."""
    keys = {("designation", d["place"], d["programme"]) for d in designations}
    for m in metrics:
        unit, value = _base(m["value"], m["unit"])
        keys.add(("metric", m["place"], m["key"], unit, round(value, 6)))
    return keys


def curated(atlas: Atlas, source: str | None = None) -> set[tuple]:
    """The seeds' facts whose evidence comes from `source` (all of them for None): every designation
    and figure, targets, plans and Chongqing's as a whole included."""
    return fact_keys([vars(d) for d in atlas.designations.values() if source in (None, d.evidence.source)],
                     [{"place": m.place, "key": m.key, "value": m.base_value, "unit": m.base_unit}
                      for m in atlas.metrics.values() if source in (None, m.evidence.source)])


def seed_score(name: str, designations: list[dict], metrics: list[dict], atlas: Atlas) -> Score:
    """Recall: the share of a seed article's curated facts among its candidates. Precision: the
    share of candidates that are curated facts (from any source)."""
    source = next(s for s in atlas.sources.values() if s.file == name)
    wanted, everything = curated(atlas, source.id), curated(atlas)
    found = fact_keys(designations, metrics)
    return Score(name, len(wanted), len(found), len(wanted & found), len(found & everything))


def seed_scores(atlas: Atlas) -> list[Score]:
    scores = []
    for path in sorted(ARTICLES.glob("*.txt")):
        text = read_article(path)
        review = ingest_article(text, atlas, article_source(atlas, path, text))
        scores.append(seed_score(path.name, review.designations, review.metrics, atlas))
    return scores
