"""`python -m bench.canned_status PORT ANSWERS`: replay status answers, do nothing else.

The SDK benchmark's fast server. Against the real gateway the server's CPU,
not the client's, may decide the pace, and then an SDK-vs-raw ratio says
little; this bare ASGI app under uvicorn answers so cheaply that the client
becomes the bottleneck. ANSWERS is a JSON file: `{"token": ..., "status":
{iotCode: envelope}}`, captured from a real gateway, so the bodies are the
gateway's (re-encoded as compact JSON). It answers `/healthz`, `POST
/oauth/token` (with that token) and the status query (that envelope, or 404 for
an unknown iotCode or a wrong bearer token); it runs until killed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import uvicorn

from bench.harness import STATUS_PATH

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
App = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def canned_app(answers: dict[str, Any]) -> App:
    """The ASGI app: bodies encoded once, each request a lookup."""
    token = str(answers["token"])
    token_body = _json(
        {"access_token": token, "token_type": "bearer", "expires_in": 43199, "scope": "read"}
    )
    status = {code: _json(envelope) for code, envelope in answers["status"].items()}
    bearer = f"bearer {token}".encode()

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path, body = scope["path"], None
        if path == STATUS_PATH and dict(scope["headers"]).get(b"authorization") == bearer:
            codes = parse_qs(scope["query_string"].decode()).get("iotCode", [])
            body = status.get(codes[0]) if codes else None
        elif path == "/oauth/token":
            body = token_body
        elif path == "/healthz":
            body = b'{"status":"ok"}'
        headers = [(b"content-type", b"application/json")]
        await send(
            {
                "type": "http.response.start",
                "status": 404 if body is None else 200,
                "headers": headers,
            }
        )
        await send({"type": "http.response.body", "body": body or b"{}"})

    return app


def main(argv: list[str]) -> None:
    port, answers_path = int(argv[0]), argv[1]
    with open(answers_path) as answers:
        app = canned_app(json.load(answers))
    uvicorn.run(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
