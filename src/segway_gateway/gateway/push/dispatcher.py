"""Delivers the outbox: signs each push with its platform's secret and POSTs it.

By default the document's policy: a push that gets no HTTP 200 is retried
once, 5 s later; after that it is dead (kept in the outbox and the delivery
log). A platform may choose the durable policy instead (push/policy.py). Each
platform has its own concurrency limit, so a slow receiver only slows its
own pushes. Pushes stay in the outbox until an attempt is recorded, so a
gateway that stops (or dies) delivers what was accepted when it starts again.

Gateway instances sharing one database share its outbox: each claims the
pushes it sends for a lease (OutboxRepo.claim), so a push goes out once; one
claimed by an instance that dies goes out again when its lease ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from segway_gateway.contract.signature import sign
from segway_gateway.gateway.push.policy import DOCUMENT, next_wait
from segway_gateway.gateway.sealing import SealBroken, unseal
from segway_gateway.gateway.store.db import Database
from segway_gateway.gateway.store.outbox import DEAD, DELIVERED, PENDING, Attempt, OutboxPush

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
"""The whole of one attempt, connecting included."""
LEASE_MS = int(TIMEOUT_SECONDS * 1000) + 5000
"""How long a claimed push is this instance's: an attempt, then recording it."""
PER_PLATFORM = 4
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class _Target:
    url: str
    secret: str = field(repr=False)
    policy: str


class _NoTarget(Exception):
    """The platform has no push URL, or its secret cannot be recovered to sign."""


class PushDispatcher:
    """Runs beside the fleet service; `pushes_accepted` wakes it."""

    def __init__(
        self,
        db: Database,
        key: bytes,
        pushes_accepted: asyncio.Event,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._key = key
        self._wake = pushes_accepted
        self._clock = clock
        self._targets: dict[str, _Target] = {}
        self._in_flight: dict[str, set[int]] = {}
        """Per platform: the outbox ids this instance is delivering (at most PER_PLATFORM)."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._http = httpx.AsyncClient(timeout=TIMEOUT_SECONDS)
        self._stopping = False

    def forget_targets(self) -> None:
        """Read push URLs and secrets again (the CLI may have changed them)."""
        self._targets.clear()

    async def run(self) -> None:
        """Deliver until `stop()`; never cancelled mid-query (see `stop`)."""
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            self._wake.clear()
            if self._stopping:
                return
            try:
                await self.deliver_due()
            except Exception:
                log.exception("reading the push outbox failed")

    async def deliver_due(self) -> None:
        """Start delivering due pushes, each platform up to its free slots: a platform whose
        receiver hangs fills its own slots and never delays another's pushes."""
        now_ms = int(self._clock() * 1000)
        for platform_code in await self._db.outbox.due_platforms(now_ms):
            busy = self._in_flight.setdefault(platform_code, set())
            free = PER_PLATFORM - len(busy)
            if free <= 0:
                continue
            for push in await self._db.outbox.claim(now_ms, platform_code, free, LEASE_MS):
                busy.add(push.id)
                task = asyncio.create_task(self._deliver(push), name=f"push-{push.event_id}")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    def stop(self) -> None:
        """Ask `run` to return after its current round (it checks between rounds)."""
        self._stopping = True
        self._wake.set()

    async def close(self) -> None:
        """Let deliveries under way finish (each is bounded by its timeout), then close.
        A push cut short stays pending and goes out when its lease ends."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=TIMEOUT_SECONDS + 1)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._http.aclose()

    async def _deliver(self, push: OutboxPush) -> None:
        try:
            attempt, policy = await self._attempt(push)
            await self._db.outbox.record(push, attempt, *self._next(push, attempt, policy))
        except Exception:
            log.exception("delivering push %s failed", push.event_id)
        finally:
            self._in_flight[push.platform_code].discard(push.id)
            self._wake.set()  # a slot is free: look again

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
        except httpx.HTTPError as err:
            status, excerpt = None, f"{type(err).__name__}: {err}"[:200]
        latency = int((time.monotonic() - started) * 1000)
        return Attempt(at, status, latency, excerpt), policy

    def _next(self, push: OutboxPush, attempt: Attempt, policy: str) -> tuple[str, int | None]:
        """(state, due again at) after an attempt."""
        if attempt.http_status == 200:
            return DELIVERED, None
        wait = next_wait(policy, push.attempts + 1)
        if wait is not None:
            return PENDING, attempt.at + int(wait * 1000)
        log.warning(
            "push %s to %s given up after %d attempts (%s policy): %s",
            push.event_id,
            push.platform_code,
            push.attempts + 1,
            policy,
            attempt.http_status or attempt.excerpt,
        )
        return DEAD, None

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
