"""The console's live feed (routes/console/live.py) with a console that stops reading: it
is closed once 64 batches behind (its stream ends), while the others keep getting every
change; a suspended platform's stream ends; the feed stops polling when the last console
leaves. The store is a stand-in whose vehicles
move at every poll (the real store and HTTP path: tests/test_console.py)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from segway_gateway.gateway.console_session import ADMIN, Who
from segway_gateway.gateway.routes.console import live
from segway_gateway.gateway.store.vehicles import Vehicle

CREDENTIAL = "fingerprint"
"""What the stand-in says every valid session holds (None: suspended)."""


class MovingFleet:
    """Three vehicles, each a little further north at every read."""

    def __init__(self) -> None:
        self.reads = 0
        self.moving = True
        self.suspended: set[str] = set()

    async def reported(self) -> list[Vehicle]:
        self.reads += self.moving
        return [
            Vehicle(
                f"86100000000000{n}",
                "P1",
                True,
                0,
                status={"locked": True, "powerPercent": 50, "reportedAt": self.reads},
                location={"latitude": 22.5 + self.reads / 1e4, "longitude": 114.0 + n / 1e3},
            )
            for n in range(3)
        ]


def _feed(store: MovingFleet) -> live.LiveFeed:
    fleet = SimpleNamespace(entry=lambda _code: None)
    gateway: Any = SimpleNamespace(fleet=fleet, db=SimpleNamespace(vehicles=store), stopping=False)

    async def credential_now(who: Who) -> str | None:
        return None if who.platform_code in store.suspended else CREDENTIAL

    return live.LiveFeed(gateway, credential_now)


def test_a_console_that_stops_reading_is_dropped_and_the_others_go_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(live, "POLL_SECONDS", 0.001)
    store = MovingFleet()

    async def scenario() -> None:
        feed = _feed(store)
        stalled = feed.subscribe(Who(ADMIN), CREDENTIAL)
        reading = feed.subscribe(Who(ADMIN), CREDENTIAL)
        received = 0
        while received < 3 * 100:  # a hundred polls' changes, read as they come
            batch = await asyncio.wait_for(reading.queue.get(), 5)
            assert batch is not None, "the reading console was not closed"
            received += len(batch)
        assert stalled not in feed._subscribers, "the stalled console was dropped"
        assert stalled.queue.get_nowait() is None, "its stream ends at its next read"
        feed.unsubscribe(reading)
        reads = store.reads
        await asyncio.sleep(0.05)
        assert store.reads <= reads + 1, "no polling once the last console left"
        assert feed.latest == {}, "and nothing kept"

    asyncio.run(scenario())


def test_a_new_console_gets_the_fleet_once_then_only_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(live, "POLL_SECONDS", 0.001)
    store = MovingFleet()
    store.moving = False

    async def scenario() -> None:
        feed = _feed(store)
        console = feed.subscribe(Who(ADMIN), CREDENTIAL)
        assert len(await feed.snapshot()) == 3
        await asyncio.sleep(0.05)  # many polls, nothing changed
        assert console.queue.empty(), "the fleet was not sent again"
        store.moving = True
        batch = await asyncio.wait_for(console.queue.get(), 5)
        assert batch is not None and len(batch) == 3, "but what moved is"
        await feed.stop()

    asyncio.run(scenario())


def test_a_platform_gets_only_its_own_vehicles_until_it_is_suspended() -> None:
    store = MovingFleet()

    async def scenario() -> None:
        feed = _feed(store)
        theirs = feed.subscribe(Who("platform", "P2"), CREDENTIAL)
        mine = feed.subscribe(Who("platform", "P1"), CREDENTIAL, only="861000000000001")
        batch = await asyncio.wait_for(mine.queue.get(), 5)
        assert batch is not None and {s.iot_code for s in batch} == {"861000000000001"}
        assert theirs.queue.empty(), "P2 owns none of them"
        store.suspended.add("P1")
        while (batch := await asyncio.wait_for(mine.queue.get(), 5)) is not None:
            pass  # what was sent before the suspension
        assert mine not in feed._subscribers, "a suspended platform's stream ended"
        await feed.stop()
        assert feed.latest == {}

    asyncio.run(scenario())


def test_a_feed_stopped_before_it_ran_still_answers_a_snapshot() -> None:
    async def scenario() -> None:
        feed = _feed(MovingFleet())
        feed.subscribe(Who(ADMIN), CREDENTIAL)
        await feed.stop()  # its task was cancelled before it ever ran
        assert len(await asyncio.wait_for(feed.snapshot(), 5)) == 3

    asyncio.run(scenario())
