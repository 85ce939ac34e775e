"""Offline folium pages: every Leaflet/plugin JS and CSS file inlined from atlas/vendor/.

Pages must open from disk with no network, and third-party code may only come from the
npm packages pinned in js/package-lock.json (hatch_build.py copies them to atlas/vendor/
at install time). folium instead emits <script src>/<link href> tags pointing at CDNs, and
it adds them to ``figure.header`` only *while* the figure renders (JSCSSMixin.render), anew
on every render. So :func:`inline_assets` swaps the figure's header for one that, when the
Figure template renders it (after all children rendered), replaces each link with the
vendored file's text, or raises :class:`AssetError` when there is no vendored copy, so a
page can never silently fall back to a CDN.

Usage::

    m = folium.Map(tiles=None, maxZoom=18)     # tiles are fetched; MarkerCluster needs maxZoom
    ...                                        # add layers, plugins, popups
    save_offline(m, "out/map.html")            # or html = render_offline(m); render only once
"""

from __future__ import annotations

import base64
import json
import mimetypes
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import folium
from branca.element import CssLink, Element, Figure, JavascriptLink, Link

from atlas.errors import RunError

VENDOR_DIR = Path(__file__).with_name("vendor")

_FOLIUM_LEAFLET_JS = dict(folium.Map.default_js)["leaflet"]
_FOLIUM_LEAFLET_CSS = dict(folium.Map.default_css)["leaflet_css"]
_JQUERY_URL = "https://code.jquery.com/jquery-3.7.1.min.js"
SUPERCLUSTER_URL = "https://cdn.jsdelivr.net/npm/supercluster@9.1.0/dist/supercluster.min.js"

# Exactly the URLs folium 0.20 / branca 0.8 emit -> logical names in vendor/manifest.json.
# A folium upgrade that changes a URL makes inlining fail loudly instead of going online.
CDN_ASSETS: Mapping[str, str] = {
    # folium.Map (folium/folium.py); jquery only for Popup / keep_in_front / GeoJson(embed=False)
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet.css",
    _JQUERY_URL: "jquery.js",
    # plugins.MarkerCluster, plugins.FastMarkerCluster
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js": "markercluster.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css": "markercluster.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css": "markercluster.default.css",
    # plugins.Fullscreen (npm ships no .min.js; jsDelivr minifies on the fly)
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js": "fullscreen.js",
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css": "fullscreen.css",
    # plugins.Search
    "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.js": "search.js",
    "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.css": "search.css",
    # plugins.GroupedLayerControl
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-groupedlayercontrol/0.6.1/leaflet.groupedlayercontrol.min.js": "groupedlayercontrol.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-groupedlayercontrol/0.6.1/leaflet.groupedlayercontrol.min.css": "groupedlayercontrol.css",
    # plugins.TagFilterButton
    "https://cdn.jsdelivr.net/npm/leaflet-tag-filter-button/src/leaflet-tag-filter-button.js": "tag-filter-button.js",
    "https://cdn.jsdelivr.net/npm/leaflet-tag-filter-button/src/leaflet-tag-filter-button.css": "tag-filter-button.css",
    "https://cdn.jsdelivr.net/npm/leaflet-easybutton@2/src/easy-button.js": "easy-button.js",
    "https://cdn.jsdelivr.net/npm/leaflet-easybutton@2/src/easy-button.css": "easy-button.css",
    "https://cdn.jsdelivr.net/npm/css-ripple-effect@1.0.5/dist/ripple.min.css": "ripple.css",
    # plugins.MiniMap
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-minimap/3.6.1/Control.MiniMap.js": "minimap.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-minimap/3.6.1/Control.MiniMap.css": "minimap.css",
    # atlas.plugins.PointLayer: supercluster clusters large point layers
    SUPERCLUSTER_URL: "supercluster.js",
    # branca.colormap legends (ColorMap.render)
    "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js": "d3.js",
}


class AssetError(RunError):
    """A page would fetch JS/CSS over the network: no vendored copy, or a remote reference."""


@lru_cache(maxsize=1)
def vendor_manifest() -> dict:
    """atlas/vendor/manifest.json as written by hatch_build.py (names, files, versions, licences)."""
    path = VENDOR_DIR / "manifest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AssetError(
            f"{path} is missing: re-run `pip install -e .` (needs npm) to vendor the Leaflet assets"
        ) from None


def asset_path(name: str) -> Path:
    """Vendored file for a logical asset name (e.g. 'leaflet.js')."""
    entry = vendor_manifest()["assets"].get(name)
    if entry is None:
        raise AssetError(f"asset {name!r} is not in {VENDOR_DIR / 'manifest.json'}")
    path = VENDOR_DIR / entry["file"]
    if not path.is_file():
        raise AssetError(f"{path} is missing: re-run `pip install -e .` to refresh atlas/vendor/")
    return path


def data_uri(path: Path) -> str:
    """A file as a base64 data: URI, so CSS images and icons need no fetch."""
    mime = mimetypes.guess_type(path.name)[0]
    if mime is None:
        raise AssetError(f"no MIME type known for {path}")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+?)\1\s*\)""")
_SOURCE_MAP = re.compile(r"^\s*//[#@] sourceMappingURL=.*$|/\*[#@] sourceMappingURL=.*?\*/", re.MULTILINE)


def _css_urls_to_data(css: str, base: Path) -> str:
    """Rewrite url(relative) in a vendored stylesheet to data: URIs; fail on remote urls."""

    def repl(match: re.Match) -> str:
        ref = match.group(2).strip()
        if ref.startswith(("data:", "#")):  # inline already / IE VML behaviour
            return match.group(0)
        target = (base / ref).resolve()
        if "://" in ref or ref.startswith("//") or not target.is_relative_to(VENDOR_DIR.resolve()):
            raise AssetError(f"{base}: stylesheet references {ref!r} outside atlas/vendor/")
        if not target.is_file():
            raise AssetError(f"{base}: stylesheet image {ref!r} was not vendored ({target} missing)")
        return f'url("{data_uri(target)}")'

    return _CSS_URL.sub(repl, css)


def _leaflet_icon_fix() -> str:
    """Point L.Icon.Default at data: URIs; Leaflet otherwise guesses a relative images/ path."""
    urls = {
        key: data_uri(asset_path(name))
        for key, name in (
            ("iconUrl", "leaflet-marker-icon.png"),
            ("iconRetinaUrl", "leaflet-marker-icon-2x.png"),
            ("shadowUrl", "leaflet-marker-shadow.png"),
        )
    }
    return f"\nL.Icon.Default.imagePath = '';\nL.Icon.Default.mergeOptions({json.dumps(urls)});\n"


def escape_for_tag(text: str, tag: str) -> str:
    """Make text safe inside <script>/<style>: '</script' (and '<!--' in JS) can't end the element.

    `<\\/` and `<\\!` mean the same as `</` and `<!` inside JS strings and regexes, which is
    where minified code carries such sequences.
    """
    pattern = r"<(/script|!--)" if tag == "script" else rf"<(/{tag})"
    return re.sub(pattern, r"<\\\1", text, flags=re.IGNORECASE)


@lru_cache(maxsize=None)
def asset_text(name: str) -> str:
    """Vendored file's text ready to inline: no source-map link, CSS images as data: URIs."""
    path = asset_path(name)
    text = _SOURCE_MAP.sub("", path.read_text(encoding="utf-8"))
    if path.suffix == ".css":
        text = _css_urls_to_data(text, path.parent)
    if name == "leaflet.js":
        text += _leaflet_icon_fix()
    return text


class InlineCode(Element):
    """A literal <script>/<style> element (not a Jinja template: vendored code contains '{{')."""

    def __init__(self, tag: str, text: str, label: str, url: str):
        super().__init__()
        self._name = "InlineCode"
        self.tag, self.label, self.url = tag, label, url
        self.code = escape_for_tag(text, tag)

    def render(self, **kwargs) -> str:
        comment = f"/* {self.label} */\n"
        return f"<{self.tag}>{comment}{self.code}</{self.tag}>"


def inline_link(link: Link) -> InlineCode:
    """The inline replacement for one folium/branca JavascriptLink or CssLink."""
    name = CDN_ASSETS.get(link.url)
    if name is None or not isinstance(link, (JavascriptLink, CssLink)):
        raise AssetError(
            f"no vendored copy of {link.url}: add its npm package to js/package.json, "
            "hatch_build.ASSETS and atlas.assets.CDN_ASSETS, or don't use the feature that needs it"
        )
    entry = vendor_manifest()["assets"][name]
    label = f"{name}: npm {entry['package']}@{entry['version']} ({entry['license']}), inlined by atlas"
    tag = "script" if isinstance(link, JavascriptLink) else "style"
    return InlineCode(tag, asset_text(name), label, link.url)


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in element._children.values():
        yield from _walk(child)


def needs_jquery(figure: Element) -> bool:
    """True if folium will emit `$(...)` for this tree: Popup content, keep_in_front, GeoJson(embed=False)."""
    return any(
        (isinstance(el, folium.Popup) and el.html._children)
        or (isinstance(el, folium.Map) and el.objects_to_stay_in_front)
        or (isinstance(el, folium.GeoJson) and not el.embed)
        for el in _walk(figure)
    )


class OfflineHeader(Element):
    """Figure header that inlines every JS/CSS link just before it is rendered.

    The Figure template renders the header only after all children rendered, i.e. after
    folium has (re-)added its links, so this sees every one of them on every render.
    """

    def __init__(self, old: Element, lean: bool):
        super().__init__()
        self._name, self._id, self._parent = old._name, old._id, old._parent
        for name, child in old._children.items():
            self.add_child(child, name=name)
        self.lean = lean

    def render(self, **kwargs) -> str:
        if self.lean and _JQUERY_URL not in {getattr(c, "url", None) for c in self._children.values()}:
            if needs_jquery(self.get_root()):
                after = list(self._children).index("leaflet") + 1 if "leaflet" in self._children else 0
                self.add_child(JavascriptLink(_JQUERY_URL), name="jquery", index=after)
        for name, child in list(self._children.items()):
            if isinstance(child, Link):  # InlineCode is not a Link: already done
                self._children[name] = inline_link(child)
        return super().render(**kwargs)


def inline_assets(target: Element, *, lean: bool = True) -> Figure:
    """Make `target`'s root Figure render vendored JS/CSS inline; returns that Figure.

    Call before save/render; idempotent. With lean=True each folium.Map in the tree loads
    only Leaflet (no jQuery/Bootstrap/Font Awesome/awesome-markers, so folium.Icon won't
    work); jQuery is added back only when needs_jquery() says folium's own JS calls `$`.
    """
    figure = target.get_root()
    if not isinstance(figure, Figure):
        raise AssetError(f"{type(target).__name__} is not inside a branca Figure; cannot inline its assets")
    if lean:
        for el in _walk(figure):
            if isinstance(el, folium.Map):
                el.default_js = [("leaflet", _FOLIUM_LEAFLET_JS)]
                el.default_css = [("leaflet_css", _FOLIUM_LEAFLET_CSS)]
    if isinstance(figure.header, OfflineHeader):
        figure.header.lean = lean
    else:
        figure.header = OfflineHeader(figure.header, lean)
    return figure


_STYLE_FETCH = re.compile(r"""@import\b[^;]*|url\(\s*(?!['"]?(?:data:|#))['"]?[^'")]*""", re.IGNORECASE)


# An inline script's start and end tags, as the HTML tokenizer finds them (`escape_for_tag`
# keeps a body from holding its own end tag).
_SCRIPT_START = re.compile(r"<script\b[^>]*>", re.IGNORECASE)
_SCRIPT_END = re.compile(r"</script\s*>", re.IGNORECASE)


def _without_script_bodies(html: str) -> str:
    """The page with its inline scripts emptied: bodies are code, never fetched, and megabytes
    long. Searching for each end tag skips a body far faster than one lazy `.*?` pattern."""
    parts, done = [], 0
    while (start := _SCRIPT_START.search(html, done)) and (end := _SCRIPT_END.search(html, start.end())):
        parts.append(html[done:start.end()])
        done = end.start()
    parts.append(html[done:])
    return "".join(parts)


class _ExternalRefs(HTMLParser):
    """Collects what a browser would fetch for scripts and styles (an HTML tokenizer, not a
    regex, because inlined code legitimately contains strings like '<script' and 'url(')."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href"}.get(tag)
        for key, value in attrs:
            if key == wanted and value and not value.startswith("data:"):
                self.found.append(f"<{tag} {key}={value}>")
            if key == "style" and value:
                self.found += _STYLE_FETCH.findall(value)
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.found += [m.group(0) for m in _STYLE_FETCH.finditer(data)]


def check_offline(html: str) -> None:
    """Raise AssetError if the page still loads a script/stylesheet/CSS image from anywhere.

    Checks <script src>, <link href>, and @import/url() in <style> and style attributes;
    map tiles are data for Leaflet, not page assets, and are not checked (use tiles=None).
    """
    parser = _ExternalRefs()
    parser.feed(_without_script_bodies(html))
    parser.close()
    if parser.found:
        shown = "; ".join(ref[:120] for ref in parser.found[:5])
        raise AssetError(f"page is not self-contained: {len(parser.found)} external reference(s): {shown}")


def render_offline(target: Element, *, lean: bool = True) -> str:
    """Render the whole page with assets inlined, and verify it is self-contained."""
    html = inline_assets(target, lean=lean).render()
    check_offline(html)
    return html


def save_offline(target: Element, path: str | Path, *, lean: bool = True) -> Path:
    """Write render_offline(target) to path (UTF-8) and return the path."""
    path = Path(path)
    path.write_text(render_offline(target, lean=lean), encoding="utf-8")
    return path
