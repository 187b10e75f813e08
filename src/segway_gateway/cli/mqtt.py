"""`segway-gateway mqtt`: credentials and ACL for the vehicles' MQTT broker."""

from __future__ import annotations

from pathlib import Path

import click

from segway_gateway.cli.common import db_option, iot_codes_arg, key_file_option, run_async, with_db


@click.group()
def mqtt() -> None:
    """The MQTT device link: per-vehicle credentials and a Mosquitto ACL."""


@mqtt.command("broker-config")
@click.option(
    "--out",
    "directory",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for passwd, acl and mosquitto.conf.",
)
@click.option("--port", default=1883, show_default=True, type=click.IntRange(1, 65535))
@db_option
@key_file_option
@run_async
async def broker_config(directory: Path, port: int, db_url: str, key_file: Path) -> None:
    """Write a Mosquitto config for every registered vehicle (rerun after adding vehicles)."""
    from segway_gateway.gateway.crypto import load_key
    from segway_gateway.gateway.link.mosquitto import write_broker_files

    registered = await with_db(db_url, lambda db: db.vehicles.registrations())
    conf = write_broker_files(directory, load_key(key_file), sorted(registered), port)
    click.echo(f"{len(registered)} vehicles and the gateway user written to {directory}")
    click.echo(f"start the broker with: mosquitto -c {conf}")


@mqtt.command("password")
@click.argument("iot_codes", nargs=-1, required=True, callback=iot_codes_arg)
@key_file_option
def password(iot_codes: list[str], key_file: Path) -> None:
    """Print vehicles' MQTT passwords (user name = iotCode), to provision real boxes."""
    from segway_gateway.gateway.crypto import load_key
    from segway_gateway.gateway.link.mosquitto import device_password

    key = load_key(key_file)
    for iot_code in iot_codes:
        click.echo(f"{iot_code}\t{device_password(key, iot_code)}")
