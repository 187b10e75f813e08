"""The four pushes of the API document, built from what a vehicle reported.

A push's eventId is derived from the report it carries: the same report (kind,
iotCode and every field the vehicle reported) always gets the same eventId, which the
outbox stores uniquely, so a report replayed by the broker, resent by the vehicle or
taken by two instances is pushed once.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from pydantic import BaseModel

from segway_gateway.contract.device import DeviceEvent, DeviceLocation, DeviceStatus
from segway_gateway.contract.pushes import AlertPush, FaultPush, LocationPush, PushEvent, StatusPush
from segway_gateway.gateway.store.outbox import NewPush

EVENT_IDS = uuid.UUID("5e9a7c1e-8d2b-4f0a-9c61-3b7d2f4e8a10")
"""The namespace of derived eventIds (UUID version 5)."""


def event_id_of(kind: str, iot_code: str, report: BaseModel) -> str:
    """The eventId of the push of this report: a function of what the vehicle said."""
    fields: dict[str, Any] = report.model_dump(by_alias=True, mode="json")
    canonical = json.dumps([kind, iot_code, fields], sort_keys=True, separators=(",", ":"))
    return str(uuid.uuid5(EVENT_IDS, canonical))


def status_push(
    iot_code: str, platform_code: str, online: bool, status: DeviceStatus
) -> StatusPush:
    return StatusPush(
        iot_code=iot_code,
        platform_code=platform_code,
        event_id=event_id_of("status", iot_code, status),
        online=online,
        locked=status.locked,
        lock_voltage=status.lock_voltage,
        network_signal=status.network_signal,
        charging=status.charging,
        power_percent=status.power_percent,
        speed=status.speed,
        odometer=status.odometer,
        remaining_range=status.remaining_range,
        total_riding_secs=status.total_riding_secs,
        status_utc_time=status.status_utc_time,
    )


def location_push(iot_code: str, platform_code: str, location: DeviceLocation) -> LocationPush:
    return LocationPush(
        iot_code=iot_code,
        platform_code=platform_code,
        event_id=event_id_of("location", iot_code, location),
        location_status=location.location_status,
        latitude=location.latitude,
        longitude=location.longitude,
        satellite_number=location.satellite_number,
        hdop=location.hdop,
        altitude=location.altitude,
        gps_utc_time=location.gps_utc_time,
    )


def event_push(iot_code: str, platform_code: str, event: DeviceEvent) -> AlertPush | FaultPush:
    common = {
        "iot_code": iot_code,
        "platform_code": platform_code,
        "event_id": event_id_of(event.kind, iot_code, event),
        "status_utc_time": event.status_utc_time,
        "code": event.code,
    }
    if event.kind == "alert":
        return AlertPush(**common, alert_status=event.status)
    return FaultPush(**common, fault_status=event.status)


def outgoing(push: PushEvent, created_at: float) -> NewPush:
    """A push as the outbox keeps it (accepted at `created_at`, epoch seconds): its form,
    without the signature (added when sent)."""
    assert push.event_id is not None
    return NewPush(
        push.event_id, push.platform_code, push.kind, push.to_form(), int(created_at * 1000)
    )
