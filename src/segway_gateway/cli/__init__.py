"""The `segway-gateway` command: serve the API, administer platforms and vehicles, call the API.

The client commands (`token`, `status`, `unlock`, `set`, ...) need only the SDK; every
server dependency is imported inside the commands that use it.
"""

from __future__ import annotations

import click

from segway_gateway.cli import client
from segway_gateway.cli.db import db
from segway_gateway.cli.geofence import geofence
from segway_gateway.cli.mqtt import mqtt
from segway_gateway.cli.platform import platform
from segway_gateway.cli.push import push
from segway_gateway.cli.serve import serve
from segway_gateway.cli.sim import sim
from segway_gateway.cli.vehicle import vehicle


@click.group()
@click.version_option(package_name="segway-gateway")
def main() -> None:
    """segway-gateway: the Segway fleet IoT API (e-bike C80): served, simulated, called."""


for command in (serve, db, platform, vehicle, geofence, sim, mqtt, push, *client.COMMANDS):
    main.add_command(command)
