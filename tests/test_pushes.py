"""Pushes from a running gateway to real receivers on loopback: signed, complete, retried."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from types import TracebackType

import httpx
import pytest
from sqlalchemy import select, update

from segway_gateway.contract.pushes import PushEvent, StatusPush
from segway_gateway.gateway.crypto import hash_secret, load_key
from segway_gateway.gateway.sealing import seal
from segway_gateway.gateway.store.db import Database
from segway_gateway.gateway.store.outbox import PENDING, LogEntry, LogQuery
from segway_gateway.gateway.store.platforms import Platform
from segway_gateway.gateway.store.tables import push_outbox
from segway_gateway.gateway.store.vehicles import Vehicle
from segway_gateway.webhooks.receiver import push_app
from tests.conftest import ADMIN_TOKEN, PLATFORM, admin_client, api_client
from tests.harness import (
    DOC_SECRET,
    UNLOCK,
    RunningGateway,
    Seed,
    command_code,
    eventually,
    running,
    serving_in_thread,
)
from tests.processes import PushListener, invoke, listening, ok, refused, serving

FLEET = [str(869_900_000_000_000 + n) for n in range(3)]
NOTHING = Seed(platforms={}, vehicles={})


def seed_with_pushes(
    directory: Path,
    push_url: str,
    fleet: list[str] = FLEET,
    platform_code: str = PLATFORM,
    key_file: str = "gateway.key",
    db_url: str | None = None,
) -> None:
    """A platform with a push URL and its sealed secret, and its fleet (in `db_url`, by
    default the SQLite database a gateway in `directory` uses)."""

    async def seed() -> None:
        key = load_key(directory / key_file)
        async with Database(db_url or f"sqlite:///{directory / 'gateway.db'}") as db:
            platform = Platform(platform_code, hash_secret(DOC_SECRET), push_url, 0)
            await db.platforms.add(platform, seal(key, platform_code, DOC_SECRET))
            await db.vehicles.add(*(Vehicle(code, platform_code, True, 0) for code in fleet))

    asyncio.run(seed())


@contextlib.contextmanager
def receiving(callback: Callable[[PushEvent], Awaitable[None]]) -> Iterator[str]:
    """`push_app` with this callback on a free loopback port, in a thread; its base URL."""
    with serving_in_thread(push_app(DOC_SECRET, callback), log_level="critical") as server:
        yield server.base_url


class Hold:
    """Holds whoever awaits it until the test lets go (`release`, or leaving the block):
    a receiver that hangs for as long as a test wants, and not a moment longer."""

    def __init__(self) -> None:
        self._released = threading.Event()
        self.holding = 0
        """How many are held or were."""

    async def __call__(self) -> None:
        self.holding += 1
        await asyncio.to_thread(self._released.wait)

    @property
    def released(self) -> bool:
        return self._released.is_set()

    def release(self) -> None:
        self._released.set()

    def __enter__(self) -> Hold:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.release()


def of(listener: PushListener, kind: str, iot_code: str) -> list[dict[str, object]]:
    """The pushes of one kind about one vehicle that `listener` printed."""
    printed = listener.printed()
    return [p for p in printed if p["kind"] == kind and p.get("iotCode") == iot_code]


@pytest.fixture(scope="module")
def listener(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PushListener]:
    """`segway-gateway push listen --json`: every push it accepted or refused, printed."""
    with listening(tmp_path_factory.mktemp("listener"), "--json", "--secret", DOC_SECRET) as ear:
        yield ear


@pytest.fixture(scope="module")
def pushing(
    tmp_path_factory: pytest.TempPathFactory, listener: PushListener
) -> Iterator[RunningGateway]:
    directory = tmp_path_factory.mktemp("pushing")
    seed_with_pushes(directory, listener.base_url)
    yield from running(directory, NOTHING, admin_token=ADMIN_TOKEN)


def test_every_vehicle_pushes_its_status_and_location_signed_and_complete(
    pushing: RunningGateway, listener: PushListener
) -> None:
    """The listener verifies each signature and parses every documented field."""
    for iot_code in FLEET:
        eventually(lambda c=iot_code: bool(of(listener, "status", c)), f"{iot_code} status push")
        eventually(lambda c=iot_code: bool(of(listener, "location", c)), f"{iot_code} fix push")
    assert not [line for line in listener.printed() if "rejected" in line]
    status = of(listener, "status", FLEET[0])[0]
    assert status["platformCode"] == PLATFORM
    assert status["online"] is True and status["locked"] is True
    assert isinstance(status["eventId"], str) and len(status["eventId"]) == 36


def test_an_unlock_is_pushed_as_a_status_change(
    pushing: RunningGateway, listener: PushListener
) -> None:
    with api_client(pushing.base_url) as api:
        assert command_code(api, UNLOCK, FLEET[1]) == 0
    eventually(
        lambda: any(p["locked"] is False for p in of(listener, "status", FLEET[1])),
        "the unlocked status pushed",
    )


def test_alerts_raised_and_cleared_are_pushed(
    pushing: RunningGateway, listener: PushListener
) -> None:
    alerts = f"/vehicles/{FLEET[2]}/alerts"
    with admin_client(pushing.base_url) as admin:
        admin.post(alerts, json={"code": 12}).raise_for_status()
        admin.delete(f"{alerts}/12").raise_for_status()
    eventually(
        lambda: (
            {p["alertStatus"] for p in of(listener, "alert", FLEET[2]) if p["code"] == 12} == {0, 1}
        ),
        "alert 12 appearing and disappearing, pushed",
    )


def test_the_delivery_log_keeps_every_attempt(
    pushing: RunningGateway, listener: PushListener
) -> None:
    eventually(lambda: len(listener.printed()) >= 6, "some pushes")
    log = pushing.run(pushing.gateway.db.outbox.log(LogQuery(PLATFORM, limit=10_000)))
    assert log and all(entry.attempt.http_status == 200 for entry in log)
    assert {entry.event_id for entry in log} >= {
        str(line["eventId"]) for line in listener.printed()[:6]
    }


def test_a_push_refused_once_is_retried_5_s_later_with_the_same_event_id(
    tmp_path: Path,
) -> None:
    """The refused push is due again 5 s after its attempt ended (the document's second
    attempt), and goes out with its eventId once the gateway's clock gets there."""
    seen: Counter[str] = Counter()
    refused_ids: list[str] = []

    async def refuse_first(event: PushEvent) -> None:
        assert event.event_id is not None
        seen[event.event_id] += 1
        if isinstance(event, StatusPush) and not refused_ids:
            refused_ids.append(event.event_id)
            raise RuntimeError("receiver busy")

    with receiving(refuse_first) as url:
        seed_with_pushes(tmp_path, url)
        with contextlib.contextmanager(running)(tmp_path, NOTHING) as server:
            outbox = server.gateway.db.outbox

            def logged() -> list[LogEntry]:
                return server.run(outbox.log(LogQuery(event_id=refused_ids[0])))

            eventually(lambda: bool(refused_ids) and bool(logged()), "a refused attempt logged")
            (entry,) = logged()
            assert entry.state == PENDING
            due = server.run(due_at(server.gateway.db, entry.event_id))
            assert due == entry.attempt.at + entry.attempt.latency_ms + 5000
            server.clock.advance(5)
            eventually(lambda: seen[refused_ids[0]] == 2, "the retry, with the same eventId")


async def due_at(db: Database, event_id: str) -> int:
    """When the outbox has a push due next, epoch ms on the gateway's clock."""
    async with db.engine.connect() as conn:
        query = select(push_outbox.c.due_at).where(push_outbox.c.event_id == event_id)
        due: int = (await conn.execute(query)).scalar_one()
    return due


def test_a_hanging_receiver_does_not_delay_another_platforms_pushes(tmp_path: Path) -> None:
    """One platform's receiver holds every push it gets until the end of the test; the
    other platform's pushes arrive meanwhile, well before the held ones time out."""
    arrived: list[float] = []
    hang = Hold()

    async def hanging(_event: PushEvent) -> None:
        await hang()

    async def take(_event: PushEvent) -> None:
        arrived.append(time.monotonic())

    slow_fleet = [str(869_910_000_000_000 + n) for n in range(6)]
    fast_fleet = [str(869_920_000_000_000 + n) for n in range(3)]
    gateway = contextlib.contextmanager(running)
    with receiving(hanging) as slow_url, receiving(take) as fast_url:
        seed_with_pushes(tmp_path, slow_url, slow_fleet, "A40001")
        seed_with_pushes(tmp_path, fast_url, fast_fleet, "A40002")
        # `hang` lets go first: the gateway's stop waits for the pushes it has under way
        with gateway(tmp_path, NOTHING), hang:
            started = time.monotonic()
            eventually(lambda: len(arrived) >= 2 * len(fast_fleet), "the other platform's pushes")
            # its status and fix of every vehicle, well before the hanging ones time out (10 s)
            assert arrived[-1] - started < 8
            eventually(lambda: hang.holding > 0, "the first platform's receiver holding pushes")


def test_pushes_accepted_before_a_sigkill_are_delivered_after_the_restart(tmp_path: Path) -> None:
    """The receiver takes 20 pushes, then holds the next ones until the sender is killed
    (they are never taken); after the restart every push accepted is delivered."""
    received: set[str] = set()
    hold = Hold()

    async def twenty_then_hold(event: PushEvent) -> None:
        if len(received) >= 20 and not hold.released:
            await hold()
            raise RuntimeError("its sender is gone")
        assert event.event_id is not None
        received.add(event.event_id)

    fleet = [str(869_930_000_000_000 + n) for n in range(100)]
    db_url = f"sqlite:///{tmp_path / 'gateway.db'}"
    with receiving(twenty_then_hold) as url, hold:
        seed_with_pushes(tmp_path, url, fleet, key_file="var/gateway.key")
        with serving(db_url, tmp_path) as server:
            eventually(lambda: hold.holding > 0, "the burst under way, pushes in flight")
            server.process.kill()  # SIGKILL: no shutdown, no last flush
            server.process.wait(timeout=60)
        hold.release()
        accepted = outbox_events(db_url)
        assert len(accepted) > len(received), "the kill came during the burst"
        assert end_leases(db_url) > 0, "the killed instance held claimed pushes"
        with serving(db_url, tmp_path):
            eventually(lambda: accepted <= received, "every accepted push delivered")


def outbox_events(db_url: str) -> set[str]:
    """The event ids of every push the outbox holds, whatever its state."""

    async def read() -> set[str]:
        async with Database(db_url) as db, db.engine.connect() as conn:
            rows = await conn.execute(select(push_outbox.c.event_id))
            return set(rows.scalars())

    return asyncio.run(read())


def end_leases(db_url: str) -> int:
    """An injected time skip: the leases on pushes claimed by a killed instance end now,
    as they would 30 s later (lease expiry itself is test_push_claims'); how many ended."""

    async def skip() -> int:
        now_ms = int(time.time() * 1000)
        leased = (push_outbox.c.state == PENDING) & (push_outbox.c.due_at > now_ms)
        async with Database(db_url) as db, db.engine.begin() as conn:
            ended = await conn.execute(update(push_outbox).where(leased).values(due_at=now_ms))
            return int(ended.rowcount)

    return asyncio.run(skip())


def attempts_listed(db: str, event_id: str, *window: str) -> list[dict[str, object]]:
    """What `push log --event EVENT_ID --json [WINDOW]` lists, parsed."""
    printed = ok(invoke("push", "log", "--event", event_id, "--json", *window, db=db))
    return [json.loads(line) for line in printed.splitlines()]


def test_push_log_lists_attempts_by_platform_state_event_and_time(
    pushing: RunningGateway, listener: PushListener
) -> None:
    db = pushing.config.db_url
    eventually(lambda: bool(of(listener, "status", FLEET[0])), "a status push")
    printed = ok(invoke("push", "log", "--platform", PLATFORM, "--state", "delivered", db=db))
    assert " HTTP 200 " in printed and f"status {FLEET[0]}" in printed
    entries = [json.loads(line) for line in ok(invoke("push", "log", "--json", db=db)).splitlines()]
    event_id = next(e["event_id"] for e in entries if e["kind"] == "status")

    assert {e["event_id"] for e in attempts_listed(db, event_id)} == {event_id}
    assert attempts_listed(db, event_id, "--until", "2000-01-01") == []
    assert attempts_listed(db, event_id, "--since", "2099-01-01") == []
    later = ok(invoke("push", "log", "--since", "2099-01-01", db=db))
    assert later.strip() == "no push attempts"


def test_push_replay_sends_a_push_again_with_its_event_id_and_logs_both_attempts(
    pushing: RunningGateway, listener: PushListener
) -> None:
    """The push to replay is picked from the gateway's log in process."""
    db, outbox = pushing.config.db_url, pushing.gateway.db.outbox

    def attempts(event_id: str) -> int:
        return len(pushing.run(outbox.log(LogQuery(event_id=event_id))))

    eventually(lambda: bool(of(listener, "status", FLEET[0])), "a status push")
    delivered = pushing.run(outbox.log(LogQuery(PLATFORM, state="delivered", limit=10_000)))
    event_id = next(
        e.event_id for e in delivered if e.kind == "status" and attempts(e.event_id) == 1
    )

    assert ok(invoke("push", "replay", event_id, db=db)).strip() == "1 pushes to send again"
    eventually(
        lambda: sum(line.get("eventId") == event_id for line in listener.printed()) >= 2,
        "the replayed push, with its event id",
    )
    eventually(lambda: attempts(event_id) == 2, "both attempts recorded")
    assert [e["event_id"] for e in attempts_listed(db, event_id)] == [event_id] * 2
    assert ok(invoke("push", "replay", "--dead", db=db)).strip() == "0 pushes to send again"
    refused(invoke("push", "replay", db=db), "say which pushes")


def test_the_admin_api_lists_the_log_and_replays_a_time_range(
    pushing: RunningGateway, listener: PushListener
) -> None:
    base = f"/platforms/{PLATFORM}/pushes"
    assert httpx.get(f"{pushing.base_url}/admin/v1{base}", timeout=30).status_code == 401
    with admin_client(pushing.base_url) as admin:
        eventually(lambda: len(listener.printed()) >= 6, "some pushes")
        log = admin.get(base, params={"state": "delivered"}).json()
        assert log["attempts"]
        assert all(e["attempt"]["http_status"] == 200 for e in log["attempts"])
        assert admin.get(base, params={"state": "lost"}).status_code == 400
        bad = admin.get(base, params={"since": "yesterday"})
        assert bad.status_code == 400 and "since is a whole number" in bad.json()["error"]
        one = log["attempts"][-1]
        only = {"eventId": one["event_id"], "until": one["attempt"]["at"] + 1}
        mine = admin.get(base, params=only).json()["attempts"]
        assert [e["event_id"] for e in mine] == [one["event_id"]]
        future = {"since": int(time.time() * 1000) + 3_600_000}
        assert admin.get(base, params=future).json()["attempts"] == []

        seen_before = len(listener.printed())
        window = {"since": 0, "until": int(time.time() * 1000)}
        replayed = admin.post(f"{base}/replay", json=window).json()
        assert replayed["replayed"] >= 6
        eventually(
            lambda: len(listener.printed()) >= seen_before + replayed["replayed"], "replayed"
        )
        nothing = admin.post(f"{base}/replay", json={})
        assert nothing.status_code == 400 and "say which pushes" in nothing.json()["error"]


def test_a_durable_platform_keeps_trying_where_the_document_gives_up(tmp_path: Path) -> None:
    """Two refused attempts: the document's policy gives up, the durable one waits 30 s.
    (The policy is set in process; `platform set-push-policy` has a test of its own.)"""

    async def refuse(_event: PushEvent) -> None:
        raise RuntimeError("receiver down")

    durable_fleet, document_fleet = [str(869_940_000_000_000)], [str(869_950_000_000_000)]
    db_url = f"sqlite:///{tmp_path / 'gateway.db'}"
    with receiving(refuse) as url:
        seed_with_pushes(tmp_path, url, durable_fleet, "A50001")
        seed_with_pushes(tmp_path, url, document_fleet, "A50002")
        asyncio.run(set_push_policy(db_url, "A50001", "durable"))
        with contextlib.contextmanager(running)(tmp_path, NOTHING) as server:
            outbox = server.gateway.db.outbox

            def refused_twice(platform: str) -> set[str]:
                events = Counter(e.event_id for e in server.run(outbox.log(LogQuery(platform))))
                return {event_id for event_id, attempts in events.items() if attempts >= 2}

            def refused_once(platform: str) -> bool:
                return bool(server.run(outbox.log(LogQuery(platform))))

            for platform in ("A50001", "A50002"):
                eventually(lambda p=platform: refused_once(p), "a first refused attempt")
            server.clock.advance(5)  # both policies try again 5 s after a first refusal
            for platform in ("A50001", "A50002"):
                eventually(lambda p=platform: bool(refused_twice(p)), "a push refused twice")
            dead = server.run(outbox.log(LogQuery(state="dead")))
            assert {entry.platform_code for entry in dead} == {"A50002"}
            twice = refused_twice("A50001")
            durable = [e for e in server.run(outbox.log(LogQuery("A50001"))) if e.event_id in twice]
            assert {entry.state for entry in durable} == {"pending"}


async def set_push_policy(db_url: str, platform_code: str, policy: str) -> None:
    async with Database(db_url) as db:
        await db.platforms.set_push_policy(platform_code, policy)


def test_platform_set_push_policy_stores_it_and_refuses_an_unknown_platform(
    tmp_path: Path,
) -> None:
    db_url = f"sqlite:///{tmp_path / 'gateway.db'}"
    seed_with_pushes(tmp_path, "http://127.0.0.1:9", [str(869_940_000_000_000)], "A50001")
    ok(invoke("platform", "set-push-policy", "A50001", "durable", db=db_url))

    async def stored() -> str | None:
        async with Database(db_url) as db:
            return await db.platforms.push_policy("A50001")

    assert asyncio.run(stored()) == "durable"
    refused(invoke("platform", "set-push-policy", "A99999", "durable", db=db_url), "no platform")
