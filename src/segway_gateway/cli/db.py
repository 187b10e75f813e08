"""`segway-gateway db`: the schema's revisions (Alembic), applied, shown and listed."""

from __future__ import annotations

import click

from segway_gateway.cli.common import db_option, run_async, with_db_unprepared


@click.group()
def db() -> None:
    """The database's schema: upgrade it, and see where it stands."""


@db.command("upgrade")
@db_option
@run_async
async def db_upgrade(db_url: str) -> None:
    """Apply every pending revision, those that drop what the version before read too:
    run it once no instance of that version uses the database."""
    applied = await with_db_unprepared(db_url, lambda database: database.upgrade())
    for revision in applied:
        click.echo(f"upgraded to {revision.id}: {revision.summary}")
    at = await with_db_unprepared(db_url, lambda database: database.revision())
    click.echo(
        f"the schema is at {at} (head)" if applied else f"the schema is at {at}: nothing to do"
    )


@db.command("current")
@db_option
@run_async
async def db_current(db_url: str) -> None:
    """Print the revision the database is at (`none` before the first)."""
    click.echo(await with_db_unprepared(db_url, lambda database: database.revision()) or "none")


@db.command("history")
def db_history() -> None:
    """List the revisions, oldest first; `contract` ones wait for `db upgrade`."""
    from segway_gateway.gateway.store import schema

    for revision in schema.history():
        mark = " (contract)" if revision.contract else ""
        click.echo(f"{revision.id}{mark}: {revision.summary}")
