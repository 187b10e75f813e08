"""Settings change what they say and nothing else: "no setting" and "keep original" keep."""

from __future__ import annotations

from typing import Any

import httpx

from tests.harness import RunningGateway, code_of

SOUND = "/api/v2/vehicle/setting/sound"
ABLE_SWITCH = "/api/v2/mopeds/setting/able-switch"


def settings(server: RunningGateway, iot_code: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The settings as the gateway stored them and as the simulated vehicle applied them."""
    vehicle = server.sim_vehicle(iot_code)
    return server.stored(iot_code).settings, server.call(lambda: dict(vehicle.state.settings))


def ok(response: httpx.Response) -> None:
    assert code_of(response) == 0, response.text


def test_work_mode_0_and_mask_2_keep_what_was_set(
    server: RunningGateway, api: httpx.Client, vehicle: str
) -> None:
    ok(api.post(SOUND, json={"iotCode": vehicle, "workMode": 2, "ebcqMask": {"toot": 1}}))
    ok(
        api.post(
            SOUND,
            json={
                "iotCode": vehicle,
                "workMode": 0,
                "volume": 3,
                "ebcqMask": {"toot": 2, "set": 0},
            },
        )
    )
    expected = {"workMode": 2, "volume": 3, "ebcqMask": {"toot": 1, "set": 0}}
    stored, applied = settings(server, vehicle)
    assert stored["sound"] == applied["sound"] == expected


def test_able_switch_0_means_no_setting(
    server: RunningGateway, api: httpx.Client, vehicle: str
) -> None:
    ok(api.post(ABLE_SWITCH, json={"iotCode": vehicle, "kickstandCheck": 2, "assistedMode": 1}))
    ok(api.post(ABLE_SWITCH, json={"iotCode": vehicle, "kickstandCheck": 0, "lowPowerSwitch": 2}))
    expected = {"kickstandCheck": 2, "assistedMode": 1, "lowPowerSwitch": 2}
    stored, applied = settings(server, vehicle)
    assert stored["ableSwitch"] == applied["ableSwitch"] == expected
