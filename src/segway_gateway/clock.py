"""Time as a dependency: everything that reads time or waits for it asks a `Clock`.

`system_clock` is real time. `JumpClock` runs with real time but can be moved
forward at once (`advance`): whatever waits on it wakes as if that time had
passed, so a test of a 900 s interval, a retry or a lease takes milliseconds
while everything else keeps running as it would. `advance` may be called from
any thread; the waits happen on the event loops that asked for them.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Timer(Protocol):
    def cancel(self) -> Any: ...


class Clock(Protocol):
    def __call__(self) -> float:
        """Epoch seconds."""
        ...

    def monotonic(self) -> float:
        """Seconds that never go back, for durations and schedules."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return once `seconds` have passed on this clock."""
        ...

    async def wait_for(self, awaitable: Awaitable[T], seconds: float) -> T:
        """`awaitable`'s result, or TimeoutError once `seconds` passed on this clock first."""
        ...

    def call_later(self, seconds: float, callback: Callable[..., object], *args: Any) -> Timer:
        """Call `callback(*args)` on the running loop once `seconds` passed on this clock."""
        ...


class SystemClock:
    """Real time."""

    def __call__(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def wait_for(self, awaitable: Awaitable[T], seconds: float) -> T:
        return await asyncio.wait_for(awaitable, seconds)

    def call_later(self, seconds: float, callback: Callable[..., object], *args: Any) -> Timer:
        return asyncio.get_running_loop().call_later(seconds, callback, *args)


system_clock = SystemClock()


class JumpClock:
    """Real time plus an offset that `advance` grows, waking whatever waits past it."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()
        self._sleepers: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()
        self._timers: set[asyncio.Task[None]] = set()
        """`call_later` tasks still to run (the loop keeps only weak references)."""

    def __call__(self) -> float:
        return time.time() + self._offset

    def monotonic(self) -> float:
        return time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        """Move time forward by `seconds` at once; every wait past the new time ends."""
        if seconds < 0:
            raise ValueError("a clock does not go back")
        with self._lock:
            self._offset += seconds
            sleepers = list(self._sleepers)
        for loop, future in sleepers:
            if not loop.is_closed():
                loop.call_soon_threadsafe(_wake, future)

    async def sleep(self, seconds: float) -> None:
        deadline = self.monotonic() + seconds
        loop = asyncio.get_running_loop()
        while (remaining := deadline - self.monotonic()) > 0:
            jumped: asyncio.Future[None] = loop.create_future()
            entry = (loop, jumped)
            with self._lock:
                self._sleepers.add(entry)
            try:
                await asyncio.wait_for(jumped, remaining)
            except TimeoutError:
                pass
            finally:
                with self._lock:
                    self._sleepers.discard(entry)

    async def wait_for(self, awaitable: Awaitable[T], seconds: float) -> T:
        task = asyncio.ensure_future(awaitable)
        timer = asyncio.ensure_future(self.sleep(seconds))
        try:
            await asyncio.wait((task, timer), return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.cancel()
            raise
        finally:
            timer.cancel()
        if task.done():
            return task.result()
        task.cancel()
        raise TimeoutError

    def call_later(self, seconds: float, callback: Callable[..., object], *args: Any) -> Timer:
        async def later() -> None:
            await self.sleep(seconds)
            callback(*args)

        task = asyncio.get_running_loop().create_task(later(), name="clock-call-later")
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)
        return task


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
