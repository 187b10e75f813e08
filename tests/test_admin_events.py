"""Alerts and fault codes raised on demand (admin API, `sim alert|fault-code`) reach the
gateway as events: each appears (status 0) and disappears (status 1) as raised and cleared."""

from __future__ import annotations

import httpx
import pytest

from segway_gateway.contract.alerts import clears
from segway_gateway.contract.device import DeviceEvent
from tests.conftest import ADMIN_TOKEN
from tests.harness import RunningGateway, eventually
from tests.processes import invoke, ok, refused

EVENT_WAIT_SECONDS = 30.0


Taken = list[tuple[str, DeviceEvent]]


@pytest.fixture(scope="module")
def taken(server: RunningGateway) -> Taken:
    """Every event the gateway takes from now on."""
    return server.record_events()


def active(taken: Taken, iot_code: str) -> tuple[set[int], set[int]]:
    """The (alerts, fault codes) the vehicle's events so far leave active: an alert's
    disappearance ends the alerts it clears (2 ends 4 too), a fault's ends itself."""
    alerts: set[int] = set()
    faults: set[int] = set()
    for code, event in list(taken):
        if code != iot_code:
            continue
        if event.status == 0:
            (alerts if event.kind == "alert" else faults).add(event.code)
        elif event.kind == "alert":
            alerts -= clears(event.code)
        else:
            faults.discard(event.code)
    return alerts, faults


def wait_for(taken: Taken, iot_code: str, expected: tuple[set[int], set[int]]) -> None:
    """Wait until the vehicle's events (published on its next tick) reached the gateway."""
    eventually(
        lambda: active(taken, iot_code) == expected,
        f"the events leaving {expected} active",
        EVENT_WAIT_SECONDS,
        lambda: f"they leave {active(taken, iot_code)}",
    )


def test_an_alert_raised_over_http_reaches_the_gateway_and_clears(
    taken: Taken, admin: httpx.Client, vehicle: str
) -> None:
    answer = admin.post(f"/vehicles/{vehicle}/alerts", json={"code": 3})
    assert answer.json() == {"iotCode": vehicle, "alert": 3, "active": True}
    wait_for(taken, vehicle, ({3}, set()))
    assert admin.delete(f"/vehicles/{vehicle}/alerts/3").json()["active"] is False
    wait_for(taken, vehicle, (set(), set()))


def test_a_fall_while_unlocked_reaches_the_gateway_as_4_and_its_disappearance_as_2_clears_it(
    taken: Taken, admin: httpx.Client, vehicle: str
) -> None:
    admin.post(f"/vehicles/{vehicle}/alerts", json={"code": 4}).raise_for_status()
    wait_for(taken, vehicle, ({4}, set()))
    admin.delete(f"/vehicles/{vehicle}/alerts/4").raise_for_status()
    wait_for(taken, vehicle, (set(), set()))


def test_a_fault_code_raised_over_http_reaches_the_gateway_and_clears(
    taken: Taken, admin: httpx.Client, vehicle: str
) -> None:
    assert admin.post(f"/vehicles/{vehicle}/fault-codes", json={"code": 18}).json() == {
        "iotCode": vehicle,
        "faultCode": 18,
        "active": True,
    }
    wait_for(taken, vehicle, (set(), {18}))
    admin.delete(f"/vehicles/{vehicle}/fault-codes/18").raise_for_status()
    wait_for(taken, vehicle, (set(), set()))


@pytest.mark.parametrize(
    ("method", "path", "listed"),
    [
        ("POST", "alerts", "12 low power"),
        ("DELETE", "alerts/5", "12 low power"),
        ("POST", "fault-codes", "18 motor hall sensor (motor)"),
        ("DELETE", "fault-codes/99", "18 motor hall sensor (motor)"),
    ],
)
def test_unknown_codes_are_refused_with_the_valid_ones(
    taken: Taken, admin: httpx.Client, vehicle: str, method: str, path: str, listed: str
) -> None:
    response = admin.request(method, f"/vehicles/{vehicle}/{path}", json={"code": 99})
    assert response.status_code == 400
    assert "unknown" in response.json()["error"]
    assert listed in response.json()["error"]
    assert active(taken, vehicle) == (set(), set())


@pytest.mark.timeout(900)
def test_the_sim_cli_raises_and_clears_alerts_and_fault_codes(
    server: RunningGateway, taken: Taken, vehicle: str
) -> None:
    target = ("--url", server.base_url, "--admin-token", ADMIN_TOKEN)
    assert ok(invoke("sim", "alert", vehicle, "3", *target)) == f"{vehicle}: alert 3 raised\n"
    assert ok(invoke("sim", "fault-code", vehicle, "39", *target)) == (
        f"{vehicle}: fault code 39 raised\n"
    )
    wait_for(taken, vehicle, ({3}, {39}))
    ok(invoke("sim", "fault-code", vehicle, "39", "--clear", *target))
    wait_for(taken, vehicle, ({3}, set()))
    refused(invoke("sim", "alert", vehicle, "7", *target), "unknown alert code 7")
