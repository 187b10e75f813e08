"""Three gateways on one PostgreSQL database and one broker, started alike: each answers
for every vehicle, reads the others' writes at once, and a report is pushed once.

The vehicles are simulated inside the first gateway and reach all three through a
private Mosquitto with the project's own credentials; every gateway takes every report
(no share group), so each report is written three times over and must still be
stored and pushed once.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from segway_gateway.contract import paths
from segway_gateway.contract.codes import Code
from segway_gateway.contract.pushes import PushEvent, StatusPush
from segway_gateway.gateway.crypto import load_key
from tests.brokers import private_broker
from tests.conftest import ADMIN_TOKEN, PLATFORM, admin_client, api_client
from tests.harness import RunningGateway, Seed, eventually, running
from tests.test_pushes import receiving, seed_with_pushes

FLEET = [str(869_990_000_000_000 + n) for n in range(6)]
NOTHING = Seed(platforms={}, vehicles={})
ZONE_FOLLOWED_WITHIN = 6.0


@dataclass
class Instances:
    gateways: list[RunningGateway]
    apis: list[httpx.Client]
    pushed: list[PushEvent]


@pytest.fixture(scope="module")
def instances(
    tmp_path_factory: pytest.TempPathFactory, postgres_module_url: str
) -> Iterator[Instances]:
    directory, db_url = tmp_path_factory.mktemp("instances"), postgres_module_url
    key = load_key(directory / "gateway.key")
    pushed: list[PushEvent] = []

    async def take(push: PushEvent) -> None:
        pushed.append(push)

    with contextlib.ExitStack() as stack:
        url = stack.enter_context(receiving(take))
        seed_with_pushes(directory, url, FLEET, db_url=db_url)
        broker = stack.enter_context(private_broker(directory / "broker", key, FLEET))
        common: dict[str, Any] = {
            "db_url": db_url,
            "broker": broker.url,
            "key_file": directory / "gateway.key",
            "admin_token": ADMIN_TOKEN,
        }
        gateways = []
        for n, simulate in enumerate((True, False, False)):
            (directory / f"g{n}").mkdir()
            run = contextlib.contextmanager(running)
            gateways.append(
                stack.enter_context(run(directory / f"g{n}", NOTHING, simulate=simulate, **common))
            )
        apis = [stack.enter_context(api_client(g.base_url)) for g in gateways]
        for api, iot_code in itertools.product(apis, FLEET):
            eventually(
                lambda a=api, c=iot_code: status(a, c)["online"] is True, f"{iot_code} online"
            )
        yield Instances(gateways, apis, pushed)


def answer(api: httpx.Client, path: str, iot_code: str) -> dict[str, Any]:
    body: dict[str, Any] = api.get(path, params={"iotCode": iot_code}).json()
    return body


def status(api: httpx.Client, iot_code: str) -> dict[str, Any]:
    body = answer(api, paths.STATUS, iot_code)
    return body["data"] if body["code"] == 0 else {"online": None}


def command(api: httpx.Client, path: str, body: dict[str, Any]) -> int:
    return int(api.post(path, json=body).json()["code"])


def test_every_instance_answers_for_every_vehicle(instances: Instances) -> None:
    for api, iot_code in itertools.product(instances.apis, FLEET):
        assert answer(api, paths.STATUS, iot_code)["code"] == 0
        assert answer(api, paths.LOCATION, iot_code)["code"] == 0


def test_a_command_through_one_instance_is_read_at_once_through_the_others(
    instances: Instances,
) -> None:
    """No waiting: the answer 0 comes after the lock state is stored."""
    iot_code = FLEET[0]
    for sender, locked in itertools.product(range(3), (False, True)):
        path = paths.LOCK if locked else paths.UNLOCK
        assert command(instances.apis[sender], path, {"iotCode": iot_code}) == 0
        for reader in instances.apis:
            assert status(reader, iot_code)["locked"] is locked, (sender, locked)


def test_settings_set_through_different_instances_all_stay(instances: Instances) -> None:
    iot_code = FLEET[1]
    first, second, third = instances.apis
    switch = {"iotCode": iot_code, "alertSensitivity": 3}
    assert command(first, paths.SWITCH_SETTING, switch) == 0
    sound = {"iotCode": iot_code, "workMode": 2, "volume": 1}
    assert command(second, paths.SOUND_SETTING, sound) == 0
    key = {"iotCode": iot_code, "key": "K3yFr0m2"}
    assert command(third, paths.BLUETOOTH_KEY_SETTING, key) == 0
    assert command(first, paths.UNLOCK, {"iotCode": iot_code}) == 0
    settings = instances.gateways[2].stored(iot_code).settings
    assert settings["switch"] == {"alertSensitivity": 3}
    assert settings["sound"] == {"workMode": 2, "volume": 1}
    assert answer(first, paths.BLUETOOTH_KEY, iot_code)["data"]["key"] == "K3yFr0m2"


def test_a_zone_added_through_one_instance_refuses_a_lock_through_another(
    instances: Instances,
) -> None:
    iot_code = FLEET[2]
    api, other = instances.apis[0], instances.apis[1]
    assert command(api, paths.UNLOCK, {"iotCode": iot_code}) == 0
    fix = answer(other, paths.LOCATION, iot_code)["data"]
    lon, lat, half = fix["longitude"], fix["latitude"], 0.0001
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]
    with admin_client(instances.gateways[0].base_url) as admin:
        added = admin.put(
            f"/platforms/{PLATFORM}/geofences/depot",
            json={"type": "Polygon", "coordinates": [ring]},
        )
        assert added.status_code in (200, 201), added.text
    for reader in instances.apis[1:]:
        eventually(
            lambda r=reader: command(r, paths.LOCK, {"iotCode": iot_code}) == Code.LOCK_GEOFENCE,
            "the zone refusing a lock",
            ZONE_FOLLOWED_WITHIN,
        )


def test_each_report_is_pushed_once_though_three_instances_took_it(instances: Instances) -> None:
    """Pushes of one report share one eventId, and each eventId is delivered once. The
    changes are a second apart on the vehicles' clock (the first gateway's), so that no
    two of its reports carry the same fields: a receiver could not tell those apart."""
    iot_code = FLEET[3]
    since = int(instances.gateways[0].clock()) + 1
    for path in (paths.UNLOCK, paths.LOCK, paths.UNLOCK):
        instances.gateways[0].clock.advance(1)
        assert command(instances.apis[0], path, {"iotCode": iot_code}) == 0

    def of_vehicle() -> list[PushEvent]:
        return [p for p in list(instances.pushed) if p.iot_code == iot_code]

    def changed() -> bool:
        """The unlock, the lock and the unlock again, in the order the vehicle made them
        (a second apart; instances deliver in parallel, so arrivals may be in another
        order), among the status pushes made since (periodic ones may come between)."""
        made = sorted(
            (p.status_utc_time, p.locked)
            for p in of_vehicle()
            if isinstance(p, StatusPush) and p.status_utc_time >= since
        )
        states = iter(locked for _, locked in made)
        return all(wanted in states for wanted in (False, True, False))

    def seen() -> str:
        statuses = [p for p in of_vehicle() if isinstance(p, StatusPush)]
        return f"; since {since}: {[(p.status_utc_time, p.locked) for p in statuses]}"

    eventually(changed, "the status pushes of the changes", detail=seen)
    ids_of: dict[str, set[str]] = defaultdict(set)
    delivered: dict[str, int] = defaultdict(int)
    for push in of_vehicle():
        assert push.event_id is not None
        fields = push.model_dump(mode="json", exclude={"event_id", "online"})
        ids_of[json.dumps(fields, sort_keys=True)].add(push.event_id)
        delivered[push.event_id] += 1
    assert all(len(ids) == 1 for ids in ids_of.values()), "a report pushed under two eventIds"
    assert all(n == 1 for n in delivered.values()), "an eventId delivered more than once"


def test_a_console_on_one_instance_sees_a_change_made_through_another(
    instances: Instances,
) -> None:
    """The console's session is valid on every instance, and its live feed, read from the
    store, shows what a command through another instance changed."""
    iot_code, first, last = FLEET[4], instances.gateways[0], instances.gateways[2]
    with httpx.Client(base_url=first.base_url, headers={"Origin": first.base_url}) as login:
        answered = login.post("/console/login", data={"admin_token": ADMIN_TOKEN})
        assert answered.status_code == 303
        cookie = answered.cookies["segway_console"]
    with (
        httpx.Client(base_url=last.base_url, cookies={"segway_console": cookie}) as console,
        console.stream("GET", "/console/live", timeout=30) as stream,
    ):
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = (
            json.loads(line.removeprefix("data: "))
            for line in stream.iter_lines()
            if line.startswith("data: ")
        )
        assert iot_code in {v["iot_code"] for v in next(events)}, "the snapshot"
        assert command(instances.apis[1], paths.UNLOCK, {"iotCode": iot_code}) == Code.SUCCESS
        answered = time.monotonic()
        for changed in events:
            if any(v["iot_code"] == iot_code and v["lock"] == "unlocked" for v in changed):
                break
        else:
            pytest.fail("the stream ended before the change came")
        assert time.monotonic() - answered < 5.0, "at the other instance's next poll"
    assert command(instances.apis[1], paths.LOCK, {"iotCode": iot_code}) == Code.SUCCESS
