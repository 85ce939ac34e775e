"""Rendered maps are self-contained: vendored Leaflet + plugins inlined, nothing fetched."""

from __future__ import annotations

import re

import folium
import pytest
from branca.colormap import LinearColormap
from branca.element import CssLink, JavascriptLink
from folium import plugins

from atlas import assets
from atlas.assets import AssetError, check_offline, escape_for_tag, inline_assets, render_offline, save_offline
from atlas.errors import RunError
from tests.browser import requested_urls, severe_console_entries

ZONES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "Yubei"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[106.4, 29.5], [106.7, 29.5], [106.7, 29.8], [106.4, 29.8], [106.4, 29.5]]],
            },
        }
    ],
}

REMOTE = re.compile(r"""<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


def make_map(popups: bool = True) -> folium.Map:
    """Map with the plugins atlas uses."""
    # tiles=None: tiles would be fetched; then Leaflet.markercluster needs an explicit maxZoom
    m = folium.Map(location=[29.9, 107.2], zoom_start=7, tiles=None, maxZoom=18)
    zones = folium.GeoJson(ZONES, name="zones").add_to(m)
    cluster = plugins.MarkerCluster(name="sites").add_to(m)
    for lat, lon in [(29.56, 106.55), (29.57, 106.56), (30.8, 108.4)]:
        folium.Marker([lat, lon], popup="site" if popups else None).add_to(cluster)
    folium.CircleMarker([29.7, 107.0], radius=6).add_to(m)
    plugins.Fullscreen().add_to(m)
    plugins.Search(layer=zones, search_label="name").add_to(m)
    return m


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    path = tmp_path_factory.mktemp("page") / "map.html"
    save_offline(make_map(), path)
    return path


def test_saved_page_is_self_contained(page):
    html = page.read_text(encoding="utf-8")
    assert not REMOTE.search(html)
    assert "<script src=" not in html and "<link rel=" not in html
    assert "L.version" in html or "version=" in html  # Leaflet's own code
    assert "leaflet.js: npm leaflet@1.9.3" in html and "leaflet.markercluster@1.1.0" in html
    assert "url(images/" not in html and 'url("data:image/png;base64,' in html
    assert "sourceMappingURL" not in html
    assert "bootstrap" not in html.lower() and "awesome-markers" not in html
    check_offline(html)


def test_jquery_only_when_folium_needs_it():
    assert "jquery.js: npm jquery@3.7.1" in render_offline(make_map(popups=True))
    assert "jquery" not in render_offline(make_map(popups=False)).lower()


def test_unvendored_link_raises():
    m = make_map()
    m.get_root().header.add_child(JavascriptLink("https://example.invalid/x.js"), name="x")
    with pytest.raises(RunError, match="no vendored copy of https://example.invalid/x.js"):
        render_offline(m)


def test_folium_defaults_are_not_vendored():
    """lean=False keeps Bootstrap & co., which we deliberately do not vendor."""
    with pytest.raises(AssetError, match="bootstrap"):
        render_offline(folium.Map(tiles=None), lean=False)


def test_check_offline_catches_leftovers():
    with pytest.raises(AssetError):
        check_offline('<html><head><link rel="stylesheet" href="https://x/y.css"/></head></html>')
    with pytest.raises(AssetError):
        check_offline("<style>a { background: url(images/x.png) }</style>")
    check_offline("<script>var s = '<script src=\"https://x\">'; u = 'url(https://x)';</script>")
    body = "<SCRIPT type='x'>a = '<link href=https://x>';</Script >"
    check_offline(body * 3)
    for page in (body + '<script src="https://x/a.js"></script>' + body,  # between script bodies
                 body + "<p style='background: url(https://x/b.png)'>" + body,
                 '<script>a = 1;</script><img><script src="//x/c.js">'):  # after an unterminated one
        with pytest.raises(AssetError):
            check_offline(page)


def test_supercluster_url_names_the_vendored_version():
    """PointLayer's own asset: its URL (never fetched, but the name it is inlined by) must
    move with js/package.json."""
    entry = assets.vendor_manifest()["assets"]["supercluster.js"]
    assert f"supercluster@{entry['version']}/" in assets.SUPERCLUSTER_URL
    assert assets.CDN_ASSETS[assets.SUPERCLUSTER_URL] == "supercluster.js"
    assert "Supercluster" in assets.asset_text("supercluster.js")


def test_every_url_of_covered_classes_is_mapped():
    """A folium upgrade that moves a CDN URL must fail here, not online in a user's browser."""
    covered = [
        plugins.MarkerCluster, plugins.FastMarkerCluster, plugins.Fullscreen, plugins.Search,
        plugins.TagFilterButton, plugins.GroupedLayerControl, plugins.MiniMap,
    ]
    urls = {url for cls in covered for _, url in cls.default_js + cls.default_css}
    urls |= {url for name, url in folium.Map.default_js + folium.Map.default_css if name in {"leaflet", "leaflet_css", "jquery"}}
    assert urls <= set(assets.CDN_ASSETS)
    for name in set(assets.CDN_ASSETS.values()):
        assert assets.asset_path(name).stat().st_size > 0


def test_all_mapped_assets_inline(tmp_path):
    """Every vendored JS/CSS asset survives inlining (CSS images resolvable, tags escaped)."""
    for url, name in assets.CDN_ASSETS.items():
        link = (CssLink if name.endswith(".css") else JavascriptLink)(url)
        html = assets.inline_link(link).render()
        check_offline(html)


def test_colormap_legend_and_rerender_stay_offline(tmp_path):
    m = make_map(popups=False)
    LinearColormap(["green", "red"], vmin=0, vmax=1, caption="score").add_to(m)
    fig = inline_assets(m)
    first, second = fig.render(), fig.render()  # folium re-adds links on every render
    for html in (first, second):
        check_offline(html)
        assert "d3.js: npm d3@3.5.5" in html


def test_escape_for_tag():
    assert escape_for_tag("a='</SCRIPT>'; b='<!--'", "script") == r"a='<\/SCRIPT>'; b='<\!--'"
    assert escape_for_tag("content:'</style>'", "style") == r"content:'<\/style>'"


def test_page_runs_offline_in_chromium(page, browser):
    browser.get(page.as_uri())
    assert browser.execute_script("return typeof L !== 'undefined' && L.version") == "1.9.3"
    state = browser.execute_script(
        """
        const map = document.querySelector('.folium-map');
        const icons = [...map.querySelectorAll('img.leaflet-marker-icon')];
        return {
            panes: map.querySelectorAll('.leaflet-map-pane .leaflet-overlay-pane').length,
            paths: map.querySelectorAll('.leaflet-overlay-pane path').length,
            clusters: map.querySelectorAll('.marker-cluster').length,
            icons: icons.length,
            iconsInline: icons.every(img => img.src.startsWith('data:')),
            fullscreen: !!map.querySelector('.leaflet-control-zoom-fullscreen'),
            search: !!map.querySelector('.leaflet-control-search'),
        };
        """
    )
    assert state["panes"] == 1 and state["paths"] >= 2  # GeoJson polygon + CircleMarker
    assert state["clusters"] >= 1 and state["icons"] >= 1 and state["iconsInline"]
    assert state["fullscreen"] and state["search"]
    assert severe_console_entries(browser) == []
    assert [url for url in requested_urls(browser) if url.startswith(("http:", "https:"))] == []
