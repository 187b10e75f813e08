"""Fixtures: one real gateway on loopback for the session, tokens, and clients of its APIs."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from segway_gateway.gateway import crypto
from tests.harness import DOC_SECRET, RunningGateway, Seed, running
from tests.processes import require_service

TEST_PBKDF2_ITERATIONS = 1_000
crypto.hash_secret.__defaults__ = (TEST_PBKDF2_ITERATIONS,)
"""Secrets the tests seed in process are hashed with 1,000 PBKDF2 iterations, not
600,000 (a stored hash names its count, and checking it costs the same): seeding and
first logins took about 0.3 s each, hundreds of times. The CLI run as a process (`cli`)
hashes at full cost (test_sealing checks it), run in process (`invoke`) at this one, and
the one test that times an attack on hashing restores it."""

PLATFORM = "A20081"
OTHER_PLATFORM = "A30001"
EUROPE_PLATFORM = "E40001"
OTHER_SECRET = "other-platform-secret"
FIRST_VEHICLE = 861477038719116
FLEET_SIZE = 400
OTHER_VEHICLE = "861477038799001"
ADMIN_TOKEN = "test-admin-token"
PG_HOST = "127.0.0.1"
PG_PORT = 5432
INACTIVE_VEHICLE = "861477038799002"
EUROPE_VEHICLE = "861477038799003"

SEED = Seed(
    platforms={PLATFORM: DOC_SECRET, OTHER_PLATFORM: OTHER_SECRET, EUROPE_PLATFORM: OTHER_SECRET},
    vehicles={
        **{str(FIRST_VEHICLE + n): (PLATFORM, True) for n in range(FLEET_SIZE)},
        OTHER_VEHICLE: (OTHER_PLATFORM, True),
        INACTIVE_VEHICLE: (PLATFORM, False),
        EUROPE_VEHICLE: (EUROPE_PLATFORM, True),
    },
)


# Scheduling -------------------------------------------------------------------------

MODULE_SECONDS = {
    "tests/test_migrations.py": 82,
    "tests/test_rate_limits.py": 63,
    "tests/test_persistence.py": 30,
    "tests/test_broker_sessions.py": 28,
    "tests/test_admin.py": 22,
    "tests/test_deployment.py": 19,
    "tests/test_instances_processes.py": 18,
    "tests/test_logging.py": 18,
    "tests/test_configuration.py": 15,
    "tests/test_readiness.py": 14,
    "tests/test_metrics.py": 13,
    "tests/test_mqtt_link.py": 10,
    "tests/test_sdk.py": 9,
    "tests/test_pushes.py": 8,
    "tests/test_throttling.py": 8,
    "tests/test_client_cli.py": 7,
    "tests/test_demo.py": 7,
    "tests/test_push_dispatcher.py": 7,
    "tests/test_instances.py": 7,
    "tests/test_graceful_stop.py": 6,
    "tests/test_push_intervals.py": 5,
    "tests/test_errors.py": 5,
    "tests/test_push_claims.py": 5,
    "tests/test_event_acks.py": 5,
}
"""Seconds of test time of the slow modules (their tests' durations summed), measured on
2 cores with 4 workers beside another busy session: the order of a run with no
measurements of its own (a fresh clone, or `-p no:cacheprovider`)."""
CACHE_KEY = "segway-gateway/test-seconds"
MEASURED = pytest.StashKey[dict[str, float]]()
_taken: dict[str, float] = {}
"""Each test's duration in this run (setup, call and teardown), as the reports come in."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Longest modules first. `--dist loadfile` hands each worker one module at a time in
    collection order (with `--no-loadscope-reorder`; xdist's own order puts the modules
    with the most tests first, which left the few-test, many-second stories of processes
    and brokers for the end, one worker busy long after the others). Longest first, the
    short modules fill the gaps at the end. A module's length is the sum of its tests'
    durations in the last run that ran them (pytest's cache), else MODULE_SECONDS'. Only
    the order changes; a module's tests stay together and in their order."""
    measured = _measured(config)
    lengths: dict[str, float] = {}
    for item in items:
        if item.nodeid in measured:
            module = _module(item.nodeid)
            lengths[module] = lengths.get(module, 0.0) + measured[item.nodeid]

    def length(item: pytest.Item) -> float:
        module = _module(item.nodeid)
        return lengths.get(module, MODULE_SECONDS.get(module, 0.0))

    items.sort(key=length, reverse=True)  # stable: equal lengths stay as collected


def _module(nodeid: str) -> str:
    return nodeid.split("::")[0]


def _measured(config: pytest.Config) -> dict[str, float]:
    """The durations of the last run, read once per session: the xdist workers take the
    controller's copy, for they must all collect the same order (another session in this
    tree may rewrite the cache while they start)."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        measured: dict[str, float] = workerinput.get(CACHE_KEY, {})
        return measured
    if MEASURED not in config.stash:
        cache = getattr(config, "cache", None)
        config.stash[MEASURED] = cache.get(CACHE_KEY, {}) if cache is not None else {}
    return config.stash[MEASURED]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist, on the controller, before it starts a worker: hand it the durations."""
    node.workerinput[CACHE_KEY] = _measured(node.config)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _taken[report.nodeid] = round(_taken.get(report.nodeid, 0.0) + report.duration, 3)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The controller (or a run without xdist) keeps this run's durations for the next."""
    cache = getattr(session.config, "cache", None)
    if hasattr(session.config, "workerinput") or cache is None or not _taken:
        return
    cache.set(CACHE_KEY, {**cache.get(CACHE_KEY, {}), **_taken})


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    """The shared gateway; tests take fresh vehicles from `vehicle` to stay independent."""
    yield from running(
        tmp_path_factory.mktemp("gateway"), SEED, command_timeout=5.0, admin_token=ADMIN_TOKEN
    )


_fresh_vehicles = (str(FIRST_VEHICLE + n) for n in itertools.count())


@pytest.fixture(scope="module")
def clocked_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    """A gateway of the module's own, for tests that move its clock (`clock.advance`).

    The shared `server`'s clock is never moved, so any test may compare its times with
    the wall clock.
    """
    yield from running(
        tmp_path_factory.mktemp("clocked"), SEED, command_timeout=5.0, admin_token=ADMIN_TOKEN
    )


@pytest.fixture(scope="module")
def clocked_api(clocked_server: RunningGateway) -> Iterator[httpx.Client]:
    """An HTTP client authorised as PLATFORM on `clocked_server`."""
    with api_client(clocked_server.base_url) as client:
        yield client


@pytest.fixture
def vehicle() -> str:
    """An active vehicle of PLATFORM no other test has touched (locked, online)."""
    iot_code = next(_fresh_vehicles)
    if int(iot_code) >= FIRST_VEHICLE + FLEET_SIZE:
        pytest.fail("the shared fleet is used up: raise FLEET_SIZE")
    return iot_code


def get_token(base_url: str, client_id: str = PLATFORM, secret: str = DOC_SECRET) -> str:
    response = httpx.post(
        f"{base_url}/oauth/token",
        data={"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def api_client(base_url: str, client_id: str = PLATFORM, secret: str = DOC_SECRET) -> httpx.Client:
    """An HTTP client of the vendor API at `base_url`, authorised as `client_id`."""
    headers = {"Authorization": f"bearer {get_token(base_url, client_id, secret)}"}
    return httpx.Client(base_url=base_url, headers=headers, timeout=30)


def admin_client(base_url: str) -> httpx.Client:
    """An HTTP client of the admin API (`/admin/v1`) of the gateway at `base_url`."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    return httpx.Client(base_url=f"{base_url}/admin/v1", headers=headers, timeout=30)


@pytest.fixture(scope="session")
def api(server: RunningGateway) -> Iterator[httpx.Client]:
    """An HTTP client authorised as PLATFORM."""
    with api_client(server.base_url) as client:
        yield client


@pytest.fixture(scope="session")
def other_api(server: RunningGateway) -> Iterator[httpx.Client]:
    """An HTTP client authorised as OTHER_PLATFORM."""
    with api_client(server.base_url, OTHER_PLATFORM, OTHER_SECRET) as client:
        yield client


@pytest.fixture(scope="session")
def admin(server: RunningGateway) -> Iterator[httpx.Client]:
    """An HTTP client of the shared gateway's admin API, with its token."""
    with admin_client(server.base_url) as client:
        yield client


@pytest.fixture
def tmp_db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


@contextlib.contextmanager
def fresh_postgres() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards; its URL."""
    require_service("PostgreSQL", PG_HOST, PG_PORT)
    import asyncpg

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(
            host=PG_HOST, port=PG_PORT, user="postgres", database="postgres"
        )
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    name = f"segway_test_{uuid.uuid4().hex[:16]}"
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test."""
    with fresh_postgres() as url:
        yield url


@pytest.fixture(scope="module")
def postgres_module_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this module's tests."""
    with fresh_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs on SQLite and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gateway.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url
