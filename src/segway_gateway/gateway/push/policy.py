"""When a push that got no HTTP 200 is tried again, per the platform's delivery policy."""

from __future__ import annotations

DOCUMENT = "document"
"""The API document's: one more attempt 5 s later, then the push is dead."""
DURABLE = "durable"
"""Attempts spread over about 18 hours, for receivers that can be down for a while."""
POLICIES = (DOCUMENT, DURABLE)

_WAITS: dict[str, tuple[float, ...]] = {
    DOCUMENT: (5.0,),
    DURABLE: (5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 28800.0),
}


def next_wait(policy: str, failed_attempts: int) -> float | None:
    """Seconds until the next attempt after this many failed ones; None: give up (dead)."""
    waits = _WAITS.get(policy, _WAITS[DOCUMENT])
    return waits[failed_attempts - 1] if failed_attempts <= len(waits) else None
