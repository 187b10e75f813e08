"""Answers outside the document under /api and /oauth, and parameters given twice.

Unknown paths (404), wrong methods (405) and failures that escape a handler (500) are
the envelope, never FastAPI's `{"detail": …}` or Starlette's text/plain; other paths
keep their own answers. A query or body parameter given twice is 15004 in either order.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter

from segway_gateway.clock import JumpClock
from segway_gateway.contract.codes import Code
from segway_gateway.gateway.app import create_app
from segway_gateway.gateway.config import GatewayConfig
from segway_gateway.gateway.routes.vendor.call import Call, api_endpoint
from tests.conftest import OTHER_VEHICLE, PLATFORM, api_client
from tests.harness import (
    DOC_SECRET,
    ENVELOPE_KEYS,
    LOCATION,
    STATUS,
    UNLOCK,
    RunningGateway,
    Seed,
    code_of,
    eventually,
    seed_database,
    serving_in_thread,
)

INTERVAL = "/api/v2/vehicle/setting/interval"


def refused_envelope(response: httpx.Response, http_status: int, code: Code) -> dict[str, Any]:
    """The envelope of an answer outside the document: its HTTP status, JSON, `code`."""
    assert response.status_code == http_status, response.text
    assert response.headers["content-type"] == "application/json", response.headers
    body: dict[str, Any] = response.json()
    assert set(body) >= ENVELOPE_KEYS, body
    assert body["code"] == code and body["data"] is None, body
    assert isinstance(body["msg"], str) and isinstance(body["t"], int), body
    assert body["msg"].startswith(code.message), body
    return body


# Unknown paths and wrong methods --------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v2/vehicle/query/current/nothing"),
        ("POST", "/api/v3/vehicle/control/unlock"),
        ("GET", "/api"),
        ("DELETE", "/oauth/authorize"),
        ("POST", "/api/v2/vehicle/control/unlock/"),
        ("GET", "/api/v2/vehicle/query/current/status/"),
    ],
)
def test_an_unknown_path_is_404_with_the_envelope_naming_method_and_path(
    server: RunningGateway, method: str, path: str
) -> None:
    response = httpx.request(method, f"{server.base_url}{path}", timeout=30)
    body = refused_envelope(response, 404, Code.PARAMETER_ERROR)
    assert f"{method} {path}" in body["msg"], body
    assert len(body["opId"]) == 36


def test_an_unknown_path_with_a_token_is_404_too(api: httpx.Client) -> None:
    response = api.post("/api/v2/vehicle/control/fly", json={"iotCode": "1"})
    assert (
        "POST /api/v2/vehicle/control/fly"
        in refused_envelope(response, 404, Code.PARAMETER_ERROR)["msg"]
    )


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", UNLOCK, "POST"),
        ("DELETE", UNLOCK, "POST"),
        ("POST", STATUS, "GET"),
        ("PUT", LOCATION, "GET"),
        ("GET", "/oauth/token", "POST"),
    ],
)
def test_a_wrong_method_is_405_with_the_envelope_and_allow(
    server: RunningGateway, method: str, path: str, allowed: str
) -> None:
    response = httpx.request(method, f"{server.base_url}{path}", timeout=30)
    body = refused_envelope(response, 405, Code.PARAMETER_ERROR)
    assert method in body["msg"] and path in body["msg"], body
    assert allowed in response.headers["allow"], response.headers


def test_a_path_with_control_characters_is_escaped_in_msg(server: RunningGateway) -> None:
    response = httpx.get(f"{server.base_url}/api/x%0Ay%00z", timeout=30)
    body = refused_envelope(response, 404, Code.PARAMETER_ERROR)
    assert "\n" not in body["msg"] and "\\n" in body["msg"], body


def test_paths_outside_the_api_keep_their_own_answers(server: RunningGateway) -> None:
    base = server.base_url
    assert httpx.get(f"{base}/nowhere", timeout=30).json() == {"detail": "Not Found"}
    assert httpx.get(f"{base}/apixyz", timeout=30).json() == {"detail": "Not Found"}
    assert httpx.post(f"{base}/healthz", timeout=30).status_code == 405
    assert httpx.post(f"{base}/healthz", timeout=30).json() == {"detail": "Method Not Allowed"}
    assert httpx.get(f"{base}/healthz", timeout=30).status_code == 200
    assert httpx.get(f"{base}/docs", timeout=30).status_code == 200
    admin = httpx.get(f"{base}/admin/v1/nothing", timeout=30)
    assert admin.status_code == 404 and "code" not in admin.json()


# Failures that escape ---------------------------------------------------------------


class Unserialisable:
    """`data` orjson cannot write: the envelope around it fails after the handler."""


def failing_routes() -> APIRouter:
    """Routes under /api whose failure escapes the call's own envelope."""
    router = APIRouter()

    async def raises() -> None:
        raise RuntimeError("escaped from a route")

    async def unwritable(call: Call) -> Any:
        return Unserialisable()

    router.add_api_route("/api/v2/test/raises", raises, methods=["GET"])
    router.add_api_route("/api/v2/test/unwritable", api_endpoint(unwritable), methods=["GET"])
    router.add_api_route("/outside/raises", raises, methods=["GET"])
    return router


@pytest.fixture(scope="module")
def failing_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A gateway with `failing_routes` beside the API; its base URL."""
    tmp = tmp_path_factory.mktemp("failing")
    url = f"sqlite:///{tmp / 'gateway.db'}"
    asyncio.run(seed_database(url, Seed({PLATFORM: DOC_SECRET}, {})))
    config = GatewayConfig(db_url=url, key_file=tmp / "gateway.key")
    app = create_app(config, JumpClock(), extra_routers=[failing_routes()])
    with serving_in_thread(app) as server:
        yield server.base_url


@pytest.mark.parametrize("path", ["/api/v2/test/raises", "/api/v2/test/unwritable"])
def test_a_failure_escaping_an_api_route_is_15001_with_http_500(
    failing_gateway: str, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="segway_gateway")
    with api_client(failing_gateway) as api:
        used(api)
        for _ in range(3):
            response = api.get(path)
            body = refused_envelope(response, 500, Code.SERVER_ERROR)
            assert body["msg"] == "server error" and "Traceback" not in response.text
    eventually(lambda: bool(_lines(caplog, "unexpected failure")), "the failure logged")
    logged = _lines(caplog, "unexpected failure")
    assert len(logged) == 1, logged  # rate-limited: three failures, one line
    assert f"GET {path} platform={PLATFORM} op=" in logged[0].getMessage()
    assert logged[0].exc_info is not None  # with its traceback


def test_a_failure_outside_the_api_keeps_starlettes_answer(failing_gateway: str) -> None:
    response = httpx.get(f"{failing_gateway}/outside/raises", timeout=30)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/plain")


def test_an_injected_failure_inside_a_handler_is_15001_and_the_next_call_works(
    server: RunningGateway, api: httpx.Client, vehicle: str
) -> None:
    """The call's own envelope (HTTP 200, as the document answers every code)."""
    server.break_once("vehicle")
    assert code_of(api.get(STATUS, params={"iotCode": vehicle})) == Code.SERVER_ERROR
    assert code_of(api.get(STATUS, params={"iotCode": vehicle})) == 0


def used(api: httpx.Client) -> None:
    """Make one call with the client's token: the gateway knows its platform from now on
    (a refusal names only the platform of a token it has verified before)."""
    assert code_of(api.get(STATUS, params={"iotCode": "1"})) == Code.DEVICE_NOT_FOUND


def _lines(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if text in r.getMessage()]


# Parameters given twice ----------------------------------------------------------------


@pytest.mark.parametrize("first_is_valid", [True, False])
def test_a_query_parameter_given_twice_is_15004_in_either_order(
    api: httpx.Client, vehicle: str, first_is_valid: bool
) -> None:
    codes = [vehicle, OTHER_VEHICLE] if first_is_valid else [OTHER_VEHICLE, vehicle]
    params = [("iotCode", code) for code in codes]
    assert code_of(api.get(STATUS, params=params)) == Code.PARAMETER_ERROR
    same = [("iotCode", vehicle), ("iotCode", vehicle)]
    assert code_of(api.get(STATUS, params=same)) == Code.PARAMETER_ERROR
    assert code_of(api.get(STATUS, params=[("iotCode", vehicle)])) == 0


def test_any_query_parameter_given_twice_is_15004(api: httpx.Client, vehicle: str) -> None:
    twice = [("iotCode", vehicle), ("realTimeLocation", "false"), ("realTimeLocation", "true")]
    assert code_of(api.get(LOCATION, params=twice)) == Code.PARAMETER_ERROR
    extra = [("iotCode", vehicle), ("vehicleCode", "1"), ("vehicleCode", "1")]
    assert code_of(api.get(STATUS, params=extra)) == Code.PARAMETER_ERROR
    blank = f"{STATUS}?iotCode={vehicle}&iotCode="
    assert code_of(api.get(blank)) == Code.PARAMETER_ERROR


def test_a_token_is_checked_before_the_parameters(server: RunningGateway, vehicle: str) -> None:
    url = f"{server.base_url}{STATUS}?iotCode={vehicle}&iotCode={vehicle}"
    assert code_of(httpx.get(url, timeout=30)) == Code.TOKEN_INVALID


@pytest.mark.parametrize("first_is_valid", [True, False])
def test_a_body_key_given_twice_is_15004_in_either_order_and_changes_nothing(
    server: RunningGateway, api: httpx.Client, vehicle: str, first_is_valid: bool
) -> None:
    first, second = (vehicle, OTHER_VEHICLE) if first_is_valid else (OTHER_VEHICLE, vehicle)
    raw = f'{{"iotCode": "{first}", "iotCode": "{second}"}}'
    headers = {"Content-Type": "application/json"}
    assert code_of(api.post(UNLOCK, content=raw, headers=headers)) == Code.PARAMETER_ERROR
    assert server.sim_vehicle(vehicle).state.locked is True


def test_a_nested_key_given_twice_is_15004(api: httpx.Client, vehicle: str) -> None:
    raw = (
        f'{{"iotCode": "{vehicle}", "locationInterval": '
        '{"unlockStatus": 3600, "unlockStatus": 20}}'
    )
    headers = {"Content-Type": "application/json"}
    response = api.post(INTERVAL, content=raw, headers=headers)
    assert code_of(response) == Code.PARAMETER_ERROR


@pytest.mark.parametrize(
    "extra",
    [
        {"note": "a:b::c"},
        {"list": [{"a": 1}, {"a": 2}], "text": "x:y"},
        {"nested": {"iotCode": "1", "k": {"iotCode": "2"}}, "t": "::"},
    ],
)
def test_colons_in_strings_and_keys_repeated_in_other_objects_are_fine(
    api: httpx.Client, vehicle: str, extra: dict[str, Any]
) -> None:
    """Equal keys in different objects are not a parameter given twice; the body is read
    again (a ':' inside a string) and accepted."""
    body = json.dumps({"iotCode": vehicle, **extra})
    headers = {"Content-Type": "application/json"}
    assert code_of(api.post(UNLOCK, content=body, headers=headers)) == 0


def test_a_deeply_nested_body_read_again_is_15004_not_15001(
    server: RunningGateway, api: httpx.Client, vehicle: str
) -> None:
    """A ':' in a string makes the gateway read the body again; nested deeper than the
    standard library reads, it is refused as bad input, not a failure."""
    deep = '{"a":' * 1000 + '"x:y"' + "}" * 1000
    body = f'{{"iotCode": "{vehicle}", "deep": {deep}}}'
    headers = {"Content-Type": "application/json"}
    assert code_of(api.post(UNLOCK, content=body, headers=headers)) == Code.PARAMETER_ERROR
    assert server.sim_vehicle(vehicle).state.locked is True


# Logging of refusals -------------------------------------------------------------------


@pytest.fixture(scope="module")
def own_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    """A gateway whose clock these tests move, and whose log lines are theirs alone."""
    from tests.harness import running

    seed = Seed({PLATFORM: DOC_SECRET}, {})
    yield from running(tmp_path_factory.mktemp("refusals"), seed)


def test_unknown_paths_are_logged_once_a_minute_with_the_platform_and_a_count(
    own_gateway: RunningGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="segway_gateway")
    path = "/api/v2/logged/once"
    with api_client(own_gateway.base_url) as api:
        used(api)
        for _ in range(5):
            refused_envelope(api.get(path), 404, Code.PARAMETER_ERROR)
        refused_envelope(httpx.get(f"{own_gateway.base_url}{path}"), 404, Code.PARAMETER_ERROR)
        lines = _lines(caplog, f"unknown path: GET {path}")
        assert len(lines) == 1, [r.getMessage() for r in lines]
        assert f"platform={PLATFORM}" in lines[0].getMessage()
        assert lines[0].levelno == logging.INFO

        own_gateway.clock.advance(61)
        refused_envelope(httpx.get(f"{own_gateway.base_url}{path}"), 404, Code.PARAMETER_ERROR)
        lines = _lines(caplog, f"unknown path: GET {path}")
        assert len(lines) == 2, [r.getMessage() for r in lines]
        assert "platform=-" in lines[1].getMessage()
        assert "(5 more like it in the 61 s before)" in lines[1].getMessage()


def test_another_path_or_method_is_logged_on_its_own(
    own_gateway: RunningGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="segway_gateway")
    base = own_gateway.base_url
    for _ in range(3):
        httpx.get(f"{base}/api/v2/other/a", timeout=30)
        httpx.get(f"{base}/api/v2/other/b", timeout=30)
        httpx.get(f"{base}{UNLOCK}", timeout=30)
    assert len(_lines(caplog, "unknown path: GET /api/v2/other/a")) == 1
    assert len(_lines(caplog, "unknown path: GET /api/v2/other/b")) == 1
    assert len(_lines(caplog, f"wrong method: GET {UNLOCK}")) == 1


def test_a_flood_of_distinct_paths_keeps_the_memory_bounded(own_gateway: RunningGateway) -> None:
    from segway_gateway.gateway.traffic import MAX_KEYS

    traffic = own_gateway.app.state.traffic
    for n in range(MAX_KEYS * 2):
        traffic.refusal("unknown path", "GET", f"/api/flood/{n}", None)
    assert len(traffic._seen) <= MAX_KEYS + 1


def test_the_trailing_slash_is_not_redirected(server: RunningGateway) -> None:
    response = httpx.post(f"{server.base_url}{UNLOCK}/", json={"iotCode": "1"}, timeout=30)
    assert response.status_code == 404 and "location" not in response.headers
