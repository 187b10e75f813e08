"""`segway-gateway sim`: run a simulated fleet, or drive a running gateway's (admin API)."""

from __future__ import annotations

import asyncio
import logging
import resource
import signal
from pathlib import Path
from typing import Any

import click

from segway_gateway.cli.common import (
    admin_call,
    admin_token_option,
    city_option,
    db_option,
    key_file_option,
    run_async,
    seed_option,
    speedup_option,
    url_option,
    with_db,
)
from segway_gateway.cli.demo import DEMO_FIRST_VEHICLE
from segway_gateway.sim.faults import Fault


@click.group()
def sim() -> None:
    """Run a simulated fleet over MQTT, or drive a running gateway's (its admin API)."""


@sim.command("fault")
@click.argument("iot_code")
@click.argument("kind", type=click.Choice([fault.value for fault in Fault]))
@click.option("--for", "seconds", type=click.FloatRange(0.001, 86400), help="Clear it after.")
@click.option(
    "--delay",
    type=click.FloatRange(0.001, 600),
    help="slow-reply only: seconds the vehicle takes to reply.",
)
@url_option
@admin_token_option
def sim_fault(
    iot_code: str,
    kind: str,
    seconds: float | None,
    delay: float | None,
    url: str,
    admin_token: str,
) -> None:
    """Give a simulated vehicle a fault (see docs/api.md for the code each one causes)."""
    body = {"kind": kind, "seconds": seconds, "delay": delay}
    admin_call(url, admin_token, "POST", f"/vehicles/{iot_code}/faults", body)
    detail = (f", replies after {delay:g} s" if delay else "") + (
        f" for {seconds:g} s" if seconds else ""
    )
    click.echo(f"{iot_code}: {kind}{detail}")


@sim.command("clear")
@click.argument("iot_code")
@url_option
@admin_token_option
def sim_clear(iot_code: str, url: str, admin_token: str) -> None:
    """Clear every fault of a simulated vehicle."""
    admin_call(url, admin_token, "DELETE", f"/vehicles/{iot_code}/faults")
    click.echo(f"{iot_code}: no faults")


@sim.command("ride")
@click.argument("iot_code")
@click.argument("action", type=click.Choice(["start", "stop"]))
@url_option
@admin_token_option
def sim_ride(iot_code: str, action: str, url: str, admin_token: str) -> None:
    """Start or end a ride on a simulated (unlocked) vehicle."""
    admin_call(url, admin_token, "POST", f"/vehicles/{iot_code}/ride", {"action": action})
    click.echo(f"{iot_code}: ride {'started' if action == 'start' else 'ended'}")


def _event_command(name: str, noun: str, path: str) -> click.Command:
    """`sim alert` and `sim fault-code`: raise, or with --clear clear, one code."""

    @click.command(name)
    @click.argument("iot_code")
    @click.argument("code", type=int)
    @click.option("--clear", is_flag=True, help=f"Clear the {noun} instead of raising it.")
    @url_option
    @admin_token_option
    def command(iot_code: str, code: int, clear: bool, url: str, admin_token: str) -> None:
        if clear:
            admin_call(url, admin_token, "DELETE", f"/vehicles/{iot_code}/{path}/{code}")
        else:
            admin_call(url, admin_token, "POST", f"/vehicles/{iot_code}/{path}", {"code": code})
        click.echo(f"{iot_code}: {noun} {code} {'cleared' if clear else 'raised'}")

    command.help = (
        f"Make a simulated vehicle raise (or clear) {noun} CODE, as if it happened; the "
        f"gateway receives the event. Codes: see docs/simulation.md."
    )
    return command


sim.add_command(_event_command("alert", "alert", "alerts"))
sim.add_command(_event_command("fault-code", "fault code", "fault-codes"))


@sim.command("run")
@click.option(
    "--broker",
    required=True,
    envvar="SEGWAY_GATEWAY_BROKER",
    help="mqtt://host:port of the broker the gateway reads (serve --broker).",
)
@click.option(
    "--count",
    type=click.IntRange(1, 1_000_000),
    help="Simulate COUNT consecutive iotCodes from --first [default: the registered vehicles].",
)
@click.option("--first", default=DEMO_FIRST_VEHICLE, show_default=True, help="With --count.")
@speedup_option
@seed_option
@click.option("--autopilot", is_flag=True, help="Simulated riders take unlocked bikes out.")
@click.option("--riding", is_flag=True, help="Unlock every vehicle and ride it (the most traffic).")
@click.option(
    "--report-every",
    default=30.0,
    show_default=True,
    type=click.FloatRange(1, 3600),
    help="Seconds between lines saying whether the fleet keeps its schedule.",
)
@city_option
@db_option
@key_file_option
def sim_run(
    broker: str,
    count: int | None,
    first: int,
    speedup: float,
    seed: int,
    autopilot: bool,
    riding: bool,
    report_every: float,
    city: Any,
    db_url: str,
    key_file: Path,
) -> None:
    """Run a simulated fleet as its own process; each vehicle connects to the broker.

    Vehicles log in with their iotCode and the password `mqtt password` prints
    (from the same gateway key). Stop with Ctrl-C: the fleet is saved and every
    vehicle leaves `online: false`.
    """
    from segway_gateway.devicelink.mqtt_session import Broker
    from segway_gateway.gateway.crypto import load_key
    from segway_gateway.gateway.store.db import Database
    from segway_gateway.sim.runner import run_fleet

    try:
        address = Broker.from_url(broker)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--broker") from err
    logging.basicConfig(level="WARNING", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if count is not None:
        iot_codes = [str(first + n) for n in range(count)]
    else:
        registered = run_async(with_db)(db_url, lambda db: db.vehicles.registrations())
        iot_codes = sorted(code for code, (_, active) in registered.items() if active)
        if not iot_codes:
            raise click.ClickException("no active vehicles registered: add some, or use --count")
    key = load_key(key_file)
    _allow_open_files(len(iot_codes) + 100)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with Database(db_url) as db:
            await run_fleet(
                address,
                key,
                db.sim,
                iot_codes,
                stop,
                speedup=speedup,
                seed=seed,
                autopilot=autopilot,
                riding=riding,
                city=city,
                report_every=report_every,
                report=click.echo,
            )

    run_async(main)()


def _allow_open_files(needed: int) -> None:
    """One socket per vehicle: raise the soft limit on open files as far as allowed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard != resource.RLIM_INFINITY and hard < needed:
        click.echo(f"warning: {needed} sockets wanted, the open-files limit is {hard}", err=True)
