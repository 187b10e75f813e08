"""Push cadence through a running gateway to a receiver on loopback, on the gateway's clock.

The gateway runs on a `JumpClock`: real time, which a test moves forward at once
(`clock.advance`). Every timer of the gateway and its simulated fleet waits on that
clock, so a jump of 900 s makes the reports due by then go out within the next tick,
as if 900 s had passed, while the test waits only for their pushes to arrive.

The tests read the reports' own stamps (`statusUtcTime`, `gpsUtcTime`: whole seconds
of the clock at the tick that sent them) rather than arrival times. A test moves the
clock in steps and, after each step, waits for the pushes that step must bring, then
checks the stamps: one report per step, and consecutive stamps one interval apart give
or take SLACK plus the real time the steps took (the clock runs on with real time
between two jumps, and each stamp is cut to a whole second).
"""

from __future__ import annotations

import contextlib
import itertools
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

SLACK = 1.5
"""Seconds a stamp may be off its interval: 1 for the cut to whole seconds, 0.5 for the
tick (sim/fleet.py TICK_SECONDS) that sends a report once it is due."""
PROMPT = 3.0
"""Real seconds within which a change's status push arrives: the vehicle reports the
change before it answers, then one write-behind flush and the delivery."""

FIRST = 869_960_000_000_000
Watched = tuple[type[PushEvent], str]
"""A kind of push and the vehicle that sends it."""


def stamp(push: PushEvent) -> int:
    """When the vehicle made the report, on the gateway's clock."""
    if isinstance(push, StatusPush):
        return push.status_utc_time
    assert isinstance(push, LocationPush)
    return push.gps_utc_time


class Received:
    """Every push the receiver accepted (its signature checked)."""

    def __init__(self) -> None:
        self.pushes: list[PushEvent] = []

    async def take(self, push: PushEvent) -> None:
        self.pushes.append(push)

    def stamps(self, watched: Watched, since: float = 0) -> list[int]:
        """Stamps of the vehicle's pushes of that kind stamped `since` or later (a report
        made in the second of `since` but before it does not count), each push once: a
        jump of the clock past a push's lease while it is sent may send it again, under
        its eventId, as any retry would."""
        kind, iot_code = watched
        once = {p.event_id: p for p in list(self.pushes)}  # delivery is at least once
        return sorted(
            stamp(p)
            for p in once.values()
            if isinstance(p, kind) and p.iot_code == iot_code and stamp(p) >= since
        )

    def first_status(self, iot_code: str, since: float, *, locked: bool) -> StatusPush | None:
        """The vehicle's first status push made at or after `since` with that lock state."""
        return next(
            (
                p
                for p in list(self.pushes)
                if isinstance(p, StatusPush)
                and p.iot_code == iot_code
                and p.locked is locked
                and p.status_utc_time >= int(since)
            ),
            None,
        )


@dataclass(frozen=True)
class Steps:
    """What a run of clock steps brought: each watched push's stamps, and the real
    seconds the whole run took (the clock's own drift between jumps)."""

    stamps: dict[Watched, list[int]]
    real_seconds: float


@dataclass(frozen=True)
class Clocked:
    """A gateway on a JumpClock, an API client for its platform, and what it pushed."""

    server: RunningGateway
    received: Received
    api: httpx.Client
    """Authorised as the platform, whose push URL is the receiver."""

    def now(self) -> float:
        return self.server.clock()

    def ok(self, path: str, body: dict[str, Any]) -> float:
        """POST an API call that must succeed; the clock when it was sent."""
        sent = self.now()
        answer = self.api.post(path, json=body).json()
        assert answer["code"] == 0, answer
        return sent

    def ride(self, iot_code: str) -> None:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        url = f"{self.server.base_url}/admin/v1/vehicles/{iot_code}/ride"
        httpx.post(url, json={"action": "start"}, headers=headers, timeout=30).raise_for_status()

    def settle(self, seconds: float, *watched: Watched) -> None:
        """Move the clock on by `seconds` and wait until each watched push made after the
        jump has arrived: what was due before (reports on connecting, on a change, on the
        old schedule) is then behind the test."""
        after = self.now() + seconds / 2
        self.server.clock.advance(seconds)
        for kind, iot_code in watched:
            eventually(
                lambda w=(kind, iot_code): bool(self.received.stamps(w, after)),
                f"a {kind.__name__} of {iot_code}",
            )

    def steps(self, seconds: float, count: int, *each: tuple[Watched, int]) -> Steps:
        """Move the clock on by `seconds`, `count` times; after step k, wait until each
        watched push has come k // every times (`each`: (watched, every) pairs). Only
        reports made after the first jump count (a report cannot be made within half a
        step of it), so that a step never passes on a report that was due before."""
        since, started = self.now() + seconds / 2, time.monotonic()
        for k in range(1, count + 1):
            self.server.clock.advance(seconds)
            for watched, every in each:
                wanted = k // every
                eventually(
                    lambda w=watched, n=wanted: len(self.received.stamps(w, since)) >= n,
                    f"{wanted} {watched[0].__name__} of {watched[1]} after {k} steps",
                )
        return Steps(
            {watched: self.received.stamps(watched, since) for watched, _ in each},
            time.monotonic() - started,
        )


@contextlib.contextmanager
def clocked(directory: Path, fleet: list[str]) -> Iterator[Clocked]:
    received = Received()
    with receiving(received.take) as url:
        seed_with_pushes(directory, url, fleet)
        for server in running(directory, NOTHING, admin_token=ADMIN_TOKEN):
            headers = {"Authorization": f"bearer {get_token(server.base_url)}"}
            with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as api:
                yield Clocked(server, received, api)


def assert_every(steps: Steps, watched: Watched, interval: float, count: int) -> None:
    """`count` reports, consecutive stamps `interval` apart (SLACK, and the real time the
    steps took, either way)."""
    stamps = steps.stamps[watched]
    where = f"{watched[0].__name__} of {watched[1]}: stamps {stamps}"
    assert len(stamps) == count, f"{len(stamps)} reports, not {count}: {where}"
    allowed = SLACK + steps.real_seconds
    gaps = [later - earlier for earlier, later in itertools.pairwise(stamps)]
    assert all(abs(gap - interval) <= allowed for gap in gaps), (
        f"not one every {interval} s (±{allowed:.1f}): {where}"
    )


# 10 s cadences ------------------------------------------------------------------

UNLOCKED, RIDING = str(FIRST), str(FIRST + 1)


@pytest.fixture(scope="module")
def unlocked_and_riding(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clocked]:
    """UNLOCKED unlocked and RIDING ridden, their first reports since behind them."""
    with clocked(tmp_path_factory.mktemp("cadence-10"), [UNLOCKED, RIDING]) as gateway:
        gateway.ok(UNLOCK, {"iotCode": UNLOCKED})
        gateway.ok(UNLOCK, {"iotCode": RIDING})
        gateway.ride(RIDING)
        gateway.settle(10, (LocationPush, UNLOCKED), (StatusPush, RIDING))
        yield gateway


def test_location_is_pushed_every_10_s_while_unlocked(unlocked_and_riding: Clocked) -> None:
    watched = (LocationPush, UNLOCKED)
    steps = unlocked_and_riding.steps(10, 8, (watched, 1))
    assert_every(steps, watched, 10, 8)


def test_status_is_pushed_every_10_s_while_riding(unlocked_and_riding: Clocked) -> None:
    gateway = unlocked_and_riding
    watched = (StatusPush, RIDING)
    since = gateway.now()
    steps = gateway.steps(10, 8, (watched, 1))
    assert_every(steps, watched, 10, 8)
    pushed = [p for p in gateway.received.pushes if isinstance(p, StatusPush)]
    ridden = [p for p in pushed if p.iot_code == RIDING and p.status_utc_time >= int(since)]
    assert all(not p.locked and p.speed > 0 for p in ridden), "it was being ridden"


def test_once_locked_no_location_is_pushed_for_far_longer_than_10_s(
    unlocked_and_riding: Clocked,
) -> None:
    """The fix due within one unlocked interval of the lock may still come; then none for
    50 s (the next is 900 s away) where unlocked sent one every 10 s. RIDING's fixes,
    one every 10 s, show that each step's reports have all arrived."""
    gateway = unlocked_and_riding
    sent = gateway.ok(LOCK, {"iotCode": UNLOCKED})
    marker = (LocationPush, RIDING)
    gateway.settle(10, marker)
    quiet_from = gateway.now()
    steps = gateway.steps(10, 5, (marker, 1))
    assert len(steps.stamps[marker]) == 5
    assert gateway.received.stamps((LocationPush, UNLOCKED), quiet_from) == []
    assert gateway.received.first_status(UNLOCKED, sent, locked=True) is not None


# 900 s cadences -------------------------------------------------------------------


def test_a_locked_vehicle_pushes_its_location_and_status_every_900_s(tmp_path: Path) -> None:
    """Location every 900 s (the document) and status every 900 s (our default) while locked."""
    vehicle = str(FIRST + 10)
    location, status = (LocationPush, vehicle), (StatusPush, vehicle)
    with clocked(tmp_path, [vehicle]) as gateway:
        gateway.settle(900, location, status)  # the reports on connecting were staggered
        steps = gateway.steps(900, 4, (location, 1), (status, 1))
        assert_every(steps, location, 900, 4)
        assert_every(steps, status, 900, 4)


# The interval setting -------------------------------------------------------------


def test_the_interval_setting_changes_each_vehicles_cadence_at_once(tmp_path: Path) -> None:
    """Locked: fixes every 60 s and status every 120 s instead of 900 s, from the next fix
    (not after the 900 s already under way). Unlocked: fixes every 120 s instead of 10 s.
    A vehicle left alone keeps its 900 s."""
    locked, unlocked, alone = (str(FIRST + 20 + n) for n in range(3))
    with clocked(tmp_path, [locked, unlocked, alone]) as gateway:
        # a lock restarts the fix schedule: after the fix already due, the next is 900 s away
        gateway.ok(UNLOCK, {"iotCode": locked})
        gateway.ok(LOCK, {"iotCode": locked})
        gateway.ok(UNLOCK, {"iotCode": unlocked})
        gateway.settle(10, (LocationPush, unlocked))
        settings = {
            "locationInterval": {"unlockStatus": 120, "lockStatus": 60},
            "statusInterval": {"lockStatus": 120},
        }
        for vehicle in (locked, unlocked):
            gateway.ok(INTERVAL, {"iotCode": vehicle, **settings})
        gateway.settle(60, (LocationPush, locked))  # due on the old schedule or the new
        since = gateway.now()
        steps = gateway.steps(
            60,
            8,
            ((LocationPush, locked), 1),
            ((StatusPush, locked), 2),
            ((LocationPush, unlocked), 2),
        )
        assert_every(steps, (LocationPush, locked), 60, 8)
        assert_every(steps, (StatusPush, locked), 120, 4)
        assert_every(steps, (LocationPush, unlocked), 120, 4)
        # 480 s of steps, 900 s apart: one fix at most
        assert len(gateway.received.stamps((LocationPush, alone), since)) <= 1


# A change is pushed at once ---------------------------------------------------------


def test_a_lock_and_an_unlock_are_pushed_at_once_not_at_the_next_interval(
    tmp_path: Path,
) -> None:
    """Without moving the clock, where the next scheduled status is 60 s (unlocked, and
    the schedule starts again at the unlock's push) or 900 s (locked) away."""
    vehicle = str(FIRST + 30)
    with clocked(tmp_path, [vehicle]) as gateway:
        received = gateway.received
        eventually(lambda: bool(received.stamps((StatusPush, vehicle))), "the first status")
        for path, locked in ((UNLOCK, False), (LOCK, True), (UNLOCK, False)):
            sent = gateway.ok(path, {"iotCode": vehicle})
            eventually(
                lambda s=sent, lk=locked: received.first_status(vehicle, s, locked=lk) is not None,
                f"the status push after {path}",
                timeout=PROMPT,
            )
