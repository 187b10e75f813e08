"""`segway-gateway push`: receive pushes (`listen`), and a gateway's delivery log and replay."""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from segway_gateway.cli.common import db_option, run_async, with_db

if TYPE_CHECKING:
    from segway_gateway.contract.pushes import PushEvent
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
    """Pushes: receive them as an operator would; a gateway's delivery log and replay."""


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


@push.command("log")
@click.option("--platform", "platform_code", help="Only this platform's pushes.")
@click.option("--state", type=click.Choice(["pending", "delivered", "dead"]))
@click.option("--event", "event_id", help="Only the attempts of this push (its eventId).")
@click.option("--since", type=click.DateTime(), help="Attempts at or after (UTC).")
@click.option("--until", type=click.DateTime(), help="Attempts before (UTC).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@db_option
@run_async
async def push_log(
    platform_code: str | None,
    state: str | None,
    event_id: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    as_json: bool,
    db_url: str,
) -> None:
    """The delivery log of a gateway's pushes, newest attempt first."""
    from segway_gateway.gateway.store.outbox import LogQuery

    wanted = LogQuery(platform_code, state, event_id, _epoch_ms(since), _epoch_ms(until), limit)
    entries = await with_db(db_url, lambda db: db.outbox.log(wanted))
    if not entries and not as_json:
        click.echo("no push attempts")
    for entry in entries:
        attempt = entry.attempt
        if as_json:
            click.echo(json.dumps({**dataclasses.asdict(entry), "attempt": vars(attempt)}))
            continue
        when = datetime.fromtimestamp(attempt.at / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        status = attempt.http_status if attempt.http_status is not None else "-"
        click.echo(
            f"{when[:-4]}Z {entry.platform_code} {entry.kind} {entry.iot_code} {entry.event_id}"
            f" {entry.state} HTTP {status} {attempt.latency_ms} ms {attempt.excerpt[:60]!r}"
        )


@push.command("replay")
@click.argument("event_ids", nargs=-1)
@click.option("--dead", is_flag=True, help="Every push given up.")
@click.option("--platform", "platform_code", help="Only this platform's pushes.")
@click.option("--since", type=click.DateTime(), help="Accepted at or after (UTC).")
@click.option("--until", type=click.DateTime(), help="Accepted before (UTC).")
@db_option
@run_async
async def push_replay(
    event_ids: tuple[str, ...],
    dead: bool,
    platform_code: str | None,
    since: datetime | None,
    until: datetime | None,
    db_url: str,
) -> None:
    """Send pushes again (by event id, the dead ones, or a time range); a running gateway
    delivers them within a second or two."""
    from segway_gateway.gateway.store.outbox import Replay

    selection = Replay(event_ids, dead, platform_code, _epoch_ms(since), _epoch_ms(until))
    if not selection.selects_something():
        raise click.UsageError("say which pushes: EVENT_ID…, --dead, --since or --until")
    now_ms = int(time.time() * 1000)
    count = await with_db(db_url, lambda db: db.outbox.replay(selection, now_ms))
    click.echo(f"{count} pushes to send again")


@push.command("prune")
@click.option(
    "--older-than",
    "days",
    required=True,
    type=click.FloatRange(0),
    help="Days since the push was accepted.",
)
@click.option("--dead", is_flag=True, help="The dead pushes too (the dead-letter list).")
@db_option
@run_async
async def push_prune(days: float, dead: bool, db_url: str) -> None:
    """Delete delivered pushes (and with --dead the dead ones) accepted more than DAYS
    ago, with their delivery log; pending pushes are never deleted."""
    before_ms = int((time.time() - days * 86_400) * 1000)
    count = await with_db(db_url, lambda db: db.outbox.prune(before_ms, dead))
    click.echo(f"{count} pushes deleted")


def _epoch_ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.replace(tzinfo=UTC).timestamp() * 1000)
