"""An ASGI receiver for the four pushes: verify, parse, hand to a callback, then answer.

200 (`{"code": 0, "message": "success"}`) only once the callback returned, so a
failure is retried by the gateway; 401 for a bad or missing signature, 400 for
fields that do not parse, 415 for a body that is not form-urlencoded, 500 when
the callback raised (its traceback is logged, never sent). Needs the `gateway`
extra (FastAPI).
"""

from __future__ import annotations

import inspect
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from segway_gateway.contract.pushes import (
    PUSH_EVENTS,
    InvalidPush,
    PushEvent,
    PushKind,
    parse_push,
)
from segway_gateway.contract.signature import verify

log = logging.getLogger(__name__)

FORM = "application/x-www-form-urlencoded"
Callback = Callable[[PushEvent], Awaitable[None] | None]
"""Called with each verified push; sync callbacks run in a worker thread."""


@dataclass(frozen=True)
class Rejection:
    """A push answered with an error: its kind, iotCode (if any), status and reason."""

    kind: PushKind
    iot_code: str | None
    status: int
    reason: str


OnRejected = Callable[[Rejection], None]


class _Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def push_router(
    secret: str,
    callback: Callback,
    *,
    prefix: str = "",
    on_rejected: OnRejected | None = None,
) -> APIRouter:
    """Routes POST `<prefix>/v2/vehicle/{alert,fault,location,status}` to `callback`."""
    router = APIRouter(prefix=prefix)
    for kind in PUSH_EVENTS:
        router.add_api_route(
            f"/v2/vehicle/{kind}",
            _endpoint(kind, secret, callback, on_rejected),
            methods=["POST"],
            name=f"{kind}_push",
            summary=f"Receive a {kind} push",
        )
    return router


def push_app(
    secret: str,
    callback: Callback,
    *,
    prefix: str = "",
    on_rejected: OnRejected | None = None,
) -> FastAPI:
    """An ASGI app serving only `push_router`."""
    app = FastAPI(title="segway-gateway push receiver", docs_url=None, redoc_url=None)
    app.include_router(push_router(secret, callback, prefix=prefix, on_rejected=on_rejected))
    return app


def _endpoint(
    kind: PushKind, secret: str, callback: Callback, on_rejected: OnRejected | None
) -> Callable[[Request], Awaitable[Response]]:
    async def receive(request: Request) -> Response:
        form: dict[str, str] = {}
        try:
            form = await _read_form(request)
            if "signature" not in form:
                raise _Refused(401, "missing signature")
            if not verify(form, secret):
                raise _Refused(401, "bad signature")
            try:
                event = parse_push(kind, form)
            except InvalidPush as err:
                raise _Refused(400, f"bad fields: {err}") from None
            await _call(callback, event)
        except _Refused as refusal:
            if on_rejected is not None:
                on_rejected(Rejection(kind, form.get("iotCode"), refusal.status, refusal.reason))
            return PlainTextResponse(refusal.reason, status_code=refusal.status)
        return JSONResponse({"code": 0, "message": "success"})

    return receive


async def _read_form(request: Request) -> dict[str, str]:
    """The body's fields, blank values kept; a repeated field is ambiguous, so refused."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM:
        raise _Refused(415, f"expected Content-Type {FORM}")
    try:
        text = (await request.body()).decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except ValueError:
        raise _Refused(400, "body is not a UTF-8 form") from None
    form = dict(pairs)
    if len(form) != len(pairs):
        repeated = sorted(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
        raise _Refused(400, f"bad fields: repeated {', '.join(repeated)}")
    return form


async def _call(callback: Callback, event: PushEvent) -> None:
    """Await the callback (a sync one in a thread); any exception becomes a 500."""
    try:
        if inspect.iscoroutinefunction(callback):
            await callback(event)
            return
        result = await run_in_threadpool(callback, event)
        if inspect.isawaitable(result):
            await result
    except Exception:
        log.exception("push callback failed for %s push of %s", event.kind, event.iot_code)
        raise _Refused(500, "push not processed: the callback failed") from None
