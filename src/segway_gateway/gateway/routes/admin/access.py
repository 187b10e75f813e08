"""The admin API of what a platform may call: its rate limit and its suspension.

The same as `platform set-limits`, `clear-limits`, `suspend` and `resume`: written to the
store, applied by this instance at once and by the others on their next look (≤ 5 s).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from segway_gateway.gateway.routes.admin.guard import AdminAction, admin_endpoint, answer
from segway_gateway.gateway.routes.body import read_body
from segway_gateway.gateway.runtime import Gateway
from segway_gateway.gateway.store.access_rules import AccessRule
from segway_gateway.gateway.store.errors import NotFound

router = APIRouter(prefix="/admin/v1", tags=["Admin"])

_MAX_BODY = 1024


class LimitRequest(BaseModel):
    """At most `rps` calls a second, in bursts of at most `burst` (default: `rps`, ≥ 1)."""

    model_config = ConfigDict(extra="forbid")
    rps: float = Field(ge=0.01, le=1_000_000)
    burst: int | None = Field(default=None, ge=1, le=10_000_000)


def _described(rule: AccessRule) -> Response:
    body = {
        "platform": rule.platform_code,
        "rps": rule.rate,
        "burst": rule.burst,
        "suspended": rule.suspended,
    }
    return answer(200, body)


async def show(request: Request, gateway: Gateway) -> Response:
    return _described(await gateway.db.access.rule(request.path_params["platform_code"]))


async def set_limit(request: Request, gateway: Gateway) -> Response:
    try:
        wanted = LimitRequest.model_validate_json(await read_body(request, _MAX_BODY))
    except ValidationError as err:
        raise ValueError(err.errors()[0]["msg"]) from err
    burst = wanted.burst if wanted.burst is not None else max(1, math.ceil(wanted.rps))
    code = request.path_params["platform_code"]
    return await _applied(gateway, gateway.db.access.set_limit(code, wanted.rps, burst))


async def clear_limit(request: Request, gateway: Gateway) -> Response:
    code = request.path_params["platform_code"]
    return await _applied(gateway, gateway.db.access.set_limit(code, None, None))


async def suspend(request: Request, gateway: Gateway) -> Response:
    code = request.path_params["platform_code"]
    return await _applied(gateway, gateway.db.access.set_suspended(code, True))


async def resume(request: Request, gateway: Gateway) -> Response:
    code = request.path_params["platform_code"]
    return await _applied(gateway, gateway.db.access.set_suspended(code, False))


async def _applied(gateway: Gateway, change: Awaitable[AccessRule]) -> Response:
    """The rule after `change`, which this instance applies at once."""
    rule = await change
    await gateway.access.follow()
    return _described(rule)


def _found(action: AdminAction) -> AdminAction:
    """`action`, answering 404 for a platform that does not exist."""

    async def checked(request: Request, gateway: Gateway) -> Response:
        try:
            return await action(request, gateway)
        except NotFound as err:
            return answer(404, {"error": str(err)})

    return checked


_ACCESS = "/platforms/{platform_code}/access"
for path, action, method, summary in (
    (_ACCESS, show, "GET", "A platform's rate limit and suspension"),
    (_ACCESS + "/limit", set_limit, "PUT", "Limit a platform's calls"),
    (_ACCESS + "/limit", clear_limit, "DELETE", "Remove a platform's limit"),
    (_ACCESS + "/suspend", suspend, "POST", "Suspend a platform"),
    (_ACCESS + "/resume", resume, "POST", "Resume a suspended platform"),
):
    router.add_api_route(path, admin_endpoint(_found(action)), methods=[method], summary=summary)
