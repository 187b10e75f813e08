"""`serve`'s configuration: every flag as SEGWAY_GATEWAY_<FLAG>, JSON logs, the database
pool, and a start before the database is there (real processes)."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import httpx
import pytest

from segway_gateway.cli.serve import serve
from segway_gateway.gateway.store.db import Database
from tests.conftest import PLATFORM, api_client
from tests.harness import DOC_SECRET, Seed, eventually, free_port, seed_database
from tests.processes import BackgroundProcess, answers
from tests.test_readiness import Relay, ready, relay_to_postgres

VEHICLE = "861477038710101"
SEED = Seed(platforms={PLATFORM: DOC_SECRET}, vehicles={VEHICLE: (PLATFORM, True)})
READY_WITHIN = 30.0
"""Seconds from the database appearing to the gateway being ready (issue 14)."""


def test_every_serve_flag_has_its_environment_variable() -> None:
    options = [p for p in serve.params if isinstance(p, click.Option)]
    assert len(options) > 20
    for option in options:
        flag = max((o for o in option.opts if o.startswith("--")), key=len)
        expected = "SEGWAY_GATEWAY_" + flag[2:].upper().replace("-", "_")
        names = option.envvar if isinstance(option.envvar, list) else [option.envvar]
        assert expected in names, (flag, option.envvar)


class EnvServe(BackgroundProcess):
    """`segway-gateway serve` configured by environment variables alone."""

    def __init__(self, cwd: Path, **settings: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = {"SEGWAY_GATEWAY_PORT": str(self.port), "SEGWAY_GATEWAY_DRAIN_TIMEOUT": "0"}
        env.update(settings)
        super().__init__("serve", ["serve"], cwd, env=env)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


@pytest.fixture
def seeded(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    asyncio.run(seed_database(url, SEED))
    return url


def test_flags_from_the_environment_and_json_logs(seeded: str, tmp_path: Path) -> None:
    server = EnvServe(
        tmp_path,
        SEGWAY_GATEWAY_DB=seeded,
        SEGWAY_GATEWAY_TOKEN_TTL="600",
        SEGWAY_GATEWAY_LOG_FORMAT="json",
        SEGWAY_GATEWAY_ACCESS_LOG="true",
    )
    try:
        server.wait_until(lambda: answers(f"{server.base_url}/healthz") == 200, "serving", 60)
        form = {"client_id": PLATFORM, "client_secret": DOC_SECRET}
        token = httpx.post(
            f"{server.base_url}/oauth/token", data={**form, "grant_type": "client_credentials"}
        ).json()
        assert token["expires_in"] == 600, "SEGWAY_GATEWAY_TOKEN_TTL applied"
        with api_client(server.base_url) as api:
            api.get("/api/v2/vehicle/query/current/status", params={"iotCode": VEHICLE})
        eventually(lambda: '"opId"' in server.log(), "the call's line")
    finally:
        server.stop()
    lines = [json.loads(line) for line in server.log().splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert any(line["logger"].startswith("uvicorn") for line in lines), "uvicorn's too"
    calls = [line for line in lines if "opId" in line]
    assert len(calls) == 1, calls
    call: dict[str, Any] = calls[0]
    assert call["platform"] == PLATFORM
    assert call["endpoint"] == "/api/v2/vehicle/query/current/status"
    assert call["code"] == 0 and call["ms"] > 0 and call["level"] == "info"


@pytest.fixture
def postgres_behind_a_relay() -> Iterator[tuple[Relay, str]]:
    """A fresh PostgreSQL database and a relay to it that is not started yet."""
    with relay_to_postgres(started=False) as relayed:
        yield relayed


def test_a_gateway_started_before_its_database_is_ready_soon_after_it(
    postgres_behind_a_relay: tuple[Relay, str], tmp_path: Path
) -> None:
    relay, db_url = postgres_behind_a_relay
    server = EnvServe(tmp_path, SEGWAY_GATEWAY_DB=db_url)
    try:
        server.wait_until(lambda: "database not reachable yet" in server.log(), "waiting", 30)
        assert server.process.poll() is None, "it waits instead of exiting"
        relay.start()
        ready_url = f"{server.base_url}/readyz"
        eventually(lambda: answers(ready_url) == 200, "ready", READY_WITHIN, server.log)
        assert ready(server.base_url)
    finally:
        server.stop()


def test_the_pool_takes_its_size_from_the_configuration(postgres_url: str) -> None:
    async def sizes() -> tuple[int, int]:
        db = Database(postgres_url, pool_size=3, max_overflow=4)
        try:
            pool: Any = db.engine._engine.pool
            return pool.size(), pool._max_overflow
        finally:
            await db.close()

    assert asyncio.run(sizes()) == (3, 4)
