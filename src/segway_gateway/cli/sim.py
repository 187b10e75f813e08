"""`segway-gateway sim`: drive the simulated fleet of a running gateway (its admin API)."""

from __future__ import annotations

import click

from segway_gateway.cli.common import admin_call, admin_token_option, url_option
from segway_gateway.sim.faults import Fault


@click.group()
def sim() -> None:
    """Drive the simulated fleet of a running gateway (its admin API)."""


@sim.command("fault")
@click.argument("iot_code")
@click.argument("kind", type=click.Choice([fault.value for fault in Fault]))
@click.option("--for", "seconds", type=click.FloatRange(0.001, 86400), help="Clear it after.")
@url_option
@admin_token_option
def sim_fault(iot_code: str, kind: str, seconds: float | None, url: str, admin_token: str) -> None:
    """Give a simulated vehicle a fault (see docs/api.md for the code each one causes)."""
    body = {"kind": kind, "seconds": seconds}
    admin_call(url, admin_token, "POST", f"/vehicles/{iot_code}/faults", body)
    click.echo(f"{iot_code}: {kind}" + (f" for {seconds:g} s" if seconds else ""))


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
