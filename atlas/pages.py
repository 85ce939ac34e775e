"""Render stage, the atlas as a book: an index of places, a page per place, a designation timeline.

Static HTML that opens from disk with no network. Jinja2 renders it with autoescape on, so every
string from the seeds (names, excerpts, notes, URLs) reaches the page as text, never as markup.
The index sorts and filters with a few lines of our own vanilla JS that read `data-*` attributes,
so no seed data is ever embedded in code. Each place's locator map is an inline SVG drawn here
from its district's boundary: no Leaflet, no tiles, some twenty kilobytes a page.

Every label is bilingual (English, then Chinese); data shows in the languages the seeds give it.
Same input, same bytes: no timestamps, and every list has a fixed order.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache, partial
from importlib.resources import files
from pathlib import Path
from typing import Callable, Mapping

import geopandas as gpd
import numpy as np
import shapely
from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from markupsafe import Markup
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from .errors import RunError
from .geocode import Located
from .model import LEVELS, Atlas, Designation, District, Evidence, Metric, Place, Programme, Source
from .units import format_number

STYLESHEET = "book.css"
PLACES_DIR = "places"
MAP_FILE = "atlas.html"  # the interactive map, written by the map renderer into the same directory
PNG_FILE, SVG_FILE = "atlas.png", "atlas.svg"  # the printable plate, written by `overview.write_overview`

LEVEL_ZH = {"international": "国际", "national": "国家级", "municipal": "市级"}
PRECISION_ZH = {"site": "点位", "area": "区域", "district": "区县"}
KIND_ZH = {
    "district": "区", "county": "县", "mountain": "山", "mountain area": "山区", "river basin": "流域",
    "lake": "湖泊", "island": "岛", "park": "园区", "wetland park": "湿地公园", "nature reserve": "自然保护区",
    "village": "村", "reservoir": "水库", "complex": "综合体", "heritage site": "遗产地",
    "scenic area": "景区", "demonstration area": "示范区",
}
CONFIDENCE_ZH = {"high": "高", "medium": "中", "low": "低"}
SUPPORTS_ZH = {"designation": "命名", "batch": "批次", "year": "年份"}  # what an excerpt attests (`Cited`)
# Figures the index shows first when a place has them; the rest follow in seed order.
HEADLINE_KEYS = ("gep", "area", "forest_cover", "good_air_days", "eco_economy_gdp_share")
HEADLINE_COUNT = 3
ACRONYMS = {"gep": "GEP", "gdp": "GDP", "eod": "EOD"}

# Locator maps: at most this many pixels a side; borders simplified to half a pixel.
LOCATOR_MAX_PX = 440
LOCATOR_TOLERANCE_PX = 0.5
INSET_MAX_PX = 150
KM_PER_DEGREE = 111.32  # along a meridian; good to 1% for a scale bar
SCALE_STEPS_KM = (1, 2, 5, 10, 20, 50, 100, 200)

# Timeline chart geometry, in SVG user units.
CHART_BAR_PX, CHART_GAP_PX, CHART_HEIGHT_PX = 44, 18, 180
CHART_LEFT_PX, CHART_TOP_PX, CHART_BOTTOM_PX = 34, 18, 34


# --- views: what the templates read ---------------------------------------------------------

@dataclass(frozen=True)
class Cited:
    """An evidence excerpt with its source and the facts it supports (e.g. designation, batch)."""

    excerpt: str
    source: Source
    supports: tuple[str, ...]


def page_of(place: Place) -> str:
    """A place's page, relative to the output directory."""
    return f"{PLACES_DIR}/{place.id}.html"


@dataclass(frozen=True)
class DesignationView:
    """A designation with the records it refers to, as the index, the pages and the timeline show it."""

    designation: Designation
    programme: Programme
    place: Place
    sources: Mapping[str, Source] = field(repr=False, compare=False)

    @cached_property
    def evidence(self) -> tuple[Cited, ...]:
        """Cited only when a place's page shows it: the index, the timeline and the overview map
        never do, and citing for them too cost a second per 100,000 places."""
        return _cited(self.designation, self.sources)

    @property
    def batch_key(self) -> str:
        """The index filter's value for the batch: its number, or "unknown"."""
        return "unknown" if self.designation.batch is None else str(self.designation.batch)

    @property
    def page(self) -> str:
        return page_of(self.place)


@dataclass(frozen=True)
class FigureView:
    """A figure as its page's table shows it: the value as stated, and normalised where that differs."""

    metric: Metric
    label: str
    value: str
    normalised: str | None  # e.g. "62 hectare" for 620,000 square meter
    source: Source


@dataclass(frozen=True)
class DistrictMap:
    """A district with its neighbours and a scale bar, in pixels (y down): the same for every
    place in the district, so a render draws it once and each page only adds its dot."""

    canvas: Canvas
    home: Markup  # SVG path data of the district
    neighbours: tuple[Markup, ...]
    scale_px: float
    scale_km: int


@dataclass(frozen=True)
class Locator:
    """An inline SVG map of a place's district and neighbours, with the place's dot, in pixels."""

    map: DistrictMap
    x: float
    y: float


@dataclass(frozen=True)
class PlaceView:
    """One place with everything its page and its index row show."""

    place: Place
    district: District
    located: Located
    designations: tuple[DesignationView, ...]  # timeline order
    figures: tuple[FigureView, ...]  # seed order
    headline: tuple[FigureView, ...]

    @property
    def kind_zh(self) -> str:
        return KIND_ZH.get(self.place.kind, "")

    @property
    def page(self) -> str:
        return page_of(self.place)


@dataclass(frozen=True)
class Segment:
    """One level's share of a year's bar in the timeline chart, in SVG units (y down)."""

    level: str
    count: int
    y: float
    height: float


@dataclass(frozen=True)
class Bar:
    """One year of the timeline chart: its stacked segments, total and running total."""

    year: int
    x: float
    total: int
    cumulative: int
    segments: tuple[Segment, ...]  # bottom first, in LEVELS order
    by_level: Mapping[str, int]


@dataclass(frozen=True)
class Chart:
    """The timeline chart, laid out here so the template only places numbers (an empty chart
    has no bars)."""

    width: float
    height: float
    baseline: float
    bar_width: float
    bars: tuple[Bar, ...]
    ticks: tuple[tuple[int, float], ...]  # (value, y)
    levels: tuple[str, ...]


@dataclass(frozen=True)
class TimelineGroup:
    """Designations under one programme and batch in one year (year None: unknown)."""

    year: int | None
    programme: Programme
    batch: int | None
    designations: tuple[DesignationView, ...]


# --- building the views ---------------------------------------------------------------------

def _cited(d: Designation, sources: Mapping[str, Source]) -> tuple[Cited, ...]:
    """Each distinct excerpt once, with every fact it supports: one excerpt often gives both
    batch and year, and listing it twice would read as two sources."""
    supports: dict[Evidence, list[str]] = {}
    for what, evidence in (("designation", d.evidence), ("batch", d.batch_evidence), ("year", d.year_evidence)):
        if evidence is not None:
            supports.setdefault(evidence, []).append(what)
    return tuple(Cited(e.excerpt, sources[e.source], tuple(w)) for e, w in supports.items())


def timeline_key(d: Designation, programme: Programme) -> tuple:
    """Known years first, oldest first; then programme, batch and level, unknowns after knowns."""
    return (d.year is None, d.year or 0, programme.name_en, d.batch is None, d.batch or 0,
            LEVELS.index(d.level), d.place, d.id)


def figure_label(key: str) -> str:
    """A metric key as a reader's label: `forest_cover` -> "Forest cover", `gep` -> "GEP"."""
    words = [ACRONYMS.get(w, w) for w in key.split("_")]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def _headline(figures: tuple[FigureView, ...]) -> tuple[FigureView, ...]:
    """The few figures the index shows: those readers compare places by first, then seed order."""
    order = {key: i for i, key in enumerate(HEADLINE_KEYS)}
    ranked = sorted(enumerate(figures), key=lambda p: (order.get(p[1].metric.key, len(order)), p[0]))
    return tuple(f for _, f in ranked[:HEADLINE_COUNT])


def place_views(atlas: Atlas, located: Mapping[str, Located]) -> list[PlaceView]:
    """Every place, ordered by English name (then id) as a book's index is."""
    missing = sorted(set(atlas.places) - set(located))
    if missing:
        raise RunError(f"pages: no location for place(s) {', '.join(missing)}; geocode every place first")
    views = []
    for place in atlas.places.values():
        designations = sorted(
            (DesignationView(d, atlas.programmes[d.programme], place, atlas.sources)
             for d in atlas.designations_of(place.id)),
            key=lambda v: timeline_key(v.designation, v.programme))
        figures = tuple(FigureView(m, figure_label(m.key), format_number(m.value), m.in_base_unit,
                                   atlas.sources[m.evidence.source]) for m in atlas.metrics_of(place.id))
        views.append(PlaceView(place, atlas.districts[place.district], located[place.id], tuple(designations),
                               figures, _headline(figures)))
    return sorted(views, key=lambda v: (v.place.name_en.casefold(), v.place.id))


def _ring_path(coords: np.ndarray) -> str:
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords[:-1])
    return f"M{points}Z"


def svg_path(geometry: BaseGeometry) -> Markup:
    """SVG path data for the polygons in a geometry (rings closed; holes drawn even-odd). Markup:
    numbers and path letters have nothing to escape, and scanning the tens of kilobytes every
    page repeats for it was a tenth of the page's time."""
    rings = []
    for part in shapely.get_parts(geometry):
        if isinstance(part, shapely.Polygon) and not part.is_empty:
            rings.append(_ring_path(np.asarray(part.exterior.coords)))
            rings.extend(_ring_path(np.asarray(r.coords)) for r in part.interiors)
    return Markup("".join(rings))


def _scale_km(width_km: float) -> int:
    """The longest round length that fits in a quarter of the map's width."""
    fitting = [s for s in SCALE_STEPS_KM if s <= width_km / 4]
    return fitting[-1] if fitting else SCALE_STEPS_KM[0]


@dataclass(frozen=True)
class Canvas:
    """A lon/lat box as `width` x `height` pixels (y down), equirectangular with longitudes
    scaled by cos(mid-latitude): true enough in shape at Chongqing's size (4° of latitude),
    simple, and deterministic."""

    west: float
    north: float
    kx: float
    scale: float  # pixels per degree of latitude
    width: int
    height: int

    def to_px(self, xy: np.ndarray) -> np.ndarray:
        return np.column_stack(((xy[:, 0] - self.west) * self.kx * self.scale, (self.north - xy[:, 1]) * self.scale))

    def spot(self, lon: float, lat: float) -> tuple[float, float]:
        """One point in pixels to a tenth, as `to_px` computes it but without an array per page."""
        x, y = (lon - self.west) * self.kx * self.scale, (self.north - lat) * self.scale
        return round(float(x), 1), round(float(y), 1)  # Python's rounding, even for numpy bounds

    def paths(self, shapes: list[BaseGeometry]) -> list[Markup]:
        """Polygons as SVG paths, simplified together (`coverage_simplify`) to half a pixel so
        neighbours keep shared edges exactly, and clipped to the canvas."""
        simple = shapely.coverage_simplify([shapely.transform(g, self.to_px) for g in shapes], LOCATOR_TOLERANCE_PX)
        frame = box(-1, -1, self.width + 1, self.height + 1)
        return [svg_path(g.intersection(frame)) for g in simple]


def canvas(west: float, south: float, east: float, north: float, max_px: int) -> Canvas:
    """The canvas showing the box at most `max_px` pixels a side."""
    kx = math.cos(math.radians((south + north) / 2))
    scale = max_px / max((east - west) * kx, north - south)
    return Canvas(west, north, kx, scale, round((east - west) * kx * scale), round((north - south) * scale))


@dataclass(frozen=True)
class Inset:
    """Chongqing's outline and its districts' shapes, in pixels, to show where a place lies (by a
    dot: the old city's districts are too small here to show by shape alone)."""

    canvas: Canvas
    outline: Markup
    districts: Mapping[str, Markup]  # code -> SVG path data


Bounds = tuple[float, float, float, float]  # west, south, east, north


def _frame(bounds: Bounds, lon: float, lat: float) -> Bounds:
    """What a locator shows: the district's bounds, stretched to the point if it lies outside
    them, padded by 15% of the longer side."""
    west, south, east, north = bounds
    west, south, east, north = min(west, lon), min(south, lat), max(east, lon), max(north, lat)
    pad = 0.15 * max(east - west, north - south)
    return west - pad, south - pad, east + pad, north + pad


def _district_map(shapes: Mapping[str, BaseGeometry], code: str, frame: Bounds) -> DistrictMap:
    """District `code` and every district reaching into `frame`, simplified together: a few tens
    of kilobytes a page rather than the megabyte of the full boundaries."""
    page = canvas(*frame, LOCATOR_MAX_PX)
    view = box(*frame)
    codes = [c for c in sorted(shapes) if shapes[c].intersects(view)]
    paths = dict(zip(codes, page.paths([shapes[c] for c in codes])))
    km = _scale_km(page.width / page.scale * KM_PER_DEGREE)
    return DistrictMap(page, paths.pop(code), tuple(p for p in paths.values() if p),
                       round(km * page.scale / KM_PER_DEGREE, 1), km)


def locators(districts: gpd.GeoDataFrame) -> Callable[[str, float, float], Locator]:
    """`locate(code, lon, lat)`, the locator of a place in district `code`: each district's map is
    simplified once per render (~10 ms each, times a page per place, was most of the book's time)."""
    shapes = dict(zip(districts["code"], districts.geometry))
    bounds = {code: shape.bounds for code, shape in shapes.items()}
    district_map = cache(partial(_district_map, shapes))

    def locate(code: str, lon: float, lat: float) -> Locator:
        drawn = district_map(code, _frame(bounds[code], lon, lat))
        return Locator(drawn, *drawn.canvas.spot(lon, lat))
    return locate


def inset(districts: gpd.GeoDataFrame) -> Inset:
    """All of Chongqing, small, for a place page's "where in the city" corner: the city's outline
    and every district's shape, of which a page fills its own."""
    page = canvas(*districts.total_bounds, INSET_MAX_PX)
    codes = list(districts["code"])
    return Inset(page, page.paths([districts.union_all()])[0], dict(zip(codes, page.paths(list(districts.geometry)))))


def timeline_chart(designations: list[Designation]) -> Chart:
    """Stacked bars of designations per year (every year from first to last, empty ones too, so
    gaps read as gaps), split by level, with the running total."""
    dated = [d for d in designations if d.year is not None]
    if not dated:
        return Chart(0, 0, 0, CHART_BAR_PX, (), (), ())
    years = range(min(d.year for d in dated), max(d.year for d in dated) + 1)
    counts = Counter((d.year, d.level) for d in dated)
    levels = tuple(level for level in LEVELS if any(d.level == level for d in dated))
    most = max(sum(counts[(y, level)] for level in levels) for y in years)
    unit = CHART_HEIGHT_PX / most
    baseline = CHART_TOP_PX + CHART_HEIGHT_PX
    bars, running = [], 0
    for i, year in enumerate(years):
        segments, top = [], baseline
        for level in levels:
            n = counts[(year, level)]
            if n:
                top -= n * unit
                segments.append(Segment(level, n, round(top, 1), round(n * unit, 1)))
        total = sum(s.count for s in segments)
        running += total
        bars.append(Bar(year, CHART_LEFT_PX + CHART_GAP_PX + i * (CHART_BAR_PX + CHART_GAP_PX), total, running,
                        tuple(segments), {level: counts[(year, level)] for level in levels}))
    step = max(1, math.ceil(most / 5))
    ticks = tuple((v, round(baseline - v * unit, 1)) for v in range(0, most + 1, step))
    width = CHART_LEFT_PX + CHART_GAP_PX + len(years) * (CHART_BAR_PX + CHART_GAP_PX)
    return Chart(width, baseline + CHART_BOTTOM_PX, baseline, CHART_BAR_PX, tuple(bars), ticks, levels)


def timeline_groups(views: list[PlaceView]) -> list[TimelineGroup]:
    """Designations grouped by year (unknown last), then programme and batch."""
    groups: dict[tuple, list[DesignationView]] = {}
    for v in sorted((d for p in views for d in p.designations),
                    key=lambda v: timeline_key(v.designation, v.programme)):
        d = v.designation
        groups.setdefault((d.year, v.programme.id, d.batch), []).append(v)
    return [TimelineGroup(year, members[0].programme, batch,
                          tuple(sorted(members, key=lambda v: (v.place.name_en.casefold(), v.place.id))))
            for (year, _, batch), members in groups.items()]


def _options(views: list[PlaceView]) -> dict[str, list[tuple[str, str]]]:
    """The index's filter choices as (value, label): only values some place has, in a reader's order."""
    found = [d for v in views for d in v.designations]
    programmes = sorted({d.programme.id: d.programme for d in found}.values(),
                        key=lambda p: (LEVELS.index(p.level), p.name_en))
    batches = sorted({d.designation.batch for d in found}, key=lambda b: (b is None, b or 0))
    districts = sorted({v.district.code: v.district for v in views}.values(), key=lambda d: (d.name_en, d.code))
    return {
        "programme": [(p.id, " ".join(n for n in (p.name_en, p.name_zh) if n)) for p in programmes],
        "level": [(level, f"{level.capitalize()} {LEVEL_ZH[level]}") for level in LEVELS
                  if any(d.designation.level == level for d in found)],
        "batch": [("unknown", "Unknown 不详") if b is None else (str(b), f"Batch {b} 第{b}批") for b in batches],
        "district": [(d.code, f"{d.name_en} {d.name_zh}") for d in districts],
    }


# --- writing --------------------------------------------------------------------------------

BILINGUAL = Markup('<span class="en">%s</span> <span class="zh" lang="zh-Hans">%s</span>')


@lru_cache(maxsize=4096, typed=True)
def bi(en: str, zh: str) -> Markup:
    """A label in English then Chinese, each escaped. A template global, not a macro: a page calls
    it some twenty times, nearly always with the same few labels, and a cached call costs a tenth
    of a macro's. `typed`, so that a string and an equal Markup are not taken for each other."""
    return BILINGUAL % (en, zh)


@cache
def _environment() -> Environment:
    """Templates from the package, every value escaped, and a typo'd variable an error rather
    than an empty string on a page."""
    env = Environment(loader=PackageLoader("atlas", "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.globals.update(bi=bi, LEVEL_ZH=LEVEL_ZH, PRECISION_ZH=PRECISION_ZH, CONFIDENCE_ZH=CONFIDENCE_ZH,
                       SUPPORTS_ZH=SUPPORTS_ZH, STYLESHEET=STYLESHEET, MAP_FILE=MAP_FILE, PNG_FILE=PNG_FILE,
                       SVG_FILE=SVG_FILE)
    return env


def _write(path: Path, template: Template, **context) -> Path:
    """Render a page into its file piece by piece: the index of 100,000 places is a hundred
    megabytes, and rendered whole it held three times that in memory at once."""
    template.stream(**context).dump(str(path), encoding="utf-8")
    return path


def write_pages(atlas: Atlas, located: Mapping[str, Located], districts: gpd.GeoDataFrame,
                out_dir: Path) -> list[Path]:
    """Write index.html, timeline.html, places/<id>.html and the stylesheet into `out_dir`.

    `located` maps place id -> `Located`; `districts` is the full-resolution boundary frame. The
    pages link to `atlas.html` (the map renderer's) and to `atlas.png` / `atlas.svg`
    (`overview.write_overview`), which the caller writes into the same directory.
    Returns the files written, sorted.
    """
    out_dir = Path(out_dir)
    (out_dir / PLACES_DIR).mkdir(parents=True, exist_ok=True)
    env = _environment()
    views = place_views(atlas, located)
    designations = [d.designation for v in views for d in v.designations]
    counts = {"places": len(views), "designations": len(designations),
              "figures": sum(len(v.figures) for v in views),
              "undated": sum(d.year is None for d in designations)}
    stylesheet = out_dir / STYLESHEET
    stylesheet.write_text(files("atlas").joinpath("templates", STYLESHEET).read_text("utf-8"), "utf-8")
    written = [stylesheet,
               _write(out_dir / "index.html", env.get_template("index.html"),
                      root="", views=views, options=_options(views), counts=counts),
               _write(out_dir / "timeline.html", env.get_template("timeline.html"), root="",
                      chart=timeline_chart(designations), groups=timeline_groups(views), counts=counts)]
    page, city, locate = env.get_template("place.html"), inset(districts), locators(districts)
    for i, view in enumerate(views):
        loc = view.located
        written.append(_write(out_dir / view.page, page, root="../", view=view,
                              locator=locate(view.district.code, loc.lon, loc.lat), inset=city,
                              previous=views[i - 1] if i else None,
                              following=views[i + 1] if i + 1 < len(views) else None))
    return sorted(written)
