"""Registering platforms and vehicles: the one way the CLI and the console's admin pages add
them (the admin API has no endpoint for it), so both store a secret alike and refuse the
same weak ones.

The CLI imports this module without the server's dependencies (test_sdk_alone): what
needs them is imported inside the functions that store.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from segway_gateway.gateway.store.db import Database

MIN_SECRET_LENGTH = 16
"""Shorter client secrets are refused unless explicitly allowed (docs/security.md)."""

_PUSH_URL = re.compile(r"https?://[^\s/]+")


def check_secret(secret: str, allow_weak: bool, how_to_allow: str) -> None:
    """Refuse (ValueError) an empty secret, and one shorter than MIN_SECRET_LENGTH unless
    allowed; the message says a short one is allowed with `how_to_allow`."""
    if not secret:
        raise ValueError("must not be empty")
    if len(secret) < MIN_SECRET_LENGTH and not allow_weak:
        raise ValueError(
            f"is {len(secret)} characters long: use at least {MIN_SECRET_LENGTH}"
            f" (a random UUID has 36), or {how_to_allow}"
        )


def check_push_url(push_url: str) -> None:
    """Refuse (ValueError) a push URL that is not http or https."""
    if not _PUSH_URL.match(push_url):
        raise ValueError("use an http:// or https:// URL")


async def add_platform(
    db: Database, key: bytes, code: str, secret: str, push_url: str | None
) -> None:
    """Add a platform: its secret hashed (for token requests) and sealed (to sign pushes).
    Hashing takes a CPU-heavy while, in a thread: a serving gateway answers on meanwhile."""
    from segway_gateway.gateway.crypto import hash_secret
    from segway_gateway.gateway.sealing import seal
    from segway_gateway.gateway.store.platforms import Platform

    secret_hash = await asyncio.to_thread(hash_secret, secret)
    platform = Platform(code, secret_hash, push_url, int(time.time() * 1000))
    await db.platforms.add(platform, seal(key, code, secret))


async def add_vehicles(
    db: Database, iot_codes: Sequence[str], platform_code: str, active: bool
) -> None:
    """Register vehicles to a platform, all or none (inactive ones answer 15300)."""
    from segway_gateway.gateway.store.vehicles import Vehicle

    now = int(time.time() * 1000)
    await db.vehicles.add(*(Vehicle(code, platform_code, active, now) for code in iot_codes))
