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
