"""Every result code this gateway can produce, reached through HTTP.

Codes that come from the vehicle, the link or a restriction are produced by
injecting the fault with the gateway's fault injector (`server.call`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from segway_gateway.contract.codes import Code
from segway_gateway.contract.device import DeviceLocation
from segway_gateway.gateway.errors import ApiError
from segway_gateway.gateway.store.tables import vehicles
from segway_gateway.sim.faults import Fault
from segway_gateway.sim.vehicle import Mode
from tests.conftest import INACTIVE_VEHICLE, OTHER_VEHICLE
from tests.harness import LOCATION, LOCK, STATUS, UNLOCK, RunningGateway, code_of, eventually

COVER = "/api/v2/vehicle/control/battery-cover"
INTERVAL = "/api/v2/vehicle/setting/interval"


@pytest.fixture
def fault(server: RunningGateway) -> Iterator[Callable[[str, Fault], None]]:
    """Inject a fault into a simulated vehicle; cleared after the test."""
    yield from server.faults()


def test_missing_token_is_15101(server: RunningGateway, vehicle: str) -> None:
    response = httpx.get(f"{server.base_url}{STATUS}", params={"iotCode": vehicle}, timeout=30)
    assert code_of(response) == Code.TOKEN_INVALID


def test_unknown_token_is_15101_and_changes_nothing(server: RunningGateway, vehicle: str) -> None:
    headers = {"Authorization": "bearer 83efe135-8203-404c-b489-b5fbf8050d3d"}
    url = f"{server.base_url}{UNLOCK}"
    response = httpx.post(url, json={"iotCode": vehicle}, headers=headers, timeout=30)
    assert code_of(response) == Code.TOKEN_INVALID
    assert server.sim_vehicle(vehicle).state.locked is True


def test_unknown_vehicle_is_15102(api: httpx.Client) -> None:
    assert code_of(api.get(STATUS, params={"iotCode": "123456789012345"})) == Code.DEVICE_NOT_FOUND


def test_another_platforms_vehicle_is_15102_like_an_unknown_one(
    server: RunningGateway, api: httpx.Client
) -> None:
    """The answer for a foreign vehicle is byte-for-byte the one for a missing vehicle."""
    foreign = api.post(UNLOCK, json={"iotCode": OTHER_VEHICLE}).json()
    missing = api.post(UNLOCK, json={"iotCode": "123456789012345"}).json()
    assert foreign["code"] == missing["code"] == Code.DEVICE_NOT_FOUND
    assert (foreign["msg"], foreign["data"]) == (missing["msg"], missing["data"])
    assert server.sim_vehicle(OTHER_VEHICLE).state.locked is True


def test_inactive_vehicle_is_15300(api: httpx.Client) -> None:
    assert code_of(api.get(STATUS, params={"iotCode": INACTIVE_VEHICLE})) == Code.DEVICE_INACTIVE
    assert code_of(api.post(UNLOCK, json={"iotCode": INACTIVE_VEHICLE})) == Code.DEVICE_INACTIVE


def test_an_inactive_registration_is_simulated_inactive_with_no_session(
    server: RunningGateway,
) -> None:
    assert server.sim_vehicle(INACTIVE_VEHICLE).mode is Mode.INACTIVE
    entry = server.gateway.fleet.entry(INACTIVE_VEHICLE)
    assert entry is not None and entry.online is False


def test_offline_vehicle_is_15301_for_commands_and_status_says_offline(
    server: RunningGateway, api: httpx.Client, vehicle: str, fault: Callable[[str, Fault], None]
) -> None:
    fault(vehicle, Fault.OFFLINE)
    eventually(
        lambda: api.get(STATUS, params={"iotCode": vehicle}).json()["data"]["online"] is False,
        "the vehicle's session ended",
    )
    assert code_of(api.post(UNLOCK, json={"iotCode": vehicle})) == Code.DEVICE_OFFLINE
    status = api.get(STATUS, params={"iotCode": vehicle}).json()
    assert status["code"] == 0
    assert status["data"]["online"] is False
    assert server.sim_vehicle(vehicle).state.locked is True


def test_silent_vehicle_is_15302(
    api: httpx.Client, vehicle: str, fault: Callable[[str, Fault], None]
) -> None:
    fault(vehicle, Fault.NO_REPLY)
    assert code_of(api.post(UNLOCK, json={"iotCode": vehicle})) == Code.DEVICE_TIMEOUT


def test_command_the_link_cannot_take_is_15303(
    server: RunningGateway, api: httpx.Client, vehicle: str
) -> None:
    server.call(lambda: server.gateway.link.refuse_sends_to.add(vehicle))
    try:
        assert code_of(api.post(UNLOCK, json={"iotCode": vehicle})) == Code.SEND_FAILED
    finally:
        server.call(lambda: server.gateway.link.refuse_sends_to.discard(vehicle))
    assert server.sim_vehicle(vehicle).state.locked is True


def test_real_time_location_without_fix_is_15400(
    api: httpx.Client, vehicle: str, fault: Callable[[str, Fault], None]
) -> None:
    fault(vehicle, Fault.NO_FIX)
    params = {"iotCode": vehicle, "realTimeLocation": "true"}
    assert code_of(api.get(LOCATION, params=params)) == Code.NO_LOCATION


def test_real_time_location_answered_with_an_invalid_fix_is_15400(
    server: RunningGateway, api: httpx.Client, vehicle: str
) -> None:
    sim_vehicle = server.sim_vehicle(vehicle)
    valid = sim_vehicle.location

    def invalid(now: float) -> DeviceLocation:
        return valid(now).model_copy(update={"location_status": "invalid"})

    server.call(lambda: setattr(sim_vehicle, "location", invalid))
    try:
        params = {"iotCode": vehicle, "realTimeLocation": "1"}
        assert code_of(api.get(LOCATION, params=params)) == Code.NO_LOCATION
    finally:
        server.call(lambda: setattr(sim_vehicle, "location", valid))


def test_location_of_a_vehicle_that_never_had_a_fix_is_15400(
    server: RunningGateway, api: httpx.Client, vehicle: str
) -> None:
    async def forget_location() -> None:
        """As if the vehicle had never reported a fix (a locked one's next is 900 s away)."""
        forgotten = update(vehicles).where(vehicles.c.iot_code == vehicle)
        async with server.gateway.db.engine.begin() as conn:
            await conn.execute(forgotten.values(location=None, location_at=None))
        server.gateway.db.vehicles.forget(vehicle)  # and the copy the store keeps on SQLite

    server.run(forget_location())
    assert code_of(api.get(LOCATION, params={"iotCode": vehicle})) == Code.NO_LOCATION


def test_upgrading_vehicle_is_15500(
    api: httpx.Client, vehicle: str, fault: Callable[[str, Fault], None]
) -> None:
    fault(vehicle, Fault.UPGRADING)
    assert code_of(api.post(UNLOCK, json={"iotCode": vehicle})) == Code.UPGRADING


def test_lock_while_riding_is_15600_and_the_vehicle_stays_unlocked(
    server: RunningGateway, api: httpx.Client, vehicle: str
) -> None:
    assert code_of(api.post(UNLOCK, json={"iotCode": vehicle})) == 0
    assert server.call(lambda: server.sim_vehicle(vehicle).start_ride())
    assert code_of(api.post(LOCK, json={"iotCode": vehicle})) == Code.LOCK_RIDING
    assert server.sim_vehicle(vehicle).state.locked is False
    # a vehicle sends the status a command changed before its reply, so the answer above
    # came after any status it sent
    status = api.get(STATUS, params={"iotCode": vehicle}).json()["data"]
    assert status["locked"] is False


def test_lock_of_a_locked_vehicle_ridden_anyway_is_15997(
    api: httpx.Client, vehicle: str, fault: Callable[[str, Fault], None]
) -> None:
    """The `riding` fault on a locked vehicle: ridden without an unlock through the API."""
    fault(vehicle, Fault.RIDING)
    assert code_of(api.post(LOCK, json={"iotCode": vehicle})) == Code.LOCK_RIDING_UNABLE


def test_restricted_vehicle_is_15990_for_commands_while_queries_still_answer(
    server: RunningGateway, api: httpx.Client, vehicle: str, fault: Callable[[str, Fault], None]
) -> None:
    fault(vehicle, Fault.RESTRICTED)
    assert code_of(api.post(UNLOCK, json={"iotCode": vehicle})) == Code.RESTRICTED
    assert code_of(api.post(LOCK, json={"iotCode": vehicle})) == Code.RESTRICTED
    assert code_of(api.get(STATUS, params={"iotCode": vehicle})) == 0
    assert server.sim_vehicle(vehicle).state.locked is True


def test_battery_cover_while_locked_is_15635(
    server: RunningGateway, api: httpx.Client, vehicle: str
) -> None:
    assert code_of(api.post(COVER, json={"iotCode": vehicle})) == Code.BATTERY_COVER_LOCKED
    assert server.sim_vehicle(vehicle).state.battery_cover_open is False


@pytest.mark.parametrize(
    ("kind", "path", "expected"),
    [
        (Fault.UNLOCK_FAIL, UNLOCK, Code.UNLOCK_FAILED),
        (Fault.UNLOCK_NETWORK, UNLOCK, Code.UNLOCK_NETWORK),
        (Fault.LOCK_FAIL, LOCK, Code.LOCK_FAILED),
        (Fault.LOCK_NETWORK, LOCK, Code.LOCK_NETWORK),
        (Fault.HANDLEBAR_FAIL, LOCK, Code.HANDLEBAR_LOCK_FAILED),
    ],
)
def test_vehicle_refusals_reach_the_caller_with_their_code(
    api: httpx.Client,
    vehicle: str,
    fault: Callable[[str, Fault], None],
    kind: Fault,
    path: str,
    expected: Code,
) -> None:
    if path == LOCK:
        assert code_of(api.post(UNLOCK, json={"iotCode": vehicle})) == 0
    fault(vehicle, kind)
    assert code_of(api.post(path, json={"iotCode": vehicle})) == expected


def test_battery_cover_execute_failure_is_15638(
    api: httpx.Client, vehicle: str, fault: Callable[[str, Fault], None]
) -> None:
    assert code_of(api.post(UNLOCK, json={"iotCode": vehicle})) == 0
    fault(vehicle, Fault.EXECUTE_FAIL)
    assert code_of(api.post(COVER, json={"iotCode": vehicle})) == Code.EXECUTE_FAILED


def test_unsupported_interval_setting_is_15707_and_not_stored(
    server: RunningGateway, api: httpx.Client, vehicle: str, fault: Callable[[str, Fault], None]
) -> None:
    fault(vehicle, Fault.UNSUPPORTED)
    body = {"iotCode": vehicle, "locationInterval": {"unlockStatus": 30}}
    assert code_of(api.post(INTERVAL, json=body)) == Code.NOT_SUPPORTED
    assert "interval" not in server.sim_vehicle(vehicle).state.settings
    assert "interval" not in server.stored(vehicle).settings


def test_unexpected_failure_is_15001_not_http_500(
    server: RunningGateway, api: httpx.Client, vehicle: str
) -> None:
    fleet = server.gateway.fleet
    original = fleet.vehicle

    async def broken(platform_code: str, iot_code: str) -> Any:
        raise RuntimeError("injected store failure")

    server.call(lambda: setattr(fleet, "vehicle", broken))
    try:
        assert code_of(api.get(STATUS, params={"iotCode": vehicle})) == Code.SERVER_ERROR
    finally:
        server.call(lambda: setattr(fleet, "vehicle", original))
    assert code_of(api.get(STATUS, params={"iotCode": vehicle})) == 0


def test_api_error_carries_the_document_message() -> None:
    assert str(ApiError(Code.DEVICE_TIMEOUT)) == "15302 device response timeout"
