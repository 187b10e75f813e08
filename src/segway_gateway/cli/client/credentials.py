"""Who calls the API and where: options (or env) shared by every client command."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click

from segway_gateway.client.clients import DEFAULT_TIMEOUT, Client
from segway_gateway.client.errors import ParameterError, SegwayError, TransportError

BASE_URL_ENV = "SEGWAY_BASE_URL"
CLIENT_ID_ENV = "SEGWAY_CLIENT_ID"
CLIENT_SECRET_ENV = "SEGWAY_CLIENT_SECRET"
TIMEOUT_ENV = "SEGWAY_TIMEOUT"


@dataclass(frozen=True)
class Credentials:
    """A platform's credentials, the server to show them to (None: by region) and how
    long to wait for each of its answers."""

    client_id: str
    client_secret: str = field(repr=False)
    base_url: str | None
    timeout: float = DEFAULT_TIMEOUT

    def connect(self) -> Client:
        """A client with a token already in hand, so that a wrong secret or a server out
        of reach is one error line, not the same error for every vehicle."""
        try:
            api = Client(self.client_id, self.client_secret, self.base_url, timeout=self.timeout)
        except ParameterError as err:  # no region for the client id's letter
            raise click.BadParameter(str(err), param_hint="'--client-id'") from None
        try:
            api.token()
        except SegwayError as err:
            api.close()
            where = "cannot reach " if isinstance(err, TransportError) else ""
            raise click.ClickException(f"{where}{api.base_url}: {err}") from None
        return api


def credential_options(command: Callable[..., None]) -> Callable[..., None]:
    """Add --base-url, --client-id, --client-secret and --timeout; the command gets
    `credentials`."""

    @click.option(
        "--base-url",
        envvar=BASE_URL_ENV,
        help=f"The API's address, e.g. http://127.0.0.1:8080 (or env {BASE_URL_ENV}); "
        "without it, the vendor's domain of the client id's region (its first letter).",
    )
    @click.option(
        "--client-id",
        envvar=CLIENT_ID_ENV,
        required=True,
        help=f"The platform code, e.g. A20081 (or env {CLIENT_ID_ENV}).",
    )
    @click.option(
        "--client-secret",
        envvar=CLIENT_SECRET_ENV,
        required=True,
        help=f"The platform's secret (or env {CLIENT_SECRET_ENV}, to keep it out of history).",
    )
    @click.option(
        "--timeout",
        envvar=TIMEOUT_ENV,
        default=DEFAULT_TIMEOUT,
        show_default=True,
        type=click.FloatRange(0.1, 600),
        help=f"Seconds to wait for each answer (or env {TIMEOUT_ENV}); a command waits for "
        "the vehicle's reply, which the gateway allows 5 s.",
    )
    @functools.wraps(command)
    def with_credentials(
        *, base_url: str | None, client_id: str, client_secret: str, timeout: float, **kwargs: Any
    ) -> None:
        credentials = Credentials(client_id, client_secret, base_url, timeout)
        command(credentials=credentials, **kwargs)

    return with_credentials
