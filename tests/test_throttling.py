"""Token throttling (gateway/throttle.py, docs/security.md), over HTTP.

Wrong secrets 1 to 20 of one (source address, client id) within 60 s are 401 as ever; from
the 21st every request of that pair, the right secret too, is 429 with a Retry-After,
answered without PBKDF2; the same platform from another address, and other platforms,
are not locked out; the right secret works once Retry-After has passed. An address is
capped across client ids too (100). The counters live in the database, so two instances
on one PostgreSQL database count together.

Source addresses differ by binding the client to 127.0.0.x (all of 127/8 is loopback);
the gateways listen on 127.0.0.1 and see the client's own address as the TCP peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from segway_gateway.gateway import crypto
from segway_gateway.gateway.store.db import Database
from segway_gateway.gateway.store.login_failures import ADDRESS_ROW
from segway_gateway.gateway.throttle import ADDRESS_LIMIT, CLIENT_LIMIT, LOCKOUT
from tests.conftest import (
    EUROPE_PLATFORM,
    OTHER_PLATFORM,
    OTHER_SECRET,
    PLATFORM,
    fresh_postgres,
)
from tests.harness import DOC_SECRET, RunningGateway, Seed, running

TOKEN = "/oauth/token"
QUIET_PLATFORM = "A30002"
"""A platform whose first login, before any attack, measures what this machine takes."""
PLATFORMS = Seed(
    platforms={
        PLATFORM: DOC_SECRET,
        OTHER_PLATFORM: OTHER_SECRET,
        EUROPE_PLATFORM: OTHER_SECRET,
        QUIET_PLATFORM: OTHER_SECRET,
    },
    vehicles={},
)
NOTHING = Seed(platforms={}, vehicles={})
ATTACKER, NEIGHBOUR, SPRAYER = "127.0.0.2", "127.0.0.3", "127.0.0.4"
"""Source addresses: the attacker's, another one of the same operator, a sprayer's."""
WRONG = "a-wrong-secret-of-some-length"
ATTACK_CONNECTIONS = 16
ATTACK_PAUSE = 0.05
ATTACK_SECONDS = 8.0
ATTACK_AT_MOST = 50.0
"""Seconds after which an attack stops whatever it got (the window is 60 s)."""
FIRST_LOGIN_WITHIN = 1.0


def form(client_id: str, secret: str) -> dict[str, str]:
    return {"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"}


@contextlib.contextmanager
def client_from(address: str, base_url: str) -> Iterator[httpx.Client]:
    """An HTTP client whose connections leave from `address`."""
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(transport=transport, base_url=base_url, timeout=30) as client:
        yield client


def token(client: httpx.Client, client_id: str, secret: str) -> httpx.Response:
    return client.post(TOKEN, data=form(client_id, secret))


def throttled(response: httpx.Response) -> int:
    """The Retry-After of a 429 answer, checked to be one: OAuth JSON, honest bounds."""
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "error_description"}, body
    assert body["error"] == "slow_down"
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 90
    assert f"retry after {retry_after} s" in body["error_description"]
    return retry_after


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every secret the gateways of this process check with PBKDF2, in order."""
    checked: list[str] = []
    verify = crypto.verify_secret

    def counting(secret: str, stored: str) -> bool:
        checked.append(secret)
        return verify(secret, stored)

    monkeypatch.setattr(crypto, "verify_secret", counting)
    return checked


@pytest.fixture
def real_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Platforms seeded at full PBKDF2 cost (the suite seeds cheap ones, conftest.py):
    what an attack makes the gateway hash is the point of the test."""
    monkeypatch.setattr(crypto.hash_secret, "__defaults__", (crypto.PBKDF2_ITERATIONS,))


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[RunningGateway]:
    """A gateway of the test's own (SQLite): it moves the clock and leaves blocks behind."""
    yield from running(tmp_path, PLATFORMS)


def test_the_21st_attempt_and_the_right_secret_get_429_unhashed_until_retry_after(
    gateway: RunningGateway, hashed: list[str]
) -> None:
    with (
        client_from(ATTACKER, gateway.base_url) as attacker,
        client_from(NEIGHBOUR, gateway.base_url) as neighbour,
    ):
        for n in range(CLIENT_LIMIT):
            response = token(attacker, PLATFORM, f"{WRONG}-{n}")
            assert response.status_code == 401, (n, response.text)
            assert response.json()["error"] == "invalid_client"
        assert len(hashed) == CLIENT_LIMIT

        started = time.perf_counter()
        retry_after = throttled(token(attacker, PLATFORM, WRONG))
        throttled(token(attacker, PLATFORM, DOC_SECRET))
        refusing = time.perf_counter() - started
        assert retry_after <= LOCKOUT
        assert len(hashed) == CLIENT_LIMIT, "a throttled request was hashed"
        assert refusing < 0.5, f"two 429 answers took {refusing:.3f} s"

        assert token(neighbour, PLATFORM, DOC_SECRET).status_code == 200
        assert token(attacker, OTHER_PLATFORM, OTHER_SECRET).status_code == 200

        retry_after = throttled(token(attacker, PLATFORM, DOC_SECRET))
        gateway.clock.advance(retry_after - 5)
        throttled(token(attacker, PLATFORM, DOC_SECRET))
        gateway.clock.advance(5)
        assert token(attacker, PLATFORM, DOC_SECRET).status_code == 200
        # the right secret forgot the pair's failures: a wrong one counts from 1 again
        assert token(attacker, PLATFORM, WRONG).status_code == 401
        assert token(attacker, PLATFORM, DOC_SECRET).status_code == 200


def test_the_right_secret_after_19_wrong_ones_blocks_nothing(
    gateway: RunningGateway, hashed: list[str]
) -> None:
    """The right secret's attempt is the pair's 20th count, which must not block it: the
    secret is right, the count is taken back, and the next right secret is let in too
    (it was refused 429 for 60 s, from the block the attempt had set)."""
    with client_from(ATTACKER, gateway.base_url) as client:
        for n in range(CLIENT_LIMIT - 1):
            assert token(client, PLATFORM, f"{WRONG}-{n}").status_code == 401
        assert token(client, PLATFORM, DOC_SECRET).status_code == 200
        assert token(client, PLATFORM, DOC_SECRET).status_code == 200
        assert token(client, PLATFORM, WRONG).status_code == 401, "counting starts again"
    assert len(hashed) == CLIENT_LIMIT  # 19 wrong and the right one; then the digest it left


def test_an_address_is_capped_across_client_ids(gateway: RunningGateway, hashed: list[str]) -> None:
    """100 refusals from one address, spread so that no pair reaches 20 (wrong secrets of
    two platforms, unknown client ids, ids no platform can have): every client id from
    that address is 429 then, a right secret too; other addresses are not. (The two
    platforms log in first, so their wrong secrets are refused from the digest kept in
    memory, without PBKDF2, and count all the same.)"""
    with (
        client_from(SPRAYER, gateway.base_url) as sprayer,
        client_from(NEIGHBOUR, gateway.base_url) as neighbour,
    ):
        for client_id in (PLATFORM, EUROPE_PLATFORM):
            secret = DOC_SECRET if client_id == PLATFORM else OTHER_SECRET
            assert token(neighbour, client_id, secret).status_code == 200
        attempts = [(PLATFORM, WRONG)] * 15 + [(EUROPE_PLATFORM, WRONG)] * 15
        attempts += [("", WRONG), ("x" * 65, WRONG), ("A 1", WRONG)]
        attempts += [(f"A9{n:04d}", WRONG) for n in range(ADDRESS_LIMIT - len(attempts))]
        for client_id, secret in attempts:
            assert token(sprayer, client_id, secret).status_code == 401, client_id
        hashes = len(hashed)
        retry_after = throttled(token(sprayer, OTHER_PLATFORM, OTHER_SECRET))
        throttled(token(sprayer, "A90000", WRONG))
        assert len(hashed) == hashes
        assert token(neighbour, OTHER_PLATFORM, OTHER_SECRET).status_code == 200

        gateway.clock.advance(retry_after)
        assert token(sprayer, OTHER_PLATFORM, OTHER_SECRET).status_code == 200


class Attack:
    """16 connections from ATTACKER posting a wrong secret of PLATFORM, each every 50 ms
    after its answer, for at least `seconds` and until `enough_429` answers were 429
    (on a slow machine the 20 wrong secrets, hashed one after the other, take longer)."""

    def __init__(self, base_urls: list[str], seconds: float, enough_429: int) -> None:
        self.statuses: Counter[int] = Counter()
        self.first_429: asyncio.Event | None = None
        self._base_urls, self._seconds, self._enough = base_urls, seconds, enough_429

    async def run(self) -> None:
        self.first_429 = asyncio.Event()
        until = time.monotonic() + self._seconds
        deadline = time.monotonic() + ATTACK_AT_MOST
        await asyncio.gather(
            *(
                self._connection(self._base_urls[n % len(self._base_urls)], until, deadline)
                for n in range(ATTACK_CONNECTIONS)
            )
        )

    def _going(self, until: float, deadline: float) -> bool:
        now = time.monotonic()
        return now < deadline and (now < until or self.statuses[429] < self._enough)

    async def _connection(self, base_url: str, until: float, deadline: float) -> None:
        assert self.first_429 is not None
        transport = httpx.AsyncHTTPTransport(local_address=ATTACKER)
        # an attacker waits its turn, however long: a pair's wrong secrets are hashed one
        # at a time, at low priority, and on a busy machine 16 queued take a while
        async with httpx.AsyncClient(transport=transport, base_url=base_url, timeout=120) as api:
            while self._going(until, deadline):
                response = await api.post(TOKEN, data=form(PLATFORM, WRONG))
                self.statuses[response.status_code] += 1
                if response.status_code == 429:
                    self.first_429.set()
                await asyncio.sleep(ATTACK_PAUSE)


async def _first_login(base_url: str, client_id: str, secret: str) -> float:
    """Seconds a platform's first token request (from NEIGHBOUR) takes."""
    transport = httpx.AsyncHTTPTransport(local_address=NEIGHBOUR)
    async with httpx.AsyncClient(transport=transport, base_url=base_url, timeout=30) as client:
        started = time.perf_counter()
        response = await client.post(TOKEN, data=form(client_id, secret))
        latency = time.perf_counter() - started
    assert response.status_code == 200, response.text
    return latency


@pytest.mark.load
@pytest.mark.usefixtures("real_hashes")
def test_another_platforms_first_login_stays_under_1_s_during_an_attack(
    gateway: RunningGateway, hashed: list[str]
) -> None:
    """16 connections retry a wrong secret of PLATFORM every 50 ms for 8 s or more; two
    other platforms log in for the first time (PBKDF2) meanwhile: 1 s in, while the
    attack's 20 wrong secrets are being hashed one after the other, and 1 s after the
    attack got its first 429, while it is answered 429. Each takes under 1 s; on a
    machine so busy (other test workers) that a first login without any attack already
    takes over 0.5 s, under twice that."""
    attack = Attack([gateway.base_url], ATTACK_SECONDS, enough_429=200)
    quiet = asyncio.run(_first_login(gateway.base_url, QUIET_PLATFORM, OTHER_SECRET))
    within = max(FIRST_LOGIN_WITHIN, 2 * quiet)

    async def logins() -> list[float]:
        await asyncio.sleep(1.0)
        hashing = await _first_login(gateway.base_url, OTHER_PLATFORM, OTHER_SECRET)
        assert attack.first_429 is not None
        await attack.first_429.wait()
        await asyncio.sleep(1.0)
        refusing = await _first_login(gateway.base_url, EUROPE_PLATFORM, OTHER_SECRET)
        return [hashing, refusing]

    async def scenario() -> list[float]:
        _, latencies = await asyncio.gather(attack.run(), logins())
        return latencies

    latencies = asyncio.run(scenario())
    statuses = attack.statuses
    print(
        f"\nattack answers {dict(statuses)}; first logins took {quiet:.3f} s before it,"
        f" {latencies[0]:.3f} s while it was hashed, {latencies[1]:.3f} s while refused"
    )
    assert statuses[401] == CLIENT_LIMIT, statuses
    assert set(statuses) == {401, 429}, statuses
    assert hashed.count(WRONG) == CLIENT_LIMIT
    assert all(latency < within for latency in latencies), (quiet, latencies)


@pytest.fixture
def two_instances(tmp_path: Path) -> Iterator[list[RunningGateway]]:
    """Two gateways on one fresh PostgreSQL database (skipped without PostgreSQL)."""
    with fresh_postgres() as db_url, contextlib.ExitStack() as stack:
        run = contextlib.contextmanager(running)
        common = {"db_url": db_url, "key_file": tmp_path / "gateway.key"}
        gateways = []
        for n, seed in enumerate((PLATFORMS, NOTHING)):
            (tmp_path / f"g{n}").mkdir()
            gateways.append(stack.enter_context(run(tmp_path / f"g{n}", seed, **common)))
        yield gateways


def test_two_instances_on_postgresql_count_attempts_together(
    two_instances: list[RunningGateway], hashed: list[str]
) -> None:
    """Attempts alternating between two instances: 20 in all are 401, the 21st on
    either is 429, the right secret too, on both; both let it in after Retry-After."""
    with contextlib.ExitStack() as stack:
        clients = [stack.enter_context(client_from(ATTACKER, g.base_url)) for g in two_instances]
        for n in range(CLIENT_LIMIT):
            assert token(clients[n % 2], PLATFORM, f"{WRONG}-{n}").status_code == 401
        retry_after = max(throttled(token(client, PLATFORM, WRONG)) for client in clients)
        for client in clients:
            throttled(token(client, PLATFORM, DOC_SECRET))
        assert len(hashed) == CLIENT_LIMIT
        for gateway in two_instances:
            gateway.clock.advance(retry_after)
        for client in clients:
            assert token(client, PLATFORM, DOC_SECRET).status_code == 200


def test_two_instances_under_concurrent_attack_answer_exactly_20_wrong_secrets(
    two_instances: list[RunningGateway], hashed: list[str]
) -> None:
    """16 connections, half to each instance, retrying at once: the two instances share
    the counters and count each secret before hashing it, so exactly 20 wrong secrets
    are hashed and answered 401 in all, not 20 per instance (40), nor a few more for the
    ones in flight when the 20th failed (21 to 23 before the count came first)."""

    attack = Attack([g.base_url for g in two_instances], 4.0, enough_429=50)
    asyncio.run(attack.run())
    statuses = attack.statuses
    assert set(statuses) == {401, 429}, statuses
    assert statuses[401] == CLIENT_LIMIT, statuses
    assert hashed.count(WRONG) == CLIENT_LIMIT


@pytest.mark.parametrize("limit", [1, 3])
def test_the_counters_window_block_and_prune_on_both_databases(db_url: str, limit: int) -> None:
    """The store's rule, straight: failures count within the window the first opens; the
    one reaching the limit blocks for the lockout; a block under way never moves; after
    the window a count starts again; pruning removes only rows that are over."""
    window, lockout, second = 60_000, 60_000, 1000

    async def story() -> None:
        async with Database(db_url) as db:
            repo = db.login_failures
            now = 1_000_000_000_000
            for n in range(1, limit + 1):
                rows = await repo.record("10.0.0.1", [("A1", limit, 1)], now + n, window, lockout)
                blocked = now + n + lockout if n == limit else 0
                assert [(r.failures, r.blocked_until) for r in rows] == [(n, blocked)]
            until = now + limit + lockout
            again = await repo.record(
                "10.0.0.1", [("A1", limit, 1)], now + 30 * second, window, lockout
            )
            assert again[0].blocked_until == until
            other = await repo.record(
                "10.0.0.2", [(ADDRESS_ROW, 100, 1), ("A1", limit, 1)], now, window, lockout
            )
            assert [r.client_id for r in other] == [ADDRESS_ROW, "A1"]
            assert {r.client_id for r in await repo.read("10.0.0.2", "A1")} == {"", "A1"}
            assert [r.client_id for r in await repo.read("10.0.0.2", None)] == [""]

            assert await repo.prune(now + window - 1) == 0
            later = until + second
            fresh = await repo.record("10.0.0.1", [("A1", limit, 1)], later, window, lockout)
            assert fresh[0].failures == 1
            assert fresh[0].window_end == later + window
            assert await repo.prune(later) == 2  # 10.0.0.2's two rows, over; not the fresh one
            assert len(await repo.read("10.0.0.1", "A1")) == 1
            await repo.clear("10.0.0.1", "A1")
            assert await repo.read("10.0.0.1", "A1") == []

    asyncio.run(story())
