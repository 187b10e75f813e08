"""The gateway's broker session: a report is acknowledged to the broker only once it is
stored, the broker keeps what comes for an instance while it is away (an MQTT 5 session
under a stable gateway id), and an instance learns the retained reports a shared
subscription does not bring.

The vehicle here is a bare MQTT client that never sends anything twice, so only the
broker can make up for a message a gateway took and lost."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from segway_gateway.contract.device import Topic, topic
from segway_gateway.contract.pushes import AlertPush, PushEvent, StatusPush
from segway_gateway.devicelink.mosquitto import device_password, vehicle_client_id
from segway_gateway.devicelink.mqtt_session import Broker, MqttSession
from segway_gateway.gateway.crypto import load_key
from tests.brokers import PrivateBroker
from tests.conftest import fresh_postgres
from tests.harness import eventually, free_port
from tests.processes import ServeProcess, invoke, ok
from tests.test_mqtt_link import STATUS_REPORT
from tests.test_pushes import receiving, seed_with_pushes

VEHICLE = "869994000000001"
ONLINE = json.dumps({"online": True, "t": 0}).encode()
ALERT = json.dumps({"kind": "alert", "code": 3, "status": 0, "statusUtcTime": 1_790_000_000})


def status_report(odometer: int, at_s: int) -> bytes:
    return json.dumps({**STATUS_REPORT, "odometer": odometer, "statusUtcTime": at_s}).encode()


@dataclass
class Site:
    """One PostgreSQL database, one private Mosquitto from the generated config, a push
    receiver, and the vehicle registered to a platform that takes pushes."""

    workdir: Path
    db_url: str
    broker: PrivateBroker
    pushed: list[PushEvent]
    stack: contextlib.ExitStack

    def serve(self, *extra: str) -> ServeProcess:
        key_file = str(self.workdir / "gateway.key")
        server = ServeProcess(
            self.db_url, self.workdir, "--broker", self.broker.url, "--key-file", key_file, *extra
        )
        self.stack.callback(server.kill)
        server.wait_ready()
        return server

    def publish(self, *messages: tuple[Topic, bytes], retain: bool = False) -> None:
        """As the vehicle, at QoS 1; returns once the broker has taken them all."""
        key = load_key(self.workdir / "gateway.key")
        login = Broker.from_url(self.broker.url).as_user(VEHICLE, device_password(key, VEHICLE))

        async def run() -> None:
            session = MqttSession(login, vehicle_client_id(VEHICLE), lambda *_: None, [])
            await asyncio.wait_for(session.open(), 30)
            for kind, body in messages:
                assert session.publish(topic(VEHICLE, kind), body, qos=1, retain=retain)
            await asyncio.wait_for(session.delivered(), 30)
            await session.close()

        asyncio.run(run())

    def stored_odometer(self) -> int | None:
        row = self.sql("SELECT status FROM vehicles WHERE iot_code = $1", VEHICLE)
        status = json.loads(row[0]["status"]) if row and row[0]["status"] else None
        return status["odometer"] if status else None

    def sql(self, query: str, *args: Any) -> list[asyncpg.Record]:
        async def run() -> list[asyncpg.Record]:
            conn = await asyncpg.connect(self.db_url)
            try:
                return list(await conn.fetch(query, *args))
            finally:
                await conn.close()

        return asyncio.run(run())

    def status_pushes(self, odometer: int) -> list[StatusPush]:
        return [p for p in self.pushed if isinstance(p, StatusPush) and p.odometer == odometer]

    def alert_pushes(self) -> list[AlertPush]:
        return [p for p in self.pushed if isinstance(p, AlertPush)]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    pushed: list[PushEvent] = []

    async def take(push: PushEvent) -> None:
        pushed.append(push)

    key_file = str(tmp_path / "gateway.key")
    with contextlib.ExitStack() as stack:
        db_url = stack.enter_context(fresh_postgres())
        url = stack.enter_context(receiving(take))
        seed_with_pushes(tmp_path, url, [VEHICLE], db_url=db_url)
        port = free_port()
        config = ("mqtt", "broker-config", "--out", "broker", "--port", str(port))
        ok(invoke(*config, "--key-file", key_file, db=db_url, cwd=tmp_path))
        broker = PrivateBroker(tmp_path / "broker" / "mosquitto.conf", port)
        broker.start()
        stack.callback(broker.stop)
        yield Site(tmp_path, db_url, broker, pushed, stack)


class TableLock:
    """Holds an exclusive lock on the vehicles table (reads pass, writes wait) until
    released: a gateway's write of a report waits, uncommitted, for as long as a test
    wants."""

    def __init__(self, db_url: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._conn: asyncpg.Connection = self._loop.run_until_complete(asyncpg.connect(db_url))
        self._run("BEGIN; LOCK TABLE vehicles IN EXCLUSIVE MODE")

    def _run(self, sql: str) -> Any:
        return self._loop.run_until_complete(self._conn.execute(sql))

    def writers_waiting(self) -> int:
        query = (
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return int(self._loop.run_until_complete(self._conn.fetchval(query)))

    def release(self) -> None:
        if not self._conn.is_closed():
            self._run("ROLLBACK")
            self._loop.run_until_complete(self._conn.close())
            self._loop.close()


def test_a_report_taken_by_an_instance_killed_before_storing_it_is_stored_after_its_restart(
    site: Site,
) -> None:
    """The instance took the status report and the alert, but its write waits on a lock
    when it is SIGKILLed: it had not acknowledged them, so the broker sends them again
    when the instance is back under the same id, and each is stored and pushed once."""
    site.publish((Topic.PRESENCE, ONLINE), retain=True)
    gateway = site.serve("--gateway-id", "gw-a")
    lock = TableLock(site.db_url)
    try:
        site.publish((Topic.STATUS, status_report(4242, 1_790_000_100)), (Topic.EVENT, ALERT))
        eventually(lambda: lock.writers_waiting() > 0, "the gateway's write waiting on the lock")
        gateway.kill()
    finally:
        lock.release()
    assert site.stored_odometer() != 4242 and not site.alert_pushes()  # nothing had landed
    site.serve("--gateway-id", "gw-a")
    eventually(
        lambda: site.stored_odometer() == 4242,
        "the status report stored",
        detail=lambda: f"{site.sql('SELECT * FROM vehicles')} {site.pushed}",
    )
    eventually(lambda: len(site.alert_pushes()) == 1, "the alert pushed")
    eventually(lambda: len(site.status_pushes(4242)) == 1, "the status pushed")


def test_what_comes_while_no_gateway_runs_is_stored_once_one_is_back(site: Site) -> None:
    """The instance stops (gracefully); its broker session stays and queues the vehicle's
    alert and status until it is back."""
    site.publish((Topic.PRESENCE, ONLINE), retain=True)
    site.serve("--gateway-id", "gw-b").stop()
    site.publish((Topic.EVENT, ALERT), (Topic.STATUS, status_report(777, 1_790_000_200)))
    site.serve("--gateway-id", "gw-b")
    eventually(lambda: site.stored_odometer() == 777, "the status report stored")
    eventually(lambda: len(site.alert_pushes()) == 1, "the alert pushed")
    eventually(lambda: len(site.status_pushes(777)) == 1, "the status pushed")


def test_an_instance_learns_the_retained_reports_its_shared_subscription_does_not_bring(
    site: Site,
) -> None:
    """The vehicle reported before any gateway subscribed; the broker kept its status
    retained. A shared subscription gets no retained message, so the instance's brief
    plain subscription must bring it; it is stored and pushed once, also when a second
    instance learns it too."""
    site.publish(
        (Topic.PRESENCE, ONLINE), (Topic.STATUS, status_report(999, 1_790_000_300)), retain=True
    )
    site.serve()
    eventually(lambda: site.stored_odometer() == 999, "the retained status stored")
    site.serve()
    eventually(lambda: len(site.status_pushes(999)) == 1, "the retained status pushed")
    assert site.sql("SELECT count(*) AS n FROM push_outbox")[0]["n"] == 1
