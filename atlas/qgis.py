"""The QGIS project (`atlas.qgz` beside `atlas.gpkg`), written as XML without QGIS itself.

Every layer of the GeoPackage, grouped and drawn in the order `layers/*.yaml` give, with the
style and labels its spec asks for (the same XML as its default style in `layer_styles`); the
tables, related to the places and to each other; the atlas's title, abstract, licence and
attribution; a print layout (map, legend, scale bar, north arrow, title) and an Atlas layout
that pages through the places. Paths are relative, so the two files travel together.

The .qgz is a zip of one `.qgs` document with fixed timestamps: two renders give the same bytes.
"""

from __future__ import annotations

import zipfile
from html import escape
from pathlib import Path
from typing import Iterable

from .export import FIXED_DATE, TABLE_ABOUT, TABLE_TITLES_ZH, TABLES
from .layers import Layer
from .metadata import Metadata, atlas_metadata, layer_abstract
from .model import Atlas
from .qml import LABEL_FONTS, QGIS_VERSION, labeling, renderer

GEOPACKAGE = "atlas.gpkg"
A4 = (297, 210)  # landscape, mm
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
PLACE_EXTENT = (106.0, 29.2, 107.2, 30.0)  # the Atlas layout's map scale: a place with its district and neighbours
WGS84 = ("<spatialrefsys><wkt></wkt><proj4>+proj=longlat +datum=WGS84 +no_defs</proj4><srsid>3452</srsid>"
         "<srid>4326</srid><authid>EPSG:4326</authid><description>WGS 84</description>"
         "<projectionacronym>longlat</projectionacronym><ellipsoidacronym>EPSG:7030</ellipsoidacronym>"
         "<geographicflag>true</geographicflag></spatialrefsys>")
# (id, referencing table, its field, referenced layer or table, its field): how the tables join
RELATIONS = (("place-designations", "designations", "place_id", "places", "place_id"),
             ("place-metrics", "metrics", "place_id", "places", "place_id"),
             ("designation-source", "designations", "source_id", "sources", "source_id"),
             ("metric-source", "metrics", "source_id", "sources", "source_id"),
             ("designation-programme", "designations", "programme", "programmes", "programme"))
TABLE_KEYS = {"designations": "designation_id", "metrics": "metric_id", "sources": "source_id",
              "programmes": "programme"}


def layer_id(spec_id: str) -> str:
    """A layer's id in the project. (QGIS 3.22 replaces an id of one plain word, such as
    "places", by a random one when it reads the project.)"""
    return f"layer-{spec_id}"


def _a(value) -> str:
    return escape(str(value), quote=True)


def bilingual(text: dict[str, str], labels: str) -> str:
    """A name in the language(s) the labels use."""
    return text[labels] if labels in text else f"{text['en']} · {text['zh']}"


def _extent(layers: list[Layer]) -> tuple[float, float, float, float]:
    bounds = [layer.frame.total_bounds for layer in layers if len(layer.frame)]
    if not bounds:
        return 105.2, 28.1, 110.3, 32.3  # Chongqing
    return (min(b[0] for b in bounds), min(b[1] for b in bounds), max(b[2] for b in bounds),
            max(b[3] for b in bounds))


def _extent_xml(tag: str, extent, attributes: bool = False) -> str:
    xmin, ymin, xmax, ymax = (f"{v:.6f}" for v in extent)
    if attributes:
        return f'<{tag} xmin="{xmin}" ymin="{ymin}" xmax="{xmax}" ymax="{ymax}"/>'
    return f"<{tag}><xmin>{xmin}</xmin><ymin>{ymin}</ymin><xmax>{xmax}</xmax><ymax>{ymax}</ymax></{tag}>"


def _resource_metadata(title: str, abstract: str, metadata: Metadata) -> str:
    return (f"<resourceMetadata><identifier></identifier><parentidentifier></parentidentifier><language></language>"
            f"<type>dataset</type><title>{_a(title)}</title><abstract>{_a(abstract)}</abstract><links/><fees/>"
            f"<rights>{_a(metadata.rights())}</rights><license>{_a(metadata.licence)}</license>"
            f"<encoding>UTF-8</encoding><crs>{WGS84}</crs></resourceMetadata>")


def _maplayer(layer_id: str, table: str, name: str, abstract: str, metadata: Metadata, style: str,
              geometry: str | None, display: str, extent=None) -> str:
    """One `maplayer`: `geometry` Point / Polygon, or None for a table."""
    kind = (f'geometry="{geometry}" wkbType="{"Point" if geometry == "Point" else "MultiPolygon"}"'
            if geometry else 'geometry="No geometry" wkbType="NoGeometry"')
    labelled = "1" if "<labeling" in style else "0"
    return (f'<maplayer type="vector" {kind} labelsEnabled="{labelled}" readOnly="0" '
            f'hasScaleBasedVisibilityFlag="0" minScale="100000000" maxScale="0" styleCategories="AllStyleCategories">'
            + (_extent_xml("extent", extent) + _extent_xml("wgs84extent", extent) if extent else "")
            + f"<id>{_a(layer_id)}</id><datasource>./{GEOPACKAGE}|layername={_a(table)}</datasource>"
            f"<layername>{_a(name)}</layername><srs>{WGS84}</srs>"
            + _resource_metadata(name, abstract, metadata)
            + f'<provider encoding="UTF-8">ogr</provider>{style}<layerOpacity>1</layerOpacity>'
            f"<previewExpression>{_a(display)}</previewExpression></maplayer>")


def _tree_layer(layer_id: str, name: str, table: str, visible: bool) -> str:
    return (f'<layer-tree-layer id="{_a(layer_id)}" name="{_a(name)}" providerKey="ogr" '
            f'source="./{GEOPACKAGE}|layername={_a(table)}" checked="Qt::{"Checked" if visible else "Unchecked"}" '
            f'expanded="{1 if visible else 0}"/>')


def _groups(layers: list[Layer], labels: str, all_visible: bool = False) -> str:
    """The layers' groups in the order the layer files first name them; within a group a later
    file's layer above an earlier one's (QGIS lists the top layer first)."""
    groups: dict[str, list[Layer]] = {}
    for layer in layers:
        groups.setdefault(layer.spec.group["en"], []).append(layer)
    return "".join(
        f'<layer-tree-group name="{_a(bilingual(members[0].spec.group, labels))}" checked="Qt::Checked" expanded="1">'
        + "".join(_tree_layer(layer_id(m.spec.id), bilingual(m.spec.title, labels), m.spec.id,
                              all_visible or m.spec.visible) for m in reversed(members))
        + "</layer-tree-group>" for members in groups.values())


def _layer_tree(layers: list[Layer], tables: list[str], labels: str) -> str:
    """The layers' groups, then the tables'; the drawing order that of the layer files."""
    body = _groups(layers, labels)
    table_group = bilingual({"en": "Tables", "zh": "数据表"}, labels)
    body += (f'<layer-tree-group name="{_a(table_group)}" checked="Qt::Checked" expanded="0">'
             + "".join(_tree_layer(f"table-{t}", _table_name(t, labels), t, True) for t in tables)
             + "</layer-tree-group>")
    order = "".join(f"<item>{_a(layer_id(layer.spec.id))}</item>" for layer in reversed(layers))
    return f'<layer-tree-group>{body}<custom-order enabled="1">{order}</custom-order></layer-tree-group>'


def _table_name(table: str, labels: str) -> str:
    return bilingual({"en": table.capitalize(), "zh": TABLE_TITLES_ZH[table]}, labels)


def _places_layer(layers: list[Layer]) -> Layer | None:
    """The layer of every place (the tables' relations and the Atlas layout use it), if drawn."""
    return next((layer for layer in layers if layer.spec.draw == "places" and not layer.spec.where), None)


def _relations(layers: list[Layer], tables: list[str]) -> str:
    places = _places_layer(layers)
    ids = {"places": places and layer_id(places.spec.id), **{t: f"table-{t}" for t in tables}}
    return "".join(
        f'<relation id="{rid}" name="{rid.replace("-", " ")}" strength="Association" '
        f'referencingLayer="{_a(ids[child])}" referencedLayer="{_a(ids[parent])}">'
        f'<fieldRef referencingField="{child_field}" referencedField="{parent_field}"/></relation>'
        for rid, child, child_field, parent, parent_field in RELATIONS if ids.get(child) and ids.get(parent))


def _project_metadata(metadata: Metadata) -> str:
    abstract = (f"{metadata.abstract['en']}\n\n{metadata.abstract['zh']}\n\nLicence: {metadata.licence}.\n\n"
                + "\n".join(metadata.attribution))
    links = "".join(f'<link name="{_a(name)}" type="WWW:LINK" url="{_a(url)}" description="" format="" '
                    f'mimeType="" size=""/>' for name, url in metadata.links)
    history = "".join(f"<history>{_a(line)}</history>" for line in metadata.attribution)
    return (f"<projectMetadata><identifier>chongqing-green-atlas</identifier><parentidentifier></parentidentifier>"
            f"<language>en; zh</language><type>dataset</type><title>{_a(bilingual(metadata.title, 'both'))}</title>"
            f"<abstract>{_a(abstract)}</abstract>"
            '<keywords vocabulary="gmd:topicCategory"><keyword>environment</keyword>'
            "<keyword>planningCadastre</keyword></keywords>"
            f"<links>{links}</links>{history}<author>atlas</author><creation>{FIXED_DATE[:-1]}</creation>"
            "</projectMetadata>")


# --- layouts --------------------------------------------------------------------------------

def _item(kind: int, uuid: str, x: float, y: float, width: float, height: float, z: int, extra: str = "",
          children: str = "", background: bool = False) -> str:
    """A layout item's element: `kind` is QGIS's item type number, position and size in mm."""
    return (f'<LayoutItem type="{kind}" uuid="{{{uuid}}}" templateUuid="{{{uuid}}}" id="" '
            f'position="{x:g},{y:g},mm" positionOnPage="{x:g},{y:g},mm" size="{width:g},{height:g},mm" '
            f'zValue="{z}" visibility="1" positionLock="false" referencePoint="0" itemRotation="0" '
            f'frame="false" background="{"true" if background else "false"}" blendMode="0" opacity="1" '
            f'excludeFromExports="0" outlineWidthM="0.3,mm" frameJoinStyle="miter" groupUuid="" {extra}>'
            '<FrameColor alpha="255" red="0" green="0" blue="0"/>'
            '<BackgroundColor alpha="255" red="255" green="255" blue="255"/>'
            f"{children}</LayoutItem>")


def _uuid(layout: int, item: int) -> str:
    """A fixed, well-formed UUID per layout item, so the bytes stay the same."""
    return f"00000000-0000-4000-8000-{layout:06d}{item:06d}"


def _label(layout: int, item: int, text: str, x, y, width, height, size: int, bold: bool = False) -> str:
    font = f"{LABEL_FONTS[0]},{size},-1,5,{75 if bold else 50},0,0,0,0,0"
    return _item(65641, _uuid(layout, item), x, y, width, height, 4,
                 f'labelText="{_a(text)}" htmlState="0" halign="1" valign="128" marginX="0" marginY="0"',
                 f'<LabelFont style="" description="{_a(font)}"/><FontColor alpha="255" red="30" green="30" blue="30"/>')


def _map_furniture(layout: int, map_uuid: str, north_x: float, scale_y: float) -> str:
    """North arrow and scale bar for the map `map_uuid`."""
    north = _item(65640, _uuid(layout, 4), north_x, 26, 10, 14, 5,
                  f'file=":/images/north_arrows/layout_default_north_arrow.svg" mapUuid="{{{map_uuid}}}" '
                  'northMode="0" northOffset="0" pictureRotation="0" resizeMode="0" mode="0" anchorPoint="0" '
                  'svgFillColor="0,0,0,255" svgBorderColor="0,0,0,255" svgBorderWidth="0.2"')
    scale = _item(65646, _uuid(layout, 5), 14, scale_y, 60, 12, 3,
                  f'mapUuid="{{{map_uuid}}}" style="Single Box" unitType="km" unitLabel="km" '
                  'numMapUnitsPerScaleBarUnit="1" numSegments="2" numSegmentsLeft="0" numSubdivisions="1" '
                  'segmentSizeMode="1" minBarWidth="30" maxBarWidth="60" numUnitsPerSegment="25" height="2" '
                  'labelBarSpace="2" boxContentSpace="1" alignment="0"', background=True)
    return north + scale


def _page(layout: int) -> str:
    return f"<PageCollection>{_item(65638, _uuid(layout, 0), 0, 0, *A4, 0, background=True)}</PageCollection>"


def _map_item(layout: int, extent, atlas_driven: bool, width: float = 200, height: float = 176) -> str:
    return _item(65639, _uuid(layout, 1), 10, 22, width, height, 1,
                 'keepLayerSet="false" drawCanvasItems="true" mapRotation="0" followPreset="false" '
                 'followPresetName="" isTemporal="0" mapFlags="0" labelMargin="0,mm"',
                 _extent_xml("Extent", _fit(extent, width / height), attributes=True) + "<LayerSet/>"
                 f'<AtlasMap atlasDriven="{1 if atlas_driven else 0}" scalingMode="0" margin="0"/>',
                 background=True)


def _fit(extent, aspect: float):
    """`extent` widened to a map frame's width / height, padded 3 %."""
    xmin, ymin, xmax, ymax = extent
    width, height = (xmax - xmin) * 1.06, (ymax - ymin) * 1.06
    width, height = max(width, height * aspect), max(height, width / aspect)
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    return cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2


def _legend(layout: int, layers: list[Layer], labels: str) -> str:
    """The legend lists the map's layers by group, not the tables."""
    tree = _groups(layers, labels, all_visible=True)
    title = bilingual({"en": "Legend", "zh": "图例"}, labels)
    styles = "".join(f'<style name="{name}" marginTop="{top}" marginBottom="0" indent="0" alignment="1">'
                     f'<styleFont style="" description="{LABEL_FONTS[0]},{size},-1,5,{weight},0,0,0,0,0"/></style>'
                     for name, size, weight, top in (("title", 11, 75, 0), ("group", 9, 75, 1.5),
                                                     ("subgroup", 8, 50, 1), ("symbol", 7, 50, 1),
                                                     ("symbolLabel", 7, 50, 1)))
    return _item(65642, _uuid(layout, 3), 215, 22, 72, 176, 2,
                 f'title="{_a(title)}" map_uuid="{{{_uuid(layout, 1)}}}" resizeToContents="1" columnCount="1" '
                 'symbolWidth="5" symbolHeight="3" boxSpace="2" legendFilterByAtlas="0" splitLayer="0" '
                 'wrapChar="·" fontColor="#000000"',
                 f"<styles>{styles}</styles><layer-tree-group>{tree}</layer-tree-group>", background=True)


def _text_format(tag: str, size: int, bold: bool = False) -> str:
    return (f'<{tag}><text-style fontFamily="{LABEL_FONTS[0]}" namedStyle="{"Bold" if bold else "Regular"}" '
            f'fontWeight="{75 if bold else 50}" fontSize="{size}" fontSizeUnit="Point" textColor="30,30,30,255" '
            f'textOpacity="1" multilineHeight="1" allowHtml="0"/></{tag}>')


def _relation_table(layout: int, item: int, relation: str, columns: list[tuple[str, str, float]], x, y, width,
                    height) -> str:
    """A table of the Atlas page's place's related rows (`relation`): (field, heading, width in
    mm) columns, long texts wrapped."""
    table, frame = _uuid(layout, item), _uuid(layout, item + 1)
    heads = "".join(f'<column attribute="{_a(field)}" heading="{_a(heading)}" width="{size:g}" hAlignment="1" '
                    'vAlignment="128" sortByRank="0" sortOrder="0">'
                    '<backgroundColor alpha="0" red="0" green="0" blue="0"/></column>'
                    for field, heading, size in columns)
    return (f'<LayoutMultiFrame type="65649" uuid="{{{table}}}" templateUuid="{{{table}}}" source="2" '
            f'relationId="{_a(relation)}" resizeMode="0" maxFeatures="30" showGrid="1" gridStrokeWidth="0.2" '
            'gridColor="160,160,160,255" horizontalGrid="1" verticalGrid="0" cellMargin="1" headerMode="0" '
            'headerHAlignment="0" emptyTableMode="1" emptyTableMessage="—" wrapBehavior="1" '
            'backgroundColor="255,255,255,255" showEmptyRows="0" filterFeatures="false" featureFilter="" '
            'showOnlyVisibleFeatures="0" filterToAtlasIntersection="0" showUniqueRowsOnly="0" '
            f'useConditionalStyling="0"><childFrame uuid="{{{frame}}}" templateUuid="{{{frame}}}"/>'
            + _text_format("headerTextFormat", 7, bold=True) + _text_format("contentTextFormat", 7)
            + f"<displayColumns>{heads}</displayColumns><sortColumns/></LayoutMultiFrame>"
            + _item(65647, frame, x, y, width, height, 6,
                    f'multiFrame="{{{table}}}" multiFrameTemplateUuid="{{{table}}}" sectionX="0" sectionY="0" '
                    f'sectionWidth="{width:g}" sectionHeight="{height:g}" hidePageIfEmpty="0" '
                    'hideBackgroundIfEmpty="0"'))


def _place_tables(layout: int, labels: str) -> str:
    """The Atlas page's designations and figures, beside its map."""
    programme = {"en": "programme_en", "zh": "programme_zh", "both": "programme_en"}[labels]
    heading = {key: bilingual(text, labels) for key, text in (
        ("designation", {"en": "Designation", "zh": "命名"}), ("level", {"en": "Level", "zh": "级别"}),
        ("batch", {"en": "Batch", "zh": "批次"}), ("year", {"en": "Year", "zh": "年份"}),
        ("figure", {"en": "Figure", "zh": "指标"}), ("stated", {"en": "As stated", "zh": "原文"}))}
    return (_relation_table(layout, 7, "place-designations", [
                (programme, heading["designation"], 38), ("level", heading["level"], 15),
                ("batch", heading["batch"], 9), ("year", heading["year"], 11)], 200, 22, 87, 80)
            + _relation_table(layout, 9, "place-metrics", [
                ("key", heading["figure"], 36), ("stated", heading["stated"], 30), ("year", heading["year"], 11)],
                200, 106, 87, 92))


def _layouts(layers: list[Layer], extent, labels: str, metadata: Metadata) -> str:
    title = bilingual(metadata.title, labels)
    printed = (f'<Layout name="{_a(bilingual({"en": "Map", "zh": "地图"}, labels))}" units="mm" '
               'printResolution="300" worldFileMap="">' + _page(1) + _map_item(1, extent, False)
               + _label(1, 2, title, 10, 6, 277, 14, 18, bold=True) + _legend(1, layers, labels)
               + _map_furniture(1, _uuid(1, 1), 194, 184) + "</Layout>")
    places = _places_layer(layers)
    if places is None:
        return f"<Layouts>{printed}</Layouts>"
    name = {"en": '"name_en"', "zh": 'coalesce("name_zh", "name_en")',
            "both": "\"name_en\" || coalesce(' · ' || \"name_zh\", '')"}[labels]
    heading = f"[% {name} %]"
    where = "[% \"district_en\" || ' · ' || \"district_zh\" || ' · ' || \"kind\" %]"
    paged = (f'<Layout name="{_a(bilingual({"en": "Places", "zh": "地点"}, labels))}" units="mm" '
             'printResolution="300" worldFileMap="">' + _page(2) + _map_item(2, PLACE_EXTENT, True, 186, 176)
             + _label(2, 2, heading, 10, 4, 277, 10, 18, bold=True) + _label(2, 6, where, 10, 14, 277, 7, 10)
             + _map_furniture(2, _uuid(2, 1), 182, 184) + _place_tables(2, labels)
             + f'<Atlas enabled="1" hideCoverage="0" coverageLayer="{_a(layer_id(places.spec.id))}" '
             f'coverageLayerName="{_a(bilingual(places.spec.title, labels))}" coverageLayerProvider="ogr" '
             f'coverageLayerSource="./{GEOPACKAGE}|layername={_a(places.spec.id)}" pageNameExpression="place_id" '
             'sortFeatures="1" sortKey="place_id" sortAscending="1" filterFeatures="0" '
             "filenamePattern=\"'place-' || &quot;place_id&quot;\"/></Layout>")
    return f"<Layouts>{printed}{paged}</Layouts>"


# --- the project ----------------------------------------------------------------------------

def project_xml(layers: list[Layer], atlas: Atlas, labels: str = "both") -> str:
    """The `.qgs` document."""
    from .layers import largest_value

    metadata = atlas_metadata(atlas)
    extent = _extent(layers)
    coverage = _places_layer(layers)
    tables = list(TABLES)
    maplayers = "".join(
        _maplayer(layer_id(layer.spec.id), layer.spec.id, bilingual(layer.spec.title, labels),
                  layer_abstract(layer.spec.legend, metadata), metadata,
                  renderer(layer.spec, largest_value(layer), emphasis=layer is coverage)
                  + labeling(layer.spec, labels),
                  "Point" if layer.spec.geometry == "point" else "Polygon",
                  '"name_en"', tuple(layer.frame.total_bounds) if len(layer.frame) else extent)
        for layer in layers)
    maplayers += "".join(
        _maplayer(f"table-{t}", t, _table_name(t, labels), layer_abstract(
            {"en": TABLE_ABOUT[t], "zh": TABLE_TITLES_ZH[t]}, metadata), metadata, "", None, f'"{TABLE_KEYS[t]}"')
        for t in tables)
    order = "".join(f'<layer id="{_a(layer_id(layer.spec.id))}"/>' for layer in reversed(layers))
    title = bilingual(metadata.title, "both")
    return (f'<!DOCTYPE qgis PUBLIC \'http://mrcc.com/qgis.dtd\' \'SYSTEM\'>\n'
            f'<qgis projectname="{_a(title)}" version="{QGIS_VERSION}">'
            f'<homePath path=""/><title>{_a(title)}</title>'
            f"<projectCrs>{WGS84}</projectCrs>{_layer_tree(layers, tables, labels)}"
            f"<relations>{_relations(layers, tables)}</relations>"
            f'<mapcanvas name="theMapCanvas"><units>degrees</units>{_extent_xml("extent", _fit(extent, 1.4))}'
            f"<rotation>0</rotation><destinationsrs>{WGS84}</destinationsrs></mapcanvas>"
            f"<projectlayers>{maplayers}</projectlayers><layerorder>{order}</layerorder>"
            '<properties><Paths><Absolute type="bool">false</Absolute></Paths>'
            '<SpatialRefSys><ProjectionsEnabled type="int">1</ProjectionsEnabled></SpatialRefSys>'
            '<Measurement><DistanceUnits type="QString">km</DistanceUnits><AreaUnits type="QString">km2</AreaUnits>'
            '</Measurement><Measure><Ellipsoid type="QString">EPSG:7030</Ellipsoid></Measure></properties>'
            f"{_project_metadata(metadata)}"
            f'<ProjectViewSettings UseProjectScales="0" rotation="0"><DefaultViewExtent '
            + " ".join(f'{k}="{v:.6f}"' for k, v in zip(("xmin", "ymin", "xmax", "ymax"), _fit(extent, 1.4)))
            + f">{WGS84}</DefaultViewExtent></ProjectViewSettings>"
            f"{_layouts(layers, extent, labels, metadata)}</qgis>\n")


def write_project(layers: Iterable[Layer], atlas: Atlas, path: Path, labels: str = "both") -> Path:
    """`atlas.qgz`: the project as one `.qgs` in a zip with fixed timestamps."""
    document = project_xml(list(layers), atlas, labels).encode("utf-8")
    info = zipfile.ZipInfo(path.with_suffix(".qgs").name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(info, document)
    return path
