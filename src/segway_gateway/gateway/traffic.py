"""What the gateway answered, told once a minute, and rate-limited lines for the rest.

With default flags the log carries no line per API call (`serve --access-log` adds
one): instead, once a minute, one line counts the calls, the errors by code, the token
requests and the pushes of that minute, and nothing when nothing happened. Answers worth
a look of their own (an unknown path, a wrong method, an unexpected failure, a call
refused for a suspension or a rate limit) are logged at most once a minute per kind,
method and path, with how many more came meanwhile.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from segway_gateway.clock import Clock
from segway_gateway.gateway.store.outbox import DEAD, DELIVERED, PENDING, Outcome

log = logging.getLogger("segway_gateway.api")
summary_log = logging.getLogger("segway_gateway.summary")

SUMMARY_SECONDS = 60.0
"""How often the summary is logged (and the window it counts)."""
REPEAT_SECONDS = 60.0
"""A refusal of one kind, method and path is logged at most once in this many seconds."""
MAX_KEYS = 1024
"""Distinct (kind, method, path) remembered for rate limiting: paths are the caller's
choice, so beyond this (after forgetting the quiet ones) they share one key."""

UNKNOWN_PATH, WRONG_METHOD, FAILURE = "unknown path", "wrong method", "unexpected failure"
RESTRICTED = "restricted (15990)"


Record = Callable[[Sequence[Outcome]], Coroutine[Any, Any, None]]


@dataclass
class _Seen:
    logged_at: float
    since: int = 0
    """Refusals of this key not logged since `logged_at`."""


def observing(record: Record, *observers: Callable[[Sequence[Outcome]], None]) -> Record:
    """`record` (the outbox's, the push dispatcher's one writer of attempts) telling each
    observer what it recorded; attempts whose recording failed are told when it is
    retried."""

    async def recording(outcomes: Sequence[Outcome]) -> None:
        await record(outcomes)
        for observe in observers:
            observe(outcomes)

    return recording


class Traffic:
    """Counters of one gateway process, read and reset by the once-a-minute summary."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.calls = 0
        self.errors: Counter[int] = Counter()
        """API answers by their non-zero result code."""
        self.token_requests: Counter[int] = Counter()
        """`/oauth/token` answers by HTTP status."""
        self.pushes: Counter[str] = Counter()
        """Push attempts recorded, by what they left their push: delivered, pending, dead."""
        self._seen: dict[tuple[str, str, str], _Seen] = {}

    def call(self, code: int) -> None:
        """One API answer (under `/api`) with result `code`."""
        self.calls += 1
        if code:
            self.errors[code] += 1

    def token_request(self, http_status: int) -> None:
        self.token_requests[http_status] += 1

    def pushed(self, outcomes: Sequence[Outcome]) -> None:
        for outcome in outcomes:
            self.pushes[outcome.state] += 1

    def refusal(
        self,
        kind: str,
        method: str,
        path: str,
        platform: str | None,
        detail: str = "",
        *,
        level: int = logging.INFO,
        exc: BaseException | None = None,
        every_time: bool = False,
    ) -> None:
        """Log one refusal of `kind`, unless one of the same kind, method and path was
        logged less than REPEAT_SECONDS ago (then it is counted, and told with the next).
        `every_time` (the access log) logs each, the traceback of `exc` still at most
        once in REPEAT_SECONDS."""
        now = self._clock.monotonic()
        key = (kind, method, path)
        seen = self._seen.get(key)
        if seen is None and len(self._seen) >= MAX_KEYS:
            self._forget_quiet(now)
            if len(self._seen) >= MAX_KEYS:
                key = (kind, "", "")
                seen = self._seen.get(key)
        line = "%s: %s %s platform=%s%s%s"
        shown = (kind, method, path, platform or "-", f" {detail}" if detail else "")
        if seen is not None and now - seen.logged_at < REPEAT_SECONDS:
            if every_time:
                log.log(level, line, *shown, "")
            else:
                seen.since += 1
            return
        more = ""
        if seen is not None and seen.since:
            more = f" ({seen.since} more like it in the {now - seen.logged_at:.0f} s before)"
        log.log(level, line, *shown, more, exc_info=exc)
        self._seen[key] = _Seen(now)

    def _forget_quiet(self, now: float) -> None:
        """Forget keys not logged for REPEAT_SECONDS (what they held back is lost)."""
        for key, seen in list(self._seen.items()):
            if now - seen.logged_at >= REPEAT_SECONDS:
                del self._seen[key]

    def take_summary(self) -> str | None:
        """What happened since the last summary, in one line (None: nothing), and reset."""
        calls, errors = self.calls, self.errors
        tokens, pushes = self.token_requests, self.pushes
        self.calls, self.errors = 0, Counter()
        self.token_requests, self.pushes = Counter(), Counter()
        if not (calls or tokens or pushes):
            return None
        parts = [f"{calls} API calls"]
        if errors:
            by_code = ", ".join(f"{code} x{n}" for code, n in sorted(errors.items()))
            parts.append(f"{sum(errors.values())} errors ({by_code})")
        else:
            parts.append("no errors")
        refused = sum(n for status, n in tokens.items() if status != 200)
        parts.append(f"{tokens.total()} token requests ({refused} refused)")
        parts.append(
            f"pushes: {pushes[DELIVERED]} delivered, {pushes[PENDING]} to retry, "
            f"{pushes[DEAD]} given up"
        )
        return "; ".join(parts)

    async def report(self, final: bool = False) -> None:
        """Log the summary of the last minute (`final`: since the last summary, when the
        gateway stops), if anything happened in it."""
        line = self.take_summary()
        if line is not None:
            since = "since the last summary" if final else f"last {SUMMARY_SECONDS:g} s"
            summary_log.info("%s: %s", since, line)
