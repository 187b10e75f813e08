"""The console's admin page (the admin token's session only): the platforms with their rate
limits and suspension, the vehicles' registrations, and the geofences, each with its forms.

A form answers with the page again and what came of it (admin_forms.py) in a status
region, and with the form as typed when it was refused, to correct it.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from segway_gateway.gateway.console_session import Who
from segway_gateway.gateway.geofences import parse_zone
from segway_gateway.gateway.routes.admin.geofences import MAX_ZONE_BYTES
from segway_gateway.gateway.routes.console import admin_forms
from segway_gateway.gateway.routes.console.admin_forms import ELSEWHERE, Done, FormAction, Result
from segway_gateway.gateway.routes.console.api_calls import Answer
from segway_gateway.gateway.routes.console.forms import MAX_FORM, read_form
from segway_gateway.gateway.routes.console.guard import ConsoleAction, logged_in
from segway_gateway.gateway.routes.console.pages import map_area
from segway_gateway.gateway.routes.console.templating import page
from segway_gateway.gateway.runtime import Gateway
from segway_gateway.gateway.store.access_rules import AccessRule

router = APIRouter(include_in_schema=False)

VEHICLES_SHOWN = 200
"""Rows of the vehicle list at most: a large fleet is found with the filter."""


async def admin_page(
    request: Request,
    gateway: Gateway,
    who: Who,
    result: Result | None = None,
    form: Mapping[str, str] | None = None,
) -> Response:
    """The page; after a form, with what came of it, and the form as typed if refused."""
    db = gateway.db
    rules = {rule.platform_code: rule for rule in await db.access.rules()}
    platforms = [(p, rules.get(p.code, AccessRule(p.code))) for p in await db.platforms.list_all()]
    registered = sorted((await db.vehicles.registrations()).items())
    query = request.query_params
    contains, owner = query.get("q", "").strip(), query.get("platform", "")
    found = [
        (iot_code, platform, active)
        for iot_code, (platform, active) in registered
        if contains in iot_code and owner in ("", platform)
    ]
    zones = [
        (zone, len(parse_zone(zone.name, zone.geometry).polygons))
        for zone in await db.geofences.list_all()
    ]
    return page(
        request,
        "admin.html",
        who,
        200 if result is None or result.ok else result.http_status,
        title="Admin",
        answer=result if isinstance(result, Answer) else None,
        done=result if isinstance(result, Done) else None,
        form=form or {},
        query=query,
        platforms=platforms,
        vehicles=found[:VEHICLES_SHOWN],
        found=len(found),
        registered=len(registered),
        zones=zones,
        elsewhere=ELSEWHERE,
        area=map_area(gateway, []),
        map_zones=[
            {"platform": zone.platform_code, "name": zone.name, "geometry": zone.geometry}
            for zone, _ in zones
        ],
        markers=[],
    )


async def show(request: Request, gateway: Gateway, who: Who) -> Response:
    return await admin_page(request, gateway, who)


async def confirm_removal(request: Request, gateway: Gateway, who: Who) -> Response:
    """Removing a vehicle drops what it reported: the page asks first."""
    iot_code = request.path_params["iot_code"]
    entry = gateway.fleet.entry(iot_code)
    owner = None if entry is None else entry.platform_code
    return page(
        request, "admin_remove.html", who, title="Remove a vehicle", iot_code=iot_code, owner=owner
    )


def _posted(action: FormAction, max_bytes: int = MAX_FORM) -> ConsoleAction:
    """A form of the admin page: `action` does it; the page comes back with the result, and
    the form as typed if it was refused."""

    async def posted(request: Request, gateway: Gateway, who: Who) -> Response:
        try:
            form = await read_form(request, max_bytes)
        except ValueError as err:
            return await admin_page(request, gateway, who, Done("Form", str(err), 400))
        result = await action(request, gateway, form)
        return await admin_page(request, gateway, who, result, None if result.ok else form)

    return posted


def _route(path: str, action: ConsoleAction, method: str = "POST") -> None:
    router.add_api_route(path, logged_in(action, admin=True), methods=[method])


_PLATFORM, _VEHICLE = "/console/admin/platforms/{code}", "/console/admin/vehicles/{iot_code}"
_route("/console/admin", show, "GET")
_route("/console/admin/platforms", _posted(admin_forms.add_platform))
_route(f"{_PLATFORM}/suspend", _posted(admin_forms.suspend))
_route(f"{_PLATFORM}/resume", _posted(admin_forms.resume))
_route(f"{_PLATFORM}/limit", _posted(admin_forms.set_limit))
_route(f"{_PLATFORM}/limit/clear", _posted(admin_forms.clear_limit))
_route("/console/admin/vehicles", _posted(admin_forms.add_vehicles))
_route(f"{_VEHICLE}/deactivate", _posted(admin_forms.deactivate))
_route(f"{_VEHICLE}/activate", _posted(admin_forms.activate))
_route(f"{_VEHICLE}/remove", confirm_removal, "GET")
_route(f"{_VEHICLE}/remove", _posted(admin_forms.remove_vehicle))
# a zone as large as the admin API takes (MAX_ZONE_BYTES), URL-encoded
_route("/console/admin/geofences", _posted(admin_forms.save_geofence, 3 * MAX_ZONE_BYTES))
_route("/console/admin/geofences/{platform}/{name}/delete", _posted(admin_forms.delete_geofence))
