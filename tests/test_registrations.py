"""Registrations changed while serving (the CLI writes the database from another process)."""

from __future__ import annotations

import httpx

from segway_gateway.contract.codes import Code
from segway_gateway.gateway.crypto import hash_secret
from segway_gateway.gateway.runtime import REGISTRATION_POLL_SECONDS
from segway_gateway.gateway.store.platforms import Platform
from segway_gateway.gateway.store.vehicles import Vehicle
from tests.conftest import get_token
from tests.harness import RunningGateway, eventually

STATUS = "/api/v2/vehicle/query/current/status"
UNLOCK = "/api/v2/vehicle/control/unlock"
NEW_PLATFORM = "A50001"
NEW_SECRET = "new-platform-secret"


def code(client: httpx.Client, iot_code: str) -> int:
    return int(client.get(STATUS, params={"iotCode": iot_code}).json()["code"])


def test_a_vehicle_moved_to_another_platform_and_a_removed_platform_are_followed(
    clocked_server: RunningGateway, clocked_api: httpx.Client, vehicle: str
) -> None:
    server, api = clocked_server, clocked_api
    db = server.gateway.db
    server.run(db.platforms.add(Platform(NEW_PLATFORM, hash_secret(NEW_SECRET), None, 0)))
    token = get_token(server.base_url, NEW_PLATFORM, NEW_SECRET)
    headers = {"Authorization": f"bearer {token}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as new_owner:
        assert code(new_owner, vehicle) == Code.DEVICE_NOT_FOUND

        server.run(db.vehicles.remove(vehicle))
        server.run(db.vehicles.add(Vehicle(vehicle, NEW_PLATFORM, True, 0)))
        server.clock.advance(REGISTRATION_POLL_SECONDS)  # the gateway's next look at the store
        # a new registration starts with nothing reported: 15301 until the vehicle reports
        eventually(
            lambda: code(new_owner, vehicle) in (0, Code.DEVICE_OFFLINE),
            "the vehicle under its new platform",
        )
        assert code(api, vehicle) == Code.DEVICE_NOT_FOUND
        unlock = api.post(UNLOCK, json={"iotCode": vehicle}).json()
        assert unlock["code"] == Code.DEVICE_NOT_FOUND
        assert new_owner.post(UNLOCK, json={"iotCode": vehicle}).json()["code"] == 0

        server.run(db.platforms.remove(NEW_PLATFORM))
        server.clock.advance(REGISTRATION_POLL_SECONDS)
        eventually(
            lambda: code(new_owner, vehicle) == Code.TOKEN_INVALID,
            "the removed platform's token refused",
        )
    assert code(api, vehicle) == Code.DEVICE_NOT_FOUND
