"""The dispatcher when things go wrong around it: the store failing, a platform removed
while its pushes are in flight, an unusable push URL, a stop with pushes claimed."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from segway_gateway.clock import JumpClock, system_clock
from segway_gateway.contract.pushes import PushEvent
from segway_gateway.gateway.crypto import load_key
from segway_gateway.gateway.push.dispatcher import POLL_SECONDS, PushDispatcher
from segway_gateway.gateway.push.doorbell import Doorbell
from segway_gateway.gateway.store.db import Database
from segway_gateway.gateway.store.outbox import LogQuery
from segway_gateway.gateway.store.tables import push_outbox
from tests.conftest import PLATFORM
from tests.test_push_claims import add_pushes, delivered_and_attempts, seed
from tests.test_pushes import receiving

OTHER = "A30001"


async def states(db: Database) -> list[tuple[str, int]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(select(push_outbox.c.state, push_outbox.c.attempts))
        return sorted((r.state, r.attempts) for r in rows)


async def eventually(check: Any, seconds: float = 30) -> None:
    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not in time")


def test_attempts_the_store_could_not_record_are_recorded_later_and_not_sent_again(
    tmp_path: Path,
) -> None:
    received: list[str] = []

    async def story(url: str) -> None:
        key = load_key(tmp_path / "gateway.key")
        async with Database(f"sqlite:///{tmp_path / 'gateway.db'}") as db:
            await seed(db, key, url, 3)
            record = db.outbox.record
            failures = 0

            async def failing_once(outcomes: Any) -> None:
                nonlocal failures
                if failures == 0:
                    failures += 1
                    raise ConnectionError("injected: the store is away")
                await record(outcomes)

            db.outbox.record = failing_once  # type: ignore[method-assign]
            dispatcher = PushDispatcher(db, key, Doorbell(system_clock), system_clock)
            running = asyncio.create_task(dispatcher.run())

            async def all_recorded() -> bool:
                return await delivered_and_attempts(db) == (3, 3)

            await eventually(all_recorded)
            await asyncio.sleep(1.5)  # a second round, were anything left pending
            dispatcher.stop()
            await running
            await dispatcher.close()
            assert failures == 1 and len(received) == 3

    async def keep(event: PushEvent) -> None:
        assert event.event_id is not None
        received.append(event.event_id)

    with receiving(keep) as url:
        asyncio.run(story(url))


def test_a_platform_removed_while_its_pushes_fly_does_not_cost_another_its_record(
    db_url: str, tmp_path: Path
) -> None:
    async def story(url: str) -> None:
        key = load_key(tmp_path / "gateway.key")
        async with Database(db_url) as db:
            await seed(db, key, url, 4)  # one a slot: all under way when the stop comes
            await seed(db, key, url, 4, platform_code=OTHER)
            dispatcher = PushDispatcher(db, key, Doorbell(system_clock), system_clock)
            await dispatcher.deliver_due()
            await db.platforms.remove(OTHER)  # its outbox rows go with it, mid-flight
            await dispatcher.close()
            assert await delivered_and_attempts(db) == (4, 4)
            assert await states(db) == [("delivered", 1)] * 4

    async def slowly(event: PushEvent) -> None:
        await asyncio.sleep(0.2)

    with receiving(slowly) as url:
        asyncio.run(story(url))


def test_an_unusable_push_url_is_a_failed_attempt_in_the_log(tmp_path: Path) -> None:
    async def story() -> None:
        key = load_key(tmp_path / "gateway.key")
        clock = JumpClock()
        async with Database(f"sqlite:///{tmp_path / 'gateway.db'}") as db:
            await seed(db, key, "http://receiver:port-is-not-a-number", 1)
            dispatcher = PushDispatcher(db, key, Doorbell(clock), clock)
            await dispatcher.deliver_due()
            await asyncio.sleep(0.5)
            clock.advance(5.1)  # the document's second attempt, 5 s after the first ended
            await dispatcher.close()
            dispatcher = PushDispatcher(db, key, Doorbell(clock), clock)
            await dispatcher.deliver_due()
            await asyncio.sleep(0.5)
            await dispatcher.close()
            log = await db.outbox.log(LogQuery(PLATFORM))
            assert [(e.state, e.attempt.http_status) for e in log] == [("dead", None)] * 2
            assert "InvalidURL" in log[0].attempt.excerpt

    asyncio.run(story())


def test_a_stop_gives_back_the_pushes_claimed_and_not_started(tmp_path: Path) -> None:
    async def story(url: str) -> None:
        key = load_key(tmp_path / "gateway.key")
        async with Database(f"sqlite:///{tmp_path / 'gateway.db'}") as db:
            await seed(db, key, url, 40)
            dispatcher = PushDispatcher(db, key, Doorbell(system_clock), system_clock)
            await dispatcher.deliver_due()  # claims more than its 4 slots start
            await asyncio.sleep(0.1)
            await dispatcher.close()
            delivered, _ = await delivered_and_attempts(db)
            assert 0 < delivered < 40
            async with db.engine.connect() as conn:
                pending = select(push_outbox.c.due_at).where(push_outbox.c.state == "pending")
                due = list((await conn.execute(pending)).scalars())
            assert len(due) == 40 - delivered
            assert max(due) <= time.time() * 1000, "due at once, not when a lease ends"

    async def slowly(event: PushEvent) -> None:
        await asyncio.sleep(0.3)

    with receiving(slowly) as url:
        asyncio.run(story(url))


def test_a_push_nobody_rang_for_goes_out_while_rings_for_another_platform_keep_coming(
    tmp_path: Path,
) -> None:
    """A retry that came due, or a replay by the CLI, rings no doorbell in this process:
    the look through the whole outbox finds it, however busy the rings keep the dispatcher."""

    async def story(url: str) -> None:
        key = load_key(tmp_path / "gateway.key")
        async with Database(f"sqlite:///{tmp_path / 'gateway.db'}") as db:
            await seed(db, key, url, 0)
            doorbell = Doorbell(system_clock)
            claim = db.outbox.claim

            async def claim_and_ring_again(*args: Any) -> Any:
                claimed = await claim(*args)
                doorbell.ring([OTHER])  # a ring always waits: the dispatcher is never idle
                return claimed

            db.outbox.claim = claim_and_ring_again  # type: ignore[method-assign]
            dispatcher = PushDispatcher(db, key, doorbell, system_clock)
            running = asyncio.create_task(dispatcher.run())
            doorbell.ring([OTHER])
            await asyncio.sleep(0.2)  # the dispatcher's first look is behind it
            await add_pushes(db, 1)

            async def delivered() -> bool:
                return await delivered_and_attempts(db) == (1, 1)

            await eventually(delivered, POLL_SECONDS + 5)
            dispatcher.stop()
            await running
            await dispatcher.close()

    async def keep(event: PushEvent) -> None:
        pass

    with receiving(keep) as url:
        asyncio.run(story(url))
