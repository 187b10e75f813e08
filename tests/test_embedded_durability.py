"""A command the embedded fleet acknowledged with code 0 survives a crash (SIGKILL) of `serve`."""

from __future__ import annotations

import asyncio
import copy
import itertools
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from segway_gateway.cli.demo import DEMO_FIRST_VEHICLE, DEMO_PLATFORM, DEMO_SECRET
from segway_gateway.clock import Clock, JumpClock, system_clock
from segway_gateway.contract import paths
from segway_gateway.contract.codes import Code
from segway_gateway.contract.device import Command, CommandName, DeviceStatus, Reply
from segway_gateway.devicelink.memory import MemoryLink, NullSink
from segway_gateway.gateway.store.db import Database
from segway_gateway.sim.faults import Fault
from segway_gateway.sim.fleet import SAVE_SECONDS, TICK_SECONDS, SimFleet
from tests.conftest import get_token
from tests.harness import Seed, eventually, seed_database
from tests.processes import serving

T = TypeVar("T")
VEHICLE = "861477038719116"
WAIT = 10.0
"""Seconds a unit test waits for a write or a reply before it fails."""


async def within(awaitable: Awaitable[T]) -> T:
    return await asyncio.wait_for(awaitable, WAIT)


# SimFleet against an in-memory flash ------------------------------------------------


class RecordingFlash:
    """A flash that records every write in `log`; `gate` holds writes while it is clear,
    and the next `fail_next` writes fail."""

    def __init__(self, log: list[tuple[str, Any]]) -> None:
        self.log = log
        self.saved: dict[str, dict[str, Any]] = {}
        self.gate = asyncio.Event()
        self.gate.set()
        self.writing = asyncio.Event()
        """Set when a write begins."""
        self.ended = asyncio.Event()
        """Set when a write ends, written or failed."""
        self.fail_next = 0

    async def load(self) -> dict[str, dict[str, Any]]:
        return copy.deepcopy(self.saved)

    async def save(self, states: Mapping[str, dict[str, Any]]) -> None:
        self.writing.set()
        await self.gate.wait()
        self.ended.set()
        if self.fail_next > 0:
            self.fail_next -= 1
            self.log.append(("failed write", sorted(states)))
            raise OSError("flash worn out")
        self.saved.update(copy.deepcopy(dict(states)))
        self.log.append(("write", copy.deepcopy(dict(states))))


class Replies(NullSink):
    """The gateway's side of the memory link, recording replies in `log` and the lock
    state of each status report in `locked`."""

    def __init__(self, log: list[tuple[str, Any]]) -> None:
        self.log = log
        self.arrived = asyncio.Event()
        self.locked: list[bool] = []

    def on_status(self, iot_code: str, status: DeviceStatus) -> None:
        self.locked.append(status.locked)

    def on_reply(self, iot_code: str, reply: Reply) -> None:
        self.log.append(("reply", (iot_code, reply.op_id, reply.code)))
        self.arrived.set()

    async def reply(self, op_id: str) -> int:
        """The code of the reply to `op_id`, once it arrived."""
        while True:
            for kind, entry in self.log:
                if kind == "reply" and entry[1] == op_id:
                    return int(entry[2])
            self.arrived.clear()
            await within(self.arrived.wait())


class Bench:
    """One simulated vehicle (no tick loop) on a memory link, its flash and replies logged."""

    def __init__(self, clock: Clock = system_clock) -> None:
        self.clock = clock
        self.log: list[tuple[str, Any]] = []
        self.flash = RecordingFlash(self.log)
        self.link = MemoryLink()
        self.replies = Replies(self.log)
        self.fleet = SimFleet(self.link, self.flash, clock, seed=1)
        self._op_ids = (f"op{n}" for n in itertools.count())

    async def start(self) -> None:
        await self.link.start(self.replies)
        await self.fleet.follow({VEHICLE})

    async def send(self, name: CommandName, **args: Any) -> str:
        op_id = next(self._op_ids)
        deadline = int((self.clock() + 30) * 1000)
        await self.link.send(VEHICLE, Command(opId=op_id, name=name, args=args, deadline=deadline))
        return op_id

    def writes(self) -> list[Any]:
        return [entry for kind, entry in self.log if kind == "write"]


def on_bench(test: Callable[[Bench], Awaitable[None]], clock: Clock = system_clock) -> None:
    async def run() -> None:
        bench = Bench(clock)
        await bench.start()
        await test(bench)

    asyncio.run(run())


def test_a_commanded_vehicle_is_written_before_its_reply_is_published() -> None:
    async def test(bench: Bench) -> None:
        bench.flash.gate.clear()
        op_id = await bench.send(CommandName.UNLOCK)
        await within(bench.flash.writing.wait())
        assert bench.log == [], "the reply went out before the unlock was written"
        assert bench.replies.locked[-1] is False, "the status report waited for the write"
        bench.flash.gate.set()
        assert await bench.replies.reply(op_id) == Code.SUCCESS
        (write, reply) = bench.log
        assert write == ("write", {VEHICLE: bench.fleet.vehicle(VEHICLE).state.to_dict()})
        assert write[1][VEHICLE]["locked"] is False
        assert reply == ("reply", (VEHICLE, op_id, Code.SUCCESS))

    on_bench(test)


def test_every_changing_command_is_written_with_its_change_before_the_reply() -> None:
    """Settings and the bluetooth key too: each reply follows a write holding its change."""

    async def test(bench: Bench) -> None:
        key = await bench.send(CommandName.SET_BLUETOOTH_KEY, key="4BKNwi77")
        assert await bench.replies.reply(key) == Code.SUCCESS
        sound = await bench.send(CommandName.SET_SOUND, workMode=2, volume=3)
        assert await bench.replies.reply(sound) == Code.SUCCESS
        kinds = [kind for kind, _ in bench.log]
        assert kinds == ["write", "reply", "write", "reply"]
        first, second = bench.writes()
        assert first[VEHICLE]["bluetooth_key"] == "4BKNwi77"
        assert second[VEHICLE]["settings"]["sound"]["volume"] == 3

    on_bench(test)


def test_a_slow_reply_is_due_its_delay_after_the_command_and_not_before_the_write() -> None:
    """The write runs during the `slow-reply` delay: once both are over, the reply goes out
    at once, not a delay after the write."""
    clock = JumpClock()

    async def test(bench: Bench) -> None:
        bench.fleet.set_fault(VEHICLE, Fault.SLOW_REPLY, delay=60.0)
        bench.flash.gate.clear()
        op_id = await bench.send(CommandName.UNLOCK)
        await within(bench.flash.writing.wait())
        clock.advance(60.0)
        for _ in range(20):  # a reply timer started at the command would fire meanwhile
            await asyncio.sleep(0)
        assert bench.log == [], "the reply went out before the unlock was written"
        bench.flash.gate.set()
        assert await bench.replies.reply(op_id) == Code.SUCCESS
        assert [kind for kind, _ in bench.log] == ["write", "reply"]

    on_bench(test, clock)


def test_a_command_that_fails_or_changes_nothing_replies_without_a_write() -> None:
    async def test(bench: Bench) -> None:
        query = await bench.send(CommandName.GET_BLUETOOTH_KEY)
        assert await bench.replies.reply(query) == Code.SUCCESS
        refused = await bench.send(CommandName.BATTERY_COVER)  # locked: refused
        assert await bench.replies.reply(refused) == Code.BATTERY_COVER_LOCKED
        assert bench.writes() == []

    on_bench(test)


def test_a_write_under_way_with_an_older_state_does_not_win_over_the_commanded_one() -> None:
    """A periodic save that took the vehicle locked, still writing when an unlock comes:
    the unlock's write follows it, so the flash ends up holding the newer state."""

    async def test(bench: Bench) -> None:
        bench.flash.gate.clear()
        periodic = asyncio.create_task(bench.fleet.save())
        await within(bench.flash.writing.wait())
        op_id = await bench.send(CommandName.UNLOCK)
        bench.flash.gate.set()
        assert await bench.replies.reply(op_id) == Code.SUCCESS
        assert await within(periodic)
        older, newer = bench.writes()
        assert older[VEHICLE]["locked"] is True
        assert newer[VEHICLE]["locked"] is False
        assert bench.flash.saved[VEHICLE]["locked"] is False

    on_bench(test)


def test_a_failed_write_withholds_the_reply_and_the_next_command_writes_again() -> None:
    """No reply vouches for an unwritten state: the unlock's goes unanswered (the gateway
    answers its timeout), and a later command that changes nothing waits for a rewrite."""

    async def test(bench: Bench) -> None:
        bench.flash.fail_next = 1
        bench.flash.gate.clear()
        unlock = await bench.send(CommandName.UNLOCK)
        await within(bench.flash.writing.wait())
        bench.flash.gate.set()
        await within(bench.flash.ended.wait())  # the unlock's reply, if any, would follow at once
        query = await bench.send(CommandName.GET_BLUETOOTH_KEY)
        assert await bench.replies.reply(query) == Code.SUCCESS
        assert [kind for kind, _ in bench.log] == ["failed write", "write", "reply"]
        assert bench.log[-1][1][1] == query, f"the unlock ({unlock}) was answered"
        assert bench.flash.saved[VEHICLE]["locked"] is False

    on_bench(test)


# The real command, killed --------------------------------------------------------------

FLEET = [str(DEMO_FIRST_VEHICLE + n) for n in range(int(SAVE_SECONDS / TICK_SECONDS))]
"""The demo's platform with a fleet large enough that the periodic save comes round to
a vehicle only every SAVE_SECONDS (one vehicle a tick): a kill right after the commands
would find the vehicle's periodic save 30 s old without the write before the reply."""
NEW_KEY = "4BKNwi77"


def answered(response: httpx.Response) -> Any:
    body = response.json()
    assert body["code"] == 0, body
    return body["data"]


async def stored_sim_state(db_url: str, iot_code: str) -> dict[str, Any]:
    """What the vehicle's flash (the `sim_vehicles` row) holds; empty if never written."""
    async with Database(db_url) as db:
        return (await db.sim.load()).get(iot_code, {})


@pytest.mark.timeout(900)
def test_unlock_key_and_setting_answered_0_survive_a_sigkill_of_serve_demo(
    tmp_path: Path,
) -> None:
    """The demo's riders leave a vehicle unlocked through the API unlocked (they ride it);
    after the kill, the restarted vehicle reports unlocked and answers the new key."""
    db_url = f"sqlite:///{tmp_path / 'demo.db'}"
    seed = Seed({DEMO_PLATFORM: DEMO_SECRET}, {code: (DEMO_PLATFORM, True) for code in FLEET})
    asyncio.run(seed_database(db_url, seed))
    iot = {"iotCode": VEHICLE}

    with serving(db_url, tmp_path, "--demo") as server:
        token = get_token(server.base_url, DEMO_PLATFORM, DEMO_SECRET)
        auth = {"Authorization": f"bearer {token}"}
        with httpx.Client(base_url=server.base_url, headers=auth, timeout=60) as http:
            key = {**iot, "key": NEW_KEY}
            assert answered(http.post(paths.BLUETOOTH_KEY_SETTING, json=key)) is None
            sound = {**iot, "workMode": 2, "volume": 3}
            assert answered(http.post(paths.SOUND_SETTING, json=sound)) is None
            assert answered(http.post(paths.UNLOCK, json=iot)) is None
            time.sleep(0.010)  # the moment of the kill is the scenario: 10 ms after the answer
        server.kill()  # SIGKILL: no graceful stop, no final save

    flashed = asyncio.run(stored_sim_state(db_url, VEHICLE))
    assert flashed.get("locked") is False, "the unlock answered 0 is not in the flash"
    assert flashed["bluetooth_key"] == NEW_KEY
    assert flashed["settings"]["sound"]["volume"] == 3

    restarted_at = int(time.time())
    with serving(db_url, tmp_path, "--demo") as server:
        token = get_token(server.base_url, DEMO_PLATFORM, DEMO_SECRET)
        auth = {"Authorization": f"bearer {token}"}
        with httpx.Client(base_url=server.base_url, headers=auth, timeout=60) as http:

            def reported_since_restart() -> bool:
                status = answered(http.get(paths.STATUS, params=iot))
                return int(status["statusUtcTime"]) >= restarted_at

            # the gateway's own stored status is not the vehicle's word: wait for a report
            eventually(reported_since_restart, "a status report of the restarted vehicle")
            status = answered(http.get(paths.STATUS, params=iot))
            assert status["online"] is True
            assert status["locked"] is False
            assert answered(http.get(paths.BLUETOOTH_KEY, params=iot))["key"] == NEW_KEY
