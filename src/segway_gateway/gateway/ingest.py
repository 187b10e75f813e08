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

Once a vehicle's part of a batch is committed, two acknowledgements follow. The future
each call returned completes, so the link acknowledges those messages to the broker
(which until then keeps them for this gateway's session, and sends them again if it
dies). And its events, and the status reports it sent with `ack` (those that change
the lock state), are acknowledged to the vehicle (`acknowledge`), which until then
keeps them and sends them again. Either way a message is never lost between the
broker and the store, only sent more than once, and derived eventIds make each one
push once.
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
from segway_gateway.devicelink.base import Stored
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
_RETRYABLE_STATES = {"40001", "40P01"}
"""PostgreSQL's serialization failure and deadlock: the transaction may simply run again."""


class Owner(Protocol):
    """The registered vehicle a report is about, as the fleet service knows it."""

    platform_code: str
    online: bool


class Owners(Protocol):
    def entry(self, iot_code: str) -> Owner | None: ...


@dataclass
class _Waiting:
    """What one vehicle sent since the last flush."""

    reports: list[Report] = field(default_factory=list)
    pushes: list[NewPush] = field(default_factory=list)
    """The pushes of its events (and of invalid fixes), stored whatever the state."""
    acks: list[str] = field(default_factory=list)
    """Keys of the messages to acknowledge to the vehicle once written."""
    written: list[asyncio.Future[None]] = field(default_factory=list)
    """Completed once these messages are written (or refused for good): the link
    acknowledges them to the broker then."""

    def stored(self) -> asyncio.Future[None]:
        """A future completed once what waits here is written."""
        if not self.written:
            self.written.append(asyncio.get_running_loop().create_future())
        return self.written[-1]

    def settle(self) -> None:
        """These messages are written, or refused for good: the broker may forget them."""
        for future in self.written:
            if not future.done():
                future.set_result(None)

    def put_back(self, later: _Waiting) -> None:
        """Put these (unwritten) messages back in front of what came since."""
        later.reports[:0], later.pushes[:0], later.acks[:0] = self.reports, self.pushes, self.acks
        later.written[:0] = self.written


_Batch = dict[str, _Waiting]
"""What came since the last flush, by vehicle."""


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
        self._batch: _Batch = defaultdict(_Waiting)
        self._waiting = asyncio.Event()
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

    def status(self, iot_code: str, status: DeviceStatus) -> Stored:
        """Queue the report (and its push); the future completes once it is written.

        A vehicle this instance does not know (yet: registrations are read every 5 s)
        gets nothing written and no acknowledgement of its own: it sends what it keeps
        again, maybe to an instance that knows it.
        """
        owner = self._owners.entry(iot_code)
        if owner is None:
            return None
        waiting = self._batch[iot_code]
        if status.ack:  # the vehicle keeps it until it hears it was stored
            waiting.acks.append(status_key(status))
        push = None
        if owner.platform_code in self.push_targets:  # a push is built only to be sent
            push = self._outgoing(status_push(iot_code, owner.platform_code, owner.online, status))
        body = status.model_dump(by_alias=True, mode="json")
        report = Report(iot_code, "status", status.at_ms, body, push, pushed_anyway=status.ack)
        waiting.reports.append(report)
        return self._queued(waiting)

    def location(self, iot_code: str, location: DeviceLocation) -> Stored:
        owner = self._owners.entry(iot_code)
        if owner is None:
            return None
        push = None
        if owner.platform_code in self.push_targets:
            push = self._outgoing(location_push(iot_code, owner.platform_code, location))
        waiting = self._batch[iot_code]
        if location.location_status == "valid":
            body = location.model_dump(by_alias=True, mode="json")
            waiting.reports.append(Report(iot_code, "location", location.at_ms, body, push))
        elif push is not None:  # an invalid fix is pushed (the document says so), not kept
            waiting.pushes.append(push)
        else:
            return None
        return self._queued(waiting)

    def event(self, iot_code: str, event: DeviceEvent) -> Stored:
        """Queue the event's push, if its platform takes pushes, and its acknowledgement."""
        owner = self._owners.entry(iot_code)
        if owner is None:
            return None
        waiting = self._batch[iot_code]
        waiting.acks.append(event_key(event))
        if owner.platform_code in self.push_targets:
            waiting.pushes.append(self._outgoing(event_push(iot_code, owner.platform_code, event)))
        return self._queued(waiting)

    def _queued(self, waiting: _Waiting) -> asyncio.Future[None]:
        self._waiting.set()
        return waiting.stored()

    def _outgoing(self, push: PushEvent) -> NewPush:
        return outgoing(push, self._clock())

    async def flush(self) -> None:
        """Write what came in since the last flush; on failure keep it for the next one
        (cancelled by a stop too: `stop` flushes once more)."""
        batch, self._batch = self._batch, defaultdict(_Waiting)
        if not batch:
            return
        try:
            await self._write(batch)
        except BaseException:
            for iot_code, waiting in batch.items():
                waiting.put_back(self._batch[iot_code])
            raise

    async def _write(self, batch: _Batch) -> None:
        """Write a batch. If the store refuses its data (not if it is away: then the
        batch stays for the next flush), write it again vehicle by vehicle, so that only
        the vehicle whose rows are refused loses its reports."""
        try:
            platforms = await self._retried(batch)
            self._written(batch)
        except Exception as err:
            if not _refused_data(err) or len(batch) == 1:
                raise
            log.warning(
                "a batch of %d vehicles was refused (%s); writing them one by one",
                len(batch),
                _first_line(err),
            )
            platforms = set()
            for iot_code in sorted(batch):
                one = {iot_code: batch[iot_code]}
                try:
                    platforms |= await self._retried(one)
                    self._written(one)
                except Exception as refused:
                    if not _refused_data(refused):
                        raise
                    log.error(
                        "dropped the reports of vehicle %s: %s", iot_code, _first_line(refused)
                    )
                    batch[iot_code].settle()  # sending them again would not help
        if platforms:
            self.doorbell.ring(platforms)

    def _written(self, batch: _Batch) -> None:
        for iot_code, waiting in batch.items():
            waiting.settle()
            if waiting.acks:
                self._acknowledge(iot_code, waiting.acks)

    async def _retried(self, batch: _Batch) -> set[str]:
        """Write a batch, again after a deadlock or serialization failure; the platforms
        of the pushes it may have written (a doorbell rung in vain costs one query)."""
        reports = [report for waiting in batch.values() for report in waiting.reports]
        events = [push for waiting in batch.values() for push in waiting.pushes]
        for attempt in range(1, RETRIES + 1):
            try:
                await self._db.vehicles.apply_reports(reports, events)
            except DBAPIError as err:
                if _sqlstate(err) not in _RETRYABLE_STATES or attempt == RETRIES:
                    raise
                continue
            pushes = [r.push for r in reports if r.push is not None] + events
            return {push.platform_code for push in pushes}
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
