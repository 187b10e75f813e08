"""Delivered pushes and their delivery log are deleted after the retention; dead ones when
asked (`push prune --dead`); pending ones never."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from segway_gateway.gateway.crypto import load_key
from segway_gateway.gateway.push.forms import outgoing, status_push
from segway_gateway.gateway.store.db import Database
from segway_gateway.gateway.store.outbox import DEAD, DELIVERED, PENDING, Attempt, Outcome, enqueue
from segway_gateway.gateway.store.tables import push_attempts, push_outbox
from tests.conftest import PLATFORM
from tests.harness import RunningGateway, Seed, eventually, running
from tests.processes import invoke, ok, refused
from tests.test_push_claims import STATUS, VEHICLE, seed

DAY_MS = 86_400_000
NOW_MS = int(time.time() * 1000)
OLD, NEW = NOW_MS - 40 * DAY_MS, NOW_MS - DAY_MS
"""Accepted 40 days ago and yesterday: either side of the default 30 days."""


async def outbox_with(db: Database, directory: Path, pushes: list[tuple[int, str]]) -> None:
    """A platform and pushes (accepted at, state after one attempt) in its outbox."""
    await seed(db, load_key(directory / "gateway.key"), "http://127.0.0.1:9", 0)
    status = outgoing(status_push(VEHICLE, PLATFORM, True, STATUS), NOW_MS / 1000)
    news = [
        dataclasses.replace(status, event_id=str(uuid.uuid4()), created_at=at) for at, _ in pushes
    ]
    async with db.engine.begin() as conn:
        await enqueue(conn, news)
    claimed = await db.outbox.claim(NOW_MS, PLATFORM, len(news), 30_000)
    outcomes = [
        Outcome(push, Attempt(NOW_MS, 200 if state == DELIVERED else 500, 3, ""), state)
        for push, (_, state) in zip(claimed, pushes, strict=True)
    ]
    await db.outbox.record(outcomes)


async def remaining(db: Database) -> tuple[list[tuple[int, str]], int]:
    """(accepted at, state) of each push left, and how many attempts the log keeps."""
    async with db.engine.connect() as conn:
        rows = await conn.execute(select(push_outbox.c.created_at, push_outbox.c.state))
        attempts = await conn.scalar(select(func.count()).select_from(push_attempts))
    return sorted((r.created_at, r.state) for r in rows), int(attempts or 0)


MIX = [(OLD, DELIVERED), (OLD, DELIVERED), (OLD, DEAD), (OLD, PENDING), (NEW, DELIVERED)]


def test_prune_deletes_old_delivered_pushes_with_their_log_and_dead_ones_when_asked(
    db_url: str, tmp_path: Path
) -> None:
    async def story() -> None:
        async with Database(db_url) as db:
            await outbox_with(db, tmp_path, MIX)
            before = NOW_MS - 30 * DAY_MS
            assert await db.outbox.prune(before, batch=1) == 2  # one a transaction
            assert await remaining(db) == ([(OLD, DEAD), (OLD, PENDING), (NEW, DELIVERED)], 3)
            assert await db.outbox.prune(before, dead=True) == 1
            assert await remaining(db) == ([(OLD, PENDING), (NEW, DELIVERED)], 2)

    asyncio.run(story())


def test_push_prune_on_the_command_line(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'gateway.db'}"

    async def prepare() -> None:
        async with Database(db_url) as db:
            await outbox_with(db, tmp_path, MIX)

    asyncio.run(prepare())
    assert (
        ok(invoke("push", "prune", "--older-than", "30", db=db_url)).strip() == "2 pushes deleted"
    )
    assert (
        ok(invoke("push", "prune", "--older-than", "30", db=db_url)).strip() == "0 pushes deleted"
    )
    printed = ok(invoke("push", "prune", "--older-than", "0.5", "--dead", db=db_url))
    assert printed.strip() == "2 pushes deleted"  # the old dead one and yesterday's
    refused(invoke("push", "prune", "--older-than", "-1", db=db_url), "--older-than")
    refused(invoke("push", "prune", db=db_url), "--older-than")


def test_the_gateway_deletes_delivered_pushes_past_its_retention_when_it_starts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With 30 days, its first run deletes the 2 old delivered pushes and nothing else; with
    0, no retention task runs at all."""
    caplog.set_level(logging.INFO, logger="segway_gateway.gateway.runtime")
    for days, left in ((0.0, 5), (30.0, 3)):  # 0 keeps everything
        directory = tmp_path / str(days)
        directory.mkdir()
        db_url = f"sqlite:///{directory / 'gateway.db'}"

        async def prepare(url: str = db_url, directory: Path = directory) -> None:
            async with Database(url) as db:
                await outbox_with(db, directory, MIX)

        asyncio.run(prepare())
        nothing = Seed({}, {})
        for gateway in running(directory, nothing, push_retention_days=days, simulate=False):

            def pushes_left(gateway: RunningGateway = gateway) -> int:
                return len(gateway.run(remaining(gateway.gateway.db))[0])

            def retention_runs(gateway: RunningGateway = gateway) -> bool:
                tasks = gateway.call(asyncio.all_tasks)
                return "push-retention" in {task.get_name() for task in tasks}

            if days:  # the run is over once it reports what it deleted
                eventually(lambda: "delivered pushes older than" in caplog.text, "the first run")
                assert "deleted 2 delivered pushes older than 30 days" in caplog.text
            else:
                assert not retention_runs()
            assert pushes_left() == left, days
