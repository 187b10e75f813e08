"""`segway-gateway geofence`: no-parking zones (GeoJSON) per platform; locks in them get 15996."""

from __future__ import annotations

import json
import time
from typing import IO, TYPE_CHECKING

import click

from segway_gateway.cli.common import db_option, platform_code_arg, run_async, with_db

if TYPE_CHECKING:
    from segway_gateway.gateway.geofences import Zone


@click.group()
def geofence() -> None:
    """No-parking zones: GeoJSON polygons per platform; a lock inside one is refused (15996)."""


def _zone_name_arg(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    from segway_gateway.gateway.geofences import GeofenceError, check_name

    try:
        return check_name(value)
    except GeofenceError as err:
        raise click.BadParameter(str(err)) from err


def _read_zone(name: str, file: IO[str]) -> Zone:
    """The zone in `file`, validated before the database is touched."""
    from segway_gateway.gateway.geofences import GeofenceError, parse_zone

    try:
        return parse_zone(name, json.load(file))
    except json.JSONDecodeError as err:
        raise click.ClickException(f"{file.name} is not JSON: {err}") from err
    except GeofenceError as err:
        raise click.ClickException(f"{file.name}: bad GeoJSON: {err}") from err


def _bbox(zone: Zone) -> str:
    return ",".join(f"{v:.6f}" for v in zone.bbox.as_list())


@geofence.command("add")
@click.argument("platform_code", metavar="PLATFORM", callback=platform_code_arg)
@click.argument("name", callback=_zone_name_arg)
@click.argument("file", type=click.File("r"))
@db_option
@run_async
async def geofence_add(platform_code: str, name: str, file: IO[str], db_url: str) -> None:
    """Add zone NAME to PLATFORM from a GeoJSON FILE ('-' reads stdin).

    FILE holds a Polygon or MultiPolygon, or a Feature or FeatureCollection of
    them; positions are [longitude, latitude].
    """
    from segway_gateway.gateway.store.geofences import Geofence

    zone = _read_zone(name, file)
    record = Geofence(platform_code, name, zone.geometry(), int(time.time() * 1000))
    await with_db(db_url, lambda db: db.geofences.add(record))
    count = len(zone.polygons)
    click.echo(f"geofence {name} added to {platform_code} ({count} polygon{'s' * (count != 1)})")


@geofence.command("list")
@click.option("--platform", "platform_code", help="Only this platform's zones.")
@db_option
@run_async
async def geofence_list(platform_code: str | None, db_url: str) -> None:
    """List zones: name, platform, polygon count, bbox (west,south,east,north)."""
    from segway_gateway.gateway.geofences import parse_zone

    stored = await with_db(db_url, lambda db: db.geofences.list_all(platform_code))
    if not stored:
        click.echo("no geofences")
    for record in stored:
        zone = parse_zone(record.name, record.geometry)
        click.echo(f"{zone.name}\t{record.platform_code}\t{len(zone.polygons)}\t{_bbox(zone)}")


@geofence.command("remove")
@click.argument("platform_code", metavar="PLATFORM")
@click.argument("name")
@db_option
@run_async
async def geofence_remove(platform_code: str, name: str, db_url: str) -> None:
    """Remove zone NAME of PLATFORM."""
    await with_db(db_url, lambda db: db.geofences.remove(platform_code, name))
    click.echo(f"geofence {name} removed from {platform_code}")
