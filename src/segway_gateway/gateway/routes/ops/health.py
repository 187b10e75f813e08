"""GET /healthz: liveness, and the benchmark's bare baseline endpoint."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

router = APIRouter(tags=["Operations"])

_OK = b'{"status":"ok"}'


async def healthz(_request: Request) -> Response:
    return Response(_OK, media_type="application/json")


router.add_api_route("/healthz", healthz, methods=["GET"], summary="Liveness")
