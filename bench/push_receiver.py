"""`python -m bench.push_receiver PORT SECRET`: the push benchmark's receiver, on loopback.

A bare ASGI app under uvicorn (its defaults: uvloop, httptools, as `push
listen` runs), in its own process, that both senders of the benchmark (the
gateway's dispatcher and the raw httpx loop) post to. For each
`POST /v2/vehicle/{kind}` it parses the form, checks the signature with the
contract's `verify` (so the dispatcher's pushes are shown to be signed
right, and both sides pay for it alike), notes the event id and
`time.monotonic()` on arrival, and answers 200 with the document's success
body; a bad signature gets 401. `GET /received` hands over what arrived
since the last call, as JSON `[[eventId, monotonic seconds], ...]`.

It is leaner than the kit's `push_app` (FastAPI, typed parsing) on purpose:
its cost is paid by both sides, and a cheap receiver keeps the figures about
the senders. `time.monotonic()` is CLOCK_MONOTONIC, one clock for every
process of the machine, so the benchmark compares arrival times with its
own.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

import uvicorn

from segway_gateway.contract.signature import verify

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

SUCCESS = b'{"code":0,"message":"success"}'


class Receiver:
    """The ASGI app: every verified push's event id and arrival time, until collected."""

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._arrived: list[tuple[str, float]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] == "GET" and scope["path"] == "/received":
            arrived, self._arrived = self._arrived, []
            await _answer(send, 200, json.dumps(arrived).encode(), "application/json")
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        form = dict(parse_qsl(body.decode(), keep_blank_values=True))
        if scope["method"] != "POST" or not verify(form, self._secret):
            await _answer(send, 401, b"bad signature", "text/plain")
            return
        self._arrived.append((form.get("eventId", ""), time.monotonic()))
        await _answer(send, 200, SUCCESS, "application/json")


async def _answer(send: Send, status: int, body: bytes, content_type: str) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    port, secret = int(sys.argv[1]), sys.argv[2]
    uvicorn.run(
        Receiver(secret),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
