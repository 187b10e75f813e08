"""What `serve` logs: no line per API call unless asked, a summary once a minute.

Through a real `segway-gateway serve` (its stdout and stderr in one log file) and a
gateway in a thread whose clock the tests move (JumpClock).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from segway_gateway.contract.codes import Code
from tests.conftest import PLATFORM, api_client
from tests.harness import (
    DOC_SECRET,
    STATUS,
    RunningGateway,
    Seed,
    code_of,
    eventually,
    running,
    seed_database,
)
from tests.processes import ServeProcess, serving

VEHICLE = "861477038719116"
CALLS = 100
SUMMARY = "segway_gateway.summary"


def hundred_calls(base_url: str) -> None:
    """CALLS requests under /api: a token, successes, errors and unknown paths."""
    with api_client(base_url) as api:  # the token request is the first of the hundred
        for n in range(CALLS - 1):
            if n % 10 == 9:
                response = api.get("/api/v2/vehicle/query/current/nothing")
                assert response.status_code == 404
            elif n % 10 == 8:
                assert code_of(api.get(STATUS, params={"iotCode": "1"})) == Code.DEVICE_NOT_FOUND
            else:
                assert code_of(api.get(STATUS, params={"iotCode": VEHICLE})) == 0


def lines_added_by_calls(server: ServeProcess) -> list[str]:
    """The lines the server's log gained while it answered `hundred_calls`."""
    before = len(server.log().splitlines())
    hundred_calls(server.base_url)
    time.sleep(1.0)  # what the calls logged is written by now
    return server.log().splitlines()[before:]


@pytest.fixture
def seeded_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    asyncio.run(seed_database(url, Seed({PLATFORM: DOC_SECRET}, {VEHICLE: (PLATFORM, True)})))
    return url


@pytest.mark.timeout(900)
def test_a_hundred_calls_add_fewer_than_ten_lines_with_default_flags(
    seeded_db: str, tmp_path: Path
) -> None:
    with serving(seeded_db, tmp_path) as server:
        added = lines_added_by_calls(server)
    assert len(added) < 10, "\n".join(added)
    # the unknown path is one of the refusals worth a line, once a minute
    assert [line for line in added if "unknown path" in line] != [], "\n".join(added)


@pytest.mark.timeout(900)
def test_access_log_adds_one_line_per_call(seeded_db: str, tmp_path: Path) -> None:
    with serving(seeded_db, tmp_path, "--access-log") as server:
        added = lines_added_by_calls(server)
    api_lines = [line for line in added if "segway_gateway.api" in line]
    assert len(api_lines) == CALLS, "\n".join(added)
    assert len([line for line in api_lines if "token request: POST" in line]) == 1
    successes = [line for line in api_lines if re.search(rf"GET {STATUS} -> 0 \(", line)]
    assert len(successes) == 80
    calls = [line for line in api_lines if "token request" not in line]
    assert all(f"platform={PLATFORM}" in line and " op=" in line for line in calls)
    assert len([line for line in api_lines if "-> 15102 device not found" in line]) == 10
    assert len([line for line in api_lines if "unknown path: GET" in line]) == 9
    assert len(added) < CALLS + 10, "\n".join(added)


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ([], {}, False),
        (["--access-log"], {}, True),
        ([], {"SEGWAY_GATEWAY_ACCESS_LOG": "1"}, True),
        ([], {"SEGWAY_GATEWAY_ACCESS_LOG": "false"}, False),
    ],
)
def test_access_log_is_off_by_default_and_on_by_flag_or_environment(
    seeded_db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: dict[str, str],
    expected: bool,
) -> None:
    from click.testing import CliRunner

    import segway_gateway.gateway.app as app_module
    from segway_gateway.cli.serve import serve
    from segway_gateway.gateway.config import GatewayConfig

    configs: list[GatewayConfig] = []

    def create_app(config: GatewayConfig, *_args: object, **_kwargs: object) -> None:
        configs.append(config)
        raise SystemExit(0)  # stop before serving

    monkeypatch.setattr(app_module, "create_app", create_app)
    monkeypatch.delenv("SEGWAY_GATEWAY_ACCESS_LOG", raising=False)
    flags = ["--db", seeded_db, "--key-file", str(tmp_path / "key"), *args]
    result = CliRunner().invoke(serve, flags, env=env)
    assert result.exit_code == 0, result.output
    assert [config.access_log for config in configs] == [expected]


# The summary ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    """A gateway of this module's own: these tests move its clock."""
    seed = Seed({PLATFORM: DOC_SECRET}, {VEHICLE: (PLATFORM, True)})
    yield from running(tmp_path_factory.mktemp("summary"), seed)


def summaries(caplog: pytest.LogCaptureFixture, gateway: RunningGateway) -> list[str]:
    """This gateway's summaries (others of this worker, e.g. the shared `server`, log
    theirs on their own threads)."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == SUMMARY and r.thread == gateway.thread_id()
    ]


def advance_until_summary(
    gateway: RunningGateway, caplog: pytest.LogCaptureFixture, count: int
) -> None:
    """Move the clock a minute at a time until `count` summaries were logged (the
    summary's sleep may begin just after a jump, then the next jump ends it)."""

    def logged() -> bool:
        if len(summaries(caplog, gateway)) >= count:
            return True
        gateway.clock.advance(60)
        return False

    eventually(logged, f"summary {count}", detail=lambda: "\n".join(summaries(caplog, gateway)))


def test_the_summary_counts_a_minutes_calls_errors_and_token_requests(
    gateway: RunningGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="segway_gateway")
    advance_until_summary(gateway, caplog, 0)
    gateway.run(gateway.app.state.traffic.report())  # start from nothing
    caplog.clear()
    with api_client(gateway.base_url) as api:
        for _ in range(3):
            assert code_of(api.get(STATUS, params={"iotCode": VEHICLE})) == 0
        assert code_of(api.get(STATUS, params={"iotCode": "1"})) == Code.DEVICE_NOT_FOUND
        assert api.get("/api/v2/nothing").status_code == 404
        assert api.get(STATUS, params=[("iotCode", VEHICLE)] * 2).json()["code"] == 15004
    refused = httpx.post(
        f"{gateway.base_url}/oauth/token",
        data={"client_id": PLATFORM, "client_secret": "wrong", "grant_type": "client_credentials"},
        timeout=30,
    )
    assert refused.status_code == 401
    advance_until_summary(gateway, caplog, 1)
    (line,) = summaries(caplog, gateway)
    assert line.startswith("last 60 s: 6 API calls; 3 errors (15004 x2, 15102 x1); "), line
    assert "2 token requests (1 refused)" in line, line
    assert "pushes: 0 delivered, 0 to retry, 0 given up" in line, line


def test_the_summary_is_silent_when_nothing_happened(
    gateway: RunningGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="segway_gateway")
    gateway.run(gateway.app.state.traffic.report())
    caplog.clear()
    for _ in range(5):
        gateway.clock.advance(60)
        time.sleep(0.2)
    assert summaries(caplog, gateway) == []
    with api_client(gateway.base_url) as api:
        assert code_of(api.get(STATUS, params={"iotCode": VEHICLE})) == 0
    advance_until_summary(gateway, caplog, 1)
    (line,) = summaries(caplog, gateway)
    assert line.startswith("last 60 s: 1 API calls; no errors; 1 token requests (0 refused)")


def test_the_summary_counts_the_pushes_sent(tmp_path: Path) -> None:
    """Every vehicle pushes its status and its fix when it comes online: the push
    dispatcher's attempts, recorded through the outbox, are in the next summary."""
    from tests.test_pushes import NOTHING, receiving, seed_with_pushes

    received: list[object] = []

    async def take(event: object) -> None:
        received.append(event)

    with receiving(take) as url:
        seed_with_pushes(tmp_path, url, fleet=[VEHICLE])
        with contextlib.contextmanager(running)(tmp_path, NOTHING) as gateway:
            eventually(lambda: len(received) >= 2, "the status and location pushes")
            traffic = gateway.app.state.traffic
            eventually(lambda: traffic.pushes["delivered"] >= 2, "the attempts recorded")
            line = gateway.run(_summary(traffic))
            assert re.search(r"pushes: [2-9]\d* delivered, 0 to retry, 0 given up$", line), line


async def _summary(traffic: Any) -> str:
    line = traffic.take_summary()
    assert isinstance(line, str)
    return line
