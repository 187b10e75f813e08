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
    SoundControlRequest,
    SoundSettingRequest,
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

_DONE = docs.envelope_of("CommandEnvelope", None)

for _path, _model, _name, _tag, _summary in _COMMANDS:
    router.add_api_route(
        _path,
        api_endpoint(_command_handler(_model, _name)),
        methods=["POST"],
        tags=[_tag],
        summary=_summary,
        responses=_DONE,
        openapi_extra={**docs.json_body(_model), **docs.BEARER},
        operation_id=_name.value.replace("-", "_"),
    )
