"""GET /metrics: the Prometheus text format (gateway/metrics.py), no token needed."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from segway_gateway.gateway.metrics import CONTENT_TYPE, Metrics

router = APIRouter(tags=["Operations"])


async def metrics(request: Request) -> Response:
    counted: Metrics | None = request.app.state.metrics
    if counted is None:
        return Response(b"metrics are off (serve --no-metrics)\n", 404, media_type="text/plain")
    return Response(await counted.exposition(), media_type=CONTENT_TYPE)


router.add_api_route(
    "/metrics",
    metrics,
    methods=["GET"],
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}}, 404: {"description": "Metrics are off"}},
)
