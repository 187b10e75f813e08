"""The ASGI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from pydantic.json_schema import models_json_schema

from segway_gateway.gateway.clock import Clock, system_clock
from segway_gateway.gateway.config import GatewayConfig
from segway_gateway.gateway.demo_receiver import demo_receiver
from segway_gateway.gateway.routes import (
    admin,
    commands,
    docs,
    geofences,
    health,
    link_status,
    oauth,
    pushes,
    queries,
)
from segway_gateway.gateway.runtime import Gateway

DESCRIPTION = """\
An open implementation of the Segway API of Gateway (e-bike C80).

Every API answer is HTTP 200 with the envelope `{code, msg, data, t, opId}`;
`code` 0 is success. Get a token from `/oauth/token`, then send it as
`Authorization: bearer <token>`.
"""


def create_app(config: GatewayConfig, clock: Clock = system_clock) -> FastAPI:
    gateway = Gateway(config, clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.gateway = gateway
        await gateway.start()
        try:
            yield
        finally:
            await gateway.stop()

    app = FastAPI(
        title="segway-gateway",
        version="0.1.0",
        summary="Segway fleet IoT API (e-bike C80)",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    routers = (oauth, queries, commands, health, admin, geofences, link_status, pushes)
    for module in routers:
        app.include_router(module.router)
    if config.demo_receiver_secret is not None:
        app.include_router(demo_receiver(config.demo_receiver_secret))

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
