"""`serve --region`: platforms of another region get 15100 (NOTES.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from segway_gateway.contract.codes import Code
from segway_gateway.contract.regions import Region
from tests.conftest import EUROPE_PLATFORM, EUROPE_VEHICLE, OTHER_SECRET, SEED, api_client
from tests.harness import STATUS, RunningGateway, code_of, running


@pytest.fixture(scope="module")
def apac_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    tmp: Path = tmp_path_factory.mktemp("apac")
    yield from running(tmp, SEED, region=Region.APAC)


def test_a_europe_platform_on_an_apac_gateway_is_15100(apac_server: RunningGateway) -> None:
    with api_client(apac_server.base_url, EUROPE_PLATFORM, OTHER_SECRET) as api:
        response = api.get(STATUS, params={"iotCode": EUROPE_VEHICLE})
    assert code_of(response) == Code.INCORRECT_PLATFORM
    assert response.json()["msg"] == "incorrect platform info"


def test_an_apac_platform_on_an_apac_gateway_is_served(apac_server: RunningGateway) -> None:
    with api_client(apac_server.base_url) as api:
        assert code_of(api.get(STATUS, params={"iotCode": "861477038719116"})) == 0


@pytest.mark.parametrize(
    ("code", "region"),
    [("A20081", Region.APAC), ("e1", Region.EUROPE), ("U7", Region.AMERICAS), ("C1", Region.CHINA)],
)
def test_the_first_letter_picks_the_region(code: str, region: Region) -> None:
    assert Region.of_platform(code) is region


def test_an_unknown_letter_has_no_region() -> None:
    assert Region.of_platform("X123") is None
    assert Region.of_platform("") is None
