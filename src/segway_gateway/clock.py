"""Time as a dependency, so tests can move it instead of waiting."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def __call__(self) -> float:
        """Epoch seconds."""
        ...


def system_clock() -> float:
    return time.time()


class ManualClock:
    """A clock that starts at the real time and moves only when told."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
