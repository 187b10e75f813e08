"""Controls and settings: each parses its body and sends one command to the vehicle."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter

from segway_gateway.contract import paths
from segway_gateway.contract.codes import Code
from segway_gateway.contract.device import CommandName
from segway_gateway.contract.models import (
    AbleSwitchRequest,
    AmbientSettingRequest,
    BluetoothKeyRequest,
    IntervalSettingRequest,
    IotCodeRequest,
    LightControlRequest,
    OnOffControlRequest,
    ScooterSettingRequest,
    SoundControlRequest,
    SoundSettingRequest,
    SpeedModeRequest,
    SwitchSettingRequest,
)
from segway_gateway.gateway.errors import ApiError
from segway_gateway.gateway.fleet import VehicleEntry
from segway_gateway.gateway.routes.vendor import docs
from segway_gateway.gateway.routes.vendor.call import Call, api_endpoint

router = APIRouter()


def command_args(body: IotCodeRequest) -> dict[str, Any]:
    """The arguments a request body carries to the vehicle (all but `iotCode`)."""
    return body.model_dump(by_alias=True, exclude_none=True, exclude={"iot_code"})


async def refuse_lock_in_zone(call: Call, entry: VehicleEntry) -> None:
    """15996 if the vehicle's last known fix lies in one of its platform's no-parking zones.

    A vehicle that never reported a fix is not refused: nothing says where it is.
    """
    fix = (await call.state(entry)).location
    if fix is None:
        return
    zone = call.gateway.geofences.zone_at(entry.platform_code, fix["longitude"], fix["latitude"])
    if zone is not None:
        raise ApiError(Code.LOCK_GEOFENCE, f"{entry.iot_code} is in no-parking zone {zone.name}")


_CHECKS: dict[CommandName, Callable[[Call, VehicleEntry], Awaitable[None]]] = {
    CommandName.LOCK: refuse_lock_in_zone,
}
"""What the gateway itself refuses before a command is sent to the vehicle."""


def _command_handler(
    model: type[IotCodeRequest], name: CommandName
) -> Callable[[Call], Awaitable[None]]:
    check = _CHECKS.get(name)

    async def handle(call: Call) -> None:
        body = await call.body(model)
        entry = await call.vehicle(body.iot_code)
        if check is not None:
            await check(call, entry)
        await call.command(entry, name, command_args(body))

    return handle


_COMMANDS: list[tuple[str, type[IotCodeRequest], CommandName, str, str]] = [
    (paths.UNLOCK, IotCodeRequest, CommandName.UNLOCK, "Control", "Unlock"),
    (paths.LOCK, IotCodeRequest, CommandName.LOCK, "Control", "Lock"),
    (
        paths.BATTERY_COVER,
        IotCodeRequest,
        CommandName.BATTERY_COVER,
        "Control",
        "Open the battery cover (only while unlocked)",
    ),
    (paths.SOUND, SoundControlRequest, CommandName.SOUND, "Control", "Sound (2 finds the vehicle)"),
    (
        paths.SWITCH_SETTING,
        SwitchSettingRequest,
        CommandName.SET_SWITCH,
        "Setting",
        "Switch setting",
    ),
    (
        paths.ABLE_SWITCH_SETTING,
        AbleSwitchRequest,
        CommandName.SET_ABLE_SWITCH,
        "Setting",
        "Switch enable",
    ),
    (
        paths.AMBIENT_SETTING,
        AmbientSettingRequest,
        CommandName.SET_AMBIENT,
        "Setting",
        "Atmosphere lamp setting",
    ),
    (paths.SOUND_SETTING, SoundSettingRequest, CommandName.SET_SOUND, "Setting", "Sound setting"),
    (
        paths.BLUETOOTH_KEY_SETTING,
        BluetoothKeyRequest,
        CommandName.SET_BLUETOOTH_KEY,
        "Setting",
        "Bluetooth key setting",
    ),
    (
        paths.INTERVAL_SETTING,
        IntervalSettingRequest,
        CommandName.SET_INTERVAL,
        "Setting",
        "Upload interval setting",
    ),
]

COMPATIBILITY = "compatibility"
"""The OpenAPI tag of the endpoints beyond the document (docs/compatibility.md)."""

_COMPATIBLE: list[tuple[str, type[IotCodeRequest], CommandName, str, str]] = [
    (
        paths.SPEED_MODE_SETTING,
        SpeedModeRequest,
        CommandName.SET_SPEED_MODE,
        "Speed mode (1 low, 2 medium, 3 high; status `speedMode` shows it)",
        "set_speed_mode",
    ),
    (
        paths.SCOOTER_SETTING,
        ScooterSettingRequest,
        CommandName.SET_SCOOTER,
        "Speed limit of each speed mode (km/h) and the speed mode button",
        "set_scooter",
    ),
    (
        paths.LIGHT,
        LightControlRequest,
        CommandName.LIGHT,
        "Head and tail light on (1) or off (0)",
        "light",
    ),
    (
        paths.HEADLIGHT,
        OnOffControlRequest,
        CommandName.HEADLIGHT,
        "Headlight on (controlType 1) or off (0)",
        "headlight",
    ),
    (
        paths.POWER,
        OnOffControlRequest,
        CommandName.POWER,
        "Power on (controlType 1) or off (0); a powered-off vehicle refuses to unlock",
        "power_on_off",
    ),
    (
        paths.BATTERY_COVER_LEGACY,
        IotCodeRequest,
        CommandName.BATTERY_COVER,
        "Open the battery cover: the older path of /api/v2/vehicle/control/battery-cover",
        "battery_cover_legacy",
    ),
]
"""Commands beyond the document that public client code sends: path, body, command,
summary, operation id."""

_DONE = docs.envelope_of("CommandEnvelope", None)

ROUTES = [
    (path, model, name, tag, summary, name.value.replace("-", "_"))
    for path, model, name, tag, summary in _COMMANDS
] + [
    (path, model, name, COMPATIBILITY, summary, op_id)
    for path, model, name, summary, op_id in _COMPATIBLE
]
"""Every command route: path, body, command, tag, summary, operation id (the console
offers each as a form)."""

for _path, _model, _name, _tag, _summary, _op_id in ROUTES:
    router.add_api_route(
        _path,
        api_endpoint(_command_handler(_model, _name)),
        methods=["POST"],
        tags=[_tag],
        summary=_summary,
        responses=_DONE,
        openapi_extra={**docs.json_body(_model), **docs.BEARER},
        operation_id=_op_id,
    )
