"""QGIS styles (QML) for the layers, so a GeoPackage opens in QGIS drawn as the web map draws it.

QGIS reads a layer's default style from the GeoPackage's `layer_styles` table; each row holds
one QML document. These functions turn a layer spec's `style` into that document: one symbol,
categories (`style.by` with a colour per value), or graduated classes (`style.by` with `bins`),
and for a metric layer a symbol whose area grows with the figure, like the web map's circles;
and labels with the features' names in English, Chinese or both. The QGIS project
(`qgis.py`) embeds the same renderer and labels.
"""

from __future__ import annotations

from html import escape
from typing import Any, Mapping

from .layers import UNKNOWN, LayerSpec, legend_entries

QGIS_VERSION = "3.22.0"  # the long-term release of Debian stable, which the tests open these documents in
LABELS = ("both", "en", "zh")  # label languages; "both" puts the Chinese name under the English one
LABEL_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC",
               "WenQuanYi Zen Hei", "Noto Sans", "DejaVu Sans")  # the first one installed draws both scripts
# Where the timestamp QGIS orders a layer's styles by is needed, a fixed one keeps the bytes stable.
STYLE_TIME = "2000-01-01T00:00:00Z"
PX_TO_MM = 0.26  # web pixels to QGIS millimetres, at the 96 dpi CSS assumes
ATLAS_EMPHASIS = "#d7301f"  # the ring round the place an Atlas page is about


def rgba(colour: str | None, opacity: float = 1.0) -> str:
    """`#54278f` -> `84,39,143,255`, QML's colour notation."""
    colour = (colour or "#808080").lstrip("#")
    if len(colour) == 3:
        colour = "".join(c * 2 for c in colour)
    red, green, blue = (int(colour[i:i + 2], 16) for i in (0, 2, 4))
    return f"{red},{green},{blue},{round(255 * opacity)}"


def _options(values: Mapping[str, str]) -> str:
    rows = "".join(f'<Option name="{escape(k)}" type="QString" value="{escape(v)}"/>' for k, v in values.items())
    return f'<Option type="Map">{rows}</Option>'


def _data_defined(expressions: Mapping[str, str]) -> str:
    """A symbol layer's properties given by expressions (property name -> expression)."""
    properties = "".join(
        f'<Option name="{name}" type="Map"><Option name="active" type="bool" value="true"/>'
        f'<Option name="expression" type="QString" value="{escape(expression)}"/>'
        '<Option name="type" type="int" value="3"/></Option>' for name, expression in expressions.items())
    return ('<data_defined_properties><Option type="Map"><Option name="name" type="QString" value=""/>'
            f'<Option name="properties" type="Map">{properties}</Option>'
            '<Option name="type" type="QString" value="collection"/></Option></data_defined_properties>')


def _size_by(field: str, largest: float, max_size_mm: float) -> dict[str, str]:
    """Marker diameter proportional to the square root of the figure."""
    return {"size": f'coalesce({max_size_mm:g} * sqrt(max("{field}", 0) / {largest:g}), 0)'}


def _atlas_emphasis(size_mm: float, stroke: str, width_mm: str) -> dict[str, str]:
    """The place a print layout's Atlas page is about, larger and ringed in red; any other as
    the symbol draws it."""
    return {"size": f"if(@atlas_featureid = $id, {3 * size_mm:.2f}, {size_mm:.2f})",
            "outlineColor": f"if(@atlas_featureid = $id, '{rgba(ATLAS_EMPHASIS)}', '{stroke}')",
            "outlineWidth": f"if(@atlas_featureid = $id, 0.8, {width_mm})"}


def symbol(spec: LayerSpec, name: str, fill: str | None, size_by: tuple[str, float] | None = None,
           emphasis: bool = False) -> str:
    """One QML symbol: a circle marker for point layers, a fill for district polygons;
    `emphasis` marks the current feature of a print layout's Atlas."""
    style = spec.style
    stroke = rgba(style.get("color"))
    width_mm = f"{style.get('weight', 1) * PX_TO_MM:.2f}"
    fill_rgba = rgba(fill, style.get("fill_opacity", 1.0))
    if spec.geometry == "point":
        size_mm = 2 * style.get("radius", 6) * PX_TO_MM
        layer = _options({"color": fill_rgba, "name": "circle", "outline_color": stroke,
                          "outline_style": "solid", "outline_width": width_mm, "outline_width_unit": "MM",
                          "size": f"{size_mm:.2f}", "size_unit": "MM"})
        expressions = {**(_size_by(size_by[0], size_by[1], size_mm) if size_by else {}),
                       **(_atlas_emphasis(size_mm, stroke, width_mm) if emphasis else {})}
        defined = _data_defined(expressions) if expressions else ""
        return (f'<symbol type="marker" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
                f'<layer class="SimpleMarker" enabled="1" pass="0" locked="0">{layer}{defined}</layer></symbol>')
    dashed = "dash" if "dash_array" in style else "solid"
    layer = _options({"color": fill_rgba, "style": "solid", "outline_color": stroke, "outline_style": dashed,
                      "outline_width": width_mm, "outline_width_unit": "MM", "joinstyle": "round"})
    return (f'<symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleFill" enabled="1" pass="0" locked="0">{layer}</layer></symbol>')


def renderer(spec: LayerSpec, largest: float | None, emphasis: bool = False) -> str:
    """The layer's `renderer-v2` element; with `emphasis`, a single symbol marks the current
    feature of a print layout's Atlas."""
    style = spec.style
    by = style.get("by")
    if by is None:
        field = next(iter(spec.where.get("key", [])), None) if spec.draw == "metric" else None
        size_by = (field, largest) if field and largest else None
        fill = style.get("fill_color", style.get("color"))
        return (f'<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">'
                f'<symbols>{symbol(spec, "0", fill, size_by, emphasis)}</symbols></renderer-v2>')
    entries = legend_entries(spec)
    symbols = "".join(symbol(spec, str(i), colour) for i, (_, colour) in enumerate(entries))
    if "bins" in style:
        bounds = [*style["bins"], None]
        ranges = "".join(
            f'<range render="true" symbol="{i}" lower="{low - 0.5:g}" '
            f'upper="{(high - 0.5) if high is not None else 1e9:g}" label="{escape(label)}"/>'
            for i, ((label, _), low, high) in enumerate(zip(entries, bounds, bounds[1:])))
        return (f'<renderer-v2 type="graduatedSymbol" attr="{escape(by)}" graduatedMethod="GraduatedColor" '
                f'symbollevels="0" enableorderby="0" forceraster="0"><ranges>{ranges}</ranges>'
                f'<symbols>{symbols}</symbols></renderer-v2>')
    categories = "".join(
        f'<category render="true" symbol="{i}" value="{"" if label == UNKNOWN else escape(label)}" '
        f'label="{escape(label)}"/>' for i, (label, _) in enumerate(entries))
    return (f'<renderer-v2 type="categorizedSymbol" attr="{escape(by)}" symbollevels="0" enableorderby="0" '
            f'forceraster="0"><categories>{categories}</categories><symbols>{symbols}</symbols></renderer-v2>')


def label_expression(labels: str) -> str:
    """The QGIS expression of a feature's label: its English name, its Chinese name (English
    where it has none), or both on two lines."""
    if labels == "en":
        return '"name_en"'
    if labels == "zh":
        return 'coalesce("name_zh", "name_en")'
    return '"name_en" || coalesce(char(10) || "name_zh", \'\')'


def labeling(spec: LayerSpec, labels: str) -> str:
    """The layer's `labeling` element: names in dark grey with a white halo, beside a point or
    inside a polygon, hidden where they would overlap others."""
    point = spec.geometry == "point"
    families = "".join(f'<family name="{escape(f)}"/>' for f in LABEL_FONTS)
    placement = ('placement="6" dist="1" distUnits="MM" predefinedPositionOrder="TR,TL,BR,BL,R,L,TSR,BSR"'
                 if point else 'placement="1" centroidInside="1" centroidWhole="0" fitInPolygonOnly="0"')
    return ('<labeling type="simple"><settings calloutType="simple">'
            f'<text-style fieldName="{escape(label_expression(labels))}" isExpression="1" '
            f'fontFamily="{LABEL_FONTS[0]}" namedStyle="Regular" fontWeight="50" '
            f'fontSize="{7 if point else 8}" fontSizeUnit="Point" textColor="40,40,40,255" textOpacity="1" '
            f'multilineHeight="1" allowHtml="0" capitalization="0" blendMode="0"><families>{families}</families>'
            '<text-buffer bufferDraw="1" bufferSize="0.7" bufferSizeUnits="MM" bufferColor="255,255,255,255" '
            'bufferOpacity="0.85" bufferNoFill="1" bufferJoinStyle="128" bufferBlendMode="0"/>'
            '</text-style><text-format multilineAlign="3" wrapChar="" autoWrapLength="0" formatNumbers="0"/>'
            f'<placement {placement} priority="5" offsetType="0" quadOffset="4" rotationAngle="0" '
            'overlapHandling="PreventOverlap" layerType="UnknownGeometry"/>'
            '<rendering obstacle="1" obstacleType="1" obstacleFactor="1" displayAll="0" upsidedownLabels="0" '
            'labelPerPart="0" mergeLines="0" limitNumLabels="0" maxNumLabels="2000" scaleVisibility="0" '
            'fontLimitPixelSize="0" drawLabels="1" zIndex="0"/></settings></labeling>')


def layer_qml(spec: LayerSpec, largest: float | None = None, labels: str = "both") -> str:
    """The QML document for one layer; `largest` scales a metric layer's symbols, `labels` is
    the labels' language (`LABELS`)."""
    return (f"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
            f'<qgis version="{QGIS_VERSION}" styleCategories="Symbology|Labeling" labelsEnabled="1">'
            f'{renderer(spec, largest)}{labeling(spec, labels)}</qgis>')


def style_row(spec: LayerSpec, geometry_column: str, largest: float | None = None,
              labels: str = "both") -> dict[str, Any]:
    """A `layer_styles` row, with every column QGIS reads and writes (it orders a layer's
    styles by `update_time`, and fails to read any without it)."""
    return {"f_table_catalog": "", "f_table_schema": "", "f_table_name": spec.id,
            "f_geometry_column": geometry_column, "styleName": spec.id,
            "styleQML": layer_qml(spec, largest, labels), "styleSLD": "", "useAsDefault": True,
            "description": f"{spec.title['en']} · {spec.title['zh']}", "owner": "", "ui": "",
            "update_time": STYLE_TIME}
