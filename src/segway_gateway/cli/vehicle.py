"""`segway-gateway vehicle`: vehicles registered to one platform, addressed by iotCode."""

from __future__ import annotations

from typing import Any

import click

from segway_gateway.cli.common import db_option, iot_codes_arg, run_async, with_db
from segway_gateway.gateway.registration import add_vehicles


@click.group()
def vehicle() -> None:
    """Vehicles: registered to one platform, addressed by iotCode (IMEI)."""


@vehicle.command("add")
@click.argument("iot_codes", nargs=-1, required=True, callback=iot_codes_arg)
@click.option("--platform", "platform_code", required=True, help="The owning platform's code.")
@click.option("--inactive", is_flag=True, help="Registered but not activated (15300).")
@db_option
@run_async
async def vehicle_add(
    iot_codes: list[str], platform_code: str, inactive: bool, db_url: str
) -> None:
    """Add one or more vehicles (all or none)."""
    await with_db(db_url, lambda db: add_vehicles(db, iot_codes, platform_code, not inactive))
    for iot_code in iot_codes:
        click.echo(f"vehicle {iot_code} added to {platform_code}")


@vehicle.command("list")
@click.option("--platform", "platform_code", help="Only this platform's vehicles.")
@db_option
@run_async
async def vehicle_list(platform_code: str | None, db_url: str) -> None:
    """List vehicles with their last reported state."""
    vehicles = await with_db(db_url, lambda db: db.vehicles.list_all(platform_code))
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
    await with_db(db_url, lambda db: db.vehicles.remove(iot_code))
    click.echo(f"vehicle {iot_code} removed")
