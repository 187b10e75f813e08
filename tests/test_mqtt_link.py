"""The MQTT device link against real Mosquitto brokers: round trips, presence, ACL, restarts."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from segway_gateway.contract.codes import Code
from segway_gateway.contract.device import RETAINED, Topic, topic
from segway_gateway.devicelink.mosquitto import (
    GATEWAY_USER,
    device_password,
    gateway_password,
    vehicle_client_id,
)
from segway_gateway.devicelink.mqtt_session import Broker, BrokerRefused, MqttSession
from segway_gateway.devicelink.mqtt_vehicle import MqttPort
from segway_gateway.gateway.crypto import load_key
from tests.brokers import PrivateBroker, private_broker, publish_all, shared_broker_url
from tests.conftest import ADMIN_TOKEN, PLATFORM, admin_client, api_client
from tests.harness import (
    DOC_SECRET,
    LOCK,
    STATUS,
    UNLOCK,
    RunningGateway,
    Seed,
    command_code,
    eventually,
    eventually_async,
    running,
)

STATUS_REPORT = {
    "locked": True,
    "lockVoltage": 410,
    "networkSignal": 20,
    "charging": False,
    "powerPercent": 80,
    "speedMode": 2,
    "speed": 0,
    "odometer": 1000,
    "remainingRange": 4800,
    "totalRidingSecs": 3600,
    "statusUtcTime": 1_790_000_000,
    "drivingVoltage": 46,
    "currentPower": 2,
    "iotPercent": 100,
    "iotVoltage": 415,
    "batteryData": [],
}
"""A valid status report, as a vehicle publishes it."""


def fresh_fleet(size: int) -> list[str]:
    """iotCodes no other run used: the shared broker keeps retained presence across runs."""
    first = 869_000_000_000_000 + random.randrange(10**11)
    return [str(first + n) for n in range(size)]


def seed_of(fleet: list[str]) -> Seed:
    return Seed(platforms={PLATFORM: DOC_SECRET}, vehicles={c: (PLATFORM, True) for c in fleet})


def online(api: httpx.Client, iot_code: str) -> bool:
    data = api.get(STATUS, params={"iotCode": iot_code}).json()["data"]
    return data is not None and bool(data["online"])  # None: it never reported


# Over the machine's shared broker -------------------------------------------


@pytest.fixture(scope="module")
def shared_fleet() -> list[str]:
    return fresh_fleet(4)


async def clear_retained(broker: Broker, fleet: list[str]) -> None:
    """Remove the fleet's retained messages, so runs leave no litter on a shared broker."""
    clear = [(topic(code, kind), b"", 1, True) for code, kind in itertools.product(fleet, RETAINED)]
    await publish_all(broker, clear)


@pytest.fixture(scope="module")
def over_shared(
    tmp_path_factory: pytest.TempPathFactory, shared_fleet: list[str]
) -> Iterator[RunningGateway]:
    url = shared_broker_url()
    yield from running(
        tmp_path_factory.mktemp("mqtt-shared"),
        seed_of(shared_fleet),
        broker=url,
        share_group=f"test-{uuid.uuid4().hex[:8]}",  # a broker others may use too
        command_timeout=3.0,
        admin_token=ADMIN_TOKEN,
    )
    asyncio.run(clear_retained(Broker.from_url(url), shared_fleet))


@pytest.fixture(scope="module")
def shared_api(over_shared: RunningGateway, shared_fleet: list[str]) -> Iterator[httpx.Client]:
    with api_client(over_shared.base_url) as api:
        for iot_code in shared_fleet:
            eventually(lambda code=iot_code: online(api, code), f"{iot_code} online")
        yield api


@pytest.fixture(scope="module")
def admin(over_shared: RunningGateway) -> Iterator[httpx.Client]:
    """The admin API of the gateway over the shared broker."""
    with admin_client(over_shared.base_url) as client:
        yield client


def test_an_unlock_goes_to_the_vehicle_over_mqtt_and_its_status_comes_back(
    shared_api: httpx.Client, shared_fleet: list[str]
) -> None:
    iot_code = shared_fleet[0]
    assert command_code(shared_api, UNLOCK, iot_code) == 0
    eventually(
        lambda: (
            shared_api.get(STATUS, params={"iotCode": iot_code}).json()["data"]["locked"] is False
        ),
        "the unlocked status over MQTT",
    )
    assert command_code(shared_api, LOCK, iot_code) == 0


def test_a_vehicle_that_does_not_answer_times_out_with_15302(
    shared_api: httpx.Client, admin: httpx.Client, shared_fleet: list[str]
) -> None:
    iot_code = shared_fleet[1]
    admin.post(f"/vehicles/{iot_code}/faults", json={"kind": "no-reply"}).raise_for_status()
    started = time.monotonic()
    assert command_code(shared_api, UNLOCK, iot_code) == Code.DEVICE_TIMEOUT
    assert time.monotonic() - started >= 3.0
    admin.delete(f"/vehicles/{iot_code}/faults").raise_for_status()
    assert command_code(shared_api, UNLOCK, iot_code) == 0


def test_a_vehicle_whose_session_ends_is_offline_with_15301_and_comes_back(
    shared_api: httpx.Client, admin: httpx.Client, shared_fleet: list[str]
) -> None:
    iot_code = shared_fleet[2]
    admin.post(f"/vehicles/{iot_code}/faults", json={"kind": "offline"}).raise_for_status()
    eventually(lambda: not online(shared_api, iot_code), "offline over retained presence")
    assert command_code(shared_api, UNLOCK, iot_code) == Code.DEVICE_OFFLINE
    admin.delete(f"/vehicles/{iot_code}/faults").raise_for_status()
    eventually(lambda: online(shared_api, iot_code), "back online")
    assert command_code(shared_api, UNLOCK, iot_code) == 0


def test_send_fail_is_15303_on_the_mqtt_link_too(
    shared_api: httpx.Client, admin: httpx.Client, shared_fleet: list[str]
) -> None:
    iot_code = shared_fleet[3]
    admin.post(f"/vehicles/{iot_code}/faults", json={"kind": "send-fail"}).raise_for_status()
    assert command_code(shared_api, UNLOCK, iot_code) == Code.SEND_FAILED
    admin.delete(f"/vehicles/{iot_code}/faults").raise_for_status()


def test_the_admin_api_shows_the_link_up_with_its_vehicles_and_traffic(
    shared_api: httpx.Client, admin: httpx.Client, shared_fleet: list[str]
) -> None:
    before = admin.get("/device-link").json()
    assert before["transport"] == "mqtt"
    assert before["connected"] is True
    assert command_code(shared_api, UNLOCK, shared_fleet[0]) == 0  # a reply and a status arrive
    eventually(
        lambda: (
            admin.get("/device-link").json()["messagesReceived"] >= before["messagesReceived"] + 2
        ),
        "the reply and the status counted",
    )
    online_now = admin.get("/device-link").json()["vehiclesOnline"]
    assert online_now == sum(online(shared_api, code) for code in shared_fleet)


# A private broker with the project's credentials and ACL --------------------


@pytest.fixture(scope="module")
def acl_fleet() -> list[str]:
    return fresh_fleet(3)


@pytest.fixture(scope="module")
def gateway_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mqtt-private")


@pytest.fixture(scope="module")
def broker(gateway_dir: Path, acl_fleet: list[str]) -> Iterator[PrivateBroker]:
    key = load_key(gateway_dir / "gateway.key")
    with private_broker(gateway_dir / "broker", key, acl_fleet) as started:
        yield started


@pytest.fixture(scope="module")
def over_private(
    gateway_dir: Path, acl_fleet: list[str], broker: PrivateBroker
) -> Iterator[RunningGateway]:
    yield from running(gateway_dir, seed_of(acl_fleet), broker=broker.url, command_timeout=3.0)


@pytest.fixture(scope="module")
def private_api(over_private: RunningGateway, acl_fleet: list[str]) -> Iterator[httpx.Client]:
    with api_client(over_private.base_url) as api:
        for iot_code in acl_fleet:
            eventually(lambda code=iot_code: online(api, code), f"{iot_code} online")
        yield api


def connect_as(broker: PrivateBroker, username: str, password: str) -> MqttSession:
    """A raw MQTT session logged in as a vehicle, under the only client id its credentials
    are good for (it takes that vehicle's place on the broker while it lasts)."""
    address = Broker.from_url(broker.url).login(username, password)
    return MqttSession(address, vehicle_client_id(username), lambda _t, _p: None, [])


def test_vehicles_log_in_with_their_own_password_and_round_trip(
    private_api: httpx.Client, acl_fleet: list[str]
) -> None:
    assert command_code(private_api, UNLOCK, acl_fleet[0]) == 0
    assert command_code(private_api, LOCK, acl_fleet[0]) == 0


def test_the_broker_refuses_a_wrong_password_and_an_unknown_vehicle(
    broker: PrivateBroker, gateway_dir: Path, acl_fleet: list[str]
) -> None:
    async def attempt(username: str, password: str) -> None:
        await asyncio.wait_for(connect_as(broker, username, password).open(), 30)

    with pytest.raises(BrokerRefused):
        asyncio.run(attempt(acl_fleet[0], "not-its-password"))
    key = load_key(gateway_dir / "gateway.key")
    with pytest.raises(BrokerRefused):
        asyncio.run(attempt("869999999999999", device_password(key, "869999999999999")))


def test_a_vehicle_cannot_publish_under_another_vehicles_topics(
    private_api: httpx.Client,
    over_private: RunningGateway,
    broker: PrivateBroker,
    gateway_dir: Path,
    acl_fleet: list[str],
) -> None:
    """The impostor logs in correctly as one vehicle, then claims another went offline,
    forges its status and sends it a lock command: the broker drops all three."""
    impostor, victim = acl_fleet[1], acl_fleet[2]
    key = load_key(gateway_dir / "gateway.key")
    assert command_code(private_api, UNLOCK, victim) == 0
    forged_odometer = 987_654_321

    async def publish_as_impostor() -> None:
        session = connect_as(broker, impostor, device_password(key, impostor))
        await asyncio.wait_for(session.open(), 30)
        offline = b'{"online": false, "t": 0}'
        assert session.publish(topic(victim, Topic.PRESENCE), offline, qos=1, retain=True)
        status = over_private.stored(victim).status
        assert status is not None
        forged = json.dumps({**status, "odometer": forged_odometer}).encode()
        assert session.publish(topic(victim, Topic.STATUS), forged, qos=1, retain=True)
        lock = {"opId": "forged", "name": "lock", "args": {}, "deadline": 2**42}
        command = json.dumps({**lock, "replyTo": "nobody"}).encode()
        assert session.publish(topic(victim, Topic.CMD), command, qos=1)
        own_event = b'{"kind": "alert", "code": 1, "status": 0, "statusUtcTime": 0}'
        assert session.publish(topic(impostor, Topic.EVENT), own_event, qos=1)
        # its own alert, sent last, reaches the gateway after the forged messages would have
        await eventually_async(lambda: 1 in impostor_alerts(), "the impostor's own alert")
        await session.close()

    taken = over_private.record_events()

    def impostor_alerts() -> set[int]:
        return {event.code for code, event in list(taken) if code == impostor}

    asyncio.run(publish_as_impostor())
    assert online(private_api, victim)
    data = private_api.get(STATUS, params={"iotCode": victim}).json()["data"]
    assert data["odometer"] != forged_odometer
    assert data["locked"] is False  # the forged lock never reached it


def test_the_link_recovers_after_a_broker_restart(
    private_api: httpx.Client, broker: PrivateBroker, acl_fleet: list[str]
) -> None:
    iot_code = acl_fleet[0]
    broker.stop()
    eventually(
        lambda: (
            command_code(private_api, UNLOCK, iot_code) in (Code.SEND_FAILED, Code.DEVICE_OFFLINE)
        ),
        "commands refused while the broker is down",
    )
    broker.start()
    for vehicle in acl_fleet:  # every vehicle back, each answering a command
        eventually(
            lambda c=vehicle: command_code(private_api, UNLOCK, c) == 0, f"{vehicle} unlocks"
        )


def test_after_a_broker_restart_vehicles_report_their_status_and_fix_again(
    private_api: httpx.Client, broker: PrivateBroker, acl_fleet: list[str], gateway_dir: Path
) -> None:
    """The broker keeps nothing across a restart: each vehicle publishes its latest status
    and fix again as it reconnects (retained), not only at its next report (900 s away for
    a locked one), so a gateway that starts or reconnects later still learns them."""
    for vehicle in acl_fleet:
        eventually(lambda c=vehicle: command_code(private_api, LOCK, c) == 0, f"{vehicle} locked")
    broker.stop()
    broker.start()
    for vehicle in acl_fleet:
        eventually(lambda c=vehicle: online(private_api, c), f"{vehicle} online again")
    key = load_key(gateway_dir / "gateway.key")
    login = Broker.from_url(broker.url).login(GATEWAY_USER, gateway_password(key))
    wanted = {topic(c, kind) for c in acl_fleet for kind in (Topic.STATUS, Topic.LOCATION)}
    retained: dict[str, bytes] = {}

    def keep(name: str, payload: bytes) -> None:
        retained[name] = payload

    async def listen() -> None:
        session = MqttSession(login, "test-retained", keep, [(name, 0) for name in wanted])
        await asyncio.wait_for(session.open(), 30)
        await eventually_async(lambda: wanted <= retained.keys(), "every status and fix")
        await session.close()

    asyncio.run(listen())


def test_vehicles_are_online_although_the_broker_retains_thousands_of_other_presences(
    tmp_path: Path,
) -> None:
    """A big fleet's retained presence must not crowd out the broker's queue for us
    (a stock Mosquitto: 1000 queued messages per client)."""
    strangers, fleet = fresh_fleet(3000), fresh_fleet(2)
    key = load_key(tmp_path / "gateway.key")
    broker = PrivateBroker.generated(tmp_path / "broker", key, fleet)
    stock = [ln for ln in broker.conf.read_text().splitlines() if "max_queued" not in ln]
    broker.conf.write_text("\n".join(stock) + "\n")
    broker.start()
    try:
        login = Broker.from_url(broker.url).login(GATEWAY_USER, gateway_password(key))
        offline = b'{"online": false, "t": 0}'
        litter = [(topic(code, Topic.PRESENCE), offline, 1, True) for code in strangers]
        asyncio.run(publish_all(login, litter))
        for server in running(tmp_path, seed_of(fleet), broker=broker.url):
            with api_client(server.base_url) as api:
                for iot_code in fleet:
                    eventually(lambda c=iot_code: online(api, c), f"{iot_code} online")
    finally:
        broker.stop()


def test_a_session_closed_while_reconnecting_stays_closed(
    broker: PrivateBroker, gateway_dir: Path, acl_fleet: list[str], private_api: httpx.Client
) -> None:
    """Closing must also stop a reconnect that is waiting out its back-off."""
    key = load_key(gateway_dir / "gateway.key")
    iot_code = acl_fleet[1]
    session = connect_as(broker, iot_code, device_password(key, iot_code))

    def nothing_else_runs() -> bool:
        return asyncio.all_tasks() == {asyncio.current_task()}

    async def story() -> None:
        await asyncio.wait_for(session.open(), 30)
        broker.stop()
        await eventually_async(lambda: not session.connected, "the loss noticed")
        await eventually_async(lambda: not nothing_else_runs(), "a reconnect under way")
        await session.close()
        broker.start()
        # a reconnect still waiting would connect (or try again) once its back-off ended
        await eventually_async(
            lambda: session.connected or nothing_else_runs(), "the waiting reconnect ended"
        )
        assert not session.connected

    asyncio.run(story())
    for vehicle in acl_fleet:  # the fleet itself came back after that restart
        eventually(
            lambda c=vehicle: command_code(private_api, UNLOCK, c) == 0, f"{vehicle} unlocks"
        )


def test_vehicles_log_in_as_themselves_whatever_user_the_broker_url_names(
    tmp_path: Path,
) -> None:
    fleet = fresh_fleet(2)
    key = load_key(tmp_path / "gateway.key")
    with private_broker(tmp_path / "broker", key, fleet) as started:
        gateway_url = started.url.replace(
            "mqtt://", f"mqtt://{GATEWAY_USER}:{gateway_password(key)}@"
        )
        port = MqttPort(Broker.from_url(started.url.replace("mqtt://", "mqtt://nobody:x@")), key)
        assert Broker.from_url(gateway_url).username == GATEWAY_USER

        async def connect_fleet() -> int:
            sessions = [port.connect(code, lambda _c: None) for code in fleet]
            await eventually_async(
                lambda: port.connected_count() == len(fleet) or bool(port.refused),
                "the fleet connected or refused",
            )
            for session in sessions:
                session.close()
            await port.drain()
            return len(port.refused)

        assert asyncio.run(connect_fleet()) == 0


def test_gateways_in_a_share_group_split_the_telemetry(tmp_path: Path) -> None:
    """Two instances of one group: each status report reaches exactly one of them. On a
    broker of its own, so no other test's vehicles add to the count."""
    fleet = fresh_fleet(1)
    key = load_key(tmp_path / "broker.key")
    reports = 80  # within a vehicle's burst at each instance (devicelink/guard.py)
    with private_broker(tmp_path / "broker", key, fleet) as started:
        address = Broker.from_url(started.url).as_user(GATEWAY_USER, gateway_password(key))
        url = started.url.replace("mqtt://", f"mqtt://{GATEWAY_USER}:{address.password}@")
        with contextlib.ExitStack() as stack:
            gateways = []
            for name in ("a", "b"):
                (tmp_path / name).mkdir()
                run = contextlib.contextmanager(running)(
                    tmp_path / name, seed_of(fleet), broker=url, share_group="g", simulate=False
                )
                gateways.append(stack.enter_context(run))

            def counts() -> list[int]:
                return [g.gateway.fleet.received for g in gateways]

            def online_at_each() -> list[bool]:
                entries = [g.gateway.fleet.entry(fleet[0]) for g in gateways]
                return [entry is not None and entry.online for entry in entries]

            before = counts()
            assert not any(online_at_each())
            report = json.dumps(STATUS_REPORT).encode()
            reports_then_presence = [
                *[(topic(fleet[0], Topic.STATUS), report, 0, False)] * reports,
                (topic(fleet[0], Topic.PRESENCE), b'{"online": true, "t": 0}', 0, False),
            ]
            asyncio.run(publish_all(address, reports_then_presence))

            def got() -> list[int]:
                return [now - then for now, then in zip(counts(), before, strict=True)]

            # Each instance takes presence itself, not through the group, and the broker hands
            # each its messages in order: the presence at both comes after any report either
            # would get, a second copy included.
            eventually(lambda: all(online_at_each()), "the presence after the reports at both")
            assert sum(got()) == reports + len(gateways)  # each report once, not twice
            assert all(count > 1 for count in got())  # and reports by both instances
