"""GET /healthz: liveness (and the benchmark's bare baseline endpoint); GET /readyz:
readiness (gateway/readiness.py)."""

from __future__ import annotations

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from segway_gateway.gateway.readiness import OK
from segway_gateway.gateway.runtime import Gateway

router = APIRouter(tags=["Operations"])

_OK = b'{"status":"ok"}'


async def healthz(_request: Request) -> Response:
    return Response(_OK, media_type="application/json")


async def readyz(request: Request) -> Response:
    """200 when the database, the device link and the push dispatcher work; else 503,
    naming what does not."""
    gateway: Gateway = request.app.state.gateway
    checks = await gateway.readiness.check()
    failing = sorted(name for name, state in checks.items() if state != OK)
    body: dict[str, object] = {"status": "not ready" if failing else "ready", "checks": checks}
    if failing:
        body["failing"] = failing
    return Response(orjson.dumps(body), 503 if failing else 200, media_type="application/json")


router.add_api_route("/healthz", healthz, methods=["GET"], summary="Liveness")
router.add_api_route(
    "/readyz",
    readyz,
    methods=["GET"],
    summary="Readiness",
    responses={503: {"description": "Not ready: `failing` names the parts that are down"}},
)
