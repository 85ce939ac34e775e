"""Small folium plugins the atlas needs and folium lacks: each a class plus a template.

Data reaches the page only as JSON (`tojson` escapes <, > and &) and is put into the DOM with
`textContent`, never `innerHTML`, so a place name cannot inject markup.
"""

from __future__ import annotations

from branca.element import MacroElement
from jinja2 import Template


class Legend(MacroElement):
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


class DesignationFilter(MacroElement):
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
  function keep(props) {
    return Object.entries(selected).every(([key, want]) =>
      want === "" || String(props[key] === null || props[key] === undefined ? "unknown" : props[key]) === want);
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


class PlaceFromHash(MacroElement):
    """Centres the map on a place named in the URL, e.g. `atlas.html#place=jinyun-mountain`,
    and opens its popup; follows later changes of the hash too.

    The popup opens from the layer that holds the places, at the place's point, so it shows
    even while the marker sits in a cluster (many places share their district's point).
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
    const layer = index.getLayers().find(l => l.feature.properties.place_id === id);
    if (!layer) return;
    map.setView(layer.getLatLng(), Math.max(map.getZoom(), {{ this.zoom }}), {animate: false});
    // A clustered marker is off the map, so Leaflet cannot open its own popup: open a copy.
    const bound = index.getPopup();
    const content = bound.getContent();
    L.popup(bound.options).setLatLng(layer.getLatLng())
      .setContent(typeof content === "function" ? content(layer) : content).openOn(map);
  }
  window.addEventListener("hashchange", show);
  window.addEventListener("load", show);  // after the page's own fit to Chongqing
})();
{% endmacro %}
""")

    def __init__(self, layer: str, zoom: int = 11):
        super().__init__()
        self._name = "PlaceFromHash"
        self.layer = layer
        self.zoom = zoom
