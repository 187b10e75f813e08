"""The console's live feed: Server-Sent Events of the vehicles that changed.

One feed per instance serves every console open on it. While at least one is open, it
reads the fleet from the store once every `POLL_SECONDS` (one query, whichever instance
took the reports: the store is where they all land) and sends each console the vehicles
of its scope whose summary changed, with the link's presence. Nothing runs while no
console is open. A console that does not read its events (its queue fills up) is closed,
so it never holds the others back; the browser reconnects and starts again from a full
snapshot. So is a console whose session has ended (a new secret, the platform removed or
suspended, another admin token: its reconnection gets the login page). The feed
also keeps each vehicle's last fixes (the trail the vehicle view draws), as far back as
it has watched.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from segway_gateway.gateway.console_session import Who
from segway_gateway.gateway.routes.console.guard import credential_now
from segway_gateway.gateway.routes.console.summaries import Summary, summarize
from segway_gateway.gateway.runtime import Gateway

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
TRAIL_LENGTH = 20
_QUEUE_SIZE = 64
_CLOSED = None


CredentialNow = Callable[[Who], Awaitable[str | None]]
"""The fingerprint a valid session of someone holds now, None if none is (guard.py)."""


class _Subscriber:
    def __init__(self, who: Who, credential: str, only: str | None) -> None:
        self.who = who
        self.credential = credential
        """The session's fingerprint: the stream ends when it is no longer the current one
        (a new secret, the platform removed or suspended, another admin token)."""
        self.only = only
        """One vehicle's iotCode (its view), or None: every vehicle the session sees."""
        self.queue: asyncio.Queue[list[Summary] | None] = asyncio.Queue(_QUEUE_SIZE)

    def sees(self, summary: Summary) -> bool:
        if self.only is not None and summary.iot_code != self.only:
            return False
        return self.who.is_admin or summary.platform == self.who.platform_code

    def offer(self, changed: list[Summary]) -> bool:
        """Queue what this console sees of `changed`; False if it is too far behind."""
        mine = [summary for summary in changed if self.sees(summary)]
        if not mine:
            return True
        try:
            self.queue.put_nowait(mine)
        except asyncio.QueueFull:
            return False
        return True

    def close(self) -> None:
        """End the stream: what it has not read yet is dropped, the end is next."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(_CLOSED)


class LiveFeed:
    def __init__(self, gateway: Gateway, credential_now: CredentialNow) -> None:
        self._gateway = gateway
        self._credential_now = credential_now
        self._subscribers: set[_Subscriber] = set()
        self._task: asyncio.Task[None] | None = None
        self.latest: dict[str, Summary] = {}
        """Each vehicle's summary at the last poll (empty while the feed is stopped)."""
        self._polled = asyncio.Event()
        """Set once the running feed has read the fleet: `latest` is what it sends changes
        from, so it is every new console's snapshot."""
        self._trails: dict[str, deque[tuple[float, float]]] = {}

    def trail(self, iot_code: str) -> list[tuple[float, float]]:
        """The vehicle's last fixes seen by the feed, oldest first, as (lat, lng)."""
        return list(self._trails.get(iot_code, ()))

    async def snapshot(self) -> dict[str, Summary]:
        """Every vehicle's summary now: the last poll's if the feed runs (a console then
        gets every change after it, and none twice), else read now (also when the feed's
        first read failed)."""
        if self._task is None:
            return await self._read()
        await self._polled.wait()
        return self.latest or await self._read()

    def subscribe(self, who: Who, credential: str, only: str | None = None) -> _Subscriber:
        subscriber = _Subscriber(who, credential, only)
        self._subscribers.add(subscriber)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="console-live-feed")
        return subscriber

    def unsubscribe(self, subscriber: _Subscriber) -> None:
        self._subscribers.discard(subscriber)

    async def stop(self) -> None:
        """End every stream (the instance is draining or stopping)."""
        for subscriber in self._subscribers:
            subscriber.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._reset()  # also when the task was cancelled before it ever ran

    async def _run(self) -> None:
        try:
            while self._subscribers and not self._gateway.stopping:
                try:
                    changed = await self._poll()
                except Exception:  # the store is away: try again next time
                    log.warning("console feed: could not read the fleet", exc_info=True)
                    changed = []
                if not self._polled.is_set():  # the first: the consoles' snapshot
                    self._polled.set()
                    changed = []
                current = {
                    who: await self._credential_now(who)
                    for who in {subscriber.who for subscriber in self._subscribers}
                }
                for subscriber in list(self._subscribers):
                    valid = current.get(subscriber.who) == subscriber.credential
                    if not valid or not subscriber.offer(changed):
                        self._subscribers.discard(subscriber)
                        subscriber.close()
                await asyncio.sleep(POLL_SECONDS)
            for subscriber in self._subscribers:
                subscriber.close()
        finally:
            self._reset()

    def _reset(self) -> None:
        """Stopped: nothing kept; a snapshot waiting for a poll that never came reads."""
        self._task = None
        self._polled.set()
        self._polled = asyncio.Event()
        self.latest = {}
        self._trails.clear()

    async def _read(self) -> dict[str, Summary]:
        fleet = self._gateway.fleet
        return {
            vehicle.iot_code: summarize(fleet, vehicle)
            for vehicle in await self._gateway.db.vehicles.reported()
        }

    async def _poll(self) -> list[Summary]:
        """Read the fleet; the summaries that changed since the last poll."""
        now = await self._read()
        changed = [s for code, s in now.items() if self.latest.get(code) != s]
        for summary in changed:
            fix = summary.fix
            if fix is not None:
                trail = self._trails.setdefault(summary.iot_code, deque(maxlen=TRAIL_LENGTH))
                if not trail or trail[-1] != fix:
                    trail.append(fix)
        self.latest = now
        return changed


def _event(summaries: list[Summary]) -> bytes:
    return b"event: vehicles\ndata: " + orjson.dumps([s.wire() for s in summaries]) + b"\n\n"


async def stream(request: Request, gateway: Gateway, who: Who) -> Response:
    """`GET /console/live[?iot=…]`: a snapshot of the session's vehicles (or of the one
    asked for), then their changes."""
    feed: LiveFeed = request.app.state.console_feed
    if gateway.stopping:
        return Response("draining", 503)
    only = request.query_params.get("iot") or None
    credential = await credential_now(gateway, who)
    if credential is None:  # ended since the guard looked
        return Response("no session", 401)

    async def events() -> AsyncIterator[bytes]:
        subscriber = feed.subscribe(who, credential, only)  # here: one never started leaves none
        try:
            snapshot = [s for s in (await feed.snapshot()).values() if subscriber.sees(s)]
            yield b"retry: 2000\n" + _event(snapshot)
            while True:
                try:
                    changed = await asyncio.wait_for(subscriber.queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                if changed is _CLOSED:
                    return
                yield _event(changed)
        finally:
            feed.unsubscribe(subscriber)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
