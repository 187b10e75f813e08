"""The push receiver kit for an operator's backend: signatures, typed events, a receiver.

`receiver` (push_router, push_app) needs FastAPI, from the `gateway` extra; the
rest needs only pydantic, so any web framework can verify and parse pushes.
"""

from __future__ import annotations

from segway_gateway.contract.pushes import (
    AlertPush,
    FaultPush,
    InvalidPush,
    LocationPush,
    PushEvent,
    PushKind,
    StatusPush,
    parse_push,
)
from segway_gateway.webhooks.signing import sign, signed, verify

__all__ = [
    "AlertPush",
    "FaultPush",
    "InvalidPush",
    "LocationPush",
    "PushEvent",
    "PushKind",
    "StatusPush",
    "parse_push",
    "sign",
    "signed",
    "verify",
]
