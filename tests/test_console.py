"""The console's first part (routes/console): log in with a platform's credentials or the
admin token, a fleet list each sees only its own part of, log out; the session cookie's
flags, the same-origin rule for its forms, and nothing from another host. HTTP against a
running gateway."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, OTHER_PLATFORM, OTHER_SECRET, PLATFORM
from tests.harness import DOC_SECRET, RunningGateway, Seed, running

MINE = [str(861_477_038_720_001 + n) for n in range(3)]
THEIRS = "861477038720101"
SEED = Seed(
    platforms={PLATFORM: DOC_SECRET, OTHER_PLATFORM: OTHER_SECRET},
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


def test_the_fleet_list_filters_and_sorts(gateway: RunningGateway) -> None:
    with browser(gateway) as client:
        log_in(client, client_id=PLATFORM, client_secret=DOC_SECRET)
        one = client.get("/console", params={"q": MINE[1][-6:]}).text
        assert "1 of 3 vehicles" in one and MINE[1] in one and MINE[0] not in one
        assert "3 of 3 vehicles" in client.get("/console", params={"state": "locked"}).text
        assert "0 of 3 vehicles" in client.get("/console", params={"state": "unlocked"}).text
        for order, descending in (("battery", False), ("-battery", True)):
            page = client.get("/console", params={"sort": order}).text
            battery = [int(b) for b in re.findall(r"<td>(\d+) %</td>", page)]
            assert len(battery) == 3 and battery == sorted(battery, reverse=descending), battery
