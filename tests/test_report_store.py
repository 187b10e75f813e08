"""The store keeps a vehicle's newest report only, pushes each report once, and lets no
report made before a command undo what the command set (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import itertools
import random
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select

from segway_gateway.contract.device import CommandName, DeviceEvent, DeviceStatus, event_key
from segway_gateway.gateway.crypto import hash_secret
from segway_gateway.gateway.push.forms import event_id_of, event_push, outgoing, status_push
from segway_gateway.gateway.store.db import Database
from segway_gateway.gateway.store.platforms import Platform
from segway_gateway.gateway.store.tables import push_outbox
from segway_gateway.gateway.store.vehicles import Report, Vehicle
from segway_gateway.sim.city import SHENZHEN
from segway_gateway.sim.state import new_state
from segway_gateway.sim.vehicle import SimVehicle
from tests.conftest import PLATFORM

VEHICLES = [str(869_980_000_000_000 + n) for n in range(20)]
T0 = 1_790_000_000_000
_RNG = random.Random(11)
STATUS = SimVehicle(new_state(VEHICLES[0], SHENZHEN, _RNG), SHENZHEN, _RNG).status(T0 / 1000)


def status_at(at_ms: int, **changes: Any) -> DeviceStatus:
    return STATUS.model_copy(update={"reported_at": at_ms, **changes})


def report(iot_code: str, status: DeviceStatus) -> Report:
    push = outgoing(status_push(iot_code, PLATFORM, True, status), T0 / 1000)
    return Report(iot_code, "status", status.at_ms, status.model_dump(by_alias=True), push)


async def seeded(db_url: str) -> Database:
    db = Database(db_url)
    await db.prepare()
    await db.platforms.add(Platform(PLATFORM, hash_secret("s"), "http://127.0.0.1:9", 0))
    await db.vehicles.add(*(Vehicle(code, PLATFORM, True, 0) for code in VEHICLES))
    return db


async def outbox_size(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(push_outbox)) or 0)


def test_a_report_is_stored_and_pushed_once_and_an_older_one_never(db_url: str) -> None:
    async def story() -> None:
        db = await seeded(db_url)
        try:
            vehicle = VEHICLES[0]
            newer, older = status_at(T0 + 2000, odometer=2), status_at(T0 + 1000, odometer=1)
            assert await db.vehicles.apply_reports([report(vehicle, newer)]) != []
            assert await db.vehicles.apply_reports([report(vehicle, newer)]) == []  # again
            assert await db.vehicles.apply_reports([report(vehicle, older)]) == []  # late
            state = await db.vehicles.state(vehicle)
            assert state is not None and state.status is not None
            assert state.status["odometer"] == 2
            assert await outbox_size(db) == 1
        finally:
            await db.close()

    asyncio.run(story())


def test_a_lock_change_arriving_late_is_pushed_once_but_not_stored(db_url: str) -> None:
    """An unlock report (sent with `ack`) overtaken by a later periodic report, as when two
    instances take them: every lock change reaches the operator, the state stays."""

    async def story() -> None:
        db = await seeded(db_url)
        try:
            vehicle = VEHICLES[3]
            later = status_at(T0 + 2000, locked=False, odometer=2)
            unlock = status_at(T0 + 1000, locked=False, odometer=1, ack=True)
            late = replace(report(vehicle, unlock), pushed_anyway=True)
            await db.vehicles.apply_reports([report(vehicle, later)])
            assert await db.vehicles.apply_reports([late]) == []  # not stored
            await db.vehicles.apply_reports([late])  # sent again: still one push
            state = await db.vehicles.state(vehicle)
            assert state is not None and state.status is not None
            assert state.status["odometer"] == 2
            assert await outbox_size(db) == 2
            plain = status_at(T0 + 500, locked=False, odometer=0)
            await db.vehicles.apply_reports([report(vehicle, plain)])  # late, not a change
            assert await outbox_size(db) == 2
        finally:
            await db.close()

    asyncio.run(story())


def test_the_same_report_taken_by_two_instances_at_once_is_pushed_once(db_url: str) -> None:
    """Two database handles (two gateways) store the same reports of every vehicle at the
    same time, in opposite orders: each report once in the outbox, no deadlock."""

    async def story() -> None:
        first, second = await seeded(db_url), Database(db_url)
        try:
            reports = [
                report(code, status_at(T0 + n * 1000, odometer=n))
                for code, n in itertools.product(VEHICLES, range(1, 6))
            ]
            await asyncio.gather(
                first.vehicles.apply_reports(reports),
                second.vehicles.apply_reports(list(reversed(reports))),
            )
            assert await outbox_size(first) == len(reports)
            for code in VEHICLES:
                state = await first.vehicles.state(code)
                assert state is not None and state.status is not None
                assert state.status["odometer"] == 5
        finally:
            await first.close()
            await second.close()

    asyncio.run(story())


def test_a_report_made_before_a_command_does_not_undo_its_lock_state(db_url: str) -> None:
    async def story() -> None:
        db = await seeded(db_url)
        try:
            vehicle = VEHICLES[1]
            await db.vehicles.apply_reports([report(vehicle, status_at(T0, locked=True))])
            await db.vehicles.apply_command(vehicle, T0 + 5000, locked=False)
            stale = status_at(T0 + 4000, locked=True, odometer=7)  # made before the unlock
            assert await db.vehicles.apply_reports([report(vehicle, stale)]) != []
            state = await db.vehicles.state(vehicle)
            assert state is not None and state.status is not None
            assert (state.status["locked"], state.status["odometer"]) == (False, 7)
            later = status_at(T0 + 6000, locked=True)  # the vehicle locked itself since
            await db.vehicles.apply_reports([report(vehicle, later)])
            state = await db.vehicles.state(vehicle)
            assert state is not None and state.status is not None
            assert state.status["locked"] is True
        finally:
            await db.close()

    asyncio.run(story())


def test_a_command_to_a_vehicle_that_never_reported_leaves_it_without_status(
    db_url: str,
) -> None:
    async def story() -> None:
        db = await seeded(db_url)
        try:
            vehicle = VEHICLES[4]
            await db.vehicles.apply_command(vehicle, T0, locked=False)
            state = await db.vehicles.state(vehicle)
            assert state is not None and state.status is None
            later = status_at(T0 + 1000, locked=False)
            await db.vehicles.apply_reports([report(vehicle, later)])
            state = await db.vehicles.state(vehicle)
            assert state is not None and state.status is not None
            assert state.status["locked"] is False
        finally:
            await db.close()

    asyncio.run(story())


def test_a_report_made_before_the_first_command_and_arriving_after_it_keeps_its_state(
    db_url: str,
) -> None:
    """The vehicle's first report, made before an unlock that was answered 0 and stored
    after it (it had no status yet for the unlock to change), says unlocked: the row
    keeps the lock state the command set (`commanded_lock`). Before, it said locked."""

    async def story() -> None:
        db = await seeded(db_url)
        try:
            vehicle = VEHICLES[5]
            await db.vehicles.apply_command(vehicle, T0 + 5000, locked=False)
            first = status_at(T0 + 4000, locked=True, odometer=9)  # made before the unlock
            assert await db.vehicles.apply_reports([report(vehicle, first)]) != []
            state = await db.vehicles.state(vehicle)
            assert state is not None and state.status is not None
            assert (state.status["locked"], state.status["odometer"]) == (False, 9)
        finally:
            await db.close()

    asyncio.run(story())


def test_settings_written_by_commands_merge_and_reports_leave_them(db_url: str) -> None:
    async def story() -> None:
        db = await seeded(db_url)
        try:
            vehicle = VEHICLES[2]
            switch = (CommandName.SET_SWITCH, {"alertSensitivity": 3})
            sound = (CommandName.SET_SOUND, {"workMode": 2, "volume": 1})
            await db.vehicles.apply_command(vehicle, T0, setting=switch)
            await db.vehicles.apply_command(vehicle, T0, setting=sound)
            await db.vehicles.apply_reports([report(vehicle, status_at(T0 + 1000))])
            state = await db.vehicles.state(vehicle)
            assert state is not None
            assert state.settings == {
                "switch": {"alertSensitivity": 3},
                "sound": {"workMode": 2, "volume": 1},
            }
        finally:
            await db.close()

    asyncio.run(story())


def test_two_settings_answered_at_once_both_stay(db_url: str) -> None:
    """Two setting commands of one vehicle answered at the same moment: the second merges
    into what the first wrote (on SQLite the store's copy is read in the writer's turn)."""

    async def story() -> None:
        db = await seeded(db_url)
        try:
            vehicle = VEHICLES[3]
            assert await db.vehicles.state(vehicle) is not None  # the copy is made (SQLite)
            switch = (CommandName.SET_SWITCH, {"alertSensitivity": 3})
            sound = (CommandName.SET_SOUND, {"workMode": 2})
            await asyncio.gather(
                db.vehicles.apply_command(vehicle, T0, setting=switch),
                db.vehicles.apply_command(vehicle, T0, setting=sound),
            )
            for reader in (db, Database(db_url)):
                state = await reader.vehicles.state(vehicle)
                assert state is not None
                assert state.settings == {
                    "switch": {"alertSensitivity": 3},
                    "sound": {"workMode": 2},
                }
                if reader is not db:
                    await reader.close()
        finally:
            await db.close()

    asyncio.run(story())


def test_the_event_id_is_a_function_of_the_report() -> None:
    same = status_at(T0)
    assert event_id_of("status", VEHICLES[0], same) == event_id_of("status", VEHICLES[0], same)
    assert event_id_of("status", VEHICLES[0], same) != event_id_of("status", VEHICLES[1], same)
    assert event_id_of("status", VEHICLES[0], same) != event_id_of(
        "status", VEHICLES[0], status_at(T0 + 1)
    )
    assert event_id_of("status", VEHICLES[0], same) != event_id_of("location", VEHICLES[0], same)


def test_an_alert_that_comes_goes_and_comes_again_within_a_second_is_three_pushes() -> None:
    events = [
        DeviceEvent(kind="alert", code=3, status=status, status_utc_time=T0 // 1000, reported_at=at)
        for status, at in ((0, T0), (1, T0 + 200), (0, T0 + 400))
    ]
    ids = {event_push(VEHICLES[0], PLATFORM, event).event_id for event in events}
    assert len(ids) == 3
    assert len({event_key(event) for event in events}) == 3
