"""The atlas's data model: plain frozen dataclasses, one per kind of seed entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from .units import BASE_UNITS, in_base_unit

LEVELS = ("international", "national", "municipal")
PRECISIONS = ("site", "area", "district")
# A figure's status: achieved (stated as done or measured; the default), target (a value the
# source aims at, by its year where given) or plan (a planned undertaking of that size).
STATUSES = ("achieved", "target", "plan")


@dataclass(frozen=True)
class Source:
    """Where facts come from: one of the seed articles, or another named public report."""

    id: str
    kind: str  # "article" (a file in shared/seeds) or "external"
    outlet: str
    title: str
    date: str | None = None
    file: str | None = None
    url: str | None = None
    confidence: str = "high"
    note: str | None = None


@dataclass(frozen=True)
class District:
    """A district or county of Chongqing, keyed by its 6-digit administrative code."""

    code: str
    name_en: str
    name_zh: str
    kind: str  # "district" or "county"


# Chongqing as a whole, under the city's own administrative code: the district of the place of
# kind `municipality`. It has no point; the map and the exports draw it as the union of the districts.
CITY = District("500000", "Chongqing Municipality", "重庆市", "municipality")


@dataclass(frozen=True)
class Programme:
    """A designation programme, e.g. the national 'Two Mountains' practice and innovation bases."""

    id: str
    name_en: str
    level: str
    name_zh: str | None = None
    awarding_body: str | None = None
    awarding_body_zh: str | None = None


@dataclass(frozen=True)
class Place:
    """A named place: a whole district or county, or a site, area, river basin, ... inside one."""

    id: str
    name_en: str
    kind: str
    district: str
    name_zh: str | None = None
    aliases: tuple[str, ...] = ()
    role: str | None = None  # what the source says of it, where no designation or figure does
    evidence: Evidence | None = None  # the words of the source giving its role or its Chinese name

    @property
    def city_wide(self) -> bool:
        """Chongqing as a whole: no point, and not inside any one district."""
        return self.district == CITY.code

    def names(self) -> tuple[str, ...]:
        """Every name the place goes by, English first."""
        return tuple(n for n in (self.name_en, self.name_zh, *self.aliases) if n)


@dataclass(frozen=True)
class Evidence:
    """The few words of a source that state a fact."""

    source: str
    excerpt: str


@dataclass(frozen=True)
class Designation:
    """A place's designation under a programme; batch and year stay None when no source gives them."""

    id: str
    place: str
    programme: str
    level: str
    batch: int | None
    year: int | None
    evidence: Evidence
    batch_evidence: Evidence | None = None
    year_evidence: Evidence | None = None
    confidence: str = "high"

    def sources(self) -> tuple[str, ...]:
        found = (self.evidence, self.batch_evidence, self.year_evidence)
        return tuple(dict.fromkeys(e.source for e in found if e))


@dataclass(frozen=True)
class Metric:
    """A figure about a place, as stated and normalised to its base unit."""

    id: str
    place: str
    key: str
    value: float
    unit: str
    stated: str
    evidence: Evidence
    base_value: float
    base_unit: str
    kind: str  # a key of units.BASE_UNITS
    year: int | None = None
    qualifier: str | None = None
    note: str | None = None
    status: str = "achieved"  # one of STATUSES; for a target or plan, `year` is the year aimed at

    @property
    def achieved(self) -> bool:
        return self.status == "achieved"

    @property
    def status_tag(self) -> str | None:
        """A target's or plan's short tag, e.g. "target 2026"; None for an achieved figure."""
        return None if self.achieved else self.status + (f" {self.year}" if self.year else "")

    @property
    def in_base_unit(self) -> str | None:
        """The figure in its base unit, for readers, where the source stated it otherwise."""
        return in_base_unit(self.value, self.unit, self.base_value, self.base_unit)

    @cached_property
    def field_name(self) -> str:
        """Column name in exports: the key with its unit suffix, e.g. `area_ha`, `gep_cny`."""
        suffix = BASE_UNITS[self.kind][1]
        return self.key if self.key.endswith("_" + suffix) or self.key == suffix else f"{self.key}_{suffix}"


@dataclass(frozen=True)
class Atlas:
    """Everything the seeds hold, cross-checked; mappings keyed by id (code for districts)."""

    sources: dict[str, Source] = field(default_factory=dict)
    districts: dict[str, District] = field(default_factory=dict)
    programmes: dict[str, Programme] = field(default_factory=dict)
    places: dict[str, Place] = field(default_factory=dict)
    designations: dict[str, Designation] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)

    def district_of(self, place: Place) -> District:
        """The place's district, or `CITY` for Chongqing as a whole."""
        return CITY if place.city_wide else self.districts[place.district]

    def designations_of(self, place_id: str) -> list[Designation]:
        """The place's designations, in seed order."""
        return self._by_place[0].get(place_id, [])

    def metrics_of(self, place_id: str) -> list[Metric]:
        """The place's figures, in seed order."""
        return self._by_place[1].get(place_id, [])

    def designations_under(self, programme_id: str) -> list[Designation]:
        """The programme's designations, in seed order."""
        return self._by_programme.get(programme_id, [])

    @cached_property
    def _by_programme(self) -> dict[str, list[Designation]]:
        grouped: dict[str, list[Designation]] = {}
        for d in self.designations.values():
            grouped.setdefault(d.programme, []).append(d)
        return grouped

    @cached_property
    def _by_place(self) -> tuple[dict[str, list[Designation]], dict[str, list[Metric]]]:
        """Designations and metrics grouped by place once, so per-place look-ups stay O(1)."""
        designations: dict[str, list[Designation]] = {}
        metrics: dict[str, list[Metric]] = {}
        for d in self.designations.values():
            designations.setdefault(d.place, []).append(d)
        for m in self.metrics.values():
            metrics.setdefault(m.place, []).append(m)
        return designations, metrics

    def summary(self) -> dict[str, int]:
        return {
            "places": len(self.places),
            "designations": len(self.designations),
            "metrics": len(self.metrics),
            "sources": len(self.sources),
            "programmes": len(self.programmes),
            "districts": len(self.districts),
        }
