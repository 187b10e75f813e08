"""Reports and events from vehicles into the store, in batches, with the pushes they cause.

Whichever instance takes a report off the device link writes it here, so every
instance reads it from the store. A batch is one transaction: the reports newer than
what their vehicles hold, and the pushes of those and of the events, whose eventIds
are derived from the reports (`push/forms.py`): a report seen twice is stored and
pushed once. The writer commits BATCH_DELAY after the first report of a batch (the
reports that arrive meanwhile go along), and at least every FLUSH_SECONDS.

One vehicle's row cannot fail another's: a batch the store refuses is written again
vehicle by vehicle, and only the vehicle whose write fails loses its reports (logged).
A batch that meets a deadlock or a serialization failure is simply tried again.

Once a vehicle's part of a batch is committed, its events, and the status reports it
sent with `ack` (those that change the lock state), are acknowledged to it
(`acknowledge`): until then the vehicle keeps them and sends them again, so they are
never lost between the broker and the store, only sent more than once, and their
derived eventIds make each one push.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from segway_gateway.clock import Clock
from segway_gateway.contract.device import (
    DeviceEvent,
    DeviceLocation,
    DeviceStatus,
    event_key,
    status_key,
)
from segway_gateway.contract.pushes import PushEvent
from segway_gateway.gateway.periodic import every
from segway_gateway.gateway.push.doorbell import Doorbell
from segway_gateway.gateway.push.forms import event_push, location_push, outgoing, status_push
from segway_gateway.gateway.store.db import Database
from segway_gateway.gateway.store.outbox import NewPush
from segway_gateway.gateway.store.vehicles import Report

log = logging.getLogger(__name__)

FLUSH_SECONDS = 1.0
BATCH_DELAY = 0.05
"""How long the first report of a batch waits for others to share its transaction."""
RETRIES = 3
FUTURE_SECONDS = 600.0
"""How far ahead of the gateway's clock a vehicle's clock may run (beyond: refused)."""
LOG_EVERY_SECONDS = 60.0
_RETRYABLE_STATES = {"40001", "40P01"}
"""PostgreSQL's serialization failure and deadlock: the transaction may simply run again."""


class Owner(Protocol):
    """The registered vehicle a report is about, as the fleet service knows it."""

    platform_code: str
    online: bool


class Owners(Protocol):
    def entry(self, iot_code: str) -> Owner | None: ...


@dataclass
class _Batch:
    reports: dict[str, list[Report]] = field(default_factory=lambda: defaultdict(list))
    events: dict[str, list[NewPush]] = field(default_factory=lambda: defaultdict(list))
    acks: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    """Keys of the events each vehicle sent, to acknowledge once written."""

    def __bool__(self) -> bool:
        return bool(self.reports or self.events or self.acks)

    def vehicles(self) -> list[str]:
        return sorted(self.reports.keys() | self.events.keys() | self.acks.keys())

    def of(self, iot_code: str) -> _Batch:
        one = _Batch()
        if iot_code in self.reports:
            one.reports[iot_code] = self.reports[iot_code]
        if iot_code in self.events:
            one.events[iot_code] = self.events[iot_code]
        if iot_code in self.acks:
            one.acks[iot_code] = self.acks[iot_code]
        return one

    def merge_into(self, later: _Batch) -> None:
        """Put this (unwritten) batch back in front of `later`."""
        for iot_code, reports in self.reports.items():
            later.reports[iot_code][:0] = reports
        for iot_code, events in self.events.items():
            later.events[iot_code][:0] = events
        for iot_code, keys in self.acks.items():
            later.acks[iot_code][:0] = keys


class Ingest:
    """Takes reports and events as they come, writes them in batches."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        owners: Owners,
        acknowledge: Callable[[str, list[str]], None],
    ) -> None:
        self._db = db
        self._clock = clock
        self._owners = owners
        self._acknowledge = acknowledge
        self.push_targets: set[str] = set()
        """Platforms with a push URL: their vehicles' reports become pushes."""
        self.doorbell = Doorbell(clock)
        """Rung with the platforms of the pushes a batch wrote (the dispatcher waits on it)."""
        self._batch = _Batch()
        self._waiting = asyncio.Event()
        self._future_logged: dict[str, float] = {}
        """When each vehicle's last report from the future was logged (monotonic)."""
        self._writer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._writer = asyncio.create_task(
            every(
                FLUSH_SECONDS,
                self.flush,
                "writing vehicle reports",
                self._clock,
                hurry=self._waiting,
                hurried=BATCH_DELAY,
            ),
            name="ingest",
        )

    async def stop(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        await self.flush()

    def status(self, iot_code: str, status: DeviceStatus) -> None:
        owner = self._owners.entry(iot_code)
        if owner is None:
            return  # not acknowledged either (see `event`)
        if status.ack:  # the vehicle keeps it until it hears it was stored
            self._batch.acks[iot_code].append(status_key(status))
            self._waiting.set()
        if self._from_the_future(iot_code, status.at_ms):
            return
        push = None
        if owner.platform_code in self.push_targets:  # a push is built only to be sent
            push = self._outgoing(status_push(iot_code, owner.platform_code, owner.online, status))
        body = status.model_dump(by_alias=True, mode="json")
        self._add(Report(iot_code, "status", status.at_ms, body, push))

    def location(self, iot_code: str, location: DeviceLocation) -> None:
        owner = self._owners.entry(iot_code)
        if owner is None or self._from_the_future(iot_code, location.at_ms):
            return
        push = None
        if owner.platform_code in self.push_targets:
            push = self._outgoing(location_push(iot_code, owner.platform_code, location))
        if location.location_status == "valid":
            body = location.model_dump(by_alias=True, mode="json")
            self._add(Report(iot_code, "location", location.at_ms, body, push))
        elif push is not None:  # an invalid fix is pushed (the document says so), not kept
            self._batch.events[iot_code].append(push)
            self._waiting.set()

    def event(self, iot_code: str, event: DeviceEvent) -> None:
        """Queue the event's push, if its platform takes pushes, and its acknowledgement.
        A vehicle this instance does not know (yet: registrations are read every 5 s) is
        not acknowledged: it sends the event again, maybe to an instance that knows it."""
        owner = self._owners.entry(iot_code)
        if owner is None:
            return
        self._batch.acks[iot_code].append(event_key(event))
        self._waiting.set()
        if owner.platform_code not in self.push_targets:
            return
        self._batch.events[iot_code].append(
            self._outgoing(event_push(iot_code, owner.platform_code, event))
        )

    def _from_the_future(self, iot_code: str, at_ms: int) -> bool:
        """A report made more than FUTURE_SECONDS ahead of this gateway's clock is refused:
        stored, no later report would be newer, and the vehicle's state would freeze."""
        if at_ms <= (self._clock() + FUTURE_SECONDS) * 1000:
            return False
        now = self._clock.monotonic()
        if now - self._future_logged.get(iot_code, -LOG_EVERY_SECONDS) >= LOG_EVERY_SECONDS:
            self._future_logged[iot_code] = now
            log.warning(
                "refused a report of vehicle %s made in the future (%d ms)", iot_code, at_ms
            )
        return True

    def _outgoing(self, push: PushEvent) -> NewPush:
        return outgoing(push, self._clock())

    def _add(self, report: Report) -> None:
        self._batch.reports[report.iot_code].append(report)
        self._waiting.set()

    async def flush(self) -> None:
        """Write what came in since the last flush; on failure keep it for the next one
        (cancelled by a stop too: `stop` flushes once more)."""
        batch, self._batch = self._batch, _Batch()
        if not batch:
            return
        try:
            await self._write(batch)
        except BaseException:
            batch.merge_into(self._batch)
            raise

    async def _write(self, batch: _Batch) -> None:
        """Write a batch. If the store refuses its data (not if it is away: then the
        batch stays for the next flush), write it again vehicle by vehicle, so that only
        the vehicle whose rows are refused loses its reports."""
        try:
            platforms = await self._retried(batch)
            self._acknowledge_all(batch)
        except Exception as err:
            if not _refused_data(err) or len(batch.vehicles()) == 1:
                raise
            log.warning(
                "a batch of %d vehicles was refused (%s); writing them one by one",
                len(batch.vehicles()),
                _first_line(err),
            )
            platforms = set()
            for iot_code in batch.vehicles():
                try:
                    platforms |= await self._retried(batch.of(iot_code))
                    self._acknowledge_all(batch.of(iot_code))
                except Exception as one:
                    if not _refused_data(one):
                        raise
                    log.error("dropped the reports of vehicle %s: %s", iot_code, _first_line(one))
        if platforms:
            self.doorbell.ring(platforms)

    def _acknowledge_all(self, batch: _Batch) -> None:
        for iot_code, keys in batch.acks.items():
            self._acknowledge(iot_code, keys)

    async def _retried(self, batch: _Batch) -> set[str]:
        """Write a batch, again after a deadlock or serialization failure; the platforms
        of the pushes it wrote."""
        reports = [report for reports in batch.reports.values() for report in reports]
        events = [push for pushes in batch.events.values() for push in pushes]
        for attempt in range(1, RETRIES + 1):
            try:
                stored = await self._db.vehicles.apply_reports(reports, events)
            except DBAPIError as err:
                if _sqlstate(err) not in _RETRYABLE_STATES or attempt == RETRIES:
                    raise
                continue
            pushed = [r.push for r in stored if r.push is not None] + events
            return {push.platform_code for push in pushed}
        raise AssertionError("unreachable")


def _refused_data(err: Exception) -> bool:
    """Whether the store refused what was written (a constraint, a value out of range),
    rather than being unreachable or busy."""
    if isinstance(err, IntegrityError | DataError):
        return True
    return not isinstance(err, DBAPIError)  # the driver's own refusal (OverflowError…)


def _sqlstate(err: DBAPIError) -> str | None:
    state = getattr(err.orig, "sqlstate", None) or getattr(err.orig, "pgcode", None)
    return state if isinstance(state, str) else None


def _first_line(err: Exception) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__
