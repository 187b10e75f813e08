"""`segway-gateway mqtt`: credentials and ACL for the vehicles' MQTT broker, and its AsyncAPI."""

from __future__ import annotations

import json
from importlib.util import find_spec
from pathlib import Path

import click

from segway_gateway.cli.common import db_option, iot_codes_arg, key_file_option, run_async, with_db


@click.group()
def mqtt() -> None:
    """The MQTT device link: per-vehicle credentials bound to client ids, a Mosquitto config
    with its ACL, the AsyncAPI document."""


FORMATS = ["yaml", "json"] if find_spec("yaml") is not None else ["json"]
"""YAML needs PyYAML (it comes with uvicorn[standard]); JSON always works."""


@mqtt.command("asyncapi")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=FORMATS[0], show_default=True)
def asyncapi(fmt: str) -> None:
    """Print the AsyncAPI 3.0 document of the device link (docs/device-link.asyncapi.yaml)."""
    from segway_gateway.contract.asyncapi import asyncapi_document

    document = asyncapi_document()
    if fmt == "json":
        click.echo(json.dumps(document, indent=2))
        return
    import yaml  # type: ignore[import-untyped]

    click.echo(yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100), nl=False)


@mqtt.command("broker-config")
@click.option(
    "--out",
    "directory",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for mosquitto.conf, dynamic-security.json and a README.",
)
@click.option("--port", default=1883, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--plugin",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Mosquitto's dynamic security plugin [default: found in the usual places].",
)
@click.option(
    "--broker-plugin",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The plugin's path where the broker runs, written as given and not looked for "
    "here (a broker in another container: /usr/lib/mosquitto_dynamic_security.so in "
    "eclipse-mosquitto:2).",
)
@db_option
@key_file_option
@run_async
async def broker_config(
    directory: Path,
    port: int,
    plugin: Path | None,
    broker_plugin: Path | None,
    db_url: str,
    key_file: Path,
) -> None:
    """Write a Mosquitto config for every registered vehicle (rerun after adding vehicles,
    then restart the broker).

    Each vehicle's credentials connect only under its client id c80-{iotCode}, so no
    device can take the gateway's client id or another vehicle's and knock it off the
    broker (Mosquitto 2.0 or later, with its dynamic security plugin). DIR/README says
    how to do the same on EMQX and HiveMQ.
    """
    from segway_gateway.devicelink.mosquitto import (
        PluginNotFound,
        find_plugin,
        write_broker_files,
    )
    from segway_gateway.gateway.crypto import load_key

    if plugin is not None and broker_plugin is not None:
        raise click.UsageError("give --plugin or --broker-plugin, not both")
    try:
        found = broker_plugin or find_plugin(plugin)
    except PluginNotFound as err:
        hint = "" if plugin is not None else "; give its path with --plugin (or --broker-plugin)"
        raise click.ClickException(f"no Mosquitto dynamic security plugin: {err}{hint}") from err
    registered = await with_db(db_url, lambda db: db.vehicles.registrations())
    try:
        conf = write_broker_files(directory, load_key(key_file), sorted(registered), port, found)
    except OSError as err:
        raise click.ClickException(f"cannot write the broker files: {err}") from err
    click.echo(f"{len(registered)} vehicles and the gateway user written to {directory}")
    click.echo(f"start the broker with: mosquitto -c {conf}")
    click.echo(f"for EMQX or HiveMQ instead, see {directory / 'README'}")


@mqtt.command("password")
@click.argument("iot_codes", nargs=-1, required=True, callback=iot_codes_arg)
@key_file_option
def password(iot_codes: list[str], key_file: Path) -> None:
    """Print vehicles' MQTT passwords (user name = iotCode), to provision real boxes."""
    from segway_gateway.devicelink.mosquitto import device_password
    from segway_gateway.gateway.crypto import load_key

    key = load_key(key_file)
    for iot_code in iot_codes:
        click.echo(f"{iot_code}\t{device_password(key, iot_code)}")
