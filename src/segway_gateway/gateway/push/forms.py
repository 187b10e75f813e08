"""The four pushes of the API document, built from what a vehicle reported."""

from __future__ import annotations

import uuid

from segway_gateway.contract.device import DeviceEvent, DeviceLocation, DeviceStatus
from segway_gateway.contract.pushes import AlertPush, FaultPush, LocationPush, PushEvent, StatusPush
from segway_gateway.gateway.store.outbox import NewPush


def status_push(
    iot_code: str, platform_code: str, online: bool, status: DeviceStatus
) -> StatusPush:
    return StatusPush(
        iot_code=iot_code,
        platform_code=platform_code,
        event_id=str(uuid.uuid4()),
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
        event_id=str(uuid.uuid4()),
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
        "event_id": str(uuid.uuid4()),
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
