"""`segway-gateway push listen`: receive the four pushes and print each one as it arrives."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from segway_gateway.webhooks.events import PushEvent
    from segway_gateway.webhooks.receiver import Rejection

SECRET_ENV = "SEGWAY_PUSH_SECRET"
KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "alert": ("code", "alertStatus", "statusUtcTime"),
    "fault": ("code", "faultStatus", "statusUtcTime"),
    "location": ("locationStatus", "latitude", "longitude", "gpsUtcTime"),
    "status": (
        "online",
        "locked",
        "charging",
        "powerPercent",
        "speed",
        "remainingRange",
        "statusUtcTime",
    ),
}
"""What a line shows of each kind (--json shows every field)."""


@click.group()
def push() -> None:
    """Receive pushes as an operator's backend would."""


@push.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8081, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--secret", required=True, envvar=SECRET_ENV, help=f"The client_secret (or env {SECRET_ENV})."
)
@click.option(
    "--prefix",
    default="",
    callback=lambda _ctx, _param, value: _prefix(value),
    help="Path before /v2/vehicle/… (the push URL's path), e.g. /segway.",
)
@click.option("--json", "as_json", is_flag=True, help="Print each push as a JSON line.")
def listen(host: str, port: int, secret: str, prefix: str, as_json: bool) -> None:
    """Serve POST <prefix>/v2/vehicle/{alert,fault,location,status}; print what arrives."""
    import uvicorn

    from segway_gateway.webhooks.receiver import push_app

    show, refuse = (_json_line, _json_rejection) if as_json else (_text_line, _text_rejection)
    app = push_app(secret, show, prefix=prefix, on_rejected=refuse)
    click.echo(f"listening on http://{host}:{port}{prefix}/v2/vehicle/<kind>")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def _prefix(value: str) -> str:
    if value and not value.startswith("/"):
        raise click.BadParameter("start it with /")
    return value.rstrip("/")


def _text_line(event: PushEvent) -> None:
    fields = event.model_dump(by_alias=True)
    shown = [f"{name}={_text(fields[name])}" for name in KEY_FIELDS[event.kind]]
    if event.event_id is not None:
        shown.append(f"eventId={event.event_id}")
    click.echo(f"{event.kind} {event.iot_code} {' '.join(shown)}")


def _json_line(event: PushEvent) -> None:
    fields = event.model_dump(by_alias=True, exclude_none=True)
    click.echo(json.dumps({"kind": event.kind, **fields}))


def _text_rejection(rejection: Rejection) -> None:
    iot_code = rejection.iot_code or "-"
    click.echo(f"REJECTED: {rejection.reason} ({rejection.kind} {iot_code}, {rejection.status})")


def _json_rejection(rejection: Rejection) -> None:
    click.echo(
        json.dumps(
            {
                "kind": rejection.kind,
                "iotCode": rejection.iot_code,
                "rejected": rejection.reason,
                "status": rejection.status,
            }
        )
    )


def _text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
