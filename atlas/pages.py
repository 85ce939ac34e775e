"""Render stage, the atlas as a book: an index of places, a page per place, a designation timeline.

Static HTML that opens from disk with no network. Jinja2 renders it with autoescape on, so every
string from the seeds (names, excerpts, notes, URLs) reaches the page as text, never as markup.
The index sorts and filters with a few lines of our own vanilla JS that read `data-*` attributes,
so no seed data is ever embedded in code.

A place's locator is its district's map, drawn once per render as `places/maps/<code>.svg` (the
district among its neighbours, a scale bar, north) with a small whole-city inset beside it
(`<code>-city.svg`). A page shows both as images and sets its own dot over each, in percent of
the same projection: a hundred thousand pages share at most 76 small files, and each page holds
only its own text, a few kilobytes.

Every label is bilingual (English, then Chinese); data shows in the languages the seeds give it.
Same input, same bytes: no timestamps, and every list has a fixed order.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from importlib.resources import files
from itertools import islice
from pathlib import Path
from typing import Iterable, Mapping

import geopandas as gpd
import numpy as np
import shapely
from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from markupsafe import Markup, escape
from shapely.geometry import box

from .boundaries import simplified_boundaries
from .errors import RunError
from .geocode import Located
from .model import CITY, LEVELS, Atlas, Designation, District, Evidence, Metric, Place, Programme, Source
from .runtime import collector_paused
from .units import format_number

STYLESHEET = "book.css"
PLACES_DIR = "places"
MAPS_DIR = "maps"  # under PLACES_DIR: the locator maps the place pages share
MAP_FILE = "atlas.html"  # the interactive map, written by the map renderer into the same directory
PNG_FILE, SVG_FILE = "atlas.png", "atlas.svg"  # the printable plate, written by `overview.write_overview`

LEVEL_ZH = {"international": "国际", "national": "国家级", "municipal": "市级"}
PRECISION_ZH = {"site": "点位", "area": "区域", "district": "区县"}
KIND_ZH = {
    "district": "区", "county": "县", "mountain": "山", "mountain area": "山区", "river basin": "流域",
    "lake": "湖泊", "island": "岛", "park": "园区", "wetland park": "湿地公园", "nature reserve": "自然保护区",
    "village": "村", "reservoir": "水库", "complex": "综合体", "heritage site": "遗产地",
    "scenic area": "景区", "demonstration area": "示范区", "municipality": "直辖市", "town": "镇", "river": "河流",
    "monitoring section": "监测断面", "industrial park": "产业园区", "project": "项目", "airport": "机场",
    "transit line": "轨道线路", "heritage site component": "遗产地组成部分",
}
STATUS_ZH = {"achieved": "已实现", "target": "目标", "plan": "计划"}
CONFIDENCE_ZH = {"high": "高", "medium": "中", "low": "低"}
# What an excerpt attests (`Cited`).
SUPPORTS_ZH = {"designation": "命名", "batch": "批次", "year": "年份", "role": "角色"}
# Figures the index shows first when a place has them; the rest follow in seed order.
HEADLINE_KEYS = ("gep", "area", "forest_cover", "good_air_days", "eco_economy_gdp_share")
HEADLINE_COUNT = 3
ACRONYMS = {"gep": "GEP", "gdp": "GDP", "eod": "EOD"}

# Locator maps: at most this many pixels a side, borders simplified to a quarter pixel; the city
# inset, simplified as a coverage to half a pixel (see `write_locators`).
LOCATOR_MAX_PX = 440
LOCATOR_TOLERANCE_PX = 0.25
INSET_MAX_PX = 150
INSET_TOLERANCE_PX = 0.5
KM_PER_DEGREE = 111.32  # along a meridian; good to 1% for a scale bar
SCALE_STEPS_KM = (1, 2, 5, 10, 20, 50, 100, 200)

# Timeline chart geometry, in SVG user units.
CHART_BAR_PX, CHART_GAP_PX, CHART_HEIGHT_PX = 44, 18, 180
CHART_LEFT_PX, CHART_TOP_PX, CHART_BOTTOM_PX = 34, 18, 34

# Macros of macros.html that the templates use as filters, each rendered once per distinct value.
CACHED_MACROS = ("level", "programme", "batch", "year", "source", "precision", "lede", "heading", "cited", "listed",
                 "district_cell", "kind_cell")


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
    """A designation with the records it refers to, as the index and the pages show it."""

    designation: Designation
    programme: Programme
    place: Place
    sources: Mapping[str, Source] = field(repr=False, compare=False)

    @cached_property
    def evidence(self) -> tuple[Cited, ...]:
        """Cited only when a place's page shows it: the index and the timeline never do, and
        citing for them too cost a second per 100,000 places."""
        return _cited(self.designation, self.sources)


@dataclass(frozen=True)
class FigureView:
    """A figure as its page's table shows it: the value as stated, and normalised where that differs."""

    metric: Metric
    label: str
    value: str
    normalised: str | None  # e.g. "62 hectare" for 620,000 square meter
    source: Source


@dataclass(frozen=True)
class PlaceView:
    """One place with everything its page and its index row show."""

    place: Place
    district: District  # `model.CITY` for Chongqing as a whole
    located: Located | None  # None for Chongqing as a whole, which has no point
    designations: tuple[DesignationView, ...]  # timeline order
    figures: tuple[FigureView, ...]  # seed order
    headline: tuple[FigureView, ...]
    names: Markup  # as every page shows them (`names`): the index, the timeline, its own page and its neighbours'
    role: Cited | None = None  # what its source says of it, where no designation or figure does

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
    """Designations under one programme and batch in one year (year None: unknown), by their places."""

    year: int | None
    programme: Programme
    batch: int | None
    places: tuple[PlaceView, ...]  # one per designation, in the index's order


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


@cache
def figure_label(key: str) -> str:
    """A metric key as a reader's label: `forest_cover` -> "Forest cover", `gep` -> "GEP".
    Cached: an atlas has a few keys and a hundred thousand figures."""
    words = [ACRONYMS.get(w, w) for w in key.split("_")]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def _headline(figures: tuple[FigureView, ...]) -> tuple[FigureView, ...]:
    """The few figures the index shows: those readers compare places by first, then seed order."""
    if len(figures) <= 1:
        return figures
    order = {key: i for i, key in enumerate(HEADLINE_KEYS)}
    ranked = sorted(enumerate(figures), key=lambda p: (order.get(p[1].metric.key, len(order)), p[0]))
    return tuple(f for _, f in ranked[:HEADLINE_COUNT])


def index_order(place: Place) -> tuple[str, str]:
    """Where a place comes in the book's index (and on the printable map's key): by English name,
    then id."""
    return place.name_en.casefold(), place.id


def place_views(atlas: Atlas, located: Mapping[str, Located]) -> list[PlaceView]:
    """Every place, ordered by English name (then id) as a book's index is."""
    missing = sorted(p for p in set(atlas.places) - set(located) if not atlas.places[p].city_wide)
    if missing:
        raise RunError(f"pages: no location for place(s) {', '.join(missing)}; geocode every place first")
    views = []
    programmes, sources, districts = atlas.programmes, atlas.sources, atlas.districts
    for place in atlas.places.values():
        designations = [DesignationView(d, programmes[d.programme], place, sources)
                        for d in atlas.designations_of(place.id)]
        if len(designations) > 1:
            designations.sort(key=lambda v: timeline_key(v.designation, v.programme))
        figures = tuple(FigureView(m, figure_label(m.key), format_number(m.value), m.in_base_unit,
                                   sources[m.evidence.source]) for m in atlas.metrics_of(place.id))
        role = Cited(place.evidence.excerpt, sources[place.evidence.source], ("role",)) if place.evidence else None
        views.append(PlaceView(place, atlas.district_of(place), located.get(place.id), tuple(designations),
                               figures, _headline(figures), names(place), role))
    return sorted(views, key=lambda v: index_order(v.place))


# --- locator maps ---------------------------------------------------------------------------

Bounds = tuple[float, float, float, float]  # west, south, east, north


def svg_path(geometry) -> str:
    """SVG path data for the polygons in a geometry, to a tenth of a pixel (rings closed; holes
    drawn even-odd). A ring's numbers go out as one list: formatting them one pair at a time was
    most of a map's time."""
    rings = []
    for part in shapely.get_parts(geometry):
        if isinstance(part, shapely.Polygon) and not part.is_empty:
            for ring in (part.exterior, *part.interiors):
                numbers = np.asarray(ring.coords)[:-1].round(1).ravel().tolist()
                rings.append("M" + " ".join(map(str, numbers)) + "Z")
    return "".join(rings)


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

    def position(self, lon: float, lat: float) -> str:
        """Where a point lies on the canvas, as the CSS that sets a dot there over the canvas's
        image: percentages of its width and height to two decimals, a twentieth of a pixel at
        the locator's size."""
        x = (lon - self.west) * self.kx * self.scale * 100 / self.width
        y = (self.north - lat) * self.scale * 100 / self.height
        return f"left:{x:.2f}%;top:{y:.2f}%"


def canvas(west: float, south: float, east: float, north: float, max_px: int) -> Canvas:
    """The canvas showing the box at most `max_px` pixels a side."""
    kx = math.cos(math.radians((south + north) / 2))
    scale = max_px / max((east - west) * kx, north - south)
    return Canvas(west, north, kx, scale, round((east - west) * kx * scale), round((north - south) * scale))


IMAGE = Markup('<img src="{}" width="{}" height="{}" alt="{}">')


@dataclass(frozen=True)
class Locator:
    """A district's locator map and the city inset, as the images its places' pages show (paths
    relative to the pages); a page sets its dots over them by `canvas.position` and
    `city.position`."""

    canvas: Canvas
    city: Canvas
    img: Markup
    city_img: Markup


def locator_frames(districts: gpd.GeoDataFrame, views: Iterable[PlaceView]) -> dict[str, Bounds]:
    """What each district's locator shows, for the districts that have places: its bounds,
    stretched to any of its places lying outside them (as far as their tolerance allows), padded
    by 15% of the longer side."""
    bounds = dict(zip(districts["code"], shapely.bounds(districts.geometry.values).tolist()))
    frames: dict[str, list[float]] = {}
    for view in views:
        if view.located is None:
            continue
        code, lon, lat = view.district.code, view.located.lon, view.located.lat
        frame = frames.get(code) or frames.setdefault(code, list(bounds[code]))
        if not (frame[0] <= lon <= frame[2] and frame[1] <= lat <= frame[3]):
            frame[:] = min(frame[0], lon), min(frame[1], lat), max(frame[2], lon), max(frame[3], lat)
    padded = {}
    for code, (west, south, east, north) in sorted(frames.items()):
        pad = 0.15 * max(east - west, north - south)
        padded[code] = (west - pad, south - pad, east + pad, north + pad)
    return padded


def _district_drawing(shapes: np.ndarray, codes: list[str], code: str, frame: Bounds) -> tuple[Canvas, dict]:
    """District `code` and every district reaching into `frame`, clipped to the frame (and two
    pixels beyond, where simplifying the cut edges cannot show), then simplified each on its own
    (Douglas-Peucker) to a quarter pixel. Two neighbours' copies of their shared border may so
    part by half a pixel, under strokes of 0.8 pixels and more; simplifying them together as a
    coverage kept the border exact at seven times the cost, nearly half the book's time for the
    bundled atlas."""
    page = canvas(*frame, LOCATOR_MAX_PX)
    reach = 2 / page.scale
    west, south, east, north = frame
    clip = (west - reach / page.kx, south - reach, east + reach / page.kx, north + reach)
    hit = np.flatnonzero(shapely.intersects(shapes, box(*clip)))
    pieces = shapely.transform(shapely.clip_by_rect(shapes[hit], *clip), page.to_px)
    drawn = shapely.simplify(pieces, LOCATOR_TOLERANCE_PX, preserve_topology=False)
    paths = dict(zip((codes[i] for i in hit), map(svg_path, drawn)))
    km = _scale_km(page.width / page.scale * KM_PER_DEGREE)
    return page, {"home": paths.pop(code), "neighbours": [p for p in paths.values() if p],
                  "scale_px": round(km * page.scale / KM_PER_DEGREE, 1), "scale_km": km}


def write_locators(env: Environment, atlas: Atlas, districts: gpd.GeoDataFrame, frames: Mapping[str, Bounds],
                   maps_dir: Path) -> tuple[dict[str, Locator], list[Path]]:
    """Draw the locator map and city inset of each district in `frames` into `maps_dir`.

    The inset takes the coverage at the web map's simplification (`boundaries.simplified_boundaries`,
    cached for the render): at 150 pixels for the whole city it draws the same as the full
    boundaries, in a fifth of the time. It is simplified as a coverage, so that the city's outline
    is the union of its districts as drawn."""
    codes = list(districts["code"])
    shapes = np.asarray(districts.geometry.values)
    city = canvas(*districts.total_bounds, INSET_MAX_PX)
    web = simplified_boundaries(atlas.districts)
    city_shapes = dict(zip(web["code"], shapely.coverage_simplify(
        shapely.transform(np.asarray(web.geometry.values), city.to_px), INSET_TOLERANCE_PX)))
    outline = svg_path(shapely.coverage_union_all(list(city_shapes.values())))
    locator, inset = env.get_template("locator.svg"), env.get_template("inset.svg")
    maps_dir.mkdir(parents=True, exist_ok=True)
    found, written = {}, []
    for code, frame in frames.items():
        district = atlas.districts[code]
        page, drawing = _district_drawing(shapes, codes, code, frame)
        name = f"{district.name_en} {district.name_zh}"
        found[code] = Locator(page, city,
                              IMAGE.format(f"{MAPS_DIR}/{code}.svg", page.width, page.height,
                                           f"{name} and its neighbours"),
                              IMAGE.format(f"{MAPS_DIR}/{code}-city.svg", city.width, city.height,
                                           f"{name} in Chongqing"))
        written += [_save(maps_dir / f"{code}.svg", locator.render(district=district, canvas=page, **drawing)),
                    _save(maps_dir / f"{code}-city.svg", inset.render(district=district, canvas=city, outline=outline,
                                                                     home=svg_path(city_shapes[code])))]
    return found, written


def write_city_locator(env: Environment, atlas: Atlas, districts: gpd.GeoDataFrame,
                       maps_dir: Path) -> tuple[Locator, Path]:
    """Chongqing as a whole, for its own page: every district drawn as the city's, no neighbours
    (`<CITY.code>.svg`)."""
    frame = tuple(districts.total_bounds)
    page = canvas(*frame, LOCATOR_MAX_PX)
    drawn = shapely.simplify(shapely.transform(np.asarray(districts.geometry.values), page.to_px),
                             LOCATOR_TOLERANCE_PX, preserve_topology=False)
    km = _scale_km(page.width / page.scale * KM_PER_DEGREE)
    home = "".join(map(svg_path, drawn))
    maps_dir.mkdir(parents=True, exist_ok=True)
    path = _save(maps_dir / f"{CITY.code}.svg", env.get_template("locator.svg").render(
        district=CITY, canvas=page, home=home, neighbours=[], scale_px=round(km * page.scale / KM_PER_DEGREE, 1),
        scale_km=km))
    img = IMAGE.format(f"{MAPS_DIR}/{CITY.code}.svg", page.width, page.height, f"{CITY.name_en} {CITY.name_zh}")
    return Locator(page, page, img, img), path


# --- the timeline ---------------------------------------------------------------------------

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
    """Designations grouped by year (unknown last), then programme and batch, each group's in
    the index's order of places: `views` are in that order already, so only the groups are sorted
    (sorting every designation was half the timeline's time)."""
    groups: dict[tuple, tuple[Programme, list[PlaceView]]] = {}
    for view in views:
        for v in view.designations:
            d = v.designation
            groups.setdefault((d.year, v.programme.id, d.batch), (v.programme, []))[1].append(view)
    order = sorted(groups.items(), key=lambda item: (item[0][0] is None, item[0][0] or 0, item[1][0].name_en,
                                                     item[0][1], item[0][2] is None, item[0][2] or 0))
    return [TimelineGroup(year, programme, batch, tuple(places))
            for (year, _, batch), (programme, places) in order]


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
    """A label in English then Chinese, each escaped. A filter (`"Where"|bi("位置")`), so that
    Jinja folds a label of two constants into the compiled template, where rendering it costs
    nothing; other labels are cached. `typed`, so that a string and an equal Markup are not taken
    for each other."""
    return BILINGUAL % (en, zh)


def names(x: Place | District | Programme) -> Markup:
    """Something's English name, then its Chinese name if it has one; a filter."""
    if not x.name_zh:
        return escape(x.name_en)
    return Markup(f'{escape(x.name_en)} <span lang="zh-Hans">{escape(x.name_zh)}</span>')


def _cached_macro(env: Environment, name: str):
    """macros.html's macro `name` as a filter that renders each distinct value once: a page's
    levels, programmes, batches, years and sources come from a few dozen values, and calling a
    macro costs some microseconds, a hundred thousand pages over."""
    return lru_cache(maxsize=None)(lambda *args, **kwargs: getattr(env.get_template("macros.html").module, name)(
        *args, **kwargs))


@cache
def _environment() -> Environment:
    """Templates from the package, every value escaped, and a typo'd variable an error rather
    than an empty string on a page. Compiled once per process and never reloaded."""
    env = Environment(loader=PackageLoader("atlas", "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, auto_reload=False)
    env.filters.update(bi=bi, names=names, **{name: _cached_macro(env, name) for name in CACHED_MACROS})
    env.globals.update(LEVEL_ZH=LEVEL_ZH, PRECISION_ZH=PRECISION_ZH, CONFIDENCE_ZH=CONFIDENCE_ZH, KIND_ZH=KIND_ZH,
                       STATUS_ZH=STATUS_ZH, SUPPORTS_ZH=SUPPORTS_ZH, STYLESHEET=STYLESHEET, MAP_FILE=MAP_FILE,
                       PNG_FILE=PNG_FILE, SVG_FILE=SVG_FILE, INDEX_SCRIPT=_index_script())
    return env


def _index_script():
    """The index's own code (atlas/js/book-index.js, linted with the map's). Our own file, and
    checked to hold nothing that would end its <script> early."""
    from markupsafe import Markup

    code = (Path(__file__).with_name("js") / "book-index.js").read_text(encoding="utf-8")
    if "</script" in code.lower() or "<!--" in code:
        raise ValueError("atlas/js/book-index.js must not hold '</script' or '<!--'")
    return Markup(code)


def _save(path: Path | str, text: str) -> Path | str:
    """Write a page in three system calls: a buffered file object costs some microseconds more a
    page, most of a second a hundred thousand pages over."""
    data = memoryview(text.encode("utf-8"))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        while data:
            data = data[os.write(fd, data):]
    finally:
        os.close(fd)
    return path


def _write(path: Path, template: Template, **context) -> Path:
    """Render a long page into its file a few thousand pieces at a time: the index of 100,000
    places is a hundred megabytes, and rendered whole it held three times that in memory."""
    chunks = template.generate(**context)
    with open(path, "w", encoding="utf-8") as out:
        while piece := "".join(islice(chunks, 4096)):
            out.write(piece)
    return path


def write_pages(atlas: Atlas, located: Mapping[str, Located], districts: gpd.GeoDataFrame,
                out_dir: Path) -> list[Path]:
    """Write index.html, timeline.html, places/<id>.html, their maps and the stylesheet into `out_dir`.

    `located` maps place id -> `Located`; `districts` is the full-resolution boundary frame. The
    pages link to `atlas.html` (the map renderer's) and to `atlas.png` / `atlas.svg`
    (`overview.write_overview`), which the caller writes into the same directory.
    Returns the files written, sorted.
    """
    with collector_paused():
        return _write_book(atlas, located, districts, Path(out_dir))


def _write_book(atlas: Atlas, located: Mapping[str, Located], districts: gpd.GeoDataFrame,
                out_dir: Path) -> list[Path]:
    places_dir = out_dir / PLACES_DIR
    places_dir.mkdir(parents=True, exist_ok=True)
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
    locators, maps = write_locators(env, atlas, districts, locator_frames(districts, views), places_dir / MAPS_DIR)
    written += maps
    city_locator = None
    if any(v.located is None for v in views):
        city_locator, path = write_city_locator(env, atlas, districts, places_dir / MAPS_DIR)
        written.append(path)
    page = env.get_template("place.html").module.page
    folder = f"{places_dir}{os.sep}"
    last = len(views) - 1
    for i, view in enumerate(views):
        neighbours = views[i - 1] if i else None, views[i + 1] if i < last else None
        if view.located is None:  # Chongqing as a whole: its outline, no dot
            html = page(view, city_locator, None, None, *neighbours)
        else:
            lon, lat, drawn = view.located.lon, view.located.lat, locators[view.district.code]
            html = page(view, drawn, drawn.canvas.position(lon, lat), drawn.city.position(lon, lat), *neighbours)
        written.append(_save(f"{folder}{view.place.id}.html", html))
    return [Path(p) for p in sorted(map(str, written))]  # sorting strings, not Paths: a second faster
