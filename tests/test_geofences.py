"""No-parking zones: a lock inside one of the platform's zones is 15996, nothing is sent.

Zones are tiny squares around a vehicle's own reported fix (a few metres), so
the shared fleet's other vehicles never fall inside them; each test removes
its zones again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from segway_gateway.contract.codes import Code
from segway_gateway.gateway.runtime import REGISTRATION_POLL_SECONDS
from tests.conftest import ADMIN_TOKEN, OTHER_PLATFORM, PLATFORM
from tests.harness import RunningGateway, eventually
from tests.processes import cli, invoke, ok, refused

UNLOCK = "/api/v2/vehicle/control/unlock"
LOCK = "/api/v2/vehicle/control/lock"
STATUS = "/api/v2/vehicle/query/current/status"
LOCATION = "/api/v2/vehicle/query/current/location"
HALF = 0.00005
"""Half the side of a zone around a vehicle, in degrees (about 5 m)."""
STORY_TIMEOUT = 1800

Geometry = dict[str, Any]


def square(lon: float, lat: float, half: float = HALF) -> list[list[float]]:
    """A closed ring of the square centred on (lon, lat)."""
    w, s, e, n = lon - half, lat - half, lon + half, lat + half
    return [[w, s], [e, s], [e, n], [w, n], [w, s]]


def polygon(*rings: list[list[float]]) -> Geometry:
    return {"type": "Polygon", "coordinates": list(rings)}


def position(api: httpx.Client, iot_code: str) -> tuple[float, float]:
    """The vehicle's last fix as (longitude, latitude), from the location query."""
    body = api.get(LOCATION, params={"iotCode": iot_code}).json()
    assert body["code"] == 0, body
    return body["data"]["longitude"], body["data"]["latitude"]


def command(api: httpx.Client, path: str, iot_code: str) -> int:
    return int(api.post(path, json={"iotCode": iot_code}).json()["code"])


def locked(api: httpx.Client, iot_code: str) -> bool:
    body = api.get(STATUS, params={"iotCode": iot_code}).json()
    assert body["code"] == 0, body
    return bool(body["data"]["locked"])


def unlocked_at(api: httpx.Client, iot_code: str) -> tuple[float, float]:
    """Unlock the vehicle and return where it stands."""
    assert command(api, UNLOCK, iot_code) == 0
    return position(api, iot_code)


@pytest.fixture(scope="module")
def admin(server: RunningGateway) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(base_url=f"{server.base_url}/admin/v1", headers=headers, timeout=30) as c:
        yield c


ZonePut = Callable[[str, str, Geometry], httpx.Response]


@pytest.fixture
def put_zone(admin: httpx.Client) -> Iterator[ZonePut]:
    """PUT a zone through the admin API; every zone put is deleted after the test."""
    added: list[str] = []

    def put(platform: str, name: str, geometry: Geometry) -> httpx.Response:
        path = f"/platforms/{platform}/geofences/{name}"
        added.append(path)
        return admin.put(path, json=geometry)

    yield put
    for path in added:
        admin.delete(path)


# The lock -----------------------------------------------------------------------


def test_a_lock_inside_a_zone_is_15996_and_the_vehicle_stays_unlocked(
    api: httpx.Client, put_zone: ZonePut, vehicle: str
) -> None:
    lon, lat = unlocked_at(api, vehicle)
    assert put_zone(PLATFORM, "station", polygon(square(lon, lat))).status_code == 201
    answer = api.post(LOCK, json={"iotCode": vehicle}).json()
    assert answer["code"] == Code.LOCK_GEOFENCE
    assert answer["msg"] == Code.LOCK_GEOFENCE.message
    assert not locked(api, vehicle)


def test_a_lock_next_to_a_zone_succeeds(api: httpx.Client, put_zone: ZonePut, vehicle: str) -> None:
    lon, lat = unlocked_at(api, vehicle)
    beside = polygon(square(lon + 3 * HALF, lat))
    assert put_zone(PLATFORM, "beside", beside).status_code == 201
    assert command(api, LOCK, vehicle) == 0
    assert locked(api, vehicle)


def test_a_lock_succeeds_once_the_zone_is_removed(
    admin: httpx.Client, api: httpx.Client, put_zone: ZonePut, vehicle: str
) -> None:
    lon, lat = unlocked_at(api, vehicle)
    put_zone(PLATFORM, "temporary", polygon(square(lon, lat))).raise_for_status()
    assert command(api, LOCK, vehicle) == Code.LOCK_GEOFENCE
    assert admin.delete(f"/platforms/{PLATFORM}/geofences/temporary").status_code == 200
    assert command(api, LOCK, vehicle) == 0


def test_another_platforms_zone_does_not_refuse_the_lock(
    api: httpx.Client, put_zone: ZonePut, vehicle: str
) -> None:
    lon, lat = unlocked_at(api, vehicle)
    assert put_zone(OTHER_PLATFORM, "theirs", polygon(square(lon, lat))).status_code == 201
    assert command(api, LOCK, vehicle) == 0


def test_a_vehicle_in_a_zones_hole_may_lock(
    api: httpx.Client, put_zone: ZonePut, vehicle: str
) -> None:
    lon, lat = unlocked_at(api, vehicle)
    ring_zone = polygon(square(lon, lat, 10 * HALF), square(lon, lat))
    assert put_zone(PLATFORM, "plaza-with-parking", ring_zone).status_code == 201
    assert command(api, LOCK, vehicle) == 0


def test_a_vehicle_between_hole_and_exterior_is_refused(
    api: httpx.Client, put_zone: ZonePut, vehicle: str
) -> None:
    lon, lat = unlocked_at(api, vehicle)
    ring_zone = polygon(square(lon, lat, 10 * HALF), square(lon + 5 * HALF, lat, HALF))
    assert put_zone(PLATFORM, "plaza", ring_zone).status_code == 201
    assert command(api, LOCK, vehicle) == Code.LOCK_GEOFENCE


def test_any_part_of_a_multipolygon_refuses_the_lock(
    api: httpx.Client, put_zone: ZonePut, vehicle: str
) -> None:
    lon, lat = unlocked_at(api, vehicle)
    parts = {
        "type": "MultiPolygon",
        "coordinates": [[square(lon + 0.01, lat + 0.01)], [square(lon, lat)]],
    }
    assert put_zone(PLATFORM, "two-squares", parts).json()["polygons"] == 2
    assert command(api, LOCK, vehicle) == Code.LOCK_GEOFENCE
    assert not locked(api, vehicle)


# The admin API ------------------------------------------------------------------


def test_admin_api_puts_lists_replaces_and_deletes_zones(
    admin: httpx.Client, put_zone: ZonePut
) -> None:
    zones = f"/platforms/{PLATFORM}/geofences"
    first = polygon(square(114.1, 22.6, 0.01))
    created = put_zone(PLATFORM, "depot", first)
    assert created.status_code == 201
    assert created.json() == {
        "platform": PLATFORM,
        "name": "depot",
        "polygons": 1,
        "bbox": pytest.approx([114.09, 22.59, 114.11, 22.61]),
    }
    feature = {"type": "Feature", "properties": {"note": "bigger"}, "geometry": first}
    feature["geometry"] = polygon(square(114.1, 22.6, 0.02))
    assert put_zone(PLATFORM, "depot", feature).status_code == 200, "a second PUT replaces"

    listed = admin.get(zones).json()
    (depot,) = [z for z in listed["geofences"] if z["name"] == "depot"]
    assert depot["bbox"] == pytest.approx([114.08, 22.58, 114.12, 22.62])
    assert depot["geometry"] == feature["geometry"]

    assert admin.delete(f"{zones}/depot").json() == {
        "platform": PLATFORM,
        "name": "depot",
        "removed": True,
    }
    assert all(z["name"] != "depot" for z in admin.get(zones).json()["geofences"])
    gone = admin.delete(f"{zones}/depot")
    assert gone.status_code == 404
    assert gone.json()["error"] == f"no geofence depot on platform {PLATFORM}"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/geofences"),
        ("PUT", "/geofences/intruder"),
        ("DELETE", "/geofences/intruder"),
    ],
)
def test_admin_zone_routes_need_the_admin_token(
    server: RunningGateway, method: str, path: str
) -> None:
    response = httpx.request(
        method,
        f"{server.base_url}/admin/v1/platforms/{PLATFORM}{path}",
        json=polygon(square(114.1, 22.6)),
        headers={"Authorization": "Bearer wrong"},
        timeout=30,
    )
    assert response.status_code == 401
    assert server.gateway.geofences.zone_at(PLATFORM, 114.1, 22.6) is None


@pytest.mark.parametrize(
    ("platform", "name", "body", "status", "error"),
    [
        pytest.param(
            PLATFORM,
            "open",
            polygon([*square(114.1, 22.6)[:-1], [114.2, 22.7]]),
            400,
            "Polygon, ring 1 (exterior): not closed",
            id="open-ring",
        ),
        pytest.param(PLATFORM, "text", "not json", 400, "is not JSON", id="not-json"),
        pytest.param(
            PLATFORM, "bad%20name", polygon(square(114.1, 22.6)), 400, "zone name", id="bad-name"
        ),
        pytest.param(
            "A99999", "z", polygon(square(114.1, 22.6)), 404, "no platform A99999", id="platform"
        ),
    ],
)
def test_bad_zones_are_refused_over_the_admin_api_with_a_reason(
    admin: httpx.Client, platform: str, name: str, body: Any, status: int, error: str
) -> None:
    path = f"/platforms/{platform}/geofences/{name}"
    content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    response = admin.put(path, content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert error in response.json()["error"]


def test_listing_an_unknown_platforms_zones_is_404(admin: httpx.Client) -> None:
    assert admin.get("/platforms/A99999/geofences").status_code == 404


# The CLI ------------------------------------------------------------------------
# A zone added while serving comes from a real process (`cli`), as an operator's would;
# the other stories run the commands in process (`invoke`).


@pytest.mark.timeout(STORY_TIMEOUT)
def test_a_zone_added_with_the_cli_while_serving_is_followed(
    clocked_server: RunningGateway, clocked_api: httpx.Client, vehicle: str, tmp_path: Path
) -> None:
    """The CLI writes the database from another process; the gateway follows within its poll."""
    server, api = clocked_server, clocked_api
    lon, lat = unlocked_at(api, vehicle)
    zone_file = tmp_path / "zone.geojson"
    zone_file.write_text(json.dumps(polygon(square(lon, lat))))
    db = server.config.db_url

    def in_index() -> bool:
        return server.call(lambda: server.gateway.geofences.zone_at(PLATFORM, lon, lat) is not None)

    ok(cli("geofence", "add", PLATFORM, "cli-zone", str(zone_file), db=db))
    server.clock.advance(REGISTRATION_POLL_SECONDS)  # the gateway's next look at the store
    eventually(in_index, "the zone added by the CLI in the index")
    assert command(api, LOCK, vehicle) == Code.LOCK_GEOFENCE
    ok(cli("geofence", "remove", PLATFORM, "cli-zone", db=db))
    server.clock.advance(REGISTRATION_POLL_SECONDS)
    eventually(lambda: not in_index(), "the zone removed by the CLI out of the index")
    assert command(api, LOCK, vehicle) == 0


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.mark.timeout(STORY_TIMEOUT)
def test_geofence_cli_adds_lists_refuses_and_removes(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    ok(invoke("platform", "add", PLATFORM, "--secret", "s1", "--allow-weak-secret", db=db))
    depot = tmp_path / "depot.geojson"
    depot.write_text(json.dumps(polygon(square(114.1, 22.6, 0.01))))
    assert ok(invoke("geofence", "add", PLATFORM, "depot", str(depot), db=db)) == (
        f"geofence depot added to {PLATFORM} (1 polygon)\n"
    )
    two = {
        "type": "MultiPolygon",
        "coordinates": [[square(114.0, 22.5, 0.01)], [square(114.2, 22.7, 0.01)]],
    }
    from_stdin = invoke("geofence", "add", PLATFORM, "two", "-", db=db, stdin=json.dumps(two))
    assert ok(from_stdin) == f"geofence two added to {PLATFORM} (2 polygons)\n"

    refused(
        invoke("geofence", "add", PLATFORM, "depot", str(depot), db=db),
        f"geofence depot exists already on platform {PLATFORM}",
    )
    refused(invoke("geofence", "add", "A99999", "depot", str(depot), db=db), "no platform A99999")
    assert lines(ok(invoke("geofence", "list", db=db))) == [
        f"depot\t{PLATFORM}\t1\t114.090000,22.590000,114.110000,22.610000",
        f"two\t{PLATFORM}\t2\t113.990000,22.490000,114.210000,22.710000",
    ]
    assert ok(invoke("geofence", "list", "--platform", OTHER_PLATFORM, db=db)) == "no geofences\n"

    assert ok(invoke("geofence", "remove", PLATFORM, "depot", db=db)) == (
        f"geofence depot removed from {PLATFORM}\n"
    )
    refused(
        invoke("geofence", "remove", PLATFORM, "depot", db=db),
        f"no geofence depot on platform {PLATFORM}",
    )
    ok(invoke("platform", "remove", PLATFORM, db=db))
    assert ok(invoke("geofence", "list", db=db)) == "no geofences\n", "zones go with their platform"


@pytest.mark.timeout(STORY_TIMEOUT)
@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            json.dumps(polygon([[114.0, 22.0], [114.1, 22.0], [114.1, 22.1], [114.0, 22.2]])),
            "bad GeoJSON: Polygon, ring 1 (exterior): not closed",
            id="open-ring",
        ),
        pytest.param(
            json.dumps(polygon([[22.5, 114.0], [22.6, 114.0], [22.6, 114.1], [22.5, 114.0]])),
            "latitude 114.0 is outside -90..90 (positions are [longitude, latitude])",
            id="lat-lon-swapped",
        ),
        pytest.param("{not json", "is not JSON", id="not-json"),
    ],
)
def test_bad_geojson_is_refused_by_the_cli_before_the_database_is_touched(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "untouched.db"
    zone_file = tmp_path / "zone.geojson"
    zone_file.write_text(content)
    refused(
        invoke("geofence", "add", PLATFORM, "z", str(zone_file), db=f"sqlite:///{path}"), message
    )
    assert not path.exists()
