"""Small folium plugins the atlas needs and folium lacks: each a class plus a template.

Data reaches the page only as JSON (`tojson` escapes <, > and &) and is put into the DOM with
`textContent`, never `innerHTML`, so a place name cannot inject markup.
"""

from __future__ import annotations

import json

import folium
from branca.element import Element, MacroElement
from jinja2 import Template


def script_json(data) -> str:
    """JSON to paste into a <script>: compact, sorted, and with <, > and & escaped so no
    string from the data can close the script element."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class Literal(Element):
    """Text put into the page as it is."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def render(self, **kwargs) -> str:
        return self.text


class LiteralMacroElement(MacroElement):
    """A MacroElement whose rendered header, html and script go into the page as literal text.

    branca wraps each in a new `Element(template=text)`: it compiles the output as a Jinja
    template and renders it again. For a script carrying data that is wrong twice over: a
    name holding `{{ ... }}` would be evaluated, and lexing megabytes of JSON costs seconds.
    """

    def render(self, **kwargs):
        figure = self.get_root()
        for part, target in (("header", figure.header), ("html", figure.html), ("script", figure.script)):
            macro = self._template.module.__dict__.get(part)
            if macro is not None:
                target.add_child(Literal(macro(self, kwargs)), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


class GeoJson(folium.GeoJson, LiteralMacroElement):
    """folium's GeoJson, with its data put into the page literally (see `LiteralMacroElement`)."""


class Legend(LiteralMacroElement):
    """One legend box listing, for every layer now on the map, its swatches.

    `entries`: [{"layer": <JS name of the FeatureGroup>, "title": str, "items": [[label, colour, shape]]}];
    shape is "circle" or "square".
    """

    _template = Template("""
{% macro header(this, kwargs) %}
<style>
.atlas-legend { background: rgba(255,255,255,.92); padding: 6px 9px; font: 12px/1.35 sans-serif;
  max-height: 45vh; overflow-y: auto; border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.3); }
.atlas-legend h4 { margin: 6px 0 2px; font-size: 12px; }
.atlas-legend i { display: inline-block; width: 12px; height: 12px; margin-right: 5px;
  vertical-align: -2px; border: 1px solid #555; }
.atlas-legend i.circle { border-radius: 50%; }
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
(function() {
  const map = {{ this._parent.get_name() }};
  const entries = {{ this.entries | tojson }};
  const layers = { {%- for e in this.entries %}{{ e.layer | tojson }}: {{ e.layer }},{% endfor -%} };
  const control = L.control({position: "bottomright"});
  control.onAdd = function() {
    const box = L.DomUtil.create("div", "atlas-legend leaflet-control");
    L.DomEvent.disableScrollPropagation(box);
    function refresh() {
      box.replaceChildren();
      for (const entry of entries) {
        if (!map.hasLayer(layers[entry.layer])) continue;
        const head = document.createElement("h4");
        head.textContent = entry.title;
        box.appendChild(head);
        for (const [label, colour, shape] of entry.items) {
          const row = document.createElement("div");
          const swatch = document.createElement("i");
          swatch.className = shape;
          swatch.style.background = colour;
          row.appendChild(swatch);
          row.appendChild(document.createTextNode(label));
          box.appendChild(row);
        }
      }
      box.style.display = box.childElementCount ? "" : "none";
    }
    map.on("layeradd layerremove", refresh);
    refresh();
    return box;
  };
  control.addTo(map);
})();
{% endmacro %}
""")

    def __init__(self, entries: list[dict]):
        super().__init__()
        self._name = "Legend"
        self.entries = entries


class DesignationFilter(LiteralMacroElement):
    """Selects for designation batch and year that show only matching features of `layers`."""

    _template = Template("""
{% macro header(this, kwargs) %}
<style>
.atlas-filter { background: rgba(255,255,255,.92); padding: 6px 8px; font: 12px sans-serif;
  border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.3); }
.atlas-filter label { display: block; margin: 2px 0; }
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
(function() {
  const map = {{ this._parent.get_name() }};
  const groups = [{%- for name in this.layers %}{{ name }},{% endfor -%}];
  const originals = groups.map(g => g.getLayers());
  const choices = {{ this.choices | tojson }};
  const labels = {{ this.labels | tojson }};
  const selected = {batch: "", year: ""};
  const keys = {batch: "b", year: "y"};  // the short property names of the map's features
  function keep(props) {
    return Object.entries(selected).every(([key, want]) => {
      const value = props[keys[key]];
      return want === "" || String(value === null || value === undefined ? "unknown" : value) === want;
    });
  }
  function apply() {
    groups.forEach((group, i) => originals[i].forEach(layer => {
      const show = keep(layer.feature.properties);
      if (show && !group.hasLayer(layer)) group.addLayer(layer);
      if (!show && group.hasLayer(layer)) group.removeLayer(layer);
    }));
  }
  const control = L.control({position: "topleft"});
  control.onAdd = function() {
    const box = L.DomUtil.create("div", "atlas-filter leaflet-control");
    L.DomEvent.disableClickPropagation(box);
    for (const key of ["batch", "year"]) {
      const label = document.createElement("label");
      label.appendChild(document.createTextNode(labels[key] + " "));
      const select = document.createElement("select");
      select.name = key;
      for (const [value, text] of [["", labels.all], ...choices[key]]) {
        const option = document.createElement("option");
        option.value = value;
        option.textContent = text;
        select.appendChild(option);
      }
      select.addEventListener("change", () => { selected[key] = select.value; apply(); });
      label.appendChild(select);
      box.appendChild(label);
    }
    return box;
  };
  control.addTo(map);
})();
{% endmacro %}
""")

    def __init__(self, layers: list[str], choices: dict[str, list[list[str]]], labels: dict[str, str]):
        super().__init__()
        self._name = "DesignationFilter"
        self.layers = layers
        self.choices = choices
        self.labels = labels


class Popups(LiteralMacroElement):
    """Popups and tooltips of every layer, built in the browser from one table of texts.

    A place drawn by several layers has its names, designations and figures in the page once
    (`render.popup_table` gives the table's shape), not once per feature. Texts enter the DOM
    through `textContent` only. `bindings`: [{"layer": <JS name of a GeoJson>, "kind": "place"
    or "district", "fields": the tooltip's fields}]; `popup(kind, key)` is public for other plugins.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function() {
  const data = {{ this.data }};
  function add(parent, tag, text, className) {
    const element = document.createElement(tag);
    if (text !== undefined && text !== null) element.textContent = text;
    if (className) element.className = className;
    if (parent) parent.appendChild(element);
    return element;
  }
  function bilingual(pair) { return pair.filter(Boolean).join(" \u00b7 "); }
  function cite(parent, ids, order) {
    if (!ids.length) return;
    add(parent, "sup", ids.map(i => {
      if (!order.includes(i)) order.push(i);
      return "[" + (order.indexOf(i) + 1) + "]";
    }).join(""));
  }
  function place(id) {
    const entry = data.places[id];
    const box = add(null, "div", null, "atlas-popup");
    add(box, "h4", bilingual(entry.n));
    add(box, "p", entry.k + " \u00b7 " + bilingual(data.districts[entry.d].n));
    const order = [];
    if (entry.g.length) {
      add(box, "b", "Designations 命名");
      const list = add(box, "ul");
      for (const [programme, level, batch, year, sources] of entry.g) {
        const facts = [level, batch ? "batch " + batch : "batch unknown", year ? String(year) : "year unknown"];
        const text = bilingual(data.programmes[programme]) + " (" + facts.join(", ") + ")";
        cite(add(list, "li", text), sources, order);
      }
    }
    if (entry.f.length) {
      add(box, "b", "Figures 指标");
      const table = add(box, "table");
      for (const [label, text, sources] of entry.f) {
        const row = add(table, "tr");
        add(row, "td", data.labels[label]);
        cite(add(row, "td", text), sources, order);
      }
    }
    if (order.length) {
      const notes = add(box, "ol", null, "atlas-sources");
      for (const i of order) add(notes, "li", data.sources[i]);
    }
    return box;
  }
  function district(code) {
    const entry = data.districts[code];
    const box = add(null, "div", null, "atlas-popup");
    add(box, "h4", bilingual(entry.n));
    const [all, national, municipal, international] = entry.c;
    add(box, "p", code + " \u00b7 " + all + " designations 命名 (" + national + " national, " + municipal
        + " municipal, " + international + " international)");
    if (entry.p.length) {
      const list = add(box, "ul");
      for (const [en, zh, count] of entry.p) add(list, "li", bilingual([en, zh]) + ": " + count);
      if (entry.m) add(list, "li", "\u2026 " + entry.m + " more places / 另有 " + entry.m + " 个地点");
    }
    return box;
  }
  function popup(kind, key) { return kind === "district" ? district(key) : place(key); }
  function tooltip(kind, fields, props) {
    const names = (kind === "district" ? data.districts : data.places)[props.p].n;
    let extra = 0;
    const parts = fields.map(f => f === "name_en" ? names[0] : f === "name_zh" ? names[1] : props.t[extra++]);
    return add(null, "span", parts.filter(v => v !== null && v !== undefined && v !== "").join(" \u00b7 "));
  }
  {%- for b in this.bindings %}
  {{ b.layer }}.bindPopup(l => popup({{ b.kind | tojson }}, l.feature.properties.p), {maxWidth: 420});
  {{ b.layer }}.bindTooltip(l => tooltip({{ b.kind | tojson }}, {{ b.fields | tojson }}, l.feature.properties),
                            {sticky: true});
  {%- endfor %}
  return {popup: popup};
})();
{% endmacro %}
""")

    def __init__(self, data: dict, bindings: list[dict]):
        super().__init__()
        self._name = "Popups"
        self.data = script_json(data)
        self.bindings = bindings


class DistrictShapes(LiteralMacroElement):
    """The web map's district polygons, once per page, however many layers draw them.

    `shapes`: code -> polygons -> rings -> a flat list of integers: the first vertex in units
    of 10^-decimals degrees, then the differences from each vertex to the next. Neighbouring
    vertices of a simplified border differ in the last few digits only, so this takes a third
    of the bytes of GeoJSON coordinates. `geometry(code)` gives the GeoJSON MultiPolygon.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function() {
  const shapes = {{ this.shapes }};
  const scale = {{ this.scale }};
  const decoded = {};
  function ring(deltas) {
    const out = [];
    let x = 0, y = 0;
    for (let i = 0; i < deltas.length; i += 2) {
      x += deltas[i];
      y += deltas[i + 1];
      out.push([x / scale, y / scale]);
    }
    return out;
  }
  function geometry(code) {
    if (!decoded[code]) decoded[code] = {type: "MultiPolygon", coordinates: shapes[code].map(p => p.map(ring))};
    return decoded[code];
  }
  return {geometry: geometry};
})();
{% endmacro %}
""")

    def __init__(self, shapes: dict[str, list[list[list[int]]]], decimals: int):
        super().__init__()
        self._name = "DistrictShapes"
        self.shapes = script_json(shapes)
        self.scale = 10 ** decimals


class DistrictLayer(LiteralMacroElement):
    """A Leaflet GeoJSON layer of district polygons whose geometry comes from `DistrictShapes`.

    `features`: GeoJSON features without geometry, each naming its district in
    `properties.d`; `on_each_feature`: JS function(feature, layer) that styles a feature.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.geoJson(null, {onEachFeature: {{ this.on_each_feature }}});
{{ this.get_name() }}.addData({{ this.features }}.map(
  f => Object.assign(f, {geometry: {{ this.shapes }}.geometry(f.properties.d)})));
{{ this.get_name() }}.addTo({{ this._parent.get_name() }});
{% endmacro %}
""")

    def __init__(self, features: list[dict], shapes: str, on_each_feature: str):
        super().__init__()
        self._name = "DistrictLayer"
        self.features = script_json(features)
        self.shapes = shapes
        self.on_each_feature = on_each_feature


class PlaceFromHash(LiteralMacroElement):
    """Centres the map on a place named in the URL, e.g. `atlas.html#place=jinyun-mountain`,
    and opens its popup; follows later changes of the hash too.

    The popup opens on the map at the place's point, not on its marker, so it shows even
    while the marker sits in a cluster (many places share their district's point).
    """

    _template = Template("""
{% macro script(this, kwargs) %}
(function() {
  const map = {{ this._parent.get_name() }};
  const index = {{ this.layer }};
  function show() {
    const match = /^#place=([^&]+)/.exec(window.location.hash);
    if (!match) return;
    const id = decodeURIComponent(match[1]);
    const layer = index.getLayers().find(l => l.feature.properties.p === id);
    if (!layer) return;
    map.setView(layer.getLatLng(), Math.max(map.getZoom(), {{ this.zoom }}), {animate: false});
    L.popup({maxWidth: 420}).setLatLng(layer.getLatLng()).setContent({{ this.popups }}.popup("place", id)).openOn(map);
  }
  window.addEventListener("hashchange", show);
  window.addEventListener("load", show);  // after the page's own fit to Chongqing
})();
{% endmacro %}
""")

    def __init__(self, layer: str, popups: str, zoom: int = 11):
        super().__init__()
        self._name = "PlaceFromHash"
        self.layer = layer
        self.popups = popups
        self.zoom = zoom
