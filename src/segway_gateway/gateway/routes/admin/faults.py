"""Admin API: fault injection into the simulated fleet.

Faults, rides, and alerts or fault codes raised on demand (to trigger pushes).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import IntEnum
from typing import Any, Literal, Self, TypeVar

from fastapi import APIRouter
from pydantic import BaseModel, Field, ValidationError, model_validator
from starlette.requests import Request
from starlette.responses import Response

from segway_gateway.contract.alerts import Alert
from segway_gateway.contract.models import parse_iot_code
from segway_gateway.gateway.faults import FaultInjector, UnknownVehicle
from segway_gateway.gateway.routes.admin.guard import admin_endpoint, answer
from segway_gateway.gateway.routes.body import read_body
from segway_gateway.gateway.runtime import Gateway
from segway_gateway.sim.fault_codes import FaultCode, describe
from segway_gateway.sim.faults import Fault

router = APIRouter(prefix="/admin/v1", tags=["Admin"])

_MAX_BODY = 4 * 1024
Code = TypeVar("Code", bound=IntEnum)


class FaultRequest(BaseModel):
    """A fault to give a vehicle, for `seconds` or until cleared; `slow-reply` needs `delay`."""

    kind: Fault
    seconds: float | None = Field(default=None, gt=0, le=86400)
    delay: float | None = Field(default=None, gt=0, le=600)

    @model_validator(mode="after")
    def _delay_only_for_slow_reply(self) -> Self:
        if (self.kind is Fault.SLOW_REPLY) != (self.delay is not None):
            raise ValueError("'delay' (seconds) goes with kind slow-reply, and only with it")
        return self


class RideRequest(BaseModel):
    action: Literal["start", "stop"]


class EventRequest(BaseModel):
    """An alert or fault code for the vehicle to raise."""

    code: int


_FAULT_KINDS = "fault kinds: " + ", ".join(fault.value for fault in Fault)
_ALERT_CODES = "alert codes: " + ", ".join(f"{a.value} {a.label}" for a in Alert)
_FAULT_CODES = "fault codes: " + ", ".join(describe(code) for code in FaultCode)


def _known_code(kind: type[Code], noun: str, listing: str, code: int) -> Code:
    """`code` as a member of `kind`, or a ValueError that lists the valid ones."""
    if code not in set(kind):
        raise ValueError(f"unknown {noun} {code} ({listing})")
    return kind(code)


def _alert(code: int) -> Alert:
    return _known_code(Alert, "alert code", _ALERT_CODES, code)


def _fault_code(code: int) -> FaultCode:
    return _known_code(FaultCode, "fault code", _FAULT_CODES, code)


FaultAction = Callable[[Request, FaultInjector, str], Awaitable[Response]]


def _faults(action: FaultAction) -> Callable[[Request], Awaitable[Response]]:
    """An admin endpoint on one simulated vehicle, addressed by its iotCode."""

    async def on_vehicle(request: Request, gateway: Gateway) -> Response:
        if gateway.faults is None:
            return answer(404, {"error": "this gateway simulates no vehicles"})
        iot_code = parse_iot_code(request.path_params["iot_code"])
        try:
            return await action(request, gateway.faults, iot_code)
        except UnknownVehicle:
            return answer(404, {"error": "no simulated vehicle with this iotCode"})

    return admin_endpoint(on_vehicle)


async def _body(request: Request, model: type[BaseModel], hint: str = "") -> Any:
    try:
        return model.model_validate_json(await read_body(request, _MAX_BODY))
    except ValidationError as err:
        raise ValueError(err.errors()[0]["msg"] + (f" ({hint})" if hint else "")) from err


def _path_code(request: Request) -> int:
    raw: str = request.path_params["code"]
    if not raw.isdigit():
        raise ValueError(f"code must be a number, not {raw!r}")
    return int(raw)


async def inject(request: Request, faults: FaultInjector, iot_code: str) -> Response:
    wanted: FaultRequest = await _body(request, FaultRequest, _FAULT_KINDS)
    faults.inject(iot_code, wanted.kind, wanted.seconds, wanted.delay or 0.0)
    return answer(
        200,
        {
            "iotCode": iot_code,
            "fault": wanted.kind.value,
            "seconds": wanted.seconds,
            "delay": wanted.delay,
        },
    )


async def clear(_request: Request, faults: FaultInjector, iot_code: str) -> Response:
    faults.clear(iot_code)
    return answer(200, {"iotCode": iot_code, "faults": []})


async def ride(request: Request, faults: FaultInjector, iot_code: str) -> Response:
    wanted: RideRequest = await _body(request, RideRequest)
    if not faults.ride(iot_code, wanted.action == "start"):
        return answer(409, {"error": "a locked vehicle or an empty battery cannot be ridden"})
    return answer(200, {"iotCode": iot_code, "riding": wanted.action == "start"})


async def raise_alert(request: Request, faults: FaultInjector, iot_code: str) -> Response:
    alert = _alert((await _body(request, EventRequest, _ALERT_CODES)).code)
    faults.alert(iot_code, alert, active=True)
    return answer(200, {"iotCode": iot_code, "alert": alert.value, "active": True})


async def clear_alert(request: Request, faults: FaultInjector, iot_code: str) -> Response:
    alert = _alert(_path_code(request))
    faults.alert(iot_code, alert, active=False)
    return answer(200, {"iotCode": iot_code, "alert": alert.value, "active": False})


async def raise_fault_code(request: Request, faults: FaultInjector, iot_code: str) -> Response:
    code = _fault_code((await _body(request, EventRequest, _FAULT_CODES)).code)
    faults.fault_code(iot_code, code, active=True)
    return answer(200, {"iotCode": iot_code, "faultCode": code.value, "active": True})


async def clear_fault_code(request: Request, faults: FaultInjector, iot_code: str) -> Response:
    code = _fault_code(_path_code(request))
    faults.fault_code(iot_code, code, active=False)
    return answer(200, {"iotCode": iot_code, "faultCode": code.value, "active": False})


_FAULTS = "/vehicles/{iot_code}/faults"
router.add_api_route(_FAULTS, _faults(inject), methods=["POST"], summary="Inject a fault")
router.add_api_route(_FAULTS, _faults(clear), methods=["DELETE"], summary="Clear all faults")
router.add_api_route(
    "/vehicles/{iot_code}/ride", _faults(ride), methods=["POST"], summary="Start or end a ride"
)
_ALERTS = "/vehicles/{iot_code}/alerts"
router.add_api_route(_ALERTS, _faults(raise_alert), methods=["POST"], summary="Raise an alert")
router.add_api_route(
    _ALERTS + "/{code}", _faults(clear_alert), methods=["DELETE"], summary="Clear an alert"
)
_FAULT_CODES_PATH = "/vehicles/{iot_code}/fault-codes"
router.add_api_route(
    _FAULT_CODES_PATH, _faults(raise_fault_code), methods=["POST"], summary="Raise a fault code"
)
router.add_api_route(
    _FAULT_CODES_PATH + "/{code}",
    _faults(clear_fault_code),
    methods=["DELETE"],
    summary="Clear a fault code",
)
