"""Pushes from a running gateway to real receivers on loopback: signed, complete, retried."""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from segway_gateway.gateway.crypto import hash_secret, load_key
from segway_gateway.gateway.sealing import seal
from segway_gateway.gateway.store.db import Database
from segway_gateway.gateway.store.platforms import Platform
from segway_gateway.gateway.store.vehicles import Vehicle
from segway_gateway.webhooks.events import PushEvent, StatusPush
from segway_gateway.webhooks.receiver import push_app
from tests.conftest import ADMIN_TOKEN, PLATFORM, get_token
from tests.harness import DOC_SECRET, RunningGateway, Seed, free_port, running
from tests.processes import GATEWAY, cli_env
from tests.test_mqtt_link import UNLOCK, code_of, eventually

FLEET = [str(869_900_000_000_000 + n) for n in range(3)]
NOTHING = Seed(platforms={}, vehicles={})


def seed_with_pushes(directory: Path, push_url: str) -> None:
    """The platform with a push URL and its sealed secret, and its fleet."""

    async def seed() -> None:
        key = load_key(directory / "gateway.key")
        async with Database(f"sqlite:///{directory / 'gateway.db'}") as db:
            platform = Platform(PLATFORM, hash_secret(DOC_SECRET), push_url, 0)
            await db.platforms.add(platform, seal(key, PLATFORM, DOC_SECRET))
            await db.vehicles.add(*(Vehicle(code, PLATFORM, True, 0) for code in FLEET))

    asyncio.run(seed())


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
    log = pushing.run(pushing.gateway.db.outbox.attempts(PLATFORM))
    assert log and all(attempt.http_status == 200 for _, attempt in log)
    assert {event_id for event_id, _ in log} >= {
        str(line["eventId"]) for line in listener.lines[:6]
    }


def test_a_push_refused_once_is_retried_5_s_later_with_the_same_event_id(
    tmp_path: Path,
) -> None:
    seen: dict[str, list[float]] = {}

    def refuse_first(event: PushEvent) -> None:
        assert event.event_id is not None
        seen.setdefault(event.event_id, []).append(time.monotonic())
        if isinstance(event, StatusPush) and len(seen[event.event_id]) == 1:
            raise RuntimeError("receiver busy")

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(push_app(DOC_SECRET, refuse_first), port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        seed_with_pushes(tmp_path, f"http://127.0.0.1:{port}")
        for _ in running(tmp_path, NOTHING):
            eventually(
                lambda: any(len(times) == 2 for times in seen.values()), "a retried status push"
            )
        retried = next(times for times in seen.values() if len(times) == 2)
        assert 4.5 <= retried[1] - retried[0] <= 15
    finally:
        server.should_exit = True
        thread.join(timeout=30)
