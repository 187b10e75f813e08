"""The area the simulated fleet rides in: Shenzhen by default, any bounding box by flag."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from segway_gateway.sim.city import parse_bbox
from tests.conftest import PLATFORM, get_token
from tests.harness import DOC_SECRET, Seed, running
from tests.processes import invoke, refused

PARIS = "48.80,2.25,48.90,2.42"
FLEET = [str(869_960_000_000_000 + n) for n in range(5)]


def test_a_bounding_box_is_read_south_west_north_east() -> None:
    city = parse_bbox(PARIS)
    assert (city.south, city.west, city.north, city.east) == (48.80, 2.25, 48.90, 2.42)
    assert city.contains(48.85, 2.35) and not city.contains(22.6, 114.1)


@pytest.mark.parametrize("text", ["1,2,3", "a,b,c,d", "48.9,2.25,48.8,2.42", "0,0,95,1"])
def test_bad_bounding_boxes_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_bbox(text)


def test_the_fleet_parks_inside_the_configured_area(tmp_path: Path) -> None:
    seed = Seed(platforms={PLATFORM: DOC_SECRET}, vehicles={c: (PLATFORM, True) for c in FLEET})
    for server in running(tmp_path, seed, city=parse_bbox(PARIS)):
        headers = {"Authorization": f"bearer {get_token(server.base_url)}"}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as api:
            for iot_code in FLEET:
                answer = api.get(
                    "/api/v2/vehicle/query/current/location",
                    params={"iotCode": iot_code, "realTimeLocation": "true"},
                ).json()
                assert answer["code"] == 0, answer
                fix = answer["data"]
                assert 48.80 <= fix["latitude"] <= 48.90 and 2.25 <= fix["longitude"] <= 2.42


def test_serve_and_sim_run_refuse_a_bad_box_in_one_line() -> None:
    refused(invoke("serve", "--city-bbox", "1,2,3"), "--city-bbox")
    refused(
        invoke("sim", "run", "--broker", "mqtt://127.0.0.1:1", "--city-bbox", "x"), "--city-bbox"
    )
