"""What the gateway takes from a vehicle: bounded in size and rate, refusals counted.

Every message from the broker passes `admit` before it is parsed: one over
MAX_PAYLOAD_BYTES, or beyond the vehicle's rate (a token bucket per vehicle:
`burst` at once, `rate` a second after that), is dropped unread, so a flooding
vehicle costs a dictionary look-up per message and never a parse or a database
write. Replies and presence draw on a bucket of their own, 100 times larger: a
vehicle answers every command the gateway sends it (300 a second in the unlock
benchmark), yet a vehicle flooding replies is still cut off. A message that does not
validate is `refuse`d. Each refusal is counted by reason and logged at most once per
vehicle per minute, with how many were refused meanwhile.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

from segway_gateway.clock import Clock
from segway_gateway.contract.device import MAX_PAYLOAD_BYTES

log = logging.getLogger(__name__)

DEFAULT_RATE = 10.0
"""Messages a second a vehicle may send, sustained (a riding C80 sends well under 1)."""
DEFAULT_BURST = 100
"""Messages a vehicle may send at once (a reconnect resends its kept events)."""
LOG_EVERY_SECONDS = 60.0
FUTURE_SECONDS = 600.0
"""How far ahead of the gateway's clock a vehicle's clock may run."""
CONTROL_FACTOR = 100
"""How much larger the bucket of replies and presence is than that of reports."""

TOO_LARGE, TOO_FAST, INVALID = "too-large", "rate-limited", "invalid"


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class _Complaints:
    logged_at: float
    since: int = 0
    """Refusals not logged since `logged_at`."""


class DeviceGuard:
    """Admits or refuses what vehicles publish, and keeps count."""

    def __init__(
        self, clock: Clock, rate: float = DEFAULT_RATE, burst: int = DEFAULT_BURST
    ) -> None:
        self._clock = clock
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, _Bucket] = {}
        self._control: dict[str, _Bucket] = {}
        self._complaints: dict[str, _Complaints] = {}
        self.refused: Counter[tuple[str, str]] = Counter()
        """Messages refused so far, by kind (the topic's) and reason."""

    def admit(
        self, iot_code: str, kind: str, topic: str, size: int, *, control: bool = False
    ) -> bool:
        """Whether a message of `size` bytes from this vehicle may be read. `control`
        messages (replies and presence) draw on a bucket of their own, CONTROL_FACTOR
        times larger: a vehicle answers as many commands as the gateway sends it, and its
        presence must not wait behind its reports."""
        if size > MAX_PAYLOAD_BYTES:
            self.refuse(iot_code, kind, TOO_LARGE, f"{size} bytes on {topic}")
            return False
        buckets, factor = (self._control, CONTROL_FACTOR) if control else (self._buckets, 1)
        rate, burst = self.rate * factor, float(self.burst * factor)
        now = self._clock.monotonic()
        bucket = buckets.get(iot_code)
        if bucket is None:
            bucket = buckets[iot_code] = _Bucket(burst, now)
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        if bucket.tokens < 1:
            self.refuse(iot_code, kind, TOO_FAST, f"more than {rate:g} messages/s on {topic}")
            return False
        bucket.tokens -= 1
        return True

    def check_time(self, at_ms: int) -> None:
        """ValueError for a report made more than FUTURE_SECONDS ahead of the gateway's
        clock: stored, no later report would look newer and the vehicle's state would
        freeze."""
        ahead = at_ms / 1000 - self._clock()
        if ahead > FUTURE_SECONDS:
            raise ValueError(f"made {ahead:.0f} s ahead of the gateway's clock")

    def refuse(self, iot_code: str, kind: str, reason: str, detail: str) -> None:
        """Count a refused message; log it unless this vehicle was logged within a minute."""
        self.refused[(kind, reason)] += 1
        now = self._clock.monotonic()
        complaints = self._complaints.get(iot_code)
        if complaints is not None and now - complaints.logged_at < LOG_EVERY_SECONDS:
            complaints.since += 1
            return
        earlier = ""
        if complaints is not None and complaints.since:
            earlier = f" ({complaints.since} more refused since the last line)"
        log.warning("refused a message of vehicle %s: %s, %s%s", iot_code, reason, detail, earlier)
        self._complaints[iot_code] = _Complaints(now)
