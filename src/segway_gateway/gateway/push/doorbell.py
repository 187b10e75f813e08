"""How the fleet, a replay or the dispatcher itself says that pushes wait, and for which
platforms: a ring that names them spares the dispatcher a look through the whole outbox
for each new push."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

from segway_gateway.clock import Clock


class Doorbell:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._rung = asyncio.Event()
        self._platforms: set[str] = set()
        self._anywhere = False

    def ring(self, platforms: Iterable[str] | None = None) -> None:
        """Pushes wait for these platforms; with None, somewhere in the outbox."""
        if platforms is None:
            self._anywhere = True
        else:
            self._platforms.update(platforms)
        self._rung.set()

    async def wait(self, at_most: float) -> set[str] | None:
        """Until a ring, or `at_most` seconds: the platforms named since the last wait
        (none after a quiet wait), or None when a ring did not say."""
        with contextlib.suppress(TimeoutError):
            await self._clock.wait_for(self._rung.wait(), max(0.0, at_most))
        self._rung.clear()
        platforms, self._platforms = self._platforms, set()
        anywhere, self._anywhere = self._anywhere, False
        return None if anywhere else platforms
