"""What every API call shares: op id, auth, region, body parsing, the envelope.

A handler receives a `Call` and returns the `data` of a successful answer; an
`ApiError` anywhere becomes the envelope of its code, any other exception
becomes 15001 (logged with the op id, at most once a minute per path); what
fails outside this (the envelope itself) is 15001 with HTTP 500 (edges.py).

A parameter given twice, in the query string or as a key of a JSON object in the
body, is 15004 whichever value comes first: a proxy reading the first and the
gateway the last would not see the same request.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from logging import DEBUG, ERROR, INFO
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
from segway_gateway.gateway.metrics import Metrics
from segway_gateway.gateway.routes.body import BodyRefused, read_body
from segway_gateway.gateway.runtime import Gateway
from segway_gateway.gateway.store.vehicles import VehicleState
from segway_gateway.gateway.traffic import FAILURE, RESTRICTED, Traffic

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
            return model.model_validate(_loads(raw))
        except (orjson.JSONDecodeError, ValidationError, _DuplicateKey) as err:
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
        """Send the command and await the vehicle's reply (timed for /metrics)."""
        metrics: Metrics | None = self.request.app.state.metrics
        started = time.perf_counter()
        code = Code.SERVER_ERROR
        try:
            reply = await self.gateway.fleet.command(entry, self.op_id, name, args or {})
            code = Code.SUCCESS
            return reply
        except ApiError as err:
            code = err.code
            raise
        finally:
            if metrics is not None:
                metrics.commanded(name.value, code, time.perf_counter() - started)


Handler = Callable[[Call], Awaitable[Any]]


def api_endpoint(
    handler: Handler,
    msg: str = SUCCESS_MSG,
    *,
    res_id: bool = False,
) -> Callable[[Request], Awaitable[Response]]:
    """Turn a handler into a Starlette endpoint that always answers with the envelope.

    Every call is counted for the once-a-minute summary and /metrics, and logged with its
    op id and outcome: at INFO with `serve --access-log`, else at DEBUG.
    """

    async def endpoint(request: Request) -> Response:
        started = time.perf_counter()
        gateway: Gateway = request.app.state.gateway
        traffic: Traffic = request.app.state.traffic
        op_id = new_op_id()
        platform = "-"
        outcome = "0"
        code = Code.SUCCESS
        try:
            platform = await gateway.tokens.authenticate(request.headers.get("authorization"))
            _check_region(gateway.config.region, platform)
            await gateway.access.admit(platform)
            _check_query(request)
            data = await handler(Call(request, gateway, platform, op_id))
            body = envelope(Code.SUCCESS, op_id, data, msg, t=_now_ms(gateway), res_id=res_id)
        except ApiError as err:
            outcome, code = str(err), err.code
            if code is Code.RESTRICTED:
                traffic.refusal(
                    RESTRICTED, request.method, request.scope["path"], platform, err.detail
                )
            body = envelope(err.code, op_id, t=_now_ms(gateway), res_id=res_id)
        except Exception as exc:
            outcome, code = "15001", Code.SERVER_ERROR
            traffic.refusal(
                FAILURE,
                request.method,
                request.scope["path"],
                platform,
                f"op={op_id}",
                level=ERROR,
                exc=exc,
            )
            body = envelope(Code.SERVER_ERROR, op_id, t=_now_ms(gateway), res_id=res_id)
        traffic.call(code)
        metrics: Metrics | None = request.app.state.metrics
        if metrics is not None:
            metrics.answered(request.scope["path"], code, time.perf_counter() - started)
        level = INFO if gateway.config.access_log else DEBUG
        if log.isEnabledFor(level):
            path, ms = request.scope["path"], round((time.perf_counter() - started) * 1000, 1)
            log.log(
                level,
                "op=%s platform=%s %s %s -> %s (%.1f ms)",
                op_id,
                platform,
                request.method,
                path,
                outcome,
                ms,
                extra={
                    "opId": op_id,
                    "platform": platform,
                    "endpoint": path,
                    "code": code,
                    "ms": ms,
                },
            )
        return Response(orjson.dumps(body), media_type="application/json")

    return endpoint


def _check_query(request: Request) -> None:
    """15004 for a query parameter given twice (or more)."""
    if not request.scope["query_string"]:
        return
    params = request.query_params
    if len(params) != len(params.multi_items()):
        twice = sorted({k for k in params if len(params.getlist(k)) > 1})
        raise ApiError(Code.PARAMETER_ERROR, f"query parameter {twice[0]!r} given twice")


class _DuplicateKey(ValueError):
    """A JSON object in the body has a key twice."""


def _loads(raw: bytes) -> Any:
    """The JSON body, refusing an object with a key twice (orjson keeps the last).

    Each member of an object has one ':' of its own, so a body with no more ':' than
    members has no key twice; only a body with more (a ':' inside a string, or a key
    given twice) is read again, by the standard library, to tell which.
    """
    value = orjson.loads(raw)
    colons = raw.count(b":")
    if isinstance(value, dict) and colons == len(value):
        return value  # the usual body: one flat object
    if colons > _members(value):
        try:
            json.loads(raw, object_pairs_hook=_unique)
        except (RecursionError, json.JSONDecodeError) as err:
            raise _DuplicateKey(f"JSON the gateway cannot read: {type(err).__name__}") from err
    return value


def _members(value: Any) -> int:
    """How many members the objects in `value` have, all levels together."""
    count, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            count += len(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise _DuplicateKey(f"body parameter {key!r} given twice")
        seen.add(key)
    return dict(pairs)


def _now_ms(gateway: Gateway) -> int:
    return int(gateway.clock() * 1000)


def _check_region(region: Region | None, platform_code: str) -> None:
    if region is not None and Region.of_platform(platform_code) is not region:
        raise ApiError(Code.INCORRECT_PLATFORM, f"{platform_code} is not a {region.value} platform")


def _first_line(err: Exception) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__
