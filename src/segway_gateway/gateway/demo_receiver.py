"""The demo's own push receiver: `serve --demo` points its platform here and logs each push.

So that `make run` shows pushes without a second program: the same receiver
kit an operator would mount (signature checked with the demo secret), under
`/demo/pushes`, each push one INFO line.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter

from segway_gateway.webhooks.events import PushEvent
from segway_gateway.webhooks.receiver import push_router

PREFIX = "/demo/pushes"
log = logging.getLogger("segway_gateway.demo.pushes")


def _show(event: PushEvent) -> None:
    fields = event.model_dump(by_alias=True, exclude={"iot_code", "platform_code", "event_id"})
    shown = " ".join(f"{name}={value}" for name, value in fields.items())
    log.info("push %s %s %s", event.kind, event.iot_code, shown)


def demo_receiver(secret: str) -> APIRouter:
    """The receiver routes for the demo platform's secret."""
    return push_router(secret, _show, prefix=PREFIX)
