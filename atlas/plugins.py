"""The folium elements of the atlas map: each a thin class that hands JSON to the page's own
code, which lives in `atlas/js/*.js` (linted and unit-tested as JavaScript) and goes into the
page once, inline.

Every value reaches a script through `script_json`, the one choke point: it escapes `<`, `>`,
`&`, U+2028 and U+2029, so no string from the data can end the script or break the code. The
bulk of the data (a layer's columns, the popup table) goes into `<script type="application/json">`
blocks that the page parses with `JSON.parse` when it needs them: data, never run as code, and
parsed several times faster than the same object written as a JavaScript literal. What
these elements render is put into the page as it is, never parsed again as a template
(`LiteralMacroElement`), and the page puts texts into the DOM with `textContent` only.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import Search
from jinja2 import Template

from .assets import SUPERCLUSTER_URL, escape_for_tag

JS_DIR = Path(__file__).with_name("js")
JS_FILES = ("core.js", "points.js", "atlas.js")  # in the order the page needs them
_JS_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_SCRIPT_UNSAFE = re.compile("[<>&\u2028\u2029]")


def script_json(data) -> str:
    """JSON to paste into a <script>: compact, sorted, with <, >, &, U+2028 and U+2029 escaped, so
    no string from the data can close the script element or end a line of code. orjson: a large
    map's data is tens of megabytes, which the json module encodes five times slower."""
    import orjson

    text = orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()
    return _SCRIPT_UNSAFE.sub(lambda match: _SCRIPT_ESCAPES[match.group(0)], text)


def js_name(name: str) -> str:
    """A folium element's JS variable name, checked to be one before it is written into code."""
    if not _JS_NAME.match(name):
        raise ValueError(f"not a JavaScript name: {name!r}")
    return name


def js_names(names: dict[str, str]) -> str:
    """An object literal of JS variables by their own names: {"a": a, ...}."""
    return "{" + ", ".join(f'"{js_name(n)}": {js_name(n)}' for n in sorted(set(names.values()))) + "}"


@cache
def browser_code(name: str) -> str:
    """One of the page's own files (atlas/js/), as shipped in the package."""
    return (JS_DIR / name).read_text(encoding="utf-8")


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


class BrowserCode(LiteralMacroElement):
    """The page's own code and styles (atlas/js/), inline in the header, once."""

    _template = Template("{% macro header(this, kwargs) %}{{ this.code }}{% endmacro %}")

    def __init__(self):
        super().__init__()
        self._name = "BrowserCode"
        style = escape_for_tag(browser_code("atlas.css"), "style")
        scripts = "".join(f"<script>/* atlas/js/{name} */\n{escape_for_tag(browser_code(name), 'script')}</script>\n"
                          for name in JS_FILES)
        self.code = f"<style>{style}</style>\n{scripts}"


class DistrictShapes(LiteralMacroElement):
    """The web map's district polygons, once per page, however many layers draw them.

    `shapes`: code -> polygons -> rings -> a flat list of integers: the first vertex in units
    of 10^-decimals degrees, then the differences from each vertex to the next (a third of the
    bytes of GeoJSON coordinates). `labels`: code -> [lat, lon, west, south, east, north], where
    a district's name goes and the box it must fit.
    """

    _template = Template("""{% macro script(this, kwargs) %}
var {{ this.get_name() }} = AtlasMap.districtShapes({{ this.shapes }}, {{ this.scale }}, {{ this.labels }});
{% endmacro %}""")

    def __init__(self, shapes: dict[str, list[list[list[int]]]], decimals: int, labels: dict[str, list[float]]):
        super().__init__()
        self._name = "DistrictShapes"
        self.shapes = script_json(shapes)
        self.scale = 10 ** decimals
        self.labels = script_json(labels)


class DistrictLayer(LiteralMacroElement):
    """A Leaflet GeoJSON layer of district polygons whose geometry comes from `DistrictShapes`.

    `features`: GeoJSON features without geometry, each naming its district in `properties.d`
    and its fill in `properties.c`; `style`: the layer's Leaflet path options.
    """

    _template = Template("""{% macro script(this, kwargs) %}
var {{ this.get_name() }} = AtlasMap.districtLayer({{ this.features }}, {{ this.shapes }}, {{ this.style }})
  .addTo({{ this._parent.get_name() }});
{% endmacro %}""")

    def __init__(self, features: list[dict], shapes: str, style: dict):
        super().__init__()
        self._name = "DistrictLayer"
        self.features = script_json(features)
        self.shapes = js_name(shapes)
        self.style = script_json(style)


class PointLayer(JSCSSMixin, LiteralMacroElement):
    """A point layer kept in the page as columns (`L.AtlasPoints`, atlas/js/points.js).

    `columns`: one list per property, as `render.web_columns` gives them (with `lon` / `lat`
    in units of 10^-decimals degrees); the colours `c` go in as a palette and indexes into it.
    `style`: Leaflet path options; `cluster`: supercluster clusters the layer where it crowds;
    `deferred`: drawn first when `AtlasUI` has settled which layer draws a shared point (not twice).
    The columns wait in a JSON block until the layer first needs them: a layer hidden at first
    costs the page nothing when it opens.
    """

    _template = Template("""{% macro html(this, kwargs) %}
<script type="application/json" id="{{ this.get_name() }}-columns">{{ this.columns }}</script>
{% endmacro %}{% macro script(this, kwargs) %}
var {{ this.get_name() }} = new L.AtlasPoints(() => AtlasMap.json("{{ this.get_name() }}-columns"),
  {{ this.options }}).addTo({{ this._parent.get_name() }});
{% endmacro %}""")

    CLUSTER_RADIUS = 80  # pixels, as markercluster's default

    def __init__(self, columns: dict[str, list], decimals: int, style: dict, cluster: bool, deferred: bool = False):
        super().__init__()
        self._name = "PointLayer"
        columns = dict(columns)
        colours = columns.pop("c", [])
        palette = list(dict.fromkeys(colours))
        options = {"style": dict(style), "cluster": {"radius": self.CLUSTER_RADIUS} if cluster else None,
                   "scale": 10 ** decimals, "deferred": deferred}
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


class AtlasUI(JSCSSMixin, LiteralMacroElement):
    """Popups, tooltips and every control of the map, following one language and one filter
    (`AtlasMap.setup` in atlas/js/atlas.js). `config`: plain data (see `render.build_map`) that
    names layers by their JS names; `layers`: those names; `data`: `render.popup_table`."""

    _template = Template("""{% macro html(this, kwargs) %}
<script type="application/json" id="{{ this.get_name() }}-data">{{ this.data }}</script>
{% endmacro %}{% macro script(this, kwargs) %}
var {{ this.get_name() }} = AtlasMap.setup({{ this._parent.get_name() }}, {{ this.config }}, {{ this.layers }},
  AtlasMap.json("{{ this.get_name() }}-data"));
{% endmacro %}""")

    def __init__(self, config: dict, layers: dict[str, str], data: dict):
        super().__init__()
        self._name = "AtlasUI"
        self.config = script_json(config)
        self.layers = js_names(layers)
        self.data = script_json(data)
        if config.get("search"):
            self.default_js = list(Search.default_js)
            self.default_css = list(Search.default_css)


