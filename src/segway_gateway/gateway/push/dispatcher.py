"""Delivers the outbox: signs each push with its platform's secret and POSTs it.

By default the document's policy: a push that gets no HTTP 200 is retried
once, 5 s later; after that it is dead (kept in the outbox and the delivery
log). A platform may choose the durable policy instead (push/policy.py). Each
platform has its own lane with its own concurrency limit, so a slow receiver
only slows its own pushes. Pushes stay in the outbox until an attempt is
recorded, so a gateway that stops (or dies) delivers what was accepted when it
starts again.

Gateway instances sharing one database share its outbox: each claims the
pushes it sends for a lease (OutboxRepo.claim), so a push goes out once; one
claimed by an instance that dies goes out again when its lease ends.

For throughput a lane claims as many pushes as its receiver can take well
within the lease (judged from the latency it has seen), and attempts are
recorded by one writer, many to a transaction, rather than one by one. New
pushes ring the doorbell with their platforms, so a new push costs no look
through the whole outbox; that look (for retries that came due, pushes of
other instances, replays from the CLI) is taken at least every POLL_SECONDS.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Collection
from dataclasses import dataclass, field

import httpx

from segway_gateway.clock import Clock
from segway_gateway.contract.signature import sign
from segway_gateway.gateway.push.doorbell import Doorbell
from segway_gateway.gateway.push.policy import DOCUMENT, next_wait
from segway_gateway.gateway.sealing import SealBroken, unseal
from segway_gateway.gateway.store.db import Database
from segway_gateway.gateway.store.outbox import (
    DEAD,
    DELIVERED,
    PENDING,
    Attempt,
    OutboxPush,
    Outcome,
)

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
"""The whole of one attempt, connecting included."""
LEASE_MS = 30_000
"""How long a claimed push is this instance's: up to SEND_WITHIN to start its attempt,
the attempt's timeout, then (with room to spare) recording it. Instances sharing a
database must keep their clocks in step (NTP): leases are in wall-clock time."""
SEND_WITHIN = 3.0
"""Seconds after its claim a push may still be started. A lane that could not start a
push by then gives it back, to be claimed again at once."""
RECORD_RETRY_SECONDS = 1.0
PER_PLATFORM = 4
MAX_CLAIM = 64
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class _Target:
    url: str
    secret: str = field(repr=False)
    policy: str


class _NoTarget(Exception):
    """The platform has no push URL, or its secret cannot be recovered to sign."""


@dataclass
class _Lane:
    """One platform's deliveries in this instance: pushes claimed and not yet started,
    the slots in use, and how long its receiver takes."""

    claimed: deque[tuple[OutboxPush, float]] = field(default_factory=deque)
    """Pushes with the monotonic time of their claim, oldest first."""
    busy: int = 0
    more_due: bool = True
    """Whether the outbox may hold due pushes this lane did not claim: then a slot that
    frees up looks again at once (else new pushes and the 1 s poll bring them)."""
    latency: float = 0.05
    """Seconds per attempt, a moving average."""

    def free(self) -> int:
        return PER_PLATFORM - self.busy

    def room(self) -> int:
        """How many pushes to claim: what the free slots get through in SEND_WITHIN / 2."""
        per_slot = int(SEND_WITHIN / 2 / max(self.latency, 0.001))
        wanted = min(MAX_CLAIM, self.free() * max(1, per_slot))
        return max(0, wanted - len(self.claimed))

    def observe(self, seconds: float) -> None:
        self.latency = 0.8 * self.latency + 0.2 * seconds


class PushDispatcher:
    """Runs beside the fleet service, which rings `doorbell` when it accepted pushes."""

    def __init__(
        self,
        db: Database,
        key: bytes,
        doorbell: Doorbell,
        clock: Clock,
    ) -> None:
        self._db = db
        self._key = key
        self._doorbell = doorbell
        self._clock = clock
        self._targets: dict[str, _Target] = {}
        self._lanes: dict[str, _Lane] = {}
        self._senders: set[asyncio.Task[None]] = set()
        self._finished: list[Outcome] = []
        self._finished_ready = asyncio.Event()
        # no pool-wide limit: each lane holds at most PER_PLATFORM connections, and a
        # pool exhausted by hanging receivers would delay the other platforms
        self._http = httpx.AsyncClient(
            timeout=TIMEOUT_SECONDS, limits=httpx.Limits(max_connections=None)
        )
        self._stopping = False

    def forget_targets(self) -> None:
        """Read push URLs and secrets again (the CLI may have changed them)."""
        self._targets.clear()

    async def run(self) -> None:
        """Deliver until `stop()`; never cancelled mid-query (see `stop`)."""
        recorder = asyncio.create_task(self._record_finished(), name="push-recorder")
        next_look = self._clock.monotonic()
        try:
            while not self._stopping:
                rung = await self._doorbell.wait(next_look - self._clock.monotonic())
                if self._stopping:
                    return
                if rung is None or self._clock.monotonic() >= next_look:
                    rung, next_look = None, self._clock.monotonic() + POLL_SECONDS
                try:
                    await self.deliver_due(rung)
                except Exception:
                    log.exception("reading the push outbox failed")
        finally:
            self._stopping = True  # also when `run` was cancelled: the recorder ends
            self._finished_ready.set()
            await recorder

    async def deliver_due(self, platforms: Collection[str] | None = None) -> None:
        """Claim due pushes of `platforms` (None: of every platform the outbox has due
        pushes for) for every lane that has started what it held, and send: a platform
        whose receiver hangs fills its own slots and never delays another's."""
        if platforms is None:
            platforms = await self._db.outbox.due_platforms(int(self._clock() * 1000))
        holding = [code for code, lane in self._lanes.items() if lane.claimed]
        for platform_code in dict.fromkeys([*platforms, *holding]):
            lane = self._lanes.setdefault(platform_code, _Lane())
            try:
                await self._fill(platform_code, lane)
            except Exception:
                log.exception("claiming pushes of %s failed", platform_code)

    async def _fill(self, platform_code: str, lane: _Lane) -> None:
        """Claim for a lane that has started all it held, and start a sender per free slot
        that has a push to send."""
        if lane.claimed or lane.free() == 0:
            lane.more_due = True
        else:
            claimed_at, now_ms = self._clock.monotonic(), int(self._clock() * 1000)
            room = lane.room()
            claim = await self._db.outbox.claim(now_ms, platform_code, room, LEASE_MS)
            lane.claimed.extend((push, claimed_at) for push in claim)
            lane.more_due = len(claim) == room
        for _ in range(min(len(lane.claimed), lane.free())):
            lane.busy += 1
            task = asyncio.create_task(
                self._send(platform_code, lane), name=f"push-{platform_code}"
            )
            self._senders.add(task)
            task.add_done_callback(self._senders.discard)

    def stop(self) -> None:
        """Ask `run` to return after its current round (it checks between rounds)."""
        self._stopping = True
        self._doorbell.ring()
        self._finished_ready.set()

    async def close(self) -> None:
        """Let attempts under way finish (each is bounded by its timeout), record them, give
        back the claimed pushes not started, and close. A push whose attempt was cut short
        stays pending and goes out when its lease ends."""
        self._stopping = True
        if self._senders:
            await asyncio.wait(list(self._senders), timeout=TIMEOUT_SECONDS + 1)
        for task in list(self._senders):
            task.cancel()
        await asyncio.gather(*self._senders, return_exceptions=True)
        if not await self._record_now():
            log.error(
                "%d push attempts could not be recorded; their pushes go out again when "
                "their lease ends",
                len(self._finished),
            )
        unsent = [push.id for lane in self._lanes.values() for push, _ in lane.claimed]
        if unsent:  # due again at once, for the next start or another instance
            await self._db.outbox.release(unsent, int(self._clock() * 1000))
        await self._http.aclose()

    async def _send(self, platform_code: str, lane: _Lane) -> None:
        """One of a lane's slots: send its claimed pushes until none is left."""
        stale: list[int] = []
        try:
            while lane.claimed and not self._stopping:
                push, claimed_at = lane.claimed.popleft()
                if self._clock.monotonic() - claimed_at > SEND_WITHIN:
                    stale.append(push.id)
                    continue
                started = time.monotonic()  # a receiver's latency is real time, not the clock's
                attempt, policy = await self._attempt(push)
                lane.observe(time.monotonic() - started)
                self._finished.append(self._outcome(push, attempt, policy))
                self._finished_ready.set()
        finally:
            lane.busy -= 1
            if stale:
                await self._give_back(stale)
                lane.more_due = True
            if lane.more_due:
                self._doorbell.ring([platform_code])  # a slot is free and pushes wait

    async def _give_back(self, ids: list[int]) -> None:
        try:
            await self._db.outbox.release(ids, int(self._clock() * 1000))
        except Exception:
            log.exception("giving back %d claimed pushes failed: due when the lease ends", len(ids))

    async def _attempt(self, push: OutboxPush) -> tuple[Attempt, str]:
        """One attempt, and the policy that decides what follows it."""
        started = time.monotonic()
        at = int(self._clock() * 1000)
        policy = DOCUMENT
        try:
            target = await self._target(push.platform_code)
            policy = target.policy
            form = {**push.form, "signature": sign(push.form, target.secret)}
            async with asyncio.timeout(TIMEOUT_SECONDS):
                response = await self._http.post(f"{target.url}/v2/vehicle/{push.kind}", data=form)
            status, excerpt = response.status_code, response.text[:200]
        except _NoTarget as err:
            status, excerpt = None, str(err)[:200]
        except TimeoutError:
            status, excerpt = None, f"no answer within {TIMEOUT_SECONDS:g} s"
        except Exception as err:  # httpx's errors, an unusable URL, the store failing
            status, excerpt = None, f"{type(err).__name__}: {err}"[:200]
        latency = int((time.monotonic() - started) * 1000)
        return Attempt(at, status, latency, excerpt), policy

    def _outcome(self, push: OutboxPush, attempt: Attempt, policy: str) -> Outcome:
        """Where an attempt leaves its push: delivered, due again, or dead."""
        if attempt.http_status == 200:
            return Outcome(push, attempt, DELIVERED)
        wait = next_wait(policy, push.attempts + 1)
        if wait is not None:  # counted from the attempt's end: 5 s after a 10 s timeout too
            due_at = attempt.at + attempt.latency_ms + int(wait * 1000)
            return Outcome(push, attempt, PENDING, due_at)
        log.warning(
            "push %s to %s given up after %d attempts (%s policy): %s",
            push.event_id,
            push.platform_code,
            push.attempts + 1,
            policy,
            attempt.http_status or attempt.excerpt,
        )
        return Outcome(push, attempt, DEAD)

    async def _record_finished(self) -> None:
        """The one writer of attempts: whatever finished while it last wrote goes into the
        next transaction. Runs until `run` ends; `close` records the rest."""
        while not self._stopping:
            await self._finished_ready.wait()
            self._finished_ready.clear()
            if not await self._record_now():
                await self._clock.sleep(RECORD_RETRY_SECONDS)
                self._finished_ready.set()

    async def _record_now(self) -> bool:
        """Record what finished; on failure keep it for the next try. Whether it worked."""
        finished, self._finished = self._finished, []
        try:
            await self._db.outbox.record(finished)
        except BaseException as err:
            self._finished[:0] = finished
            if not isinstance(err, Exception):
                raise
            log.exception("recording %d push attempts failed; trying again", len(finished))
            return False
        return True

    async def _target(self, platform_code: str) -> _Target:
        """The platform's push URL, its recovered secret and its delivery policy."""
        target = self._targets.get(platform_code)
        if target is None:
            platform = await self._db.platforms.get(platform_code)
            sealed = await self._db.platforms.sealed_secret(platform_code)
            if platform is None or not platform.push_url:
                raise _NoTarget(f"platform {platform_code} has no push URL")
            if sealed is None:
                raise _NoTarget(
                    f"platform {platform_code} has no sealed secret to sign with: "
                    "run `segway-gateway platform set-secret`"
                )
            try:
                secret = unseal(self._key, platform_code, sealed)
            except SealBroken as err:
                raise _NoTarget(str(err)) from err
            policy = await self._db.platforms.push_policy(platform_code) or DOCUMENT
            target = _Target(platform.push_url.rstrip("/"), secret, policy)
            self._targets[platform_code] = target
        return target
