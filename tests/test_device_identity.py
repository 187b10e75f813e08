"""Device identity: a vehicle's credentials connect only under its own client id, so no
device can take the gateway's session or another vehicle's (a private Mosquitto started
from the generated config, dynamic security plugin and all)."""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from segway_gateway.contract.device import Topic, reply_topic, topic
from segway_gateway.devicelink import mosquitto
from segway_gateway.devicelink.backoff import Backoff
from segway_gateway.devicelink.mosquitto import (
    GATEWAY_USER,
    PluginNotFound,
    device_password,
    find_plugin,
    gateway_password,
    vehicle_client_id,
    write_broker_files,
)
from segway_gateway.devicelink.mqtt_session import Broker, BrokerRefused, MqttSession
from segway_gateway.gateway.crypto import load_key
from tests.brokers import PrivateBroker, private_broker
from tests.conftest import PLATFORM
from tests.harness import DOC_SECRET, free_port
from tests.processes import invoke, ok, refused

FLEET = ["869100000000001", "869100000000002", "869100000000003"]
ATTACKER, VICTIM, BYSTANDER = FLEET
OPEN_TIMEOUT = 30.0


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return load_key(tmp_path_factory.mktemp("identity-key") / "gateway.key")


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory, key: bytes) -> Iterator[PrivateBroker]:
    with private_broker(tmp_path_factory.mktemp("identity") / "broker", key, FLEET) as started:
        yield started


class Inbox:
    """What one session received, and a way to wait for a message."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._arrived = asyncio.Event()

    def __call__(self, topic_name: str, payload: bytes) -> None:
        self.messages.append((topic_name, payload))
        self._arrived.set()

    def topics(self) -> list[str]:
        return [name for name, _ in self.messages]

    async def wait_for(self, topic_name: str) -> None:
        async with asyncio.timeout(OPEN_TIMEOUT):
            while topic_name not in self.topics():
                self._arrived.clear()
                await self._arrived.wait()


def session(
    broker: PrivateBroker,
    username: str | None,
    password: str | None,
    client_id: str,
    inbox: Callable[[str, bytes], None] = lambda _t, _p: None,
    subscriptions: list[tuple[str, int]] | None = None,
    **options: Any,
) -> MqttSession:
    """A raw session as `username` (None: no credentials) under `client_id`."""
    address = Broker.from_url(broker.url)
    if username is not None and password is not None:
        address = address.as_user(username, password)
    return MqttSession(address, client_id, inbox, subscriptions or [], **options)


def as_vehicle(
    broker: PrivateBroker, key: bytes, iot_code: str, client_id: str, **options: Any
) -> MqttSession:
    return session(broker, iot_code, device_password(key, iot_code), client_id, **options)


def gateway_instance_id() -> str:
    """A client id as a gateway instance makes one (`segway-gateway-{random}`)."""
    return f"segway-gateway-{random.randrange(10**9)}"


def as_gateway(
    broker: PrivateBroker,
    key: bytes,
    inbox: Inbox,
    subscriptions: list[tuple[str, int]],
    client_id: str | None = None,
) -> MqttSession:
    return session(
        broker,
        GATEWAY_USER,
        gateway_password(key),
        client_id or gateway_instance_id(),
        inbox,
        subscriptions,
    )


async def connect_and_leave(candidate: MqttSession) -> None:
    await asyncio.wait_for(candidate.open(), OPEN_TIMEOUT)
    await candidate.close()


def test_a_vehicle_connects_under_its_own_client_id(broker: PrivateBroker, key: bytes) -> None:
    asyncio.run(connect_and_leave(as_vehicle(broker, key, VICTIM, vehicle_client_id(VICTIM))))


@pytest.mark.parametrize(
    "client_id",
    [
        vehicle_client_id(VICTIM),  # another vehicle's
        "segway-gateway-x",  # the gateway's pattern
        f"c80-{ATTACKER}-2",  # a second connection of its own under another name
        ATTACKER,  # its user name alone
        "a1b2c3d4-any-other-id",
    ],
)
def test_a_vehicles_credentials_are_refused_under_any_other_client_id(
    broker: PrivateBroker, key: bytes, client_id: str
) -> None:
    with pytest.raises(BrokerRefused):
        asyncio.run(connect_and_leave(as_vehicle(broker, key, ATTACKER, client_id)))


def test_gateway_instances_share_the_gateway_user_under_distinct_client_ids(
    broker: PrivateBroker, key: bytes
) -> None:
    """Both stay connected and read the tree, one through a share group (`--share-group`)."""

    async def two_instances() -> None:
        status, presence = topic(BYSTANDER, Topic.STATUS), topic(BYSTANDER, Topic.PRESENCE)
        first_inbox, second_inbox = Inbox(), Inbox()
        first = as_gateway(broker, key, first_inbox, [("$share/g/segway/v1/+/status", 0)])
        second = as_gateway(broker, key, second_inbox, [("segway/v1/+/presence", 1)])
        vehicle = as_vehicle(broker, key, BYSTANDER, vehicle_client_id(BYSTANDER))
        for started in (first, second, vehicle):
            await asyncio.wait_for(started.open(), OPEN_TIMEOUT)
        assert vehicle.publish(status, b"{}", qos=1)
        assert vehicle.publish(presence, b"{}", qos=1)
        await first_inbox.wait_for(status)
        await second_inbox.wait_for(presence)
        assert first.connected and second.connected and (first.ups, second.ups) == (1, 1)
        for started in (vehicle, first, second):
            await started.close()

    asyncio.run(two_instances())


def test_no_device_can_make_the_gateway_or_a_vehicle_drop(
    broker: PrivateBroker, key: bytes
) -> None:
    """An attacker with good vehicle credentials tries the gateway's client id and the
    victim's, and also the victim's id with a wrong password or with no credentials: all
    are refused, and both sessions stay up (one connection each, never a reconnect) and
    still carry a command and its reply."""

    async def attack() -> None:
        gateway_inbox, victim_inbox = Inbox(), Inbox()
        gateway_id = gateway_instance_id()
        replies = [(f"{topic('+', Topic.REPLY)}/+", 0)]
        gateway = as_gateway(broker, key, gateway_inbox, replies, gateway_id)
        victim = session(
            broker,
            VICTIM,
            device_password(key, VICTIM),
            vehicle_client_id(VICTIM),
            victim_inbox,
            [(topic(VICTIM, Topic.CMD), 0)],
        )
        await asyncio.wait_for(gateway.open(), OPEN_TIMEOUT)
        await asyncio.wait_for(victim.open(), OPEN_TIMEOUT)
        attacker_password = device_password(key, ATTACKER)
        attempts = [
            session(broker, ATTACKER, attacker_password, gateway_id),
            session(broker, ATTACKER, attacker_password, vehicle_client_id(VICTIM)),
            session(broker, VICTIM, "not-its-password", vehicle_client_id(VICTIM)),
            session(broker, None, None, vehicle_client_id(VICTIM)),
            session(broker, None, None, gateway_id),
        ]
        for attempt in attempts:
            with pytest.raises(BrokerRefused):
                await connect_and_leave(attempt)

        assert gateway.publish(topic(VICTIM, Topic.CMD), b'{"opId": "after"}')
        await victim_inbox.wait_for(topic(VICTIM, Topic.CMD))
        answer = reply_topic(VICTIM, gateway_id.removeprefix("segway-gateway-"))
        assert victim.publish(answer, b'{"opId": "after", "code": 0}')
        await gateway_inbox.wait_for(answer)
        assert (gateway.ups, victim.ups) == (1, 1)
        assert gateway.connected and victim.connected
        await victim.close()
        await gateway.close()

    asyncio.run(attack())


class _Patient(random.Random):
    """Always waits out the whole back-off: a dropped session stays down for the test."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_a_second_connection_of_the_same_vehicle_replaces_the_first(
    broker: PrivateBroker, key: bytes
) -> None:
    """One connection per vehicle: its own credentials and client id take its session over,
    which the first session sees as a drop (the probe above would see one too)."""

    async def twice() -> None:
        dropped = asyncio.Event()
        own = vehicle_client_id(BYSTANDER)
        patient = Backoff(60.0, 60.0, _Patient())
        first = as_vehicle(broker, key, BYSTANDER, own, on_down=dropped.set, backoff=patient)
        await asyncio.wait_for(first.open(), OPEN_TIMEOUT)
        second = as_vehicle(broker, key, BYSTANDER, own)
        await asyncio.wait_for(second.open(), OPEN_TIMEOUT)
        await asyncio.wait_for(dropped.wait(), OPEN_TIMEOUT)
        assert second.connected and not first.connected
        await first.close()
        await second.close()

    asyncio.run(twice())


def test_a_vehicle_still_publishes_and_reads_only_its_own_topics(
    broker: PrivateBroker, key: bytes
) -> None:
    """Connected under its own id, the attacker forges the victim's presence, status and
    command and subscribes to the victim's commands and the whole tree: the gateway's
    user sees only the attacker's own event, and the attacker only its own command."""

    async def forge() -> None:
        watcher_inbox, attacker_inbox = Inbox(), Inbox()
        watcher = as_gateway(broker, key, watcher_inbox, [("segway/v1/#", 1)])
        attacker = session(
            broker,
            ATTACKER,
            device_password(key, ATTACKER),
            vehicle_client_id(ATTACKER),
            attacker_inbox,
            [(topic(VICTIM, Topic.CMD), 0), ("segway/v1/#", 0), (topic(ATTACKER, Topic.CMD), 0)],
        )
        await asyncio.wait_for(watcher.open(), OPEN_TIMEOUT)
        await asyncio.wait_for(attacker.open(), OPEN_TIMEOUT)
        for kind in (Topic.PRESENCE, Topic.STATUS, Topic.CMD):
            assert attacker.publish(topic(VICTIM, kind), b"{}", qos=1)
        own_event = topic(ATTACKER, Topic.EVENT)
        assert attacker.publish(own_event, b"{}", qos=1)
        await watcher_inbox.wait_for(own_event)  # after the forged messages would have
        assert watcher_inbox.topics() == [own_event]

        assert watcher.publish(topic(VICTIM, Topic.CMD), b"{}")
        assert watcher.publish(topic(ATTACKER, Topic.CMD), b"{}")
        await attacker_inbox.wait_for(topic(ATTACKER, Topic.CMD))
        assert attacker_inbox.topics() == [topic(ATTACKER, Topic.CMD)]
        await attacker.close()
        await watcher.close()

    asyncio.run(forge())


def test_the_generated_config_still_starts_with_lines_appended(tmp_path: Path, key: bytes) -> None:
    """An operator's `log_type all` at the end: the broker starts, and the binding holds."""
    port = free_port()
    conf = write_broker_files(tmp_path / "broker", key, FLEET, port)
    with conf.open("a") as out:
        out.write("log_type all\n")
    broker = PrivateBroker(conf, port)
    broker.start()
    try:
        own = vehicle_client_id(BYSTANDER)
        asyncio.run(connect_and_leave(as_vehicle(broker, key, BYSTANDER, own)))
        with pytest.raises(BrokerRefused):
            asyncio.run(connect_and_leave(as_vehicle(broker, key, ATTACKER, own)))
    finally:
        broker.stop()
    assert "Sending CONNACK" in broker.log()  # a debug line: the appended option took effect


def test_the_plugin_file_binds_each_vehicle_and_leaves_the_gateway_free(key: bytes) -> None:
    document = mosquitto.dynamic_security(key, FLEET)
    clients = {client["username"]: client for client in document["clients"]}
    assert "clientid" not in clients[GATEWAY_USER]
    assert {code: clients[code]["clientid"] for code in FLEET} == {
        code: f"c80-{code}" for code in FLEET
    }
    defaults = document["defaultACLAccess"]
    assert not any(defaults[kind] for kind in ("publishClientSend", "publishClientReceive"))
    assert not defaults["subscribe"]
    roles = {role["rolename"]: role["acls"] for role in document["roles"]}
    for code in FLEET:
        (role,) = clients[code]["roles"]
        topics = {acl["topic"] for acl in roles[role["rolename"]]}
        assert all(name.startswith(f"segway/v1/{code}/") for name in topics)
    assert not any("$CONTROL" in acl["topic"] for acls in roles.values() for acl in acls)


def test_no_plugin_in_the_usual_places_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mosquitto, "PLUGIN_DIRS", (str(tmp_path),))
    with pytest.raises(PluginNotFound, match=re.escape(mosquitto.PLUGIN_FILE)):
        find_plugin()
    plugin = tmp_path / mosquitto.PLUGIN_FILE
    plugin.write_bytes(b"")
    assert find_plugin() == plugin


def test_broker_config_writes_the_bound_config_and_the_notes_for_other_brokers(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 'gateway.db'}"
    ok(invoke("platform", "add", PLATFORM, "--secret", DOC_SECRET, db=db))
    ok(invoke("vehicle", "add", *FLEET, "--platform", PLATFORM, db=db))
    out = tmp_path / "broker"
    key_file = str(tmp_path / "gateway.key")
    printed = ok(invoke("mqtt", "broker-config", "--out", str(out), "--key-file", key_file, db=db))
    assert f"{len(FLEET)} vehicles" in printed and "README" in printed
    document = json.loads((out / "dynamic-security.json").read_text())
    bound = {c["username"]: c.get("clientid") for c in document["clients"]}
    assert bound == {GATEWAY_USER: None, **{code: f"c80-{code}" for code in FLEET}}
    notes = (out / "README").read_text()
    assert "${clientid}" in notes and "EMQX" in notes and "HiveMQ" in notes
    assert "plugin_opt_config_file" in (out / "mosquitto.conf").read_text()


def test_broker_config_refuses_a_missing_plugin_in_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "mosquitto_dynamic_security.so"
    options = ["--key-file", str(tmp_path / "gateway.key"), "--plugin", str(missing)]
    result = invoke(
        "mqtt",
        "broker-config",
        "--out",
        str(tmp_path / "broker"),
        *options,
        db=f"sqlite:///{tmp_path / 'g.db'}",
    )
    refused(result, "dynamic security plugin")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "broker").exists()
