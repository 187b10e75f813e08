"""Answers under `/api` and `/oauth` that no endpoint of the document gives: the envelope.

An unknown path is HTTP 404 and a wrong method HTTP 405, both with code 15004 and a
`msg` naming the method and the path; a failure that escapes a handler (or the envelope
around it) is HTTP 500 with code 15001, never Starlette's text/plain. Each is logged,
rate-limited (gateway/traffic.py), with the caller's platform when its token is one the
gateway has in memory (a refusal costs no database look-up). Other paths (`/admin/v1`,
`/healthz`, `/docs`) keep FastAPI's answers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import orjson
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from segway_gateway.contract import paths
from segway_gateway.contract.codes import Code
from segway_gateway.contract.envelope import envelope, new_op_id
from segway_gateway.gateway import crypto
from segway_gateway.gateway.metrics import Metrics
from segway_gateway.gateway.runtime import Gateway
from segway_gateway.gateway.traffic import FAILURE, UNKNOWN_PATH, WRONG_METHOD, Traffic, log

MAX_SHOWN = 200
"""Characters of a path shown in an answer or a log line."""


def in_api(path: str) -> bool:
    """Whether `path` is the document's: under `/api` or `/oauth`."""
    return path.startswith(("/api/", "/oauth/")) or path in ("/api", "/oauth")


def shown(path: str) -> str:
    """`path` fit for a log line and a `msg`: control characters escaped, cut short."""
    if not path.isprintable():
        path = path.encode("unicode_escape").decode("ascii")
    return path if len(path) <= MAX_SHOWN else f"{path[:MAX_SHOWN]}…"


def known_platform(gateway: Gateway | None, authorization: str | None) -> str | None:
    """The platform of a bearer token the gateway holds in memory and that has not
    expired; None for anything else (nothing is looked up in the store)."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if gateway is None or scheme.lower() != "bearer" or not token:
        return None
    cache = getattr(gateway.tokens, "_cache", None)  # TokenService's cache of verified tokens
    if not isinstance(cache, Mapping):
        return None
    record = cache.get(crypto.token_hash(token))
    if record is None or record.expires_at <= gateway.clock():
        return None
    platform: str = record.platform_code
    return platform


def _gateway(app: Any) -> Gateway | None:
    gateway: Gateway | None = getattr(app.state, "gateway", None)
    return gateway


def envelope_response(
    gateway: Gateway | None,
    code: Code,
    http_status: int,
    op_id: str,
    msg: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    clock = gateway.clock() if gateway is not None else 0.0
    body = envelope(code, op_id, msg=msg, t=int(clock * 1000))
    return Response(
        orjson.dumps(body),
        status_code=http_status,
        headers=headers,
        media_type="application/json",
    )


def refuse_path(request: Request, traffic: Traffic, http_status: int, allow: str = "") -> Response:
    """The envelope for a path the document does not have (404) or a method it does not
    take there (405, `allow` listing those it takes)."""
    gateway = _gateway(request.app)
    method, path = request.method, shown(request.scope["path"])
    platform = known_platform(gateway, request.headers.get("authorization"))
    message = Code.PARAMETER_ERROR.message
    headers = None
    if http_status == 405:
        kind = WRONG_METHOD
        detail = f"method {method} not allowed on {path}"
        detail += f" (allowed: {allow})" if allow else ""
        headers = {"Allow": allow} if allow else None
    elif http_status == 404:
        kind, detail = UNKNOWN_PATH, f"no such path: {method} {path}"
    else:
        kind, detail = f"HTTP {http_status}", f"{method} {path} refused"
    op_id = new_op_id()
    traffic.call(Code.PARAMETER_ERROR)
    traffic.refusal(kind, method, path, platform, f"op={op_id}", every_time=_access_log(gateway))
    msg = f"{message}: {detail}"
    return envelope_response(gateway, Code.PARAMETER_ERROR, http_status, op_id, msg, headers)


def _access_log(gateway: Gateway | None) -> bool:
    return gateway is not None and gateway.config.access_log


def http_exception_handler_for(traffic: Traffic) -> Any:
    """The app's handler of Starlette's HTTPException: the envelope under `/api` and
    `/oauth` (404 unknown path, 405 wrong method), FastAPI's own answer elsewhere."""

    async def handle(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if not in_api(request.scope["path"]):
            return await http_exception_handler(request, exc)
        if exc.status_code >= 500:
            raise exc  # answered by EnvelopeGuard as 15001
        allow = (exc.headers or {}).get("Allow", "")
        return refuse_path(request, traffic, exc.status_code, allow)

    return handle


class EnvelopeGuard:
    """ASGI middleware: under `/api` and `/oauth`, a failure that escapes the app is the
    envelope with 15001 and HTTP 500 (logged, rate-limited, and not raised on to the
    server, which would log it again); a path ending in `/` is unknown (404), not
    redirected. It also counts `/oauth/token` answers for the summary and /metrics (and
    logs each with `serve --access-log`)."""

    def __init__(self, app: ASGIApp, traffic: Traffic) -> None:
        self.app = app
        self.traffic = traffic

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not in_api(scope["path"]):
            await self.app(scope, receive, send)
            return
        if scope["path"].endswith("/"):  # no path of the document ends with '/'
            request = Request(scope, receive)
            await refuse_path(request, self.traffic, 404)(scope, receive, send)
            return
        status, started = 0, time.perf_counter()

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            if status:  # the answer is under way: nothing else can be sent
                raise
            await self._failed(scope, exc)(scope, receive, send)
            return
        if scope["path"] == paths.TOKEN and scope["method"] == "POST":
            elapsed = time.perf_counter() - started
            self.traffic.token_request(status)
            metrics: Metrics | None = scope["app"].state.metrics
            if metrics is not None:
                metrics.answered(paths.TOKEN, status, elapsed)
            if _access_log(_gateway(scope["app"])):
                log.info(
                    "token request: POST /oauth/token -> HTTP %d (%.1f ms)", status, elapsed * 1000
                )

    def _failed(self, scope: Scope, exc: Exception) -> Response:
        request = Request(scope)
        gateway = _gateway(scope["app"]) if "app" in scope else None
        platform = known_platform(gateway, request.headers.get("authorization"))
        method, path = request.method, shown(scope["path"])
        op_id = new_op_id()
        self.traffic.call(Code.SERVER_ERROR)
        self.traffic.refusal(
            FAILURE,
            method,
            path,
            platform,
            f"op={op_id}",
            level=logging.ERROR,
            exc=exc,
            every_time=_access_log(gateway),
        )
        return envelope_response(gateway, Code.SERVER_ERROR, 500, op_id)
