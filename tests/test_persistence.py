"""Restart persistence: a real `segway-gateway serve`, stopped with SIGTERM and started again.

The same story runs on SQLite and on PostgreSQL (a fresh database per run,
dropped at the end). Servers are real subprocesses reached over HTTP.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from segway_gateway.gateway.store.db import Database
from segway_gateway.gateway.store.tables import metadata
from tests.harness import Seed, seed_database
from tests.processes import require_service, serving

PLATFORM = "A20081"
SECRET = "S"
VEHICLE = "861477038719116"
OTHER_VEHICLE = "861477038719117"
BLUETOOTH_KEY = "Ab3dE6g8"
TOKEN_INVALID = 15101

STORY_TIMEOUT = 2400

STATUS = "/api/v2/vehicle/query/current/status"
LOCATION = "/api/v2/vehicle/query/current/location"
BLUETOOTH_KEY_QUERY = "/api/v2/vehicle/query/current/bluetooth-key"
UNLOCK = "/api/v2/vehicle/control/unlock"
BLUETOOTH_KEY_SETTING = "/api/v2/vehicle/setting/bluetooth-key"
INTERVAL_SETTING = "/api/v2/vehicle/setting/interval"


# The skip-or-fail rule itself ------------------------------------------------


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port bound but not listening: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def test_require_service_skips_an_unreachable_service_outside_ci(
    monkeypatch: pytest.MonkeyPatch, refused_port: int
) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(
        pytest.skip.Exception, match=f"Mosquitto is not reachable at 127.0.0.1:{refused_port}"
    ):
        require_service("Mosquitto", "127.0.0.1", refused_port)


def test_require_service_fails_an_unreachable_service_on_ci(
    monkeypatch: pytest.MonkeyPatch, refused_port: int
) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true requires it"):
        require_service("Mosquitto", "127.0.0.1", refused_port)


def test_require_service_returns_when_the_service_listens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        require_service("listener", "127.0.0.1", sock.getsockname()[1])


def request_token(http: httpx.Client) -> dict[str, Any]:
    response = http.post(
        "/oauth/token",
        data={"client_id": PLATFORM, "client_secret": SECRET, "grant_type": "client_credentials"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def envelope(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def success(response: httpx.Response) -> Any:
    """The `data` of an answer that must be code 0."""
    body = envelope(response)
    assert body["code"] == 0, body
    return body["data"]


async def stored_rows(db_url: str) -> tuple[dict[str, Any], str]:
    """VEHICLE's stored settings, and every stored row of every table as text."""
    async with Database(db_url) as db, db.engine.connect() as conn:
        vehicle = await db.vehicles.state(VEHICLE)
        assert vehicle is not None
        rows = [
            repr(tuple(row))
            for table in metadata.sorted_tables
            for row in await conn.execute(select(table))
        ]
        return vehicle.settings, "\n".join(rows)


# The story ---------------------------------------------------------------------


@pytest.mark.timeout(STORY_TIMEOUT)
def test_token_and_vehicle_state_survive_a_restart(db_url: str, tmp_path: Path) -> None:
    workdir = tmp_path / "run"
    workdir.mkdir()
    vehicles = {VEHICLE: (PLATFORM, True), OTHER_VEHICLE: (PLATFORM, True)}
    asyncio.run(seed_database(db_url, Seed({PLATFORM: SECRET}, vehicles)))
    iot = {"iotCode": VEHICLE}

    with (
        serving(db_url, workdir) as server,
        httpx.Client(base_url=server.base_url, timeout=60) as http,
    ):
        first = request_token(http)
        token = first["access_token"]
        http.headers["Authorization"] = f"bearer {token}"
        assert success(http.post(UNLOCK, json=iot)) is None
        assert success(http.post(BLUETOOTH_KEY_SETTING, json={**iot, "key": BLUETOOTH_KEY})) is None
        interval = {**iot, "locationInterval": {"unlockStatus": 20}}
        assert success(http.post(INTERVAL_SETTING, json=interval)) is None
        before = success(http.get(STATUS, params=iot))
        assert before["locked"] is False
        assert success(http.get(LOCATION, params=iot))["iotCode"] == VEHICLE
        assert success(http.get(BLUETOOTH_KEY_QUERY, params=iot))["key"] == BLUETOOTH_KEY
        server.stop()
    assert (workdir / "var" / "gateway.key").is_file(), "the token key belongs in the cwd"

    with (
        serving(db_url, workdir) as server,
        httpx.Client(base_url=server.base_url, timeout=60) as http,
    ):
        http.headers["Authorization"] = f"bearer {token}"
        status = envelope(http.get(STATUS, params=iot))
        assert status["code"] != TOKEN_INVALID, "the token did not survive the restart"
        assert status["code"] == 0, status
        again = request_token(http)
        assert again["access_token"] == token
        assert 300 < again["expires_in"] <= first["expires_in"]
        after = status["data"]
        assert after["locked"] is False
        assert after["odometer"] >= before["odometer"]
        assert success(http.get(BLUETOOTH_KEY_QUERY, params=iot))["key"] == BLUETOOTH_KEY
        assert success(http.get(LOCATION, params=iot))["iotCode"] == VEHICLE
        server.stop()

    settings, everything_stored = asyncio.run(stored_rows(db_url))
    assert settings.get("interval", {}).get("locationInterval", {}).get("unlockStatus") == 20
    assert token not in everything_stored, "tokens must be stored only as hashes"
