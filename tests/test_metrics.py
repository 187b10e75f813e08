"""GET /metrics (gateway/metrics.py) of a real `serve --demo`, read with Prometheus's own
parser: each figure moves by exactly what the test did between two scrapes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from segway_gateway.contract import paths
from tests.conftest import api_client
from tests.harness import eventually
from tests.processes import ServeProcess, serving

DEMO_VEHICLES = 10
DEMO_VEHICLE = "861477038719116"
UNKNOWN_VEHICLE = "861477038799999"


def samples(base_url: str) -> list[tuple[str, dict[str, str], float]]:
    response = httpx.get(f"{base_url}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    ]


def metric(base_url: str, name: str, labels: dict[str, str] | None = None) -> float:
    """The value of one sample (0 when Prometheus would not show it yet)."""
    wanted = labels or {}
    found = [
        value
        for sample, have, value in samples(base_url)
        if sample == name and all(have.get(k) == v for k, v in wanted.items())
    ]
    assert len(found) <= 1, (name, wanted, found)
    return found[0] if found else 0.0


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    workdir: Path = tmp_path_factory.mktemp("metrics")
    with serving(f"sqlite:///{workdir / 'demo.db'}", workdir, "--demo") as server:
        yield server


STATUS_OK = {"endpoint": paths.STATUS, "code": "0"}
STATUS_UNKNOWN = {"endpoint": paths.STATUS, "code": "15102"}
TOKENS = {"endpoint": paths.TOKEN, "code": "200"}
UNLOCKS = {"command": "unlock", "code": "0"}


def test_calls_and_commands_are_counted_by_endpoint_code_and_command(demo: ServeProcess) -> None:
    base = demo.base_url
    requests = "segway_gateway_http_requests_total"
    before = {
        "ok": metric(base, requests, STATUS_OK),
        "unknown": metric(base, requests, STATUS_UNKNOWN),
        "tokens": metric(base, requests, TOKENS),
        "timed": metric(
            base, "segway_gateway_http_request_seconds_count", {"endpoint": paths.STATUS}
        ),
        "unlocks": metric(base, "segway_gateway_command_seconds_count", UNLOCKS),
    }
    with api_client(base) as api:  # one token request
        for _ in range(3):
            assert api.get(paths.STATUS, params={"iotCode": DEMO_VEHICLE}).json()["code"] == 0
        assert api.get(paths.STATUS, params={"iotCode": UNKNOWN_VEHICLE}).json()["code"] == 15102
        assert api.post(paths.UNLOCK, json={"iotCode": DEMO_VEHICLE}).json()["code"] == 0
        assert api.post(paths.LOCK, json={"iotCode": DEMO_VEHICLE}).json()["code"] == 0
    assert metric(base, requests, STATUS_OK) == before["ok"] + 3
    assert metric(base, requests, STATUS_UNKNOWN) == before["unknown"] + 1
    assert metric(base, requests, TOKENS) == before["tokens"] + 1
    timed = metric(base, "segway_gateway_http_request_seconds_count", {"endpoint": paths.STATUS})
    assert timed == before["timed"] + 4
    assert metric(base, "segway_gateway_command_seconds_count", UNLOCKS) == before["unlocks"] + 1
    unlock_seconds = metric(base, "segway_gateway_command_seconds_sum", UNLOCKS)
    assert 0 < unlock_seconds < 5
    assert metric(base, requests, {"endpoint": paths.UNLOCK, "code": "0"}) >= 1


def test_the_fleet_the_device_link_and_the_pushes(demo: ServeProcess) -> None:
    base = demo.base_url
    assert metric(base, "segway_gateway_vehicles_online") == DEMO_VEHICLES
    for kind in ("presence", "status"):  # each vehicle said it is there, and reported once
        accepted = {"kind": kind, "outcome": "accepted"}
        eventually(
            lambda a=accepted: (
                metric(base, "segway_gateway_device_messages_total", a) >= DEMO_VEHICLES
            ),
            f"the in-process vehicles' {kind} messages counted",
        )
    delivered = {"event": "status", "outcome": "delivered"}
    eventually(
        lambda: metric(base, "segway_gateway_pushes_total", delivered) > 0,
        "the demo platform's pushes counted",
        30,
    )
    names = {name for name, _, _ in samples(base)}
    assert "segway_gateway_outbox_pending" in names
    assert metric(base, "segway_gateway_outbox_pending") >= 0


def test_metrics_can_be_turned_off(tmp_path: Path) -> None:
    server = ServeProcess(f"sqlite:///{tmp_path / 'off.db'}", tmp_path, "--no-metrics")
    try:
        server.wait_ready()
        assert httpx.get(f"{server.base_url}/metrics").status_code == 404
    finally:
        server.stop()
