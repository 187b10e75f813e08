"""The answer models hold each twice-spelled field once and emit it under both names."""

from __future__ import annotations

from typing import Any

import pytest

from segway_gateway.contract.models import LocationData, StatusData
from segway_gateway.contract.pushes import StatusPush, parse_push

STATUS: dict[str, Any] = {
    "iotCode": "861477038719116",
    "online": True,
    "locked": True,
    "lockVoltage": 342,
    "networkSignal": 22,
    "charging": True,
    "powerPercent": 10,
    "speedMode": 1,
    "speed": 20,
    "odometer": 9000,
    "totalRidingSecs": 110,
    "statusUtcTime": 1591067719,
}
LOCATION: dict[str, Any] = {
    "iotCode": "861477038719116",
    "latitude": 22.634228,
    "longitude": 114.125962,
    "satelliteNumber": 6,
    "hdop": 1.38,
    "altitude": 10.1,
}


def status_data(**fields: Any) -> StatusData:
    return StatusData.model_validate({**STATUS, **fields})


def test_one_range_value_is_dumped_as_remainingRange_and_remainderRange() -> None:
    data = status_data(remaining_range=3000).model_dump(by_alias=True, mode="json")
    assert (data["remainingRange"], data["remainderRange"]) == (3000, 3000)
    assert "remainder_range" not in StatusData.model_fields


def test_one_fix_time_is_dumped_as_gpsUtcTime_and_gpsUTCTime() -> None:
    fix = LocationData.model_validate({**LOCATION, "gps_utc_time": 1591067719})
    data = fix.model_dump(by_alias=True, mode="json")
    assert (data["gpsUtcTime"], data["gpsUTCTime"]) == (1591067719, 1591067719)
    assert "gps_utc_time_compat" not in LocationData.model_fields


@pytest.mark.parametrize(
    "spellings",
    [("remainingRange", "remainderRange"), ("remainingRange",), ("remainderRange",)],
    ids=["both", "remainingRange", "remainderRange"],
)
def test_a_status_answer_with_either_or_both_range_names_is_parsed(
    spellings: tuple[str, ...],
) -> None:
    status = status_data(**dict.fromkeys(spellings, 3000))
    assert (status.remaining_range, status.remainder_range) == (3000, 3000)


@pytest.mark.parametrize(
    "spellings",
    [("gpsUtcTime", "gpsUTCTime"), ("gpsUtcTime",), ("gpsUTCTime",)],
    ids=["both", "gpsUtcTime", "gpsUTCTime"],
)
def test_a_location_answer_with_either_or_both_time_names_is_parsed(
    spellings: tuple[str, ...],
) -> None:
    fix = LocationData.model_validate({**LOCATION, **dict.fromkeys(spellings, 1591067719)})
    assert (fix.gps_utc_time, fix.gps_utc_time_compat) == (1591067719, 1591067719)


def test_a_dumped_answer_parses_back_to_the_same_model() -> None:
    status = status_data(remaining_range=3000)
    assert StatusData.model_validate(status.model_dump(by_alias=True)) == status


def test_the_status_push_holds_the_range_once_and_sends_it_under_both_names() -> None:
    assert "remainder_range" not in StatusPush.model_fields
    form = {
        **{k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in STATUS.items()},
        "platformCode": "A20081",
        "remainderRange": "1230",
    }
    push = parse_push("status", form)
    assert push.to_form()["remainingRange"] == push.to_form()["remainderRange"] == "1230"
