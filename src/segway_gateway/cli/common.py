"""What the subcommands share: database and gateway options, async bodies, admin calls."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from segway_gateway.contract.models import PLATFORM_CODE, parse_iot_code
from segway_gateway.gateway.config import DEFAULT_URL, MAX_SPEEDUP, MIN_SPEEDUP, GatewayConfig
from segway_gateway.sim.city import parse_bbox

P = ParamSpec("P")
R = TypeVar("R")

ENV_PREFIX = "SEGWAY_GATEWAY_"
ADMIN_TOKEN_ENV = f"{ENV_PREFIX}ADMIN_TOKEN"

db_option = click.option(
    "--db",
    "db_url",
    default=GatewayConfig.db_url,
    show_default=True,
    envvar="SEGWAY_GATEWAY_DB",
    help="SQLAlchemy URL: sqlite:///PATH or postgresql://USER@HOST/DB.",
)
url_option = click.option(
    "--url",
    default=DEFAULT_URL,
    show_default=True,
    envvar="SEGWAY_GATEWAY_URL",
    help="Base URL of a running gateway.",
)
key_file_option = click.option(
    "--key-file",
    default=GatewayConfig.key_file,
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="SEGWAY_GATEWAY_KEY_FILE",
    help="The gateway key (made on first use); env SEGWAY_GATEWAY_KEY overrides it.",
)


def _city(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    try:
        return GatewayConfig.city if value is None else parse_bbox(value)
    except ValueError as err:
        raise click.BadParameter(str(err)) from err


city_option = click.option(
    "--city-bbox",
    "city",
    callback=_city,
    help="Area the simulated vehicles ride in: SOUTH,WEST,NORTH,EAST [default: central Shenzhen].",
)
speedup_option = click.option(
    "--speedup",
    default=GatewayConfig.speedup,
    show_default=True,
    type=click.FloatRange(MIN_SPEEDUP, MAX_SPEEDUP),
    help="Simulated time runs this many times faster.",
)
seed_option = click.option(
    "--seed", default=GatewayConfig.seed, show_default=True, help="Seed of the simulated fleet."
)
admin_token_option = click.option(
    "--admin-token",
    envvar=ADMIN_TOKEN_ENV,
    required=True,
    help=f"The gateway's admin token (or env {ADMIN_TOKEN_ENV}).",
)


def env_for_every_option(command: click.Command) -> click.Command:
    """Give each option of `command` that has none the environment variable
    SEGWAY_GATEWAY_<FLAG>: its long flag upper-cased, dashes as underscores (`--token-ttl`:
    SEGWAY_GATEWAY_TOKEN_TTL); `--help` shows each option's."""
    for param in command.params:
        if isinstance(param, click.Option):
            if param.envvar is None:
                flag = max((o for o in param.opts if o.startswith("--")), key=len)
                param.envvar = ENV_PREFIX + flag[2:].upper().replace("-", "_")
            param.show_envvar = True
    return command


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


async def with_db(db_url: str, action: Callable[[Any], Awaitable[R]]) -> R:
    """Run `action` with an open database, its schema brought up to what this code needs."""
    from segway_gateway.gateway.store.db import Database

    async with Database(db_url) as db:
        return await action(db)


async def with_db_unprepared(db_url: str, action: Callable[[Any], Awaitable[R]]) -> R:
    """Run `action` with an open database whose schema nothing has touched."""
    from segway_gateway.gateway.store.db import Database

    db = Database(db_url)
    try:
        return await action(db)
    finally:
        await db.close()


def platform_code_arg(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    if not PLATFORM_CODE.fullmatch(value):
        raise click.BadParameter("use 1 to 64 letters, digits, '-' or '_'")
    return value


def iot_codes_arg(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> list[str]:
    try:
        return [parse_iot_code(v) for v in values]
    except ValueError as err:
        raise click.BadParameter(str(err)) from err


def admin_call(url: str, token: str, method: str, path: str, body: Any = None) -> Any:
    """Call the admin API of a running gateway; any failure becomes one clean line."""
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
