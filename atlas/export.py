"""Stage 5b: write the layers as files GIS users open: GeoJSON (RFC 7946), one GeoPackage, CSV.

Only this module and `render.py` write files. Output is deterministic: fixed column order,
6-decimal coordinates, and the GeoPackage's timestamps pinned (GDAL's OGR_CURRENT_DATE).
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable

from .layers import Layer, PlaceColumns, columns_of, designation_columns, largest_value, plain_values
from .model import Atlas
from .qml import style_row

COORDINATE_PRECISION = 6
FIXED_DATE = "2000-01-01T00:00:00Z"  # GeoPackage metadata needs a date; a fixed one keeps bytes stable
# GDAL settings while writing the GeoPackage. SQLite's journal and syncs guard a database
# against a crash mid-write; this one is written into a staging directory that a crash
# discards, and without them it is written a tenth faster, with the same bytes.
GPKG_CONFIG = {"OGR_CURRENT_DATE": FIXED_DATE, "OGR_SQLITE_JOURNAL": "OFF", "OGR_SQLITE_SYNCHRONOUS": "OFF"}


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


def _tables(atlas: Atlas) -> dict[str, list[dict]]:
    """The long tables (DESIGN.md): designations, metrics and sources, one row per record."""
    designations = [{"id": d.id, "place_id": d.place, **designation_columns(d, atlas),
                     "evidence": d.evidence.excerpt} for d in atlas.designations.values()]
    metrics = [{"id": m.id, "place_id": m.place, "key": m.key, "field": m.field_name,
                "value": m.base_value, "unit": m.base_unit, "stated": m.stated, "qualifier": m.qualifier,
                "status": m.status, "year": m.year, "note": m.note, "source_id": m.evidence.source,
                "evidence": m.evidence.excerpt}
               for m in atlas.metrics.values()]
    sources = [{"id": s.id, "kind": s.kind, "outlet": s.outlet, "title": s.title, "date": s.date,
                "file": s.file, "url": s.url, "confidence": s.confidence, "note": s.note}
               for s in atlas.sources.values()]
    return {name: sorted(rows, key=lambda r: r["id"])
            for name, rows in (("designations", designations), ("metrics", metrics), ("sources", sources))}


def write_geopackage(layers: Iterable[Layer], atlas: Atlas, path: Path) -> Path:
    """Every layer, plus the long tables without geometry, in one GeoPackage (EPSG:4326), with
    each layer's QGIS style as its default in `layer_styles`."""
    import pandas as pd
    import pyogrio
    from pyogrio import set_gdal_config_options

    set_gdal_config_options(GPKG_CONFIG)
    try:
        for layer in layers:
            pyogrio.write_dataframe(layer.frame, path, layer=layer.spec.id, driver="GPKG", use_arrow=True,
                                    layer_options={"IDENTIFIER": layer.spec.title["en"],
                                                   "DESCRIPTION": layer.spec.title["zh"]})
        styles = pd.DataFrame([style_row(layer.spec, "geom", largest_value(layer)) for layer in layers])
        pyogrio.write_dataframe(styles, path, layer="layer_styles", driver="GPKG", use_arrow=True)
        for name, rows in _tables(atlas).items():
            frame = pd.DataFrame(rows)
            for column in ("batch", "year"):
                if column in frame:
                    frame[column] = frame[column].astype("Int64")
            pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", use_arrow=True)
    finally:
        set_gdal_config_options(dict.fromkeys(GPKG_CONFIG))
    return path


def _write_csv(path: Path, columns: dict[str, list]) -> Path:
    """Columns of plain values as CSV; converted column by column, several times faster than
    cell by cell at 100,000 rows."""
    cells = [_csv_column(values) for values in columns.values()]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(zip(*cells))
    return path


def _csv_column(values) -> list:
    """None as an empty cell, whole floats without their '.0'."""
    return ["" if v is None else (repr(int(v)) if v.is_integer() else repr(v)) if type(v) is float else v
            for v in values]


def place_table(atlas: Atlas, columns: PlaceColumns) -> dict[str, list]:
    """One row per place (sorted by id): where it is, its designations in one cell, its achieved
    figures as columns (targets and plans are in the metrics table only, with their status)."""
    ids = list(atlas.places)
    designations = [
        "; ".join(f"{atlas.programmes[d.programme].name_en} ({d.level}" + (f", batch {d.batch}" if d.batch else "")
                  + (f", {d.year}" if d.year else "") + ")" for d in atlas.designations_of(place_id))
        for place_id in ids]
    table = plain_columns(columns.layer_frame(ids, ids, {"designations": designations}, figures=True))
    del table["place_id"]  # the same as id
    return table


def write_geojsons(layers: list[Layer], out: Path) -> list[Path]:
    """Every layer as `geojson/<layer>.geojson` in `out`."""
    return [write_geojson(layer, out / "geojson" / f"{layer.spec.id}.geojson") for layer in layers]


def write_tables(atlas: Atlas, columns: PlaceColumns, out: Path) -> list[Path]:
    """The spreadsheets, into `out`: places, metrics, designations and sources as CSV."""
    written = [_write_csv(out / "places.csv", place_table(atlas, columns))]
    for name, rows in _tables(atlas).items():
        written.append(_write_csv(out / f"{name}.csv", columns_of(rows)))
    return written


@contextmanager
def staged_directory(out: Path):
    """Yield a fresh sibling directory to write into; on success it replaces `out` whole.

    Until then the old `out` stays intact, and a failure leaves no half-written files: the
    staging directory is removed. The swap is two renames on the same file system.
    """
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    old = out.parent / f".{out.name}.old-{stage.name.rsplit('-', 1)[-1]}"
    if out.exists():
        os.replace(out, old)
    os.replace(stage, out)
    os.chmod(out, 0o755)
    shutil.rmtree(old, ignore_errors=True)
