"""The shortest path: a token, an unlock, and a status that shows it."""

from __future__ import annotations

import httpx

from tests.harness import RunningGateway


def test_unlock_then_status_shows_unlocked(api: httpx.Client, vehicle: str) -> None:
    unlock = api.post("/api/v2/vehicle/control/unlock", json={"iotCode": int(vehicle)}).json()
    assert (unlock["code"], unlock["msg"], unlock["data"]) == (0, "Success", None)
    status = api.get("/api/v2/vehicle/query/current/status", params={"iotCode": vehicle}).json()
    assert status["code"] == 0
    assert status["data"]["locked"] is False
    assert status["data"]["online"] is True


def test_healthz_answers(server: RunningGateway) -> None:
    assert httpx.get(f"{server.base_url}/healthz", timeout=30).json() == {"status": "ok"}
