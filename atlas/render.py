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


def popup_table(atlas: Atlas, place_ids: Iterable[str], district_codes: Iterable[str]) -> dict:
    """What popups and tooltips show, once per place and district however many layers draw them.

    Compact on purpose (it is most of a large map's bytes): entries are lists, not objects,
    and whatever repeats is a list that entries cite by index: `sources` (labels),
    `programmes` ([en, zh]) and `labels` (figure names). A place is [[en, zh], kind, district
    code, [[programme, level, batch, year, [source...]]...], [[label, text, [source...], status]...],
    [role, [source...]] or null];
    a district is [[en, zh], [all, national, municipal, international] designations, [[en, zh,
    count]...] (the most designated places), how many more]. The strings stay raw: the page
    puts them into the DOM as text.
    """
    sources: dict[str, int] = {}
    programmes: dict[str, int] = {}
    labels: dict[str, int] = {}

    def cite(table: dict, key: str) -> int:
        found = table.get(key)
        if found is None:
            found = table[key] = len(table)
        return found

    places = {}
    for place_id in sorted(set(place_ids)):
        place = atlas.places[place_id]
        role = [place.role, [cite(sources, place.evidence.source)]] if place.role and place.evidence else None
        places[place_id] = [[place.name_en, place.name_zh], place.kind, place.district, [], [], role]
    # One pass over all designations and figures, in seed order, beats a look-up per place.
    for d in atlas.designations.values():
        entry = places.get(d.place)
        if entry is not None:
            entry[3].append([cite(programmes, d.programme), d.level, d.batch, d.year,
                             [cite(sources, s) for s in d.sources()]])
    for m in atlas.metrics.values():
        entry = places.get(m.place)
        if entry is not None:
            entry[4].append([cite(labels, m.key.replace("_", " ")), _figure_text(m), [cite(sources, m.evidence.source)],
                             m.status])
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
            "programmes": [[atlas.programmes[p].name_en, atlas.programmes[p].name_zh] for p in programmes],
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


def web_columns(layer: Layer, atlas: Atlas) -> dict[str, list]:
    """The layer's features as the map draws them: one list per short property.

    Names and popups are not here but in the page's one `popup_table`, keyed by `p` (place id
    or district code). `b` / `y`: batch and year, for the filter; `c`: fill colour; `r`: radius
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
        columns.update(b=values("batch"), y=values("year"))
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


def _on_each_feature(spec) -> str:
    """Leaflet style of one district feature: the layer's stroke, the feature's own fill."""
    return ("function(feature, layer) {"
            f" layer.setStyle(Object.assign({json.dumps(_path_style(spec), sort_keys=True)},"
            " {fillColor: feature.properties.c})); }")


def _legend_items(layer: Layer) -> list[list[str]]:
    shape = "square" if layer.spec.geometry == "district" else "circle"
    entries = legend_entries(layer.spec)
    field = metric_field(layer)
    if field and len(layer.frame):
        values = sorted(layer.frame[field].dropna().unique())
        return [[f"{format_number(v)}", entries[0][1], shape] for v in values[:: max(1, len(values) // 3)]]
    return [[label or layer.spec.legend["en"], colour, shape] for label, colour in entries]


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


def build_map(layers: list[Layer], atlas: Atlas, web_districts, tiles: Iterable[str] = ()):
    """The folium Map with every layer, its controls and plugins; not yet rendered."""
    import folium
    import xyzservices.providers as providers
    from folium.map import FitBounds
    from folium.plugins import Fullscreen, GroupedLayerControl

    from .plugins import (DesignationFilter, DistrictLayer, DistrictShapes, Legend, PlaceFromHash, PlaceSearch,
                          PointLayer, Popups)

    bounds = web_districts.total_bounds  # minx, miny, maxx, maxy
    fmap = folium.Map(location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2], zoom_start=7,
                      tiles=None, control_scale=True, prefer_canvas=True, maxZoom=18, zoomSnap=0.25,
                      title="Chongqing Green Atlas")
    # Fitted before any layer is added, so layers are drawn once, in the fitted view, not twice.
    fit = FitBounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    fit.options["animate"] = False  # an animated first fit would swallow a view set from the URL hash
    fit.add_to(fmap)
    fmap.get_root().header.add_child(folium.Element(
        "<style>.atlas-popup h4{margin:0 0 4px}.atlas-popup ul{padding-left:16px;margin:2px 0}"
        ".atlas-popup td{padding:1px 4px;vertical-align:top}.atlas-popup{max-height:320px;overflow-y:auto}"
        ".atlas-sources{font-size:11px;color:#555;padding-left:18px;margin:4px 0 0}"
        ".leaflet-container{background:#dfe9f0}</style>"))
    web_shapes = dict(zip(web_districts["code"], web_districts.geometry))
    groups: dict[str, list] = {}
    legend, filtered, bindings, search_layer, index_name = [], [], [], None, None
    place_ids: set[str] = set()  # the places and districts popups describe
    district_ids: set[str] = set()
    ids = itertools.count()
    for name in tiles:
        provider = providers.query_name(TILES[name])
        tile = folium.TileLayer(tiles=provider.build_url(), attr=provider.html_attribution,
                                name=f"{name} tiles (online)", overlay=True, show=True)
        tile.add_to(fmap)
        groups.setdefault("Basemaps (online) · 在线底图", []).append(tile)
    drawn = sorted({code for layer in layers if layer.spec.geometry == "district"
                    for code in layer.frame.get("district_code", [])})
    if CITY.code in drawn:  # Chongqing as a whole
        web_shapes[CITY.code] = city_outline(web_districts)
    if drawn:  # before the layers, whose scripts read it
        shapes = DistrictShapes({code: encode_shape(web_shapes[code]) for code in drawn}, POLYGON_DECIMALS)
        shapes.add_to(fmap)
        _stable_ids(fmap.get_root(), ids)
    for layer in layers:
        spec = layer.spec
        group = folium.FeatureGroup(name=escape(f"{spec.title['en']} · {spec.title['zh']}"), show=spec.visible)
        group.add_to(fmap)
        columns = web_columns(layer, atlas)
        if spec.geometry == "district":
            features = [{"type": "Feature", "properties": dict(zip(columns, row))} for row in zip(*columns.values())]
            (district_ids if spec.draw == "districts" else place_ids).update(columns["p"])
            drawn_layer = DistrictLayer(features, shapes.get_name(), _on_each_feature(spec))
        else:
            style = {**_path_style(spec), "radius": spec.style.get("radius", 6)}
            drawn_layer = PointLayer(columns, POINT_DECIMALS, style, cluster=spec.cluster)
            place_ids.update(columns["p"])
        drawn_layer.add_to(group)
        _stable_ids(fmap.get_root(), ids)
        name = drawn_layer.get_name()
        bindings.append({"layer": name, "kind": "district" if spec.draw == "districts" else "place",
                         "fields": list(spec.tooltip), "cluster": spec.cluster and spec.geometry == "point"})
        if spec.search and spec.geometry == "point":
            search_layer = name
        if spec.draw == "places" and spec.geometry == "point":
            index_name = name
        if spec.draw == "designations":
            filtered.append(name)
        groups.setdefault(f"{spec.group['en']} · {spec.group['zh']}", []).append(group)
        legend.append({"layer": group.get_name(), "title": f"{spec.legend['en']} · {spec.legend['zh']}",
                       "items": _legend_items(layer)})
    popups = Popups(popup_table(atlas, place_ids, district_ids), bindings, DISTRICT_POPUP_PLACES)
    popups.add_to(fmap)
    _stable_ids(fmap.get_root(), ids)
    control = GroupedLayerControl({escape(k): v for k, v in groups.items()}, exclusive_groups=False, collapsed=True)
    control.layers_untoggle = sorted(control.layers_untoggle)  # folium keeps a set: order would vary by run
    control.add_to(fmap)
    Legend(legend).add_to(fmap)
    if filtered:
        DesignationFilter(filtered, _filter_choices(atlas),
                          {"batch": "Batch 批次", "year": "Year 年份", "all": "all 全部"}).add_to(fmap)
    if search_layer is not None:
        PlaceSearch(search_layer, popups.get_name(), placeholder="Search places 搜索地点").add_to(fmap)
    if index_name is not None:
        PlaceFromHash(index_name, popups.get_name()).add_to(fmap)
    Fullscreen(position="topleft").add_to(fmap)
    _stable_ids(fmap.get_root(), ids)
    return fmap


def _filter_choices(atlas: Atlas) -> dict[str, list[list[str]]]:
    def values(key):
        found = {getattr(d, key) for d in atlas.designations.values()}
        known = [[str(v), str(v)] for v in sorted(v for v in found if v is not None)]
        return known + ([["unknown", "unknown 未知"]] if None in found else [])
    return {"batch": values("batch"), "year": values("year")}


def write_map(layers: list[Layer], atlas: Atlas, web_districts, path: Path, tiles: Iterable[str] = ()) -> Path:
    """Render the map to `path` as one self-contained HTML file (checked to load nothing remote)."""
    from .assets import check_offline, inline_assets

    fmap = build_map(layers, atlas, web_districts, tiles)
    figure = inline_assets(fmap)
    html = figure.render()
    if not tiles:
        check_offline(html)
    path.write_text(html, encoding="utf-8")
    return path
