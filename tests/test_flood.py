"""One vehicle's flood of bad reports never delays or blocks the other vehicles' pushes.

The issue's criterion, measured: after one vehicle floods 2,000 bad reports, the other
vehicles' pushes show no silence over 5 s in the next 20 s and keep at least a quarter
of their previous rate.

A gateway on a private Mosquitto (the project's generated config) pushes to a receiver
on loopback that notes when each push arrives. Ten vehicles, each on its own
connection with its own credentials (`MqttPort`, as the simulated fleet connects),
report a status every PERIOD seconds, so pushes flow; their rate is measured over
BEFORE seconds. Then an eleventh vehicle publishes 2,000 reports as fast as it can:
NaN, Infinity, integers beyond 64 bits, latitudes of 999, wrong types, a report from
the future, 640 battery packs in nearly 64 KB, payloads over 64 KB, text that is not
JSON, and valid reports too (a flood of good data is a flood all the same). For the
next AFTER seconds the others' push arrivals are recorded: the longest silence (the
window's edges count) and the rate, of all of them together and of each one, and how
long each report took from its vehicle to the receiver.

The flood must also be refused as it should: every message accounted for (too large,
rate-limited, invalid, or valid, admitted and pushed), no more admitted than the
bucket allows, none of the invalid values stored or pushed, and the vehicle still
answering its last valid report.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import threading
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from segway_gateway.contract.device import MAX_PAYLOAD_BYTES, QOS, DeviceStatus, Topic, topic
from segway_gateway.contract.pushes import LocationPush, PushEvent, StatusPush
from segway_gateway.devicelink.guard import DEFAULT_BURST, INVALID, TOO_FAST, TOO_LARGE
from segway_gateway.devicelink.mosquitto import device_password, vehicle_client_id
from segway_gateway.devicelink.mqtt_session import Broker, MqttSession
from segway_gateway.devicelink.mqtt_vehicle import MqttDeviceConnection, MqttPort
from segway_gateway.gateway.crypto import load_key
from tests import test_mqtt_link as link_tests
from tests.brokers import private_broker
from tests.conftest import ADMIN_TOKEN, api_client
from tests.harness import LOCATION, STATUS, RunningGateway, Seed, eventually, eventually_async
from tests.harness import running as running_gateway
from tests.test_hostile_devices import FIX, refused
from tests.test_pushes import receiving, seed_with_pushes

T = TypeVar("T")

FIRST = 869_985_000_000_000
OTHERS = [str(FIRST + n) for n in range(10)]
FLOODER = str(FIRST + 99)
NOTHING = Seed(platforms={}, vehicles={})

PERIOD = 0.3
"""Seconds between two status reports of one of the other vehicles."""
BEFORE = 3.0
"""Seconds over which the others' push rate is measured before the flood."""
AFTER = 20.0
"""Seconds after the flood begins over which the others' pushes are watched (the issue's)."""
SILENCE = 5.0
"""The longest silence the issue allows in the others' pushes after the flood."""
FLOOD = 2000
VEHICLE_RATE = 10.0
"""`--vehicle-rate`, set explicitly: the flood runs into this bucket."""

FLOOD_ODOMETER = 100_000
"""The flooder's valid status reports carry odometers from here on; its bad ones, values
no valid report of it carries (so one that got through would show)."""
PACK = {"batteryPort": 1, "batteryPercent": 80, "batteryVoltage": 46, "cycleTimes": 12}


def status_report(**changes: Any) -> dict[str, Any]:
    return {**link_tests.STATUS_REPORT, **changes}


def encoded(body: dict[str, Any] | str) -> bytes:
    """JSON as a careless vehicle writes it: NaN and Infinity bare, as `json` does."""
    return (body if isinstance(body, str) else json.dumps(body)).encode()


def flood(now_ms: int) -> list[tuple[Topic, bytes]]:
    """FLOOD messages: rounds of ten bad ones and ten valid ones (five statuses, five
    fixes), each valid one made 1 ms after the one before."""
    bad: list[tuple[Topic, dict[str, Any] | str]] = [
        (Topic.STATUS, status_report(odometer=math.nan, reportedAt=now_ms)),
        (Topic.LOCATION, {**FIX, "latitude": math.nan, "reportedAt": now_ms}),
        (Topic.LOCATION, {**FIX, "altitude": math.inf, "reportedAt": now_ms}),
        (Topic.LOCATION, {**FIX, "latitude": 999, "reportedAt": now_ms}),
        (Topic.STATUS, status_report(odometer=2**70, reportedAt=now_ms)),
        (Topic.STATUS, status_report(odometer=5, locked="yes", reportedAt=now_ms)),
        (Topic.STATUS, status_report(odometer=6, reportedAt=now_ms + 86_400_000)),  # the future
        (
            Topic.STATUS,  # under 64 KB by a little, so read and parsed: too many packs
            status_report(odometer=7, batteryData=[{**PACK, "temperatrue": 24}] * 640),
        ),
        (Topic.STATUS, status_report(odometer=8, padding="x" * 70_000)),  # over 64 KB
        (Topic.STATUS, "{locked: true"),
    ]
    messages: list[tuple[Topic, bytes]] = []
    valid = 0
    while len(messages) < FLOOD:
        messages += [(kind, encoded(body)) for kind, body in bad]
        for n in range(10):
            valid += 1
            at = now_ms + valid
            if n % 2:
                body = {**FIX, "reportedAt": at}
                messages.append((Topic.LOCATION, encoded(body)))
            else:
                body = status_report(odometer=FLOOD_ODOMETER + valid, reportedAt=at)
                messages.append((Topic.STATUS, encoded(body)))
    assert len(messages) == FLOOD
    sizes = sorted({len(payload) for _, payload in messages})
    assert sizes[-1] > MAX_PAYLOAD_BYTES and 63 * 1024 < sizes[-2] <= MAX_PAYLOAD_BYTES
    return messages


# Event loops in threads of their own ---------------------------------------------


class LoopThread:
    """An event loop in a thread of its own: the vehicles, and apart from them the flooder,
    so that neither one's work holds the other up."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.submit(coroutine).result(timeout=60)

    def close(self) -> None:
        """Cancel what still runs (a session's last reconnect attempt, say) and wait for it,
        as `asyncio.run` does, then stop."""
        self.run(_cancel_the_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=30)
        self.loop.close()


async def _cancel_the_rest() -> None:
    tasks = asyncio.all_tasks() - {asyncio.current_task()}
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@contextlib.contextmanager
def loop_thread(name: str) -> Iterator[LoopThread]:
    thread = LoopThread(name)
    try:
        yield thread
    finally:
        thread.close()


# The well-behaved vehicles -------------------------------------------------------


@dataclass
class Others:
    """The well-behaved vehicles: each reports a status every PERIOD seconds, staggered,
    its odometer counting its reports; when each report was sent is noted."""

    port: MqttPort
    connections: dict[str, MqttDeviceConnection] = field(default_factory=dict)
    sent: dict[tuple[str, int], float] = field(default_factory=dict)
    """(iotCode, odometer) → time.monotonic() when it was published."""
    reporting: asyncio.Task[None] | None = None

    async def start(self) -> None:
        for iot_code in OTHERS:
            self.connections[iot_code] = self.port.connect(iot_code, lambda _command: None)
        await eventually_async(
            lambda: self.port.connected_count() == len(OTHERS), "the vehicles connected"
        )
        self.reporting = asyncio.create_task(self._report())

    async def _report(self) -> None:
        step = PERIOD / len(OTHERS)
        due = time.monotonic()
        last_ms = 0
        for odometer in range(1, 1_000_000):
            for iot_code in OTHERS:
                last_ms = max(int(time.time() * 1000), last_ms + 1)  # each report newer
                status = DeviceStatus.model_validate(
                    status_report(odometer=odometer, reportedAt=last_ms)
                )
                self.sent[(iot_code, odometer)] = time.monotonic()
                self.connections[iot_code].publish_status(status)
                due += step
                await asyncio.sleep(max(0.0, due - time.monotonic()))

    async def stop(self) -> None:
        if self.reporting is not None:
            self.reporting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reporting
        for connection in self.connections.values():
            connection.close()
        await self.port.drain()


# The flooder ---------------------------------------------------------------------


class Flooder:
    """The vehicle FLOODER on a raw connection of its own credentials: it publishes bytes."""

    def __init__(self, session: MqttSession) -> None:
        self.session = session

    @classmethod
    async def connected(cls, broker_url: str, key: bytes) -> Flooder:
        login = Broker.from_url(broker_url).as_user(FLOODER, device_password(key, FLOODER))
        session = MqttSession(login, vehicle_client_id(FLOODER), lambda *_: None, [])
        await asyncio.wait_for(session.open(), 30)
        return cls(session)

    async def publish(self, messages: list[tuple[Topic, bytes]]) -> float:
        """Publish at once, at the QoS of each kind but the last (QoS 1): the broker
        acknowledges that one after it has handled those before it. The seconds from the
        first to that acknowledgement."""
        started = time.monotonic()
        for number, (kind, payload) in enumerate(messages, start=1):
            qos = 1 if number == len(messages) else QOS[kind]
            assert self.session.publish(topic(FLOODER, kind), payload, qos=qos)
        await asyncio.wait_for(self.session.delivered(), 60)
        return time.monotonic() - started

    async def close(self) -> None:
        await self.session.close()


# What the receiver got -----------------------------------------------------------


class Arrivals:
    """Each push the receiver accepted, once (delivery is at least once), with the
    time.monotonic() of its first arrival."""

    def __init__(self) -> None:
        self.first: dict[str | int, tuple[float, PushEvent]] = {}

    async def take(self, push: PushEvent) -> None:
        key = push.event_id if push.event_id is not None else len(self.first)  # (never None)
        self.first.setdefault(key, (time.monotonic(), push))

    def of(self, iot_codes: list[str], start: float = 0, end: float = math.inf) -> list[float]:
        """Arrival times, sorted, of the status pushes of these vehicles in [start, end)."""
        return sorted(
            at
            for at, push in list(self.first.values())
            if isinstance(push, StatusPush) and push.iot_code in iot_codes and start <= at < end
        )

    def pushes_of(self, iot_code: str) -> list[PushEvent]:
        return [push for _, push in list(self.first.values()) if push.iot_code == iot_code]


def longest_silence(arrivals: list[float], start: float, end: float) -> float:
    """The longest time in [start, end] without an arrival."""
    edges = [start, *arrivals, end]
    return max(later - earlier for earlier, later in itertools.pairwise(edges))


@dataclass
class Scene:
    gateway: RunningGateway
    arrivals: Arrivals
    others: Others
    flooder: Flooder
    vehicles: LoopThread
    flooding: LoopThread


@contextlib.contextmanager
def scene(tmp_path: Path) -> Iterator[Scene]:
    """The gateway on a private broker pushing to a receiver, the other vehicles
    reporting, their pushes arriving, and the flooder connected; torn down afterwards."""
    arrivals = Arrivals()
    key = load_key(tmp_path / "gateway.key")
    with (
        receiving(arrivals.take) as url,
        private_broker(tmp_path / "broker", key, [*OTHERS, FLOODER]) as broker,
    ):
        seed_with_pushes(tmp_path, url, [*OTHERS, FLOODER])
        with (
            contextlib.contextmanager(running_gateway)(
                tmp_path,
                NOTHING,
                broker=broker.url,
                simulate=False,
                admin_token=ADMIN_TOKEN,
                vehicle_rate=VEHICLE_RATE,
            ) as gateway,
            loop_thread("vehicles") as vehicles,
            loop_thread("flooder") as flooding,
        ):
            others = vehicles.run(_others(broker.url, key))
            flooder = flooding.run(Flooder.connected(broker.url, key))
            try:
                yield Scene(gateway, arrivals, others, flooder, vehicles, flooding)
            finally:
                vehicles.run(others.stop())
                flooding.run(flooder.close())


async def _others(broker_url: str, key: bytes) -> Others:
    others = Others(MqttPort(Broker.from_url(broker_url), key))
    await others.start()
    return others


@pytest.mark.load
def test_a_vehicle_flooding_2000_bad_reports_does_not_silence_the_others(tmp_path: Path) -> None:
    with scene(tmp_path) as it:
        # the flooder's last valid report before the flood; the others' pushes flowing
        now_ms = int(time.time() * 1000)
        first_status = status_report(odometer=FLOOD_ODOMETER, reportedAt=now_ms - 1000)
        first_fix = {**FIX, "reportedAt": now_ms - 1000}
        it.flooding.run(
            it.flooder.publish(
                [(Topic.STATUS, encoded(first_status)), (Topic.LOCATION, encoded(first_fix))]
            )
        )
        eventually(lambda: len(it.arrivals.pushes_of(FLOODER)) == 2, "the flooder's first pushes")
        eventually(
            lambda: all(it.arrivals.of([code]) for code in OTHERS), "a push of each other vehicle"
        )
        messages = flood(int(time.time() * 1000))
        over_64_kb = sum(len(payload) > MAX_PAYLOAD_BYTES for _, payload in messages)
        before = refused(it.gateway)
        assert not before, before

        def accounted() -> int:
            """Messages of the flood refused, or admitted and pushed (a valid one is newer
            than the last: it is stored and pushed)."""
            refusals = sum(refused(it.gateway).values())
            return refusals + len(it.arrivals.pushes_of(FLOODER)) - 2

        # the rate before; the flood, and the AFTER seconds that follow it (watching, twice
        # a second, for the moment every message of the flood is accounted for)
        start = time.monotonic()
        time.sleep(BEFORE)
        flood_start = time.monotonic()
        flooding = it.flooding.submit(it.flooder.publish(messages))
        end = flood_start + AFTER
        settled = math.inf
        while (now := time.monotonic()) < end:
            if settled == math.inf and accounted() >= FLOOD:
                settled = now - flood_start
            time.sleep(min(0.5, max(0.0, end - time.monotonic())))
        flood_seconds = flooding.result(timeout=60)

        # the others: the criterion (no silence over 5 s, at least a quarter of the
        # rate), of all of them together and of each one; nor any report held up that long
        rate_before = len(it.arrivals.of(OTHERS, start, flood_start)) / BEFORE
        during = it.arrivals.of(OTHERS, flood_start, end)
        rate_after = len(during) / AFTER
        silence = longest_silence(during, flood_start, end)
        each = {
            code: (
                len(it.arrivals.of([code], start, flood_start)) / BEFORE,
                len(it.arrivals.of([code], flood_start, end)) / AFTER,
                longest_silence(it.arrivals.of([code], flood_start, end), flood_start, end),
            )
            for code in OTHERS
        }
        delays = [
            at - it.others.sent[(push.iot_code, push.odometer)]
            for at, push in list(it.arrivals.first.values())
            if isinstance(push, StatusPush) and push.iot_code in OTHERS and flood_start <= at < end
        ] or [math.inf]
        figures = (
            f"others: {rate_before:.1f} pushes/s before, {rate_after:.1f} after; longest "
            f"silence {silence:.2f} s; report to push slowest {max(delays):.2f} s, mean "
            f"{sum(delays) / len(delays):.3f} s; per vehicle: lowest rate after "
            f"{min(r for _, r, _ in each.values()):.2f}/s (before "
            f"{min(r for r, _, _ in each.values()):.2f}/s), longest silence "
            f"{max(s for _, _, s in each.values()):.2f} s; the flood published in "
            f"{flood_seconds:.2f} s, accounted for within {settled:.1f} s"
        )
        print(figures)
        assert silence <= SILENCE, figures
        assert rate_after >= rate_before / 4, figures
        for code, (each_before, each_after, each_silence) in each.items():
            assert each_silence <= SILENCE, (code, figures)
            assert each_after >= each_before / 4, (code, figures)
        assert max(delays) <= SILENCE, figures

        # every message of the flood accounted for once: the large ones refused unread,
        # and of the rest no more admitted than the bucket holds and refills meanwhile
        if settled == math.inf:
            eventually(
                lambda: accounted() >= FLOOD,
                "every message of the flood refused, or admitted and pushed",
                timeout=10,
                detail=lambda: f"{accounted()} of {FLOOD}: {refused(it.gateway)}",
            )
            settled = time.monotonic() - flood_start
        counts = refused(it.gateway)
        flooder_pushes = it.arrivals.pushes_of(FLOODER)
        flood_figures = f"{counts}, {len(flooder_pushes) - 2} valid ones admitted and pushed"
        print(flood_figures)
        assert accounted() == FLOOD, (accounted(), flood_figures)
        assert counts.get(TOO_LARGE, 0) == over_64_kb, flood_figures
        admitted = FLOOD - counts.get(TOO_LARGE, 0) - counts.get(TOO_FAST, 0)
        assert admitted <= DEFAULT_BURST + VEHICLE_RATE * settled + 1, (settled, flood_figures)
        assert counts.get(INVALID, 0) >= 1 and len(flooder_pushes) > 2, flood_figures

        # nothing invalid stored or pushed; the last valid report still answered
        statuses = [p for p in flooder_pushes if isinstance(p, StatusPush)]
        fixes = [p for p in flooder_pushes if isinstance(p, LocationPush)]
        assert len(statuses) + len(fixes) == len(flooder_pushes)  # no event pushed
        assert all(p.odometer >= FLOOD_ODOMETER for p in statuses), statuses
        assert {(p.latitude, p.longitude, p.altitude) for p in fixes} == {(22.5, 114.1, 12.0)}
        last = max(p.odometer for p in statuses)
        with api_client(it.gateway.base_url) as api:
            answer = api.get(STATUS, params={"iotCode": FLOODER}).json()
            assert answer["code"] == 0, answer
            assert answer["data"]["odometer"] == last, (answer, last)
            answer = api.get(LOCATION, params={"iotCode": FLOODER}).json()
            assert answer["code"] == 0, answer
            data = answer["data"]
            assert (data["latitude"], data["longitude"], data["altitude"]) == (22.5, 114.1, 12.0)
