"""Where simulated vehicles ride: a bounding box of a real city."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    name: str
    south: float
    west: float
    north: float
    east: float
    altitude: float
    ambient_c: float = 25.0
    """Air temperature: batteries at rest settle to it."""

    def contains(self, latitude: float, longitude: float) -> bool:
        return self.south <= latitude <= self.north and self.west <= longitude <= self.east


SHENZHEN = City("Shenzhen", 22.550, 114.020, 22.680, 114.200, 12.0)
"""Default: central Shenzhen, around the document's example fix (22.634228, 114.125962)."""


def parse_bbox(text: str) -> City:
    """A city area from `SOUTH,WEST,NORTH,EAST` (degrees); a ValueError says what is wrong."""
    try:
        south, west, north, east = (float(part) for part in text.split(","))
    except ValueError as err:
        example = "22.55,114.02,22.68,114.2"
        raise ValueError(f"use SOUTH,WEST,NORTH,EAST in degrees, e.g. {example}") from err
    if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
        raise ValueError("need -90 <= SOUTH < NORTH <= 90 and -180 <= WEST < EAST <= 180")
    return City("custom", south, west, north, east, altitude=10.0)
