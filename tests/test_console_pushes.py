"""The console's push log (routes/console/push_log.py): the delivery log each session sees
(a platform its own pushes, the admin every platform's), its filters, replay of one push
and of every dead one, and the refusals. HTTP against a running gateway whose simulated
vehicles push to a receiver on loopback (one vehicle's pushes refused until the test lets
them through) and, for another platform, to a closed port (no answer)."""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from segway_gateway.contract.pushes import PushEvent
from segway_gateway.gateway.store.outbox import LogQuery
from tests.conftest import ADMIN_TOKEN, OTHER_PLATFORM, PLATFORM
from tests.harness import DOC_SECRET, RunningGateway, eventually, free_port, running
from tests.test_console import browser, log_in
from tests.test_pushes import NOTHING, receiving, seed_with_pushes

MINE = ["861477038730001", "861477038730002"]
"""PLATFORM's vehicles whose pushes the receiver takes."""
FLAKY = "861477038730003"
"""PLATFORM's vehicle whose pushes the receiver refuses while it is in `refused`."""
THEIRS = "861477038730101"
"""OTHER_PLATFORM's vehicle: its push URL is a closed port, so its pushes get no answer."""
_ROW = re.compile(
    r'<tr data-event="([^"]*)" data-kind="([^"]*)" data-iot="([^"]*)"'
    r' data-state="([^"]*)" data-at="([0-9]+)">'
)


@dataclass(frozen=True)
class Row:
    event: str
    kind: str
    iot: str
    state: str
    at: int

    @property
    def attempt(self) -> tuple[str, int]:
        """Which attempt the row is (its push's state may change from one look to the next)."""
        return self.event, self.at


def rows(page: httpx.Response) -> list[Row]:
    """The log's rows, as the page lists them (newest first)."""
    assert page.status_code == 200, page.text
    unescape = html.unescape
    return [
        Row(unescape(event), kind, unescape(iot), state, int(at))
        for event, kind, iot, state, at in _ROW.findall(page.text)
    ]


@pytest.fixture(scope="module")
def refused() -> set[str]:
    """The iotCodes whose pushes the receiver refuses (HTTP 500), FLAKY's to begin with."""
    return {FLAKY}


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, refused: set[str]
) -> Iterator[RunningGateway]:
    async def take(event: PushEvent) -> None:
        if event.iot_code in refused:
            raise RuntimeError("refused by the test")

    directory = tmp_path_factory.mktemp("console-pushes")
    with receiving(take) as url:
        seed_with_pushes(directory, url, [*MINE, FLAKY], PLATFORM)
        seed_with_pushes(directory, f"http://127.0.0.1:{free_port()}", [THEIRS], OTHER_PLATFORM)
        yield from running(directory, NOTHING, admin_token=ADMIN_TOKEN)


@pytest.fixture(scope="module")
def dead(gateway: RunningGateway) -> None:
    """FLAKY's and THEIRS' first pushes dead: refused once, then again 5 s later (the
    document's policy), the gateway's clock moved on to that retry."""
    with admin(gateway) as client:

        def tried(iot_code: str, state: str) -> bool:
            return bool(listed(client, iot=iot_code, state=state))

        for iot_code in (FLAKY, THEIRS):
            eventually(lambda c=iot_code: tried(c, "pending"), f"a refused push of {iot_code}")
        gateway.clock.advance(5)
        for iot_code in (FLAKY, THEIRS):
            eventually(lambda c=iot_code: tried(c, "dead"), f"a dead push of {iot_code}")


@contextlib.contextmanager
def logged_in(gateway: RunningGateway, **form: str) -> Iterator[httpx.Client]:
    """A browser on the console, logged in with `form`."""
    with browser(gateway) as client:
        assert log_in(client, **form).status_code == 200
        yield client


def platform(gateway: RunningGateway) -> contextlib.AbstractContextManager[httpx.Client]:
    return logged_in(gateway, client_id=PLATFORM, client_secret=DOC_SECRET)


def admin(gateway: RunningGateway) -> contextlib.AbstractContextManager[httpx.Client]:
    return logged_in(gateway, admin_token=ADMIN_TOKEN)


def listed(client: httpx.Client, **params: Any) -> list[Row]:
    return rows(client.get("/console/pushes", params=params))


def local(epoch_ms: int) -> str:
    """A time as a `datetime-local` input sends it (UTC, to the millisecond)."""
    moment = datetime(1970, 1, 1) + timedelta(milliseconds=epoch_ms)
    return moment.isoformat(timespec="milliseconds")


def test_a_platform_sees_its_own_pushes_and_the_admin_every_platforms(
    gateway: RunningGateway, dead: None
) -> None:
    with platform(gateway) as client:
        page = client.get("/console/pushes")
        mine = rows(page)
        assert {(r.kind, r.iot) for r in mine} >= {("status", MINE[0]), ("location", MINE[0])}
        assert {r.iot for r in mine} <= {*MINE, FLAKY}
        assert THEIRS not in page.text and OTHER_PLATFORM not in page.text
        assert "<td>status</td>" in page.text and "<td>location</td>" in page.text
        assert f'<a href="/console/vehicles/{MINE[0]}">{MINE[0]}</a>' in page.text
        assert "HTTP 200" in page.text and "HTTP 500" in page.text
        assert '<th scope="col">Platform</th>' not in page.text
        for name in ("Replay", "Replay all dead", "Filter"):
            assert f">{name}</button>" in page.text
        for field in ("kind", "event", "state", "iot", "since", "until", "limit"):
            assert f'<label for="{field}">' in page.text and f'id="{field}"' in page.text
    with admin(gateway) as client:
        page = client.get("/console/pushes", params={"limit": 1000})
        assert {r.iot for r in rows(page)} >= {MINE[0], FLAKY, THEIRS}
        assert f"<td>{OTHER_PLATFORM}</td>" in page.text and "no answer" in page.text
    with browser(gateway) as client:
        assert "Client secret" in client.get("/console/pushes").text, "no session: log in"


def test_each_filter_narrows_the_rows(gateway: RunningGateway, dead: None) -> None:
    with platform(gateway) as client:
        every = listed(client, limit=1000)
        assert len({r.kind for r in every}) >= 2 and len({r.state for r in every}) >= 2
        for kind in ("status", "location"):
            kept = listed(client, kind=kind)
            assert kept and {r.kind for r in kept} == {kind}
        for state in ("delivered", "dead"):
            kept = listed(client, state=state)
            assert kept and {r.state for r in kept} == {state}
        assert {r.iot for r in listed(client, state="dead")} == {FLAKY}
        kept = listed(client, iot=MINE[1])
        assert kept and {r.iot for r in kept} == {MINE[1]}
        one = every[-1].event
        assert {r.event for r in listed(client, event=one)} == {one}
        assert len(listed(client, limit=1)) == 1

        newest, oldest = every[0], every[-1]
        assert newest.at > oldest.at, "attempts over more than a millisecond"
        since = listed(client, since=local(newest.at), limit=1000)
        assert newest.attempt in {r.attempt for r in since}
        assert all(r.at >= newest.at for r in since)
        until = listed(client, until=local(newest.at), limit=1000)
        assert oldest.attempt in {r.attempt for r in until}
        assert all(r.at < newest.at for r in until)
        assert listed(client, since="2000-01-01T00:00", until="2000-01-02T00:00") == []
        after_2000 = listed(client, since="2000-01-01T00:00", limit=1000)
        assert oldest.attempt in {r.attempt for r in after_2000}


def test_replaying_a_push_sends_it_again_and_logs_a_new_attempt(
    gateway: RunningGateway, dead: None
) -> None:
    with platform(gateway) as client:
        delivered = listed(client, iot=MINE[0], kind="status", state="delivered")
        event = delivered[0].event
        before = len(listed(client, event=event))
        page = client.post("/console/pushes/replay", params={"iot": MINE[0]}, data={"event": event})
        assert page.url.path == "/console/pushes"
        assert dict(page.url.params) == {"iot": MINE[0], "replayed": "1"}
        assert re.search(r'role="status">1 push will be sent again', page.text)

        def again() -> list[Row]:
            return listed(client, event=event)

        eventually(lambda: len(again()) == before + 1, "the replayed push's new attempt")
        eventually(lambda: again()[0].state == "delivered", "the replayed push delivered")


def test_replay_all_dead_replays_a_platforms_own_or_for_the_admin_every_platforms(
    gateway: RunningGateway, dead: None, refused: set[str]
) -> None:
    with admin(gateway) as root, platform(gateway) as client:
        theirs = listed(root, iot=THEIRS, state="dead")
        assert theirs
        page = client.post("/console/pushes/replay", data={"event": theirs[0].event})
        assert "0 pushes will be sent again" in page.text, "another platform's push"
        assert listed(root, event=theirs[0].event)[0].state == "dead"

        flaky = {r.event for r in listed(client, iot=FLAKY, state="dead")}
        refused.discard(FLAKY)
        page = client.post("/console/pushes/replay", data={"dead": "1"})
        replayed = int(page.url.params["replayed"])
        assert replayed >= len(flaky) and f"{replayed} push" in page.text
        assert {r.event for r in listed(root, iot=THEIRS, state="dead")} >= {theirs[0].event}

        def delivered(event: str) -> bool:
            return listed(client, event=event)[0].state == "delivered"

        for event in flaky:
            eventually(lambda e=event: delivered(e), f"the dead push {event} delivered")

        tries = len(listed(root, event=theirs[0].event))
        page = root.post("/console/pushes/replay", data={"dead": "1"})
        assert int(page.url.params["replayed"]) >= len({r.event for r in theirs})

        def tried_again() -> bool:
            return len(listed(root, event=theirs[0].event)) > tries

        eventually(tried_again, "another platform's dead push tried again")
        assert listed(root, event=theirs[0].event)[0].state == "pending", "to be retried"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "yesterday"}, "Since is a date and time"),
        ({"until": "2024-13-01T00:00"}, "Until is a date and time"),
        ({"state": "lost"}, "State is one of pending, delivered, dead"),
        ({"kind": "rumour"}, "Event kind is one of"),
        ({"limit": "0"}, "Limit is a whole number from 1 to 1000"),
        ({"limit": "5000"}, "Limit is a whole number from 1 to 1000"),
    ],
)
def test_filters_that_cannot_be_read_answer_400_with_a_message(
    gateway: RunningGateway, params: dict[str, str], message: str
) -> None:
    with platform(gateway) as client:
        page = client.get("/console/pushes", params=params)
    assert page.status_code == 400
    assert 'role="alert"' in page.text and message in page.text
    assert "Traceback" not in page.text


def test_values_are_escaped_and_a_replay_must_say_which_and_come_from_the_console(
    gateway: RunningGateway,
) -> None:
    with platform(gateway) as client:
        page = client.get("/console/pushes", params={"iot": "<script>x</script>"})
        assert page.status_code == 200 and "<script>x" not in page.text
        assert "&lt;script&gt;x&lt;/script&gt;" in page.text
        nothing = client.post("/console/pushes/replay", data={})
        assert nothing.status_code == 400 and "Nothing replayed: say which pushes" in nothing.text
        elsewhere = client.post(
            "/console/pushes/replay",
            data={"dead": "1"},
            headers={"Origin": "https://evil.example"},
        )
        assert elsewhere.status_code == 403 and "replayed=" not in str(elsewhere.url)


def test_the_vehicle_view_lists_the_alerts_its_vehicle_raised(gateway: RunningGateway) -> None:
    """An alert raised through the console (the admin API), pushed, then on the vehicle's
    page among its recent alerts and faults, with its fields."""
    iot_code = MINE[1]
    with admin(gateway) as client:
        raised = client.post(f"/console/vehicles/{iot_code}/simulation/alert", data={"code": "1"})
        assert "Raise alert 1: HTTP 200" in raised.text

        def alerts() -> str:
            page = client.get(f"/console/vehicles/{iot_code}").text
            return page[page.index("Recent alerts and faults") : page.index("Recent pushes")]

        eventually(lambda: "alert:" in alerts(), "the alert on the vehicle's page")
        assert "alertStatus=0" in alerts() and "code=1 " in alerts(), alerts()


def test_the_vehicle_views_look_back_is_bounded(gateway: RunningGateway) -> None:
    """`newest` keeps a query among the log's newest attempts (the vehicle view's bound)."""
    outbox = gateway.gateway.db.outbox
    bounded = gateway.run(outbox.log(LogQuery(limit=1000, newest=3)))
    every = gateway.run(outbox.log(LogQuery(limit=1000)))  # newer ones may have come since
    assert len(every) > 3 and len(bounded) == 3
    assert any(every[k : k + 3] == bounded for k in range(len(every))), "the newest three"
    assert gateway.run(outbox.log(LogQuery(limit=1000, newest=0))) == []
