"""`atlas ingest`: candidates from the seed articles recall the curated facts; the rules for
programmes, batches, levels and figures; bad input and bad reviews fail cleanly; --accept merges
into seeds/ all at once or not at all."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from atlas.cli import cli
from atlas.geocode import load_gazetteer
from atlas.ingest import ingest_article
from atlas.ingest import review as review_module
from atlas.ingest.designations import batch_in
from atlas.ingest.numbers import find_figures, unit_name
from atlas.load import MAX_EVIDENCE_WORDS, load_atlas
from atlas.units import normalise, parse_stated

from .ingest_corpus import seed_score, table
from .seedtools import copy_seeds, edit_seed
from .shared import ARTICLES, normalise_space, source_text

ATLAS = load_atlas()
SOURCE_OF_FILE = {s.file: s for s in ATLAS.sources.values() if s.kind == "article"}


def run(*args):
    return CliRunner().invoke(cli, ["ingest", *map(str, args)])


def ingest_file(path: Path, out: Path, *options) -> dict:
    result = run(path, "--out", out, *options)
    assert result.exit_code == 0, result.output
    return yaml.safe_load(out.read_text("utf-8"))


@pytest.fixture(scope="module")
def reviews(tmp_path_factory) -> dict[str, dict]:
    """The review file of every seed article, written by the CLI and read back, by article name."""
    out = tmp_path_factory.mktemp("reviews")
    return {path.name: ingest_file(path, out / f"{path.stem}.review.yaml") for path in sorted(ARTICLES.glob("*.txt"))}


# Seed-article recall (tests/ingest_corpus.py's measure, as benchmarks/ingest_score.py prints it)
# may not fall below what it is. Before issue 15 the rules recalled 1.00, 0.77, 0.42, 1.00, 0.53 of
# these (the seeds of issue 16). Still missed: 001, Dazu's world cultural heritage ("protecting world
# heritage"); 004, the Wulong Karst's world natural heritage ("safeguard the World Natural Heritage
# site"), Wulong's 350 good-air days ("the annual number of days with good air quality steadily above
# 350") and Chongqing's 51 inter-provincial channels (its sentence names only the Yangtze River
# Economic Belt).
SEED_RECALL = {"000_7e21b9e3505d52fe.txt": 1.0, "001_54c89712fab19ef2.txt": 0.97, "002_3edcef8a517ec728.txt": 1.0,
               "003_c4c8725dee9525af.txt": 1.0, "004_5d58072e82e72910.txt": 0.8}


def test_candidates_recall_the_curated_facts_of_every_article(reviews):
    """Recall per seed article: its curated designations (same place and programme) and figures
    (same place, key and value) among the candidates of its review file. Run with -s to see it."""
    assert set(reviews) == set(SOURCE_OF_FILE) == set(SEED_RECALL), "every article has a review and a source"
    scores = [seed_score(name, review["designations"], review["metrics"], ATLAS) for name, review in sorted(reviews.items())]
    print("\n" + table(scores, "seed article | curated", overall=False))
    assert all(s.recall >= SEED_RECALL[s.article] - 1e-9 for s in scores), table(scores, "seed article | curated", False)


def test_evidence_and_stated_are_verbatim_and_parse(reviews):
    """What the seeds' own evidence checks demand of every candidate, new or known."""
    for name, review in reviews.items():
        text = source_text(ARTICLES / name)
        for entry in review["designations"] + review["metrics"]:
            assert normalise_space(entry["evidence"]) in text, (name, entry["id"])
            assert len(entry["evidence"].split()) <= MAX_EVIDENCE_WORDS, (name, entry["id"])
        for m in review["metrics"]:
            assert m["stated"] in m["evidence"], (name, m["id"])
            stated = parse_stated(m["stated"])
            assert normalise(stated.value, stated.unit) == normalise(m["value"], m["unit"])
            assert stated.qualifier == m["qualifier"]


def test_known_means_in_seeds_with_the_seeds_id(reviews):
    for review in reviews.values():
        for d in review["designations"]:
            seed = ATLAS.designations.get(d["id"])
            assert (d["status"] == "known") == (seed is not None)
            if seed:
                assert (seed.place, seed.programme, seed.level) == (d["place"], d["programme"], d["level"])
        for m in review["metrics"]:
            seed = ATLAS.metrics.get(m["id"])
            assert (m["status"] == "known") == (seed is not None)
            if seed:
                assert (seed.place, seed.key) == (m["place"], m["key"])
                assert seed.base_value == pytest.approx(normalise(m["value"], m["unit"]).value)
        assert review["sources"][0]["status"] == "known"


def _by(entries, **match):
    return next(e for e in entries if all(e.get(k) == v for k, v in match.items()))


def test_batches_years_and_levels_from_the_articles(reviews):
    cq = reviews["001_54c89712fab19ef2.txt"]["designations"]
    assert _by(cq, place="apeng-river-basin")["programme"] == "municipal-two-mountains-base"
    assert _by(cq, place="apeng-river-basin", programme="municipal-two-mountains-base")["batch"] == 5
    wushan = _by(cq, place="wushan", programme="national-two-mountains-base")
    assert (wushan["batch"], wushan["year"]) == (6, 2022)
    orange = _by(cq, place="three-gorges-orange-township", programme="national-two-mountains-base")
    assert (orange["batch"], orange["year"]) == (7, 2023)
    assert _by(cq, place="hanfeng-lake", programme="national-beautiful-rivers-lakes")["batch"] == 2
    assert {d["programme"] for d in cq if d["place"] == "jiulongpo"} == {"municipal-eco-civ-demo-zone"}
    conference = reviews["004_5d58072e82e72910.txt"]["designations"]
    assert {d["level"] for d in conference if d["place"] == "bishan" and "countryside" in d["programme"]} == {
        "national", "municipal"}


def test_figures_keep_qualifier_year_and_place(reviews):
    jinyun = reviews["000_7e21b9e3505d52fe.txt"]["metrics"]
    plants = _by(jinyun, stated="nearly one million flowers and trees")
    assert (plants["place"], plants["qualifier"], plants["value"], plants["unit"]) == (
        "jinyun-mountain", "nearly", 1, "million trees")
    assert _by(jinyun, stated="55 million yuan")["place"] == "jinyun-mountain"
    assert _by(reviews["001_54c89712fab19ef2.txt"]["metrics"], stated="335 days")["year"] == 2023
    press = reviews["003_c4c8725dee9525af.txt"]["metrics"]
    assert _by(press, stated="over 73%")["qualifier"] == "over"
    assert _by(press, stated="6,000 mu")["place"] == "xiushan"
    assert _by(press, stated="70%")["place"] == "apeng-river-basin"  # "the villages in the basin"
    city = reviews["002_3edcef8a517ec728.txt"]["metrics"]  # Chongqing's as a whole, as the seeds have them
    assert {m["place"] for m in city if m["stated"] in ("29,000 tons", "114 towns", "3.754 million households")} == {
        "chongqing"}


def test_places_known_and_new(reviews):
    places = reviews["001_54c89712fab19ef2.txt"]["places"]
    assert _by(places, id="chashan-bamboo-sea")["status"] == "known"
    jiangjin = _by(places, name_en="Jiangjin District")  # a district with no place entry yet
    assert (jiangjin["status"], jiangjin["kind"], jiangjin["district"], jiangjin["name_zh"]) == (
        "new", "district", "500116", "江津区")
    town = _by(places, name_en="Xuebao Town")  # a seed place since issue 16
    assert (town["status"], town["kind"], town["district"]) == ("known", "town", "500154")
    assert not [p for p in places if "Two Mountains" in p["name_en"]]


def test_review_file_is_deterministic(tmp_path):
    article = ARTICLES / "003_c4c8725dee9525af.txt"
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    ingest_file(article, first)
    ingest_file(article, second)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_text("utf-8").startswith("# atlas ingest: candidates from 003_c4c8725dee9525af.txt")


# --- the rules, one by one ---------------------------------------------------------------------

def candidates(text: str):
    return ingest_article(text, ATLAS, {"id": "test", "title": None})


@pytest.mark.parametrize("text, expected", [
    ("Bishan District was named in the 6th batch of national ecological civilization construction "
     "demonstration zones in 2022.", [("bishan", "national-eco-civ-demo-zone", 6, 2022)]),
    ('Wulong was awarded the third batch of "Two Mountains" practical and innovative bases in Chongqing City.',
     [("wulong", "municipal-two-mountains-base", 3, None)]),
    ("In 2019, Beibei won the title of National Demonstration Zone for Eco-environmental Progress.",
     [("beibei", "national-eco-civ-demo-zone", None, 2019)]),
    ("Guangyang Island became one of the nation's first and the municipality's inaugural beautiful "
     "countryside pilot zones.", [("guangyang-island", "national-beautiful-countryside-pilot", None, None),
                                  ("guangyang-island", "municipal-beautiful-countryside-pilot", None, None)]),
    ("Yubei District, Fuling District and Wanzhou District were named ecological civilization construction "
     "demonstration districts in Chongqing City.",
     [(p, "municipal-eco-civ-demo-zone", None, None) for p in ("yubei", "fuling", "wanzhou")]),
    ("Chongqing has 2 national ecological civilization construction demonstration zones (Bishan and Beibei).",
     [(p, "national-eco-civ-demo-zone", None, None) for p in ("bishan", "beibei")]),
    ("Kaizhou District is a green county. It has won the national health county and China's natural oxygen bar.",
     [("kaizhou", "national-health-county", None, None), ("kaizhou", "china-natural-oxygen-bar", None, None)]),
    ("2024年，璧山区被命名为第五批国家“绿水青山就是金山银山”实践创新基地。",
     [("bishan", "national-two-mountains-base", 5, 2024)]),
    ("Taking the establishment of an ecological civilization construction demonstration zone as its goal, "
     "Yubei District planted trees.", []),
])
def test_programme_rules(text, expected):
    found = [(d["place"], d["programme"], d["batch"], d["year"]) for d in candidates(text).designations]
    assert found == expected


def test_a_place_located_in_a_district_takes_the_designation():
    review = candidates('The Yangshui River basin in Wulong District was named in the fifth batch of "Two '
                        'Mountains" practice and innovation bases in Chongqing City.')
    assert [(d["place"], d["status"], d["batch"]) for d in review.designations] == [("yangshui-river-basin", "new", 5)]
    assert _by(review.places, id="yangshui-river-basin")["status"] == "new"


@pytest.mark.parametrize("text, batch", [
    ("named as the fifth batch of", 5), ("in the 6th batch of", 6), ("the 2nd batch", 2),
    ("被命名为第五批", 5), ("第7批", 7), ("the 21st batch", None), ("a batch of", None),
])
def test_batches(text, batch):
    assert batch_in(text) == batch


@pytest.mark.parametrize("text, stated, value, unit, qualifier", [
    ("covers an area of 7,600 hectares and", "7,600 hectares", 7600, "hectares", None),
    ("a GEP of 239.3 billion yuan.", "239.3 billion yuan", 239.3, "billion yuan", None),
    ("capacity of 1.6 million kilowatts- 12% of", "1.6 million kilowatts", 1.6, "million kilowatts", None),
    ("forest cover reaches 98.6%, with", "98.6%", 98.6, "percent", None),
    ("allocating 6,000 mu of land", "6,000 mu", 6000, "mu", None),
    ("air quality reached 335 days in", "335 days", 335, "days", None),
    ("now accounts for over 73% of", "over 73%", 73, "percent", "over"),
    ("with nearly one million flowers and trees planted", "nearly one million flowers and trees", 1,
     "million trees", "nearly"),
    ("more than a thousand digital economy companies", "more than a thousand digital economy companies", 1,
     "thousand companies", "more than"),
    ("a 40 million yuan fund", "40 million yuan", 40, "million yuan", None),
    ("demolished 620,000 square meters of buildings", "620,000 square meters", 620000, "square meters", None),
])
def test_figures(text, stated, value, unit, qualifier):
    figures = find_figures(text)
    assert [(f.stated, f.value, f.unit, f.qualifier) for f in figures][:1] == [(stated, value, unit, qualifier)]


@pytest.mark.parametrize("text", [
    "a mountain range that originated 70 million years ago",
    "the 'one village, one product' initiative",
    "the Three Gorges Orange Township has been named",
    "concentrations of PM2.5 and SO2 fell",
    "call +86-23-67158993 for details",
    "the 15th Five-Year Plan period",
    "about USD 140 million) in",
])
def test_not_figures(text):
    assert find_figures(text) == []


def test_units_are_those_figures_use():
    assert unit_name("hectares") == "hectare" and unit_name("households") == "household"
    assert unit_name("has") is None  # pint: ha (hectare) + plural s
    assert unit_name("turns") is None and unit_name("years") is None and unit_name("bits") is None


@pytest.mark.parametrize("text, place", [
    ("Yubei District planted trees. The forest coverage rate here reaches 60%.", "yubei"),
    ("Xiushan Tujia and Miao Autonomous County closed its mines. The district now has 40 villages with clean "
     "water.", "xiushan"),
    ("Beibei District has invested 20 million yuan to protect Jinyun Mountain.", "jinyun-mountain"),
    ("Wulong District has built parks, and 23 towns were rated green.", "wulong"),
    ("Wushan County grew. It is 12% of Chongqing's orchards.", "wushan"),
    ("Chongqing has sorted waste for 3.754 million households.", "chongqing"),
    ("Wanzhou, in northeast Chongqing, has 1.76 million people.", "wanzhou"),  # Chongqing only locates it
    ("Wulong District, a district of Chongqing, covers 2,901 square kilometers.", "wulong"),
    ("The Three Gorges Reservoir Area has 20 million residents.", None),
])
def test_figure_places(text, place):
    review = candidates(text)
    assert [m["place"] for m in review.metrics] == ([place] if place else [])
    assert review.unplaced == (0 if place else 1)


# --- bad input -----------------------------------------------------------------------------------

def _clean_failure(result, *expected):
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert all(part in lines[0] for part in expected), result.output


@pytest.mark.parametrize("name, content, expected", [
    ("empty.txt", b"", "is empty"),
    ("blank.txt", b" \n\n\t\n", "is empty"),
    ("picture.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is a binary file (NUL byte at offset 8)"),
    ("gbk.txt", "武隆区森林覆盖率\n达到百分之七十".encode("gb18030"), ":1: is not valid UTF-8"),
])
def test_bad_articles_fail_with_one_line(tmp_path, name, content, expected):
    article = tmp_path / name
    article.write_bytes(content)
    out = tmp_path / "review.yaml"
    _clean_failure(run(article, "--out", out), str(article), expected)
    assert not out.exists()


def test_a_50_mb_file_is_refused_before_it_is_read(tmp_path):
    article = tmp_path / "huge.txt"
    with article.open("wb") as f:
        f.truncate(50 * 2**20)  # sparse: no 50 MB written
    started = time.monotonic()
    result = run(article, "--out", tmp_path / "review.yaml")
    _clean_failure(result, str(article), "is 52,428,800 bytes; a plain-text article may be at most 5 MB")
    assert time.monotonic() - started < 5


def test_usage_errors(tmp_path):
    article = ARTICLES / "003_c4c8725dee9525af.txt"
    assert run().exit_code == 2 and "give either ARTICLE" in run().output
    both = run(article, "--accept", article)
    assert both.exit_code == 2 and "give either ARTICLE" in both.output
    out = tmp_path / "review.yaml"
    out.write_text("edited by hand", "utf-8")
    kept = run(article, "--out", out)
    assert kept.exit_code == 1 and "pass --force" in kept.output and out.read_text("utf-8") == "edited by hand"
    assert run(article, "--out", out, "--force").exit_code == 0
    bad_date = run(article, "--out", out, "--force", "--date", "5 January")
    assert bad_date.exit_code == 2 and "not an ISO date" in bad_date.output


# --- accepting a review --------------------------------------------------------------------------

def snapshot(seeds: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(seeds.iterdir())}


def write_review(path: Path, review: dict) -> Path:
    path.write_text(yaml.safe_dump(review, allow_unicode=True, sort_keys=False), "utf-8")
    return path


@pytest.fixture
def seeds(tmp_path) -> Path:
    return copy_seeds(tmp_path / "seeds")


def test_accept_merges_new_entries_keeping_the_files_text(tmp_path, seeds):
    """Take two curated facts out of a copy of the seeds, ingest their article, prune the review as a
    person would (no new places), accept: the facts are back, known on the next run."""
    edit_seed(seeds, "metrics", lambda ms: ms.remove(next(m for m in ms if m["id"] == "wulong-gep")))
    edit_seed(seeds, "designations", lambda ds: ds.remove(
        next(d for d in ds if d["id"] == "jingzhu-village-best-tourism-village")))
    before = {p.name: p.read_text("utf-8") for p in seeds.iterdir()}
    review = ingest_file(ARTICLES / "003_c4c8725dee9525af.txt", tmp_path / "r.yaml", "--seeds", seeds)
    review["places"] = [p for p in review["places"] if p["status"] == "known"]
    gep = _by(review["metrics"], stated="239.3 billion yuan")
    assert gep["status"] == "new"
    gep["key"] = "gep"
    new = [e["id"] for e in review["designations"] + review["metrics"] if e["status"] == "new"]
    assert len(new) == 2

    result = run("--accept", write_review(tmp_path / "r.yaml", review), "--seeds", seeds)
    assert result.exit_code == 0, result.output
    assert "merged 1 designations, 1 metrics" in result.output
    after = {p.name: p.read_text("utf-8") for p in seeds.iterdir()}
    assert set(after) == set(before), "no temporary files left behind"
    for name in ("designations.yaml", "metrics.yaml"):
        assert after[name].startswith(before[name].rstrip("\n")) and "added by atlas ingest --accept r.yaml" in after[name]
    assert {k: v for k, v in after.items() if k not in ("designations.yaml", "metrics.yaml")} == {
        k: v for k, v in before.items() if k not in ("designations.yaml", "metrics.yaml")}
    merged = load_atlas(seeds)
    assert merged.metrics[gep["id"]].base_value == 239.3e9 and merged.metrics[gep["id"]].key == "gep"
    again = ingest_file(ARTICLES / "003_c4c8725dee9525af.txt", tmp_path / "again.yaml", "--seeds", seeds)
    assert all(e["status"] == "known" for e in again["designations"] + again["metrics"])


def test_accept_adds_a_new_source_and_place_with_a_gazetteer_entry(tmp_path, seeds):
    article = tmp_path / "wulong-note.txt"
    article.write_text("Notes on the Yangshui River\n\nThe Yangshui River basin in Wulong District was named in the fifth batch of "
                       '"Two Mountains" practice and innovation bases in Chongqing City.\n', "utf-8")
    review = ingest_file(article, tmp_path / "r.yaml", "--seeds", seeds, "--outlet", "Test Outlet", "--date", "2025-01")
    assert review["sources"][0] == {"id": "wulong-note", "status": "new", "kind": "article", "outlet": "Test Outlet",
                                    "title": "Notes on the Yangshui River", "date": "2025-01", "file": "wulong-note.txt"}
    # The headline's "Yangshui River" has no district and no fact: not proposed. The basin takes the
    # district it is named in, and its kind from its name.
    basin = _by(review["places"], status="new")
    assert [p["id"] for p in review["places"] if p["status"] == "new"] == ["yangshui-river-basin"]
    assert (basin["kind"], basin["district"]) == ("river basin", "500156")
    result = run("--accept", write_review(tmp_path / "r.yaml", review), "--seeds", seeds)
    assert result.exit_code == 0, result.output
    merged = load_atlas(seeds)
    assert merged.designations["yangshui-river-basin-municipal-two-mountains-base"].batch == 5
    assert merged.sources["wulong-note"].outlet == "Test Outlet"
    entry = load_gazetteer(seeds / "gazetteer.yaml", merged.places).entries["yangshui-river-basin"]
    assert (entry.precision, entry.lon) == ("district", None)


def _accept_fails(tmp_path, seeds, review, *expected):
    before = snapshot(seeds)
    path = write_review(tmp_path / "r.yaml", review)
    result = run("--accept", path, "--seeds", seeds)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert any(str(path) in line and all(e in line for e in expected) for line in result.output.splitlines()), \
        result.output
    assert snapshot(seeds) == before, "seeds/ must be left byte for byte as it was"


def _review_with_new_metric(tmp_path, seeds) -> dict:
    edit_seed(seeds, "metrics", lambda ms: ms.remove(next(m for m in ms if m["id"] == "wulong-gep")))
    review = ingest_file(ARTICLES / "003_c4c8725dee9525af.txt", tmp_path / "r.yaml", "--seeds", seeds)
    review["places"] = [p for p in review["places"] if p["status"] == "known"]
    return review


def test_accept_refuses_a_bad_unit_naming_the_entry(tmp_path, seeds):
    review = _review_with_new_metric(tmp_path, seeds)
    gep = _by(review["metrics"], status="new")
    gep["unit"] = "billion zorkmids"
    _accept_fails(tmp_path, seeds, review, f"metrics[{gep['id']}].unit", "unknown unit 'billion zorkmids'")


def test_accept_refuses_a_new_place_without_kind(tmp_path, seeds):
    review = _review_with_new_metric(tmp_path, seeds)
    review["places"].append({"id": "fairy-mountain", "status": "new", "name_en": "Fairy Mountain", "kind": None,
                             "district": None})
    _accept_fails(tmp_path, seeds, review, "places[fairy-mountain].kind", "missing required field")


@pytest.mark.parametrize("change, expected", [
    (lambda r: r["metrics"][0].update(status="maybe"), ".status: must be one of new, known, target, plan; got 'maybe'"),
    (lambda r: r["designations"].append({"status": "new", "place": "wulong"}), "designations[1].id: a new entry needs an id"),
    (lambda r: r["designations"].append({"id": "x", "status": "new", "place": "atlantis"}), "designations[x]"),
    (lambda r: r.update(rumours=[]), "expected top-level lists"),
])
def test_accept_refuses_misshapen_reviews(tmp_path, seeds, change, expected):
    review = _review_with_new_metric(tmp_path, seeds)
    change(review)
    _accept_fails(tmp_path, seeds, review, expected)


def test_accept_with_nothing_new_changes_nothing(tmp_path, seeds):
    review = ingest_file(ARTICLES / "000_7e21b9e3505d52fe.txt", tmp_path / "r.yaml", "--seeds", seeds)
    review["places"] = [p for p in review["places"] if p["status"] == "known"]
    before = snapshot(seeds)
    result = run("--accept", write_review(tmp_path / "r.yaml", review), "--seeds", seeds)
    assert result.exit_code == 0 and "nothing new to merge" in result.output
    assert snapshot(seeds) == before


def test_a_failed_rename_puts_every_file_back(tmp_path, seeds, monkeypatch):
    review = _review_with_new_metric(tmp_path, seeds)
    _by(review["designations"], place="jingzhu-village").update(status="new", id="jingzhu-again", programme="world-natural-heritage",
                                                                level="international")
    before = snapshot(seeds)
    calls = []

    def flaky_replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(dst))
        return real_replace(src, dst)

    real_replace = review_module.os.replace
    monkeypatch.setattr(review_module.os, "replace", flaky_replace)
    result = run("--accept", write_review(tmp_path / "r.yaml", review), "--seeds", seeds)
    assert result.exit_code == 1 and "No space left on device" in result.output and "nothing was changed" in result.output
    assert len(calls) == 2
    assert snapshot(seeds) == before


def test_a_target_is_merged_as_one(tmp_path, seeds):
    """A figure marked target in the review is merged with `status: target` where the seeds' schema
    has the field, else with a note saying so: never as achieved."""
    from atlas.load import SCHEMAS

    article = tmp_path / "plan.txt"
    article.write_text("Wulong District aims to raise its forest coverage to 75% by 2027.\n", "utf-8")
    review = ingest_file(article, tmp_path / "r.yaml", "--seeds", seeds, "--outlet", "Test", "--title", "A plan")
    target = _by(review["metrics"], key="forest_cover")
    assert (target["status"], target["value"], target["year"]) == ("target", 75, 2027)
    result = run("--accept", write_review(tmp_path / "r.yaml", review), "--seeds", seeds)
    assert result.exit_code == 0, result.output
    merged = yaml.safe_load((seeds / "metrics.yaml").read_text("utf-8"))["metrics"][-1]
    if "status" in SCHEMAS["metrics"]:
        assert merged["status"] == "target"
    else:
        assert "status" not in merged and "target" in merged["note"]
