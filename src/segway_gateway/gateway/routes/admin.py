"""The admin API: fault injection into the simulated fleet, behind its own bearer token.

`admin_endpoint` is the guard every admin route shares (the zones in `geofences` too).
Off unless the gateway was given an admin token (env `SEGWAY_GATEWAY_ADMIN_TOKEN`
for `serve`). Answers are plain JSON with HTTP status codes, not the envelope:
this API is ours, not the vendor's.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import orjson
from fastapi import APIRouter
from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from segway_gateway.contract.models import parse_iot_code
from segway_gateway.gateway.faults import FaultInjector, UnknownVehicle
from segway_gateway.gateway.routes.body import BodyRefused, read_body
from segway_gateway.gateway.runtime import Gateway
from segway_gateway.sim.faults import Fault

router = APIRouter(prefix="/admin/v1", tags=["Admin"])

_MAX_BODY = 4 * 1024


class FaultRequest(BaseModel):
    """A fault to give a vehicle, for `seconds` or until cleared."""

    kind: Fault
    seconds: float | None = Field(default=None, gt=0, le=86400)


class RideRequest(BaseModel):
    action: Literal["start", "stop"]


def answer(status: int, body: dict[str, Any]) -> Response:
    """A plain JSON answer of the admin API."""
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


AdminAction = Callable[[Request, Gateway], Awaitable[Response]]


def admin_endpoint(action: AdminAction) -> Callable[[Request], Awaitable[Response]]:
    """Check the admin token, then run `action`; a ValueError in it is a 400."""

    async def endpoint(request: Request) -> Response:
        gateway: Gateway = request.app.state.gateway
        expected = gateway.config.admin_token
        if not expected:
            return answer(404, {"error": "the admin API is off (no admin token configured)"})
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), expected.encode()
        ):
            return answer(401, {"error": "admin token required"})
        try:
            return await action(request, gateway)
        except (ValueError, BodyRefused) as err:
            return answer(400, {"error": str(err).splitlines()[0]})

    return endpoint


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


async def _body(request: Request, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate_json(await read_body(request, _MAX_BODY))
    except ValidationError as err:
        kinds = ", ".join(fault.value for fault in Fault)
        raise ValueError(f"{err.errors()[0]['msg']} (fault kinds: {kinds})") from err


async def inject(request: Request, faults: FaultInjector, iot_code: str) -> Response:
    wanted: FaultRequest = await _body(request, FaultRequest)
    faults.inject(iot_code, wanted.kind, wanted.seconds)
    return answer(200, {"iotCode": iot_code, "fault": wanted.kind.value, "seconds": wanted.seconds})


async def clear(_request: Request, faults: FaultInjector, iot_code: str) -> Response:
    faults.clear(iot_code)
    return answer(200, {"iotCode": iot_code, "faults": []})


async def ride(request: Request, faults: FaultInjector, iot_code: str) -> Response:
    wanted: RideRequest = await _body(request, RideRequest)
    if not faults.ride(iot_code, wanted.action == "start"):
        return answer(409, {"error": "a locked vehicle or an empty battery cannot be ridden"})
    return answer(200, {"iotCode": iot_code, "riding": wanted.action == "start"})


_FAULTS = "/vehicles/{iot_code}/faults"
router.add_api_route(_FAULTS, _faults(inject), methods=["POST"], summary="Inject a fault")
router.add_api_route(_FAULTS, _faults(clear), methods=["DELETE"], summary="Clear all faults")
router.add_api_route(
    "/vehicles/{iot_code}/ride", _faults(ride), methods=["POST"], summary="Start or end a ride"
)
