"""Stage 5a: draw the layers as one self-contained folium/Leaflet page.

The page carries its own Leaflet (see `assets.py`) and draws districts without tiles. Data
reaches it as JSON in scripts (`plugins.script_json`) and enters the DOM as text, never as
markup; the one exception, leaflet-search's list, gets names HTML-escaped here.
"""

from __future__ import annotations

import itertools
import json
from html import escape
from pathlib import Path
from typing import Any, Iterable

from .layers import Layer, colour_for, district_counts, largest_value, legend_entries, metric_field, radius_for
from .model import Atlas, Metric
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
    where the unit changed: 'over 73%, 2023', '620,000 square meters (= 62 ha)'."""
    text = m.stated
    if m.qualifier and m.qualifier.lower() not in text.lower():
        text = f"{m.qualifier} {text}"
    if m.in_base_unit:
        text += f" (= {m.in_base_unit})"
    return text + (f", {m.year}" if m.year else "") + (f"; {m.note}" if m.note else "")


DISTRICT_POPUP_PLACES = 30  # a district popup lists at most this many places, most designated first


def popup_table(atlas: Atlas, place_ids: Iterable[str], district_codes: Iterable[str]) -> dict:
    """What popups and tooltips show, once per place and district however many layers draw them.

    Compact on purpose (it is most of a large map's bytes): whatever repeats is a list that
    entries cite by index: `sources` (labels), `programmes` ([en, zh]) and `labels` (figure
    names). A place is {n: [en, zh], k: kind, d: district code, g: [[programme, level, batch,
    year, [source...]]], f: [[label, text, [source...]]]}; a district is {n: [en, zh], c: [all,
    national, municipal, international], p: [[en, zh, count]] (the most designated places),
    m: how many more}. The strings stay raw: the page puts them into the DOM as text.
    """
    tables: dict[str, dict] = {"sources": {}, "programmes": {}, "labels": {}}

    def cite(table: str, key) -> int:
        return tables[table].setdefault(key, len(tables[table]))

    places = {}
    for place_id in sorted(set(place_ids)):
        place = atlas.places[place_id]
        places[place_id] = {
            "n": [place.name_en, place.name_zh], "k": place.kind, "d": place.district,
            "g": [[cite("programmes", d.programme), d.level, d.batch, d.year,
                   [cite("sources", s) for s in d.sources()]] for d in atlas.designations_of(place_id)],
            "f": [[cite("labels", m.key.replace("_", " ")), _figure_text(m), [cite("sources", m.evidence.source)]]
                  for m in atlas.metrics_of(place_id)],
        }
    counts = district_counts(atlas)
    held: dict[str, list] = {}
    for place in atlas.places.values():
        if atlas.designations_of(place.id):
            held.setdefault(place.district, []).append(
                [place.name_en, place.name_zh, len(atlas.designations_of(place.id))])
    districts = {}
    for code in sorted(set(district_codes) | {p["d"] for p in places.values()}):
        district, count = atlas.districts[code], counts[code]
        listed = sorted(held.get(code, []), key=lambda p: (-p[2], p[0], p[1] or ""))
        districts[code] = {"n": [district.name_en, district.name_zh],
                           "c": [count["designations"]] + [count[f"{level}_designations"] for level in
                                                           ("national", "municipal", "international")],
                           "p": listed[:DISTRICT_POPUP_PLACES], "m": max(0, len(listed) - DISTRICT_POPUP_PLACES)}
    programmes = [[atlas.programmes[p].name_en, atlas.programmes[p].name_zh] for p in tables["programmes"]]
    return {"sources": [_source_label(atlas, s) for s in tables["sources"]], "programmes": programmes,
            "labels": list(tables["labels"]), "places": places, "districts": districts}


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, float):
        return format_number(value)
    return str(value)


def web_features(layer: Layer, atlas: Atlas) -> list[dict]:
    """The layer's features as the map draws them: points, or district polygons left for
    `DistrictShapes` to fill in, and a few short properties.

    Names and popups are not here but in the page's one `popup_table`, keyed by `p` (place id
    or district code). `b` / `y`: batch and year, for the filter; `c`: fill colour; `r`: radius
    of a proportional symbol; `t`: the tooltip fields other than names; `s`: names to search;
    `d`: the district whose polygon a feature is.
    """
    spec = layer.spec
    frame = layer.frame
    field, largest = metric_field(layer), largest_value(layer)
    wanted = {"id", "place_id", "district_code", "batch", "year", spec.style.get("by"), field, *spec.tooltip}
    columns = [c for c in frame.columns if c in wanted]
    values = (frame[c].astype(object).where(frame[c].notna(), None).tolist() for c in columns)
    rows = [dict(zip(columns, row)) for row in zip(*values)]  # plain values, None for missing
    extra_tooltip = [f for f in spec.tooltip if f not in NAME_FIELDS]
    features = []
    for row, geometry in zip(rows, frame.geometry):
        key = row["district_code"] if spec.draw == "districts" else row["place_id"]
        properties = {"p": key, "c": colour_for(spec, row)}
        if spec.draw == "designations":
            properties.update(b=row["batch"], y=row["year"])
        if largest is not None:
            properties["r"] = round(radius_for(row[field], largest, spec.style.get("radius", 20)), 2)
        if extra_tooltip:
            properties["t"] = [_text(row.get(f)) for f in extra_tooltip]
        if spec.search:
            properties["s"] = escape(" / ".join(atlas.places[key].names()))  # leaflet-search shows it as HTML
        if spec.geometry == "district":
            properties["d"] = row["district_code"]
        feature = {"type": "Feature", "id": row["id"], "properties": properties}
        if spec.geometry == "point":
            feature["geometry"] = {"type": "Point", "coordinates": [round(geometry.x, POINT_DECIMALS),
                                                                    round(geometry.y, POINT_DECIMALS)]}
        features.append(feature)
    return features


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


def _on_each_feature(spec) -> str:
    """Leaflet style of one feature: the layer's stroke, the feature's own fill and radius."""
    base = {"color": spec.style.get("color", "#333"), "weight": spec.style.get("weight", 1),
            "fillOpacity": spec.style.get("fill_opacity", 0.5), "opacity": 1, "fill": True}
    if "dash_array" in spec.style:
        base["dashArray"] = spec.style["dash_array"]
    return ("function(feature, layer) {"
            f" const style = Object.assign({json.dumps(base, sort_keys=True)}, {{fillColor: feature.properties.c}});"
            " if (feature.properties.r !== undefined) style.radius = feature.properties.r;"
            " layer.setStyle(style); }")


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
    from folium.plugins import Fullscreen, GroupedLayerControl, MarkerCluster, Search
    from folium.utilities import JsCode

    from .plugins import DesignationFilter, DistrictLayer, DistrictShapes, GeoJson, Legend, PlaceFromHash, Popups

    bounds = web_districts.total_bounds  # minx, miny, maxx, maxy
    fmap = folium.Map(location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2], zoom_start=7,
                      tiles=None, control_scale=True, prefer_canvas=True, maxZoom=18, zoomSnap=0.25,
                      title="Chongqing Green Atlas")
    fmap.get_root().header.add_child(folium.Element(
        "<style>.atlas-popup h4{margin:0 0 4px}.atlas-popup ul{padding-left:16px;margin:2px 0}"
        ".atlas-popup td{padding:1px 4px;vertical-align:top}.atlas-popup{max-height:320px;overflow-y:auto}"
        ".atlas-sources{font-size:11px;color:#555;padding-left:18px;margin:4px 0 0}"
        ".leaflet-container{background:#dfe9f0}</style>"))
    web_shapes = dict(zip(web_districts["code"], web_districts.geometry))
    groups: dict[str, list] = {}
    legend, filtered, bindings, search_layer, index_name = [], [], [], None, None
    ids = itertools.count()
    for name in tiles:
        provider = providers.query_name(TILES[name])
        tile = folium.TileLayer(tiles=provider.build_url(), attr=provider.html_attribution,
                                name=f"{name} tiles (online)", overlay=True, show=True)
        tile.add_to(fmap)
        groups.setdefault("Basemaps (online) · 在线底图", []).append(tile)
    drawn = sorted({code for layer in layers if layer.spec.geometry == "district"
                    for code in layer.frame.get("district_code", [])})
    if drawn:  # before the layers, whose scripts read it
        shapes = DistrictShapes({code: encode_shape(web_shapes[code]) for code in drawn}, POLYGON_DECIMALS)
        shapes.add_to(fmap)
        _stable_ids(fmap.get_root(), ids)
    for layer in layers:
        spec = layer.spec
        group = folium.FeatureGroup(name=escape(f"{spec.title['en']} · {spec.title['zh']}"), show=spec.visible)
        group.add_to(fmap)
        if spec.geometry == "district":
            geojson = DistrictLayer(web_features(layer, atlas), shapes.get_name(), _on_each_feature(spec))
        else:
            geojson = GeoJson({"type": "FeatureCollection", "features": web_features(layer, atlas)},
                              name=spec.id, marker=folium.CircleMarker(radius=spec.style.get("radius", 6)),
                              control=False, on_each_feature=JsCode(_on_each_feature(spec)))
        if spec.cluster:
            # No disableClusteringAtZoom: places sharing a district point then spiderfy.
            cluster = MarkerCluster(control=False, options={"showCoverageOnHover": False, "chunkedLoading": True})
            cluster.add_to(group)
            geojson.add_to(cluster)
        else:
            geojson.add_to(group)
        _stable_ids(fmap.get_root(), ids)
        bindings.append({"layer": geojson.get_name(), "kind": "district" if spec.draw == "districts" else "place",
                         "fields": list(spec.tooltip)})
        if spec.search:
            search_layer = geojson
        if spec.draw == "places":
            index_name = geojson.get_name()
        if spec.draw == "designations":
            filtered.append(geojson)
        groups.setdefault(f"{spec.group['en']} · {spec.group['zh']}", []).append(group)
        legend.append({"layer": group.get_name(), "title": f"{spec.legend['en']} · {spec.legend['zh']}",
                       "items": _legend_items(layer)})
    place_ids = {p for layer in layers if layer.spec.draw != "districts" for p in layer.frame.get("place_id", [])}
    district_ids = {c for layer in layers if layer.spec.draw == "districts"
                    for c in layer.frame.get("district_code", [])}
    popups = Popups(popup_table(atlas, place_ids, district_ids), bindings)
    popups.add_to(fmap)
    _stable_ids(fmap.get_root(), ids)
    control = GroupedLayerControl({escape(k): v for k, v in groups.items()}, exclusive_groups=False, collapsed=True)
    control.layers_untoggle = sorted(control.layers_untoggle)  # folium keeps a set: order would vary by run
    control.add_to(fmap)
    Legend(legend).add_to(fmap)
    if filtered:
        DesignationFilter([g.get_name() for g in filtered], _filter_choices(atlas),
                          {"batch": "Batch 批次", "year": "Year 年份", "all": "all 全部"}).add_to(fmap)
    if search_layer is not None:
        Search(layer=search_layer, search_label="s", placeholder="Search places 搜索地点",
               collapsed=False, search_zoom=11, position="topright").add_to(fmap)
    if index_name is not None:
        PlaceFromHash(index_name, popups.get_name()).add_to(fmap)
    Fullscreen(position="topleft").add_to(fmap)
    fit = FitBounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    fit.options["animate"] = False  # an animated first fit would swallow a view set from the URL hash
    fit.add_to(fmap)
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
