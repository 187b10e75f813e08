"""`segway-gateway platform`: an operator's account; its code is the OAuth client_id."""

from __future__ import annotations

import math
from pathlib import Path

import click

from segway_gateway.cli.common import (
    db_option,
    key_file_option,
    platform_code_arg,
    run_async,
    with_db,
)
from segway_gateway.contract.regions import Region
from segway_gateway.gateway import registration
from segway_gateway.gateway.registration import MIN_SECRET_LENGTH, add_platform


@click.group()
def platform() -> None:
    """Platforms: an operator's account; its code is the OAuth client_id."""


secret_option = click.option(
    "--secret",
    required=True,
    envvar="SEGWAY_PLATFORM_SECRET",
    help="The client_secret, stored hashed and sealed with the gateway key"
    " (or env SEGWAY_PLATFORM_SECRET).",
)

weak_secret_option = click.option(
    "--allow-weak-secret",
    is_flag=True,
    help=f"Accept a secret shorter than {MIN_SECRET_LENGTH} characters (tests, demos).",
)


def check_secret(secret: str, allow_weak: bool) -> None:
    """Refuse an empty secret, and one shorter than MIN_SECRET_LENGTH unless allowed."""
    try:
        registration.check_secret(secret, allow_weak, "--allow-weak-secret")
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--secret") from err


@platform.command("add")
@click.argument("code", callback=platform_code_arg)
@secret_option
@weak_secret_option
@click.option("--push-url", help="Base URL the four pushes go to (http or https).")
@db_option
@key_file_option
@run_async
async def platform_add(
    code: str,
    secret: str,
    allow_weak_secret: bool,
    push_url: str | None,
    db_url: str,
    key_file: Path,
) -> None:
    """Add a platform."""
    from segway_gateway.gateway.crypto import load_key

    check_secret(secret, allow_weak_secret)
    if push_url is not None:
        try:
            registration.check_push_url(push_url)
        except ValueError as err:
            raise click.BadParameter(str(err), param_hint="--push-url") from err
    if Region.of_platform(code) is None:
        click.echo(f"note: {code} starts with no region letter (A, E, U, C)", err=True)
    key = load_key(key_file)
    await with_db(db_url, lambda db: add_platform(db, key, code, secret, push_url))
    click.echo(f"platform {code} added")


@platform.command("set-secret")
@click.argument("code")
@secret_option
@weak_secret_option
@db_option
@key_file_option
@run_async
async def platform_set_secret(
    code: str, secret: str, allow_weak_secret: bool, db_url: str, key_file: Path
) -> None:
    """Replace a platform's client_secret (its tokens stay valid until they expire)."""
    from segway_gateway.gateway.crypto import hash_secret, load_key
    from segway_gateway.gateway.sealing import seal

    check_secret(secret, allow_weak_secret)
    sealed = seal(load_key(key_file), code, secret)
    await with_db(db_url, lambda db: db.platforms.set_secret(code, hash_secret(secret), sealed))
    click.echo(f"platform {code}: secret replaced")


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


@platform.command("set-push-policy")
@click.argument("code")
@click.argument("policy", type=click.Choice(["document", "durable"]))
@db_option
@run_async
async def platform_set_push_policy(code: str, policy: str, db_url: str) -> None:
    """How pushes that get no HTTP 200 are retried: `document` (once, 5 s later; the
    default) or `durable` (10 more times over about 18 hours)."""
    await with_db(db_url, lambda db: db.platforms.set_push_policy(code, policy))
    click.echo(f"platform {code}: {policy} push policy")


FOLLOWED = "running gateways apply it within 5 s"


@platform.command("set-limits")
@click.argument("code")
@click.option(
    "--rps",
    required=True,
    type=click.FloatRange(0.01, 1_000_000),
    help="API calls per second the platform may make, over all gateways on the database.",
)
@click.option(
    "--burst",
    type=click.IntRange(1, 10_000_000),
    help="Calls it may make at once after a quiet while [default: --rps, at least 1].",
)
@db_option
@run_async
async def platform_set_limits(code: str, rps: float, burst: int | None, db_url: str) -> None:
    """Limit a platform's API calls; those above the limit answer 15990 at once."""
    burst = burst if burst is not None else max(1, math.ceil(rps))
    await with_db(db_url, lambda db: db.access.set_limit(code, rps, burst))
    click.echo(f"platform {code}: at most {rps:g} calls/s, bursts of {burst} ({FOLLOWED})")


@platform.command("clear-limits")
@click.argument("code")
@db_option
@run_async
async def platform_clear_limits(code: str, db_url: str) -> None:
    """Remove a platform's rate limit."""
    await with_db(db_url, lambda db: db.access.set_limit(code, None, None))
    click.echo(f"platform {code}: no rate limit ({FOLLOWED})")


def _suspension_command(name: str, suspended: bool, summary: str) -> None:
    """`platform suspend` or `platform resume`."""

    @platform.command(name, help=summary)
    @click.argument("code")
    @db_option
    @run_async
    async def command(code: str, db_url: str) -> None:
        await with_db(db_url, lambda db: db.access.set_suspended(code, suspended))
        click.echo(f"platform {code}: {name}{'ed' if suspended else 'd'} ({FOLLOWED})")


_suspension_command(
    "suspend", True, "Refuse every API call of a platform (15990), its tokens too, until resume."
)
_suspension_command("resume", False, "Let a suspended platform call again (with a new token).")
