"""`segway-gateway serve`: the API with its simulated fleet."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
from pathlib import Path
from typing import Any

import click

from segway_gateway.cli.common import (
    ADMIN_TOKEN_ENV,
    city_option,
    db_option,
    env_for_every_option,
    key_file_option,
    run_async,
    seed_option,
    speedup_option,
    with_db_unprepared,
)
from segway_gateway.cli.demo import print_banner, seed_demo
from segway_gateway.contract.regions import Region
from segway_gateway.gateway.config import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    MAX_COMMAND_TIMEOUT,
    MAX_TOKEN_TTL,
    MIN_COMMAND_TIMEOUT,
    MIN_TOKEN_TTL,
    GatewayConfig,
)

PREFLIGHT_SECONDS = 5.0
START_RETRY_CAP = 5.0
"""Longest wait between two attempts to reach the database at start."""
_WAIT_FOR = {"57P03", "3D000"}
"""PostgreSQL's "cannot connect now" (starting up) and "invalid catalog name" (no such
database yet)."""
log = logging.getLogger("segway_gateway.serve")


@env_for_every_option  # SEGWAY_GATEWAY_<FLAG> for each option that names none
@click.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535))
@db_option
@click.option(
    "--db-pool-size",
    default=GatewayConfig.db_pool_size,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="Connections each instance keeps open to PostgreSQL.",
)
@click.option(
    "--db-max-overflow",
    default=GatewayConfig.db_max_overflow,
    show_default=True,
    type=click.IntRange(0, 1000),
    help="Connections it may open beyond the pool at busy times (closed when given back).",
)
@click.option(
    "--region",
    type=click.Choice([r.value for r in Region]),
    help="Serve only this region's platforms (others get 15100).",
)
@click.option(
    "--token-ttl",
    default=GatewayConfig.token_ttl,
    show_default=True,
    type=click.IntRange(MIN_TOKEN_TTL, MAX_TOKEN_TTL),
)
@click.option(
    "--command-timeout",
    default=GatewayConfig.command_timeout,
    show_default=True,
    type=click.FloatRange(MIN_COMMAND_TIMEOUT, MAX_COMMAND_TIMEOUT),
    help="Seconds a command waits for the vehicle's reply before 15302.",
)
@click.option(
    "--broker",
    help="mqtt://host:port of the vehicles' broker (default: vehicles linked in process).",
)
@click.option(
    "--share-group",
    default=GatewayConfig.share_group,
    show_default=True,
    help="Take telemetry through $share/GROUP/… subscriptions, so that instances on one "
    "broker take each message once; '' takes every message (each instance writes it).",
)
@click.option(
    "--gateway-id",
    envvar=["SEGWAY_GATEWAY_GATEWAY_ID", "SEGWAY_GATEWAY_ID"],
    help="This instance's name on the broker; its broker session outlives a restart "
    "under the same name [default: HOSTNAME-PORT].",
)
@click.option(
    "--push-retention-days",
    default=GatewayConfig.push_retention_days,
    show_default=True,
    type=click.FloatRange(0),
    help="Delete delivered pushes and their delivery log older than this (at start, then "
    "hourly); 0 keeps them all.",
)
@click.option(
    "--vehicle-rate",
    default=GatewayConfig.vehicle_rate,
    show_default=True,
    type=click.FloatRange(0.1, 100_000),
    help="Messages a second one vehicle may send over the broker (after a burst of 100); "
    "more are dropped unread, counted and logged.",
)
@click.option(
    "--simulate/--no-simulate",
    default=None,
    help="Simulate the registered vehicles in this process "
    "[default: yes without --broker, no with it].",
)
@key_file_option
@city_option
@click.option("--demo", is_flag=True, help="Seed a demo platform and fleet; riders ride them.")
@speedup_option
@seed_option
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
    help="info: start and stop, device-link changes, refusals worth knowing and a "
    "once-a-minute summary of calls, errors and pushes; debug adds a line per API call.",
)
@click.option(
    "--drain-timeout",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0, 3600),
    help="On SIGTERM: seconds at most to go on serving (not ready) until nothing is in "
    "flight; at least the command timeout.",
)
@click.option(
    "--log-format",
    "log_form",
    default="text",
    show_default=True,
    type=click.Choice(["text", "json"]),
    help="json: one object per line on stderr (time, level, logger, message; an API "
    "call's line adds opId, platform, endpoint, code, ms).",
)
@click.option(
    "--head-timeout",
    default=GatewayConfig.head_timeout,
    show_default=True,
    type=click.FloatRange(0.1, 3600),
    help="Seconds a client has to send a whole request head; slower ones are dropped, and "
    "near the descriptor limit the longest-waiting unfinished heads make room.",
)
@click.option(
    "--trusted-proxies",
    help="Comma-separated addresses of reverse proxies whose X-Forwarded-For is believed "
    "[default: none: a client's address is its TCP peer].",
)
@click.option(
    "--access-log",
    is_flag=True,
    help="Log a line per API call (op id, platform, method, path, result, time) at info.",
)
@click.option(
    "--no-migrate",
    is_flag=True,
    help="Do not upgrade the database's schema on start; refuse to start if it is behind "
    "(then run `segway-gateway db upgrade`).",
)
@click.option(
    "--console-tiles",
    metavar="URL",
    help="Tile URL template for the console's map, e.g. "
    "https://tile.openstreetmap.org/{z}/{x}/{y}.png [default: none: a built-in plain "
    "basemap that needs no network].",
)
@click.option(
    "--metrics/--no-metrics",
    default=True,
    show_default=True,
    help="Count calls, commands, messages and pushes for GET /metrics (Prometheus).",
)
def serve(
    host: str,
    port: int,
    db_url: str,
    db_pool_size: int,
    db_max_overflow: int,
    region: str | None,
    token_ttl: int,
    command_timeout: float,
    broker: str | None,
    share_group: str,
    gateway_id: str | None,
    push_retention_days: float,
    vehicle_rate: float,
    simulate: bool | None,
    key_file: Path,
    city: Any,
    demo: bool,
    speedup: float,
    seed: int,
    log_level: str,
    log_form: str,
    drain_timeout: float,
    head_timeout: float,
    trusted_proxies: str | None,
    access_log: bool,
    no_migrate: bool,
    console_tiles: str | None,
    metrics: bool,
) -> None:
    """Serve the API; vehicles come over MQTT (--broker) or are simulated in process."""
    import uvicorn

    from segway_gateway.cli import demo_receiver, log_format
    from segway_gateway.cli.draining import DrainingServer
    from segway_gateway.gateway.app import create_app
    from segway_gateway.gateway.slow_clients import head_deadline_protocol

    log_format.configure(log_level, log_form)
    gateway_id = _valid_gateway_id(gateway_id or f"{socket.gethostname()}-{port}")
    if broker is not None:
        _check_broker(broker, key_file, gateway_id)
    run_async(prepare_schema)(db_url, not no_migrate)
    if demo:
        run_async(seed_demo)(db_url, key_file, f"http://{host}:{port}{demo_receiver.PREFIX}")
    config = GatewayConfig(
        db_url=db_url,
        db_pool_size=db_pool_size,
        db_max_overflow=db_max_overflow,
        region=Region(region) if region else None,
        token_ttl=token_ttl,
        command_timeout=command_timeout,
        key_file=key_file,
        broker=broker,
        share_group=share_group or None,
        gateway_id=gateway_id,
        push_retention_days=push_retention_days,
        vehicle_rate=vehicle_rate,
        simulate=broker is None if simulate is None else simulate,
        autopilot=demo,
        admin_token=os.environ.get(ADMIN_TOKEN_ENV) or None,
        speedup=speedup,
        seed=seed,
        city=city,
        access_log=access_log,
        migrate=not no_migrate,
        metrics=metrics,
        head_timeout=head_timeout,
        trusted_proxies=trusted_proxies,
        console_tiles=console_tiles or None,
    )
    if demo:
        print_banner(host, port)
    app = create_app(config, extra_routers=[demo_receiver.router()] if demo else [])
    server = DrainingServer(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=log_level,
            log_config=None,  # uvicorn's loggers hand their records to ours (log_format.py)
            access_log=False,  # the gateway's own line (--access-log) says more
            http=head_deadline_protocol(head_timeout),
            proxy_headers=trusted_proxies is not None,
            forwarded_allow_ips=trusted_proxies,
        ),
        on_drain=lambda: setattr(app.state.gateway, "stopping", True),
        min_drain=command_timeout,
        drain_timeout=drain_timeout,
    )
    _tune_garbage_collector()
    server.run()
    if not server.started:
        raise SystemExit(3)  # as uvicorn.run: the start failed, and its log said why


GC_THRESHOLDS = (50_000, 20, 100)
"""Allocations between two collections of the youngest generation, and how many of those
between two of the next ones (Python's default: 700, 10, 10)."""


def _tune_garbage_collector() -> None:
    """Collect cycles less often, and never scan what start-up made again: the gateway
    allocates a few objects per message (a report, a future, a callback) that die young,
    and at 700 allocations per collection the collector took about a quarter of the
    ingest's time (py-spy), scanning the long-lived fleet each time. Measured, bench
    ingest: 19,400 msg/s median before, 28,600 after (six runs of two rounds each)."""
    import gc

    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def prepare_schema(db_url: str, migrate: bool) -> None:
    """Upgrade the schema before serving (or check it, without `migrate`), saying what was
    applied; a schema that is behind is one clean error line. While the database cannot
    be reached yet (starting beside the gateway, or being created), try again, at least
    every START_RETRY_CAP seconds."""
    from segway_gateway.devicelink.backoff import Backoff

    backoff = Backoff(base=0.5, cap=START_RETRY_CAP)
    while True:
        try:
            applied = await with_db_unprepared(db_url, lambda db: db.prepare(migrate))
            break
        except Exception as exc:
            if db_url.startswith("sqlite") or not _not_reachable_yet(exc):
                raise  # a SQLite file that cannot be opened will not appear by waiting
            delay = backoff.next_delay()
            log.warning("database not reachable yet (%s); trying again in %.1f s", exc, delay)
            await asyncio.sleep(delay)
    for revision in applied:
        log.info("schema upgraded to %s: %s", revision.id, revision.summary)


def _not_reachable_yet(exc: Exception) -> bool:
    """A refused or unresolved connection, a PostgreSQL still starting up or whose
    database does not exist yet: what waiting may cure."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, OSError | TimeoutError):
        return True
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in _WAIT_FOR


def _valid_gateway_id(name: str) -> str:
    """A name that can be an MQTT topic level and client id: letters, digits, '.', '_'
    and '-' (a host name's other characters become '-'), at most 64 characters."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", name)[:64]
    if not cleaned.strip("-"):
        raise click.BadParameter(f"{name!r} has no usable character", param_hint="--gateway-id")
    return cleaned


def _check_broker(url: str, key_file: Path, gateway_id: str) -> None:
    """Refuse a bad URL or credentials the broker turns down before serving, in one line."""
    from segway_gateway.devicelink.mosquitto import GATEWAY_USER, gateway_password
    from segway_gateway.devicelink.mqtt_session import Broker, BrokerRefused, MqttSession
    from segway_gateway.gateway.crypto import load_key

    try:
        broker = Broker.from_url(url)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--broker") from err
    login = broker.login(GATEWAY_USER, gateway_password(load_key(key_file)))

    async def attempt() -> None:
        session = MqttSession(
            login, f"segway-gateway-preflight-{gateway_id}", lambda _t, _p: None, [], loud=False
        )
        try:
            await asyncio.wait_for(session.open(), PREFLIGHT_SECONDS)
        except TimeoutError:
            log.warning("%s is not reachable yet; serving anyway", broker)
        finally:
            await session.close()

    try:
        asyncio.run(attempt())
    except BrokerRefused as err:
        raise click.ClickException(
            f"{err} (is the broker's password file from `segway-gateway mqtt broker-config` "
            "with this gateway key?)"
        ) from err
