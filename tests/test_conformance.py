"""Conformance over real HTTP: every endpoint of the API document, sent its own example.

Each request is the document's example with the iotCode replaced by the test's
vehicle, keeping the document's choice of JSON number or string; where the
document's example body is `{}`, the body carries iotCode and every documented
field with an in-range value. Each answer is checked for the envelope, the
`msg` NOTES.md fixes, every documented field with its JSON type, and for
being true of the (simulated) vehicle.
"""

from __future__ import annotations

import copy
import re
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import PLATFORM
from tests.harness import DOC_SECRET, ENVELOPE_KEYS, RunningGateway, eventually

TIMEOUT = 30.0
"""Seconds an HTTP call may take (a fresh server on a loaded machine is slow at first)."""
TOKEN = "/oauth/token"
STATUS = "/api/v2/vehicle/query/current/status"
STATUS_MEBIKE = "/api/v2/mebike/query/current/status"
LOCATION = "/api/v2/vehicle/query/current/location"
BATTERY_MOPEDS = "/api/v2/mopeds/query/current/battery-info"
BATTERY_VEHICLE = "/api/v2/vehicle/query/current/battery-info"
BLUETOOTH_KEY = "/api/v2/vehicle/query/current/bluetooth-key"
UNLOCK = "/api/v2/vehicle/control/unlock"
LOCK = "/api/v2/vehicle/control/lock"
BATTERY_COVER = "/api/v2/vehicle/control/battery-cover"
SOUND = "/api/v2/vehicle/control/sound"
SWITCH_SETTING = "/api/v2/mopeds/setting/switch"
ABLE_SWITCH_SETTING = "/api/v2/mopeds/setting/able-switch"
AMBIENT_SETTING = "/api/v2/vehicle/setting/ambient"
SOUND_SETTING = "/api/v2/vehicle/setting/sound"
BLUETOOTH_KEY_SETTING = "/api/v2/vehicle/setting/bluetooth-key"
INTERVAL_SETTING = "/api/v2/vehicle/setting/interval"

SUCCESS = "Success"
"""`msg` of status, every control and every setting (NOTES.md)."""
LOWER_SUCCESS = "success"
"""`msg` of location, battery-info and bluetooth-key (NOTES.md)."""
T_SLACK_MS = 1000
BLUETOOTH_KEY_PATTERN = re.compile(r"[A-Za-z0-9]{8}")


# Helpers -------------------------------------------------------------------


def is_int(value: object) -> bool:
    """A JSON integer (a bool is not a count)."""
    return type(value) is int


def is_float(value: object) -> bool:
    """A JSON number written with a fraction or exponent (how coordinates must be sent)."""
    return type(value) is float


def is_number(value: object) -> bool:
    return type(value) in (int, float)


def now_ms() -> int:
    """The wall clock: the envelope's `t` is read from the gateway's clock, and the shared
    gateway's clock is never moved (tests that move time use a gateway of their own)."""
    return time.time_ns() // 1_000_000


def success(
    api: httpx.Client, method: str, path: str, msg: str, *, res_id: bool = False, **kwargs: Any
) -> dict[str, Any]:
    """Send one request, check its success envelope and return the whole body."""
    before = now_ms()
    response = api.request(method, path, **kwargs)
    after = now_ms()
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == ENVELOPE_KEYS | ({"resId"} if res_id else set()), body
    assert is_int(body["code"]) and body["code"] == 0, body
    assert body["msg"] == msg, body
    assert is_int(body["t"]), body
    assert before - T_SLACK_MS <= body["t"] <= after + T_SLACK_MS, (before, body["t"], after)
    assert isinstance(body["opId"], str)
    assert str(uuid.UUID(body["opId"])) == body["opId"], body["opId"]
    if res_id:
        assert body["resId"] == body["opId"], body
    return body


def sim_snapshot(server: RunningGateway, iot_code: str) -> dict[str, Any]:
    """The simulated vehicle's state, copied on the server's loop."""
    return server.call(lambda: copy.deepcopy(server.sim_vehicle(iot_code).state.to_dict()))


def stored_settings(server: RunningGateway, iot_code: str) -> dict[str, Any]:
    """The settings the gateway stored for a vehicle."""
    return server.stored(iot_code).settings


def status_of(api: httpx.Client, iot_code: str) -> dict[str, Any]:
    body = success(api, "GET", STATUS, SUCCESS, params={"iotCode": iot_code})
    data: dict[str, Any] = body["data"]
    return data


# Auth ----------------------------------------------------------------------


def test_token_form_request_answers_a_bearer_token_that_authorises_calls(
    server: RunningGateway, vehicle: str
) -> None:
    response = httpx.post(
        f"{server.base_url}{TOKEN}",
        timeout=TIMEOUT,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        data={
            "client_id": PLATFORM,
            "client_secret": DOC_SECRET,
            "grant_type": "client_credentials",
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}, body
    assert isinstance(body["access_token"], str) and body["access_token"]
    assert body["token_type"] == "bearer"
    assert is_int(body["expires_in"]) and 0 < body["expires_in"] <= 86400, body
    assert isinstance(body["scope"], str)
    headers = {"Authorization": f"bearer {body['access_token']}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=TIMEOUT) as client:
        assert status_of(client, vehicle)["iotCode"] == vehicle


# Queries -------------------------------------------------------------------


@pytest.mark.parametrize("path", [STATUS, STATUS_MEBIKE], ids=["vehicle", "mebike"])
def test_status_answers_every_documented_field_truthfully(
    server: RunningGateway, api: httpx.Client, vehicle: str, path: str
) -> None:
    data = success(api, "GET", path, SUCCESS, params={"iotCode": vehicle})["data"]
    state = sim_snapshot(server, vehicle)
    now = server.clock()

    assert set(data) >= {
        "iotCode",
        "online",
        "locked",
        "lockVoltage",
        "networkSignal",
        "charging",
        "powerPercent",
        "speedMode",
        "speed",
        "odometer",
        "remainingRange",
        "remainderRange",
        "totalRidingSecs",
        "statusUtcTime",
    }, data
    assert data["iotCode"] == vehicle
    for name in ("online", "locked", "charging"):
        assert type(data[name]) is bool, (name, data[name])
    for name in (
        "lockVoltage",
        "networkSignal",
        "powerPercent",
        "speedMode",
        "speed",
        "odometer",
        "remainingRange",
        "remainderRange",
        "totalRidingSecs",
        "statusUtcTime",
    ):
        assert is_int(data[name]), (name, data[name])
    assert data["remainingRange"] == data["remainderRange"]

    assert data["online"] is True
    assert data["locked"] is True
    assert data["charging"] is state["charging"]
    assert 2 <= data["networkSignal"] <= 32
    assert data["powerPercent"] == round(state["battery_percent"])
    assert data["speedMode"] == state["speed_mode"]
    assert data["speed"] == 0
    assert data["odometer"] == int(state["odometer_m"])
    assert data["remainingRange"] > 0
    assert data["totalRidingSecs"] == int(state["riding_secs"])
    assert now - 3600 < data["statusUtcTime"] <= now + 1, "statusUtcTime is epoch seconds"


@pytest.mark.parametrize("real_time", [None, "true"], ids=["stored", "realTimeLocation"])
def test_location_answers_every_documented_field_truthfully(
    server: RunningGateway, api: httpx.Client, vehicle: str, real_time: str | None
) -> None:
    params = {"iotCode": vehicle}
    if real_time is not None:
        params["realTimeLocation"] = real_time
    before = server.clock()
    data = success(api, "GET", LOCATION, LOWER_SUCCESS, params=params)["data"]
    after = server.clock()
    state = sim_snapshot(server, vehicle)

    assert set(data) >= {
        "iotCode",
        "latitude",
        "longitude",
        "satelliteNumber",
        "hdop",
        "altitude",
        "gpsUtcTime",
        "gpsUTCTime",
    }, data
    assert data["iotCode"] == vehicle
    assert is_float(data["latitude"]) and is_float(data["longitude"]), data
    assert is_int(data["satelliteNumber"]), data
    assert is_number(data["hdop"]) and is_number(data["altitude"]), data
    assert is_int(data["gpsUtcTime"]) and is_int(data["gpsUTCTime"]), data
    assert data["gpsUtcTime"] == data["gpsUTCTime"]

    # A locked vehicle does not move: the fix is where the vehicle is.
    assert (data["latitude"], data["longitude"]) == (state["latitude"], state["longitude"])
    assert data["altitude"] == state["altitude"]
    assert data["satelliteNumber"] >= 0 and data["hdop"] > 0
    if real_time is None:
        assert before - 3600 < data["gpsUtcTime"] <= after + 1, "gpsUtcTime is epoch seconds"
    else:
        assert int(before) - 1 <= data["gpsUtcTime"] <= after + 1, "a real-time fix is fresh"


@pytest.mark.parametrize("path", [BATTERY_MOPEDS, BATTERY_VEHICLE], ids=["mopeds", "vehicle"])
def test_battery_info_answers_every_documented_field_truthfully_with_res_id(
    server: RunningGateway, api: httpx.Client, vehicle: str, path: str
) -> None:
    body = success(api, "GET", path, LOWER_SUCCESS, res_id=True, params={"iotCode": vehicle})
    data = body["data"]
    state = sim_snapshot(server, vehicle)

    assert set(data) >= {
        "iotCode",
        "charging",
        "vehiclePercent",
        "batteryCount",
        "drivingVoltage",
        "currentPower",
        "iotPercent",
        "iotVoltage",
        "batteryData",
    }, data
    assert data["iotCode"] == vehicle
    assert type(data["charging"]) is bool
    for name in (
        "vehiclePercent",
        "batteryCount",
        "drivingVoltage",
        "currentPower",
        "iotPercent",
        "iotVoltage",
    ):
        assert is_int(data[name]), (name, data[name])
    assert isinstance(data["batteryData"], list) and data["batteryData"], data
    assert 1 <= data["batteryCount"] <= 3
    assert data["batteryCount"] == len(data["batteryData"])
    for pack in data["batteryData"]:
        assert set(pack) >= {
            "batteryPort",
            "batteryPercent",
            "batteryVoltage",
            "cycleTimes",
            "temperatrue",
        }, pack
        for name in (
            "batteryPort",
            "batteryPercent",
            "batteryVoltage",
            "cycleTimes",
            "temperatrue",
        ):
            assert is_int(pack[name]), (name, pack[name])
        assert pack["batteryPort"] in (1, 2, 3)
    assert sorted(p["batteryPort"] for p in data["batteryData"]) == list(
        range(1, data["batteryCount"] + 1)
    )

    assert data["charging"] is state["charging"]
    assert data["vehiclePercent"] == round(state["battery_percent"])
    assert data["iotPercent"] == round(state["iot_percent"])
    assert data["batteryCount"] == len(state["packs"])
    for pack, kept in zip(data["batteryData"], state["packs"], strict=True):
        assert pack["cycleTimes"] == kept["cycles"]
        assert pack["temperatrue"] == round(kept["temperature"])


def test_bluetooth_key_query_answers_the_vehicles_key(
    server: RunningGateway, api: httpx.Client, vehicle: str
) -> None:
    params = {"iotCode": vehicle}
    data = success(api, "GET", BLUETOOTH_KEY, LOWER_SUCCESS, params=params)["data"]
    assert set(data) >= {"iotCode", "key"}, data
    assert data["iotCode"] == vehicle
    assert isinstance(data["key"], str) and BLUETOOTH_KEY_PATTERN.fullmatch(data["key"])
    assert data["key"] == sim_snapshot(server, vehicle)["bluetooth_key"]


# Controls ------------------------------------------------------------------


def test_unlock_unlocks_and_status_then_says_unlocked(
    server: RunningGateway, api: httpx.Client, vehicle: str
) -> None:
    assert status_of(api, vehicle)["locked"] is True
    body = success(api, "POST", UNLOCK, SUCCESS, json={"iotCode": int(vehicle)})
    assert body["data"] is None
    assert sim_snapshot(server, vehicle)["locked"] is False
    eventually(lambda: status_of(api, vehicle)["locked"] is False, "the status saying unlocked")


def test_lock_locks_an_unlocked_vehicle_and_status_then_says_locked(
    server: RunningGateway, api: httpx.Client, vehicle: str
) -> None:
    success(api, "POST", UNLOCK, SUCCESS, json={"iotCode": int(vehicle)})
    eventually(lambda: status_of(api, vehicle)["locked"] is False, "the status saying unlocked")
    body = success(api, "POST", LOCK, SUCCESS, json={"iotCode": int(vehicle)})
    assert body["data"] is None
    assert sim_snapshot(server, vehicle)["locked"] is True
    eventually(lambda: status_of(api, vehicle)["locked"] is True, "the status saying locked")


def test_battery_cover_opens_while_unlocked(
    server: RunningGateway, api: httpx.Client, vehicle: str
) -> None:
    success(api, "POST", UNLOCK, SUCCESS, json={"iotCode": int(vehicle)})
    assert sim_snapshot(server, vehicle)["battery_cover_open"] is False
    body = success(api, "POST", BATTERY_COVER, SUCCESS, json={"iotCode": vehicle})
    assert body["data"] is None
    assert sim_snapshot(server, vehicle)["battery_cover_open"] is True


def test_sound_with_the_documents_control_type_sounds_the_vehicle(
    server: RunningGateway, api: httpx.Client, vehicle: str
) -> None:
    assert sim_snapshot(server, vehicle)["last_sound"] is None
    body = success(api, "POST", SOUND, SUCCESS, json={"iotCode": int(vehicle), "controlType": 3})
    assert body["data"] is None
    assert sim_snapshot(server, vehicle)["last_sound"] == 3


# Settings ------------------------------------------------------------------

SETTINGS: list[tuple[str, str, dict[str, Any]]] = [
    # (path, settings group, body without iotCode); iotCode is sent as a string for all of them
    (SWITCH_SETTING, "switch", {"alertSensitivity": 3, "lowPowerValue": 20}),
    (
        ABLE_SWITCH_SETTING,
        "ableSwitch",
        {"assistedMode": 2, "kickstandCheck": 1, "lowPowerSwitch": 2},
    ),
    (
        AMBIENT_SETTING,
        "ambient",
        {"bright": 1, "readyMode": {"mode": 2, "color": 1}, "parkingMode": {"mode": 2, "color": 3}},
    ),
    (SOUND_SETTING, "sound", {"workMode": 2, "volume": 1}),
    (
        INTERVAL_SETTING,
        "interval",
        {
            "locationInterval": {"unlockStatus": 15, "lockStatus": 1800},
            "statusInterval": {"ridingStatus": 20, "nonRiding": 120, "lockStatus": 3600},
        },
    ),
]


@pytest.mark.parametrize(
    ("path", "group", "fields"), SETTINGS, ids=[group for _, group, _ in SETTINGS]
)
def test_setting_succeeds_and_is_stored_on_vehicle_and_gateway(
    server: RunningGateway,
    api: httpx.Client,
    vehicle: str,
    path: str,
    group: str,
    fields: dict[str, Any],
) -> None:
    assert group not in sim_snapshot(server, vehicle)["settings"]
    body = success(api, "POST", path, SUCCESS, json={"iotCode": vehicle, **fields})
    assert body["data"] is None
    assert sim_snapshot(server, vehicle)["settings"][group] == fields
    assert stored_settings(server, vehicle)[group] == fields


def test_bluetooth_key_setting_is_answered_by_the_key_query(
    server: RunningGateway, api: httpx.Client, vehicle: str
) -> None:
    params = {"iotCode": vehicle}
    before = success(api, "GET", BLUETOOTH_KEY, LOWER_SUCCESS, params=params)["data"]["key"]
    assert before != "4BKNwi77", "the vehicle must not already have the document's key"
    body = success(
        api,
        "POST",
        BLUETOOTH_KEY_SETTING,
        SUCCESS,
        json={"iotCode": int(vehicle), "key": "4BKNwi77"},
    )
    assert body["data"] is None
    after = success(api, "GET", BLUETOOTH_KEY, LOWER_SUCCESS, params=params)["data"]
    assert after == {"iotCode": vehicle, "key": "4BKNwi77"}


# Envelope across endpoints ---------------------------------------------------


def test_every_call_gets_a_fresh_op_id(api: httpx.Client, vehicle: str) -> None:
    """One vehicle walked through every endpoint, twice per query: no opId repeats."""
    query = {"iotCode": vehicle}
    calls: list[tuple[str, str, str, dict[str, Any]]] = [
        ("GET", STATUS, SUCCESS, {"params": query}),
        ("GET", STATUS, SUCCESS, {"params": query}),
        ("GET", STATUS_MEBIKE, SUCCESS, {"params": query}),
        ("GET", LOCATION, LOWER_SUCCESS, {"params": query}),
        ("GET", LOCATION, LOWER_SUCCESS, {"params": {**query, "realTimeLocation": "true"}}),
        ("GET", BLUETOOTH_KEY, LOWER_SUCCESS, {"params": query}),
        ("GET", BLUETOOTH_KEY, LOWER_SUCCESS, {"params": query}),
        ("POST", UNLOCK, SUCCESS, {"json": {"iotCode": int(vehicle)}}),
        ("POST", BATTERY_COVER, SUCCESS, {"json": {"iotCode": vehicle}}),
        ("POST", SOUND, SUCCESS, {"json": {"iotCode": int(vehicle), "controlType": 3}}),
        *(("POST", path, SUCCESS, {"json": {"iotCode": vehicle, **f}}) for path, _, f in SETTINGS),
        (
            "POST",
            BLUETOOTH_KEY_SETTING,
            SUCCESS,
            {"json": {"iotCode": int(vehicle), "key": "4BKNwi77"}},
        ),
        ("POST", LOCK, SUCCESS, {"json": {"iotCode": int(vehicle)}}),
    ]
    op_ids = [
        success(api, method, path, msg, **kwargs)["opId"] for method, path, msg, kwargs in calls
    ]
    for path in (BATTERY_MOPEDS, BATTERY_MOPEDS, BATTERY_VEHICLE):
        body = success(api, "GET", path, LOWER_SUCCESS, res_id=True, params=query)
        op_ids.append(body["opId"])
    assert len(op_ids) == len(calls) + 3
    assert len(set(op_ids)) == len(op_ids), op_ids
