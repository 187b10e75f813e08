"""Background work repeated at an interval, logging a failure once and its recovery once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def every(seconds: float, action: Callable[[], Awaitable[None]], what: str) -> None:
    """Run `action` every `seconds` until cancelled; failures are retried next time."""
    failing = False
    while True:
        await asyncio.sleep(seconds)
        try:
            await action()
        except Exception:
            if not failing:
                log.exception("%s failed; will retry every %s s", what, seconds)
            failing = True
        else:
            if failing:
                log.info("%s recovered", what)
            failing = False
