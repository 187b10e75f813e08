"""Schema migrations (store/schema.py, `segway-gateway db`), on SQLite and PostgreSQL.

`tests/data/pre_alembic/` holds two databases made by the gateway of 2026-11-29, before
migrations (its README says how): platforms with sealed secrets, a push policy, a limit
and a suspension, vehicles with stored reports, tokens, pushes delivered, pending and
dead with their delivery log, a zone, login failures and the simulated vehicles' state.
Each is upgraded in place, through the real CLI and `serve`, and every row is checked
to be there afterwards.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

from segway_gateway.gateway.store.db import Database
from segway_gateway.gateway.store.tables import metadata
from tests.conftest import fresh_postgres
from tests.processes import ServeProcess, cli, ok

FIXTURES = Path(__file__).parent / "data" / "pre_alembic"
FIXTURE_KEY = "pre-alembic-fixture-key"
"""The gateway key the fixtures were made with (their secrets are sealed with it)."""
HEAD = "0004"
DROPPED = {"platform_secrets", "push_policies"}
"""Tables the contract revision drops (their rows move into `platforms`)."""
SECRETS = {
    "A20081": "e2651be5-12d3-48f3-ba6c-bc2b04a447b6",
    "E10001": "europe-platform-secret-0001",
    "C40001": "china-platform-secret-00001",
}
STORED_VEHICLE = "861477038719117"
"""A demo vehicle the fixture's gateway stored reports of."""


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database made by the pre-migration gateway, loaded from its dump; its URL."""
    dump = (FIXTURES / f"{request.param}.sql").read_text()
    if request.param == "sqlite":
        path = tmp_path / "old.db"
        with sqlite3.connect(path) as conn:
            conn.executescript(dump)
        yield f"sqlite:///{path}"
        return
    with fresh_postgres() as url:
        asyncio.run(_run_sql(url, dump))
        yield url


async def _run_sql(url: str, script: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(script)
    finally:
        await conn.close()


def workdir(tmp_path: Path) -> Path:
    """A directory whose `var/gateway.key` is the fixtures' key, for `serve` and the CLI."""
    (tmp_path / "var").mkdir(exist_ok=True)
    (tmp_path / "var" / "gateway.key").write_text(hashlib.sha256(FIXTURE_KEY.encode()).hexdigest())
    return tmp_path


def rows(url: str) -> dict[str, set[tuple[Any, ...]]]:
    """Every row of every table, as plain values."""

    def read(conn: Connection) -> dict[str, set[tuple[Any, ...]]]:
        tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
        found = {}
        for table in tables:
            result = conn.execute(text(f'SELECT * FROM "{table}"'))
            columns = list(result.keys())
            found[table] = {
                tuple(sorted((c, _plain(v)) for c, v in zip(columns, row, strict=True)))
                for row in result
            }
        return found

    async def run() -> dict[str, set[tuple[Any, ...]]]:
        db = Database(url)
        try:
            async with db.engine.connect() as conn:
                return await conn.run_sync(read)
        finally:
            await db.close()

    return asyncio.run(run())


def _plain(value: Any) -> Any:
    """A value comparable across the two reads (JSON as text on SQLite, parsed on PG)."""
    return repr(value) if isinstance(value, dict | list) else value


def without(row: tuple[Any, ...], *names: str) -> tuple[Any, ...]:
    return tuple(item for item in row if item[0] not in names)


def test_history_and_current_name_the_same_revisions(tmp_path: Path) -> None:
    history = ok(cli("db", "history")).splitlines()
    assert [line.split(":")[0] for line in history] == ["0001", "0002", "0003", "0004 (contract)"]
    db = f"sqlite:///{tmp_path / 'new.db'}"
    assert ok(cli("db", "current", db=db)) == "none\n"
    assert f"the schema is at {HEAD} (head)" in ok(cli("db", "upgrade", db=db))
    assert ok(cli("db", "current", db=db)) == f"{HEAD}\n"
    assert history[-1].startswith(HEAD)
    assert "nothing to do" in ok(cli("db", "upgrade", db=db))


def test_an_old_database_upgrades_in_place_with_every_row(
    old_database: str, tmp_path: Path
) -> None:
    """`serve --no-migrate` refuses it; `db upgrade` brings it to the head; every row of
    every table is still there, the side tables' rows as columns of `platforms`."""
    before = rows(old_database)
    assert {"platforms", "vehicles", "tokens", "push_outbox", "push_attempts"} <= set(before)
    assert all(before[t] for t in ("platforms", "vehicles", "tokens", "push_attempts"))
    assert ok(cli("db", "current", db=old_database)) == "none\n"

    refusing = ServeProcess(old_database, workdir(tmp_path), "--no-migrate")
    assert refusing.process.wait(timeout=60) != 0
    assert "segway-gateway db upgrade" in refusing.log(), refusing.log()
    assert "Traceback" not in refusing.log()
    assert ok(cli("db", "current", db=old_database)) == "none\n", "nothing was changed"

    out = ok(cli("db", "upgrade", db=old_database))
    assert [line.split(":")[0] for line in out.splitlines()[:4]] == [
        "upgraded to 0001",
        "upgraded to 0002",
        "upgraded to 0003",
        "upgraded to 0004",
    ]
    assert ok(cli("db", "current", db=old_database)) == f"{HEAD}\n"

    after = rows(old_database)
    assert set(after) == set(before) - DROPPED
    new_columns = ("sealed_secret", "push_policy")
    for table in set(after) - {"platforms", "vehicles"}:
        assert after[table] == before[table], table
    assert {without(r, *new_columns) for r in after["platforms"]} == before["platforms"]
    assert {without(r, "commanded_lock") for r in after["vehicles"]} == before["vehicles"]
    sealed = {dict(r)["platform_code"]: dict(r)["sealed"] for r in before["platform_secrets"]}
    policies = {dict(r)["platform_code"]: dict(r)["policy"] for r in before["push_policies"]}
    for row in map(dict, after["platforms"]):
        assert row["sealed_secret"] == sealed.get(row["code"]), row["code"]
        assert row["push_policy"] == policies.get(row["code"]), row["code"]


def test_serve_applies_what_it_needs_and_serves_the_old_data(
    old_database: str, tmp_path: Path
) -> None:
    """`serve` upgrades to the last revision before the contract one on start, and
    answers from the old rows: a platform's old secret, a vehicle's stored status, the
    delivery log, a suspension. The contract revision waits for `db upgrade`."""
    before = rows(old_database)
    server = ServeProcess(old_database, workdir(tmp_path))
    try:
        server.wait_ready()
        log = server.log()
        for revision in ("0001", "0002", "0003"):
            assert f"schema upgraded to {revision}" in log, log
        assert "0004" not in log
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            token = _token(http, "E10001")
            assert token.status_code == 200, token.text
            demo = _token(http, "A20081").json()["access_token"]
            status = http.get(
                "/api/v2/vehicle/query/current/status",
                params={"iotCode": STORED_VEHICLE},
                headers={"Authorization": f"bearer {demo}"},
            ).json()
            assert status["code"] == 0 and status["data"]["iotCode"] == STORED_VEHICLE, status
            suspended = _token(http, "C40001")
            assert suspended.status_code == 400, suspended.text
            assert suspended.json()["error"] == "unauthorized_client"
    finally:
        server.stop()
    assert ok(cli("db", "current", db=old_database)) == "0003\n"
    assert {"platform_secrets", "push_policies"} <= set(rows(old_database))
    assert rows(old_database)["push_attempts"] >= before["push_attempts"]

    again = ServeProcess(old_database, tmp_path, "--no-migrate")
    try:
        again.wait_ready()  # only a contract revision is pending: this version runs
    finally:
        again.stop()


def _token(http: httpx.Client, client_id: str) -> httpx.Response:
    form = {"client_id": client_id, "client_secret": SECRETS[client_id]}
    return http.post("/oauth/token", data={**form, "grant_type": "client_credentials"})


def test_the_head_is_the_schema_the_code_declares(db_url: str) -> None:
    """tables.py and the revisions cannot drift apart: at the head, Alembic's comparison of
    the live schema with `metadata` finds no difference."""

    def differences(conn: Connection) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))

    async def run() -> list[Any]:
        async with Database(db_url) as db, db.engine.connect() as conn:
            return await conn.run_sync(differences)

    assert asyncio.run(run()) == []


def test_instances_starting_together_upgrade_once(postgres_url: str) -> None:
    """Four handles prepare one new PostgreSQL database at once: the advisory lock makes
    them take turns; one applies the revisions, the others find nothing to do."""

    async def run() -> list[int]:
        handles = [Database(postgres_url) for _ in range(4)]
        try:
            applied = await asyncio.gather(*(handle.prepare() for handle in handles))
            assert await handles[0].revision() == HEAD
            return sorted(len(revisions) for revisions in applied)
        finally:
            for handle in handles:
                await handle.close()

    assert asyncio.run(run()) == [0, 0, 0, 4]


SIDE_TABLES = (
    "CREATE TABLE platform_secrets (platform_code VARCHAR(64) PRIMARY KEY,"
    " sealed VARCHAR(512) NOT NULL)",
    "CREATE TABLE push_policies (platform_code VARCHAR(64) PRIMARY KEY,"
    " policy VARCHAR(16) NOT NULL)",
)
"""The side tables 0004 drops, as 0001 made them (SQLite)."""


def _execute(url: str, *statements: str) -> None:
    async def run() -> None:
        db = Database(url)
        try:
            async with db.engine.begin() as conn:
                for statement in statements:
                    await conn.execute(text(statement))
        finally:
            await db.close()

    asyncio.run(run())


def _prepare(url: str, *, contract: bool = False) -> list[str]:
    async def run() -> list[str]:
        db = Database(url)
        try:
            applied = await (db.upgrade() if contract else db.prepare())
            return [revision.id for revision in applied]
        finally:
            await db.close()

    return asyncio.run(run())


def test_a_database_a_newer_version_upgraded_is_served_as_it_is(tmp_path: Path) -> None:
    """A rollback, or an older instance restarting during a rolling upgrade: the
    database is at a revision this version does not know; nothing is applied, and it
    starts (with a warning), also with --no-migrate."""
    url = f"sqlite:///{tmp_path / 'ahead.db'}"
    assert _prepare(url) == ["0001", "0002", "0003", "0004"]
    _execute(url, "UPDATE alembic_version SET version_num = '0099'")
    assert _prepare(url) == []
    server = ServeProcess(url, tmp_path, "--no-migrate")
    try:
        server.wait_ready()
    finally:
        server.stop()
    assert "newer than this version knows" in server.log()


def test_a_revision_cut_short_on_sqlite_is_finished_by_the_next_start(tmp_path: Path) -> None:
    """SQLite commits an ALTER at once: a start that failed after 0003's column was added
    left the database at 0002 with the column; the next start finishes the revision."""
    url = f"sqlite:///{tmp_path / 'partial.db'}"
    assert _prepare(url) == ["0001", "0002", "0003", "0004"]
    _execute(
        url,
        "UPDATE alembic_version SET version_num = '0002'",
        *SIDE_TABLES,
    )
    assert _prepare(url) == ["0003"]
    assert _prepare(url, contract=True) == ["0004"]


def test_the_contract_revision_copies_what_the_version_before_wrote_since(
    tmp_path: Path,
) -> None:
    """A platform the version before added during the rolling upgrade has its sealed
    secret and push policy only in the side tables: 0004 copies them before dropping."""
    url = f"sqlite:///{tmp_path / 'rolling.db'}"
    assert _prepare(url) == ["0001", "0002", "0003", "0004"]
    _execute(
        url,
        "UPDATE alembic_version SET version_num = '0003'",
        *SIDE_TABLES,
        "INSERT INTO platforms (code, secret_hash, created_at) VALUES ('E77777', 'h', 0)",
        "INSERT INTO platform_secrets VALUES ('E77777', 'sealed-by-the-old-version')",
        "INSERT INTO push_policies VALUES ('E77777', 'durable')",
    )
    assert _prepare(url, contract=True) == ["0004"]
    platforms = rows(url)["platforms"]
    row = next(dict(r) for r in platforms if dict(r)["code"] == "E77777")
    assert (row["sealed_secret"], row["push_policy"]) == ("sealed-by-the-old-version", "durable")


def test_serve_does_not_wait_for_a_sqlite_file_it_cannot_open(tmp_path: Path) -> None:
    done = cli("serve", "--port", "0", db="sqlite:////proc/no-such-dir/gateway.db", cwd=tmp_path)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "not reachable yet" not in done.stderr
