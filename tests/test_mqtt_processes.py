"""`serve --broker`, `sim run` and `mqtt broker-config` as real processes around a private
Mosquitto; the store commands, `mqtt password` and the refusals of bad flags run in
process (`invoke`)."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from segway_gateway.contract.codes import Code
from segway_gateway.contract.device import Presence, Topic, topic
from segway_gateway.devicelink.mosquitto import GATEWAY_USER, gateway_password
from segway_gateway.devicelink.mqtt_session import Broker, BrokerRefused, MqttSession
from segway_gateway.gateway.crypto import load_key
from tests.brokers import PrivateBroker
from tests.conftest import PLATFORM, api_client
from tests.harness import DOC_SECRET, UNLOCK, command_code, eventually, free_port
from tests.processes import BackgroundProcess, cli, invoke, ok, refused, serving
from tests.test_mqtt_link import fresh_fleet, online

FLEET_SIZE = 3


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mqtt-processes")


@pytest.fixture(scope="module")
def fleet() -> list[str]:
    return fresh_fleet(FLEET_SIZE)


@pytest.fixture(scope="module")
def db_url(workdir: Path, fleet: list[str]) -> str:
    url = f"sqlite:///{workdir / 'gateway.db'}"
    ok(invoke("platform", "add", PLATFORM, "--secret", DOC_SECRET, db=url))
    ok(invoke("vehicle", "add", *fleet, "--platform", PLATFORM, db=url))
    return url


@pytest.fixture(scope="module")
def broker_url(workdir: Path, db_url: str) -> Iterator[str]:
    """Mosquitto started from the files `mqtt broker-config` wrote."""
    port = free_port()
    config = ("mqtt", "broker-config", "--out", "broker", "--port", str(port))
    printed = ok(cli(*config, db=db_url, cwd=workdir))
    assert f"{FLEET_SIZE} vehicles" in printed
    broker = PrivateBroker(workdir / "broker" / "mosquitto.conf", port)
    broker.start()
    try:
        yield broker.url
    finally:
        broker.stop()


class SimProcess(BackgroundProcess):
    """`segway-gateway sim run` in the background."""

    def __init__(self, workdir: Path, broker_url: str, fleet: list[str]) -> None:
        db_url = f"sqlite:///{workdir / 'sim.db'}"
        count = ["--count", str(len(fleet)), "--first", fleet[0]]
        super().__init__(
            "sim", ["sim", "run", "--broker", broker_url, *count, "--db", db_url], workdir
        )


@pytest.fixture
def fleet_process(workdir: Path, broker_url: str, fleet: list[str]) -> Iterator[SimProcess]:
    """A `sim run` of the fleet, killed after the test whatever happened."""
    sim = SimProcess(workdir, broker_url, fleet)
    yield sim
    sim.kill()


def test_serve_and_sim_run_meet_through_the_broker_and_a_killed_fleet_goes_offline(
    workdir: Path, db_url: str, broker_url: str, fleet: list[str], fleet_process: SimProcess
) -> None:
    sim = fleet_process
    with (
        serving(db_url, workdir, "--broker", broker_url) as server,
        api_client(server.base_url) as api,
    ):
        for iot_code in fleet:
            eventually(lambda c=iot_code: online(api, c), f"{iot_code} online", timeout=300)
        assert command_code(api, UNLOCK, fleet[0]) == 0
        assert f"{FLEET_SIZE} of {FLEET_SIZE} vehicles online" in sim.log()

        sim.process.send_signal(signal.SIGKILL)
        sim.process.wait(timeout=60)
        # no goodbye was said: the broker publishes each vehicle's will
        for iot_code in fleet:
            eventually(lambda c=iot_code: not online(api, c), f"{iot_code} offline")
        assert command_code(api, UNLOCK, fleet[1]) == Code.DEVICE_OFFLINE


def test_sim_run_stopped_politely_says_goodbye(
    workdir: Path, db_url: str, broker_url: str, fleet: list[str], fleet_process: SimProcess
) -> None:
    sim = fleet_process
    with (
        serving(db_url, workdir, "--broker", broker_url) as server,
        api_client(server.base_url) as api,
    ):
        eventually(lambda: online(api, fleet[2]), "online", timeout=300)
        stopped_ms = int(time.time() * 1000)
        sim.process.send_signal(signal.SIGTERM)
        assert sim.process.wait(timeout=120) == 0, sim.log()
        assert "stopping" in sim.log()
        eventually(lambda: not online(api, fleet[2]), "offline after the goodbye")
    # a goodbye, not the will (which carries the time the session began)
    presence = Presence.model_validate_json(retained(workdir, broker_url, fleet[2], Topic.PRESENCE))
    assert not presence.online
    assert presence.t >= stopped_ms


def retained(workdir: Path, broker_url: str, iot_code: str, kind: Topic) -> bytes:
    """The retained message of one vehicle topic, read as the gateway's user."""
    key = load_key(workdir / "var" / "gateway.key")
    login = Broker.from_url(broker_url).login(GATEWAY_USER, gateway_password(key))
    got: asyncio.Queue[bytes] = asyncio.Queue()

    async def read() -> bytes:
        session = MqttSession(
            login, "test-reader", lambda _t, p: got.put_nowait(p), [(topic(iot_code, kind), 1)]
        )
        await asyncio.wait_for(session.open(), 30)
        try:
            return await asyncio.wait_for(got.get(), 30)
        finally:
            await session.close()

    return asyncio.run(read())


def test_mqtt_password_prints_what_the_broker_accepts(
    workdir: Path, broker_url: str, fleet: list[str]
) -> None:
    line = ok(invoke("mqtt", "password", fleet[0], cwd=workdir)).strip()
    iot_code, password = line.split("\t")
    assert iot_code == fleet[0]

    async def log_in(secret: str) -> None:
        address = Broker.from_url(broker_url).login(iot_code, secret)
        session = MqttSession(address, f"c80-{iot_code}", lambda _t, _p: None, [])
        await asyncio.wait_for(session.open(), 30)
        await session.close()

    asyncio.run(log_in(password))
    with pytest.raises(BrokerRefused):
        asyncio.run(log_in(password + "x"))


def test_serve_refuses_a_broker_that_turns_its_credentials_down(
    tmp_path: Path, db_url: str, broker_url: str
) -> None:
    """Another directory means another gateway key, which the broker does not know."""
    result = cli(
        "serve", "--broker", broker_url, "--port", str(free_port()), db=db_url, cwd=tmp_path
    )
    refused(result, "refused segway-gateway")


@pytest.mark.parametrize("url", ["http://127.0.0.1:1883", "mqtt://", "mqtt://host:99999"])
def test_bad_broker_urls_are_refused_in_one_line(url: str) -> None:
    refused(invoke("serve", "--broker", url), "--broker")
    refused(invoke("sim", "run", "--broker", url, "--count", "1"), "--broker")
