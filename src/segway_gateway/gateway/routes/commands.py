"""Controls and settings: each parses its body and sends one command to the vehicle."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter

from segway_gateway.contract import paths
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
from segway_gateway.gateway.routes import docs
from segway_gateway.gateway.routes.call import Call, api_endpoint

router = APIRouter()


def command_args(body: IotCodeRequest) -> dict[str, Any]:
    """The arguments a request body carries to the vehicle (all but `iotCode`)."""
    return body.model_dump(by_alias=True, exclude_none=True, exclude={"iot_code"})


def _command_handler(
    model: type[IotCodeRequest], name: CommandName
) -> Callable[[Call], Awaitable[None]]:
    async def handle(call: Call) -> None:
        body = await call.body(model)
        entry = await call.vehicle(body.iot_code)
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
