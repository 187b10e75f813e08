"""The `segway-gateway` command: serve the API and administer platforms and vehicles."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from segway_gateway.contract.models import PLATFORM_CODE, parse_iot_code
from segway_gateway.contract.regions import Region
from segway_gateway.sim.faults import Fault

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_DB = "sqlite:///var/segway-gateway.db"
DEMO_PLATFORM = "A20081"
DEMO_SECRET = "e2651be5-12d3-48f3-ba6c-bc2b04a447b6"
DEMO_FIRST_VEHICLE = 861477038719116
DEMO_FLEET_SIZE = 10
ADMIN_TOKEN_ENV = "SEGWAY_GATEWAY_ADMIN_TOKEN"

db_option = click.option(
    "--db",
    "db_url",
    default=DEFAULT_DB,
    show_default=True,
    envvar="SEGWAY_GATEWAY_DB",
    help="SQLAlchemy URL: sqlite:///PATH or postgresql://USER@HOST/DB.",
)


def run_async(func: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, R]:
    """Run an async command body; store and database errors become one clean line."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from sqlalchemy.exc import SQLAlchemyError

        from segway_gateway.gateway.store.db import UnsupportedDatabase
        from segway_gateway.gateway.store.errors import StoreError

        try:
            return asyncio.run(func(*args, **kwargs))
        except (StoreError, UnsupportedDatabase) as err:
            raise click.ClickException(str(err)) from err
        except (SQLAlchemyError, OSError) as err:
            raise click.ClickException(f"database error: {err}") from err

    return wrapper


async def _with_db(db_url: str, action: Callable[[Any], Awaitable[R]]) -> R:
    from segway_gateway.gateway.store.db import Database

    async with Database(db_url) as db:
        return await action(db)


def _platform_code(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    if not PLATFORM_CODE.fullmatch(value):
        raise click.BadParameter("use 1 to 64 letters, digits, '-' or '_'")
    return value


def _iot_codes(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> list[str]:
    try:
        return [parse_iot_code(v) for v in values]
    except ValueError as err:
        raise click.BadParameter(str(err)) from err


@click.group()
@click.version_option(package_name="segway-gateway")
def main() -> None:
    """segway-gateway: the Segway fleet IoT API (e-bike C80), served and simulated."""


# serve --------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@db_option
@click.option(
    "--region",
    type=click.Choice([r.value for r in Region]),
    help="Serve only this region's platforms (others get 15100).",
)
@click.option("--token-ttl", default=43200, show_default=True, type=click.IntRange(1, 86400))
@click.option(
    "--command-timeout",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0.05, 120),
    help="Seconds a command waits for the vehicle's reply before 15302.",
)
@click.option("--demo", is_flag=True, help="Seed a demo platform and fleet; riders ride them.")
@click.option("--speedup", default=1.0, show_default=True, type=click.FloatRange(0.1, 10_000))
@click.option("--seed", default=0, show_default=True, help="Seed of the simulated fleet.")
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
def serve(
    host: str,
    port: int,
    db_url: str,
    region: str | None,
    token_ttl: int,
    command_timeout: float,
    demo: bool,
    speedup: float,
    seed: int,
    log_level: str,
) -> None:
    """Serve the API, with every active vehicle simulated over the in-process link."""
    import uvicorn

    from segway_gateway.gateway.app import create_app
    from segway_gateway.gateway.config import GatewayConfig

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if demo:
        run_async(_seed_demo)(db_url)
    config = GatewayConfig(
        db_url=db_url,
        region=Region(region) if region else None,
        token_ttl=token_ttl,
        command_timeout=command_timeout,
        key_file=Path("var/gateway.key"),
        autopilot=demo,
        admin_token=os.environ.get(ADMIN_TOKEN_ENV) or None,
        speedup=speedup,
        seed=seed,
    )
    if demo:
        _print_demo_help(host, port)
    uvicorn.run(create_app(config), host=host, port=port, log_level=log_level, access_log=False)


async def _seed_demo(db_url: str) -> None:
    from segway_gateway.gateway.store.db import Database

    async with Database(db_url) as db:
        if await db.platforms.list_all():
            return
        await _add_platform(db, DEMO_PLATFORM, DEMO_SECRET, None)
        fleet = [str(DEMO_FIRST_VEHICLE + n) for n in range(DEMO_FLEET_SIZE)]
        await _add_vehicles(db, fleet, DEMO_PLATFORM, active=True)
        click.echo(f"Seeded demo platform {DEMO_PLATFORM} with {DEMO_FLEET_SIZE} vehicles.")


def _print_demo_help(host: str, port: int) -> None:
    base = f"http://{host}:{port}"
    click.echo(
        f"""
Demo platform: client_id={DEMO_PLATFORM} client_secret={DEMO_SECRET}
Vehicles: {DEMO_FIRST_VEHICLE} .. {DEMO_FIRST_VEHICLE + DEMO_FLEET_SIZE - 1}
API docs: {base}/docs

Try it:
  TOKEN=$(curl -s -X POST {base}/oauth/token -d client_id={DEMO_PLATFORM} \\
    -d client_secret={DEMO_SECRET} -d grant_type=client_credentials \\
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -s -X POST {base}/api/v2/vehicle/control/unlock -H "Authorization: bearer $TOKEN" \\
    -H 'Content-Type: application/json' -d '{{"iotCode": "{DEMO_FIRST_VEHICLE}"}}'
  curl -s "{base}/api/v2/vehicle/query/current/status?iotCode={DEMO_FIRST_VEHICLE}" \\
    -H "Authorization: bearer $TOKEN"
"""
    )


# platform -----------------------------------------------------------------


@main.group()
def platform() -> None:
    """Platforms: an operator's account; its code is the OAuth client_id."""


async def _add_platform(db: Any, code: str, secret: str, push_url: str | None) -> None:
    from segway_gateway.gateway.crypto import hash_secret
    from segway_gateway.gateway.store.platforms import Platform

    await db.platforms.add(Platform(code, hash_secret(secret), push_url, int(time.time() * 1000)))


@platform.command("add")
@click.argument("code", callback=_platform_code)
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
    await _with_db(db_url, lambda db: _add_platform(db, code, secret, push_url))
    click.echo(f"platform {code} added")


@platform.command("list")
@db_option
@run_async
async def platform_list(db_url: str) -> None:
    """List platforms."""
    platforms = await _with_db(db_url, lambda db: db.platforms.list_all())
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
    await _with_db(db_url, lambda db: db.platforms.remove(code))
    click.echo(f"platform {code} removed")


# vehicle ------------------------------------------------------------------


@main.group()
def vehicle() -> None:
    """Vehicles: registered to one platform, addressed by iotCode (IMEI)."""


async def _add_vehicles(db: Any, iot_codes: list[str], platform_code: str, active: bool) -> None:
    from segway_gateway.gateway.store.vehicles import Vehicle

    now = int(time.time() * 1000)
    await db.vehicles.add(*(Vehicle(code, platform_code, active, now) for code in iot_codes))


@vehicle.command("add")
@click.argument("iot_codes", nargs=-1, required=True, callback=_iot_codes)
@click.option("--platform", "platform_code", required=True, help="The owning platform's code.")
@click.option("--inactive", is_flag=True, help="Registered but not activated (15300).")
@db_option
@run_async
async def vehicle_add(
    iot_codes: list[str], platform_code: str, inactive: bool, db_url: str
) -> None:
    """Add one or more vehicles (all or none)."""
    await _with_db(db_url, lambda db: _add_vehicles(db, iot_codes, platform_code, not inactive))
    for iot_code in iot_codes:
        click.echo(f"vehicle {iot_code} added to {platform_code}")


@vehicle.command("list")
@click.option("--platform", "platform_code", help="Only this platform's vehicles.")
@db_option
@run_async
async def vehicle_list(platform_code: str | None, db_url: str) -> None:
    """List vehicles with their last reported state."""
    vehicles = await _with_db(db_url, lambda db: db.vehicles.list_all(platform_code))
    if not vehicles:
        click.echo("no vehicles")
    for v in vehicles:
        click.echo(f"{v.iot_code}\t{v.platform_code}\t{_vehicle_summary(v)}")


def _vehicle_summary(vehicle: Any) -> str:
    """Lock state and battery as last reported, or why there is none."""
    if not vehicle.active:
        return "inactive\t-"
    if vehicle.status is None:
        return "never reported\t-"
    lock = "locked" if vehicle.status["locked"] else "unlocked"
    return f"{lock}\t{vehicle.status['powerPercent']}%"


@vehicle.command("remove")
@click.argument("iot_code")
@db_option
@run_async
async def vehicle_remove(iot_code: str, db_url: str) -> None:
    """Remove a vehicle."""
    await _with_db(db_url, lambda db: db.vehicles.remove(iot_code))
    click.echo(f"vehicle {iot_code} removed")


# sim ----------------------------------------------------------------------

url_option = click.option(
    "--url",
    default="http://127.0.0.1:8080",
    show_default=True,
    envvar="SEGWAY_GATEWAY_URL",
    help="Base URL of a running gateway.",
)
admin_token_option = click.option(
    "--admin-token",
    envvar=ADMIN_TOKEN_ENV,
    required=True,
    help=f"The gateway's admin token (or env {ADMIN_TOKEN_ENV}).",
)


@main.group()
def sim() -> None:
    """Drive the simulated fleet of a running gateway (its admin API)."""


def _admin_call(url: str, token: str, method: str, path: str, body: Any = None) -> Any:
    import httpx

    try:
        response = httpx.request(
            method,
            f"{url.rstrip('/')}/admin/v1{path}",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
    except httpx.HTTPError as err:
        raise click.ClickException(f"cannot reach {url}: {err}") from err
    try:
        answer = response.json()
    except ValueError:
        answer = {"error": response.text[:200]}
    if response.status_code != 200:
        raise click.ClickException(f"HTTP {response.status_code}: {answer.get('error', answer)}")
    return answer


@sim.command("fault")
@click.argument("iot_code")
@click.argument("kind", type=click.Choice([fault.value for fault in Fault]))
@click.option("--for", "seconds", type=click.FloatRange(0.001, 86400), help="Clear it after.")
@url_option
@admin_token_option
def sim_fault(iot_code: str, kind: str, seconds: float | None, url: str, admin_token: str) -> None:
    """Give a simulated vehicle a fault (see docs/api.md for the code each one causes)."""
    body = {"kind": kind, "seconds": seconds}
    _admin_call(url, admin_token, "POST", f"/vehicles/{iot_code}/faults", body)
    click.echo(f"{iot_code}: {kind}" + (f" for {seconds:g} s" if seconds else ""))


@sim.command("clear")
@click.argument("iot_code")
@url_option
@admin_token_option
def sim_clear(iot_code: str, url: str, admin_token: str) -> None:
    """Clear every fault of a simulated vehicle."""
    _admin_call(url, admin_token, "DELETE", f"/vehicles/{iot_code}/faults")
    click.echo(f"{iot_code}: no faults")


@sim.command("ride")
@click.argument("iot_code")
@click.argument("action", type=click.Choice(["start", "stop"]))
@url_option
@admin_token_option
def sim_ride(iot_code: str, action: str, url: str, admin_token: str) -> None:
    """Start or end a ride on a simulated (unlocked) vehicle."""
    _admin_call(url, admin_token, "POST", f"/vehicles/{iot_code}/ride", {"action": action})
    click.echo(f"{iot_code}: ride {'started' if action == 'start' else 'ended'}")
