"""The admin API and `segway-gateway sim …`: fault injection over HTTP, behind its token."""

from __future__ import annotations

import time

import httpx
import pytest

from segway_gateway.contract.codes import Code
from tests.conftest import ADMIN_TOKEN
from tests.harness import LOCK, STATUS, UNLOCK, RunningGateway, command_code, eventually
from tests.processes import invoke, ok, refused


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {ADMIN_TOKEN}"])
def test_the_admin_api_needs_its_own_token(
    server: RunningGateway, vehicle: str, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    response = httpx.post(
        f"{server.base_url}/admin/v1/vehicles/{vehicle}/faults",
        json={"kind": "no-reply"},
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 401
    assert not server.sim_vehicle(vehicle).faults


def test_a_fault_set_over_http_reaches_the_api_and_clears(
    admin: httpx.Client, api: httpx.Client, vehicle: str
) -> None:
    assert admin.post(f"/vehicles/{vehicle}/faults", json={"kind": "no-reply"}).status_code == 200
    assert command_code(api, UNLOCK, vehicle) == Code.DEVICE_TIMEOUT
    assert admin.delete(f"/vehicles/{vehicle}/faults").status_code == 200
    assert command_code(api, UNLOCK, vehicle) == 0


def test_send_fail_is_15303(admin: httpx.Client, api: httpx.Client, vehicle: str) -> None:
    admin.post(f"/vehicles/{vehicle}/faults", json={"kind": "send-fail"}).raise_for_status()
    assert command_code(api, UNLOCK, vehicle) == Code.SEND_FAILED
    admin.delete(f"/vehicles/{vehicle}/faults").raise_for_status()


def test_a_timed_fault_ends_by_itself(admin: httpx.Client, api: httpx.Client, vehicle: str) -> None:
    body = {"kind": "offline", "seconds": 1}
    assert admin.post(f"/vehicles/{vehicle}/faults", json=body).json()["seconds"] == 1
    assert command_code(api, UNLOCK, vehicle) == Code.DEVICE_OFFLINE
    eventually(
        lambda: api.get(STATUS, params={"iotCode": vehicle}).json()["data"]["online"] is True,
        "the vehicle back online",
        30,
    )
    assert command_code(api, UNLOCK, vehicle) == 0


def test_the_riding_fault_set_over_http_refuses_the_lock_with_15600_once_unlocked(
    admin: httpx.Client, api: httpx.Client, vehicle: str
) -> None:
    """15997 while the vehicle is locked (ridden without an API unlock), 15600 after one."""
    faults = f"/vehicles/{vehicle}/faults"
    assert admin.post(faults, json={"kind": "riding"}).status_code == 200
    assert command_code(api, LOCK, vehicle) == Code.LOCK_RIDING_UNABLE
    assert command_code(api, UNLOCK, vehicle) == 0
    assert command_code(api, LOCK, vehicle) == Code.LOCK_RIDING
    admin.delete(faults).raise_for_status()
    assert command_code(api, LOCK, vehicle) == 0


def test_restricted_set_over_http_is_15990(
    admin: httpx.Client, api: httpx.Client, vehicle: str
) -> None:
    admin.post(f"/vehicles/{vehicle}/faults", json={"kind": "restricted"}).raise_for_status()
    assert command_code(api, UNLOCK, vehicle) == Code.RESTRICTED
    admin.delete(f"/vehicles/{vehicle}/faults").raise_for_status()
    assert command_code(api, UNLOCK, vehicle) == 0


def test_a_slow_reply_within_the_timeout_succeeds_late(
    admin: httpx.Client, api: httpx.Client, vehicle: str
) -> None:
    body = {"kind": "slow-reply", "delay": 1.5}
    assert admin.post(f"/vehicles/{vehicle}/faults", json=body).json()["delay"] == 1.5
    started = time.monotonic()
    assert command_code(api, UNLOCK, vehicle) == 0
    assert time.monotonic() - started >= 1.5
    admin.delete(f"/vehicles/{vehicle}/faults").raise_for_status()


def test_a_slow_reply_beyond_the_timeout_is_15302_though_the_vehicle_acted(
    server: RunningGateway, admin: httpx.Client, api: httpx.Client, vehicle: str
) -> None:
    """The vehicle unlocks at once and replies too late: a 15302 is no proof of nothing done."""
    body = {"kind": "slow-reply", "delay": server.config.command_timeout + 2}
    admin.post(f"/vehicles/{vehicle}/faults", json=body).raise_for_status()
    assert command_code(api, UNLOCK, vehicle) == Code.DEVICE_TIMEOUT
    assert api.get(STATUS, params={"iotCode": vehicle}).json()["data"]["locked"] is False
    admin.delete(f"/vehicles/{vehicle}/faults").raise_for_status()


def test_rides_started_over_http_refuse_the_lock(
    admin: httpx.Client, api: httpx.Client, vehicle: str
) -> None:
    ride = f"/vehicles/{vehicle}/ride"
    assert admin.post(ride, json={"action": "start"}).status_code == 409
    assert command_code(api, UNLOCK, vehicle) == 0
    assert admin.post(ride, json={"action": "start"}).json()["riding"] is True
    assert command_code(api, LOCK, vehicle) == Code.LOCK_RIDING
    admin.post(ride, json={"action": "stop"}).raise_for_status()
    assert command_code(api, LOCK, vehicle) == 0


@pytest.mark.parametrize(
    ("iot_code", "body", "status"),
    [
        ("123456789012345", {"kind": "no-reply"}, 404),
        ("86147703871911x", {"kind": "no-reply"}, 400),
        (None, {"kind": "explode"}, 400),
        (None, {"kind": "offline", "seconds": -1}, 400),
        (None, {"kind": "slow-reply"}, 400),
        (None, {"kind": "slow-reply", "delay": 0}, 400),
        (None, {"kind": "no-reply", "delay": 2}, 400),
        (None, {}, 400),
    ],
)
def test_bad_admin_requests_are_refused_with_a_reason(
    admin: httpx.Client, vehicle: str, iot_code: str | None, body: dict[str, object], status: int
) -> None:
    response = admin.post(f"/vehicles/{iot_code or vehicle}/faults", json=body)
    assert response.status_code == status
    assert response.json()["error"]


@pytest.mark.timeout(900)
def test_the_sim_cli_drives_the_admin_api(
    server: RunningGateway, api: httpx.Client, vehicle: str
) -> None:
    target = ("--url", server.base_url, "--admin-token", ADMIN_TOKEN)
    assert ok(invoke("sim", "fault", vehicle, "unlock-fail", "--for", "60", *target)) == (
        f"{vehicle}: unlock-fail for 60 s\n"
    )
    assert command_code(api, UNLOCK, vehicle) == Code.UNLOCK_FAILED
    ok(invoke("sim", "clear", vehicle, *target))
    assert command_code(api, UNLOCK, vehicle) == 0
    assert ok(invoke("sim", "fault", vehicle, "slow-reply", "--delay", "0.5", *target)) == (
        f"{vehicle}: slow-reply, replies after 0.5 s\n"
    )
    assert server.call(lambda: server.sim_vehicle(vehicle).reply_delay) == 0.5
    refused(
        invoke("sim", "ride", vehicle, "start", "--url", server.base_url, "--admin-token", "no"),
        "HTTP 401: admin token required",
    )


def test_the_device_link_status_of_the_embedded_gateway(admin: httpx.Client) -> None:
    status = admin.get("/device-link").json()
    assert status["transport"] == "memory"
    assert status["connected"] is True
    assert status["vehiclesOnline"] > 300  # the shared fleet of 400, less the faulty ones
    assert status["messagesReceived"] >= status["vehiclesOnline"]
