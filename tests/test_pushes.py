"""Pushes from a running gateway to real receivers on loopback: signed, complete, retried."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from segway_gateway.contract.pushes import PushEvent, StatusPush
from segway_gateway.gateway.crypto import hash_secret, load_key
from segway_gateway.gateway.sealing import seal
from segway_gateway.gateway.store.db import Database
from segway_gateway.gateway.store.outbox import LogQuery
from segway_gateway.gateway.store.platforms import Platform
from segway_gateway.gateway.store.tables import push_outbox
from segway_gateway.gateway.store.vehicles import Vehicle
from segway_gateway.webhooks.receiver import push_app
from tests.conftest import ADMIN_TOKEN, PLATFORM, get_token
from tests.harness import DOC_SECRET, RunningGateway, Seed, eventually, free_port, running
from tests.processes import GATEWAY, cli, cli_env, ok, refused, serving
from tests.test_mqtt_link import UNLOCK, code_of

FLEET = [str(869_900_000_000_000 + n) for n in range(3)]
NOTHING = Seed(platforms={}, vehicles={})


def seed_with_pushes(
    directory: Path,
    push_url: str,
    fleet: list[str] = FLEET,
    platform_code: str = PLATFORM,
    key_file: str = "gateway.key",
) -> None:
    """A platform with a push URL and its sealed secret, and its fleet."""

    async def seed() -> None:
        key = load_key(directory / key_file)
        async with Database(f"sqlite:///{directory / 'gateway.db'}") as db:
            platform = Platform(platform_code, hash_secret(DOC_SECRET), push_url, 0)
            await db.platforms.add(platform, seal(key, platform_code, DOC_SECRET))
            await db.vehicles.add(*(Vehicle(code, platform_code, True, 0) for code in fleet))

    asyncio.run(seed())


@contextlib.contextmanager
def receiving(callback: Callable[[PushEvent], Awaitable[None]]) -> Iterator[str]:
    """`push_app` with this callback on a free loopback port, in a thread; its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(push_app(DOC_SECRET, callback), port=port, log_level="critical")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "the receiver did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


class Listener:
    """`segway-gateway push listen --json`: every push it accepted or refused, parsed."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lines: list[dict[str, object]] = []
        argv = [str(GATEWAY), "push", "listen", "--port", str(self.port), "--json"]
        self.process = subprocess.Popen(
            [*argv, "--secret", DOC_SECRET],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=cli_env(),
            cwd=directory,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("{"):
                self.lines.append(json.loads(line))

    def of(self, kind: str, iot_code: str) -> list[dict[str, object]]:
        return [p for p in self.lines if p["kind"] == kind and p.get("iotCode") == iot_code]

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(self.url, timeout=2)
                return
            except httpx.TransportError:
                assert time.monotonic() < deadline, "push listen did not start"
                time.sleep(0.2)


@pytest.fixture(scope="module")
def listener(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Listener]:
    started = Listener(tmp_path_factory.mktemp("listener"))
    started.wait_ready()
    yield started
    started.process.kill()
    started.process.wait(timeout=30)
    assert started.process.stdout is not None
    started.process.stdout.close()


@pytest.fixture(scope="module")
def pushing(
    tmp_path_factory: pytest.TempPathFactory, listener: Listener
) -> Iterator[RunningGateway]:
    directory = tmp_path_factory.mktemp("pushing")
    seed_with_pushes(directory, listener.url)
    yield from running(directory, NOTHING, admin_token=ADMIN_TOKEN)


def test_every_vehicle_pushes_its_status_and_location_signed_and_complete(
    pushing: RunningGateway, listener: Listener
) -> None:
    """The listener verifies each signature and parses every documented field."""
    for iot_code in FLEET:
        eventually(lambda c=iot_code: bool(listener.of("status", c)), f"{iot_code} status push")
        eventually(lambda c=iot_code: bool(listener.of("location", c)), f"{iot_code} fix push")
    assert not [line for line in listener.lines if "rejected" in line]
    status = listener.of("status", FLEET[0])[0]
    assert status["platformCode"] == PLATFORM
    assert status["online"] is True and status["locked"] is True
    assert isinstance(status["eventId"], str) and len(status["eventId"]) == 36


def test_an_unlock_is_pushed_as_a_status_change(
    pushing: RunningGateway, listener: Listener
) -> None:
    headers = {"Authorization": f"bearer {get_token(pushing.base_url)}"}
    with httpx.Client(base_url=pushing.base_url, headers=headers, timeout=30) as api:
        assert code_of(api, UNLOCK, FLEET[1]) == 0
    eventually(
        lambda: any(p["locked"] is False for p in listener.of("status", FLEET[1])),
        "the unlocked status pushed",
    )


def test_alerts_raised_and_cleared_are_pushed(pushing: RunningGateway, listener: Listener) -> None:
    admin = f"{pushing.base_url}/admin/v1/vehicles/{FLEET[2]}/alerts"
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    httpx.post(admin, json={"code": 12}, headers=headers, timeout=30).raise_for_status()
    httpx.delete(f"{admin}/12", headers=headers, timeout=30).raise_for_status()
    eventually(
        lambda: (
            {p["alertStatus"] for p in listener.of("alert", FLEET[2]) if p["code"] == 12} == {0, 1}
        ),
        "alert 12 appearing and disappearing, pushed",
    )


def test_the_delivery_log_keeps_every_attempt(pushing: RunningGateway, listener: Listener) -> None:
    eventually(lambda: len(listener.lines) >= 6, "some pushes")
    log = pushing.run(pushing.gateway.db.outbox.log(LogQuery(PLATFORM, limit=10_000)))
    assert log and all(entry.attempt.http_status == 200 for entry in log)
    assert {entry.event_id for entry in log} >= {
        str(line["eventId"]) for line in listener.lines[:6]
    }


def test_a_push_refused_once_is_retried_5_s_later_with_the_same_event_id(
    tmp_path: Path,
) -> None:
    seen: dict[str, list[float]] = {}

    async def refuse_first(event: PushEvent) -> None:
        assert event.event_id is not None
        seen.setdefault(event.event_id, []).append(time.monotonic())
        if isinstance(event, StatusPush) and len(seen[event.event_id]) == 1:
            raise RuntimeError("receiver busy")

    with receiving(refuse_first) as url:
        seed_with_pushes(tmp_path, url)
        for _ in running(tmp_path, NOTHING):
            eventually(
                lambda: any(len(times) == 2 for times in seen.values()), "a retried status push"
            )
    retried = next(times for times in seen.values() if len(times) == 2)
    assert 4.5 <= retried[1] - retried[0] <= 15


def test_a_hanging_receiver_does_not_delay_another_platforms_pushes(tmp_path: Path) -> None:
    arrived: list[float] = []

    async def hang(_event: PushEvent) -> None:
        await asyncio.sleep(60)

    async def take(_event: PushEvent) -> None:
        arrived.append(time.monotonic())

    slow_fleet = [str(869_910_000_000_000 + n) for n in range(6)]
    fast_fleet = [str(869_920_000_000_000 + n) for n in range(3)]
    with receiving(hang) as slow_url, receiving(take) as fast_url:
        seed_with_pushes(tmp_path, slow_url, slow_fleet, "A40001")
        seed_with_pushes(tmp_path, fast_url, fast_fleet, "A40002")
        for _ in running(tmp_path, NOTHING):
            started = time.monotonic()
            eventually(lambda: len(arrived) >= 2 * len(fast_fleet), "the other platform's pushes")
            # its status and fix of every vehicle, well before the hanging ones time out (10 s)
            assert arrived[-1] - started < 8


def test_pushes_accepted_before_a_sigkill_are_delivered_after_the_restart(tmp_path: Path) -> None:
    received: set[str] = set()

    async def slowly(event: PushEvent) -> None:
        await asyncio.sleep(0.05)
        assert event.event_id is not None
        received.add(event.event_id)

    fleet = [str(869_930_000_000_000 + n) for n in range(100)]
    db_url = f"sqlite:///{tmp_path / 'gateway.db'}"
    with receiving(slowly) as url:
        seed_with_pushes(tmp_path, url, fleet, key_file="var/gateway.key")
        with serving(db_url, tmp_path) as server:
            eventually(lambda: len(received) >= 20, "the burst under way")
            server.process.kill()  # SIGKILL: no shutdown, no last flush
            server.process.wait(timeout=60)
        accepted = outbox_events(db_url)
        assert len(accepted) > len(received), "the kill came after the burst"
        with serving(db_url, tmp_path):
            eventually(lambda: accepted <= received, "every accepted push delivered", 120)


def outbox_events(db_url: str) -> set[str]:
    """The event ids of every push the outbox holds, whatever its state."""

    async def read() -> set[str]:
        async with Database(db_url) as db, db.engine.connect() as conn:
            rows = await conn.execute(select(push_outbox.c.event_id))
            return set(rows.scalars())

    return asyncio.run(read())


def test_push_log_lists_attempts_and_replay_sends_a_push_again(
    pushing: RunningGateway, listener: Listener
) -> None:
    db = pushing.config.db_url
    eventually(lambda: bool(listener.of("status", FLEET[0])), "a status push")
    printed = ok(cli("push", "log", "--platform", PLATFORM, "--state", "delivered", db=db))
    assert " HTTP 200 " in printed and f"status {FLEET[0]}" in printed
    entries = [json.loads(line) for line in ok(cli("push", "log", "--json", db=db)).splitlines()]
    event_id = next(e["event_id"] for e in entries if e["kind"] == "status")

    assert ok(cli("push", "replay", event_id, db=db)).strip() == "1 pushes to send again"
    eventually(
        lambda: sum(line.get("eventId") == event_id for line in listener.lines) >= 2,
        "the replayed push, with its event id",
    )
    assert ok(cli("push", "replay", "--dead", db=db)).strip() == "0 pushes to send again"
    refused(cli("push", "replay", db=db), "say which pushes")

    def attempts_of_the_push(*window: str) -> list[dict[str, object]]:
        printed = ok(cli("push", "log", "--event", event_id, "--json", *window, db=db))
        return [json.loads(line) for line in printed.splitlines()]

    eventually(lambda: len(attempts_of_the_push()) == 2, "both attempts in the log")
    assert {e["event_id"] for e in attempts_of_the_push()} == {event_id}
    assert attempts_of_the_push("--until", "2000-01-01") == []
    assert attempts_of_the_push("--since", "2099-01-01") == []
    later = ok(cli("push", "log", "--since", "2099-01-01", db=db))
    assert later.strip() == "no push attempts"


def test_the_admin_api_lists_the_log_and_replays_a_time_range(
    pushing: RunningGateway, listener: Listener
) -> None:
    base = f"{pushing.base_url}/admin/v1/platforms/{PLATFORM}/pushes"
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert httpx.get(base, timeout=30).status_code == 401
    eventually(lambda: len(listener.lines) >= 6, "some pushes")
    log = httpx.get(base, params={"state": "delivered"}, headers=headers, timeout=30).json()
    assert log["attempts"] and all(e["attempt"]["http_status"] == 200 for e in log["attempts"])
    bad = httpx.get(base, params={"state": "lost"}, headers=headers, timeout=30)
    assert bad.status_code == 400
    bad = httpx.get(base, params={"since": "yesterday"}, headers=headers, timeout=30)
    assert bad.status_code == 400 and "since is a whole number" in bad.json()["error"]
    one = log["attempts"][-1]
    only = {"eventId": one["event_id"], "until": one["attempt"]["at"] + 1}
    mine = httpx.get(base, params=only, headers=headers, timeout=30).json()["attempts"]
    assert [e["event_id"] for e in mine] == [one["event_id"]]
    future = {"since": int(time.time() * 1000) + 3_600_000}
    assert httpx.get(base, params=future, headers=headers, timeout=30).json()["attempts"] == []

    seen_before = len(listener.lines)
    window = {"since": 0, "until": int(time.time() * 1000)}
    replayed = httpx.post(f"{base}/replay", json=window, headers=headers, timeout=30).json()
    assert replayed["replayed"] >= 6
    eventually(lambda: len(listener.lines) >= seen_before + replayed["replayed"], "replayed")
    nothing = httpx.post(f"{base}/replay", json={}, headers=headers, timeout=30)
    assert nothing.status_code == 400 and "say which pushes" in nothing.json()["error"]


def test_a_durable_platform_keeps_trying_where_the_document_gives_up(tmp_path: Path) -> None:
    """Two refused attempts: the document's policy gives up, the durable one waits 30 s."""

    async def refuse(_event: PushEvent) -> None:
        raise RuntimeError("receiver down")

    durable_fleet, document_fleet = [str(869_940_000_000_000)], [str(869_950_000_000_000)]
    db_url = f"sqlite:///{tmp_path / 'gateway.db'}"
    with receiving(refuse) as url:
        seed_with_pushes(tmp_path, url, durable_fleet, "A50001")
        seed_with_pushes(tmp_path, url, document_fleet, "A50002")
        ok(cli("platform", "set-push-policy", "A50001", "durable", db=db_url))
        with contextlib.contextmanager(running)(tmp_path, NOTHING) as server:
            outbox = server.gateway.db.outbox

            def refused_twice(platform: str) -> set[str]:
                events = Counter(e.event_id for e in server.run(outbox.log(LogQuery(platform))))
                return {event_id for event_id, attempts in events.items() if attempts >= 2}

            for platform in ("A50001", "A50002"):
                eventually(lambda p=platform: bool(refused_twice(p)), "a push refused twice", 60)
            dead = server.run(outbox.log(LogQuery(state="dead")))
            assert {entry.platform_code for entry in dead} == {"A50002"}
            twice = refused_twice("A50001")
            durable = [e for e in server.run(outbox.log(LogQuery("A50001"))) if e.event_id in twice]
            assert {entry.state for entry in durable} == {"pending"}
    refused(cli("platform", "set-push-policy", "A99999", "durable", db=db_url), "no platform")
