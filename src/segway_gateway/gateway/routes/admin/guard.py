"""The guard every admin route shares, and its plain JSON answers.

The admin API is off unless the gateway was given an admin token (env
`SEGWAY_GATEWAY_ADMIN_TOKEN` for `serve`). Answers are plain JSON with HTTP
status codes, not the envelope: this API is ours, not the vendor's.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from segway_gateway.gateway.routes.body import BodyRefused
from segway_gateway.gateway.runtime import Gateway


def answer(status: int, body: dict[str, Any]) -> Response:
    """A plain JSON answer of the admin API."""
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


AdminAction = Callable[[Request, Gateway], Awaitable[Response]]


def is_admin_token(gateway: Gateway, given: str) -> bool:
    """`given` is the configured admin token (compared in constant time); never true when
    none is configured."""
    expected = gateway.config.admin_token
    return bool(expected) and hmac.compare_digest(given.encode(), (expected or "").encode())


def admin_endpoint(action: AdminAction) -> Callable[[Request], Awaitable[Response]]:
    """Check the admin token, then run `action`; a ValueError in it is a 400."""

    async def endpoint(request: Request) -> Response:
        gateway: Gateway = request.app.state.gateway
        if not gateway.config.admin_token:
            return answer(404, {"error": "the admin API is off (no admin token configured)"})
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not is_admin_token(gateway, given.strip()):
            return answer(401, {"error": "admin token required"})
        try:
            return await action(request, gateway)
        except (ValueError, BodyRefused) as err:
            return answer(400, {"error": str(err).splitlines()[0]})

    return endpoint
