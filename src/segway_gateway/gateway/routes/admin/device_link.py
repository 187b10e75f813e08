"""`GET /admin/v1/device-link`: is the device link up, and how much comes through it."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from segway_gateway.gateway.routes.admin.guard import admin_endpoint, answer
from segway_gateway.gateway.runtime import Gateway

router = APIRouter(prefix="/admin/v1", tags=["Admin"])


async def link_status(_request: Request, gateway: Gateway) -> Response:
    return answer(
        200,
        {
            "transport": "mqtt" if gateway.config.broker else "memory",
            "connected": gateway.link.connected,
            "vehiclesOnline": gateway.fleet.online_count(),
            "messagesReceived": gateway.fleet.received,
            "messagesRefused": _by_reason(gateway.guard.refused) if gateway.guard else {},
        },
    )


def _by_reason(refused: Counter[tuple[str, str]]) -> dict[str, int]:
    by_reason: Counter[str] = Counter()
    for (_kind, reason), count in refused.items():
        by_reason[reason] += count
    return dict(by_reason)


router.add_api_route(
    "/device-link",
    admin_endpoint(link_status),
    methods=["GET"],
    summary="Device link: connected, vehicles online, messages received and refused",
)
