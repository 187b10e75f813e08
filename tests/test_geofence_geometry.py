"""The zone geometry without I/O: GeoJSON parsing, its error messages, point-in-polygon."""

from __future__ import annotations

from typing import Any

import pytest

from segway_gateway.gateway.geofences import GeofenceError, GeofenceIndex, parse_zone


def square(west: float, south: float, size: float) -> list[list[float]]:
    """A closed ring, counter-clockwise, of a square with its south-west corner given."""
    east, north = west + size, south + size
    return [[west, south], [east, south], [east, north], [west, north], [west, south]]


def polygon(*rings: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(rings)}


def feature(geometry: dict[str, Any] | None) -> dict[str, Any]:
    return {"type": "Feature", "properties": {}, "geometry": geometry}


SQUARE = polygon(square(114.0, 22.0, 1.0))
WITH_HOLE = polygon(square(114.0, 22.0, 1.0), square(114.4, 22.4, 0.2))
TWO_SQUARES = {
    "type": "MultiPolygon",
    "coordinates": [[square(114.0, 22.0, 1.0)], [square(120.0, 30.0, 1.0)]],
}


@pytest.mark.parametrize(
    ("lon", "lat", "inside"),
    [
        (114.5, 22.5, True),
        (114.999, 22.001, True),
        (115.5, 22.5, False),
        (114.5, 23.5, False),
        (113.9, 21.9, False),
    ],
)
def test_a_point_is_inside_a_polygon_only_within_its_exterior(
    lon: float, lat: float, inside: bool
) -> None:
    assert parse_zone("z", SQUARE).contains(lon, lat) is inside


def test_a_point_in_a_hole_is_outside_and_around_it_inside() -> None:
    zone = parse_zone("z", WITH_HOLE)
    assert not zone.contains(114.5, 22.5)
    assert zone.contains(114.2, 22.2)
    assert zone.contains(114.5, 22.7)


def test_a_concave_polygon_excludes_its_notch() -> None:
    """A U shape: the notch between the arms is inside the bbox but outside the zone."""
    u_shape = [[0, 0], [3, 0], [3, 3], [2, 3], [2, 1], [1, 1], [1, 3], [0, 3], [0, 0]]
    zone = parse_zone("u", polygon(u_shape))
    assert zone.contains(0.5, 2.5)
    assert zone.contains(2.5, 2.5)
    assert not zone.contains(1.5, 2.5)


def test_a_multipolygon_contains_the_points_of_each_part_only() -> None:
    zone = parse_zone("z", TWO_SQUARES)
    assert zone.contains(114.5, 22.5)
    assert zone.contains(120.5, 30.5)
    assert not zone.contains(117.0, 26.0), "inside the bbox of both parts, in neither part"
    assert zone.bbox.as_list() == [114.0, 22.0, 121.0, 31.0]


def test_features_and_collections_become_one_geometry() -> None:
    collection = {
        "type": "FeatureCollection",
        "features": [feature(SQUARE), feature(polygon(square(120.0, 30.0, 1.0)))],
    }
    assert parse_zone("z", collection).geometry() == TWO_SQUARES
    assert parse_zone("z", feature(SQUARE)).geometry() == SQUARE


def test_the_stored_geometry_parses_back_to_the_same_zone() -> None:
    zone = parse_zone("z", WITH_HOLE)
    assert parse_zone("z", zone.geometry()) == zone


def test_three_dimensional_positions_are_accepted() -> None:
    ring = [[*position, 12.0] for position in square(114.0, 22.0, 1.0)]
    assert parse_zone("z", polygon(ring)).contains(114.5, 22.5)


OPEN_RING = [*square(114.0, 22.0, 1.0)[:-1], [114.0, 22.5]]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        pytest.param(polygon(OPEN_RING), "Polygon, ring 1 (exterior): not closed", id="open"),
        pytest.param(
            polygon([[0, 0], [1, 0], [0, 0]]),
            "Polygon, ring 1 (exterior): needs at least 4 positions, got 3",
            id="short",
        ),
        pytest.param(
            polygon([[22.5, 114.0], [22.6, 114.0], [22.6, 114.1], [22.5, 114.0]]),
            "latitude 114.0 is outside -90..90 (positions are [longitude, latitude])",
            id="lat-lon-swapped",
        ),
        pytest.param(
            polygon([[0, 0], [1, 1], [2, 2], [0, 0]]),
            "Polygon, ring 1 (exterior): encloses no area",
            id="flat",
        ),
        pytest.param(
            polygon(square(0, 0, 1), square(5, 5, 1)),
            "Polygon, ring 2 (hole): lies outside the exterior ring",
            id="hole-outside",
        ),
        pytest.param(
            polygon([[0, 0], [1, "0"], [1, 1], [0, 0]]),
            "Polygon, ring 1 (exterior), position 2: expected [longitude, latitude]",
            id="string-coordinate",
        ),
        pytest.param(
            {"type": "MultiPolygon", "coordinates": [[square(0, 0, 1)], [OPEN_RING]]},
            "MultiPolygon, polygon 2, ring 1 (exterior): not closed",
            id="multipolygon-part",
        ),
        pytest.param(
            {"type": "FeatureCollection", "features": [feature(SQUARE), feature(polygon([]))]},
            "feature 2 geometry, ring 1 (exterior): needs at least 4 positions, got 0",
            id="collection-member",
        ),
        pytest.param(
            {"type": "Point", "coordinates": [114.0, 22.0]},
            "type 'Point' is not a zone",
            id="point",
        ),
        pytest.param(feature(None), "Feature: has no geometry", id="feature-without-geometry"),
        pytest.param([1, 2], "expected a GeoJSON object", id="not-an-object"),
    ],
)
def test_bad_geojson_is_refused_saying_where_and_what(document: Any, message: str) -> None:
    with pytest.raises(GeofenceError) as refused:
        parse_zone("z", document)
    assert message in str(refused.value)


@pytest.mark.parametrize("name", ["", "a b", "x" * 65, "../etc"])
def test_zone_names_are_path_safe(name: str) -> None:
    with pytest.raises(GeofenceError, match="zone name"):
        parse_zone(name, SQUARE)


def test_the_index_answers_only_for_the_zones_own_platform() -> None:
    index = GeofenceIndex()
    index.replace([("A1", parse_zone("station", SQUARE)), ("A2", parse_zone("far", TWO_SQUARES))])
    found = index.zone_at("A1", 114.5, 22.5)
    assert found is not None and found.name == "station"
    assert index.zone_at("A1", 120.5, 30.5) is None
    assert index.zone_at("A3", 114.5, 22.5) is None
    index.replace([])
    assert index.zone_at("A1", 114.5, 22.5) is None
