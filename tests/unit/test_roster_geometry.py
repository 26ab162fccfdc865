"""Point-in-polygon over GeoJSON boundaries: edges are inside, holes are cut out, exactly."""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from services.dispatch.roster import geometry

SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]]]}
WITH_HOLE = {
    "type": "Polygon",
    "coordinates": [
        [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]],
        [[3, 3], [3, 7], [7, 7], [7, 3], [3, 3]],
    ],
}
TWO_ISLANDS = {
    "type": "MultiPolygon",
    "coordinates": [
        [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]],
        [[[5, 5], [6, 5], [6, 6], [5, 6], [5, 5]]],
    ],
}
U_SHAPE = {  # a notch from above between x = 1 and x = 2
    "type": "Polygon",
    "coordinates": [[[0, 0], [3, 0], [3, 3], [2, 3], [2, 1], [1, 1], [1, 3], [0, 3], [0, 0]]],
}


def inside(shape: dict[str, object], lon: float, lat: float) -> bool:
    return geometry.contains(geometry.parse(shape), lat=lat, lon=lon)


def test_a_point_well_inside_is_inside_and_one_outside_is_not() -> None:
    assert inside(SQUARE, 2, 2)
    assert not inside(SQUARE, 5, 2)
    assert not inside(SQUARE, 2, -0.001)


@pytest.mark.parametrize("lon, lat", [(0, 0), (4, 4), (2, 0), (4, 2), (0, 3.5), (2, 4)])
def test_points_on_edges_and_vertices_count_as_inside(lon: float, lat: float) -> None:
    assert inside(SQUARE, lon, lat)


def test_positions_are_longitude_first() -> None:
    tall = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 10], [0, 10], [0, 0]]]}
    assert inside(tall, lon=0.5, lat=9)
    assert not inside(tall, lon=9, lat=0.5)


def test_a_hole_is_outside_but_its_edge_still_belongs_to_the_polygon() -> None:
    assert not inside(WITH_HOLE, 5, 5)
    assert inside(WITH_HOLE, 1, 1)
    assert inside(WITH_HOLE, 3, 5)
    assert inside(WITH_HOLE, 7, 7)


def test_a_multipolygon_holds_the_points_of_each_of_its_polygons() -> None:
    assert inside(TWO_ISLANDS, 0.5, 0.5)
    assert inside(TWO_ISLANDS, 5.5, 5.5)
    assert not inside(TWO_ISLANDS, 3, 3)


def test_the_notch_of_a_concave_polygon_is_outside() -> None:
    assert not inside(U_SHAPE, 1.5, 2)
    assert inside(U_SHAPE, 0.5, 2)
    assert inside(U_SHAPE, 1.5, 0.5)
    assert inside(U_SHAPE, 1.5, 1)  # the bottom of the notch is an edge


def test_a_feature_is_read_for_its_geometry_and_written_back_as_the_geometry() -> None:
    area = geometry.parse({"type": "Feature", "properties": {}, "geometry": TWO_ISLANDS})
    assert geometry.to_geojson(area) == TWO_ISLANDS
    assert geometry.to_geojson(geometry.parse(WITH_HOLE)) == WITH_HOLE
    assert geometry.parse(SQUARE).bbox == (0, 0, 4, 4)


@pytest.mark.parametrize(
    "shape, reason",
    [
        ({"type": "Point", "coordinates": [1, 2]}, "type must be Polygon or MultiPolygon"),
        ([[0, 0]], "must be a GeoJSON Polygon or MultiPolygon object"),
        ({"type": "Polygon", "coordinates": []}, "needs a list of rings"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}, "at least 4 positions"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "end where"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [2, 2], [0, 0]]]}, "no area"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [1, 1], [0, 0]]]}, "longitude 200"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 95], [1, 1], [0, 0]]]}, "latitude 95"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, True], [1, 1], [0, 0]]]}, "finite"),
        ({"type": "MultiPolygon", "coordinates": []}, "needs a list of polygons"),
    ],
)
def test_a_bad_boundary_is_refused_with_the_reason(shape: object, reason: str) -> None:
    with pytest.raises(geometry.GeometryError, match=reason):
        geometry.parse(shape)


def test_a_boundary_with_too_many_positions_is_refused() -> None:
    count = geometry.MAX_POSITIONS + 1
    ring = [[i / count, 0.0] for i in range(count - 2)] + [[0.5, 1.0], [0.0, 0.0]]
    with pytest.raises(geometry.GeometryError, match="positions"):
        geometry.parse({"type": "Polygon", "coordinates": [ring]})


coordinate = st.floats(min_value=-60, max_value=60, allow_nan=False, allow_subnormal=True)
span = st.floats(min_value=1e-6, max_value=30, allow_nan=False)


@given(coordinate, coordinate, span, span, coordinate, coordinate)
def test_a_rectangle_holds_exactly_the_points_of_its_closed_box(
    lon0: float, lat0: float, width: float, height: float, lon: float, lat: float
) -> None:
    lon1, lat1 = lon0 + width, lat0 + height
    area = geometry.rectangle(lat0, lon0, lat1, lon1)
    expected = lon0 <= lon <= lon1 and lat0 <= lat <= lat1
    assert geometry.contains(area, lat=lat, lon=lon) == expected


@given(
    st.lists(st.tuples(coordinate, coordinate), min_size=3, max_size=8, unique=True),
    st.integers(min_value=0, max_value=7),
    coordinate,
    coordinate,
)
def test_orientation_and_starting_vertex_do_not_change_the_answer(
    vertices: list[tuple[float, float]], start: int, lon: float, lat: float
) -> None:
    ring = [list(vertex) for vertex in (*vertices, vertices[0])]
    try:
        geometry.parse({"type": "Polygon", "coordinates": [ring]})
    except geometry.GeometryError:
        assume(False)  # collinear: not a polygon
    rotated = vertices[start % len(vertices) :] + vertices[: start % len(vertices)]
    reverse = list(reversed(vertices))
    answers = {
        geometry.contains(geometry.Area(((tuple(v) + (v[0],),),)), lat=lat, lon=lon)
        for v in (vertices, rotated, reverse)
    }
    assert len(answers) == 1


@given(coordinate, coordinate, span, span)
def test_the_vertices_and_edge_midpoints_of_any_triangle_are_inside(
    lon: float, lat: float, width: float, height: float
) -> None:
    a, b, c = (lon, lat), (lon + width, lat), (lon, lat + height)
    area = geometry.Area((((a, b, c, a),),))
    for x, y in (a, b, c, ((a[0] + b[0]) / 2, lat)):
        assert geometry.contains(area, lat=y, lon=x)


@given(st.floats(min_value=3, max_value=7), st.floats(min_value=3, max_value=7))
def test_points_strictly_inside_a_hole_are_outside_and_its_ring_is_inside(
    lon: float, lat: float
) -> None:
    area = geometry.parse(WITH_HOLE)
    on_hole_ring = lon in (3, 7) or lat in (3, 7)
    assert geometry.contains(area, lat=lat, lon=lon) == on_hole_ring
    multi = geometry.Area(polygons=area.polygons + geometry.parse(SQUARE).polygons, multi=True)
    assert geometry.contains(multi, lat=lat, lon=lon) == (on_hole_ring or (lon <= 4 and lat <= 4))
