"""Endpoint paths of the API document, including the aliases NOTES.md adds."""

from __future__ import annotations

TOKEN = "/oauth/token"

STATUS = "/api/v2/vehicle/query/current/status"
STATUS_MEBIKE = "/api/v2/mebike/query/current/status"
LOCATION = "/api/v2/vehicle/query/current/location"
BATTERY_INFO = "/api/v2/mopeds/query/current/battery-info"
BATTERY_INFO_VEHICLE = "/api/v2/vehicle/query/current/battery-info"
BLUETOOTH_KEY = "/api/v2/vehicle/query/current/bluetooth-key"

UNLOCK = "/api/v2/vehicle/control/unlock"
LOCK = "/api/v2/vehicle/control/lock"
BATTERY_COVER = "/api/v2/vehicle/control/battery-cover"
SOUND = "/api/v2/vehicle/control/sound"

SWITCH_SETTING = "/api/v2/mopeds/setting/switch"
ABLE_SWITCH_SETTING = "/api/v2/mopeds/setting/able-switch"
AMBIENT_SETTING = "/api/v2/vehicle/setting/ambient"
SOUND_SETTING = "/api/v2/vehicle/setting/sound"
BLUETOOTH_KEY_SETTING = "/api/v2/vehicle/setting/bluetooth-key"
INTERVAL_SETTING = "/api/v2/vehicle/setting/interval"

# Compatibility: beyond the document, called by public client code (docs/compatibility.md)
VERSION = "/api/vehicle/query/version"
VERSION_V2 = "/api/v2/vehicle/query/version"
SPEED_MODE_SETTING = "/api/v2/vehicle/setting/speed-mode"
SCOOTER_SETTING = "/api/v2/vehicle/setting/scooter"
LIGHT = "/api/v2/vehicle/control/light"
HEADLIGHT = "/api/v2/vehicle/control/headlight"
POWER = "/api/v2/vehicle/control/power-on-off"
BATTERY_COVER_LEGACY = "/api/vehicle/control/battery/cover"
"""The older path of the battery cover (`BATTERY_COVER`)."""
