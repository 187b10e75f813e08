"""No-parking zones: GeoJSON polygons, point-in-polygon, and a per-platform index.

No I/O here. A zone is a Polygon or MultiPolygon (RFC 7946): positions are
[longitude, latitude], each ring is closed (first position equals last) with
at least 4 positions, the first ring of a polygon is its exterior and the
others are holes. A point is inside a polygon by the even-odd rule over all
of its rings, so a point in a hole is outside. Winding order is not enforced
(RFC 7946 asks parsers not to), and zones crossing the antimeridian are not
supported.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

ZONE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""What a zone's name may look like (it is a path segment of the admin API)."""

Position = tuple[float, float]
"""(longitude, latitude)"""


class GeofenceError(ValueError):
    """GeoJSON that is not a usable no-parking zone; the message says where and why."""


@dataclass(frozen=True)
class BBox:
    west: float
    south: float
    east: float
    north: float

    @classmethod
    def around(cls, positions: Iterable[Position]) -> BBox:
        lons, lats = zip(*positions, strict=True)
        return cls(min(lons), min(lats), max(lons), max(lats))

    @classmethod
    def union(cls, boxes: Iterable[BBox]) -> BBox:
        boxes = list(boxes)
        return cls(
            min(b.west for b in boxes),
            min(b.south for b in boxes),
            max(b.east for b in boxes),
            max(b.north for b in boxes),
        )

    def contains(self, lon: float, lat: float) -> bool:
        return self.west <= lon <= self.east and self.south <= lat <= self.north

    def covers(self, other: BBox) -> bool:
        return (
            self.west <= other.west
            and self.south <= other.south
            and other.east <= self.east
            and other.north <= self.north
        )

    def as_list(self) -> list[float]:
        """GeoJSON's bbox order: [west, south, east, north]."""
        return [self.west, self.south, self.east, self.north]


@dataclass(frozen=True)
class Polygon:
    """An exterior ring and its holes, each a closed sequence of positions."""

    rings: tuple[tuple[Position, ...], ...]
    bbox: BBox

    def contains(self, lon: float, lat: float) -> bool:
        if not self.bbox.contains(lon, lat):
            return False
        inside = False
        for ring in self.rings:
            for (x1, y1), (x2, y2) in pairwise(ring):
                # Even-odd ray casting: count edges crossing the ray from the point to +lon.
                if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
                    inside = not inside
        return inside

    def coordinates(self) -> list[list[list[float]]]:
        return [[[lon, lat] for lon, lat in ring] for ring in self.rings]


@dataclass(frozen=True)
class Zone:
    """A named no-parking zone of one platform."""

    name: str
    polygons: tuple[Polygon, ...]
    bbox: BBox

    @classmethod
    def of(cls, name: str, polygons: Sequence[Polygon]) -> Zone:
        return cls(name, tuple(polygons), BBox.union(p.bbox for p in polygons))

    def contains(self, lon: float, lat: float) -> bool:
        return self.bbox.contains(lon, lat) and any(p.contains(lon, lat) for p in self.polygons)

    def geometry(self) -> dict[str, Any]:
        """The zone as one GeoJSON geometry (what the store keeps)."""
        if len(self.polygons) == 1:
            return {"type": "Polygon", "coordinates": self.polygons[0].coordinates()}
        return {"type": "MultiPolygon", "coordinates": [p.coordinates() for p in self.polygons]}


def check_name(name: str) -> str:
    if not ZONE_NAME.fullmatch(name):
        raise GeofenceError(f"zone name {name!r}: use 1 to 64 letters, digits, '-' or '_'")
    return name


def parse_zone(name: str, document: Any) -> Zone:
    """A zone from a GeoJSON Polygon, MultiPolygon, or a Feature / FeatureCollection of them."""
    return Zone.of(check_name(name), _polygons_of(document, ""))


def _polygons_of(document: Any, where: str) -> list[Polygon]:
    if not isinstance(document, dict):
        raise GeofenceError(f"{where or 'the document'}: expected a GeoJSON object")
    kind = document.get("type")
    here = where or kind or "the document"
    if kind == "Polygon":
        return [_polygon(_coordinates(document, here), here)]
    if kind == "MultiPolygon":
        parts = _non_empty_list(_coordinates(document, here), f"{here} coordinates")
        return [_polygon(part, f"{here}, polygon {i}") for i, part in enumerate(parts, 1)]
    if kind == "Feature":
        if document.get("geometry") is None:
            raise GeofenceError(f"{here}: has no geometry")
        return _polygons_of(document["geometry"], f"{where}{' ' if where else ''}geometry")
    if kind == "FeatureCollection":
        features = _non_empty_list(document.get("features"), f"{here} features")
        polygons: list[Polygon] = []
        for i, feature in enumerate(features, 1):
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                raise GeofenceError(f"feature {i}: expected a GeoJSON Feature")
            polygons += _polygons_of(feature, f"feature {i}")
        return polygons
    raise GeofenceError(
        f"{here}: type {kind!r} is not a zone: use Polygon, MultiPolygon,"
        " or a Feature or FeatureCollection of them"
    )


def _coordinates(geometry: dict[str, Any], where: str) -> Any:
    if "coordinates" not in geometry:
        raise GeofenceError(f"{where}: has no coordinates")
    return geometry["coordinates"]


def _non_empty_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise GeofenceError(f"{what}: expected a non-empty list")
    return value


def _polygon(rings: Any, where: str) -> Polygon:
    parsed = [
        _ring(ring, f"{where}, ring {i} ({'exterior' if i == 1 else 'hole'})")
        for i, ring in enumerate(_non_empty_list(rings, f"{where} rings"), 1)
    ]
    exterior = BBox.around(parsed[0])
    for i, hole in enumerate(parsed[1:], 2):
        if not exterior.covers(BBox.around(hole)):
            raise GeofenceError(f"{where}, ring {i} (hole): lies outside the exterior ring")
    return Polygon(tuple(parsed), exterior)


def _ring(ring: Any, where: str) -> tuple[Position, ...]:
    if not isinstance(ring, list) or len(ring) < 4:
        got = f"{len(ring)} positions" if isinstance(ring, list) else "no list of positions"
        raise GeofenceError(f"{where}: needs at least 4 positions, got {got}")
    positions = tuple(_position(p, f"{where}, position {i}") for i, p in enumerate(ring, 1))
    if positions[0] != positions[-1]:
        first, last = list(positions[0]), list(positions[-1])
        raise GeofenceError(f"{where}: not closed: first position {first} is not last {last}")
    if _doubled_area(positions) == 0:
        raise GeofenceError(f"{where}: encloses no area")
    return positions


def _position(position: Any, where: str) -> Position:
    if (
        not isinstance(position, list)
        or len(position) not in (2, 3)
        or not all(_is_number(v) for v in position)
    ):
        raise GeofenceError(f"{where}: expected [longitude, latitude], got {position!r}")
    lon, lat = float(position[0]), float(position[1])
    if not -180 <= lon <= 180:
        raise GeofenceError(f"{where}: longitude {lon} is outside -180..180")
    if not -90 <= lat <= 90:
        raise GeofenceError(
            f"{where}: latitude {lat} is outside -90..90 (positions are [longitude, latitude])"
        )
    return lon, lat


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _doubled_area(ring: Sequence[Position]) -> float:
    """The shoelace sum: twice the signed area of a closed ring."""
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in pairwise(ring))


class GeofenceIndex:
    """Every platform's zones, replaced as a whole when the stored zones change."""

    def __init__(self) -> None:
        self._zones: dict[str, tuple[Zone, ...]] = {}

    def replace(self, zones: Iterable[tuple[str, Zone]]) -> None:
        """Take (platform code, zone) pairs as the complete new set."""
        by_platform: dict[str, list[Zone]] = {}
        for platform_code, zone in zones:
            by_platform.setdefault(platform_code, []).append(zone)
        self._zones = {code: tuple(found) for code, found in by_platform.items()}

    def zone_at(self, platform_code: str, lon: float, lat: float) -> Zone | None:
        """The first of this platform's zones that contains the point, if any."""
        for zone in self._zones.get(platform_code, ()):
            if zone.contains(lon, lat):
                return zone
        return None
