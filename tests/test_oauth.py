"""POST /oauth/token and token checks: OAuth errors, the 300 s overlap rule, expiry."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import httpx
import pytest

from segway_gateway.contract.codes import Code
from segway_gateway.gateway.auth import OVERLAP_SECONDS
from tests.conftest import FIRST_VEHICLE, PLATFORM, SEED, get_token
from tests.harness import DOC_SECRET, RunningGateway, running

TOKEN = "/oauth/token"
STATUS = "/api/v2/vehicle/query/current/status"
TTL = 43200
FORM = {"client_id": PLATFORM, "client_secret": DOC_SECRET, "grant_type": "client_credentials"}


def post_token(server: RunningGateway, **kwargs: object) -> httpx.Response:
    return httpx.post(f"{server.base_url}{TOKEN}", timeout=30, **kwargs)  # type: ignore[arg-type]


def status_code(server: RunningGateway, token: str, iot_code: str) -> int:
    response = httpx.get(
        f"{server.base_url}{STATUS}",
        params={"iotCode": iot_code},
        headers={"Authorization": f"bearer {token}"},
        timeout=30,
    )
    return int(response.json()["code"])


def test_token_is_opaque_and_carries_128_bits(server: RunningGateway) -> None:
    token = get_token(server.base_url)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", token)


def test_wrong_secret_is_401_invalid_client(server: RunningGateway) -> None:
    response = post_token(server, data={**FORM, "client_secret": "wrong"})
    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "Bad client credentials",
    }


def test_unknown_client_is_401_like_a_wrong_secret(server: RunningGateway) -> None:
    response = post_token(server, data={**FORM, "client_id": "A99999"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_wrong_grant_type_is_400_unsupported_grant_type(server: RunningGateway) -> None:
    response = post_token(server, data={**FORM, "grant_type": "password"})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_missing_grant_type_is_400_invalid_request(server: RunningGateway) -> None:
    response = post_token(server, data={"client_id": PLATFORM, "client_secret": DOC_SECRET})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("order", [("other-secret", DOC_SECRET), (DOC_SECRET, "other-secret")])
@pytest.mark.parametrize("where", ["form", "query"])
def test_a_parameter_given_twice_is_400_invalid_request_in_either_order(
    server: RunningGateway, order: tuple[str, str], where: str
) -> None:
    """RFC 6749 3.2: a parameter is sent at most once; no value wins over the other."""
    pairs = [(k, v) for k, v in FORM.items() if k != "client_secret"]
    body = httpx.QueryParams([*pairs, *(("client_secret", secret) for secret in order)])
    if where == "form":
        form_type = {"Content-Type": "application/x-www-form-urlencoded"}
        response = post_token(server, content=str(body).encode(), headers=form_type)
    else:
        response = post_token(server, params=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert "client_secret given more than once" in response.json()["error_description"]


def test_http_basic_client_credentials_are_accepted(server: RunningGateway) -> None:
    basic = base64.b64encode(f"{PLATFORM}:{DOC_SECRET}".encode()).decode()
    response = post_token(
        server,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"


def test_the_token_does_not_appear_in_the_store(server: RunningGateway) -> None:
    token = get_token(server.base_url)

    async def all_rows() -> str:
        async with server.gateway.db.engine.connect() as conn:
            result = await conn.exec_driver_sql("SELECT * FROM tokens")
            return repr(result.fetchall())

    rows = server.run(all_rows())
    assert token not in rows
    assert token.replace("-", "") not in rows


@pytest.mark.parametrize(
    "header", ["bearer {t}", "Bearer {t}", "BEARER {t}", "bearer  {t}", "Basic {t}", "{t}", ""]
)
def test_authorization_scheme_is_bearer_in_any_case(
    server: RunningGateway, vehicle: str, header: str
) -> None:
    token = get_token(server.base_url)
    response = httpx.get(
        f"{server.base_url}{STATUS}",
        params={"iotCode": vehicle},
        headers={"Authorization": header.format(t=token)},
        timeout=30,
    )
    expected = 0 if header.lower().startswith("bearer") else Code.TOKEN_INVALID
    assert response.json()["code"] == expected


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    """A gateway of its own: the overlap test moves its clock past every token's expiry."""
    yield from running(tmp_path_factory.mktemp("overlap"), SEED)


def test_overlap_rule_same_token_then_new_token_old_valid_until_expiry(
    own_server: RunningGateway,
) -> None:
    """More than 300 s left: the same token; within the last 300 s: a new one, both valid
    until the old one's own expiry, and then only the new one."""
    server, vehicle = own_server, str(FIRST_VEHICLE)
    first = post_token(server, data=FORM).json()
    again = post_token(server, data=FORM).json()
    assert again["access_token"] == first["access_token"]
    assert again["expires_in"] <= first["expires_in"]

    server.clock.advance(first["expires_in"] - OVERLAP_SECONDS + 1)
    renewed = post_token(server, data=FORM).json()
    assert renewed["access_token"] != first["access_token"]
    assert renewed["expires_in"] == TTL
    assert status_code(server, first["access_token"], vehicle) == 0
    assert status_code(server, renewed["access_token"], vehicle) == 0

    server.clock.advance(OVERLAP_SECONDS)
    assert status_code(server, first["access_token"], vehicle) == Code.TOKEN_INVALID
    assert status_code(server, renewed["access_token"], vehicle) == 0
    assert post_token(server, data=FORM).json()["access_token"] == renewed["access_token"]


def test_an_oversized_token_request_is_400_invalid_request(server: RunningGateway) -> None:
    body = "grant_type=client_credentials&padding=" + "x" * (2 * 1024 * 1024)
    response = post_token(
        server, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("client_id", ["A2\x000081", "", "A 20081", "x" * 65])
def test_a_client_id_no_platform_can_have_is_401(server: RunningGateway, client_id: str) -> None:
    response = post_token(server, data={**FORM, "client_id": client_id})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
