"""Small folium plugins the atlas needs and folium lacks: each a class plus a template.

Data reaches the page only as JSON (`tojson` escapes <, > and &) and is put into the DOM with
`textContent`, never `innerHTML`, so a place name cannot inject markup.
"""

from __future__ import annotations

from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import MarkerCluster, Search
from jinja2 import Template

from .assets import SUPERCLUSTER_URL


def script_json(data) -> str:
    """JSON to paste into a <script>: compact, sorted, and with <, > and & escaped so no
    string from the data can close the script element. orjson: a large map's data is tens of
    megabytes, which the json module encodes five times slower."""
    import orjson

    text = orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()
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
    The header (styles, shared code) goes in once per class, however many instances render.
    """

    def render(self, **kwargs):
        figure = self.get_root()
        for part, target in (("header", figure.header), ("html", figure.html), ("script", figure.script)):
            macro = self._template.module.__dict__.get(part)
            if macro is not None:
                name = type(self).__name__ if part == "header" else self.get_name()
                target.add_child(Literal(macro(self, kwargs)), name=name)
        for element in self._children.values():
            element.render(**kwargs)


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
    const shown = new Set(Object.values(layers));  // not every marker that comes and goes
    map.on("layeradd layerremove", e => { if (shown.has(e.layer)) refresh(); });
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
    """Selects for designation batch and year that show only matching features of `layers`
    (JS names of `DistrictLayer`s and `PointLayer`s)."""

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
  const originals = groups.map(g => g instanceof L.AtlasPoints ? null : g.getLayers());
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
    groups.forEach((group, i) => {
      if (!originals[i]) return group.setFilter(keep);  // drawn (or redrawn) when shown
      originals[i].forEach(layer => {
        const show = keep(layer.feature.properties);
        if (show && !group.hasLayer(layer)) group.addLayer(layer);
        if (!show && group.hasLayer(layer)) group.removeLayer(layer);
      });
    });
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
    through `textContent` only. `bindings`: [{"layer": <JS name of a DistrictLayer or
    PointLayer>, "kind": "place" or "district", "fields": the tooltip's fields, "cluster": true
    for a clustered PointLayer, whose stacks of places too close to part open as a list}];
    `listed`: at most this many places in such a list. `popup(kind, key)`,
    `open(map, latlng, kind, key)` and `names(place id)` are public for other plugins.
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
    const [names, kind, code, designations, figures, role] = data.places[id];
    const box = add(null, "div", null, "atlas-popup");
    add(box, "h4", bilingual(names));
    add(box, "p", kind + " \u00b7 " + bilingual(data.districts[code][0]));
    const order = [];
    if (role) cite(add(box, "p", role[0]), role[1], order);
    if (designations.length) {
      add(box, "b", "Designations 命名");
      const list = add(box, "ul");
      for (const [programme, level, batch, year, sources] of designations) {
        const facts = [level, batch ? "batch " + batch : "batch unknown", year ? String(year) : "year unknown"];
        const text = bilingual(data.programmes[programme]) + " (" + facts.join(", ") + ")";
        cite(add(list, "li", text), sources, order);
      }
    }
    if (figures.length) {
      add(box, "b", "Figures 指标");
      const table = add(box, "table");
      for (const [label, text, sources] of figures) {
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
  function more(list, count) {
    if (count > 0) add(list, "li", "\u2026 " + count + " more places / 另有 " + count + " 个地点");
  }
  function district(code) {
    const [names, [all, national, municipal, international], places, rest] = data.districts[code];
    const box = add(null, "div", null, "atlas-popup");
    add(box, "h4", bilingual(names));
    add(box, "p", code + " \u00b7 " + all + " designations 命名 (" + national + " national, " + municipal
        + " municipal, " + international + " international)");
    if (places.length) {
      const list = add(box, "ul");
      for (const [en, zh, count] of places) add(list, "li", bilingual([en, zh]) + ": " + count);
      more(list, rest);
    }
    return box;
  }
  function popup(kind, key) { return kind === "district" ? district(key) : place(key); }
  function show(map, latlng, content) {
    L.popup({maxWidth: 420}).setLatLng(latlng).setContent(content).openOn(map);
  }
  function open(map, latlng, kind, key) { show(map, latlng, popup(kind, key)); }
  function stack(map, latlng, features) {  // places too close to part at the closest zoom
    const box = add(null, "div", null, "atlas-popup");
    add(box, "h4", features.length + " places \u00b7 " + features.length + " 个地点");
    const list = add(box, "ul");
    for (const feature of features.slice(0, {{ this.listed }})) {
      const id = feature.properties.p;
      const link = add(add(list, "li"), "a", bilingual(data.places[id][0]));
      link.href = "#place=" + encodeURIComponent(id);
      link.addEventListener("click", event => { event.preventDefault(); open(map, latlng, "place", id); });
    }
    more(list, features.length - {{ this.listed }});
    return box;
  }
  function tooltip(kind, fields, props) {
    const names = (kind === "district" ? data.districts : data.places)[props.p][0];
    let extra = 0;
    const parts = fields.map(f => f === "name_en" ? names[0] : f === "name_zh" ? names[1] : props.t[extra++]);
    return add(null, "span", parts.filter(v => v !== null && v !== undefined && v !== "").join(" \u00b7 "));
  }
  {%- for b in this.bindings %}
  {{ b.layer }}.bindPopup(l => popup({{ b.kind | tojson }}, l.feature.properties.p), {maxWidth: 420});
  {{ b.layer }}.bindTooltip(l => tooltip({{ b.kind | tojson }}, {{ b.fields | tojson }}, l.feature.properties),
                            {sticky: true});
  {%- if b.cluster %}
  {{ b.layer }}.on("stack", e => show(e.target._map, e.latlng, stack(e.target._map, e.latlng, e.features)));
  {%- endif %}
  {%- endfor %}
  return {popup: popup, open: open, names: id => data.places[id][0]};
})();
{% endmacro %}
""")

    def __init__(self, data: dict, bindings: list[dict], listed: int):
        super().__init__()
        self._name = "Popups"
        self.data = script_json(data)
        self.bindings = bindings
        self.listed = listed


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
    while the marker sits in a cluster (many places share their district's point) or the
    layer is not drawn yet. `layer`: JS name of the `PointLayer` that locates places.
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
    const latlng = index.locate(id);
    if (!latlng) return;
    map.setView(latlng, Math.max(map.getZoom(), {{ this.zoom }}), {animate: false});
    {{ this.popups }}.open(map, latlng, "place", id);
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


class PointLayer(JSCSSMixin, LiteralMacroElement):
    """A point layer kept in the page as columns, made into circle markers only once shown.

    Most of a large map's points are in layers hidden at first; building their Leaflet layers
    up front took seconds. A clustered layer (`cluster`) is indexed by supercluster when shown
    and draws only the clusters and points in view; a cluster whose places stay together at
    the closest zoom fires `stack` with them (`Popups` lists them).

    `columns`: one list per property, as `render.web_columns` gives them (with `lon` / `lat`
    in units of 10^-decimals degrees); the colours `c` go in as a palette and indexes into it.
    `style`: Leaflet path options. In the browser `features()` gives GeoJSON-like point
    features, `latlng(i)` the point of the i-th, `locate(p)` the point of place `p`,
    `setFilter(keep)` shows only features whose properties `keep` accepts, and `columns` holds
    the columns.
    """

    _template = Template("""
{% macro header(this, kwargs) %}
<script>
L.AtlasPoints = L.FeatureGroup.extend({
  initialize: function(columns, options) {
    L.FeatureGroup.prototype.initialize.call(this, [], options);
    this.columns = columns;
    this._keep = null;  // properties -> shown?, or null for every feature
    this._markers = new Map();  // feature -> its circle marker, made when first drawn
    this._clusters = L.layerGroup();  // kept apart: popups and tooltips are for places only
    this._stale = true;
  },
  features: function() {
    if (!this._features) {
      const columns = this.columns, palette = this.options.palette, scale = this.options.scale;
      const names = Object.keys(columns).filter(name => name !== "lon" && name !== "lat");
      this._features = columns.lon.map((lon, i) => {
        const properties = {};
        for (const name of names) properties[name] = columns[name][i];
        if (palette) properties.c = palette[properties.c];
        const coordinates = [lon / scale, columns.lat[i] / scale];
        return {type: "Feature", geometry: {type: "Point", coordinates}, properties};
      });
    }
    return this._features;
  },
  latlng: function(i) {
    return L.latLng(this.columns.lat[i] / this.options.scale, this.columns.lon[i] / this.options.scale);
  },
  locate: function(p) {
    const i = this.columns.p.indexOf(p);
    return i < 0 ? null : this.latlng(i);
  },
  setFilter: function(keep) {
    this._keep = keep;
    this._index = null;
    this._stale = true;
    if (this._map) this._draw();
  },
  onAdd: function(map) {
    L.FeatureGroup.prototype.onAdd.call(this, map);
    if (this.options.cluster) {
      this._clusters.addTo(map);
      map.on("moveend", this._draw, this);
    }
    this._draw();
  },
  onRemove: function(map) {
    if (this.options.cluster) {
      map.off("moveend", this._draw, this);
      map.removeLayer(this._clusters);
    }
    L.FeatureGroup.prototype.onRemove.call(this, map);
  },
  _draw: function() {
    if (this.options.cluster) return this._drawClusters();
    if (!this._stale) return;
    this._stale = false;
    for (const feature of this.features()) {
      if (!this._keep || this._keep(feature.properties)) this.addLayer(this._marker(feature));
      else if (this._markers.has(feature)) this.removeLayer(this._markers.get(feature));
    }
  },
  _drawClusters: function() {
    const map = this._map;
    if (!this._index) {
      const features = this._keep ? this.features().filter(f => this._keep(f.properties)) : this.features();
      const options = Object.assign({maxZoom: map.getMaxZoom()}, this.options.cluster);
      this._index = new Supercluster(options).load(features);
    }
    const view = map.getBounds().pad(0.5);
    const found = this._index.getClusters([view.getWest(), view.getSouth(), view.getEast(), view.getNorth()],
                                          Math.floor(map.getZoom()));
    this.clearLayers();
    this._clusters.clearLayers();
    for (const item of found) {
      if (item.properties.cluster) this._clusters.addLayer(this._cluster(item));
      else this.addLayer(this._marker(item));
    }
  },
  _marker: function(feature) {
    let marker = this._markers.get(feature);
    if (!marker) {
      const [lon, lat] = feature.geometry.coordinates, properties = feature.properties;
      const style = Object.assign({}, this.options.style);
      if (properties.c !== undefined) style.fillColor = properties.c;
      if (properties.r !== undefined) style.radius = properties.r;
      marker = L.circleMarker([lat, lon], style);
      marker.feature = feature;
      this._markers.set(feature, marker);
    }
    return marker;
  },
  _cluster: function(item) {  // markercluster's look (its MarkerCluster.Default.css)
    const count = item.properties.point_count, [lon, lat] = item.geometry.coordinates;
    const html = document.createElement("div");
    html.appendChild(document.createElement("span")).textContent = count;
    const size = count < 10 ? "small" : count < 100 ? "medium" : "large";
    const icon = L.divIcon({html, className: "marker-cluster marker-cluster-" + size, iconSize: L.point(40, 40)});
    const marker = L.marker([lat, lon], {icon});
    marker.on("click", () => {
      const id = item.properties.cluster_id, zoom = this._index.getClusterExpansionZoom(id);
      if (zoom <= this._map.getMaxZoom()) this._map.setView(marker.getLatLng(), zoom);
      else this.fire("stack", {latlng: marker.getLatLng(), features: this._index.getLeaves(id, Infinity)});
    });
    return marker;
  },
});
</script>
{% endmacro %}
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = new L.AtlasPoints({{ this.columns }}, {{ this.options }}).addTo({{ this._parent.get_name() }});
{% endmacro %}
""")

    CLUSTER_RADIUS = 80  # pixels, as markercluster's default

    def __init__(self, columns: dict[str, list], decimals: int, style: dict, cluster: bool):
        super().__init__()
        self._name = "PointLayer"
        columns = dict(columns)
        colours = columns.pop("c", [])
        palette = list(dict.fromkeys(colours))
        options = {"style": dict(style), "cluster": {"radius": self.CLUSTER_RADIUS} if cluster else None,
                   "scale": 10 ** decimals}
        if len(palette) == 1:
            options["style"]["fillColor"] = palette[0]
        elif palette:
            index = {colour: i for i, colour in enumerate(palette)}
            columns["c"] = [index[colour] for colour in colours]
            options["palette"] = palette
        self.columns = script_json(columns)
        self.options = script_json(options)
        if cluster:
            self.default_js = [("supercluster", SUPERCLUSTER_URL)]
            self.default_css = [("markerclusterdefaultcss", dict(MarkerCluster.default_css)["markerclusterdefaultcss"])]



class PlaceSearch(JSCSSMixin, LiteralMacroElement):
    """leaflet-search over every name of a `PointLayer`'s places (English and Chinese from
    `Popups`, aliases from the layer's `a` column), opening the chosen place's popup.

    folium's `Search` reads names from a layer's Leaflet features, which a `PointLayer` only
    makes when drawn, and puts them into its list as HTML; this reads the columns and builds
    each list entry with `textContent`. `limit`: at most this many names in the list.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
(function() {
  const map = {{ this._parent.get_name() }};
  const layer = {{ this.layer }};
  let records = null;  // "en / zh / alias..." -> point, with the place id as `p`
  function all() {
    if (!records) {
      const columns = layer.columns;
      records = {};
      columns.p.forEach((p, i) => {
        const text = [...{{ this.popups }}.names(p), ...columns.a[i]].filter(Boolean).join(" / ");
        records[text] = Object.assign(layer.latlng(i), {p});
      });
    }
    return records;
  }
  const control = new L.Control.Search({
    sourceData: (text, found) => found(all()),
    formatData: found => found,
    buildTip: text => {
      const tip = document.createElement("li");
      tip.textContent = text;
      return tip;
    },
    initial: false, collapsed: false, zoom: {{ this.zoom }}, tooltipLimit: {{ this.limit }},
    textPlaceholder: {{ this.placeholder | tojson }}, position: {{ this.position | tojson }},
    hideMarkerOnCollapse: true,
  });
  control.on("search:locationfound", e => {{ this.popups }}.open(map, e.latlng, "place", e.latlng.p));
  map.addControl(control);
})();
{% endmacro %}
""")

    default_js = Search.default_js
    default_css = Search.default_css

    def __init__(self, layer: str, popups: str, placeholder: str, zoom: int = 11, limit: int = 50,
                 position: str = "topright"):
        super().__init__()
        self._name = "PlaceSearch"
        self.layer = layer
        self.popups = popups
        self.placeholder = placeholder
        self.zoom = zoom
        self.limit = limit
        self.position = position
