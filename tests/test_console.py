"""The console over HTTP (routes/console): log in with a platform's credentials or the
admin token, a fleet each sees only its own part of, log out; the session cookie's flags,
the same-origin rule for its forms; the vehicle view's queries and actions (through the
API, whose answers it shows), the admin's faults, the live feed, and nothing from another
host. tests/test_console_browser.py drives the same pages in Chromium."""

from __future__ import annotations

import hashlib
import html
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from segway_gateway.gateway.crypto import hash_secret
from segway_gateway.gateway.routes.console import fleet_table
from segway_gateway.gateway.sealing import seal
from segway_gateway.sim.fault_codes import FaultCode
from tests.conftest import (
    ADMIN_TOKEN,
    OTHER_PLATFORM,
    OTHER_SECRET,
    PLATFORM,
    admin_client,
    api_client,
)
from tests.harness import DOC_SECRET, RunningGateway, Seed, eventually, running

MINE = [str(861_477_038_720_001 + n) for n in range(3)]
THEIRS = "861477038720101"
VENDOR = "src/segway_gateway/gateway/routes/console/static/vendor/leaflet"
THIRD, THIRD_SECRET = "C30001", "third-platform-secret"
"""A platform whose sessions the tests end (suspended, its secret changed)."""
SEED = Seed(
    platforms={PLATFORM: DOC_SECRET, OTHER_PLATFORM: OTHER_SECRET, THIRD: THIRD_SECRET},
    vehicles={**{code: (PLATFORM, True) for code in MINE}, THEIRS: (OTHER_PLATFORM, True)},
)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    yield from running(tmp_path_factory.mktemp("console"), SEED, admin_token=ADMIN_TOKEN)


def browser(gateway: RunningGateway) -> httpx.Client:
    """A client that behaves as a browser on the console's page: it keeps cookies and
    sends the console's own Origin with its forms."""
    return httpx.Client(
        base_url=gateway.base_url,
        headers={"Origin": gateway.base_url},
        follow_redirects=True,
        timeout=30,
    )


def log_in(client: httpx.Client, **form: str) -> httpx.Response:
    return client.post("/console/login", data=form)


def test_the_root_leads_to_the_login_page(gateway: RunningGateway) -> None:
    with browser(gateway) as client:
        page = client.get("/")
    assert page.url.path == "/console"
    assert '<label for="client_id">Client id</label>' in page.text
    assert '<label for="client_secret">Client secret</label>' in page.text
    assert ">Log in</button>" in page.text
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text), "nothing from another host"


def test_a_platform_sees_its_own_fleet_and_logs_out(gateway: RunningGateway) -> None:
    with browser(gateway) as client:
        assert log_in(client, client_id=PLATFORM, client_secret="wrong-one").status_code == 401
        page = log_in(client, client_id=PLATFORM, client_secret=DOC_SECRET)
        assert page.status_code == 200 and "Fleet" in page.text
        assert all(code in page.text for code in MINE)
        assert THEIRS not in page.text, "another platform's vehicle"
        assert "3 vehicles" in page.text
        cookie = page.history[0].headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/console" in cookie
        page = client.post("/console/logout")
        assert "Client secret" in page.text
        assert client.get("/console").text.count("Client id") == 1, "logged out"


def test_the_admin_sees_every_platform(gateway: RunningGateway) -> None:
    with browser(gateway) as client:
        assert log_in(client, admin_token="not-it").status_code == 401
        page = log_in(client, admin_token=ADMIN_TOKEN)
        assert all(code in page.text for code in [*MINE, THEIRS])
        assert OTHER_PLATFORM in page.text


def test_forms_from_another_origin_and_forged_cookies_are_refused(
    gateway: RunningGateway,
) -> None:
    with httpx.Client(base_url=gateway.base_url, timeout=30) as client:
        form = {"client_id": PLATFORM, "client_secret": DOC_SECRET}
        elsewhere = client.post(
            "/console/login", data=form, headers={"Origin": "https://evil.example"}
        )
        assert elsewhere.status_code == 403
        assert "set-cookie" not in elsewhere.headers
    forged_cookie = {"segway_console": "eyJrIjoiYWRtaW4ifQ.00"}
    with httpx.Client(base_url=gateway.base_url, cookies=forged_cookie, timeout=30) as client:
        forged = client.get("/console")
        assert "Client id" in forged.text, "a cookie not signed with the key is no session"


def _table(page: str) -> str:
    """The fleet list's table (the map's data holds every vehicle, whatever the filter)."""
    return page[page.index("<table") : page.index("</table>")]


def test_the_fleet_list_filters_and_sorts(gateway: RunningGateway) -> None:
    with browser(gateway) as client:
        log_in(client, client_id=PLATFORM, client_secret=DOC_SECRET)
        one = _table(client.get("/console", params={"q": MINE[1][-6:]}).text)
        assert "1 of 3 vehicles" in one and MINE[1] in one and MINE[0] not in one
        assert "3 of 3 vehicles" in client.get("/console", params={"state": "locked"}).text
        assert "0 of 3 vehicles" in client.get("/console", params={"state": "unlocked"}).text
        for order, descending in (("battery", False), ("-battery", True)):
            page = client.get("/console", params={"sort": order}).text
            battery = [int(b) for b in re.findall(r'"battery">(\d+) %<', page)]
            assert len(battery) == 3 and battery == sorted(battery, reverse=descending), battery


def test_the_vehicle_view_shows_every_query_and_acts_through_the_api(
    gateway: RunningGateway,
) -> None:
    iot_code = MINE[0]
    with browser(gateway) as client:
        log_in(client, client_id=PLATFORM, client_secret=DOC_SECRET)
        page = client.get(f"/console/vehicles/{iot_code}").text
        for query in ("Status: code 0", "Location: code 0", "Battery info: code 0"):
            assert query in page
        for button in ("Unlock", "Lock", "Battery cover", "Find", "Get bluetooth key"):
            assert f'<button type="submit">{button}</button>' in page
        for setting in ("Sound setting", "Switch setting", "Upload interval setting"):
            assert f"<summary>{setting}" in page, setting

        unlocked = client.post(f"/console/vehicles/{iot_code}/commands/unlock")
        assert unlocked.status_code == 200 and "Unlock: code 0 (Success)" in _answer(unlocked.text)
        assert '<dd data-field="lock">unlocked</dd>' in unlocked.text
        # a setting: the form's inputs become the API's JSON body, nested ones included
        lamp = {"bright": "2", "parkingMode.mode": "1", "parkingMode.color": "7"}
        done = client.post(f"/console/vehicles/{iot_code}/commands/set-ambient", data=lamp)
        assert "code 0" in _answer(done.text)
        out_of_range = client.post(
            f"/console/vehicles/{iot_code}/commands/set-ambient", data={**lamp, "bright": "9"}
        )
        assert "code 15004" in _answer(out_of_range.text), "the API's own refusal"
        key = client.post(f"/console/vehicles/{iot_code}/queries/bluetooth-key")
        assert "Get bluetooth key: code 0" in _answer(key.text)

        foreign = client.get(f"/console/vehicles/{THEIRS}")
        assert foreign.status_code == 404
        refused = client.post(f"/console/vehicles/{THEIRS}/commands/unlock")
        assert refused.status_code == 404
        simulation = client.post(f"/console/vehicles/{iot_code}/simulation/fault", data={})
        assert simulation.status_code == 403, "faults are the admin's"
    with api_client(gateway.base_url, OTHER_PLATFORM, OTHER_SECRET) as api:
        status = api.get("/api/v2/vehicle/query/current/status", params={"iotCode": THEIRS})
        assert status.json()["data"]["locked"] is True, "the other platform's vehicle stayed"


def _answer(page: str) -> str:
    """The text of the action's answer on a page, tags removed."""
    found = re.search(r'<section class="answer[^"]*" role="status".*?</section>', page, re.S)
    assert found is not None, page[:2000]
    return re.sub(r"\s*<[^>]+>\s*", "\n", found.group(0)).strip()


def test_the_admin_injects_a_fault_and_the_api_refuses(gateway: RunningGateway) -> None:
    iot_code = MINE[2]
    with browser(gateway) as client:
        log_in(client, admin_token=ADMIN_TOKEN)
        base = f"/console/vehicles/{iot_code}"
        injected = client.post(f"{base}/simulation/fault", data={"kind": "lock-fail"})
        assert "HTTP 200" in _answer(injected.text)
        assert "code 15601" in _answer(client.post(f"{base}/commands/lock").text)
        bad = client.post(f"{base}/simulation/fault", data={"kind": "no-such-fault"})
        assert "HTTP 400" in _answer(bad.text)
        assert "HTTP 200" in _answer(client.post(f"{base}/simulation/clear-faults").text)
        assert "code 0" in _answer(client.post(f"{base}/commands/lock").text)

        parked = _answer(client.post(f"{base}/simulation/ride-start").text)
        assert "Ride start: HTTP 409" in parked and "locked vehicle" in parked
        assert "code 0" in _answer(client.post(f"{base}/commands/unlock").text)
        assert "Ride start: HTTP 200" in _answer(client.post(f"{base}/simulation/ride-start").text)
        eventually(lambda: gateway.sim_vehicle(iot_code).riding, "riding")
        assert "Ride stop: HTTP 200" in _answer(client.post(f"{base}/simulation/ride-stop").text)
        code = str(next(iter(FaultCode)).value)
        raised = client.post(f"{base}/simulation/fault-code", data={"code": code})
        assert f"Raise fault code {code}: HTTP 200" in _answer(raised.text)
        assert "code 0" in _answer(client.post(f"{base}/commands/lock").text)
        unknown = client.post(f"{base}/simulation/no-such-thing")
        assert unknown.status_code == 404 and "no such action" in unknown.text


def _events(response: httpx.Response) -> Iterator[list[dict[str, object]]]:
    """The `vehicles` events of a Server-Sent Events stream."""
    for line in response.iter_lines():
        if line.startswith("data: "):
            yield json.loads(line.removeprefix("data: "))


def test_the_live_feed_sends_a_platform_its_own_vehicles_and_their_changes(
    gateway: RunningGateway,
) -> None:
    iot_code = MINE[1]
    with browser(gateway) as client:
        assert client.get("/console/live").status_code == 204, "no session: no stream"
        assert client.get("/console/session").url.path == "/console", "but the login page"
        log_in(client, client_id=PLATFORM, client_secret=DOC_SECRET)
        with client.stream("GET", "/console/live") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            events = _events(stream)
            snapshot = next(events)
            assert sorted(v["iot_code"] for v in snapshot) == MINE, "its own, all of them"
            assert all({"lat", "lng", "lock", "link", "state"} <= v.keys() for v in snapshot)
            unlocked = client.post(f"/console/vehicles/{iot_code}/commands/unlock")
            assert "Unlock: code 0" in _answer(unlocked.text)
            answered = time.monotonic()
            for changed in events:
                mine = [v for v in changed if v["iot_code"] == iot_code]
                if mine and mine[-1]["lock"] == "unlocked":
                    break
            else:
                pytest.fail("the stream ended before the change came")
            # the feed reads the store once a second: the issue asks for 2 s at most
            assert time.monotonic() - answered < 2.0
        client.post(f"/console/vehicles/{iot_code}/commands/lock")


def test_every_asset_a_page_names_is_the_gateways_own(gateway: RunningGateway) -> None:
    with browser(gateway) as client:
        log_in(client, client_id=PLATFORM, client_secret=DOC_SECRET)
        for path in ("/console", f"/console/vehicles/{MINE[0]}"):
            page = client.get(path).text
            assets = re.findall(r'(?:src|href)="([^"#]+\.(?:js|css))"', page)
            assert len(assets) >= 3, assets
            for asset in assets:
                assert asset.startswith("/console/static/"), asset
                assert client.get(asset).status_code == 200, asset


def test_the_vendored_map_library_is_as_published() -> None:
    """The files under static/vendor are npm's leaflet 1.9.4, unchanged (docs/console.md)."""
    folder = Path(__file__).parents[1] / VENDOR
    expected = dict(
        line.split("  ")[::-1] for line in (folder / "SHA256SUMS").read_text().splitlines()
    )
    for name, digest in expected.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name


def test_a_session_ends_with_a_suspension_and_with_a_new_secret(gateway: RunningGateway) -> None:
    access = f"/platforms/{THIRD}/access"
    with browser(gateway) as client, admin_client(gateway.base_url) as admin:
        log_in(client, client_id=THIRD, client_secret=THIRD_SECRET)
        assert "Log out" in client.get("/console").text
        assert admin.post(f"{access}/suspend").status_code == 200
        assert "Client secret" in client.get("/console").text, "suspended: the login page"
        refused = log_in(client, client_id=THIRD, client_secret=THIRD_SECRET)
        assert refused.status_code == 403 and "suspended" in refused.text
        assert admin.post(f"{access}/resume").status_code == 200
        assert "Log out" in client.get("/console").text, "resumed: the same session again"

        with client.stream("GET", "/console/live") as stream:
            events = _events(stream)
            assert next(events) == [], "THIRD has no vehicles"
            gateway.run(
                gateway.gateway.db.platforms.set_secret(
                    THIRD, hash_secret("a-newer-secret-1234"), seal(gateway.gateway.key, THIRD, "x")
                )
            )
            ended = time.monotonic()
            assert list(events) == [], "the open feed ends, sending nothing more"
            assert time.monotonic() - ended < 5.0, "at the feed's next poll"
        assert "Client secret" in client.get("/console").text, "a new secret ends the session"
        assert client.get("/console/live").status_code == 204


def test_a_large_fleet_is_listed_a_page_at_a_time(
    gateway: RunningGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fleet_table, "PAGE_SIZE", 2)  # the gateway runs in this process
    with browser(gateway) as client:
        log_in(client, client_id=PLATFORM, client_secret=DOC_SECRET)
        first = client.get("/console").text
        assert "3 of 3 vehicles, page 1 of 2" in first
        assert [code for code in MINE if code in _table(first)] == MINE[:2]
        assert all(code in first for code in MINE), "the map has every vehicle"
        following = re.search(r'<a href="([^"]+)" rel="next">Next page</a>', first)
        assert following is not None
        second = client.get("/console" + html.unescape(following.group(1))).text
        assert [code for code in MINE if code in _table(second)] == MINE[2:]
        assert 'rel="prev">Previous page</a>' in second
        beyond = client.get("/console", params={"page": "99"}).text
        assert "page 2 of 2" in beyond, "the last page"
        for nonsense in ("²", "9" * 5000, "-1", "x"):
            answered = client.get("/console", params={"page": nonsense})
            assert answered.status_code == 200 and "page 1 of 2" in answered.text, nonsense
        sort = re.search(r'<a href="([^"]+)">Battery</a>', second)
        assert sort is not None and "page=" not in sort.group(1), "a new order starts at 1"
