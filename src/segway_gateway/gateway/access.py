"""Which API calls a platform may make: none while suspended, and no more than its limit.

The rules (store/access_rules.py) are written by `platform set-limits`, `suspend` and
`resume` or by the admin API, and read by every instance on each look at the store (every
5 s). A limited platform has one token bucket in the database for all instances together.
Going to the database for each call would cost every call a write, so an instance takes a
lease of up to a tenth of a second's worth of the rate at once, spends it from memory,
takes the next one beside the calls once half is spent (so calls do not wait for the
database), and gives back with its next take what it has not spent within LEASE_SECONDS.
A call that finds no token answers 15990 at once and uses up nothing; when the bucket was
found empty the calls that follow are refused from memory until it can hold a token
again, so a client hammering a limited platform costs the database one statement per
token, not per call.

The leases make the bound a little looser than one bucket's: over any interval the
platform gets at most `burst + rate * interval` calls, plus the leases the instances held
at its start (at most `rate / 10` each).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from segway_gateway.clock import Clock
from segway_gateway.contract.codes import Code
from segway_gateway.gateway.errors import ApiError
from segway_gateway.gateway.store.access_rules import AccessRule, AccessRuleRepo

log = logging.getLogger(__name__)

LEASE_SHARE = 0.1
"""A lease holds at most this many seconds' worth of a platform's rate."""
LEASE_SECONDS = 1.0
"""Tokens of a lease not spent within this are given back with the next take."""


class Suspended(Exception):
    """The platform is suspended: no token, no call."""


@dataclass
class _Lease:
    """This instance's tokens of one platform, taken from the shared bucket."""

    tokens: int = 0
    until: float = 0.0
    """Monotonic time after which unspent tokens go back."""
    empty_until: float = 0.0
    """Monotonic time before which the bucket holds no whole token (it was read empty)."""
    taking: asyncio.Lock = field(default_factory=asyncio.Lock)
    topping_up: asyncio.Task[None] | None = None


class PlatformAccess:
    """The rules as this instance last read them, and its leases of the buckets."""

    def __init__(self, repo: AccessRuleRepo, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock
        self._rules: dict[str, AccessRule] = {}
        self._leases: dict[str, _Lease] = {}
        self._following = asyncio.Lock()

    async def follow(self) -> None:
        """Read the rules again (a changed limit starts with a new lease). One read at a
        time, so a read that began before a change never applies after the one after it
        (the admin API's and the periodic look's)."""
        async with self._following:
            self.apply(await self._repo.rules())

    async def close(self) -> None:
        """Let the top-ups under way end (before the database closes)."""
        tasks = [lease.topping_up for lease in self._leases.values() if lease.topping_up]
        if tasks:
            await asyncio.wait(tasks)

    def apply(self, rules: Iterable[AccessRule]) -> None:
        old, self._rules = self._rules, {rule.platform_code: rule for rule in rules}
        for code in list(self._leases):
            if self._rules.get(code) != old.get(code):
                del self._leases[code]

    def rule(self, platform_code: str) -> AccessRule:
        """The platform's rule as this instance applies it."""
        return self._rules.get(platform_code) or AccessRule(platform_code)

    def is_suspended(self, platform_code: str) -> bool:
        return self.rule(platform_code).suspended

    async def admit(self, platform_code: str) -> None:
        """Return if the platform may make one more call now (spending a token if it is
        limited); else 15990."""
        rule = self._rules.get(platform_code)
        if rule is None:
            return
        if rule.suspended:
            raise ApiError(Code.RESTRICTED, f"platform {platform_code} is suspended")
        if rule.rate is None or rule.burst is None:
            return
        lease = self._leases.get(platform_code)
        if lease is None:
            lease = self._leases[platform_code] = _Lease()
        if self._spend(lease):
            self._top_up_early(platform_code, lease, rule.rate, rule.burst)
            return
        async with lease.taking:  # one take at a time: the calls behind it may spend it
            if not self._spend(lease):
                await self._take(platform_code, lease, rule.rate, rule.burst, for_call=True)

    def _spend(self, lease: _Lease) -> bool:
        """Spend a token of the lease if it has one; 15990 if the bucket is known empty."""
        now = self._clock.monotonic()
        if lease.tokens > 0 and now < lease.until:
            lease.tokens -= 1
            return True
        if now < lease.empty_until:
            raise _over_limit()
        return False

    def _top_up_early(self, platform_code: str, lease: _Lease, rate: float, burst: int) -> None:
        """With less than half a lease left, take the next one beside the calls, so that
        they do not wait for it (leases of one token are taken when needed)."""
        want = _lease_size(rate, burst)
        busy = lease.taking.locked() or (
            lease.topping_up is not None and not lease.topping_up.done()
        )
        if want > 1 and lease.tokens < want // 2 and not busy:  # one top-up at a time
            lease.topping_up = asyncio.create_task(
                self._top_up(platform_code, lease, rate, burst), name="rate-limit lease"
            )

    async def _top_up(self, platform_code: str, lease: _Lease, rate: float, burst: int) -> None:
        async with lease.taking:
            try:
                await self._take(platform_code, lease, rate, burst, for_call=False)
            except Exception as exc:  # the calls take it themselves when the lease runs out
                log.debug("topping up the lease of %s failed: %r", platform_code, exc)

    async def _take(
        self, platform_code: str, lease: _Lease, rate: float, burst: int, *, for_call: bool
    ) -> None:
        """Take a lease's worth from the bucket (giving back the tokens whose time is
        over); `for_call`: one of them is spent on the call waiting, or 15990."""
        now = self._clock.monotonic()
        back = lease.tokens if now >= lease.until else 0
        held = lease.tokens - back
        lease.tokens = held
        now_ms = int(self._clock() * 1000)
        want = _lease_size(rate, burst)
        try:
            grant = await self._repo.take(platform_code, want, back, rate, burst, now_ms)
        except BaseException:
            lease.tokens += back  # not given back after all: the next take does it
            raise
        now = self._clock.monotonic()
        if grant.granted == 0:
            lease.empty_until = now + (1.0 - grant.left) / rate
            if for_call:
                raise _over_limit()
            return
        lease.tokens += grant.granted - (1 if for_call else 0)
        lease.until = now + LEASE_SECONDS


def _lease_size(rate: float, burst: int) -> int:
    return max(1, min(burst, int(rate * LEASE_SHARE)))


def _over_limit() -> ApiError:
    return ApiError(Code.RESTRICTED, "the platform's rate limit is reached")
