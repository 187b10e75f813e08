"""What every API call shares: op id, auth, region, body parsing, the envelope.

A handler receives a `Call` and returns the `data` of a successful answer; an
`ApiError` anywhere becomes the envelope of its code, any other exception
becomes 15001 (logged with the op id), and nothing escapes as HTTP 500.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from segway_gateway.contract.codes import Code
from segway_gateway.contract.device import CommandName, Reply
from segway_gateway.contract.envelope import SUCCESS_MSG, envelope, new_op_id
from segway_gateway.contract.models import parse_iot_code
from segway_gateway.contract.regions import Region
from segway_gateway.gateway.errors import ApiError
from segway_gateway.gateway.fleet import VehicleEntry
from segway_gateway.gateway.routes.body import BodyRefused, read_body
from segway_gateway.gateway.runtime import Gateway
from segway_gateway.gateway.store.vehicles import VehicleState

log = logging.getLogger("segway_gateway.api")

MAX_BODY_BYTES = 64 * 1024
Model = TypeVar("Model", bound=BaseModel)


@dataclass
class Call:
    """One authenticated API call."""

    request: Request
    gateway: Gateway
    platform_code: str
    op_id: str

    async def body(self, model: type[Model]) -> Model:
        """The JSON body as `model`, or 15004 for anything malformed."""
        content_type = self.request.headers.get("content-type", "application/json")
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type != "application/json" and not media_type.endswith("+json"):
            raise ApiError(Code.PARAMETER_ERROR, f"content type {media_type!r} is not JSON")
        try:
            raw = await read_body(self.request, MAX_BODY_BYTES)
        except BodyRefused as err:
            raise ApiError(Code.PARAMETER_ERROR, str(err)) from err
        try:
            return model.model_validate(orjson.loads(raw))
        except (orjson.JSONDecodeError, ValidationError) as err:
            raise ApiError(Code.PARAMETER_ERROR, _first_line(err)) from err

    def query_iot_code(self) -> str:
        try:
            return parse_iot_code(self.request.query_params.get("iotCode"))
        except ValueError as err:
            raise ApiError(Code.PARAMETER_ERROR, str(err)) from err

    async def vehicle(self, iot_code: str) -> VehicleEntry:
        return await self.gateway.fleet.vehicle(self.platform_code, iot_code)

    async def state(self, entry: VehicleEntry) -> VehicleState:
        """What the store holds of the vehicle now."""
        return await self.gateway.fleet.state(entry)

    async def command(
        self, entry: VehicleEntry, name: CommandName, args: dict[str, Any] | None = None
    ) -> Reply:
        return await self.gateway.fleet.command(entry, self.op_id, name, args or {})


Handler = Callable[[Call], Awaitable[Any]]


def api_endpoint(
    handler: Handler,
    msg: str = SUCCESS_MSG,
    *,
    res_id: bool = False,
) -> Callable[[Request], Awaitable[Response]]:
    """Turn a handler into a Starlette endpoint that always answers with the envelope.

    Every call is logged at INFO with its op id and outcome.
    """

    async def endpoint(request: Request) -> Response:
        gateway: Gateway = request.app.state.gateway
        op_id = new_op_id()
        platform = "-"
        outcome = "0"
        try:
            platform = await gateway.tokens.authenticate(request.headers.get("authorization"))
            _check_region(gateway.config.region, platform)
            data = await handler(Call(request, gateway, platform, op_id))
            body = envelope(Code.SUCCESS, op_id, data, msg, t=_now_ms(gateway), res_id=res_id)
        except ApiError as err:
            outcome = str(err)
            body = envelope(err.code, op_id, t=_now_ms(gateway), res_id=res_id)
        except Exception:
            log.exception("op=%s unexpected failure", op_id)
            outcome = "15001"
            body = envelope(Code.SERVER_ERROR, op_id, t=_now_ms(gateway), res_id=res_id)
        log.info("op=%s platform=%s %s -> %s", op_id, platform, request.scope["path"], outcome)
        return Response(orjson.dumps(body), media_type="application/json")

    return endpoint


def _now_ms(gateway: Gateway) -> int:
    return int(gateway.clock() * 1000)


def _check_region(region: Region | None, platform_code: str) -> None:
    if region is not None and Region.of_platform(platform_code) is not region:
        raise ApiError(Code.INCORRECT_PLATFORM, f"{platform_code} is not a {region.value} platform")


def _first_line(err: Exception) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__
