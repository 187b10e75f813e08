"""The push receiver kit: signatures, typed events, the ASGI receiver and `push listen`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import segway_gateway.webhooks as kit
from segway_gateway.webhooks import (
    AlertPush,
    InvalidPush,
    LocationPush,
    PushEvent,
    StatusPush,
    parse_push,
    signed,
    verify,
)
from segway_gateway.webhooks.receiver import Rejection, push_app
from tests.harness import DOC_SECRET
from tests.processes import PushListener, listening
from tests.test_contract import vectors

VECTORS = vectors()
PUSHES = {v["name"].split()[0]: v for v in VECTORS if v["name"].endswith(" push")}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_package_exports_a_sorted_all_of_names_that_exist() -> None:
    assert kit.__all__ == sorted(kit.__all__)
    assert all(hasattr(kit, name) for name in kit.__all__)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_verify_accepts_each_vector_and_refuses_it_once_a_value_changes(
    vector: dict[str, Any],
) -> None:
    params = {**vector["params"], "signature": vector["signature"]}
    assert verify(params, vector["client_secret"])
    assert signed(vector["params"], vector["client_secret"]) == params
    assert not verify(params, "another-secret")
    first = next(iter(vector["params"]))
    assert not verify({**params, first: params[first] + "0"}, vector["client_secret"])


def test_events_parse_every_documented_field_with_its_type() -> None:
    status = parse_push("status", PUSHES["status"]["params"])
    assert isinstance(status, StatusPush)
    assert (status.online, status.locked, status.charging) == (True, False, False)
    assert (status.lock_voltage, status.power_percent, status.remaining_range) == (412, 80, 3000)
    location = parse_push("location", PUSHES["location"]["params"])
    assert isinstance(location, LocationPush)
    assert (location.latitude, location.hdop, location.satellite_number) == (22.634228, 1.38, 6)
    alert = parse_push("alert", {**PUSHES["alert"]["params"], "eventId": "e-1", "newField": "x"})
    assert isinstance(alert, AlertPush)
    assert (alert.code, alert.alert_status, alert.event_id) == (12, 0, "e-1")


def test_status_range_is_read_from_remainderRange_when_remainingRange_is_absent() -> None:
    params = {k: v for k, v in PUSHES["status"]["params"].items() if k != "remainingRange"}
    event = parse_push("status", {**params, "remainderRange": "1230"})
    assert isinstance(event, StatusPush)
    assert event.remaining_range == 1230


def test_parse_push_names_every_missing_or_malformed_field() -> None:
    params = {**PUSHES["status"]["params"], "online": "1", "speed": "fast"}
    del params["odometer"]
    with pytest.raises(InvalidPush) as caught:
        parse_push("status", params)
    assert caught.value.problems == [
        "bad field online: expected true or false",
        "bad field speed: expected an integer",
        "missing field odometer",
    ]


# The ASGI receiver in process


def _post(
    callback: Any, path: str, rejections: list[Rejection] | None = None, **request: Any
) -> httpx.Response:
    """POST to the ASGI receiver (prefix /hooks) in process, over httpx's ASGI transport."""
    app = push_app(
        DOC_SECRET,
        callback,
        prefix="/hooks",
        on_rejected=None if rejections is None else rejections.append,
    )

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as client:
            return await client.post(f"/hooks{path}", **request)

    return asyncio.run(post())


def _sync_record(received: list[PushEvent]) -> Any:
    def record(event: PushEvent) -> None:
        received.append(event)

    return record


def _async_record(received: list[PushEvent]) -> Any:
    async def record(event: PushEvent) -> None:
        received.append(event)

    return record


@pytest.mark.parametrize("make_callback", [_sync_record, _async_record], ids=["sync", "async"])
def test_receiver_answers_200_with_the_documented_body_after_the_callback_ran(
    make_callback: Any,
) -> None:
    received: list[PushEvent] = []
    for kind, vector in PUSHES.items():
        answer = _post(
            make_callback(received),
            f"/v2/vehicle/{kind}",
            content=vector["form_body"],
            headers=FORM,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"code": 0, "message": "success"}
    assert [event.kind for event in received] == list(PUSHES)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_receiver_answers_500_without_a_traceback_when_the_callback_raises(
    asynchronous: bool,
) -> None:
    def fail(_event: PushEvent) -> None:
        raise RuntimeError("database down: secret detail")

    async def fail_async(_event: PushEvent) -> None:
        raise RuntimeError("database down: secret detail")

    rejections: list[Rejection] = []
    callback = fail_async if asynchronous else fail
    answer = _post(
        callback,
        "/v2/vehicle/alert",
        rejections,
        content=PUSHES["alert"]["form_body"],
        headers=FORM,
    )
    assert answer.status_code == 500
    assert answer.text == "push not processed: the callback failed"
    assert "Traceback" not in answer.text and "secret detail" not in answer.text
    assert [(r.kind, r.status) for r in rejections] == [("alert", 500)]


def test_receiver_answers_400_naming_a_missing_field_and_skips_the_callback() -> None:
    received: list[PushEvent] = []
    params = {k: v for k, v in PUSHES["location"]["params"].items() if k != "latitude"}
    answer = _post(received.append, "/v2/vehicle/location", data=signed(params, DOC_SECRET))
    assert (answer.status_code, answer.text) == (400, "bad fields: missing field latitude")
    assert received == []


def test_receiver_answers_401_to_a_bad_or_missing_signature_before_parsing() -> None:
    received: list[PushEvent] = []
    rejections: list[Rejection] = []
    bad = signed(PUSHES["fault"]["params"], "not-the-secret")
    answer = _post(received.append, "/v2/vehicle/fault", rejections, data=bad)
    assert (answer.status_code, answer.text) == (401, "bad signature")
    answer = _post(received.append, "/v2/vehicle/fault", rejections, data={"iotCode": "1"})
    assert (answer.status_code, answer.text) == (401, "missing signature")
    assert received == []
    assert [(r.iot_code, r.status) for r in rejections] == [("861477038719116", 401), ("1", 401)]


def test_receiver_refuses_a_json_body_and_a_repeated_field() -> None:
    answer = _post(print, "/v2/vehicle/alert", json=PUSHES["alert"]["params"])
    assert answer.status_code == 415
    body = PUSHES["alert"]["form_body"] + "&code=13"
    answer = _post(print, "/v2/vehicle/alert", content=body, headers=FORM)
    assert (answer.status_code, answer.text) == (400, "bad fields: repeated code")


# The real `segway-gateway push listen`


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[PushListener]:
    with listening(tmp_path, "--secret", DOC_SECRET) as started:
        yield started


def test_push_listen_prints_one_line_per_push_of_each_kind(listener: PushListener) -> None:
    for kind, vector in PUSHES.items():
        answer = httpx.post(
            listener.url(f"/v2/vehicle/{kind}"), content=vector["form_body"], headers=FORM
        )
        assert answer.status_code == 200, answer.text
    lines = listener.log().splitlines()
    assert lines[1:] == [
        "status 861477038719116 online=true locked=false charging=false powerPercent=80 "
        "speed=18 remainingRange=3000 statusUtcTime=1591067719",
        "location 861477038719116 locationStatus=valid latitude=22.634228 "
        "longitude=114.125962 gpsUtcTime=1591067719",
        "alert 861477038719116 code=12 alertStatus=0 statusUtcTime=1591067719",
        "fault 861477038719116 code=31 faultStatus=1 statusUtcTime=1591067719",
    ], listener.log()


def test_push_listen_answers_a_wrong_signature_401_and_prints_it_rejected(
    listener: PushListener,
) -> None:
    params = signed(PUSHES["status"]["params"], "not-the-secret")
    answer = httpx.post(listener.url("/v2/vehicle/status"), data=params)
    assert (answer.status_code, answer.text) == (401, "bad signature")
    assert listener.log().splitlines()[1:] == [
        "REJECTED: bad signature (status 861477038719116, 401)"
    ]


def test_push_listen_json_prints_every_field_with_the_secret_from_the_env(tmp_path: Path) -> None:
    secret = {"SEGWAY_PUSH_SECRET": DOC_SECRET}
    with listening(tmp_path, "--json", "--prefix", "/segway", env=secret) as process:
        for kind, vector in PUSHES.items():
            params = {**vector["params"], "eventId": f"{kind}-1"}
            answer = httpx.post(
                process.url(f"/segway/v2/vehicle/{kind}"), data=signed(params, DOC_SECRET)
            )
            assert answer.status_code == 200, answer.text
    printed = [json.loads(line) for line in process.log().splitlines()[1:]]
    assert [p["kind"] for p in printed] == list(PUSHES)
    for pushed, (kind, vector) in zip(printed, PUSHES.items(), strict=True):
        expected = {k: v for k, v in vector["params"].items() if k != "remainderRange"}
        assert {
            k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in pushed.items()
        } == {
            "kind": kind,
            "eventId": f"{kind}-1",
            **expected,
        }
