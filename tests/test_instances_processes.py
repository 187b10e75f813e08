"""Three `segway-gateway serve` processes, started alike but for `--port`, on one
PostgreSQL database and one Mosquitto, with `sim run` as the fleet: each instance
answers for every vehicle and reads the others' writes, a SIGKILL and a broker
restart lose nothing and push nothing twice, and the database sees no deadlock."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from segway_gateway.contract import paths
from segway_gateway.contract.pushes import PushEvent, StatusPush
from tests.brokers import PrivateBroker
from tests.conftest import api_client, fresh_postgres
from tests.harness import command_code, eventually, free_port
from tests.processes import BackgroundProcess, ServeProcess, invoke, ok
from tests.test_pushes import receiving, seed_with_pushes

FLEET = [str(869_996_000_000_000 + n) for n in range(8)]
ONLINE_WITHIN = 120.0


@dataclass
class Cluster:
    workdir: Path
    db_url: str
    key_flags: tuple[str, str]
    broker: PrivateBroker
    gateways: list[ServeProcess]
    pushed: list[PushEvent]
    stack: contextlib.ExitStack

    def serve(self, port: int | None = None) -> ServeProcess:
        """One more instance, started like the others (killed at the module's end); on
        `port`, it is the instance that ran there before, back with its broker session."""
        server = ServeProcess(
            self.db_url, self.workdir, "--broker", self.broker.url, *self.key_flags, port=port
        )
        self.stack.callback(server.kill)
        server.wait_ready()
        return server


def status(api: httpx.Client, iot_code: str) -> dict[str, object]:
    answer = api.get(paths.STATUS, params={"iotCode": iot_code}).json()
    return answer["data"] if answer["code"] == 0 else {}


def every_vehicle_online_at(server: ServeProcess) -> None:
    with api_client(server.base_url) as api:
        for iot_code in FLEET:
            eventually(
                lambda c=iot_code: status(api, c).get("online") is True,
                f"{iot_code} online at :{server.port}",
                ONLINE_WITHIN,
            )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    workdir = tmp_path_factory.mktemp("instances")
    key_flags = ("--key-file", str(workdir / "gateway.key"))
    pushed: list[PushEvent] = []

    async def take(push: PushEvent) -> None:
        pushed.append(push)

    with contextlib.ExitStack() as stack:
        db_url = stack.enter_context(fresh_postgres())
        url = stack.enter_context(receiving(take))
        seed_with_pushes(workdir, url, FLEET, db_url=db_url)
        port = free_port()
        config = ("mqtt", "broker-config", "--out", "broker", "--port", str(port), *key_flags)
        ok(invoke(*config, db=db_url, cwd=workdir))
        broker = PrivateBroker(workdir / "broker" / "mosquitto.conf", port)
        broker.start()
        stack.callback(broker.stop)
        cluster = Cluster(workdir, db_url, key_flags, broker, [], pushed, stack)
        for _ in range(3):  # the same command, but for the port
            server = ServeProcess(db_url, workdir, "--broker", broker.url, *key_flags)
            stack.callback(server.kill)
            cluster.gateways.append(server)
        for server in cluster.gateways:
            server.wait_ready()
        count = ["--count", str(len(FLEET)), "--first", FLEET[0]]
        sim_db = f"sqlite:///{workdir / 'sim.db'}"
        args = ["sim", "run", "--broker", broker.url, *count, "--db", sim_db, *key_flags]
        sim = BackgroundProcess("sim", args, workdir)
        stack.callback(sim.kill)
        for server in cluster.gateways:
            every_vehicle_online_at(server)
        yield cluster


def test_each_instance_reads_a_command_answered_through_another_at_once(
    cluster: Cluster,
) -> None:
    iot_code = FLEET[0]
    apis = [api_client(server.base_url) for server in cluster.gateways]
    with contextlib.ExitStack() as stack:
        for api in apis:
            stack.enter_context(api)
        for sender, locked in itertools.product(range(3), (False, True)):
            path = paths.LOCK if locked else paths.UNLOCK
            assert command_code(apis[sender], path, iot_code) == 0
            for reader in apis:
                assert status(reader, iot_code)["locked"] is locked, (sender, locked)


def test_a_sigkilled_instance_loses_nothing_it_answered_and_the_others_serve_on(
    cluster: Cluster,
) -> None:
    iot_code = FLEET[1]
    first, second = cluster.gateways[0], cluster.gateways[1]
    with api_client(first.base_url) as api:
        assert command_code(api, paths.UNLOCK, iot_code) == 0
    first.kill()  # SIGKILL: no shutdown, no last write
    with api_client(second.base_url) as api:
        assert status(api, iot_code)["locked"] is False
        assert command_code(api, paths.LOCK, iot_code) == 0
    cluster.gateways[0] = cluster.serve(port=first.port)
    every_vehicle_online_at(cluster.gateways[0])
    with api_client(cluster.gateways[0].base_url) as api:
        assert status(api, iot_code)["locked"] is True


def test_after_a_broker_restart_no_report_is_pushed_again(cluster: Cluster) -> None:
    """The vehicles resend their latest status and fix, and every instance is handed the
    retained ones again: none of them is a new report, none becomes a push. A command
    sent after it all gives the one push that must come, and nothing came before it."""
    for server in cluster.gateways:
        every_vehicle_online_at(server)
    with api_client(cluster.gateways[2].base_url) as api:
        for iot_code in FLEET:  # a locked vehicle's next report is 900 s away
            locked = lambda c=iot_code: command_code(api, paths.LOCK, c) == 0  # noqa: E731
            eventually(locked, f"{iot_code} locked")
    marker = FLEET[-1]
    eventually(lambda: pending(cluster) == 0, "the pushes of the locks delivered")
    before = len(cluster.pushed)
    cluster.broker.stop()
    cluster.broker.start()
    for server in cluster.gateways:
        every_vehicle_online_at(server)
    with api_client(cluster.gateways[0].base_url) as api:
        assert command_code(api, paths.UNLOCK, marker) == 0

    def marker_pushed() -> bool:
        return any(
            isinstance(p, StatusPush) and p.iot_code == marker and p.locked is False
            for p in cluster.pushed[before:]
        )

    eventually(marker_pushed, "the unlock's status push")
    # a report the vehicle made around the restart (a QoS 1 message the dead broker had
    # not acknowledged is sent again) is pushed now for the first time: not a repeat
    earlier = {report_of(p) for p in cluster.pushed[:before]}
    again = [p for p in cluster.pushed[before:] if report_of(p) in earlier]
    assert again == [], f"{len(again)} reports pushed again after the broker restart"


def report_of(push: PushEvent) -> str:
    """What the vehicle reported, whatever eventId it was pushed under."""
    return push.model_dump_json(exclude={"event_id"})


def scalar(cluster: Cluster, query: str) -> int:
    """One number from the cluster's database."""

    async def fetch() -> int:
        import asyncpg

        conn = await asyncpg.connect(cluster.db_url)
        try:
            return int(await conn.fetchval(query))
        finally:
            await conn.close()

    return asyncio.run(fetch())


def pending(cluster: Cluster) -> int:
    """Pushes accepted and not delivered yet."""
    return scalar(cluster, "SELECT count(*) FROM push_outbox WHERE state = 'pending'")


def test_the_database_saw_no_deadlock(cluster: Cluster) -> None:
    query = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
    assert scalar(cluster, query) == 0
