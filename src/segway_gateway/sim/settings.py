"""What the simulated vehicle reads from its settings, with the defaults it assumes.

The settings document is what the setting commands merged (contract/device.py):
groups `switch`, `ableSwitch`, `ambient`, `sound`, `interval` and `scooter` (beyond the
document: the speed limits) in the API's field names. docs/simulation.md says what each
setting does.
"""

from __future__ import annotations

from typing import Any

DEFAULT_ALERT_SENSITIVITY = 2
DEFAULT_LOW_POWER_VALUE = 10
"""The document's default."""
DEFAULT_VOLUME = 2
_ON, _OFF = 2, 1
"""Able-switch and `workMode` values (0 is "no setting" and is never stored)."""
_MASK_DISABLED = 0

MOVE_THRESHOLD_G = {1: 0.6, 2: 0.35, 3: 0.15}
"""Per alert sensitivity: the smallest bump that counts as moving a locked vehicle."""
FALL_THRESHOLD_G = {1: 2.0, 2: 1.5, 3: 1.0}
"""Per alert sensitivity: the smallest bump that counts as a fall."""

Settings = dict[str, Any]


def _group(settings: Settings, name: str) -> dict[str, Any]:
    group: dict[str, Any] = settings.get(name) or {}
    return group


def alert_sensitivity(settings: Settings) -> int:
    return int(_group(settings, "switch").get("alertSensitivity", DEFAULT_ALERT_SENSITIVITY))


def low_power_value(settings: Settings) -> int:
    return int(_group(settings, "switch").get("lowPowerValue", DEFAULT_LOW_POWER_VALUE))


def low_power_switch_on(settings: Settings) -> bool:
    """On unless switched off (the vehicle reports low power out of the box)."""
    return bool(_group(settings, "ableSwitch").get("lowPowerSwitch", _ON) != _OFF)


def sound_on(settings: Settings) -> bool:
    return bool(_group(settings, "sound").get("workMode", _ON) != _OFF)


def volume(settings: Settings) -> int:
    return int(_group(settings, "sound").get("volume", DEFAULT_VOLUME))


def mask_allows(settings: Settings, sound: str) -> bool:
    """Whether the `ebcqMask` member `sound` is enabled (members are enabled by default)."""
    mask: dict[str, Any] = _group(settings, "sound").get("ebcqMask") or {}
    return mask.get(sound) != _MASK_DISABLED


def lamp(settings: Settings, effect: str) -> tuple[int, int] | None:
    """(color, brightness) of the atmosphere lamp in `effect` (e.g. `parkingMode`), or None
    when that effect is off or was never set."""
    ambient = _group(settings, "ambient")
    chosen: dict[str, Any] = ambient.get(effect) or {}
    if chosen.get("mode") != _ON or "color" not in chosen:
        return None
    return int(chosen["color"]), int(ambient.get("bright", 1))


def intervals(settings: Settings, name: str) -> dict[str, int]:
    """The members of `locationInterval` or `statusInterval` that were set."""
    chosen: dict[str, int] = _group(settings, "interval").get(name) or {}
    return chosen


SPEED_LIMIT_FIELDS = {1: "lowSpeedLimit", 2: "mediumSpeedLimit", 3: "highSpeedLimit"}
"""Per speed mode: the member of the `scooter` group that limits its speed (km/h)."""


def speed_limit(settings: Settings, speed_mode: int) -> int | None:
    """The speed limit (km/h) set for a speed mode, or None when none was set."""
    limit = _group(settings, "scooter").get(SPEED_LIMIT_FIELDS[speed_mode])
    return None if limit is None else int(limit)
