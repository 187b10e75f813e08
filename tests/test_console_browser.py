"""The console in a real browser: Playwright driving Debian's Chromium (`/usr/bin/chromium`,
installed by `.ci/run`; never a downloaded browser) against `serve --demo`, as a person
would use it: log in, the ten demo vehicles in the list and on the map, unlock and lock
one, its status push in the push log, a replay, and as the admin a fault and the code it
makes the API answer. Every page is checked for script errors and for requests to any
other host; the keyboard alone can unlock.

Each view is photographed; `make screenshots` runs this module with
CONSOLE_SCREENSHOTS=docs/images, which docs/console.md shows.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN
from tests.harness import eventually
from tests.processes import ServeProcess, serving

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
DEMO_PLATFORM = "A20081"
DEMO_SECRET = "e2651be5-12d3-48f3-ba6c-bc2b04a447b6"
DEMO_VEHICLES = [str(861_477_038_719_116 + n) for n in range(10)]
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
"""A PNG of one pixel: the stand-in tile server's every tile."""
LIVE = 3_000
"""Milliseconds a change may take to show (issue 15: within 3 s)."""
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""Without the background-networking flags Chromium itself calls Google's hosts."""

pytestmark = pytest.mark.timeout(300)


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing (apt-get install chromium)"
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason}; CI=true requires it", pytrace=False)
    pytest.skip(reason)


class Watch:
    """What the browser did that it should not: script errors, requests to other hosts."""

    def __init__(self, base_url: str) -> None:
        self.host = urlsplit(base_url).netloc
        self.errors: list[str] = []
        self.foreign: list[str] = []

    def attach(self, page: playwright_api.Page) -> None:
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda err: self.errors.append(str(err)))
        page.on("request", self._request)

    def assert_clean(self) -> None:
        assert not self.errors, f"script errors: {self.errors}"
        assert not self.foreign, f"requests to other hosts: {self.foreign}"

    def _request(self, request: playwright_api.Request) -> None:
        url = urlsplit(request.url)
        if url.scheme not in ("data", "blob", "about") and url.netloc != self.host:
            self.foreign.append(request.url)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    _require_chromium()
    tmp = tmp_path_factory.mktemp("console-browser")
    env = {"SEGWAY_GATEWAY_ADMIN_TOKEN": ADMIN_TOKEN}
    with serving(f"sqlite:///{tmp / 'demo.db'}", tmp, "--demo", env=env) as server:
        yield server


@pytest.fixture(scope="module")
def browser(demo: ServeProcess) -> Iterator[playwright_api.Browser]:
    with playwright_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def watch(demo: ServeProcess) -> Watch:
    return Watch(demo.base_url)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wanted = os.environ.get("CONSOLE_SCREENSHOTS")
    folder = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _context(
    browser: playwright_api.Browser, demo: ServeProcess, watch: Watch, viewport: dict[str, int]
) -> playwright_api.BrowserContext:
    context = browser.new_context(base_url=demo.base_url, viewport=viewport)  # type: ignore[arg-type]
    context.on("page", watch.attach)
    return context


def _log_in(page: playwright_api.Page, **fields: str) -> None:
    page.goto("/")
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Log in").click()
    playwright_api.expect(page.get_by_role("button", name="Log out")).to_be_visible()


@pytest.fixture(scope="module")
def operator(
    browser: playwright_api.Browser, demo: ServeProcess, watch: Watch
) -> Iterator[playwright_api.BrowserContext]:
    """The demo platform's operator, logged in."""
    context = _context(browser, demo, watch, LAPTOP)
    _log_in(context.new_page(), **{"Client id": DEMO_PLATFORM, "Client secret": DEMO_SECRET})
    yield context
    context.close()


def _api(demo: ServeProcess) -> httpx.Client:
    token = httpx.post(
        f"{demo.base_url}/oauth/token",
        data={
            "client_id": DEMO_PLATFORM,
            "client_secret": DEMO_SECRET,
            "grant_type": "client_credentials",
        },
    ).json()["access_token"]
    return httpx.Client(
        base_url=demo.base_url, headers={"Authorization": f"bearer {token}"}, timeout=30
    )


def _locked(demo: ServeProcess, iot_code: str) -> bool:
    with _api(demo) as api:
        answer = api.get("/api/v2/vehicle/query/current/status", params={"iotCode": iot_code})
    assert answer.json()["code"] == 0, answer.text
    return bool(answer.json()["data"]["locked"])


def test_the_fleet_list_and_map_show_the_ten_demo_vehicles(
    operator: playwright_api.BrowserContext, watch: Watch, shots: Path
) -> None:
    page = operator.pages[0]
    page.goto("/console")
    rows = page.locator("table.fleet tbody tr")
    playwright_api.expect(rows).to_have_count(10)
    for iot_code in DEMO_VEHICLES:
        playwright_api.expect(page.get_by_role("link", name=iot_code, exact=True)).to_be_visible()
    markers = page.locator("[aria-label^='marker']")
    playwright_api.expect(markers).to_have_count(10)
    for marker in markers.all():
        assert re.fullmatch(r"-?\d+\.\d+", marker.get_attribute("data-lat") or "")
        assert re.fullmatch(r"-?\d+\.\d+", marker.get_attribute("data-lng") or "")
    playwright_api.expect(page.locator("[data-live-status]")).to_contain_text("live")
    page.screenshot(path=shots / "console-fleet.png", full_page=True)
    watch.assert_clean()


def test_unlock_and_lock_show_at_once_live_elsewhere_and_the_api_agrees(
    operator: playwright_api.BrowserContext, demo: ServeProcess, watch: Watch, shots: Path
) -> None:
    iot_code = DEMO_VEHICLES[0]
    fleet = operator.new_page()
    fleet.goto("/console")
    row_lock = fleet.locator(f"tr[data-iot='{iot_code}'] [data-field=lock]")
    playwright_api.expect(row_lock).to_have_text("locked")
    playwright_api.expect(fleet.locator("[data-live-status]")).to_contain_text("live")

    page = operator.pages[0]
    page.goto(f"/console/vehicles/{iot_code}")
    page.get_by_role("button", name="Unlock", exact=True).click()
    answer = page.get_by_role("status", name="Answer")
    playwright_api.expect(answer).to_contain_text("Unlock: code 0")
    lock = page.locator(f"[data-iot='{iot_code}'] [data-field=lock]")
    playwright_api.expect(lock).to_have_text("unlocked", timeout=LIVE)
    assert _locked(demo, iot_code) is False
    # the other tab learnt it through the live feed, without a reload
    playwright_api.expect(row_lock).to_have_text("unlocked", timeout=LIVE)
    page.screenshot(path=shots / "console-vehicle.png", full_page=True)

    _lock(page, demo, iot_code)
    playwright_api.expect(lock).to_have_text("locked", timeout=LIVE)
    assert _locked(demo, iot_code) is True
    playwright_api.expect(row_lock).to_have_text("locked", timeout=LIVE)
    fleet.close()
    watch.assert_clean()


def _lock(page: playwright_api.Page, demo: ServeProcess, iot_code: str) -> None:
    """Click "Lock". The demo's riders set off on an unlocked vehicle within seconds (10 s
    on average), and a vehicle being ridden refuses to lock (15600): then the rider is
    made to park it (the admin API) and the operator tries again."""
    answer = page.get_by_role("status", name="Answer")
    for _ in range(3):
        with page.expect_navigation():
            page.get_by_role("button", name="Lock", exact=True).click()
        playwright_api.expect(answer).to_contain_text("Lock: code")
        said = answer.text_content() or ""
        if "Lock: code 0" in said:
            return
        assert "Lock: code 15600" in said, said
        parked = httpx.post(
            f"{demo.base_url}/admin/v1/vehicles/{iot_code}/ride",
            json={"action": "stop"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert parked.status_code == 200, parked.text
    pytest.fail(f"{iot_code} would not lock")


def test_the_keyboard_alone_unlocks(
    operator: playwright_api.BrowserContext, demo: ServeProcess, watch: Watch
) -> None:
    iot_code = DEMO_VEHICLES[1]
    page = operator.pages[0]
    page.goto(f"/console/vehicles/{iot_code}")
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Unlock":
            break
    else:
        pytest.fail("Tab never reached the Unlock button")
    page.keyboard.press("Enter")
    playwright_api.expect(page.get_by_role("status", name="Answer")).to_contain_text(
        "Unlock: code 0"
    )
    assert _locked(demo, iot_code) is False
    watch.assert_clean()


def test_enter_on_a_marker_opens_its_vehicle_and_an_ended_session_is_said(
    operator: playwright_api.BrowserContext, demo: ServeProcess, watch: Watch
) -> None:
    iot_code = DEMO_VEHICLES[3]
    page = operator.pages[0]
    page.goto("/console")
    page.locator(f"[aria-label^='marker {iot_code} ']").focus()
    page.keyboard.press("Enter")
    playwright_api.expect(page).to_have_url(re.compile(f"/console/vehicles/{iot_code}$"))
    live = page.locator("[data-live-status]")
    playwright_api.expect(live).to_contain_text("live")
    access = f"{demo.base_url}/admin/v1/platforms/{DEMO_PLATFORM}/access"
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert httpx.post(f"{access}/suspend", headers=admin).status_code == 200
    try:  # the platform's session ends: its feed is closed, and the page says so
        playwright_api.expect(live).to_contain_text("session ended", timeout=15_000)
    finally:
        assert httpx.post(f"{access}/resume", headers=admin).status_code == 200
    page.get_by_role("link", name="log in again").click()
    playwright_api.expect(page.get_by_role("button", name="Log out")).to_be_visible()
    watch.assert_clean()


def test_the_status_push_is_in_the_log_and_replays(
    operator: playwright_api.BrowserContext, watch: Watch, shots: Path
) -> None:
    iot_code = DEMO_VEHICLES[0]
    page = operator.pages[0]
    page.goto("/console")
    page.get_by_role("link", name="Push log").click()
    page.get_by_label("Vehicle").fill(iot_code)
    page.get_by_role("button", name="Filter").click()
    rows = page.locator(f"tbody tr[data-iot='{iot_code}'][data-kind='status']")
    playwright_api.expect(rows.first).to_be_visible()
    page.screenshot(path=shots / "console-pushes.png", full_page=True)

    event_id = rows.first.get_attribute("data-event")
    assert event_id
    page.goto(f"/console/pushes?event={event_id}")
    attempts_of_it = page.locator(f"tbody tr[data-event='{event_id}']")
    before = attempts_of_it.count()
    attempts_of_it.first.get_by_role("button", name="Replay").click()
    playwright_api.expect(page.get_by_role("status")).to_have_text("1 push will be sent again.")

    def attempts() -> int:
        page.reload()
        return attempts_of_it.count()

    eventually(lambda: attempts() > before, "a new attempt of the replayed push", 15)
    watch.assert_clean()


def test_the_admin_injects_a_fault_and_sees_the_refusal_code(
    browser: playwright_api.Browser, demo: ServeProcess, watch: Watch, shots: Path
) -> None:
    iot_code = DEMO_VEHICLES[2]
    context = _context(browser, demo, watch, LAPTOP)
    page = context.new_page()
    _log_in(page, **{"Admin token": ADMIN_TOKEN})
    page.get_by_role("link", name="Admin").click()
    page.locator("#zone-platform").select_option(DEMO_PLATFORM)
    page.locator("#zone-name").fill("station-square")
    drawn = page.locator("#map")
    for x, y in ((200, 150), (300, 150), (300, 250), (200, 250)):  # four corners
        drawn.click(position={"x": x, "y": y})
    zone = json.loads(page.locator("#zone-geojson").input_value())
    assert zone["type"] == "Polygon" and len(zone["coordinates"][0]) == 5, zone
    page.get_by_role("button", name="Save geofence").click()
    playwright_api.expect(page.get_by_role("status")).to_contain_text("HTTP 201")
    page.screenshot(path=shots / "console-admin.png", full_page=True)
    page.get_by_role("link", name="Fleet").click()
    playwright_api.expect(page.locator("path.leaflet-interactive")).to_have_count(1)

    page.goto(f"/console/vehicles/{iot_code}")
    page.get_by_label("Fault", exact=True).select_option("unlock-fail")
    page.get_by_role("button", name="Inject fault").click()
    answer = page.get_by_role("status", name="Answer")
    playwright_api.expect(answer).to_contain_text("HTTP 200")
    page.get_by_role("button", name="Unlock", exact=True).click()
    playwright_api.expect(answer).to_contain_text("Unlock: code 15611")
    assert _locked(demo, iot_code) is True
    page.get_by_role("button", name="Clear faults").click()
    playwright_api.expect(answer).to_contain_text("HTTP 200")
    context.close()
    watch.assert_clean()


def test_a_phone_sees_the_fleet(
    browser: playwright_api.Browser, demo: ServeProcess, watch: Watch, shots: Path
) -> None:
    context = _context(browser, demo, watch, PHONE)
    page = context.new_page()
    _log_in(page, **{"Client id": DEMO_PLATFORM, "Client secret": DEMO_SECRET})
    playwright_api.expect(page.locator("[aria-label^='marker']")).to_have_count(10)
    page.screenshot(path=shots / "console-phone.png", full_page=False)
    for path in ("/console", f"/console/vehicles/{DEMO_VEHICLES[4]}", "/console/pushes"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width} px wide on a {PHONE['width']} px phone"
    context.close()
    watch.assert_clean()


def test_a_tile_server_given_draws_the_basemap(
    browser: playwright_api.Browser, tmp_path: Path
) -> None:
    """`--console-tiles URL`: the map asks that server for its tiles (here one on
    loopback that counts what it is asked)."""
    asked: list[str] = []

    class Tiles(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(PIXEL)))
            self.end_headers()
            self.wfile.write(PIXEL)

        def log_message(self, *_args: object) -> None:
            pass

    tiles = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    threading.Thread(target=tiles.serve_forever, daemon=True).start()
    template = f"http://127.0.0.1:{tiles.server_port}/{{z}}/{{x}}/{{y}}.png"
    db = f"sqlite:///{tmp_path / 'tiles.db'}"
    try:
        with serving(db, tmp_path, "--demo", "--console-tiles", template) as server:
            context = browser.new_context(base_url=server.base_url, viewport=LAPTOP)  # type: ignore[arg-type]
            _log_in(
                context.new_page(), **{"Client id": DEMO_PLATFORM, "Client secret": DEMO_SECRET}
            )
            eventually(lambda: len(asked) >= 4, "the map asking for its tiles", 15)
            assert all(re.fullmatch(r"/\d+/\d+/\d+\.png", path) for path in asked), asked
            context.close()
    finally:
        tiles.shutdown()
        tiles.server_close()
