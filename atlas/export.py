"""Stage 5b: write the layers as files GIS users open: GeoJSON (RFC 7946), one GeoPackage, CSV.

Only this module and `render.py` write files. Output is deterministic: fixed column order,
6-decimal coordinates, and the GeoPackage's timestamps pinned (GDAL's OGR_CURRENT_DATE).

Every column has one type in every file: integers stay integers when null (the GeoPackage and
the CSVs' `.csvt` sidecars say so; a GeoJSON column null in every feature is left out, as GDAL
would read it as text), and lists are JSON arrays (GeoJSON), JSON text (GeoPackage, which QGIS
reads as a list) or `; `-separated text (CSV).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterable

from .layers import (Layer, PlaceColumns, designation_columns, held_columns, largest_value, plain_values,
                     typed_frame)
from .metadata import atlas_metadata, layer_abstract
from .model import Atlas
from .qml import layer_qml, style_row

COORDINATE_PRECISION = 6
FIXED_DATE = "2000-01-01T00:00:00Z"  # GeoPackage metadata needs a date; a fixed one keeps bytes stable
# GDAL settings while writing the GeoPackage. SQLite's journal and syncs guard a database
# against a crash mid-write; this one is written into a staging directory that a crash
# discards, and without them it is written a tenth faster, with the same bytes.
GPKG_CONFIG = {"OGR_CURRENT_DATE": FIXED_DATE, "OGR_SQLITE_JOURNAL": "OFF", "OGR_SQLITE_SYNCHRONOUS": "OFF"}
GPKG_VERSION = "1.3"  # GDAL 3.6 (Debian stable's, under its QGIS) warns on every open of a 1.4 file
TABLES = ("designations", "metrics", "sources", "programmes")  # the GeoPackage's tables without geometry
TABLE_TITLES_ZH = {"designations": "命名", "metrics": "指标", "sources": "来源", "programmes": "命名类别"}
TABLE_ABOUT = {"designations": "Every designation of a place, with its evidence",
               "metrics": "Every figure about a place, as stated and in its base unit, with its evidence",
               "sources": "Every source the facts come from",
               "programmes": "The designation programmes, their level and awarding body"}


def plain_columns(frame) -> dict[str, list]:
    """A frame's columns (not its geometry) as lists of plain Python values, None for missing."""
    geometry = frame.geometry.name if hasattr(frame, "geometry") else None
    return {name: plain_values(frame[name]) for name in frame.columns if name != geometry}


def geojson_geometries(geometries) -> list[dict | None]:
    """Shapely geometries as GeoJSON objects at `COORDINATE_PRECISION`, outer rings counter-
    clockwise and holes clockwise (RFC 7946)."""
    import numpy as np
    import shapely

    def rounded(xy) -> list:
        return np.round(np.asarray(xy)[:, :2], COORDINATE_PRECISION).tolist()

    def polygon(part) -> list:
        return [rounded(ring.coords) for ring in (part.exterior, *part.interiors)]

    geometries = np.asarray(geometries, dtype=object)
    kinds = shapely.get_type_id(geometries)
    if len(geometries) and (kinds == shapely.GeometryType.POINT).all():
        return [{"type": "Point", "coordinates": xy} for xy in rounded(shapely.get_coordinates(geometries))]
    out = []
    for geometry in shapely.orient_polygons(geometries, exterior_cw=False):
        if geometry is None or geometry.is_empty:
            out.append(None)
        elif geometry.geom_type == "Point":
            out.append({"type": "Point", "coordinates": rounded(geometry.coords)[0]})
        elif geometry.geom_type == "Polygon":
            out.append({"type": "Polygon", "coordinates": polygon(geometry)})
        elif geometry.geom_type == "MultiPolygon":
            out.append({"type": "MultiPolygon", "coordinates": [polygon(p) for p in geometry.geoms]})
        else:  # layers hold points and district polygons only
            raise ValueError(f"no GeoJSON writer for a {geometry.geom_type}")
    return out


def write_geojson(layer: Layer, path: Path) -> Path:
    """One layer as RFC 7946 GeoJSON: WGS84 (no `crs`), CCW outer rings, 6-decimal coordinates,
    the `id` column as each feature's top-level id; one feature per line.

    Written here with orjson, not by GDAL's GeoJSON driver, which took 6 s for the 275,000
    features of an atlas of 100,000 places (this takes one); the tests read the files back
    with GDAL.
    """
    import orjson

    path.parent.mkdir(parents=True, exist_ok=True)
    columns = plain_columns(layer.frame)
    ids = columns.pop("id")
    columns = {name: values for name, values in columns.items() if any(v is not None for v in values)}
    names = list(columns)
    geometries = geojson_geometries(layer.frame.geometry.values)
    rows = zip(*columns.values()) if names else ([()] * len(ids))
    with path.open("wb") as handle:  # streamed: a large layer never sits whole in memory
        handle.write(b'{"type":"FeatureCollection","features":[')
        for n, (ident, geometry, values) in enumerate(zip(ids, geometries, rows)):
            handle.write((b",\n" if n else b"\n") + orjson.dumps({"type": "Feature", "id": ident,
                                                                 "properties": dict(zip(names, values)),
                                                                 "geometry": geometry}))
        handle.write(b"\n]}\n")
    return path


def tables(atlas: Atlas) -> dict[str, object]:
    """The long tables (DESIGN.md), as typed frames keyed by `<thing>_id` (a programme by
    `programme`, as in the layers): designations, metrics, sources, and the programmes with
    their awarding bodies (after WDPA's designation fields)."""
    designations = [{"designation_id": d.id, "place_id": d.place, **designation_columns(d, atlas),
                     "evidence": d.evidence.excerpt} for d in atlas.designations.values()]
    metrics = [{"metric_id": m.id, "place_id": m.place, "key": m.key, "field": m.field_name,
                "value": m.base_value, "unit": m.base_unit, "stated": m.stated, "qualifier": m.qualifier,
                "status": m.status, "year": m.year, "note": m.note, "source_id": m.evidence.source,
                "evidence": m.evidence.excerpt}
               for m in atlas.metrics.values()]
    sources = [{"source_id": s.id, "kind": s.kind, "outlet": s.outlet, "title": s.title, "date": s.date,
                "file": s.file, "url": s.url, "confidence": s.confidence, "note": s.note}
               for s in atlas.sources.values()]
    programmes = [{"programme": p.id, "name_en": p.name_en, "name_zh": p.name_zh, "level": p.level,
                   "awarding_body": p.awarding_body, "awarding_body_zh": p.awarding_body_zh,
                   "designations": len(atlas.designations_under(p.id))} for p in atlas.programmes.values()]
    return {name: typed_frame(sorted(rows, key=lambda r: next(iter(r.values()))))
            for name, rows in zip(TABLES, (designations, metrics, sources, programmes))}


def _layer_identifiers(layers: list[Layer]) -> dict[str, str]:
    """Each layer's title in the GeoPackage (unique there), which QGIS shows as the layer's title."""
    seen: set[str] = set()
    out = {}
    for layer in layers:
        title = f"{layer.spec.title['en']} · {layer.spec.title['zh']}"
        out[layer.spec.id] = title if title not in seen else f"{title} ({layer.spec.id})"
        seen.add(out[layer.spec.id])
    return out


def write_geopackage(layers: Iterable[Layer], atlas: Atlas, path: Path, labels: str = "both") -> Path:
    """Every layer, plus the long tables without geometry, in one GeoPackage (EPSG:4326,
    version 1.3), with each layer's QGIS style (labels in `labels`) as its default in
    `layer_styles`, and its title, abstract, licence and attribution as its metadata."""
    import pandas as pd
    import pyogrio
    from pyogrio import set_gdal_config_options

    layers = list(layers)
    metadata = atlas_metadata(atlas)
    about = {"LICENSE": metadata.licence, "ATTRIBUTION": metadata.rights()}
    identifiers = _layer_identifiers(layers)
    set_gdal_config_options(GPKG_CONFIG)
    try:
        def write(frame, name: str, title: str, abstract: str) -> None:
            pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", use_arrow=True,
                                    dataset_options={"VERSION": GPKG_VERSION} if not path.exists() else None,
                                    layer_options={"IDENTIFIER": title, "DESCRIPTION": abstract},
                                    layer_metadata=about)

        for layer in layers:
            write(layer.frame, layer.spec.id, identifiers[layer.spec.id], layer_abstract(layer.spec.legend, metadata))
        styles = pd.DataFrame([style_row(layer.spec, "geom", largest_value(layer), labels) for layer in layers])
        styles["update_time"] = pd.to_datetime(styles["update_time"])
        pyogrio.write_dataframe(styles, path, layer="layer_styles", driver="GPKG", use_arrow=True,
                                layer_options={"FID": "id"})
        for name, frame in tables(atlas).items():
            write(frame, name, f"{name.capitalize()} · {TABLE_TITLES_ZH[name]}",
                  layer_abstract({"en": TABLE_ABOUT[name], "zh": TABLE_TITLES_ZH[name]}, metadata))
    finally:
        set_gdal_config_options(dict.fromkeys(GPKG_CONFIG))
    return path



def _write_csv(path: Path, frame) -> list[Path]:
    """A typed frame as CSV, UTF-8 with a byte-order mark (which Excel needs to read it as
    UTF-8), and its `.csvt` sidecar giving each column's type to GDAL and QGIS. Converted
    column by column, several times faster than cell by cell at 100,000 rows."""
    cells = [_csv_column(plain_values(frame[name])) for name in frame.columns]
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(frame.columns)
        writer.writerows(zip(*cells))
    sidecar = path.with_suffix(".csvt")
    sidecar.write_text(",".join(f'"{_csvt_type(frame[name])}"' for name in frame.columns) + "\n", encoding="utf-8")
    return [path, sidecar]


def _csvt_type(column) -> str:
    """A column's type as a `.csvt` sidecar names it."""
    if str(column.dtype) == "Int64":
        return "Integer" if column.dropna().abs().le(2**31 - 1).all() else "Integer64"
    return "Real" if column.dtype.kind == "f" else "String"


def _csv_column(values) -> list:
    """None as an empty cell, whole floats without their '.0', lists as `; `-separated text."""
    return ["" if v is None else (repr(int(v)) if v.is_integer() else repr(v)) if type(v) is float
            else "; ".join(map(str, v)) if type(v) is list else v for v in values]


def place_table(atlas: Atlas, columns: PlaceColumns):
    """One row per place (sorted by `place_id`): the places layer's columns, its achieved figures
    as columns (targets and plans are in the metrics table only, with their status)."""
    ids = list(atlas.places)
    return columns.layer_frame(ids, ids, held_columns(atlas, ids), figures=True).drop(columns="id")


def write_geojsons(layers: list[Layer], out: Path, labels: str = "both") -> list[Path]:
    """Every layer as `geojson/<layer>.geojson` in `out`, with its QGIS style beside it as
    `<layer>.qml`, which QGIS loads as the file's default style."""
    written = []
    for layer in layers:
        path = write_geojson(layer, out / "geojson" / f"{layer.spec.id}.geojson")
        style = path.with_suffix(".qml")
        style.write_text(layer_qml(layer.spec, largest_value(layer), labels), encoding="utf-8")
        written += [path, style]
    return written


def write_tables(atlas: Atlas, columns: PlaceColumns, out: Path) -> list[Path]:
    """The spreadsheets, into `out`: places, designations, metrics, sources and programmes as CSV,
    each with its `.csvt`."""
    written = _write_csv(out / "places.csv", place_table(atlas, columns))
    for name, frame in tables(atlas).items():
        written += _write_csv(out / f"{name}.csv", frame)
    return written
