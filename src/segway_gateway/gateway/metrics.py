"""What `GET /metrics` tells Prometheus: calls, commands, device messages, pushes.

On the hot path an API call adds 1 to a count and its time to a bucket, in plain dicts
and lists (prometheus-client's own counters and histograms take a lock each and cost
several times more); they become Prometheus's families when it scrapes, as does the
rest: messages by kind and outcome from the fleet's and the guard's counters, the
vehicles online, and the pushes waiting in the outbox (one query per scrape).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from segway_gateway.gateway.runtime import Gateway
from segway_gateway.gateway.store.outbox import Outcome

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
disable_created_metrics()  # type: ignore[no-untyped-call]  # no `_created` twin per counter
ACCEPTED = "accepted"
_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class _Timings:
    """A histogram kept as plain numbers: counts per bucket of _SECONDS (and one beyond)."""

    counts: list[int] = field(default_factory=lambda: [0] * (len(_SECONDS) + 1))
    total: float = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(_SECONDS, seconds)] += 1
        self.total += seconds

    def buckets(self) -> list[tuple[str, float]]:
        """Cumulative, as Prometheus wants them, `+Inf` last."""
        bounds = [*(f"{bound:g}" for bound in _SECONDS), "+Inf"]
        return list(zip(bounds, accumulate(self.counts), strict=True))


class Metrics:
    """The counters, kept as plain numbers by the code that answers (one event loop, no
    lock) and turned into Prometheus's families only when it scrapes."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway
        self.registry = CollectorRegistry(auto_describe=True)
        self._requests: defaultdict[tuple[str, int], int] = defaultdict(int)
        self._request_seconds: defaultdict[str, _Timings] = defaultdict(_Timings)
        self._command_seconds: defaultdict[tuple[str, int], _Timings] = defaultdict(_Timings)
        self._pushes = Counter(
            "segway_gateway_pushes",
            "Push attempts recorded, by event (status, location, alert, fault) and what the "
            "attempt left the push: delivered, pending (to retry) or dead",
            ["event", "outcome"],
            registry=self.registry,
        )
        self._outbox_pending = Gauge(
            "segway_gateway_outbox_pending",
            "Pushes accepted and not yet delivered",
            registry=self.registry,
        )
        self.registry.register(_Collected(self))

    def answered(self, endpoint: str, code: int, seconds: float) -> None:
        """One request answered with `code` after `seconds`."""
        self._requests[(endpoint, code)] += 1
        self._request_seconds[endpoint].observe(seconds)

    def commanded(self, command: str, code: int, seconds: float) -> None:
        self._command_seconds[(command, code)].observe(seconds)

    def pushed(self, outcomes: Sequence[Outcome]) -> None:
        for outcome in outcomes:
            self._pushes.labels(outcome.push.kind, outcome.state).inc()

    async def exposition(self) -> bytes:
        """The text Prometheus scrapes (the outbox counted now)."""
        self._outbox_pending.set(await self._gateway.db.outbox.pending_count())
        return generate_latest(self.registry)

    def families(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "segway_gateway_http_requests",
            "HTTP requests answered, by endpoint (the route) and code (the API's result code; "
            "HTTP status for the token endpoint)",
            labels=["endpoint", "code"],
        )
        for (endpoint, code), count in sorted(self._requests.items()):
            requests.add_metric([endpoint, str(code)], count)
        yield requests
        request_seconds = HistogramMetricFamily(
            "segway_gateway_http_request_seconds",
            "Seconds from a request's arrival to its answer, by endpoint",
            labels=["endpoint"],
        )
        for endpoint, timings in sorted(self._request_seconds.items()):
            request_seconds.add_metric([endpoint], timings.buckets(), timings.total)
        yield request_seconds
        command_seconds = HistogramMetricFamily(
            "segway_gateway_command_seconds",
            "Seconds a command took from the API to the vehicle and back, by command and "
            "result code",
            labels=["command", "code"],
        )
        for (command, code), timings in sorted(self._command_seconds.items()):
            command_seconds.add_metric([command, str(code)], timings.buckets(), timings.total)
        yield command_seconds
        yield from _device_link(self._gateway)


class _Collected(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        return self._metrics.families()

    def describe(self) -> Iterator[Metric]:
        return iter(())


def _device_link(gateway: Gateway) -> Iterator[Metric]:
    """Messages from vehicles and vehicles online, from the gateway's own counters."""
    messages = CounterMetricFamily(
        "segway_gateway_device_messages",
        "Messages from vehicles, by kind and outcome: accepted, or the reason they were "
        "refused (too-large, rate-limited, invalid; over MQTT only)",
        labels=["kind", "outcome"],
    )
    for kind, count in sorted(gateway.fleet.received_by_kind.items()):
        messages.add_metric([kind, ACCEPTED], count)
    for (kind, reason), count in sorted(gateway.guard.refused.items() if gateway.guard else ()):
        messages.add_metric([kind, reason], count)
    yield messages
    yield GaugeMetricFamily(
        "segway_gateway_vehicles_online",
        "Registered vehicles with a live device-link session",
        value=gateway.fleet.online_count(),
    )
