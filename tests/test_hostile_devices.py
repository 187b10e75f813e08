"""Vehicles are untrusted: what one sends over a real broker is validated, bounded in size
and rate, counted and logged, and never stored, served or pushed when it is bad."""

from __future__ import annotations

import asyncio
import json
import math
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from segway_gateway.contract import paths
from segway_gateway.contract.device import Topic, topic
from segway_gateway.devicelink.guard import DEFAULT_BURST
from segway_gateway.devicelink.mosquitto import device_password
from segway_gateway.devicelink.mqtt_session import Broker, MqttSession
from segway_gateway.gateway.crypto import load_key
from tests import test_mqtt_link as link_tests
from tests.brokers import private_broker
from tests.conftest import ADMIN_TOKEN, PLATFORM, get_token
from tests.harness import DOC_SECRET, RunningGateway, Seed, eventually, running
from tests.test_metrics import metric

STATUS = "/api/v2/vehicle/query/current/status"
LOCATION = "/api/v2/vehicle/query/current/location"
FIRST = 869_970_000_000_000 + random.randrange(10**9) * 10
BAD, GOOD, FLOOD, BURST, AHEAD = (str(FIRST + n) for n in range(5))
FLEET = [BAD, GOOD, FLOOD, BURST, AHEAD]
VEHICLE_RATE = 20.0

PACK = {"batteryPort": 1, "batteryPercent": 80, "batteryVoltage": 46, "cycleTimes": 12}
STATUS_REPORT: dict[str, Any] = {
    **link_tests.STATUS_REPORT,
    "batteryData": [{**PACK, "temperatrue": 24}],
}
FIX: dict[str, Any] = {
    "locationStatus": "valid",
    "latitude": 22.5,
    "longitude": 114.1,
    "satelliteNumber": 9,
    "hdop": 0.9,
    "altitude": 12.0,
    "gpsUtcTime": 1_790_000_000,
}
BAD_REPORTS: list[tuple[str, Topic, bytes]] = [
    ("NaN latitude", Topic.LOCATION, json.dumps({**FIX, "latitude": math.nan}).encode()),
    ("Infinity altitude", Topic.LOCATION, json.dumps({**FIX, "altitude": math.inf}).encode()),
    ("latitude 999", Topic.LOCATION, json.dumps({**FIX, "latitude": 999}).encode()),
    ("longitude -181", Topic.LOCATION, json.dumps({**FIX, "longitude": -181}).encode()),
    ("odometer beyond 64 bits", Topic.STATUS, json.dumps({**STATUS_REPORT, "odometer": 2**70})),
    ('"locked": "yes"', Topic.STATUS, json.dumps({**STATUS_REPORT, "locked": "yes"}).encode()),
    ("a negative time", Topic.STATUS, json.dumps({**STATUS_REPORT, "statusUtcTime": -5})),
    (
        "a time beyond 64 bits in ms",
        Topic.STATUS,
        json.dumps({**STATUS_REPORT, "statusUtcTime": 2**62}),
    ),
    ("speed 1.5", Topic.STATUS, json.dumps({**STATUS_REPORT, "speed": 1.5}).encode()),
    (
        "600 battery packs",
        Topic.STATUS,
        json.dumps({**STATUS_REPORT, "batteryData": STATUS_REPORT["batteryData"] * 600}),
    ),
    ("not JSON", Topic.STATUS, b"{locked: true"),
    ("a JSON array", Topic.EVENT, b"[1, 2, 3]"),
    (
        "an event code as text",
        Topic.EVENT,
        b'{"kind":"alert","code":"1","status":0,"statusUtcTime":1}',
    ),
]
"""Each refused whole; the strings are encoded below."""
TOO_LARGE = json.dumps({**STATUS_REPORT, "padding": "x" * 70_000}).encode()


def report(**changes: Any) -> bytes:
    """A status report, changed as given."""
    return json.dumps({**STATUS_REPORT, **changes}).encode()


def payload(raw: str | bytes) -> bytes:
    return raw.encode() if isinstance(raw, str) else raw


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    directory = tmp_path_factory.mktemp("hostile")
    key = load_key(directory / "gateway.key")
    seed = Seed(platforms={PLATFORM: DOC_SECRET}, vehicles={c: (PLATFORM, True) for c in FLEET})
    with private_broker(directory / "broker", key, FLEET) as broker:
        yield from running(
            directory,
            seed,
            broker=broker.url,
            simulate=False,
            admin_token=ADMIN_TOKEN,
            vehicle_rate=VEHICLE_RATE,
        )


@pytest.fixture(scope="module")
def api(gateway: RunningGateway) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"bearer {get_token(gateway.base_url)}"}
    with httpx.Client(base_url=gateway.base_url, headers=headers, timeout=30) as client:
        yield client


def refused(gateway: RunningGateway) -> dict[str, int]:
    """The gateway's count of refused messages, by reason (admin API)."""
    answer = httpx.get(
        f"{gateway.base_url}/admin/v1/device-link",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=30,
    ).json()
    counts: dict[str, int] = answer["messagesRefused"]
    return counts


def publish_as(gateway: RunningGateway, iot_code: str, messages: list[tuple[Topic, bytes]]) -> None:
    """Connect with the vehicle's own credentials, publish in order at QoS 1, disconnect."""
    key = load_key(Path(gateway.config.key_file))
    login = Broker.from_url(gateway.config.broker or "").as_user(
        iot_code, device_password(key, iot_code)
    )

    async def run() -> None:
        session = MqttSession(login, f"c80-{iot_code}", lambda *_: None, [])
        await asyncio.wait_for(session.open(), 30)
        for kind, body in messages:
            assert session.publish(topic(iot_code, kind), body, qos=1)
        await asyncio.wait_for(session.delivered(), 30)
        await session.close()

    asyncio.run(run())


def data_of(api: httpx.Client, path: str, iot_code: str) -> dict[str, Any]:
    answer = api.get(path, params={"iotCode": iot_code}).json()
    assert answer["code"] == 0, answer
    data: dict[str, Any] = answer["data"]
    return data


def test_bad_reports_are_refused_whole_and_the_last_valid_one_is_still_served(
    gateway: RunningGateway, api: httpx.Client
) -> None:
    publish_as(
        gateway,
        BAD,
        [
            (Topic.STATUS, json.dumps(STATUS_REPORT).encode()),
            (Topic.LOCATION, json.dumps(FIX).encode()),
        ],
    )
    eventually(lambda: api.get(LOCATION, params={"iotCode": BAD}).json()["code"] == 0, "the fix")
    before = refused(gateway)
    publish_as(gateway, BAD, [(kind, payload(body)) for _, kind, body in BAD_REPORTS])

    def all_refused() -> bool:
        return refused(gateway).get("invalid", 0) - before.get("invalid", 0) == len(BAD_REPORTS)

    eventually(all_refused, f"{len(BAD_REPORTS)} bad reports refused")
    status = data_of(api, STATUS, BAD)
    assert (status["odometer"], status["locked"], status["statusUtcTime"]) == (
        1000,
        True,
        1_790_000_000,
    )
    fix = data_of(api, LOCATION, BAD)
    assert (fix["latitude"], fix["longitude"], fix["altitude"]) == (22.5, 114.1, 12.0)
    battery = data_of(api, paths.BATTERY_INFO, BAD)
    assert battery["batteryCount"] == 1


def test_a_report_from_the_future_does_not_freeze_the_vehicle(
    gateway: RunningGateway, api: httpx.Client
) -> None:
    """A report made a day ahead of the gateway's clock is refused: stored, it would make
    every later report look old. The next honest report is served."""
    now = int(gateway.clock())
    ahead = report(odometer=777, statusUtcTime=now + 86_400)
    honest = report(odometer=778, statusUtcTime=now)
    publish_as(gateway, AHEAD, [(Topic.STATUS, ahead), (Topic.STATUS, honest)])

    def served() -> bool:
        answer = api.get(STATUS, params={"iotCode": AHEAD}).json()
        return bool(answer["code"] == 0 and answer["data"]["odometer"] == 778)

    eventually(served, "the honest report served")


def test_a_payload_over_64_kb_is_refused_unread(gateway: RunningGateway, api: httpx.Client) -> None:
    before = refused(gateway).get("too-large", 0)
    counted = metric(gateway.base_url, "segway_gateway_device_messages_total", too_large_status)
    publish_as(gateway, BAD, [(Topic.STATUS, TOO_LARGE)])
    eventually(lambda: refused(gateway).get("too-large", 0) == before + 1, "the large one refused")
    assert data_of(api, STATUS, BAD)["odometer"] == 1000
    after = metric(gateway.base_url, "segway_gateway_device_messages_total", too_large_status)
    assert after == counted + 1, "/metrics counts it by kind and reason"


too_large_status = {"kind": "status", "outcome": "too-large"}


def test_a_flooding_vehicle_is_cut_off_and_another_is_heard_at_once(
    gateway: RunningGateway, api: httpx.Client
) -> None:
    """2,000 reports from one vehicle at once: the burst passes, the rest is dropped unread
    (counted), and a report of another vehicle sent right after is served at once."""
    before = refused(gateway).get("rate-limited", 0)
    publish_as(gateway, FLOOD, [(Topic.STATUS, report(odometer=n)) for n in range(2000)])
    publish_as(gateway, GOOD, [(Topic.STATUS, report(odometer=4242))])

    def heard() -> bool:
        answer = api.get(STATUS, params={"iotCode": GOOD}).json()
        return bool(answer["code"] == 0 and answer["data"]["odometer"] == 4242)

    eventually(heard, "the other vehicle's report", timeout=5)
    cut = refused(gateway).get("rate-limited", 0) - before
    assert 2000 - DEFAULT_BURST - 200 <= cut <= 2000 - DEFAULT_BURST, cut


def test_a_burst_of_100_events_is_admitted(gateway: RunningGateway) -> None:
    received = gateway.gateway.fleet.received
    before = refused(gateway)
    event = b'{"kind": "alert", "code": 1, "status": 0, "statusUtcTime": 1790000000}'
    publish_as(gateway, BURST, [(Topic.EVENT, event)] * DEFAULT_BURST)
    eventually(
        lambda: gateway.gateway.fleet.received >= received + DEFAULT_BURST, "every event handled"
    )
    assert refused(gateway) == before
