"""Throttling of token requests: wrong secrets cost an attacker time, not the gateway CPU.

Failures are counted in the database (store/login_failures.py), shared by every instance
on it, per (source address, client id) and per source address across all client ids.
Within a window of `WINDOW` s opened by the first failure, failures 1 to `CLIENT_LIMIT`
of a pair are refused as usual (401); the one that reaches the limit blocks the pair for
`LOCKOUT` s, and until then every request of that pair, the right secret too, is
answered 429 from one read of the counters, before any secret is hashed. A source
address that reaches `ADDRESS_LIMIT` failures over all client ids is blocked alike, for
every client id. docs/security.md tells the whole rule.

A secret is counted as a failure before it is hashed (`attempt`) and the count is taken
back when it is right, so attempts hashed at once on any number of instances are counted
one by one and the one counted past the limit is refused unhashed: exactly `CLIENT_LIMIT`
wrong secrets of a pair are hashed per window. On this instance PBKDF2 runs for one
request of a pair at a time (`turn`), so one pair under attack keeps at most one thread
hashing per instance. The PBKDF2 of a pair that has failed in its window runs in a
low-priority thread (`run_suspect`), so an attack's hashing gives way to other
platforms' first logins.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import math
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, TypeVar

from segway_gateway.clock import Clock
from segway_gateway.gateway.store.login_failures import ADDRESS_ROW, FailureRow, LoginFailureRepo

log = logging.getLogger(__name__)
T = TypeVar("T")

CLIENT_LIMIT = 20
"""Wrong secrets per (source address, client id) within a window; the last one blocks."""
ADDRESS_LIMIT = 100
"""Refused token requests per source address within a window, over all client ids."""
WINDOW = 60.0
"""Seconds from a row's first failure in which its failures count together."""
LOCKOUT = 60.0
"""Seconds a row stays blocked from the failure that reached its limit (Retry-After ≤)."""
PRUNE_EVERY = 60.0
"""Seconds between two deletions of the rows that are over, per instance."""
_KNOWN_BLOCKS = 10_000


_SUSPECT_THREADS = 2
_SUSPECT_NICE = 10
_suspects: concurrent.futures.ThreadPoolExecutor | None = None


def _lower_priority() -> None:
    """Make this thread yield the CPU to the rest of the process (Linux: nice per thread)."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _SUSPECT_NICE)


async def run_suspect(func: Callable[..., T], *args: Any) -> T:
    """`func(*args)` in one of a few low-priority threads of this process: for the PBKDF2
    of an (address, client id) that failed recently, so that an attack's hashing gives
    way to other platforms' logins instead of slowing them."""
    global _suspects
    if _suspects is None:
        _suspects = concurrent.futures.ThreadPoolExecutor(
            _SUSPECT_THREADS, "suspect-secret", initializer=_lower_priority
        )
    return await asyncio.get_running_loop().run_in_executor(_suspects, func, *args)


class Throttled(Exception):
    """Too many failures: refuse without checking the secret, for `retry_after` s."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class _Turn:
    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class LoginThrottle:
    """The counters of failed token requests and the rule that blocks on them."""

    def __init__(
        self,
        failures: LoginFailureRepo,
        clock: Clock,
        client_limit: int = CLIENT_LIMIT,
        address_limit: int = ADDRESS_LIMIT,
        window: float = WINDOW,
        lockout: float = LOCKOUT,
    ) -> None:
        self._failures = failures
        self._clock = clock
        self._client_limit = client_limit
        self._address_limit = address_limit
        self._window_ms = int(window * 1000)
        self._lockout_ms = int(lockout * 1000)
        self._blocked: dict[tuple[str, str], int] = {}
        """(source, client id or ADDRESS_ROW) → the end of a block this instance has read
        or written (epoch ms). A block is never shortened, so while it lasts a request of
        the pair is refused without reading the database."""
        self._turns: dict[tuple[str, str], _Turn] = {}
        self._next_prune = 0.0

    async def check(self, source: str, client_id: str | None) -> bool:
        """Raise Throttled if the address or the pair is blocked; else whether the pair
        has failures counted (to forget when its secret turns out right). `client_id`
        None: a client id no platform can have, counted for the address alone."""
        now = self._now_ms()
        self._refuse_if_blocked(source, client_id, now)
        rows = await self._failures.read(source, client_id)
        self._note(source, rows)
        self._refuse_if_blocked(source, client_id, now)
        return client_id is not None and any(row.client_id == client_id for row in rows)

    async def attempt(self, source: str, client_id: str) -> None:
        """Count a secret about to be hashed as a failure of the pair, before hashing it
        (`succeeded` takes it back): attempts hashed at once, on one instance or several,
        are counted one by one, and the one counted past the limit is refused here,
        unhashed. Raise Throttled for it. The count that reaches the limit does not block
        yet: the secret may be right; `failed` blocks once it is known wrong."""
        await self._count(source, [(client_id, self._client_limit + 1, 1)], {client_id})

    async def failed(self, source: str, client_id: str | None, *, attempted: bool = False) -> None:
        """Count a refused request for the address and, with a client id, for the pair
        (its `attempt` counted it already: then only block the pair if that count reached
        the limit; requests refused since may have counted past it). Raise Throttled if
        this one went past a limit: another request, at once, reached it first."""
        limits = [(ADDRESS_ROW, self._address_limit, 1)]
        refusing = {ADDRESS_ROW}
        if client_id is not None:
            limits.append((client_id, self._client_limit, 0 if attempted else 1))
            if not attempted:  # an attempt was within the limit when it was counted
                refusing.add(client_id)
        await self._count(source, limits, refusing)
        if self._clock.monotonic() >= self._next_prune:
            self._next_prune = self._clock.monotonic() + PRUNE_EVERY
            await self._failures.prune(self._now_ms())

    async def _count(
        self, source: str, limits: list[tuple[str, int, int]], refusing: set[str]
    ) -> None:
        """Record `limits` (store/login_failures.py); Throttled if a row in `refusing`
        went past its limit."""
        now = self._now_ms()
        rows = await self._failures.record(source, limits, now, self._window_ms, self._lockout_ms)
        self._note(source, rows)
        for row in rows:
            if row.blocked_until == now + self._lockout_ms:
                whom = f"client {row.client_id!r} from" if row.client_id else "every client from"
                log.warning(
                    "token requests of %s %s blocked for %d s after %d failures",
                    whom,
                    source,
                    self._lockout_ms // 1000,
                    row.failures,
                )
        refused_over = {ADDRESS_ROW: self._address_limit}
        over = [
            row
            for row in rows
            if row.client_id in refusing
            and row.failures > refused_over.get(row.client_id, self._client_limit)
        ]
        if over:
            until = max(row.blocked_until for row in over)
            raise Throttled(max(1, math.ceil((until - now) / 1000)))

    async def succeeded(self, source: str, client_id: str) -> None:
        """Forget the pair's failures: its secret was right (the address keeps its own)."""
        await self._failures.clear(source, client_id)

    @contextlib.asynccontextmanager
    async def turn(self, source: str, client_id: str) -> AsyncIterator[bool]:
        """Hold the pair's turn to hash a secret on this instance; yields whether another
        request of the pair held it first (then the counters may have moved: check again)."""
        key = (source, client_id)
        turn = self._turns.get(key)
        if turn is None:
            turn = self._turns[key] = _Turn()
        turn.users += 1
        waited = turn.lock.locked()
        try:
            async with turn.lock:
                yield waited
        finally:
            turn.users -= 1
            if turn.users == 0:
                del self._turns[key]

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _refuse_if_blocked(self, source: str, client_id: str | None, now: int) -> None:
        keys = [(source, ADDRESS_ROW)]
        if client_id is not None:
            keys.append((source, client_id))
        until = max((self._blocked.get(key, 0) for key in keys), default=0)
        if until > now:
            raise Throttled(max(1, math.ceil((until - now) / 1000)))

    def _note(self, source: str, rows: Iterable[FailureRow]) -> None:
        now = self._now_ms()
        for row in rows:
            if row.blocked_until > now:
                self._blocked[(source, row.client_id)] = row.blocked_until
        if len(self._blocked) > _KNOWN_BLOCKS:
            self._blocked = {k: v for k, v in self._blocked.items() if v > now}
            if len(self._blocked) > _KNOWN_BLOCKS:
                self._blocked.clear()  # the database still knows them: reads, not holes
