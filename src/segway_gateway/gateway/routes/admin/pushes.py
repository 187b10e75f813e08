"""The admin API of pushes: a platform's delivery log, and sending pushes again."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from segway_gateway.gateway.routes.admin.guard import admin_endpoint, answer
from segway_gateway.gateway.routes.body import read_body
from segway_gateway.gateway.runtime import Gateway
from segway_gateway.gateway.store.outbox import LogQuery, Replay

router = APIRouter(prefix="/admin/v1", tags=["Admin"])

_MAX_BODY = 64 * 1024


class ReplayRequest(BaseModel):
    """Which of the platform's pushes to send again; the conditions given all apply."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    event_ids: list[str] = Field(default_factory=list, alias="eventIds", max_length=10_000)
    dead: bool = False
    since: int | None = Field(default=None, ge=0, description="accepted at or after, epoch ms")
    until: int | None = Field(default=None, ge=0, description="accepted before, epoch ms")


async def delivery_log(request: Request, gateway: Gateway) -> Response:
    code = request.path_params["platform_code"]
    query = QueryParams({k: v for k, v in request.query_params.items() if v})  # empty: absent
    state = query.get("state")
    if state not in (None, "pending", "delivered", "dead"):
        raise ValueError("state is one of pending, delivered, dead")
    limit = _whole(query, "limit", 100)
    if limit is None or not 1 <= limit <= 10_000:
        raise ValueError("limit is 1 to 10000")
    wanted = LogQuery(
        platform_code=code,
        state=state,
        event_id=query.get("eventId"),
        since_ms=_whole(query, "since"),
        until_ms=_whole(query, "until"),
        limit=limit,
    )
    entries = await gateway.db.outbox.log(wanted)
    return answer(200, {"platform": code, "attempts": [asdict(e) for e in entries]})


def _whole(query: QueryParams, name: str, default: int | None = None) -> int | None:
    """A query parameter that must be a whole number (epoch ms, a count), if given."""
    text = query.get(name)
    if text is None:
        return default
    if not text.isdigit():
        raise ValueError(f"{name} is a whole number, not {text[:40]!r}")
    return int(text)


async def replay(request: Request, gateway: Gateway) -> Response:
    code = request.path_params["platform_code"]
    try:
        wanted = ReplayRequest.model_validate_json(await read_body(request, _MAX_BODY))
    except ValidationError as err:
        raise ValueError(err.errors()[0]["msg"]) from err
    selection = Replay(tuple(wanted.event_ids), wanted.dead, code, wanted.since, wanted.until)
    if not selection.selects_something():
        raise ValueError("say which pushes: eventIds, dead, since or until")
    return answer(200, {"platform": code, "replayed": await send_again(gateway, selection)})


async def send_again(gateway: Gateway, selection: Replay) -> int:
    """Replay the selected pushes and wake the dispatcher for them (the admin API and the
    console's push log both replay through here); how many will be sent again. With no
    platform in the selection, the ring names none: the dispatcher looks through the
    whole outbox for what is due."""
    count = await gateway.db.outbox.replay(selection, int(gateway.clock() * 1000))
    if count:
        code = selection.platform_code
        gateway.fleet.ingest.doorbell.ring(None if code is None else [code])
    return count


_PUSHES = "/platforms/{platform_code}/pushes"
router.add_api_route(_PUSHES, admin_endpoint(delivery_log), methods=["GET"], summary="Delivery log")
router.add_api_route(
    _PUSHES + "/replay", admin_endpoint(replay), methods=["POST"], summary="Send pushes again"
)
