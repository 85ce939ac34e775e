"""QGIS styles (QML) for the layers, so a GeoPackage opens in QGIS drawn as the web map draws it.

QGIS reads a layer's default style from the GeoPackage's `layer_styles` table; each row holds
one QML document. These functions turn a layer spec's `style` into that document: one symbol,
categories (`style.by` with a colour per value), or graduated classes (`style.by` with `bins`),
and for a metric layer a symbol whose area grows with the figure, like the web map's circles.
"""

from __future__ import annotations

from html import escape
from typing import Any, Mapping

from .layers import UNKNOWN, LayerSpec, legend_entries

QGIS_VERSION = "3.28.0"  # the oldest long-term release whose QML these documents follow
PX_TO_MM = 0.26  # web pixels to QGIS millimetres, at the 96 dpi CSS assumes


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


def _size_by(field: str, largest: float, max_size_mm: float) -> str:
    """Data-defined marker size: diameter proportional to the square root of the figure."""
    expression = f'coalesce({max_size_mm:g} * sqrt(max("{field}", 0) / {largest:g}), 0)'
    return ('<data_defined_properties><Option type="Map"><Option name="name" type="QString" value=""/>'
            '<Option name="properties" type="Map"><Option name="size" type="Map">'
            '<Option name="active" type="bool" value="true"/>'
            f'<Option name="expression" type="QString" value="{escape(expression)}"/>'
            '<Option name="type" type="int" value="3"/></Option></Option>'
            '<Option name="type" type="QString" value="collection"/></Option></data_defined_properties>')


def symbol(spec: LayerSpec, name: str, fill: str | None, size_by: tuple[str, float] | None = None) -> str:
    """One QML symbol: a circle marker for point layers, a fill for district polygons."""
    style = spec.style
    stroke = rgba(style.get("color"))
    width_mm = f"{style.get('weight', 1) * PX_TO_MM:.2f}"
    fill_rgba = rgba(fill, style.get("fill_opacity", 1.0))
    if spec.geometry == "point":
        size_mm = 2 * style.get("radius", 6) * PX_TO_MM
        layer = _options({"color": fill_rgba, "name": "circle", "outline_color": stroke,
                          "outline_style": "solid", "outline_width": width_mm, "outline_width_unit": "MM",
                          "size": f"{size_mm:.2f}", "size_unit": "MM"})
        defined = _size_by(size_by[0], size_by[1], size_mm) if size_by else ""
        return (f'<symbol type="marker" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
                f'<layer class="SimpleMarker" enabled="1" pass="0" locked="0">{layer}{defined}</layer></symbol>')
    dashed = "dash" if "dash_array" in style else "solid"
    layer = _options({"color": fill_rgba, "style": "solid", "outline_color": stroke, "outline_style": dashed,
                      "outline_width": width_mm, "outline_width_unit": "MM", "joinstyle": "round"})
    return (f'<symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleFill" enabled="1" pass="0" locked="0">{layer}</layer></symbol>')


def _renderer(spec: LayerSpec, largest: float | None) -> str:
    style = spec.style
    by = style.get("by")
    if by is None:
        field = next(iter(spec.where.get("key", [])), None) if spec.draw == "metric" else None
        size_by = (field, largest) if field and largest else None
        fill = style.get("fill_color", style.get("color"))
        return (f'<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">'
                f'<symbols>{symbol(spec, "0", fill, size_by)}</symbols></renderer-v2>')
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


def layer_qml(spec: LayerSpec, largest: float | None = None) -> str:
    """The QML document for one layer; `largest` scales a metric layer's symbols."""
    return (f"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
            f'<qgis version="{QGIS_VERSION}" styleCategories="Symbology">{_renderer(spec, largest)}</qgis>')


def style_row(spec: LayerSpec, geometry_column: str, largest: float | None = None) -> dict[str, Any]:
    """A `layer_styles` row, with the columns QGIS reads and writes."""
    return {"f_table_catalog": "", "f_table_schema": "", "f_table_name": spec.id,
            "f_geometry_column": geometry_column, "styleName": spec.id, "styleQML": layer_qml(spec, largest),
            "styleSLD": "", "useAsDefault": True, "description": f"{spec.title['en']} · {spec.title['zh']}",
            "owner": "", "ui": ""}
