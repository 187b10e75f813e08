"""The vehicle view: what every query answers, the vehicle on the map with its trail, every
control and setting as a form, its recent pushes and events; for the admin, faults, rides,
alerts and fault codes of a simulated vehicle.

Every action is a call of the public API (or the admin API) made in process
(api_calls.py); the page comes back with the answer's code and message. A platform sees
only its own vehicles: another's is "not found", as the API says.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from segway_gateway.contract import paths
from segway_gateway.contract.alerts import Alert
from segway_gateway.gateway.console_session import Who
from segway_gateway.gateway.routes.console import controls
from segway_gateway.gateway.routes.console.api_calls import (
    Answer,
    admin_api,
    platform_token,
    public_api,
)
from segway_gateway.gateway.routes.console.forms import number, read_form
from segway_gateway.gateway.routes.console.guard import ConsoleAction, logged_in
from segway_gateway.gateway.routes.console.live import LiveFeed
from segway_gateway.gateway.routes.console.pages import map_area
from segway_gateway.gateway.routes.console.summaries import Summary, summary_of
from segway_gateway.gateway.routes.console.templating import page
from segway_gateway.gateway.runtime import Gateway
from segway_gateway.gateway.store.outbox import LogEntry, LogQuery
from segway_gateway.sim.fault_codes import FaultCode, describe
from segway_gateway.sim.faults import Fault

router = APIRouter(include_in_schema=False)

_ON_LOAD = (
    ("Status", paths.STATUS),
    ("Location", paths.LOCATION),
    ("Battery info", paths.BATTERY_INFO),
)
"""Queries answered from the store, so asked every time the page is shown."""
_RECENT_PUSHES = 30
LOOKED_AT = 20_000
"""The vehicle's recent pushes are those among the delivery log's newest attempts, this
many: the log is not indexed by vehicle, so the page's cost stays bounded."""


def _owner(gateway: Gateway, who: Who, iot_code: str) -> str | None:
    """The vehicle's platform, if the session may see it."""
    entry = gateway.fleet.entry(iot_code)
    if entry is None or not (who.is_admin or entry.platform_code == who.platform_code):
        return None
    return entry.platform_code


def _not_found(request: Request, who: Who, iot_code: str) -> Response:
    return page(
        request,
        "message.html",
        who,
        404,
        title="No such vehicle",
        message=f"There is no vehicle {iot_code} that this session can see.",
    )


async def _show(
    request: Request,
    gateway: Gateway,
    who: Who,
    iot_code: str,
    owner: str,
    token: str,
    answer: Answer | None = None,
    status: int = 200,
) -> Response:
    asked = await asyncio.gather(
        *(
            public_api(request, token, what, "GET", path, params={"iotCode": iot_code})
            for what, path in _ON_LOAD
        )
    )
    feed: LiveFeed = request.app.state.console_feed
    summary = await _summary(gateway, iot_code, owner)
    trail = feed.trail(iot_code)
    fix = summary.fix if summary is not None else None
    if fix is not None and (not trail or trail[-1] != fix):
        trail.append(fix)
    pushes, alerts, faults = await asyncio.gather(
        *(
            gateway.db.outbox.log(
                LogQuery(
                    platform_code=owner,
                    iot_code=iot_code,
                    kind=kind,
                    limit=_RECENT_PUSHES,
                    newest=LOOKED_AT,
                )
            )
            for kind in (None, "alert", "fault")
        )
    )
    return page(
        request,
        "vehicle.html",
        who,
        status,
        title=f"Vehicle {iot_code}",
        iot_code=iot_code,
        owner=owner,
        answer=answer,
        queries=asked,
        summary=summary,
        markers=[summary.marker()] if summary is not None else [],
        trail=[list(point) for point in trail],
        area=map_area(gateway, [summary] if summary is not None else []),
        buttons=[controls.BY_KEY[key] for key in controls.BUTTONS],
        forms=[c for c in controls.CONTROLS if c.key not in controls.BUTTONS],
        asks=controls.QUERIES,
        pushes=pushes,
        events=_events(alerts + faults),
        simulated=gateway.faults is not None,
        fault_kinds=[fault.value for fault in Fault],
        alerts=[(alert.value, alert.label) for alert in Alert],
        fault_codes=[(code.value, describe(code)) for code in FaultCode],
    )


def _events(attempts: list[LogEntry]) -> list[LogEntry]:
    """The alerts and faults pushed, newest first, each once (its latest attempt)."""
    latest: dict[str, LogEntry] = {}
    for attempt in sorted(attempts, key=lambda a: a.attempt.at, reverse=True):
        latest.setdefault(attempt.event_id, attempt)
    return list(latest.values())[:_RECENT_PUSHES]


async def _summary(gateway: Gateway, iot_code: str, owner: str) -> Summary | None:
    """The vehicle as the store holds it now (an action's effect included)."""
    entry = gateway.fleet.entry(iot_code)
    state = await gateway.db.vehicles.state(iot_code)
    if entry is None or state is None:
        return None
    return summary_of(gateway.fleet, iot_code, owner, entry.active, state.status, state.location)


VehicleAction = Callable[[Request, str, str], Awaitable[Answer]]
"""An action on a vehicle (request, iotCode, a token of its owner) → the API's answer;
LookupError for an action that does not exist, ValueError for a form the console cannot
even send."""


def on_vehicle(act: VehicleAction | None = None) -> ConsoleAction:
    """The vehicle's page, after `act` if given, with its answer; "No such vehicle" (404)
    for one the session may not see."""

    async def endpoint(request: Request, gateway: Gateway, who: Who) -> Response:
        iot_code = request.path_params["iot_code"]
        owner = _owner(gateway, who, iot_code)
        if owner is None:
            return _not_found(request, who, iot_code)
        token = await platform_token(request, owner)
        if act is None:
            return await _show(request, gateway, who, iot_code, owner, token)
        try:
            answer = await act(request, iot_code, token)
        except LookupError:
            message = f"The console has no such action for vehicle {iot_code}."
            return page(request, "message.html", who, 404, title="Not found", message=message)
        except ValueError as err:
            refused = Answer("The form", 400, {"error": str(err)})
            return await _show(request, gateway, who, iot_code, owner, token, refused, 400)
        return await _show(request, gateway, who, iot_code, owner, token, answer)

    return endpoint


async def command(request: Request, iot_code: str, token: str) -> Answer:
    """A control or setting: the form becomes the API's JSON body."""
    control = controls.BY_KEY[request.path_params["key"]]
    body = control.body(iot_code, await read_form(request))
    return await public_api(request, token, control.label, "POST", control.path, json=body)


async def ask(request: Request, iot_code: str, token: str) -> Answer:
    """A query that asks the vehicle itself (bluetooth key, a fresh fix, versions)."""
    query = controls.QUERY_BY_KEY[request.path_params["key"]]
    params = {"iotCode": iot_code, **query.params}
    return await public_api(request, token, query.label, "GET", query.path, params=params)


async def simulate(request: Request, iot_code: str, _: str) -> Answer:
    """The admin's fault injection, rides, alerts and fault codes (the admin API)."""
    form = await read_form(request)
    what, method, path, body = _simulation(request.path_params["action"], iot_code, form)
    return await admin_api(request, what, method, path, json=body)


def _simulation(
    action: str, iot_code: str, form: dict[str, str]
) -> tuple[str, str, str, dict[str, Any] | None]:
    """The admin API call a simulation form stands for: (name, method, path, body)."""
    base = f"/admin/v1/vehicles/{iot_code}"
    if action == "fault":
        body: dict[str, Any] = {"kind": form.get("kind", "")}
        for name in ("seconds", "delay"):
            if form.get(name, "").strip():
                body[name] = number(name, form[name])
        return f"Inject fault {body['kind']}", "POST", f"{base}/faults", body
    if action == "clear-faults":
        return "Clear faults", "DELETE", f"{base}/faults", None
    if action in ("ride-start", "ride-stop"):
        verb = action.removeprefix("ride-")
        return f"Ride {verb}", "POST", f"{base}/ride", {"action": verb}
    if action in ("alert", "fault-code"):
        code = number("code", form.get("code", ""))
        noun = "alert" if action == "alert" else "fault code"
        return f"Raise {noun} {code:g}", "POST", f"{base}/{action}s", {"code": int(code)}
    raise LookupError(action)


_VEHICLE = "/console/vehicles/{iot_code}"
router.add_api_route(_VEHICLE, logged_in(on_vehicle()), methods=["GET"])
router.add_api_route(_VEHICLE + "/commands/{key}", logged_in(on_vehicle(command)), methods=["POST"])
router.add_api_route(_VEHICLE + "/queries/{key}", logged_in(on_vehicle(ask)), methods=["POST"])
router.add_api_route(
    _VEHICLE + "/simulation/{action}",
    logged_in(on_vehicle(simulate), admin=True),
    methods=["POST"],
)
