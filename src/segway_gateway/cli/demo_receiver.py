"""The demo's own push receiver: `serve --demo` points its platform here and logs each push.

So that `make run` shows pushes without a second program: the same receiver
kit an operator would mount (signature checked with the demo secret), under
`/demo/pushes`, each push one INFO line.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter

from segway_gateway.cli.demo import DEMO_SECRET
from segway_gateway.contract.pushes import PushEvent
from segway_gateway.webhooks.receiver import push_router

PREFIX = "/demo/pushes"
log = logging.getLogger("segway_gateway.demo.pushes")


def _show(event: PushEvent) -> None:
    fields = event.model_dump(by_alias=True, exclude={"iot_code", "platform_code", "event_id"})
    shown = " ".join(f"{name}={value}" for name, value in fields.items())
    log.info("push %s %s %s", event.kind, event.iot_code, shown)


def router() -> APIRouter:
    """The receiver routes, checking signatures with the demo platform's secret."""
    return push_router(DEMO_SECRET, _show, prefix=PREFIX)
