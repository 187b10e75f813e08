"""Gateway instances sharing one database share its outbox: each push goes out once,
and a push claimed by an instance that died goes out when its lease ends."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from segway_gateway.clock import JumpClock, system_clock
from segway_gateway.contract.pushes import PushEvent
from segway_gateway.gateway.crypto import hash_secret, load_key
from segway_gateway.gateway.push.dispatcher import LEASE_MS, PushDispatcher
from segway_gateway.gateway.push.doorbell import Doorbell
from segway_gateway.gateway.push.forms import outgoing, status_push
from segway_gateway.gateway.sealing import seal
from segway_gateway.gateway.store.db import Database
from segway_gateway.gateway.store.outbox import DELIVERED, enqueue
from segway_gateway.gateway.store.platforms import Platform
from segway_gateway.gateway.store.tables import push_attempts, push_outbox
from segway_gateway.sim.city import SHENZHEN
from segway_gateway.sim.state import new_state
from segway_gateway.sim.vehicle import SimVehicle
from tests.conftest import PLATFORM
from tests.harness import DOC_SECRET
from tests.test_pushes import receiving

VEHICLE = "869940000000001"
_RNG = random.Random(7)
_REPORTS = itertools.count(1_700_000_000_000)
STATUS = SimVehicle(new_state(VEHICLE, SHENZHEN, _RNG), SHENZHEN, _RNG).status(1_700_000_000)


async def seed(
    db: Database, key: bytes, push_url: str, pushes: int, platform_code: str = PLATFORM
) -> set[str]:
    """A platform with its push URL and sealed secret, and `pushes` status pushes."""
    sealed = seal(key, platform_code, DOC_SECRET)
    await db.platforms.add(Platform(platform_code, hash_secret(DOC_SECRET), push_url, 0), sealed)
    return await add_pushes(db, pushes, platform_code)


async def add_pushes(db: Database, pushes: int, platform_code: str = PLATFORM) -> set[str]:
    """`pushes` status pushes in the outbox, the doorbell not rung; their event ids (each
    push a report of its own: the same report would be the same push)."""
    now = time.time()
    reports = (STATUS.model_copy(update={"reported_at": next(_REPORTS)}) for _ in range(pushes))
    accepted = [outgoing(status_push(VEHICLE, platform_code, True, r), now) for r in reports]
    async with db.engine.begin() as conn:
        await enqueue(conn, accepted)
    return {push.event_id for push in accepted}


async def delivered_and_attempts(db: Database) -> tuple[int, int]:
    async with db.engine.connect() as conn:
        delivered = await conn.scalar(select(func.count()).where(push_outbox.c.state == DELIVERED))
        attempts = await conn.scalar(select(func.count()).select_from(push_attempts))
    return int(delivered or 0), int(attempts or 0)


async def until(condition: asyncio.Event, seconds: float) -> None:
    await asyncio.wait_for(condition.wait(), seconds)


def test_two_instances_on_one_database_send_each_push_once(db_url: str, tmp_path: Path) -> None:
    received: Counter[str] = Counter()
    all_in = asyncio.Event()
    pushes = 300

    async def story(url: str) -> None:
        key = load_key(tmp_path / "gateway.key")
        async with Database(db_url) as first_db, Database(db_url) as second_db:
            accepted = await seed(first_db, key, url, pushes)
            instances = [
                PushDispatcher(db, key, Doorbell(system_clock), system_clock)
                for db in (first_db, second_db)
            ]
            runs = [asyncio.create_task(instance.run()) for instance in instances]
            await until(all_in, 60)
            for instance in instances:
                instance.stop()
            await asyncio.gather(*runs)
            for instance in instances:
                await instance.close()
            assert set(received) == accepted
            assert await delivered_and_attempts(first_db) == (pushes, pushes)
        duplicates = {event_id: n for event_id, n in received.items() if n > 1}
        assert not duplicates, f"{len(duplicates)} pushes sent twice"

    async def count(event: PushEvent) -> None:
        assert event.event_id is not None
        received[event.event_id] += 1
        if len(received) == pushes:
            loop.call_soon_threadsafe(all_in.set)

    loop = asyncio.new_event_loop()
    with receiving(count) as url:
        loop.run_until_complete(story(url))
    loop.close()


def test_a_push_claimed_by_an_instance_that_died_goes_out_when_its_lease_ends(
    db_url: str, tmp_path: Path
) -> None:
    received: list[str] = []

    async def story(url: str) -> None:
        key = load_key(tmp_path / "gateway.key")
        clock = JumpClock()
        async with Database(db_url) as db:
            (event_id,) = await seed(db, key, url, 1)
            claimed = await db.outbox.claim(int(clock() * 1000), PLATFORM, 4, LEASE_MS)
            assert [push.event_id for push in claimed] == [event_id]  # then the claimer dies

            survivor = PushDispatcher(db, key, Doorbell(clock), clock)
            await survivor.deliver_due()
            await asyncio.sleep(0.5)
            assert received == [], "sent while another instance held it"

            clock.advance(LEASE_MS / 1000)
            await survivor.deliver_due()
            for _ in range(200):
                if received:
                    break
                await asyncio.sleep(0.05)
            await survivor.close()  # records the attempt
            assert received == [event_id]
            assert await delivered_and_attempts(db) == (1, 1)

    async def keep(event: PushEvent) -> None:
        assert event.event_id is not None
        received.append(event.event_id)

    with receiving(keep) as url:
        asyncio.run(story(url))
