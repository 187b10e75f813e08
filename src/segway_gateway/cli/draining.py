"""A uvicorn server that drains before it stops, and exits 0.

On the first SIGTERM the listener stays open and requests keep being served while
`/readyz` answers 503 (`on_drain`), so that a load balancer takes the instance out of
rotation before it goes; the drain ends once nothing is in flight and at least
`min_drain` seconds (the command timeout: a command under way gets its answer) have
passed, or after `drain_timeout` seconds whatever is in flight. SIGINT (Ctrl-C at a
terminal, where no load balancer watches) drains only what is in flight. Then uvicorn's own
shutdown: the listener closes, the last answers go out, the app's lifespan stops the
gateway (the push dispatcher gives its claimed pushes back), and `run` returns instead
of raising the signal again, so the process exits 0. A second signal stops at once.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from types import FrameType

import uvicorn

log = logging.getLogger("segway_gateway.serve")


class DrainingServer(uvicorn.Server):
    def __init__(
        self,
        config: uvicorn.Config,
        on_drain: Callable[[], None],
        min_drain: float,
        drain_timeout: float,
    ) -> None:
        super().__init__(config)
        self._on_drain = on_drain
        self._min_drain = min(min_drain, drain_timeout)
        self._drain_timeout = drain_timeout
        self._drain_started: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Not uvicorn's: the signal is never raised again after the shutdown."""
        if self._drain_started is None and self.started:
            self._drain_started = time.monotonic()
            if sig == signal.SIGINT:
                self._min_drain = 0.0
            self._on_drain()
            log.info(
                "draining: not ready; serving what comes for %g to %g s, then stopping",
                self._min_drain,
                self._drain_timeout,
            )
        elif self.should_exit:
            self.force_exit = True
        else:
            self.should_exit = True

    async def on_tick(self, counter: int) -> bool:
        if await super().on_tick(counter):
            return True
        if self._drain_started is None:
            return False
        elapsed = time.monotonic() - self._drain_started
        in_flight = len(self.server_state.tasks)
        return (elapsed >= self._min_drain and not in_flight) or elapsed >= self._drain_timeout
