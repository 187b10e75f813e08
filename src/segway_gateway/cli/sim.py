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
