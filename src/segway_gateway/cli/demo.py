"""The demo of `serve --demo` (`make run`): its platform, its fleet, its banner.

The document's example credentials, ten simulated vehicles, and pushes to the
receiver in `demo_receiver`, so that a newcomer sees everything work at once.
"""

from __future__ import annotations

from pathlib import Path

import click

from segway_gateway.gateway.registration import add_platform, add_vehicles

DEMO_PLATFORM = "A20081"
DEMO_SECRET = "e2651be5-12d3-48f3-ba6c-bc2b04a447b6"
DEMO_FIRST_VEHICLE = 861477038719116
DEMO_FLEET_SIZE = 10


async def seed_demo(db_url: str, key_file: Path, push_url: str) -> None:
    from segway_gateway.gateway.crypto import load_key
    from segway_gateway.gateway.store.db import Database

    async with Database(db_url) as db:
        if await db.platforms.list_all():
            return
        await add_platform(db, load_key(key_file), DEMO_PLATFORM, DEMO_SECRET, push_url)
        fleet = [str(DEMO_FIRST_VEHICLE + n) for n in range(DEMO_FLEET_SIZE)]
        await add_vehicles(db, fleet, DEMO_PLATFORM, active=True)
        click.echo(f"Seeded demo platform {DEMO_PLATFORM} with {DEMO_FLEET_SIZE} vehicles.")


def print_banner(host: str, port: int) -> None:
    base = f"http://{host}:{port}"
    click.echo(
        f"""
Console: {base}/console (log in with the demo platform's client id and secret)
Demo platform: client_id={DEMO_PLATFORM} client_secret={DEMO_SECRET}
Vehicles: {DEMO_FIRST_VEHICLE} .. {DEMO_FIRST_VEHICLE + DEMO_FLEET_SIZE - 1}
API docs: {base}/docs
Pushes: the demo platform's go to {base}/demo/pushes and show here as "push …" lines

Try it:
  TOKEN=$(curl -s -X POST {base}/oauth/token -d client_id={DEMO_PLATFORM} \\
    -d client_secret={DEMO_SECRET} -d grant_type=client_credentials \\
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -s -X POST {base}/api/v2/vehicle/control/unlock -H "Authorization: bearer $TOKEN" \\
    -H 'Content-Type: application/json' -d '{{"iotCode": "{DEMO_FIRST_VEHICLE}"}}'
  curl -s "{base}/api/v2/vehicle/query/current/status?iotCode={DEMO_FIRST_VEHICLE}" \\
    -H "Authorization: bearer $TOKEN"

Or with this package's client (docs/cli.md, docs/sdk.md):
  export SEGWAY_BASE_URL={base} SEGWAY_CLIENT_ID={DEMO_PLATFORM} SEGWAY_CLIENT_SECRET={DEMO_SECRET}
  .venv/bin/segway-gateway status {DEMO_FIRST_VEHICLE} {DEMO_FIRST_VEHICLE + 1}
"""
    )
