"""Whether this instance can do its work now: what `GET /readyz` answers.

Three parts must be up: the database (a trivial query answers within DATABASE_TIMEOUT),
the device link (connected to the broker; in process, always), and the push dispatcher
(its loop runs). An instance that is stopping is not ready either, so a load balancer
sends it nothing new while it finishes what it has. Each probe checks afresh, at most
once per CACHE_SECONDS however many ask, so a failure shows within about
DATABASE_TIMEOUT and a recovery at the next probe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from segway_gateway.clock import Clock

DATABASE_TIMEOUT = 3.0
CACHE_SECONDS = 1.0
OK = "ok"


@dataclass(frozen=True)
class Parts:
    """How to look at each part: a ping of the database, and two flags."""

    ping_database: Callable[[], Awaitable[None]]
    link_connected: Callable[[], bool]
    pushes_running: Callable[[], bool]
    stopping: Callable[[], bool]


class Readiness:
    def __init__(self, parts: Parts, clock: Clock) -> None:
        self._parts = parts
        self._clock = clock
        self._last: tuple[float, dict[str, str]] | None = None
        self._checking: asyncio.Lock = asyncio.Lock()

    async def check(self) -> dict[str, str]:
        """Each part's state: "ok", or what is wrong with it."""
        async with self._checking:  # probes that come together share one look
            now = self._clock.monotonic()
            if self._last is not None and now - self._last[0] < CACHE_SECONDS:
                return self._last[1]
            states = {
                "database": await self._database(),
                "deviceLink": OK if self._parts.link_connected() else "not connected",
                "pushes": OK if self._parts.pushes_running() else "dispatcher stopped",
            }
            if self._parts.stopping():
                states["gateway"] = "stopping"
            self._last = (self._clock.monotonic(), states)
            return states

    async def _database(self) -> str:
        try:
            await asyncio.wait_for(self._parts.ping_database(), DATABASE_TIMEOUT)
        except TimeoutError:
            return f"no answer within {DATABASE_TIMEOUT:g} s"
        except Exception as exc:
            return f"unreachable: {type(exc).__name__}"
        return OK
