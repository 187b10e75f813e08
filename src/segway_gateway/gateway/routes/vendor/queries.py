"""Queries: status, location, battery-info, bluetooth-key."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import APIRouter
from pydantic import BaseModel, ValidationError

from segway_gateway.contract import paths
from segway_gateway.contract.codes import Code
from segway_gateway.contract.device import CommandName, DeviceLocation
from segway_gateway.contract.envelope import LOWER_SUCCESS_MSG
from segway_gateway.contract.models import (
    BatteryInfoData,
    BluetoothKeyData,
    LocationData,
    StatusData,
)
from segway_gateway.gateway.errors import ApiError
from segway_gateway.gateway.fleet import VehicleEntry
from segway_gateway.gateway.routes.vendor import docs
from segway_gateway.gateway.routes.vendor.call import Call, api_endpoint

router = APIRouter(tags=["Query"])

_STATUS_FIELDS = (
    "locked",
    "lockVoltage",
    "networkSignal",
    "charging",
    "powerPercent",
    "speedMode",
    "speed",
    "odometer",
    "remainingRange",
)
_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})


def _reported_status(entry: VehicleEntry) -> dict[str, Any]:
    if entry.status is None:
        raise ApiError(Code.DEVICE_OFFLINE, "the vehicle never reported")
    return entry.status


async def status(call: Call) -> dict[str, Any]:
    entry = await call.vehicle(call.query_iot_code())
    reported = _reported_status(entry)
    data: dict[str, Any] = {"iotCode": entry.iot_code, "online": entry.online}
    data.update((name, reported[name]) for name in _STATUS_FIELDS)
    data["remainderRange"] = reported["remainingRange"]
    data["totalRidingSecs"] = reported["totalRidingSecs"]
    data["statusUtcTime"] = reported["statusUtcTime"]
    return data


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
    elif entry.location is None:
        raise ApiError(Code.NO_LOCATION)
    else:
        reported = entry.location
    return {
        "iotCode": entry.iot_code,
        "latitude": reported["latitude"],
        "longitude": reported["longitude"],
        "satelliteNumber": reported["satelliteNumber"],
        "hdop": reported["hdop"],
        "altitude": reported["altitude"],
        "gpsUtcTime": reported["gpsUtcTime"],
        "gpsUTCTime": reported["gpsUtcTime"],
    }


async def battery_info(call: Call) -> dict[str, Any]:
    entry = await call.vehicle(call.query_iot_code())
    reported = _reported_status(entry)
    return {
        "iotCode": entry.iot_code,
        "charging": reported["charging"],
        "vehiclePercent": reported["powerPercent"],
        "batteryCount": len(reported["batteryData"]),
        "drivingVoltage": reported["drivingVoltage"],
        "currentPower": reported["currentPower"],
        "iotPercent": reported["iotPercent"],
        "iotVoltage": reported["iotVoltage"],
        "batteryData": reported["batteryData"],
    }


async def bluetooth_key(call: Call) -> dict[str, Any]:
    entry = await call.vehicle(call.query_iot_code())
    reply = await call.command(entry, CommandName.GET_BLUETOOTH_KEY)
    return {"iotCode": entry.iot_code, "key": _reply_as(_KeyReply, reply.data).key}


class _KeyReply(BaseModel):
    key: str


Parsed = TypeVar("Parsed", bound=BaseModel)


def _reply_as(model: type[Parsed], data: dict[str, Any] | None) -> Parsed:
    """A vehicle's reply data as `model`; a malformed reply is the gateway's 15001."""
    try:
        return model.model_validate(data or {})
    except ValidationError as err:
        raise ApiError(Code.SERVER_ERROR, f"malformed vehicle reply: {err}") from err


_STATUS_EXAMPLE = {
    "iotCode": "861477038719116",
    "online": True,
    "locked": True,
    "lockVoltage": 342,
    "networkSignal": 22,
    "charging": True,
    "powerPercent": 10,
    "speedMode": 1,
    "speed": 20,
    "odometer": 9000,
    "remainingRange": 3000,
    "remainderRange": 3000,
    "totalRidingSecs": 110,
    "statusUtcTime": 1591067719,
}
_LOCATION_EXAMPLE = {
    "iotCode": "861477038719116",
    "latitude": 22.634228,
    "longitude": 114.125962,
    "satelliteNumber": 6,
    "hdop": 1.38,
    "altitude": 10.1,
    "gpsUtcTime": 1591067719,
    "gpsUTCTime": 1591067719,
}
_BATTERY_EXAMPLE = {
    "iotCode": "861477038719116",
    "charging": True,
    "vehiclePercent": 80,
    "batteryCount": 1,
    "drivingVoltage": 80,
    "currentPower": 260,
    "iotPercent": 100,
    "iotVoltage": 412,
    "batteryData": [
        {
            "batteryPort": 1,
            "batteryPercent": 52,
            "batteryVoltage": 48,
            "cycleTimes": 23,
            "temperatrue": 25,
        }
    ],
}
_IOT_ONLY = docs.query(docs.IOT_CODE_PARAM)

for path in (paths.STATUS, paths.STATUS_MEBIKE):
    router.add_api_route(
        path,
        api_endpoint(status),
        methods=["GET"],
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
    summary="Bluetooth key",
    description="Asks the vehicle for its current bluetooth key.",
    responses=docs.envelope_of(
        "BluetoothKeyEnvelope",
        BluetoothKeyData,
        {"iotCode": "861477038719116", "key": "abcd1234"},
        "success",
    ),
    openapi_extra={**_IOT_ONLY, **docs.BEARER},
    operation_id="bluetoothKey",
)
