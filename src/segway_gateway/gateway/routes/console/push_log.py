"""The console's push log (`/console/pushes`): the delivery log, one row per attempt, newest
first, and replay of one push or of every dead one.

The filters are a GET form, so a view can be bookmarked: `kind` (alert, fault, location,
status), `event` (an event id), `state` (of the push: pending, delivered, dead), `iot` (a
vehicle's iotCode), `since` and `until` (the attempt's time, UTC, as a `datetime-local`
input sends it, `2024-05-01T12:30`, seconds and milliseconds optional; since inclusive,
until exclusive) and `limit` (1 to 1000, 100 by default). An empty field is no condition;
one that cannot be read gives the page with what is wrong, HTTP 400. A platform's session
sees its own pushes only, the admin's every platform's.

Replay is a form posted to `/console/pushes/replay` with the log's query string: `event`
(an event id) for one push, or `dead` for every dead push the session sees (the admin's:
of every platform). It answers 303 to the log with that query string and `replayed=N`,
which the page shows as "N pushes will be sent again": after a redirect, reloading the
page does not replay again. A platform's replay names its own code, so another
platform's event id replays nothing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import get_args
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from segway_gateway.contract.pushes import PushKind
from segway_gateway.gateway.console_session import Who
from segway_gateway.gateway.routes.admin.pushes import send_again
from segway_gateway.gateway.routes.console.forms import read_form
from segway_gateway.gateway.routes.console.guard import logged_in
from segway_gateway.gateway.routes.console.templating import page
from segway_gateway.gateway.runtime import Gateway
from segway_gateway.gateway.store.outbox import (
    DEAD,
    DELIVERED,
    PENDING,
    LogEntry,
    LogQuery,
    Replay,
)

router = APIRouter(include_in_schema=False)

KINDS: tuple[str, ...] = get_args(PushKind)
STATES = (PENDING, DELIVERED, DEAD)
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
_WHOLE = re.compile(r"[0-9]{1,9}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_REPLAYED = "replayed"
"""The query parameter a replay's redirect adds: how many pushes it sent again."""


def wanted(query: QueryParams, who: Who) -> LogQuery:
    """The attempts the filters ask for, of the pushes `who` may see; ValueError saying
    which field cannot be read."""
    given = {name: value.strip() for name, value in query.items() if value.strip()}
    kind, state = given.get("kind"), given.get("state")
    if kind is not None and kind not in KINDS:
        raise ValueError(f"Event kind is one of {', '.join(KINDS)}, not {kind[:40]!r}.")
    if state is not None and state not in STATES:
        raise ValueError(f"State is one of {', '.join(STATES)}, not {state[:40]!r}.")
    limit = given.get("limit", str(DEFAULT_LIMIT))
    if not _WHOLE.fullmatch(limit) or not 1 <= int(limit) <= MAX_LIMIT:
        raise ValueError(f"Limit is a whole number from 1 to {MAX_LIMIT}, not {limit[:40]!r}.")
    return LogQuery(
        platform_code=None if who.is_admin else who.platform_code,
        state=state,
        event_id=given.get("event"),
        kind=kind,
        iot_code=given.get("iot"),
        since_ms=_epoch_ms(given, "since"),
        until_ms=_epoch_ms(given, "until"),
        limit=int(limit),
    )


def _epoch_ms(given: dict[str, str], name: str) -> int | None:
    """A time field (UTC unless it names its offset) as epoch ms, if given."""
    text = given.get(name)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{name.capitalize()} is a date and time such as 2024-05-01T12:30 (UTC), "
            f"not {text[:40]!r}."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


async def show(request: Request, gateway: Gateway, who: Who) -> Response:
    query = request.query_params
    try:
        selection = wanted(query, who)
    except ValueError as err:
        return _log_page(request, who, query, [], error=str(err), status=400)
    replayed = query.get(_REPLAYED, "")
    return _log_page(
        request,
        who,
        query,
        await gateway.db.outbox.log(selection),
        limit=selection.limit,
        replayed=int(replayed) if _WHOLE.fullmatch(replayed) else None,
    )


def _log_page(
    request: Request,
    who: Who,
    query: QueryParams,
    entries: list[LogEntry],
    *,
    status: int = 200,
    **context: object,
) -> Response:
    return page(
        request,
        "pushes.html",
        who,
        status,
        title="Push log",
        query=query,
        filters=urlencode(_filters(query)),
        kinds=KINDS,
        states=STATES,
        max_limit=MAX_LIMIT,
        entries=entries,
        **context,
    )


def _filters(query: QueryParams) -> list[tuple[str, str]]:
    """The log's query string without a replay's count: where a replay leads back to."""
    return [(name, value) for name, value in query.multi_items() if name != _REPLAYED]


def _chosen(form: dict[str, str], who: Who) -> Replay:
    """What a replay form asks for, of the pushes `who` may replay."""
    platform_code = None if who.is_admin else who.platform_code
    event_id = form.get("event", "").strip()
    if event_id:
        return Replay(event_ids=(event_id,), platform_code=platform_code)
    if form.get("dead"):
        return Replay(dead=True, platform_code=platform_code)
    raise ValueError("say which pushes to replay: one event id, or every dead push")


async def replay(request: Request, gateway: Gateway, who: Who) -> Response:
    try:
        selection = _chosen(await read_form(request), who)
    except ValueError as err:
        error = f"Nothing replayed: {err}."
        return _log_page(request, who, request.query_params, [], error=error, status=400)
    count = await send_again(gateway, selection)
    back = urlencode([*_filters(request.query_params), (_REPLAYED, str(count))])
    return RedirectResponse(f"/console/pushes?{back}", 303)


router.add_api_route("/console/pushes", logged_in(show), methods=["GET"])
router.add_api_route("/console/pushes/replay", logged_in(replay), methods=["POST"])
