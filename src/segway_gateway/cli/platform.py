"""`segway-gateway platform`: an operator's account; its code is the OAuth client_id."""

from __future__ import annotations

import re
import time
from typing import Any

import click

from segway_gateway.cli.common import db_option, platform_code_arg, run_async, with_db
from segway_gateway.contract.regions import Region


@click.group()
def platform() -> None:
    """Platforms: an operator's account; its code is the OAuth client_id."""


async def add_platform(db: Any, code: str, secret: str, push_url: str | None) -> None:
    from segway_gateway.gateway.crypto import hash_secret
    from segway_gateway.gateway.store.platforms import Platform

    await db.platforms.add(Platform(code, hash_secret(secret), push_url, int(time.time() * 1000)))


@platform.command("add")
@click.argument("code", callback=platform_code_arg)
@click.option(
    "--secret",
    required=True,
    envvar="SEGWAY_PLATFORM_SECRET",
    help="The client_secret, stored only as a hash (or env SEGWAY_PLATFORM_SECRET).",
)
@click.option("--push-url", help="Base URL the four pushes go to (http or https).")
@db_option
@run_async
async def platform_add(code: str, secret: str, push_url: str | None, db_url: str) -> None:
    """Add a platform."""
    if not secret:
        raise click.BadParameter("must not be empty", param_hint="--secret")
    if push_url is not None and not re.match(r"https?://[^\s/]+", push_url):
        raise click.BadParameter("use an http:// or https:// URL", param_hint="--push-url")
    if Region.of_platform(code) is None:
        click.echo(f"note: {code} starts with no region letter (A, E, U, C)", err=True)
    await with_db(db_url, lambda db: add_platform(db, code, secret, push_url))
    click.echo(f"platform {code} added")


@platform.command("list")
@db_option
@run_async
async def platform_list(db_url: str) -> None:
    """List platforms."""
    platforms = await with_db(db_url, lambda db: db.platforms.list_all())
    if not platforms:
        click.echo("no platforms")
    for p in platforms:
        region = Region.of_platform(p.code)
        click.echo(f"{p.code}\t{region.value if region else '-'}\t{p.push_url or '-'}")


@platform.command("remove")
@click.argument("code")
@db_option
@run_async
async def platform_remove(code: str, db_url: str) -> None:
    """Remove a platform with its vehicles and tokens."""
    await with_db(db_url, lambda db: db.platforms.remove(code))
    click.echo(f"platform {code} removed")
