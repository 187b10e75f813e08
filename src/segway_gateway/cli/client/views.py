"""What the table shows of each call's answer (`--json` shows all of it)."""

from __future__ import annotations

from datetime import UTC, datetime

from segway_gateway.cli.client.output import View, error_text
from segway_gateway.contract.envelope import Envelope
from segway_gateway.contract.models import (
    BatteryInfoData,
    BluetoothKeyData,
    LocationData,
    StatusData,
    VersionData,
)


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _km(value: float) -> str:
    return f"{value:.1f} km"


def _utc(epoch_seconds: int) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


STATUS = View[StatusData](
    ("online", "locked", "power", "range", "speed", "odometer"),
    lambda s: (
        _yes_no(s.online),
        _yes_no(s.locked),
        f"{s.power_percent}%",
        _km(s.remaining_range / 100),  # unit 10 m
        str(s.speed),
        _km(s.odometer / 1000),  # unit 1 m
    ),
)
LOCATION = View[LocationData](
    ("lat", "lon", "sats", "hdop", "gpsUtcTime"),
    lambda f: (
        f"{f.latitude:.6f}",
        f"{f.longitude:.6f}",
        str(f.satellite_number),
        str(f.hdop),
        _utc(f.gps_utc_time),
    ),
)
BATTERY = View[BatteryInfoData](
    ("percent", "packs"),
    lambda b: (
        f"{b.vehicle_percent}%",
        " ".join(f"{p.battery_port}:{p.battery_percent}%" for p in b.battery_data) or "-",
    ),
)
BLUETOOTH_KEY = View[BluetoothKeyData](("key",), lambda k: (k.key,))
VERSION = View[VersionData](
    ("iotVersion", "ecuVersion", "bmsVersion"),
    lambda v: (v.iot_version, v.ecu_version or "-", v.bms_version or "-"),
)
COMMAND = View[Envelope](
    ("result", "opId"),
    lambda envelope: ("ok", envelope.op_id),
    lambda err: (error_text(err), err.op_id or "-"),
)
"""Controls and settings: ok, or the error, and the opId either way."""
