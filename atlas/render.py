"""Stage 5a: draw the layers as one self-contained folium/Leaflet page.

The page carries its own Leaflet (see `assets.py`), draws districts without tiles, and gets
every string from the data HTML-escaped once, here, on its way into the page.
"""

from __future__ import annotations

import itertools
import json
from html import escape
from pathlib import Path
from typing import Any, Iterable, Mapping

from .layers import Layer, colour_for, district_counts, largest_value, legend_entries, metric_field, radius_for
from .model import Atlas, Metric, Place

WEB_DECIMALS = 5  # ~1 m: plenty for a city-wide web map, and a third fewer bytes than 6+
UNIT_SYMBOLS = {"hectare": "ha", "kilowatt": "kW", "tonne": "t"}
TILES = {  # providers that need no API key
    "osm": "OpenStreetMap.Mapnik",
    "opentopomap": "OpenTopoMap",
    "esri-imagery": "Esri.WorldImagery",
    "esri-topo": "Esri.WorldTopoMap",
}


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0").rstrip(".")


def _bilingual(en: str | None, zh: str | None) -> str:
    return escape(" · ".join(t for t in (en, zh) if t))


def _source_label(atlas: Atlas, source_id: str) -> str:
    source = atlas.sources[source_id]
    return f"{source.outlet}: {source.title}" + (f" ({source.date})" if source.date else "")


class _Notes:
    """Numbers each cited source once per popup, so a long title is printed once, not per row."""

    def __init__(self, atlas: Atlas):
        self.atlas = atlas
        self.order: list[str] = []

    def cite(self, source_ids: Iterable[str]) -> str:
        marks = []
        for source_id in source_ids:
            if source_id not in self.order:
                self.order.append(source_id)
            marks.append(f"[{self.order.index(source_id) + 1}]")
        return f"<sup>{''.join(marks)}</sup>"

    def html(self) -> str:
        items = "".join(f"<li>{escape(_source_label(self.atlas, s))}</li>" for s in self.order)
        return f"<ol class='atlas-sources'>{items}</ol>" if items else ""


def place_popup(place: Place, atlas: Atlas) -> str:
    """Popup HTML for a place: names, district, every designation and every figure, each with
    numbered sources listed at the foot."""
    district = atlas.districts[place.district]
    notes = _Notes(atlas)
    parts = [f"<div class='atlas-popup'><h4>{_bilingual(place.name_en, place.name_zh)}</h4>",
             f"<p>{escape(place.kind)} · {_bilingual(district.name_en, district.name_zh)}</p>"]
    designations = atlas.designations_of(place.id)
    if designations:
        parts.append("<b>Designations 命名</b><ul>")
        for d in designations:
            programme = atlas.programmes[d.programme]
            facts = [d.level, f"batch {d.batch}" if d.batch else "batch unknown",
                     str(d.year) if d.year else "year unknown"]
            parts.append(f"<li>{_bilingual(programme.name_en, programme.name_zh)} "
                         f"({escape(', '.join(facts))}){notes.cite(d.sources())}</li>")
        parts.append("</ul>")
    metrics = atlas.metrics_of(place.id)
    if metrics:
        parts.append("<b>Figures 指标</b><table>")
        for m in metrics:
            parts.append(f"<tr><td>{escape(m.key.replace('_', ' '))}</td>"
                         f"<td>{escape(_figure_text(m))}{notes.cite([m.evidence.source])}</td></tr>")
        parts.append("</table>")
    return "".join(parts) + notes.html() + "</div>"


def _figure_text(m: Metric) -> str:
    """The figure as the source states it, its qualifier and year, and the normalised value
    where the unit changed: 'over 73%, 2023', '620,000 square meters (= 62 ha)'."""
    text = m.stated
    if m.qualifier and m.qualifier.lower() not in text.lower():
        text = f"{m.qualifier} {text}"
    if m.unit != m.base_unit and m.base_unit not in ("count", "percent"):
        text += f" (= {_number(m.base_value)} {UNIT_SYMBOLS.get(m.base_unit, m.base_unit)})"
    return text + (f", {m.year}" if m.year else "") + (f"; {m.note}" if m.note else "")


def district_popup(code: str, atlas: Atlas, counts: Mapping[str, int]) -> str:
    district = atlas.districts[code]
    places = [p for p in atlas.places.values() if p.district == code and atlas.designations_of(p.id)]
    lines = "".join(f"<li>{_bilingual(p.name_en, p.name_zh)}: {len(atlas.designations_of(p.id))}</li>"
                    for p in places)
    return (f"<div class='atlas-popup'><h4>{_bilingual(district.name_en, district.name_zh)}</h4>"
            f"<p>{escape(code)} · {counts['designations']} designations 命名 "
            f"({counts['national_designations']} national, {counts['municipal_designations']} municipal, "
            f"{counts['international_designations']} international)</p>"
            + (f"<ul>{lines}</ul>" if lines else "") + "</div>")


def _round(geometry, decimals: int = WEB_DECIMALS):
    import numpy as np
    import shapely

    return shapely.transform(geometry, lambda xy: np.round(xy, decimals))


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, float):
        return _number(value)
    return str(value)


def web_features(layer: Layer, atlas: Atlas, web_districts, popups: dict[str, str]) -> list[dict]:
    """The layer's features as the map needs them: lighter geometry, only the properties drawn,
    every string escaped. `popups` caches popup HTML by place id or district code."""
    import shapely
    from pandas import NA  # the missing value to_dict() keeps for nullable integer columns

    spec = layer.spec
    shapes = web_districts.set_index("code").geometry if spec.geometry == "district" else None
    counts = district_counts(atlas) if spec.draw == "districts" else None
    field, largest = metric_field(layer), largest_value(layer)
    features = []
    for row, geometry in zip(layer.frame.to_dict("records"), layer.frame.geometry):
        row = {k: (None if v is None or (isinstance(v, float) and v != v) or v is NA else v) for k, v in row.items()
               if k != "geometry"}
        if spec.draw == "districts":
            key = row["district_code"]
            popup = popups.setdefault(key, district_popup(key, atlas, counts[key]))
        else:
            key = row["place_id"]
            popup = popups.setdefault(key, place_popup(atlas.places[key], atlas))
            names = atlas.places[key].names()
        style = {"fill": colour_for(spec, row)}
        if largest is not None:
            style["radius"] = round(radius_for(row[field], largest, spec.style.get("radius", 20)), 2)
        geometry = shapes[row["district_code"]] if shapes is not None else geometry
        properties = {
            "id": row["id"], "place_id": row.get("place_id"),
            "batch": row.get("batch"), "year": row.get("year"),
            "tooltip": escape(" · ".join(_text(row.get(f)) for f in spec.tooltip)),
            "popup": popup, **style,
        }
        if spec.search:
            properties["search"] = escape(" / ".join(names))
        features.append({"type": "Feature", "id": row["id"], "properties": properties,
                         "geometry": json.loads(shapely.to_geojson(_round(geometry)))})
    return features


def _style_function(spec):
    base = {"color": spec.style.get("color", "#333"), "weight": spec.style.get("weight", 1),
            "fillOpacity": spec.style.get("fill_opacity", 0.5), "opacity": 1}
    if "dash_array" in spec.style:
        base["dashArray"] = spec.style["dash_array"]

    def style(feature):
        props = feature["properties"]
        extra = {"fillColor": props["fill"]}
        if "radius" in props:
            extra["radius"] = props["radius"]
        return {**base, **extra}
    return style


def _legend_items(layer: Layer) -> list[list[str]]:
    shape = "square" if layer.spec.geometry == "district" else "circle"
    entries = legend_entries(layer.spec)
    field = metric_field(layer)
    if field and len(layer.frame):
        values = sorted(layer.frame[field].dropna().unique())
        return [[f"{_number(v)}", entries[0][1], shape] for v in values[:: max(1, len(values) // 3)]]
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

    from .plugins import DesignationFilter, Legend, PlaceFromHash

    bounds = web_districts.total_bounds  # minx, miny, maxx, maxy
    fmap = folium.Map(location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2], zoom_start=7,
                      tiles=None, control_scale=True, prefer_canvas=True, maxZoom=18, zoomSnap=0.25,
                      title="Chongqing Green Atlas")
    fmap.get_root().header.add_child(folium.Element(
        "<style>.atlas-popup h4{margin:0 0 4px}.atlas-popup ul{padding-left:16px;margin:2px 0}"
        ".atlas-popup td{padding:1px 4px;vertical-align:top}.atlas-popup{max-height:320px;overflow-y:auto}"
        ".atlas-sources{font-size:11px;color:#555;padding-left:18px;margin:4px 0 0}.leaflet-container{background:#dfe9f0}</style>"))
    groups: dict[str, list] = {}
    legend, filtered, search_layer, index_name = [], [], None, None
    popups: dict[str, str] = {}
    ids = itertools.count()
    for name in tiles:
        provider = providers.query_name(TILES[name])
        tile = folium.TileLayer(tiles=provider.build_url(), attr=provider.html_attribution,
                                name=f"{name} tiles (online)", overlay=True, show=True)
        tile.add_to(fmap)
        groups.setdefault("Basemaps (online) · 在线底图", []).append(tile)
    for layer in layers:
        spec = layer.spec
        group = folium.FeatureGroup(name=escape(f"{spec.title['en']} · {spec.title['zh']}"), show=spec.visible)
        group.add_to(fmap)
        features = web_features(layer, atlas, web_districts, popups)
        marker = None
        if spec.geometry == "point":
            marker = folium.CircleMarker(radius=spec.style.get("radius", 6))
        geojson = folium.GeoJson(
            {"type": "FeatureCollection", "features": features}, name=spec.id, marker=marker,
            style_function=_style_function(spec), control=False,
            tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False),
            popup=folium.GeoJsonPopup(fields=["popup"], labels=False, max_width=420),
        )
        if spec.cluster:
            # No disableClusteringAtZoom: places sharing a district point then spiderfy.
            cluster = MarkerCluster(control=False, options={"showCoverageOnHover": False})
            cluster.add_to(group)
            geojson.add_to(cluster)
        else:
            geojson.add_to(group)
        _stable_ids(fmap.get_root(), ids)
        if spec.search:
            search_layer = geojson
        if spec.draw == "places":
            index_name = geojson.get_name()
        if spec.draw == "designations":
            filtered.append(geojson)
        groups.setdefault(f"{spec.group['en']} · {spec.group['zh']}", []).append(group)
        legend.append({"layer": group.get_name(), "title": f"{spec.legend['en']} · {spec.legend['zh']}",
                       "items": _legend_items(layer)})
    _stable_ids(fmap.get_root(), ids)
    GroupedLayerControl({escape(k): v for k, v in groups.items()}, exclusive_groups=False,
                        collapsed=True).add_to(fmap)
    Legend(legend).add_to(fmap)
    if filtered:
        DesignationFilter([g.get_name() for g in filtered], _filter_choices(atlas),
                          {"batch": "Batch 批次", "year": "Year 年份", "all": "all 全部"}).add_to(fmap)
    if search_layer is not None:
        Search(layer=search_layer, search_label="search", placeholder="Search places 搜索地点",
               collapsed=False, search_zoom=11, position="topright").add_to(fmap)
    if index_name is not None:
        PlaceFromHash(index_name).add_to(fmap)
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
    from .assets import inline_assets, check_offline

    fmap = build_map(layers, atlas, web_districts, tiles)
    figure = inline_assets(fmap)
    html = figure.render()
    if not tiles:
        check_offline(html)
    path.write_text(html, encoding="utf-8")
    return path
