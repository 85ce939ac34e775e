"""Every figure and designation in seeds/ traces to the words of the source it cites."""

from __future__ import annotations

import pytest

from atlas.load import load_atlas
from atlas.units import normalise, parse_stated

from .shared import ARTICLES, EXTERNAL_FACTS, normalise_space, source_text

ATLAS = load_atlas()


def text_of(source_id: str) -> str:
    source = ATLAS.sources[source_id]
    path = ARTICLES / source.file if source.kind == "article" else EXTERNAL_FACTS
    assert path.is_file(), f"{source_id}: {path} is missing"
    return source_text(path)


def test_every_article_is_a_source_and_every_source_file_exists():
    files = {s.file for s in ATLAS.sources.values() if s.kind == "article"}
    assert files == {p.name for p in ARTICLES.glob("*.txt")}


@pytest.mark.parametrize("metric", ATLAS.metrics.values(), ids=lambda m: m.id)
def test_metric_stated_and_evidence_occur_in_source(metric):
    text = text_of(metric.evidence.source)
    excerpt = normalise_space(metric.evidence.excerpt)
    assert excerpt in text, f"excerpt not in {metric.evidence.source}: {excerpt!r}"
    assert normalise_space(metric.stated) in excerpt, "the stated figure must sit inside its excerpt"


@pytest.mark.parametrize("metric", ATLAS.metrics.values(), ids=lambda m: m.id)
def test_metric_value_and_unit_parse_from_stated(metric):
    stated = parse_stated(metric.stated, metric.unit)
    as_stated = normalise(stated.value, stated.unit)
    assert as_stated.unit == metric.base_unit
    assert as_stated.value == pytest.approx(metric.base_value, rel=1e-12)
    assert stated.qualifier == metric.qualifier


@pytest.mark.parametrize("place", [p for p in ATLAS.places.values() if p.evidence], ids=lambda p: p.id)
def test_place_role_evidence_occurs_in_source(place):
    """A place's role (a protection status, project or plan) is quoted from its source too."""
    excerpt = normalise_space(place.evidence.excerpt)
    assert excerpt in text_of(place.evidence.source), f"not in {place.evidence.source}: {excerpt!r}"


def test_every_place_has_a_role_its_sources_state():
    with_facts = {d.place for d in ATLAS.designations.values()} | {m.place for m in ATLAS.metrics.values()}
    assert [p.id for p in ATLAS.places.values() if p.id not in with_facts and not p.evidence] == []


def test_targets_and_plans_are_marked_by_status_not_by_key():
    metrics = ATLAS.metrics
    assert not [m.id for m in metrics.values() if m.key.endswith(("_target", "_plan"))]
    assert not [m.id for m in metrics.values() if m.note and m.note.lower().startswith(("target", "planned"))]
    doubling = metrics["beibei-strategic-emerging-industries-doubling"]
    assert (doubling.status, doubling.year, doubling.base_value) == ("target", 2026, 2)
    assert metrics["wulong-good-air-days-target"].status == "target"
    assert metrics["beibei-zero-sewage-villages-target"].status == "plan"
    assert metrics["wulong-gep"].status == "achieved"  # the default


def test_city_wide_figures_attach_to_chongqing_as_a_whole():
    city = ATLAS.places["chongqing"]
    assert city.kind == "municipality" and city.city_wide
    keys = {m.key for m in ATLAS.metrics_of("chongqing")}
    assert {"municipal_demo_towns", "waste_sorting_households", "domestic_waste_treatment_facilities",
            "national_eco_civ_demo_zones", "intermodal_transport_volume"} <= keys
    assert len(keys) >= 15


def test_external_sources_have_a_url_or_say_why_not():
    for source in ATLAS.sources.values():
        if source.url:
            assert source.url.startswith(("https://", "http://")), source.id
        elif source.kind == "external":
            assert source.note, source.id


@pytest.mark.parametrize("designation", ATLAS.designations.values(), ids=lambda d: d.id)
def test_designation_evidence_occurs_in_source(designation):
    for evidence in (designation.evidence, designation.batch_evidence, designation.year_evidence):
        if evidence:
            excerpt = normalise_space(evidence.excerpt)
            assert excerpt in text_of(evidence.source), f"not in {evidence.source}: {excerpt!r}"


def test_batches_and_years_from_other_reports_cite_them():
    """A batch or year the articles leave out must name the report that gives it."""
    external = {s for s, src in ATLAS.sources.items() if src.kind == "external"}
    cited = {e.source for d in ATLAS.designations.values() for e in (d.batch_evidence, d.year_evidence) if e}
    assert external <= cited | {d.evidence.source for d in ATLAS.designations.values()}


def test_known_figures_normalise_to_base_units():
    metrics = ATLAS.metrics
    assert metrics["jinyun-mountain-area"].base_value == 7600 and metrics["jinyun-mountain-area"].base_unit == "hectare"
    assert metrics["wulong-gep"].base_value == 239.3e9 and metrics["wulong-gep"].field_name == "gep_cny"
    assert metrics["xiushan-industrial-land"].base_value == pytest.approx(400)  # 6,000 mu = 400 ha
    assert metrics["jinyun-mountain-demolished-area"].base_value == pytest.approx(62)  # m² -> ha
    assert metrics["wulong-clean-energy-capacity"].base_value == 1.6e6
    assert metrics["kaizhou-good-air-days-2023"].field_name == "good_air_days"
    assert metrics["jinyun-mountain-forest-cover"].field_name == "forest_cover_pct"


def test_coverage_of_the_places_the_issue_names():
    names = {p.id for p in ATLAS.places.values()}
    assert {
        "jinyun-mountain", "apeng-river-basin", "wulong", "damian-mountain-area", "hanfeng-lake",
        "guangyang-island", "three-gorges-orange-township", "xiushan", "chashan-bamboo-sea",
        "dazu-rock-carvings-area", "laixi-river-basin", "jiulongpo", "kaizhou", "zhong-county",
        "wushan", "bishan", "yubei", "beibei", "qianjiang", "chengkou",
        # districts and counties the conference article quotes
        "fengjie", "wanzhou", "fuling", "yunyang",
    } <= names
    chashan = ATLAS.places["chashan-bamboo-sea"]
    assert {"Chashan Bamboo Sea", "Chashan Zhuhai"} <= set(chashan.names())


def test_unknown_batches_and_years_stay_null():
    assert ATLAS.designations["yubei-national-eco-civ-demo"].batch is None
    assert ATLAS.designations["guangyang-island-national-two-mountains"].year is None
    assert ATLAS.designations["three-gorges-orange-township-national-two-mountains"].batch == 7
