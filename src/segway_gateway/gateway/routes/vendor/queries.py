"""Queries: status, location, battery-info, bluetooth-key; and the version query, beyond
the document (docs/compatibility.md)."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import APIRouter
from pydantic import BaseModel, Field, ValidationError

from segway_gateway.contract import paths
from segway_gateway.contract.codes import Code
from segway_gateway.contract.device import CommandName, DeviceLocation
from segway_gateway.contract.envelope import LOWER_SUCCESS_MSG
from segway_gateway.contract.models import (
    BatteryInfoData,
    BatteryPack,
    BluetoothKeyData,
    LocationData,
    StatusData,
    VersionData,
)
from segway_gateway.gateway.errors import ApiError
from segway_gateway.gateway.fleet import VehicleEntry
from segway_gateway.gateway.routes.vendor import docs
from segway_gateway.gateway.routes.vendor.call import Call, api_endpoint

router = APIRouter()

_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})


def _wire(answer: BaseModel) -> dict[str, Any]:
    """An answer's `data` as it travels: every field under its document name(s)."""
    return answer.model_dump(by_alias=True, mode="json")


async def _reported_status(call: Call, entry: VehicleEntry) -> dict[str, Any]:
    """The last status the vehicle reported (as the store holds it), or 15301."""
    reported = (await call.state(entry)).status
    if reported is None:
        raise ApiError(Code.DEVICE_OFFLINE, "the vehicle never reported")
    return reported


async def status(call: Call) -> dict[str, Any]:
    entry = await call.vehicle(call.query_iot_code())
    reported = await _reported_status(call, entry)
    answer = {**reported, "iotCode": entry.iot_code, "online": entry.online}
    return _wire(StatusData.model_validate(answer))


def _real_time(raw: str | None) -> bool:
    value = (raw or "false").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ApiError(Code.PARAMETER_ERROR, "realTimeLocation must be true, false, 1 or 0")


async def location(call: Call) -> dict[str, Any]:
    iot_code = call.query_iot_code()
    real_time = _real_time(call.request.query_params.get("realTimeLocation"))
    entry = await call.vehicle(iot_code)
    if real_time:
        reply = await call.command(entry, CommandName.LOCATE)
        fix = _reply_as(DeviceLocation, reply.data)
        if fix.location_status != "valid":
            raise ApiError(Code.NO_LOCATION, "the vehicle has no valid fix")
        call.gateway.fleet.on_location(entry.iot_code, fix)
        reported = fix.model_dump(by_alias=True)
    else:
        stored = (await call.state(entry)).location
        if stored is None:
            raise ApiError(Code.NO_LOCATION)
        reported = stored
    return _wire(LocationData.model_validate({**reported, "iotCode": entry.iot_code}))


async def battery_info(call: Call) -> dict[str, Any]:
    entry = await call.vehicle(call.query_iot_code())
    reported = await _reported_status(call, entry)
    answer = BatteryInfoData(
        iot_code=entry.iot_code,
        charging=reported["charging"],
        vehicle_percent=reported["powerPercent"],
        battery_count=len(reported["batteryData"]),
        driving_voltage=reported["drivingVoltage"],
        current_power=reported["currentPower"],
        iot_percent=reported["iotPercent"],
        iot_voltage=reported["iotVoltage"],
        battery_data=reported["batteryData"],
    )
    return _wire(answer)


async def bluetooth_key(call: Call) -> dict[str, Any]:
    entry = await call.vehicle(call.query_iot_code())
    reply = await call.command(entry, CommandName.GET_BLUETOOTH_KEY)
    key = _reply_as(_KeyReply, reply.data).key
    return _wire(BluetoothKeyData(iot_code=entry.iot_code, key=key))


class _KeyReply(BaseModel):
    key: str


async def version(call: Call) -> dict[str, Any]:
    """Asks the vehicle for its firmware versions (a device round trip: 15301, 15302,
    15303, and 15500 while it upgrades)."""
    entry = await call.vehicle(call.query_iot_code())
    reply = await call.command(entry, CommandName.GET_VERSION)
    versions = _reply_as(_VersionReply, reply.data)
    return _wire(VersionData(iot_code=entry.iot_code, **versions.model_dump()))


class _VersionReply(BaseModel):
    iot_version: str = Field(alias="iotVersion", min_length=1)
    ecu_version: str | None = Field(default=None, alias="ecuVersion")
    bms_version: str | None = Field(default=None, alias="bmsVersion")


Parsed = TypeVar("Parsed", bound=BaseModel)


def _reply_as(model: type[Parsed], data: dict[str, Any] | None) -> Parsed:
    """A vehicle's reply data as `model`; a malformed reply is the gateway's 15001."""
    try:
        return model.model_validate(data or {})
    except ValidationError as err:
        raise ApiError(Code.SERVER_ERROR, f"malformed vehicle reply: {err}") from err


_STATUS_EXAMPLE = _wire(
    StatusData(
        iot_code="861477038719116",
        online=True,
        locked=True,
        lock_voltage=342,
        network_signal=22,
        charging=True,
        power_percent=10,
        speed_mode=1,
        speed=20,
        odometer=9000,
        remaining_range=3000,
        total_riding_secs=110,
        status_utc_time=1591067719,
    )
)
_LOCATION_EXAMPLE = _wire(
    LocationData(
        iot_code="861477038719116",
        latitude=22.634228,
        longitude=114.125962,
        satellite_number=6,
        hdop=1.38,
        altitude=10.1,
        gps_utc_time=1591067719,
    )
)
_BATTERY_EXAMPLE = _wire(
    BatteryInfoData(
        iot_code="861477038719116",
        charging=True,
        vehicle_percent=80,
        battery_count=1,
        driving_voltage=80,
        current_power=260,
        iot_percent=100,
        iot_voltage=412,
        battery_data=[
            BatteryPack(
                battery_port=1,
                battery_percent=52,
                battery_voltage=48,
                cycle_times=23,
                temperatrue=25,
            )
        ],
    )
)
_KEY_EXAMPLE = _wire(BluetoothKeyData(iot_code="861477038719116", key="abcd1234"))
_IOT_ONLY = docs.query(docs.IOT_CODE_PARAM)

for path in (paths.STATUS, paths.STATUS_MEBIKE):
    router.add_api_route(
        path,
        api_endpoint(status),
        methods=["GET"],
        tags=["Query"],
        summary="Current status",
        description="The vehicle's latest reported status; `online` is the live session.",
        responses=docs.envelope_of("StatusEnvelope", StatusData, _STATUS_EXAMPLE),
        openapi_extra={**_IOT_ONLY, **docs.BEARER},
        operation_id=f"status{'Mebike' if 'mebike' in path else ''}",
    )

router.add_api_route(
    paths.LOCATION,
    api_endpoint(location, LOWER_SUCCESS_MSG),
    methods=["GET"],
    tags=["Query"],
    summary="Current location",
    description="The latest fix; `realTimeLocation=true` asks the vehicle for a fresh one.",
    responses=docs.envelope_of("LocationEnvelope", LocationData, _LOCATION_EXAMPLE, "success"),
    openapi_extra={
        **docs.query(
            docs.IOT_CODE_PARAM,
            (
                "realTimeLocation",
                "true or 1 asks the vehicle for a fresh fix",
                False,
                {"type": "string", "enum": ["true", "false", "1", "0"]},
            ),
        ),
        **docs.BEARER,
    },
    operation_id="location",
)

for path in (paths.BATTERY_INFO, paths.BATTERY_INFO_VEHICLE):
    router.add_api_route(
        path,
        api_endpoint(battery_info, LOWER_SUCCESS_MSG, res_id=True),
        methods=["GET"],
        tags=["Query"],
        summary="Battery info",
        description="The envelope carries the op id as both `opId` and `resId`.",
        responses=docs.envelope_of(
            "BatteryInfoEnvelope", BatteryInfoData, _BATTERY_EXAMPLE, "success", res_id=True
        ),
        openapi_extra={**_IOT_ONLY, **docs.BEARER},
        operation_id=f"batteryInfo{'Vehicle' if 'vehicle' in path else ''}",
    )

router.add_api_route(
    paths.BLUETOOTH_KEY,
    api_endpoint(bluetooth_key, LOWER_SUCCESS_MSG),
    methods=["GET"],
    tags=["Query"],
    summary="Bluetooth key",
    description="Asks the vehicle for its current bluetooth key.",
    responses=docs.envelope_of(
        "BluetoothKeyEnvelope",
        BluetoothKeyData,
        _KEY_EXAMPLE,
        "success",
    ),
    openapi_extra={**_IOT_ONLY, **docs.BEARER},
    operation_id="bluetoothKey",
)

_VERSION_EXAMPLE = _wire(
    VersionData(
        iot_code="861477038719116",
        iot_version="2.3.5",
        ecu_version="1.6.2",
        bms_version="1.1.8",
    )
)
for path in (paths.VERSION, paths.VERSION_V2):
    router.add_api_route(
        path,
        api_endpoint(version),
        methods=["GET"],
        tags=["compatibility"],
        summary="Firmware versions (beyond the document)",
        description="Asks the vehicle for its firmware versions: IoT module, motor controller "
        "(ECU), battery management system (BMS). 15500 while the firmware upgrades. "
        "`vehicleCode` is accepted and ignored.",
        responses=docs.envelope_of("VersionEnvelope", VersionData, _VERSION_EXAMPLE),
        openapi_extra={**_IOT_ONLY, **docs.BEARER},
        operation_id=f"version{'V2' if '/v2/' in path else ''}",
    )
