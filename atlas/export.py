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

from .layers import Layer, designation_columns, figure_columns, largest_value, place_columns
from .model import Atlas
from .qml import style_row

COORDINATE_PRECISION = 6
FIXED_DATE = "2000-01-01T00:00:00Z"  # GeoPackage metadata needs a date; a fixed one keeps bytes stable
GEOJSON_OPTIONS = {"RFC7946": "YES", "COORDINATE_PRECISION": str(COORDINATE_PRECISION),
                   "ID_FIELD": "id", "WRITE_NAME": "NO"}


def write_geojson(layer: Layer, path: Path) -> Path:
    """One layer as RFC 7946 GeoJSON: WGS84, no `crs`, CCW outer rings, top-level feature `id`."""
    import pyogrio

    path.parent.mkdir(parents=True, exist_ok=True)
    pyogrio.write_dataframe(layer.frame, path, driver="GeoJSON", layer_options=GEOJSON_OPTIONS)
    return path


def _tables(atlas: Atlas) -> dict[str, list[dict]]:
    """The long tables (DESIGN.md): designations, metrics and sources, one row per record."""
    designations = [{"id": d.id, "place_id": d.place, **designation_columns(d, atlas),
                     "evidence": d.evidence.excerpt} for d in atlas.designations.values()]
    metrics = [{"id": m.id, "place_id": m.place, "key": m.key, "field": m.field_name,
                "value": m.base_value, "unit": m.base_unit, "stated": m.stated, "qualifier": m.qualifier,
                "year": m.year, "note": m.note, "source_id": m.evidence.source, "evidence": m.evidence.excerpt}
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

    set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_DATE})
    try:
        for layer in layers:
            pyogrio.write_dataframe(layer.frame, path, layer=layer.spec.id, driver="GPKG",
                                    layer_options={"IDENTIFIER": layer.spec.title["en"],
                                                   "DESCRIPTION": layer.spec.title["zh"]})
        styles = pd.DataFrame([style_row(layer.spec, "geom", largest_value(layer)) for layer in layers])
        pyogrio.write_dataframe(styles, path, layer="layer_styles", driver="GPKG")
        for name, rows in _tables(atlas).items():
            frame = pd.DataFrame(rows)
            for column in ("batch", "year"):
                if column in frame:
                    frame[column] = frame[column].astype("Int64")
            pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG")
    finally:
        set_gdal_config_options({"OGR_CURRENT_DATE": None})
    return path


def _write_csv(path: Path, rows: list[dict]) -> Path:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_csv_value(row.get(k)) for k in columns] for row in rows)
    return path


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() else repr(value)
    return value


def place_rows(atlas: Atlas, located) -> list[dict]:
    """One row per place: where it is, its designations in one cell, its figures as columns."""
    rows = []
    for place in sorted(atlas.places.values(), key=lambda p: p.id):
        columns = place_columns(place, atlas, located[place.id])
        designations = atlas.designations_of(place.id)
        rows.append({
            "id": columns.pop("place_id"), **columns,
            "designations": "; ".join(
                f"{atlas.programmes[d.programme].name_en} ({d.level}"
                + (f", batch {d.batch}" if d.batch else "") + (f", {d.year}" if d.year else "") + ")"
                for d in designations),
            **figure_columns(place.id, atlas),
        })
    return rows


def write_gis_exports(layers: list[Layer], atlas: Atlas, out: Path) -> list[Path]:
    """The files GIS users open, into `out`: geojson/<layer>.geojson and atlas.gpkg."""
    written = [write_geojson(layer, out / "geojson" / f"{layer.spec.id}.geojson") for layer in layers]
    written.append(write_geopackage(layers, atlas, out / "atlas.gpkg"))
    return written


def write_tables(atlas: Atlas, located, out: Path) -> list[Path]:
    """The spreadsheets, into `out`: places, metrics, designations and sources as CSV."""
    written = [_write_csv(out / "places.csv", place_rows(atlas, located))]
    for name, rows in _tables(atlas).items():
        written.append(_write_csv(out / f"{name}.csv", rows))
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
