"""A vehicle as the console shows it: one line of the fleet list, one marker on the map,
one message of the live feed; made from what the store holds and the link's presence."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from segway_gateway.gateway.fleet import FleetService
from segway_gateway.gateway.store.vehicles import Vehicle


@dataclass(frozen=True)
class Summary:
    iot_code: str
    platform: str
    active: bool
    link: str
    """online or offline"""
    lock: str
    """locked, unlocked, or - before the first status"""
    riding: str
    """riding or parked"""
    battery: int | None
    range_m: int | None
    speed: int | None
    reported_ms: int | None
    """When the vehicle made its last status (its clock, epoch ms)."""
    lat: float | None
    lng: float | None

    @property
    def fix(self) -> tuple[float, float] | None:
        """(lat, lng) of the last fix, if there is one."""
        return None if self.lat is None or self.lng is None else (self.lat, self.lng)

    @property
    def state(self) -> str:
        """The one word the map colours a marker by."""
        if self.link == "offline":
            return "offline"
        if self.riding == "riding":
            return "riding"
        return "unknown" if self.lock == "-" else self.lock

    def marker(self) -> dict[str, Any]:
        """What the map needs to place it (the fleet page embeds this for every vehicle)."""
        return {"iot_code": self.iot_code, "lat": self.lat, "lng": self.lng, "state": self.state}

    def wire(self) -> dict[str, Any]:
        """As the live feed sends it (and the page embeds it for the map)."""
        return {**asdict(self), "state": self.state}


def summarize(fleet: FleetService, vehicle: Vehicle) -> Summary:
    return summary_of(
        fleet,
        vehicle.iot_code,
        vehicle.platform_code,
        vehicle.active,
        vehicle.status,
        vehicle.location,
    )


def summary_of(
    fleet: FleetService,
    iot_code: str,
    platform: str,
    active: bool,
    status: dict[str, Any] | None,
    location: dict[str, Any] | None,
) -> Summary:
    """The summary of what the store holds of one vehicle."""
    entry = fleet.entry(iot_code)
    status = status or {}
    fix = location or {}
    reported = status.get("reportedAt") or 1000 * status.get("statusUtcTime", 0)
    return Summary(
        iot_code=iot_code,
        platform=platform,
        active=active,
        link="online" if entry is not None and entry.online else "offline",
        lock=("locked" if status["locked"] else "unlocked") if "locked" in status else "-",
        riding="riding" if status.get("speed") else "parked",
        battery=status.get("powerPercent"),
        range_m=status.get("remainingRange"),
        speed=status.get("speed"),
        reported_ms=int(reported) if reported else None,
        lat=fix.get("latitude"),
        lng=fix.get("longitude"),
    )
