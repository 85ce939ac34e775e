"""Open a rendered atlas in real QGIS, headless, and print what QGIS sees as JSON.

Run with the Python that has QGIS's bindings (Debian: /usr/bin/python3 with python3-qgis),
not the project's: `QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_check.py OUT PNG_DIR`.
tests/test_qgis.py runs it and asserts on the facts; this script only reports them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from qgis.core import (Qgis, QgsApplication, QgsFeatureRequest, QgsLayoutExporter, QgsMapRendererParallelJob,
                       QgsMapSettings, QgsPointXY, QgsProject, QgsRectangle, QgsVectorLayer)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor, QImage

PROBE_SIZE = QSize(900, 700)
MAX_PROBES = 60
EMPHASIS = (215, 48, 31)  # atlas.qml.ATLAS_EMPHASIS: the ring round an Atlas page's place


def count_pixels(png: Path, rgb: tuple[int, int, int], tolerance: int = 30) -> int:
    """How many pixels of the image are within `tolerance` of the colour `rgb` in every channel."""
    image = QImage(str(png))
    count = 0
    for y in range(0, image.height()):
        for x in range(0, image.width()):
            colour = QColor(image.pixel(x, y))
            count += all(abs(a - b) <= tolerance for a, b in zip((colour.red(), colour.green(), colour.blue()), rgb))
    return count


def fields(layer) -> dict[str, str]:
    """Field name -> QGIS type name, with a JSON field's subtype ("JSON")."""
    return {f.name(): f.typeName() for f in layer.fields()}


def style_facts(layer) -> dict:
    renderer = layer.renderer()
    labeling = layer.labeling()
    settings = labeling.settings() if labeling is not None and hasattr(labeling, "settings") else None
    return {"renderer": renderer.type() if renderer else None,
            "attr": renderer.classAttribute() if hasattr(renderer, "classAttribute") else None,
            "labels": layer.labelsEnabled(),
            "label_expression": settings.fieldName if settings else None,
            "label_is_expression": settings.isExpression if settings else None}


def gpkg_facts(path: Path) -> dict:
    """Every layer and table of the GeoPackage, opened as QGIS opens it, default style loaded."""
    from osgeo import ogr

    names = [ds_layer.GetName() for ds_layer in ogr.Open(str(path))]
    out = {}
    for name in names:
        layer = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
        message, loaded = layer.loadDefaultStyle()
        out[name] = {"valid": layer.isValid(), "style_loaded": loaded, "features": layer.featureCount(),
                     "fields": fields(layer), "title": layer.metadata().title(),
                     "abstract": layer.metadata().abstract(), "geometry": layer.isSpatial(), **style_facts(layer)}
        if name == "places":
            request = QgsFeatureRequest().setFilterExpression('"place_id" = \'jinyun-mountain\'')
            feature = next(layer.getFeatures(request), None)
            out[name]["jinyun_aliases"] = feature["aliases"] if feature is not None else None
    return out


def file_facts(path: Path) -> dict:
    layer = QgsVectorLayer(str(path), path.stem, "ogr")
    message, loaded = layer.loadDefaultStyle()  # a file's default style is the .qml beside it
    facts = {"valid": layer.isValid(), "features": layer.featureCount(), "fields": fields(layer),
             "style_loaded": loaded, **style_facts(layer)}
    first = next(layer.getFeatures(), None)
    if first is not None:
        facts["first"] = {name: _plain(first[name]) for name in facts["fields"]}
    return facts


def _plain(value):
    if value is None or (hasattr(value, "isNull") and value.isNull()):
        return None
    if isinstance(value, (str, int, float, bool, list)):
        return value
    return str(value)


def probe(layer, settings_for, extent) -> list:
    """Render `layer` alone, unlabelled, on white, and read the pixel under each feature's
    point (a polygon's point on its surface): [feature id, [r, g, b], alone], where `alone` is
    false for a point with others of the layer drawn over or under it."""
    layer.setLabelsEnabled(False)
    settings = settings_for([layer], extent)
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    to_pixel = settings.mapToPixel()
    points, small = {}, set()
    for feature in layer.getFeatures(QgsFeatureRequest().setLimit(MAX_PROBES)):
        geometry = feature.geometry()
        pixel = to_pixel.transform(QgsPointXY(geometry.pointOnSurface().asPoint()))
        points[feature["id"]] = (int(pixel.x()), int(pixel.y()))
        box = geometry.boundingBox()
        if min(box.width(), box.height()) / to_pixel.mapUnitsPerPixel() < 20:
            small.add(feature["id"])
    probes = []
    for feature_id, (x, y) in points.items():
        colour = QColor(image.pixel(x, y))
        if layer.geometryType() == 0:  # a point
            alone = sum(abs(x - u) < 12 and abs(y - v) < 12 for u, v in points.values()) == 1
        else:  # a polygon large enough that its inner point is clear of its outline
            alone = feature_id not in small
        probes.append([feature_id, [colour.red(), colour.green(), colour.blue()], alone])
    return probes


def project_facts(path: Path, png_dir: Path) -> dict:
    project = QgsProject.instance()
    read = project.read(str(path))
    layers = project.mapLayers()
    metadata = project.metadata()
    root = project.layerTreeRoot()
    tree = [[group.name(), [node.layerId() for node in group.findLayers()]] for group in root.findGroups()]
    relations = {}
    places = project.mapLayer("layer-places")
    jinyun = None
    if places is not None:
        request = QgsFeatureRequest().setFilterExpression('"place_id" = \'jinyun-mountain\'')
        jinyun = next(places.getFeatures(request), None)
    sources = project.mapLayer("table-sources")
    for rid, relation in project.relationManager().relations().items():
        parent = relation.referencedLayer()
        feature = jinyun if parent is places else next(parent.getFeatures(), None) if parent else None
        related = sum(1 for _ in relation.getRelatedFeatures(feature)) if feature is not None else None
        relations[rid] = {"valid": relation.isValid(), "referencing": relation.referencingLayerId(),
                          "referenced": relation.referencedLayerId(), "related_of_first": related}
    layouts = {}
    for layout in project.layoutManager().layouts():
        items = sorted(type(item).__name__ for item in layout.items() if hasattr(item, "uuid"))
        facts = {"items": items, "atlas": layout.atlas().enabled() if hasattr(layout, "atlas") else False}
        if facts["atlas"]:
            atlas = layout.atlas()
            atlas.beginRender()
            facts["atlas_pages"] = atlas.count()
            facts["atlas_coverage"] = atlas.coverageLayer().id() if atlas.coverageLayer() else None
            atlas.seekTo(0)
            facts["atlas_first"] = atlas.currentFilename()
            facts["table_rows"] = [len(table.contents()) for table in layout.multiFrames()]
        pictures = [item for item in layout.items() if type(item).__name__ == "QgsLayoutItemPicture"]
        facts["north_arrow_drawn"] = all(not p.isMissingImage() for p in pictures) if pictures else False
        png = png_dir / f"layout-{len(layouts)}.png"
        png.unlink(missing_ok=True)
        exporter = QgsLayoutExporter(layout)
        settings = QgsLayoutExporter.ImageExportSettings()
        settings.dpi = 60
        if facts["atlas"]:
            layout.atlas().seekTo(0)
        facts["export"] = exporter.exportToImage(str(png), settings) == QgsLayoutExporter.Success
        facts["png"] = str(png)
        facts["emphasis_pixels"] = count_pixels(png, EMPHASIS)
        layouts[layout.name()] = facts
    extent = QgsRectangle()
    for layer in layers.values():
        if layer.isSpatial():
            extent.combineExtentWith(layer.extent())

    def settings_for(chosen, area):
        settings = QgsMapSettings()
        settings.setLayers(chosen)
        settings.setDestinationCrs(project.crs())
        settings.setBackgroundColor(QColor(255, 255, 255))
        settings.setOutputSize(PROBE_SIZE)
        settings.setExtent(area)
        return settings

    facts = {lid: {"valid": layer.isValid(), "name": layer.name(), "source": layer.source(),
                   "spatial": layer.isSpatial(), "licences": layer.metadata().licenses(),
                   "rights": layer.metadata().rights(), "features": layer.featureCount(),
                   "visible": root.findLayer(lid) is not None and root.findLayer(lid).isVisible(),
                   **style_facts(layer)} for lid, layer in layers.items()}
    pixels = {layer.id(): probe(layer, settings_for, extent) for layer in layers.values() if layer.isSpatial()}
    return {"read": read, "title": project.title(), "crs": project.crs().authid(),
            "abstract": metadata.abstract(), "history": metadata.history(),
            "links": [link.url for link in metadata.links()],
            "absolute_paths": project.readBoolEntry("Paths", "Absolute", True)[0],
            "layers": facts,
            "tree": tree, "drawing_order": [layer.id() for layer in root.layerOrder()],
            "relations": relations, "sources_layer": sources is not None and sources.isValid(),
            "layouts": layouts, "pixels": pixels}


def main(out: Path, png_dir: Path) -> dict:
    from osgeo import gdal

    facts = {"qgis": Qgis.version(), "gdal": gdal.__version__, "gpkg": gpkg_facts(out / "atlas.gpkg"),
             "geojson": {p.name: file_facts(p) for p in sorted((out / "geojson").glob("*.geojson"))},
             "csv": {p.name: file_facts(p) for p in sorted(out.glob("*.csv"))}}
    facts["project"] = project_facts(out / "atlas.qgz", png_dir)
    return facts


if __name__ == "__main__":
    app = QgsApplication([], False)
    app.initQgis()
    try:
        result = main(Path(sys.argv[1]), Path(sys.argv[2]))
    finally:
        QgsProject.instance().clear()
    print(json.dumps(result, ensure_ascii=False, sort_keys=True))
    app.exitQgis()
