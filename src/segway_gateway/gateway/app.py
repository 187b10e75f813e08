"""The ASGI application factory."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException

from segway_gateway.clock import Clock, system_clock
from segway_gateway.gateway.config import GatewayConfig
from segway_gateway.gateway.metrics import Metrics
from segway_gateway.gateway.periodic import every
from segway_gateway.gateway.routes.admin import access, device_link, faults, geofences, pushes
from segway_gateway.gateway.routes.console import admin_pages as console_admin
from segway_gateway.gateway.routes.console import guard as console_guard
from segway_gateway.gateway.routes.console import pages as console_pages
from segway_gateway.gateway.routes.console import push_log as console_push_log
from segway_gateway.gateway.routes.console import templating as console_templating
from segway_gateway.gateway.routes.console import vehicle_page as console_vehicle
from segway_gateway.gateway.routes.console.live import LiveFeed
from segway_gateway.gateway.routes.ops import api_docs, health, metrics_route
from segway_gateway.gateway.routes.vendor import commands, docs, edges, oauth, queries
from segway_gateway.gateway.runtime import Gateway
from segway_gateway.gateway.traffic import SUMMARY_SECONDS, Traffic, observing

DESCRIPTION = """\
An open implementation of the Segway API of Gateway (e-bike C80).

Every API answer is HTTP 200 with the envelope `{code, msg, data, t, opId}`;
`code` 0 is success. Get a token from `/oauth/token`, then send it as
`Authorization: bearer <token>`.
"""


def create_app(
    config: GatewayConfig, clock: Clock = system_clock, extra_routers: Sequence[APIRouter] = ()
) -> FastAPI:
    """The gateway's app; `extra_routers` are served beside the API (the demo's receiver)."""
    gateway = Gateway(config, clock)
    traffic = Traffic(clock)
    metrics = Metrics(gateway) if config.metrics else None
    outbox = gateway.db.outbox  # the push dispatcher records its attempts through it
    observers = [traffic.pushed] if metrics is None else [traffic.pushed, metrics.pushed]
    outbox.record = observing(outbox.record, *observers)  # type: ignore[method-assign,assignment]
    console_feed = LiveFeed(gateway, functools.partial(console_guard.credential_now, gateway))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.gateway = gateway
        await gateway.start()
        summary = asyncio.create_task(
            every(SUMMARY_SECONDS, traffic.report, "the summary", clock), name="summary"
        )
        try:
            yield
        finally:
            summary.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await summary
            await console_feed.stop()
            await gateway.stop()
            await traffic.report(final=True)

    app = FastAPI(
        title="segway-gateway",
        version="0.1.0",
        summary="Segway fleet IoT API (e-bike C80)",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served from the package by api_docs, not from a CDN
        redoc_url=None,
    )
    app.mount(api_docs.ASSETS, api_docs.assets(), name="docs-assets")
    app.mount(console_templating.STATIC_PATH, console_templating.static_files(), name="console")
    app.state.traffic = traffic
    app.state.console_feed = console_feed
    app.state.metrics = metrics
    # under /api and /oauth: the envelope for 404, 405 and failures (edges.py)
    app.add_exception_handler(HTTPException, edges.http_exception_handler_for(traffic))
    app.add_middleware(edges.EnvelopeGuard, traffic=traffic)
    vendor, admin, ops, console = (
        (oauth, queries, commands),
        (faults, geofences, device_link, pushes, access),
        (health, metrics_route, api_docs),
        (console_pages, console_vehicle, console_push_log, console_admin),
    )
    for module in (*vendor, *admin, *ops, *console):
        app.include_router(module.router)
    for router in extra_routers:
        app.include_router(router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            _, defs = models_json_schema(
                [(m, "validation") for m in docs.REQUEST_MODELS], ref_template=docs.REF
            )
            components = schema.setdefault("components", {})
            components.setdefault("schemas", {}).update(defs.get("$defs", {}))
            components["securitySchemes"] = {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "token from /oauth/token",
                }
            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
