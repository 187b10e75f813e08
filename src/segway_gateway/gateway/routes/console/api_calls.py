"""The console acts through the public API and the admin API, never beside them.

Each action is an HTTP request to this same app, made in process (httpx's ASGI transport):
it goes through the same authentication, rate limits, validation and envelope as a
client's, and the console shows the answer as it came. A platform's session calls with
that platform's token; the admin's, on a vehicle, with the token of the vehicle's owner
(so what the vehicle's platform would be refused, the admin is refused too), and the
admin API with the admin token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from starlette.requests import Request

from segway_gateway.gateway.runtime import Gateway

_BASE_URL = "http://console.internal"


@dataclass(frozen=True)
class Answer:
    """What the API answered: the HTTP status and the JSON body."""

    what: str
    """The action, as the console names it ("Unlock", "Status", …)."""
    http_status: int
    body: dict[str, Any]

    @property
    def code(self) -> int | None:
        """The envelope's code (the public API); None for the admin API."""
        code = self.body.get("code")
        return code if isinstance(code, int) else None

    @property
    def ok(self) -> bool:
        return self.code == 0 if self.code is not None else 200 <= self.http_status < 300

    @property
    def message(self) -> str:
        return str(self.body.get("msg") or self.body.get("error") or "")

    @property
    def data(self) -> Any:
        return self.body.get("data") if self.code is not None else self.body

    def pretty(self) -> str:
        return orjson.dumps(self.body, option=orjson.OPT_INDENT_2).decode()


async def _send(
    request: Request,
    what: str,
    method: str,
    path: str,
    bearer: str,
    *,
    params: dict[str, str] | None = None,
    json: Any = None,
    content: bytes | None = None,
) -> Answer:
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url=_BASE_URL) as client:
        response = await client.request(
            method,
            path,
            params=params,
            json=json,
            content=content,
            headers={"authorization": f"bearer {bearer}"},
        )
    try:
        body = response.json()
    except ValueError:
        body = {"error": response.text[:200]}
    return Answer(what, response.status_code, body if isinstance(body, dict) else {"data": body})


async def platform_token(request: Request, platform_code: str) -> str:
    """A token of the platform, for the calls of one page."""
    gateway: Gateway = request.app.state.gateway
    return (await gateway.tokens.token_for(platform_code)).access_token


async def public_api(
    request: Request,
    token: str,
    what: str,
    method: str,
    path: str,
    *,
    params: dict[str, str] | None = None,
    json: Any = None,
) -> Answer:
    """Call the vendor API with a platform's token (`platform_token`)."""
    return await _send(request, what, method, path, token, params=params, json=json)


async def admin_api(
    request: Request,
    what: str,
    method: str,
    path: str,
    *,
    json: Any = None,
    content: bytes | None = None,
) -> Answer:
    """Call the admin API with the admin token (only an admin session gets here)."""
    gateway: Gateway = request.app.state.gateway
    token = gateway.config.admin_token or ""
    return await _send(request, what, method, path, token, json=json, content=content)
