"""`segway-gateway token`: an access token for the credentials, e.g. for curl."""

from __future__ import annotations

import json
import time

import click

from segway_gateway.cli.client.credentials import Credentials, credential_options
from segway_gateway.cli.client.output import table


@click.command()
@click.option("--json", "as_json", is_flag=True, help="As {access_token, expires_in}.")
@credential_options
def token(credentials: Credentials, as_json: bool) -> None:
    """Get an access token and the seconds it stays valid."""
    with credentials.connect() as api:
        current = api.token()
    answer = {
        "access_token": current.value,
        "expires_in": round(current.expires_at - time.monotonic()),
    }
    if as_json:
        click.echo(json.dumps(answer))
    else:
        click.echo(table([tuple(answer), tuple(str(value) for value in answer.values())]))
