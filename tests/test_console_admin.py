"""The console's admin page (routes/console/admin_pages.py, admin_forms.py): platforms with
their suspension and rate limits, vehicles' registrations, and geofences. Where the admin
API has an endpoint the form goes through it and the page shows its answer; adding a
platform or vehicles writes the store as the CLI does. Only the admin's session may use
any of it. HTTP against a running gateway."""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Iterator
from html.parser import HTMLParser

import httpx
import pytest
from fastapi.routing import APIRoute

from segway_gateway.contract.codes import Code
from segway_gateway.gateway.routes.console import admin_pages
from tests.conftest import (
    ADMIN_TOKEN,
    OTHER_PLATFORM,
    OTHER_SECRET,
    PLATFORM,
    admin_client,
    api_client,
    get_token,
)
from tests.harness import DOC_SECRET, STATUS, RunningGateway, Seed, eventually, running
from tests.test_console import browser, log_in

MINE = "861477038740001"
THEIRS = "861477038740101"
SEED = Seed(
    platforms={PLATFORM: DOC_SECRET, OTHER_PLATFORM: OTHER_SECRET},
    vehicles={MINE: (PLATFORM, True), THEIRS: (OTHER_PLATFORM, True)},
)
NEW_PLATFORM = "A50001"
NEW_SECRET = "a-new-platform-secret"
NEW_VEHICLES = ["861477038740201", "861477038740202"]
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[114.05, 22.54], [114.06, 22.54], [114.06, 22.55], [114.05, 22.54]]],
}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    yield from running(tmp_path_factory.mktemp("console-admin"), SEED, admin_token=ADMIN_TOKEN)


@pytest.fixture
def console(gateway: RunningGateway) -> Iterator[httpx.Client]:
    """A browser logged in with the admin token."""
    with browser(gateway) as client:
        assert log_in(client, admin_token=ADMIN_TOKEN).status_code == 200
        yield client


@pytest.fixture
def admin(gateway: RunningGateway) -> Iterator[httpx.Client]:
    with admin_client(gateway.base_url) as client:
        yield client


def said(page: httpx.Response) -> str:
    """The text of the page's status region: what the form did."""
    found = re.search(r'<section [^>]*role="status"[^>]*>(.*?)</section>', page.text, re.S)
    assert found, f"no status region in the page (HTTP {page.status_code})"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found[1])).split())


def card(page: httpx.Response, platform: str) -> str:
    """The platform's card on the admin page."""
    found = re.search(rf'<article [^>]*aria-labelledby="platform-{platform}">(.*?)</article>',
                      page.text, re.S)  # fmt: skip
    assert found, f"no card of {platform}"
    return found[1]


def row(page: httpx.Response, iot_code: str) -> str | None:
    found = re.search(rf'<tr data-iot="{iot_code}">(.*?)</tr>', page.text, re.S)
    return found[1] if found else None


def status_code(api: httpx.Client, iot_code: str) -> int:
    return int(api.get(STATUS, params={"iotCode": iot_code}).json()["code"])


def test_a_platform_session_gets_403_on_every_admin_page_and_form(
    gateway: RunningGateway, admin: httpx.Client
) -> None:
    routes = [route for route in admin_pages.router.routes if isinstance(route, APIRoute)]
    assert len(routes) >= 13
    with browser(gateway) as client:
        log_in(client, client_id=PLATFORM, client_secret=DOC_SECRET)
        for route in routes:
            path = route.path.format(code=PLATFORM, iot_code=MINE, platform=PLATFORM, name="z")
            for method in route.methods:
                answer = client.request(method, path, data={"rps": "1"})
                assert answer.status_code == 403, (method, path, answer.status_code)
                assert "This page is for the admin token" in answer.text
        assert "/console/admin" not in client.get("/console").text, "no Admin link"
    assert admin.get(f"/platforms/{PLATFORM}/access").json()["rps"] is None


def test_forms_from_another_origin_or_without_a_session_do_nothing(
    gateway: RunningGateway, console: httpx.Client, admin: httpx.Client
) -> None:
    suspend = f"/console/admin/platforms/{PLATFORM}/suspend"
    forged = console.post(suspend, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403
    with httpx.Client(base_url=gateway.base_url, timeout=30) as anonymous:
        answer = anonymous.post(suspend, headers={"Origin": gateway.base_url})
        assert answer.status_code == 303 and answer.headers["location"] == "/console"
    assert admin.get(f"/platforms/{PLATFORM}/access").json()["suspended"] is False


def test_every_input_has_a_label_and_every_button_a_name(console: httpx.Client) -> None:
    page = console.get("/console/admin")
    assert page.status_code == 200
    form = _Form()
    form.feed(page.text)
    assert form.fields and form.buttons
    assert not [f for f in form.fields if f not in form.labels], "inputs without a label"
    assert all(name.strip() for name in form.buttons), "a button without a name"
    assert {"Suspend", "Set limit", "Add platform", "Deactivate", "Remove"} <= set(form.buttons)
    assert {"Add vehicles", "Save geofence"} <= set(form.buttons)


class _Form(HTMLParser):
    """The ids of the inputs, what the labels are for, and the buttons' text."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[str] = []
        self.labels: set[str] = set()
        self.buttons: list[str] = []
        self._in_button = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        given = dict(attrs)
        if tag in ("input", "select", "textarea") and given.get("type") != "hidden":
            self.fields.append(given.get("id") or f"<{tag} name={given.get('name')}>")
        if tag == "label":
            self.labels.add(given.get("for") or "")
        if tag == "button":
            self._in_button = True
            self.buttons.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._in_button = False

    def handle_data(self, data: str) -> None:
        if self._in_button:
            self.buttons[-1] += data.strip()


def test_the_admin_adds_a_platform_that_then_gets_a_token(
    gateway: RunningGateway, console: httpx.Client
) -> None:
    weak = console.post("/console/admin/platforms", data={"code": NEW_PLATFORM, "secret": "short"})
    assert weak.status_code == 400
    assert "is 5 characters long: use at least 16" in said(weak)
    assert f'value="{NEW_PLATFORM}"' in weak.text, "the form comes back as typed"
    form = {"client_id": NEW_PLATFORM, "client_secret": "short", "grant_type": "client_credentials"}
    assert httpx.post(f"{gateway.base_url}/oauth/token", data=form).status_code == 401

    added = console.post(
        "/console/admin/platforms",
        data={"code": NEW_PLATFORM, "secret": NEW_SECRET, "push_url": "http://127.0.0.1:9/p"},
    )
    assert added.status_code == 200, said(added)
    assert f"platform {NEW_PLATFORM} added" in said(added)
    assert "http://127.0.0.1:9/p" in card(added, NEW_PLATFORM)
    assert get_token(gateway.base_url, NEW_PLATFORM, NEW_SECRET)

    again = console.post(
        "/console/admin/platforms", data={"code": NEW_PLATFORM, "secret": NEW_SECRET}
    )
    assert again.status_code == 409 and "exists already" in said(again)
    bad = {"code": "has space", "secret": NEW_SECRET}
    assert console.post("/console/admin/platforms", data=bad).status_code == 400
    bad = {"code": "A50002", "secret": NEW_SECRET, "push_url": "ftp://x"}
    assert "http:// or https://" in said(console.post("/console/admin/platforms", data=bad))

    allowed = {"code": "A50003", "secret": "demo", "allow_weak": "on"}
    assert console.post("/console/admin/platforms", data=allowed).status_code == 200
    assert get_token(gateway.base_url, "A50003", "demo")


def test_suspension_and_limits_go_through_the_admin_api(
    gateway: RunningGateway, console: httpx.Client, admin: httpx.Client
) -> None:
    platform, access = (
        f"/console/admin/platforms/{OTHER_PLATFORM}",
        f"/platforms/{OTHER_PLATFORM}/access",
    )
    with api_client(gateway.base_url, OTHER_PLATFORM, OTHER_SECRET) as api:
        assert status_code(api, THEIRS) == 0
        suspended = console.post(f"{platform}/suspend")
        assert f"Suspend {OTHER_PLATFORM}: HTTP 200" in said(suspended)
        assert ">suspended<" in card(suspended, OTHER_PLATFORM)
        assert ">Resume</button>" in card(suspended, OTHER_PLATFORM)
        assert status_code(api, THEIRS) == Code.RESTRICTED
        resumed = console.post(f"{platform}/resume")
        assert f"Resume {OTHER_PLATFORM}: HTTP 200" in said(resumed)
        assert ">allowed<" in card(resumed, OTHER_PLATFORM)
        assert status_code(api, THEIRS) == 0

    limited = console.post(f"{platform}/limit", data={"rps": "5", "burst": "7"})
    assert limited.status_code == 200, said(limited)
    assert admin.get(access).json() == {
        "platform": OTHER_PLATFORM,
        "rps": 5.0,
        "burst": 7,
        "suspended": False,
    }
    assert "5 calls/s, bursts of 7" in card(limited, OTHER_PLATFORM)
    refused = console.post(f"{platform}/limit", data={"rps": "0"})
    assert refused.status_code == 400
    message = admin.put(f"{access}/limit", json={"rps": 0}).json()["error"]
    assert "HTTP 400" in said(refused) and message in said(refused), "the API's own answer"
    assert admin.get(access).json()["rps"] == 5.0

    cleared = console.post(f"{platform}/limit/clear")
    assert cleared.status_code == 200 and admin.get(access).json()["rps"] is None
    assert ">none<" in card(cleared, OTHER_PLATFORM)
    unknown = console.post("/console/admin/platforms/Z99999/suspend")
    assert unknown.status_code == 404 and "no platform Z99999" in said(unknown)


def test_vehicles_are_added_deactivated_activated_and_removed(
    gateway: RunningGateway, console: httpx.Client
) -> None:
    first = NEW_VEHICLES[0]
    vehicles = {"iot_codes": ", ".join(NEW_VEHICLES), "vehicle_platform": PLATFORM, "active": "on"}
    added = console.post("/console/admin/vehicles", data=vehicles)
    assert added.status_code == 200, said(added)
    assert f"2 added to {PLATFORM}, active" in said(added)
    assert ">active<" in (row(added, first) or "")
    again = console.post("/console/admin/vehicles", data=vehicles)
    assert again.status_code == 409 and "exists already" in said(again)
    elsewhere = {**vehicles, "iot_codes": "861477038740299", "vehicle_platform": "Z99999"}
    assert console.post("/console/admin/vehicles", data=elsewhere).status_code == 404
    not_one = console.post("/console/admin/vehicles", data={**vehicles, "iot_codes": "12ab"})
    assert not_one.status_code == 400 and "12ab" in said(not_one)

    with api_client(gateway.base_url) as api:
        eventually(lambda: status_code(api, first) != Code.DEVICE_NOT_FOUND, "the API knows it")
        deactivated = console.post(f"/console/admin/vehicles/{first}/deactivate")
        assert f"Deactivate {first}" in said(deactivated)
        assert ">inactive<" in (row(deactivated, first) or "")
        assert ">Activate</button>" in (row(deactivated, first) or "")
        eventually(lambda: status_code(api, first) == Code.DEVICE_INACTIVE, "15300")

        activated = console.post(f"/console/admin/vehicles/{first}/activate")
        assert ">active<" in (row(activated, first) or "")
        eventually(lambda: status_code(api, first) != Code.DEVICE_INACTIVE, "active again")

        asked = console.get(f"/console/admin/vehicles/{first}/remove")
        assert asked.status_code == 200 and f">Remove {first}</button>" in asked.text
        assert status_code(api, first) != Code.DEVICE_NOT_FOUND, "asking removes nothing"
        removed = console.post(f"/console/admin/vehicles/{first}/remove")
        assert removed.status_code == 200 and f"vehicle {first} is removed" in said(removed)
        assert row(removed, first) is None and row(removed, NEW_VEHICLES[1]) is not None
        eventually(lambda: status_code(api, first) == Code.DEVICE_NOT_FOUND, "15102")
    gone = console.post(f"/console/admin/vehicles/{first}/remove")
    assert gone.status_code == 404 and f"no vehicle {first}" in said(gone)


def test_geofences_are_saved_and_deleted_through_the_admin_api(
    console: httpx.Client, admin: httpx.Client
) -> None:
    zones = f"/platforms/{PLATFORM}/geofences"
    form = {"zone_platform": PLATFORM, "zone_name": "depot", "geojson": json.dumps(SQUARE)}
    saved = console.post("/console/admin/geofences", data=form)
    assert saved.status_code == 200 and "Save geofence depot: HTTP 201" in said(saved)
    listed = admin.get(zones).json()["geofences"]
    assert [(z["name"], z["polygons"]) for z in listed] == [("depot", 1)]
    assert f'data-zone="{PLATFORM}/depot"' in saved.text

    point = json.dumps({"type": "Point", "coordinates": [114.05, 22.54]})
    for wrong in ("{not json", point):
        refused = console.post("/console/admin/geofences", data={**form, "geojson": wrong})
        message = admin.put(f"{zones}/probe", content=wrong.encode()).json()["error"]
        assert refused.status_code == 400
        assert "HTTP 400" in said(refused) and message in said(refused), "the API's own answer"
        assert wrong in html.unescape(refused.text), "the GeoJSON as pasted"
    large = console.post(
        "/console/admin/geofences",
        data={**form, "zone_name": "ring", "geojson": json.dumps(_ring(2_000))},
    )
    assert large.status_code == 200 and "Save geofence ring: HTTP 201" in said(large), (
        "a zone of 2,000 points (beyond an ordinary form's 16 KiB)"
    )
    assert console.post(f"/console/admin/geofences/{PLATFORM}/ring/delete").status_code == 200
    unnamed = console.post("/console/admin/geofences", data={**form, "zone_name": "a b"})
    assert unnamed.status_code == 400 and "use 1 to 64 letters" in said(unnamed)

    deleted = console.post(f"/console/admin/geofences/{PLATFORM}/depot/delete")
    assert deleted.status_code == 200 and "HTTP 200" in said(deleted)
    assert admin.get(zones).json()["geofences"] == []
    again = console.post(f"/console/admin/geofences/{PLATFORM}/depot/delete")
    assert again.status_code == 404 and "HTTP 404" in said(again)


def _ring(points: int) -> dict[str, object]:
    """A polygon of `points` corners on a circle around the demo city's middle."""
    corners = [
        [
            114.1 + 0.01 * math.cos(2 * math.pi * n / points),
            22.6 + 0.01 * math.sin(2 * math.pi * n / points),
        ]
        for n in range(points)
    ]
    return {"type": "Polygon", "coordinates": [[*corners, corners[0]]]}
