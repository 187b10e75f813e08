"""Real 15990 (gateway/access.py): a platform's rate limit and its suspension, set with
the CLI or the admin API, over HTTP against two gateways on one PostgreSQL database.

The limit is one token bucket in the database for both instances; calls above it answer
15990 at once and use up nothing. A suspended platform's calls answer 15990, with a token
issued before the suspension too, and its token requests get an OAuth error. The CLI
writes the store from its own process; a running gateway applies it on its next look at
the store (every REGISTRATION_POLL_SECONDS, made to come at once by moving its clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from segway_gateway.contract import paths
from segway_gateway.gateway.runtime import REGISTRATION_POLL_SECONDS
from segway_gateway.gateway.store.access_rules import AccessRule
from segway_gateway.gateway.store.db import Database
from tests.conftest import (
    ADMIN_TOKEN,
    OTHER_PLATFORM,
    OTHER_SECRET,
    PLATFORM,
    admin_client,
    api_client,
    fresh_postgres,
)
from tests.harness import DOC_SECRET, RunningGateway, Seed, code_of, eventually, running
from tests.processes import cli, ok, refused, serving

VEHICLE = "861477038710001"
OTHER_VEHICLE = "861477038710002"
SEED = Seed(
    platforms={PLATFORM: DOC_SECRET, OTHER_PLATFORM: OTHER_SECRET},
    vehicles={VEHICLE: (PLATFORM, True), OTHER_VEHICLE: (OTHER_PLATFORM, True)},
)
DEMO_VEHICLE = "861477038719116"
"""One of the vehicles `serve --demo` adds to PLATFORM."""
RESTRICTED = 15990
HAMMER_SECONDS = 3.0
HAMMER_CLIENTS = 4


@pytest.fixture
def two_instances(tmp_path: Path) -> Iterator[tuple[str, list[RunningGateway]]]:
    """Two gateways on one fresh PostgreSQL database, and its URL."""
    with fresh_postgres() as db_url, contextlib.ExitStack() as stack:
        run = contextlib.contextmanager(running)
        common = {"db_url": db_url, "key_file": tmp_path / "gateway.key"}
        gateways = []
        for n, seed in enumerate((SEED, Seed({}, {}))):
            (tmp_path / f"g{n}").mkdir()
            gateways.append(
                stack.enter_context(
                    run(tmp_path / f"g{n}", seed, admin_token=ADMIN_TOKEN, **common)
                )
            )
        yield db_url, gateways


def next_look(gateways: list[RunningGateway], applied: AccessRule) -> None:
    """Each gateway looks at the store again now, as it does every 5 s; wait until each
    applies the `applied` rule."""
    for gateway in gateways:
        gateway.clock.advance(REGISTRATION_POLL_SECONDS)
    for gateway in gateways:
        eventually(lambda g=gateway: applies(g, applied), f"{applied} applied")


def applies(gateway: RunningGateway, rule: AccessRule) -> bool:
    access = gateway.gateway.access
    return gateway.call(lambda: access.rule(rule.platform_code)) == rule


def status(api: httpx.Client, iot_code: str = VEHICLE) -> httpx.Response:
    return api.get(paths.STATUS, params={"iotCode": iot_code})


def hammer(base_urls: list[str], seconds: float) -> tuple[Counter[int], list[float]]:
    """HAMMER_CLIENTS clients, spread over the gateways, each calling as fast as it can
    for `seconds`: the answers by result code, and how long the refused ones took."""
    codes: Counter[int] = Counter()
    refused_latencies: list[float] = []
    lock = threading.Lock()
    clients = [api_client(base_urls[n % len(base_urls)]) for n in range(HAMMER_CLIENTS)]
    start = threading.Barrier(HAMMER_CLIENTS)

    def run(client: httpx.Client) -> None:
        start.wait()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            began = time.perf_counter()
            code = code_of(status(client))
            took = time.perf_counter() - began
            with lock:
                codes[code] += 1
                if code == RESTRICTED:
                    refused_latencies.append(took)

    threads = [threading.Thread(target=run, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    return codes, refused_latencies


def test_a_limit_set_with_the_cli_is_one_bucket_for_both_instances(
    two_instances: tuple[str, list[RunningGateway]],
) -> None:
    """N=10, B=10, four clients hammering two instances for 3 s: 10 + 3 * 10 calls get
    through in all (21 to 54 allowed for timing), the rest answer 15990 at once; another
    platform is not limited. If refused calls used up tokens, or each instance had a
    bucket of its own, the count would fall under 21 or pass 54."""
    db_url, gateways = two_instances
    out = ok(cli("platform", "set-limits", PLATFORM, "--rps", "10", "--burst", "10", db=db_url))
    assert "at most 10 calls/s, bursts of 10" in out
    next_look(gateways, AccessRule(PLATFORM, 10, 10))
    codes, refused_latencies = hammer([g.base_url for g in gateways], HAMMER_SECONDS)
    assert set(codes) == {0, RESTRICTED}, codes
    assert 21 <= codes[0] <= 54, codes
    assert codes[RESTRICTED] > codes[0], codes
    assert statistics.median(refused_latencies) < 0.05, "15990 is answered at once"
    with api_client(gateways[1].base_url, OTHER_PLATFORM, OTHER_SECRET) as other:
        assert [code_of(status(other, OTHER_VEHICLE)) for _ in range(30)] == [0] * 30

    ok(cli("platform", "clear-limits", PLATFORM, db=db_url))
    next_look(gateways, AccessRule(PLATFORM))
    with api_client(gateways[0].base_url) as api:
        assert [code_of(status(api)) for _ in range(30)] == [0] * 30


def test_the_bucket_refills_at_the_rate_and_refused_calls_use_up_nothing(
    two_instances: tuple[str, list[RunningGateway]],
) -> None:
    """Burst 3 at 2 calls/s: 3 calls pass, the 4th is refused; 0.6 s later one passes (the
    refusals in between took nothing), and the one after is refused again."""
    db_url, gateways = two_instances
    ok(cli("platform", "set-limits", PLATFORM, "--rps", "2", "--burst", "3", db=db_url))
    next_look(gateways, AccessRule(PLATFORM, 2, 3))
    with api_client(gateways[0].base_url) as first, api_client(gateways[1].base_url) as second:
        assert [code_of(status(api)) for api in (first, second, first)] == [0, 0, 0]
        refusals = [code_of(status(api)) for api in (second, first, second, first)]
        assert refusals == [RESTRICTED] * 4
        time.sleep(0.6)  # the bucket refills in real time: 1.2 tokens by now
        assert code_of(status(second)) == 0
        assert code_of(status(first)) == RESTRICTED


def test_a_suspended_platform_gets_15990_and_no_token_until_resumed(
    two_instances: tuple[str, list[RunningGateway]],
) -> None:
    db_url, gateways = two_instances
    apis = [api_client(g.base_url) for g in gateways]  # tokens issued before the suspension
    try:
        assert [code_of(status(api)) for api in apis] == [0, 0]
        assert "suspended" in ok(cli("platform", "suspend", PLATFORM, db=db_url))
        next_look(gateways, AccessRule(PLATFORM, suspended=True))
        for api in apis:
            answer = api.get(paths.STATUS, params={"iotCode": VEHICLE})
            assert code_of(answer) == RESTRICTED
            assert "suspended" not in answer.text, "the msg is the document's"
            assert code_of(api.post(paths.UNLOCK, json={"iotCode": VEHICLE})) == RESTRICTED
        for gateway in gateways:
            token = token_request(gateway.base_url, PLATFORM, DOC_SECRET)
            assert token.status_code == 400, token.text
            assert token.json()["error"] == "unauthorized_client", token.text
            assert "access_token" not in token.json()
            wrong = token_request(gateway.base_url, PLATFORM, "not-the-secret-at-all")
            assert wrong.status_code == 401, "a wrong secret learns nothing of the suspension"
        with api_client(gateways[1].base_url, OTHER_PLATFORM, OTHER_SECRET) as other:
            assert code_of(status(other, OTHER_VEHICLE)) == 0

        assert "resumed" in ok(cli("platform", "resume", PLATFORM, db=db_url))
        next_look(gateways, AccessRule(PLATFORM))
        for gateway in gateways:
            with api_client(gateway.base_url) as fresh:
                assert code_of(status(fresh)) == 0
    finally:
        for api in apis:
            api.close()


def token_request(base_url: str, client_id: str, secret: str) -> httpx.Response:
    form = {"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"}
    return httpx.post(f"{base_url}{paths.TOKEN}", data=form, timeout=30)


def test_the_admin_api_sets_limits_and_suspends(
    two_instances: tuple[str, list[RunningGateway]],
) -> None:
    """The admin API writes the same rules: its own instance applies them at once, the
    other on its next look."""
    _, (first, second) = two_instances
    with (
        admin_client(first.base_url) as admin,
        api_client(first.base_url) as api,
        api_client(second.base_url) as api_second,
    ):
        access = f"/platforms/{PLATFORM}/access"
        assert admin.get(access).json() == {
            "platform": PLATFORM,
            "rps": None,
            "burst": None,
            "suspended": False,
        }
        limited = admin.put(f"{access}/limit", json={"rps": 0.01, "burst": 2})
        assert limited.status_code == 200, limited.text
        rule = {"platform": PLATFORM, "rps": 0.01, "burst": 2, "suspended": False}
        assert limited.json() == rule
        assert [code_of(status(api)) for _ in range(3)] == [0, 0, RESTRICTED]
        next_look([second], AccessRule(PLATFORM, 0.01, 2))  # its clock 5 s on: 0.05 refilled
        assert code_of(status(api_second)) == RESTRICTED, "the same bucket, used up"
        assert admin.delete(f"{access}/limit").json()["rps"] is None
        assert code_of(status(api)) == 0

        assert admin.post(f"{access}/suspend").json()["suspended"] is True
        assert code_of(status(api)) == RESTRICTED
        assert admin.get(access).json()["suspended"] is True
        assert admin.post(f"{access}/resume").json()["suspended"] is False
        assert code_of(status(api)) == 0

        for wrong in ({"rps": 0}, {"rps": 5, "burst": 0}, {"rps": 5, "extra": 1}, {}):
            answer = admin.put(f"{access}/limit", json=wrong)
            assert answer.status_code == 400, (wrong, answer.text)
            assert answer.json()["error"], answer.text
        assert admin.put(f"{access}/limit", content=b"{").status_code == 400
        unknown = admin.post("/platforms/Z99999/access/suspend")
        assert unknown.status_code == 404
        assert unknown.json() == {"error": "no platform Z99999"}
        assert admin.get("/platforms/Z99999/access").status_code == 404
        assert httpx.get(f"{first.base_url}/admin/v1{access}").status_code == 401


FOLLOWED_WITHIN = 10.0
"""Seconds a running gateway may take to apply a change the CLI made (issue 13)."""


def test_a_running_serve_process_follows_the_cli_within_10_s(tmp_path: Path) -> None:
    """Real time, a real `serve` process: suspend, then resume, with the CLI while it
    serves; each takes effect within 10 s (the gateway looks every 5 s)."""
    db_url = f"sqlite:///{tmp_path / 'demo.db'}"
    with serving(db_url, tmp_path, "--demo") as server, api_client(server.base_url) as api:
        assert code_of(status(api, DEMO_VEHICLE)) == 0
        ok(cli("platform", "suspend", PLATFORM, db=db_url, cwd=tmp_path))
        eventually(
            lambda: code_of(status(api, DEMO_VEHICLE)) == RESTRICTED,
            "the suspension applied",
            FOLLOWED_WITHIN,
        )
        ok(cli("platform", "resume", PLATFORM, db=db_url, cwd=tmp_path))
        eventually(
            lambda: token_request(server.base_url, PLATFORM, DOC_SECRET).status_code == 200,
            "the resumption applied",
            FOLLOWED_WITHIN,
        )
        with api_client(server.base_url) as fresh:
            assert code_of(status(fresh, DEMO_VEHICLE)) == 0


def test_cli_refuses_what_it_cannot_apply(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    asyncio.run(_seed(db))
    refused(cli("platform", "set-limits", "Z99999", "--rps", "5", db=db), "no platform Z99999")
    refused(cli("platform", "suspend", "Z99999", db=db), "no platform Z99999")
    refused(cli("platform", "resume", "Z99999", db=db), "no platform Z99999")
    refused(cli("platform", "set-limits", PLATFORM, "--rps", "0", db=db), "--rps")
    refused(cli("platform", "set-limits", PLATFORM, "--rps", "5", "--burst", "0", db=db), "--burst")
    refused(cli("platform", "set-limits", PLATFORM, db=db), "--rps")
    out = ok(cli("platform", "set-limits", PLATFORM, "--rps", "2.5", db=db))
    assert "at most 2.5 calls/s, bursts of 3" in out, "the burst defaults to the rate, rounded up"


async def _seed(db_url: str) -> None:
    from segway_gateway.gateway.store.platforms import Platform

    async with Database(db_url) as db:
        await db.platforms.add(Platform(PLATFORM, "hash", None, 0))


@pytest.mark.parametrize("instances", [2])
def test_instances_taking_at_once_never_share_a_token(db_url: str, instances: int) -> None:
    """Two databases handles (as two instances) taking from one bucket at the same moment
    get `burst` tokens in all, no more: each take locks the row it changes."""

    async def run() -> list[int]:
        await _seed(db_url)
        handles = [Database(db_url) for _ in range(instances)]
        try:
            await handles[0].access.set_limit(PLATFORM, 1.0, 50)
            now = int(time.time() * 1000)
            takes = [
                handle.access.take(PLATFORM, 3, 0, 1.0, 50, now)
                for handle in handles
                for _ in range(20)
            ]
            return [grant.granted for grant in await asyncio.gather(*takes)]
        finally:
            for handle in handles:
                await handle.close()

    granted = asyncio.run(run())
    assert sum(granted) == 50, granted
    assert max(granted) == 3


def test_a_bucket_gives_back_and_never_holds_more_than_its_burst(db_url: str) -> None:
    async def run() -> list[tuple[int, float]]:
        await _seed(db_url)
        async with Database(db_url) as db:
            take = db.access.take
            at = 1_000_000
            grants = [
                await take(PLATFORM, 4, 0, 10.0, 5, at),  # starts full: 4 of 5
                await take(PLATFORM, 4, 0, 10.0, 5, at),  # 1 left
                await take(PLATFORM, 4, 0, 10.0, 5, at + 250),  # 2.5 refilled
                await take(PLATFORM, 4, 2, 10.0, 5, at + 250),  # 2 given back
                await take(PLATFORM, 4, 0, 10.0, 5, at + 60_000),  # full again, not more
                await take(PLATFORM, 4, 0, 10.0, 5, at),  # a clock behind: no refill
            ]
            return [(g.granted, round(g.left, 3)) for g in grants]

    assert asyncio.run(run()) == [(4, 1.0), (1, 0.0), (2, 0.5), (2, 0.5), (4, 1.0), (1, 0.0)]


def test_calls_at_once_top_up_a_lease_once(tmp_path: Path) -> None:
    """After the first call's lease (100 tokens at 1,000/s), ninety calls in one tick: the
    lease falls under half, and one top-up is taken beside them, not one per call (which
    would hoard the shared bucket)."""
    from segway_gateway.clock import system_clock
    from segway_gateway.gateway.access import PlatformAccess

    db_url = f"sqlite:///{tmp_path / 'bucket.db'}"

    async def run() -> tuple[int, float]:
        await _seed(db_url)
        async with Database(db_url) as db:
            await db.access.set_limit(PLATFORM, 1000.0, 5000)
            access = PlatformAccess(db.access, system_clock)
            await access.follow()
            takes = 0
            take = db.access.take

            async def counted(*args: Any) -> Any:
                nonlocal takes
                takes += 1
                return await take(*args)

            db.access.take = counted  # type: ignore[method-assign]
            await access.admit(PLATFORM)  # the first lease, taken for the first call
            await asyncio.gather(*(access.admit(PLATFORM) for _ in range(90)))
            for _ in range(100):  # the top-up runs beside the calls
                await asyncio.sleep(0)
            left = await take(PLATFORM, 1, 0, 1000.0, 5000, int(time.time() * 1000))
            return takes, left.left

    takes, left = asyncio.run(run())
    assert takes <= 2, takes
    assert left >= 5000 - 2 * 100 - 1 - 50, "the instance holds at most two leases"
