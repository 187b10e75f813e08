"""The schema's versions: Alembic revisions under `migrations/versions`, applied in order.

A revision marked `CONTRACT` drops or changes what the version before it reads, so it
waits for `segway-gateway db upgrade`, run once no instance of that version is left. A
revision this code needs that comes after a pending contract one cannot be applied
without it: then the start stops, saying to run `db upgrade` first.
Everything else is applied by whatever opens the database for the gateway (`serve`, the
CLI): a database in use is brought up to the revision before the first pending contract
revision; a new one (no table yet) straight to the head. On PostgreSQL the upgrade runs in
one transaction under an advisory lock, so instances starting together take turns and
the later ones find nothing left to do.

A database made before migrations (no `alembic_version`) starts at no revision: 0001 makes
what it lacks of that day's schema and keeps what it has.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext, RevisionStep
from alembic.script import Script, ScriptDirectory
from alembic.script.revision import ResolutionError
from sqlalchemy import Connection, inspect, text

from segway_gateway.gateway.store.errors import StoreError

log = logging.getLogger(__name__)

_LOCK_ID = 0x5E6A7_0001
"""The PostgreSQL advisory lock instances hold while they upgrade the schema."""


class SchemaBehind(StoreError):
    """The database's schema is older than this code needs, and was not to be upgraded."""


@dataclass(frozen=True)
class Revision:
    id: str
    summary: str
    contract: bool


@functools.cache
def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", "segway_gateway.gateway.store:migrations")
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head() -> str:
    revision = _scripts().get_current_head()
    assert revision is not None, "no revision"
    return revision


def history() -> list[Revision]:
    """Every revision, oldest first."""
    return [_described(script) for script in reversed(list(_scripts().walk_revisions()))]


def current(conn: Connection) -> str | None:
    """The revision the database is at (None: none, a new or pre-migration database)."""
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(conn: Connection, *, contract: bool) -> list[Revision]:
    """Apply the pending revisions in the connection's transaction: all of them with
    `contract` (or on a new database), else those before the first contract one. The
    revisions applied, in order."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
    pending = _pending(conn)
    if not contract and not _is_new(conn):
        contracts = [n for n, revision in enumerate(pending) if revision.contract]
        if contracts:
            _check_needed(conn, pending[contracts[0] :])
            pending = pending[: contracts[0]]
    if pending:
        _run(conn, pending[-1].id)
    return pending


def check(conn: Connection) -> None:
    """SchemaBehind if a revision this code needs (any but a contract one) is pending."""
    _check_needed(conn, _pending(conn))


def _check_needed(conn: Connection, pending: list[Revision]) -> None:
    """SchemaBehind if `pending` holds a revision this code needs: one that is not a
    contract revision (behind a contract one, it cannot be applied without it)."""
    needed = [revision for revision in pending if not revision.contract]
    if needed:
        raise SchemaBehind(
            f"the database's schema is at {current(conn) or 'no revision'}, this version needs "
            f"{needed[-1].id}: run `segway-gateway db upgrade --db URL` (or serve without "
            "--no-migrate), once no instance of a version before "
            f"{pending[0].id} uses the database"
        )


def _pending(conn: Connection) -> list[Revision]:
    """The revisions to apply, oldest first. None for a database at a revision this
    version does not know: a newer version upgraded it, with expand revisions this one
    can run on (a rolling upgrade, or a rollback), so it is served as it is."""
    at = current(conn)
    scripts = _scripts()
    try:
        ahead = list(scripts.iterate_revisions(head(), at or "base"))
    except ResolutionError:
        log.warning("the database's schema is at %s, newer than this version knows", at)
        return []
    return [_described(script) for script in reversed(ahead)]


def _is_new(conn: Connection) -> bool:
    return current(conn) is None and not inspect(conn).has_table("platforms")


def _run(conn: Connection, target: str) -> None:
    scripts = _scripts()

    def steps(revision: str, _context: MigrationContext) -> list[RevisionStep]:
        return scripts._upgrade_revs(target, revision)  # what `alembic upgrade` runs

    with EnvironmentContext(_config(), scripts, fn=steps, destination_rev=target) as env:
        env.configure(connection=conn)
        with env.begin_transaction():
            env.run_migrations()


def _described(script: Script) -> Revision:
    summary = (script.module.__doc__ or "").strip().split("\n", 1)[0]
    return Revision(script.revision, summary, bool(script.module.CONTRACT))
