"""Background work repeated at an interval, logging a failure once and its recovery once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from segway_gateway.clock import Clock

log = logging.getLogger(__name__)


async def every(
    seconds: float,
    action: Callable[[], Awaitable[None]],
    what: str,
    clock: Clock,
    hurry: asyncio.Event | None = None,
    hurried: float = 0.0,
    at_once: bool = False,
) -> None:
    """Run `action` every `seconds` until cancelled (first at once, with `at_once`);
    failures are retried next time. When `hurry` is set, run it `hurried` seconds later
    instead (so what else comes meanwhile goes along) and start counting again; not while
    it fails."""
    failing = False
    while True:
        if not at_once:
            await _pause(clock, seconds, None if failing else hurry, hurried)
        at_once = False
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


async def _pause(clock: Clock, seconds: float, hurry: asyncio.Event | None, hurried: float) -> None:
    if hurry is None:
        await clock.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await clock.wait_for(hurry.wait(), seconds)
        await clock.sleep(hurried)
    hurry.clear()
