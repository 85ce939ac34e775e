"""China's map datums: WGS84 <-> GCJ-02 <-> BD-09, against coordinate pairs published by the map
services themselves and by other implementations, and the boundaries using the same code."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from atlas import boundaries, datums

GEOD = Geod(ellps="WGS84")
CHONGQING_BOX = (105.28, 28.16, 110.19, 32.2)

# (WGS84 lon, lat) -> (GCJ-02 lon, lat) as answered by the services.
SERVICE_WGS_GCJ = [
    # Amap (Gaode) Web Service API, coordinate conversion ("坐标转换"), the response example for
    # locations=116.481499,39.990475|116.481499,39.990375&coordsys=gps:
    # https://lbs.amap.com/api/webservice/guide/api/convert/ (response as mirrored in Amap's API
    # collection, https://apifox.com/apidoc/docs-site/759159/api-14671355).
    ((116.481499, 39.990475), (116.487585177952, 39.991754014757)),
    ((116.481499, 39.990375), (116.487585177952, 39.991653917101)),
]
# Alibaba Cloud Address Purification, TransferCoord ("坐标系转换"), response example for
# Text=120.026268,30.279164&SrcCoord=gcj02:
# https://help.aliyun.com/zh/address-purification/addrpapi/developer-reference/coordinate-system-conversion
ALIYUN = {"GCJ-02": (120.026268, 30.279164), "BD-09": (120.032768, 30.285238), "WGS84": (120.021519, 30.281543)}
# WGS84 <-> GCJ-02 pairs published elsewhere: surveyed points and other libraries' test vectors.
REFERENCE_PAIRS = [
    # Beijing railway station, surveyed both ways (R package geoChina, wgs2gcj/gcj2wgs docs).
    ((116.42079, 39.90105), (116.42703, 39.90245)),
    # Tiananmen: OpenStreetMap vs google.cn (R package recharts2, convGCJ2WGS docs).
    ((116.39089, 39.90734), (116.397131, 39.908746)),
    # Test vectors of the eviltransform library (Shanghai, Shenzhen, Beijing).
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
    # docs.rs coord-transform, wgs2gcj example.
    ((118.0, 32.0), (118.00543101383846, 31.997964381055795)),
]
# GCJ-02 -> BD-09 pair of the wandergis/coordtransform test suite (test/app.js, gcj02tobd09), also
# the test vector of hutool's CoordinateUtilTest.
GCJ_BD_PAIRS = [((116.404, 39.915), (116.41036949371029, 39.92133699351021))]


def metres(a, b) -> float:
    return float(GEOD.inv(float(a[0]), float(a[1]), float(b[0]), float(b[1]))[2])


@pytest.mark.parametrize("wgs, gcj", SERVICE_WGS_GCJ)
def test_wgs84_to_gcj02_matches_amap_within_5_cm(wgs, gcj):
    assert metres(gcj, datums.wgs84_to_gcj02(*wgs)) < 0.05
    assert metres(wgs, datums.gcj02_to_wgs84(*gcj)) < 0.05


def test_aliyun_triple():
    gcj, bd, wgs = ALIYUN["GCJ-02"], ALIYUN["BD-09"], ALIYUN["WGS84"]
    assert metres(bd, datums.gcj02_to_bd09(*gcj)) < 0.06  # the service rounds to 6 decimals
    assert metres(gcj, datums.bd09_to_gcj02(*bd)) < 0.06
    # Aliyun's WGS84 is the one-step inverse (2g - forward(g)): 1.7 m from the exact inverse ...
    one_step = 2 * np.array(gcj) - np.array(datums.wgs84_to_gcj02(*gcj))
    assert metres(wgs, one_step) < 0.05
    assert 1.5 < metres(wgs, datums.gcj02_to_wgs84(*gcj)) < 2.0
    assert 1.5 < metres(wgs, datums.bd09_to_wgs84(*bd)) < 2.0
    # ... which is why ours iterates: forward(ours) lands on the service's GCJ-02 to a centimetre.
    assert metres(gcj, datums.wgs84_to_gcj02(*datums.gcj02_to_wgs84(*gcj))) < 0.01


@pytest.mark.parametrize("wgs, gcj", REFERENCE_PAIRS)
def test_gcj02_matches_published_pairs(wgs, gcj):
    assert metres(wgs, datums.gcj02_to_wgs84(*gcj)) < 5.0
    assert metres(gcj, datums.wgs84_to_gcj02(*wgs)) < 5.0


@pytest.mark.parametrize("gcj, bd", GCJ_BD_PAIRS)
def test_bd09_matches_published_pairs(gcj, bd):
    assert metres(bd, datums.gcj02_to_bd09(*gcj)) < 0.01
    assert metres(gcj, datums.bd09_to_gcj02(*bd)) < 0.01


@settings(max_examples=200, deadline=None)
@given(st.floats(CHONGQING_BOX[0], CHONGQING_BOX[2]), st.floats(CHONGQING_BOX[1], CHONGQING_BOX[3]))
def test_round_trips_within_a_centimetre(lon, lat):
    assert metres((lon, lat), datums.gcj02_to_wgs84(*datums.wgs84_to_gcj02(lon, lat))) < 0.01
    assert metres((lon, lat), datums.bd09_to_wgs84(*datums.wgs84_to_bd09(lon, lat))) < 0.01
    assert metres((lon, lat), datums.to_wgs84(*map(float, datums.wgs84_to_bd09(lon, lat)), datums.BD09)) < 0.01


def test_vectorised_and_hundreds_of_metres_in_chongqing():
    lon, lat = np.linspace(105.3, 110.1, 50), np.linspace(28.2, 32.1, 50)
    for inverse, low, high in ((datums.gcj02_to_wgs84, 100, 800), (datums.bd09_to_wgs84, 500, 1500)):
        w_lon, w_lat = inverse(lon, lat)
        assert w_lon.shape == (50,)
        single = [inverse(x, y) for x, y in zip(lon, lat)]
        np.testing.assert_allclose(w_lon, [s[0] for s in single], atol=1e-9)
        shift = GEOD.inv(lon, lat, w_lon, w_lat)[2]
        assert (shift > low).all() and (shift < high).all()


def test_gcj02_outside_china_is_left_alone():
    lon, lat = datums.gcj02_to_wgs84([2.35, -74.0], [48.85, 40.7])
    np.testing.assert_array_equal(lon, [2.35, -74.0])
    np.testing.assert_array_equal(lat, [48.85, 40.7])


def test_to_wgs84_by_name():
    assert datums.to_wgs84(106.5, 29.5, datums.WGS84) == (106.5, 29.5)
    assert datums.to_wgs84(*ALIYUN["GCJ-02"], datums.GCJ02) == tuple(map(float, datums.gcj02_to_wgs84(*ALIYUN["GCJ-02"])))


def test_the_boundaries_use_this_conversion():
    assert boundaries.gcj02_to_wgs84 is datums.gcj02_to_wgs84
    assert not hasattr(boundaries, "wgs84_to_gcj02") and not hasattr(boundaries, "_gcj02_offset")
