"""Vehicles: registration, and the latest status, location and settings they reported."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    Select,
    String,
    Text,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from segway_gateway.contract.device import CommandName, merge_setting
from segway_gateway.gateway.store.engine import Engine, json_text, sqlite_driver
from segway_gateway.gateway.store.errors import AlreadyExists, NotFound
from segway_gateway.gateway.store.outbox import NewPush, enqueue
from segway_gateway.gateway.store.tables import platforms, vehicles


@dataclass
class Vehicle:
    """A registered vehicle and what the gateway last knew of it."""

    iot_code: str
    platform_code: str
    active: bool
    created_at: int
    status: dict[str, Any] | None = None
    location: dict[str, Any] | None = None
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VehicleState:
    """What queries answer from: the last status and fix stored, and the settings."""

    status: dict[str, Any] | None
    location: dict[str, Any] | None
    settings: dict[str, Any]


ReportKind = Literal["status", "location"]


@dataclass(slots=True)
class Report:
    """A status or a fix a vehicle reported, ready to be stored if it is newer."""

    iot_code: str
    kind: ReportKind
    at_ms: int
    """When the vehicle made it (epoch ms, its clock)."""
    body: dict[str, Any]
    """As the store keeps it: the device-link message, by alias."""
    push: NewPush | None = None
    """What it pushes once stored (None: its platform takes no pushes)."""
    pushed_anyway: bool = False
    """Pushed even when it comes too late to be stored: a status that changed the lock
    state (the vehicle sends it with `ack`), since every lock change must reach the
    operator, while the state it would have replaced stays (it never goes back)."""


COMMANDED = "commanded"
"""Key of the stored status under which a command's status fields are kept with their
time, `{"at": epoch ms, "fields": {...}}`, until a report made after it replaces them
(queries read only the status's own fields)."""

_RECORD = [
    vehicles.c.iot_code,
    vehicles.c.platform_code,
    vehicles.c.active,
    vehicles.c.created_at,
    vehicles.c.status,
    vehicles.c.location,
    vehicles.c.settings,
]
"""The columns of a `Vehicle`."""


class VehicleRepo:
    """Vehicles in the store. With `keep_copies` (SQLite: one gateway process writes the
    database), it keeps a copy of each state it read or wrote, updated by its own writes,
    so queries need no database read; on PostgreSQL, where several instances write, every
    `state` reads the row."""

    def __init__(self, engine: Engine, *, keep_copies: bool = False) -> None:
        self._engine = engine
        self._copies: dict[str, VehicleState] | None = {} if keep_copies else None
        self._writes = 0
        """Writes so far: a read that a write overtook keeps no copy (it may be stale)."""

    def forget(self, *iot_codes: str) -> None:
        """Drop the copies of these vehicles (written here, or behind this store's back:
        the CLI removed or moved them); the next read reads the row."""
        self._writes += 1
        if self._copies is not None:
            for iot_code in iot_codes:
                self._copies.pop(iot_code, None)

    def _keep(self, iot_code: str, state: VehicleState) -> None:
        self._writes += 1
        if self._copies is not None:
            self._copies[iot_code] = state

    async def add(self, *new: Vehicle) -> None:
        """Register vehicles, all or none."""
        async with self._engine.begin() as conn:
            owners = {vehicle.platform_code for vehicle in new}
            known = select(platforms.c.code).where(platforms.c.code.in_(owners))
            missing = owners - set((await conn.execute(known)).scalars())
            if missing:
                raise NotFound(f"no platform {', '.join(sorted(missing))}")
            codes = [vehicle.iot_code for vehicle in new]
            taken = select(vehicles.c.iot_code).where(vehicles.c.iot_code.in_(codes))
            existing = sorted((await conn.execute(taken)).scalars())
            if existing:
                raise AlreadyExists(
                    f"vehicle {', '.join(existing)} exists already (nothing was added)"
                )
            try:
                await conn.execute(insert(vehicles), [vehicle.__dict__ for vehicle in new])
            except IntegrityError as err:
                raise AlreadyExists(f"{err.orig} (nothing was added)") from err
        self.forget(*codes)

    async def list_all(self, platform_code: str | None = None) -> list[Vehicle]:
        query = select(*_RECORD).order_by(vehicles.c.platform_code, vehicles.c.iot_code)
        if platform_code is not None:
            query = query.where(vehicles.c.platform_code == platform_code)
        async with self._engine.connect() as conn:
            return [Vehicle(**row._mapping) for row in await conn.execute(query)]

    async def reported(self) -> list[Vehicle]:
        """Every vehicle with what it last reported but not its settings (left empty): the
        console's live feed reads this every second while a console is open."""
        columns = [column for column in _RECORD if column is not vehicles.c.settings]
        query = select(*columns).order_by(vehicles.c.iot_code)
        async with self._engine.connect() as conn:
            return [Vehicle(**row._mapping) for row in await conn.execute(query)]

    async def registrations(self) -> dict[str, tuple[str, bool]]:
        """Every vehicle's owner and activation: iotCode → (platform code, active)."""
        query = select(vehicles.c.iot_code, vehicles.c.platform_code, vehicles.c.active)
        async with self._engine.connect() as conn:
            return {
                row.iot_code: (row.platform_code, row.active) for row in await conn.execute(query)
            }

    async def remove(self, iot_code: str) -> None:
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(vehicles).where(vehicles.c.iot_code == iot_code))
        self.forget(iot_code)
        if result.rowcount == 0:
            raise NotFound(f"no vehicle {iot_code}")

    async def set_active(self, iot_code: str, active: bool) -> None:
        """Activate a vehicle, or deactivate it (its calls answer 15300; it stays registered)."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(vehicles).where(_one(iot_code)).values(active=active)
            )
        self.forget(iot_code)
        if result.rowcount == 0:
            raise NotFound(f"no vehicle {iot_code}")

    async def state(self, iot_code: str) -> VehicleState | None:
        """The vehicle's stored state; None for an unregistered vehicle."""
        if self._copies is not None and iot_code in self._copies:
            return self._copies[iot_code]
        query = select(vehicles.c.status, vehicles.c.location, vehicles.c.settings).where(
            vehicles.c.iot_code == iot_code
        )
        writes = self._writes
        async with self._engine.reading_one() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        state = VehicleState(row.status, row.location, row.settings)
        if self._copies is not None and writes == self._writes:
            self._copies[iot_code] = state
        return state

    async def apply_reports(
        self, reports: Sequence[Report], events: Sequence[NewPush] = ()
    ) -> list[Report]:
        """Store each report newer than what its vehicle holds, and in the same transaction
        the pushes of the reports stored and `events`; the reports stored.

        A report not newer (the same one again, or an older one arriving late) is neither
        stored nor pushed, unless it is `pushed_anyway` (its eventId, derived from the
        report, keeps that push single); an unregistered vehicle's reports are dropped.
        Rows are locked
        and written in iotCode order and pushes inserted in eventId order, so writers on one
        database take their locks in the same order.
        """
        if not reports and not events:
            return []
        async with self._engine.begin() as conn:
            stored, written = await _store_newer(conn, reports)
            pushed = [*stored, *(r for r in reports if r.pushed_anyway and r not in stored)]
            pushes = [r.push for r in pushed if r.push is not None] + list(events)
            await enqueue(conn, sorted(pushes, key=lambda push: push.event_id))
        for iot_code, (status, location) in written.items():
            copy = self._copies.get(iot_code) if self._copies is not None else None
            if copy is None:
                self.forget(iot_code)
            else:
                self._keep(iot_code, VehicleState(status, location, copy.settings))
        return stored

    async def apply_command(
        self,
        iot_code: str,
        at_ms: int,
        *,
        locked: bool | None = None,
        setting: tuple[CommandName, dict[str, Any]] | None = None,
        reported: dict[str, Any] | None = None,
    ) -> None:
        """Write what a command answered 0 changed: the lock state, set at `at_ms` (when the
        vehicle carried the command out, epoch ms: reports it made before then no longer
        change it back), a setting, merged into the stored ones, and `reported`, fields of
        the stored status (the speed mode), which reports made before `at_ms` no longer
        change back either (the status carries them, with `at_ms`, under `COMMANDED`)."""
        if locked is not None and setting is None and reported is None and self._copies is None:
            await self._set_lock_state(iot_code, at_ms, locked)
            return
        async with self._engine.begin() as conn:
            # the copy is read once the transaction holds the writer's turn: a write that
            # committed while this one waited is in it
            copy = self._copies.get(iot_code) if self._copies is not None else None
            if copy is None:
                query = select(vehicles.c.status, vehicles.c.location, vehicles.c.settings)
                row = (await conn.execute(_for_update(conn, query.where(_one(iot_code))))).first()
                if row is None:
                    self.forget(iot_code)
                    return
                copy = VehicleState(row.status, row.location, row.settings)
            values: dict[str, Any] = {}
            if locked is not None:
                values["lock_at"], values["commanded_lock"] = at_ms, locked
                if copy.status is not None:
                    values["status"] = {**copy.status, "locked": locked}
            if reported and copy.status is not None:
                status = values.get("status", copy.status)
                commanded = {"at": at_ms, "fields": reported}
                values["status"] = {**status, **reported, COMMANDED: commanded}
            if setting is not None:
                values["settings"] = merge_setting(copy.settings, *setting)
            if values:
                await _update_one(conn, iot_code, values)
        kept = VehicleState(
            values.get("status", copy.status), copy.location, values.get("settings", copy.settings)
        )
        self._keep(iot_code, kept)

    async def _set_lock_state(self, iot_code: str, at_ms: int, locked: bool) -> None:
        """The lock state alone, with no copy to take the status from (PostgreSQL): one
        UPDATE that sets `locked` inside the stored status, a transaction of its own. One
        round trip, where reading the row locked, updating it and committing take four
        (measured 1.0 against 2.6 ms)."""
        async with self._engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(_SET_LOCK_STATE, {"code": iot_code, "at": at_ms, "locked": locked})
        self.forget(iot_code)


_SET_LOCK_STATE = (
    update(vehicles)
    .where(vehicles.c.iot_code == bindparam("code", type_=String))
    .values(
        lock_at=bindparam("at", type_=BigInteger),
        commanded_lock=bindparam("locked", type_=Boolean),
        status=case(  # a vehicle that never reported has no status to set it in
            (
                func.jsonb_typeof(vehicles.c.status.cast(JSONB)) == "object",
                func.jsonb_set(
                    vehicles.c.status.cast(JSONB),
                    literal(["locked"], ARRAY(Text)),
                    func.to_jsonb(bindparam("locked", type_=Boolean)),
                ),
            ),
            else_=vehicles.c.status.cast(JSONB),
        ).cast(JSON),
    )
)
"""`_set_lock_state`'s statement, built once (building it for each command cost 0.3 ms)."""


async def _update_one(conn: AsyncConnection, iot_code: str, values: dict[str, Any]) -> None:
    """Set these columns of one vehicle's row. The API answers a command once this is
    committed, so on SQLite the statement goes to aiosqlite's connection itself: one trip
    to its thread, where SQLAlchemy takes three (cursor, execute, close) and about 0.3 ms
    of CPU on top. `values` are keyed by column (`vehicles.c` refuses any other name);
    JSON columns are written as SQLAlchemy writes them (`json_text`)."""
    if conn.dialect.name != "sqlite":
        await conn.execute(update(vehicles).where(_one(iot_code)).values(**values))
        return
    columns = ", ".join(f"{vehicles.c[name].name} = ?" for name in values)
    parameters = [json_text(v) if isinstance(v, dict) else v for v in values.values()]
    driver = await sqlite_driver(conn)
    await driver.execute(
        f"UPDATE vehicles SET {columns} WHERE iot_code = ?", [*parameters, iot_code]
    )


def _one(iot_code: str) -> ColumnElement[bool]:
    return vehicles.c.iot_code == iot_code


def _for_update(conn: AsyncConnection, query: Select[Any]) -> Select[Any]:
    """`query` locking its rows on PostgreSQL (SQLite's writers take turns anyway)."""
    return query.with_for_update() if conn.dialect.name == "postgresql" else query


Written = dict[str, tuple[dict[str, Any] | None, dict[str, Any] | None]]
"""Per vehicle written: its status and location as stored now."""


async def _store_newer(
    conn: AsyncConnection, reports: Sequence[Report]
) -> tuple[list[Report], Written]:
    codes = sorted({report.iot_code for report in reports})
    if not codes:
        return [], {}
    query = (
        select(
            vehicles.c.iot_code,
            vehicles.c.status,
            vehicles.c.status_at,
            vehicles.c.location,
            vehicles.c.location_at,
            vehicles.c.lock_at,
            vehicles.c.commanded_lock,
        )
        .where(vehicles.c.iot_code.in_(codes))
        .order_by(vehicles.c.iot_code)
    )
    result = await conn.execute(_for_update(conn, query))
    keys = list(result.keys())  # once: a row's own _mapping builds its keys again each time
    rows = {row.iot_code: dict(zip(keys, row, strict=True)) for row in result}
    stored: list[Report] = []
    for report in sorted(reports, key=attrgetter("iot_code", "at_ms")):
        row = rows.get(report.iot_code)
        at = f"{report.kind}_at"
        if row is None or (row[at] is not None and report.at_ms <= row[at]):
            continue
        row[report.kind], row[at] = _kept(report, row), report.at_ms
        stored.append(report)
    changed = sorted({report.iot_code for report in stored})
    if changed:
        await conn.execute(
            update(vehicles)
            .where(vehicles.c.iot_code == bindparam("code"))
            .values(
                status=bindparam("status"),
                status_at=bindparam("status_at"),
                location=bindparam("location"),
                location_at=bindparam("location_at"),
            ),
            [
                {
                    "code": code,
                    "status": rows[code]["status"],
                    "status_at": rows[code]["status_at"],
                    "location": rows[code]["location"],
                    "location_at": rows[code]["location_at"],
                }
                for code in changed
            ],
        )
    return stored, {code: (rows[code]["status"], rows[code]["location"]) for code in changed}


def _kept(report: Report, row: dict[str, Any]) -> dict[str, Any]:
    """The report as stored: a status made before the last command that set the lock
    state keeps the lock state that command set (also for a vehicle that had not
    reported before the command), and one made before the last command that set status
    fields (`COMMANDED`) keeps those."""
    lock_at, status = row["lock_at"], row["status"]
    body = report.body
    if report.kind != "status":
        return body
    if lock_at is not None and report.at_ms <= lock_at:
        # the stored status has the command's state; with none yet, the row keeps it
        locked = status["locked"] if status else row["commanded_lock"]
        if locked is not None:
            body = {**body, "locked": locked}
    if not status:
        return body
    commanded = status.get(COMMANDED)
    if isinstance(commanded, dict) and report.at_ms <= commanded.get("at", -1):
        body = {**body, **commanded["fields"], COMMANDED: commanded}
    return body
