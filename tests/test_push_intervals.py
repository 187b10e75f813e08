"""Push cadence through a running gateway, with an accelerated clock, to a receiver on loopback.

The simulated fleet runs `speedup` times faster than real time: a report due
every I vehicle seconds is due every I / speedup real seconds. The tests time
the pushes as they arrive at a real receiver and scale that back.

How exact an arrival is. The vehicle's reports follow an anchored schedule
(each due exactly one interval after the last one due), but one goes out only
at the first tick of the simulated fleet at or after its due time (ticks are
0.5 s of real time apart), and its push waits in memory for the gateway's
write-behind flush (every 1 s of real time, whatever the speedup) before the
dispatcher, woken by that flush rather than by its own 1 s poll, sends it
(milliseconds on loopback). So each push arrives 0 to 1.5 s of real time
after it was due, and JITTER (that, and 0.5 s for a loaded machine) bounds
how far any arrival time may be off.
Single gaps between arrivals are therefore useless (0 to 2.5 s for a 1 s
cadence); the tests measure the span of many pushes instead, where the
jitter counts once for the whole span, not once per push.

The speedup of each test is chosen so that the cadence under test is at
least two ticks of real time: the simulated fleet cannot report more often
than once a tick (at 60x a tick is 30 vehicle seconds, so a 10 s cadence
comes out as 30 s), and `_next_due` stays anchored only while a tick's
lateness is under one interval. The pushes' own timestamps (`statusUtcTime`,
`gpsUtcTime`) are no better: they are whole seconds of real time.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from segway_gateway.contract.pushes import LocationPush, PushEvent, StatusPush
from tests.conftest import ADMIN_TOKEN, get_token
from tests.harness import RunningGateway, eventually, running
from tests.test_pushes import NOTHING, receiving, seed_with_pushes

UNLOCK = "/api/v2/vehicle/control/unlock"
LOCK = "/api/v2/vehicle/control/lock"
INTERVAL = "/api/v2/vehicle/setting/interval"

TICK = 0.5
"""Real seconds between two ticks of the simulated fleet (sim/fleet.py TICK_SECONDS)."""
FLUSH = 1.0
"""Real seconds between two write-behind flushes of the fleet service (gateway/fleet.py)."""
JITTER = TICK + FLUSH + 0.5
"""How late after its due time a push may arrive, in real seconds (see the module docstring)."""
PROMPT = 3 * FLUSH
"""A status push caused by a change arrives within this many real seconds of the API's
answer: the vehicle reports the change before it answers, then it waits for one flush
and the delivery. The next scheduled status would be 60 s or 900 s away at 1x."""

FIRST = 869_960_000_000_000


@dataclass(frozen=True)
class Arrival:
    at: float
    """`time.monotonic()` when the receiver took the push."""
    push: PushEvent


class Received:
    """Every push the receiver accepted (its signature checked), with its arrival time."""

    def __init__(self) -> None:
        self.arrivals: list[Arrival] = []

    async def take(self, push: PushEvent) -> None:
        self.arrivals.append(Arrival(time.monotonic(), push))

    def of(
        self, kind: type[PushEvent], iot_code: str, since: float, until: float = float("inf")
    ) -> list[Arrival]:
        """One vehicle's pushes of `kind` that arrived within [since, until]."""
        return [
            a
            for a in list(self.arrivals)
            if isinstance(a.push, kind) and a.push.iot_code == iot_code and since <= a.at <= until
        ]

    def times(
        self, kind: type[PushEvent], iot_code: str, since: float, until: float = float("inf")
    ) -> list[float]:
        """Arrival times of one vehicle's pushes of `kind` within [since, until]."""
        return [a.at for a in self.of(kind, iot_code, since, until)]

    def first_status(self, iot_code: str, since: float, *, locked: bool) -> float | None:
        """Arrival time of the vehicle's first status push since `since` with that lock state."""
        return next(
            (
                a.at
                for a in list(self.arrivals)
                if isinstance(a.push, StatusPush)
                and a.push.iot_code == iot_code
                and a.push.locked is locked
                and a.at >= since
            ),
            None,
        )


@dataclass(frozen=True)
class Accelerated:
    """A gateway whose simulated fleet runs `speedup` times faster, and what it pushed."""

    server: RunningGateway
    speedup: float
    received: Received
    api: httpx.Client
    """Authorised as the platform, whose push URL is the receiver."""

    def ok(self, path: str, body: dict[str, Any]) -> tuple[float, float]:
        """POST an API call that must succeed; the monotonic times it was sent and answered."""
        sent = time.monotonic()
        answer = self.api.post(path, json=body).json()
        assert answer["code"] == 0, answer
        return sent, time.monotonic()

    def ride(self, iot_code: str) -> None:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        url = f"{self.server.base_url}/admin/v1/vehicles/{iot_code}/ride"
        httpx.post(url, json={"action": "start"}, headers=headers, timeout=30).raise_for_status()

    def real(self, vehicle_seconds: float) -> float:
        return vehicle_seconds / self.speedup


@contextlib.contextmanager
def accelerated(directory: Path, speedup: float, fleet: list[str]) -> Iterator[Accelerated]:
    received = Received()
    with receiving(received.take) as url:
        seed_with_pushes(directory, url, fleet)
        for server in running(directory, NOTHING, speedup=speedup, admin_token=ADMIN_TOKEN):
            headers = {"Authorization": f"bearer {get_token(server.base_url)}"}
            with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as api:
                yield Accelerated(server, speedup, received, api)


def assert_cadence(
    gateway: Accelerated, times: list[float], since: float, until: float, interval: float
) -> None:
    """The pushes that arrived in [since, until] came every `interval` vehicle seconds.

    Each arrival is its due time plus 0 to JITTER, and due times are one interval
    apart: so the first push of the window arrives within one interval plus JITTER of
    its start, the last within as much of its end (no push went missing at either end),
    and the first and last arrivals of n + 1 pushes are n intervals apart, give or take
    JITTER (the count is right, none came too often or too seldom).
    """
    period = gateway.real(interval)
    where = f"{len(times)} pushes in {until - since:.1f} s of real time at {gateway.speedup}x"
    assert len(times) >= 2, where
    assert times[0] - since <= period + JITTER, f"the first came late: {where}"
    assert until - times[-1] <= period + JITTER, f"the last came early: {where}"
    intervals, span = len(times) - 1, times[-1] - times[0]
    measured = span / intervals * gateway.speedup
    assert abs(span - intervals * period) <= JITTER, (
        f"one every {measured:.0f} vehicle seconds, not {interval}: {where}"
    )


def measure(seconds: float) -> tuple[float, float]:
    """Wait while pushes arrive: the window, in monotonic time."""
    since = time.monotonic()
    time.sleep(seconds)
    return since, time.monotonic()


# At 10x: 10 s cadences (1 s of real time, two ticks) -------------------------

UNLOCKED, RIDING = str(FIRST), str(FIRST + 1)


@dataclass(frozen=True)
class Window:
    """A stretch of real time, in `time.monotonic()`, while the vehicles kept one state."""

    since: float
    until: float


@pytest.fixture(scope="module")
def at_10x(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Accelerated, Window]]:
    """UNLOCKED unlocked and RIDING ridden for 8 s of real time (80 vehicle seconds),
    once for the tests that read this window."""
    with accelerated(tmp_path_factory.mktemp("at-10x"), 10, [UNLOCKED, RIDING]) as gateway:
        gateway.ok(UNLOCK, {"iotCode": UNLOCKED})
        gateway.ok(UNLOCK, {"iotCode": RIDING})
        gateway.ride(RIDING)
        time.sleep(JITTER)  # reports due before these changes have arrived
        yield gateway, Window(*measure(8))


def test_location_is_pushed_every_10_s_while_unlocked(
    at_10x: tuple[Accelerated, Window],
) -> None:
    gateway, window = at_10x
    times = gateway.received.times(LocationPush, UNLOCKED, window.since, window.until)
    assert_cadence(gateway, times, window.since, window.until, 10)


def test_status_is_pushed_every_10_s_while_riding(at_10x: tuple[Accelerated, Window]) -> None:
    gateway, window = at_10x
    times = gateway.received.times(StatusPush, RIDING, window.since, window.until)
    assert_cadence(gateway, times, window.since, window.until, 10)
    pushed = [a.push for a in gateway.received.of(StatusPush, RIDING, window.since, window.until)]
    assert all(
        isinstance(push, StatusPush) and not push.locked and push.speed > 0 for push in pushed
    ), "it was being ridden"


def test_once_locked_no_location_is_pushed_for_far_longer_than_10_s(
    at_10x: tuple[Accelerated, Window],
) -> None:
    """The fix due within one unlocked interval of the lock may still come; then none for
    50 vehicle seconds (the next is 900 s away) where unlocked sent one every 10 s."""
    gateway, _ = at_10x
    sent, answered = gateway.ok(LOCK, {"iotCode": UNLOCKED})
    quiet_from = answered + gateway.real(10) + JITTER
    time.sleep(quiet_from + 5 - time.monotonic())
    assert gateway.received.times(LocationPush, UNLOCKED, quiet_from) == []
    assert gateway.received.first_status(UNLOCKED, sent, locked=True) is not None


# At 600x: 900 s cadences (1.5 s of real time, three ticks) -------------------


def test_a_locked_vehicle_pushes_its_location_and_status_every_900_s(tmp_path: Path) -> None:
    """Location every 900 s (the document) and status every 900 s (our default) while locked."""
    vehicle = str(FIRST + 10)
    with accelerated(tmp_path, 600, [vehicle]) as gateway:
        time.sleep(JITTER)  # the reports sent on connecting have arrived
        since, until = measure(9)
        for kind in (LocationPush, StatusPush):
            times = gateway.received.times(kind, vehicle, since, until)
            assert_cadence(gateway, times, since, until, 900)


# At 60x: the interval setting ---------------------------------------------------


def test_the_interval_setting_changes_each_vehicles_cadence_at_once(tmp_path: Path) -> None:
    """Locked: fixes every 60 s and status every 120 s instead of 900 s, from the next fix
    (not after the 900 s already under way). Unlocked: fixes every 120 s, where by default
    it would send one every tick (30 vehicle seconds at 60x). A vehicle left alone keeps
    its 900 s (15 s of real time)."""
    locked, unlocked, alone = (str(FIRST + 20 + n) for n in range(3))
    with accelerated(tmp_path, 60, [locked, unlocked, alone]) as gateway:
        # a lock restarts the fix schedule: after the fix already due, the next is 900 s away
        gateway.ok(UNLOCK, {"iotCode": locked})
        gateway.ok(LOCK, {"iotCode": locked})
        gateway.ok(UNLOCK, {"iotCode": unlocked})
        time.sleep(JITTER)
        settings = {
            "locationInterval": {"unlockStatus": 120, "lockStatus": 60},
            "statusInterval": {"lockStatus": 120},
        }
        for vehicle in (locked, unlocked):
            gateway.ok(INTERVAL, {"iotCode": vehicle, **settings})
        time.sleep(JITTER)  # reports due on the old schedule within a tick have arrived
        since, until = measure(8)
        for kind, vehicle, interval in (
            (LocationPush, locked, 60),
            (StatusPush, locked, 120),
            (LocationPush, unlocked, 120),
        ):
            times = gateway.received.times(kind, vehicle, since, until)
            assert_cadence(gateway, times, since, until, interval)
        # 900 s is 15 s of real time, longer than the window: one fix at most
        assert len(gateway.received.times(LocationPush, alone, since, until)) <= 1


# At 1x: a change is pushed at once ----------------------------------------------


def test_a_lock_and_an_unlock_are_pushed_at_once_not_at_the_next_interval(
    tmp_path: Path,
) -> None:
    """In real time, where the next scheduled status is 60 s (unlocked, and the schedule
    starts again at the unlock's push) or 900 s (locked) away."""
    vehicle = str(FIRST + 30)
    with accelerated(tmp_path, 1, [vehicle]) as gateway:
        received = gateway.received
        eventually(lambda: bool(received.times(StatusPush, vehicle, 0)), "the first status")
        for path, locked in ((UNLOCK, False), (LOCK, True), (UNLOCK, False)):
            pushed_at_once(gateway, vehicle, path, locked=locked)


def pushed_at_once(gateway: Accelerated, vehicle: str, path: str, *, locked: bool) -> None:
    """Calling `path` brings the status push that says `locked` within PROMPT."""
    sent, _ = gateway.ok(path, {"iotCode": vehicle})

    def pushed() -> bool:
        return gateway.received.first_status(vehicle, sent, locked=locked) is not None

    eventually(pushed, f"the status push after {path}", timeout=PROMPT)
