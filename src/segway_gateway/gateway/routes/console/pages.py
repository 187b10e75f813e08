"""The console's entry: log in (a platform's client id and secret, or the admin token), the
fleet (a map and a list), log out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from segway_gateway.gateway.access import Suspended
from segway_gateway.gateway.auth import InvalidClient
from segway_gateway.gateway.console_session import (
    ADMIN,
    COOKIE,
    LIFETIME_SECONDS,
    PLATFORM,
    Session,
    Who,
    make_cookie,
)
from segway_gateway.gateway.routes.admin.guard import is_admin_token
from segway_gateway.gateway.routes.console import fleet_table, live
from segway_gateway.gateway.routes.console.forms import read_form
from segway_gateway.gateway.routes.console.guard import (
    credential_now,
    logged_in,
    refused_origin,
    same_origin,
    who_is,
)
from segway_gateway.gateway.routes.console.summaries import Summary
from segway_gateway.gateway.routes.console.templating import page
from segway_gateway.gateway.runtime import Gateway
from segway_gateway.gateway.throttle import Throttled

router = APIRouter(include_in_schema=False)


def _login_page(request: Request, error: str = "", status: int = 200) -> Response:
    return page(request, "login.html", None, status, title="Log in", error=error)


async def root(_request: Request) -> Response:
    return RedirectResponse("/console", 307)


async def console(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    who = await who_is(request, gateway)
    if who is None:
        return _login_page(request)
    return await _fleet_page(request, gateway, who)


async def login(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    if not same_origin(request):
        return refused_origin(request, None)
    try:
        form = await read_form(request)
    except ValueError:
        return _login_page(request, "The form could not be read.", 400)
    admin_token = form.get("admin_token", "")
    if admin_token:
        if not is_admin_token(gateway, admin_token):
            return _login_page(request, "That is not the admin token.", 401)
        return await _logged_in(request, gateway, Who(ADMIN))
    client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    source = request.client.host if request.client is not None else ""
    try:
        await gateway.tokens.issue(client_id, secret, source)
    except InvalidClient:
        return _login_page(request, "Unknown client id, or a wrong secret.", 401)
    except Throttled as refused:
        return _login_page(
            request, f"Too many failed attempts: try again in {refused.retry_after} s.", 429
        )
    except Suspended:
        return _login_page(request, "This platform is suspended.", 403)
    return await _logged_in(request, gateway, Who(PLATFORM, client_id))


async def _logged_in(request: Request, gateway: Gateway, who: Who) -> Response:
    credential = await credential_now(gateway, who)
    if credential is None:  # removed the moment after its secret was checked
        return _login_page(request, "Unknown client id, or a wrong secret.", 401)
    session = Session(who, credential)
    response = RedirectResponse("/console", 303)
    response.set_cookie(
        COOKIE,
        make_cookie(gateway.key, session, gateway.clock()),
        max_age=LIFETIME_SECONDS,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


async def logout(request: Request) -> Response:
    if not same_origin(request):
        return refused_origin(request, None)
    response = RedirectResponse("/console", 303)
    response.delete_cookie(COOKIE, path="/console")
    return response


async def _fleet_page(request: Request, gateway: Gateway, who: Who) -> Response:
    feed: live.LiveFeed = request.app.state.console_feed
    found = [
        s
        for s in (await feed.snapshot()).values()
        if who.is_admin or s.platform == who.platform_code
    ]
    query = request.query_params
    kept = fleet_table.chosen(found, query)
    now_ms = gateway.clock() * 1000
    return page(
        request,
        "fleet.html",
        who,
        title="Fleet",
        query=query,
        states=fleet_table.STATES,
        headings=fleet_table.headings(query, who.is_admin),
        kept=len(kept),
        shown=fleet_table.page_of(kept, query),
        total=len(found),
        markers=[s.marker() for s in found],
        area=map_area(gateway, found),
        zones=await zones(gateway, who),
        age=lambda s: (
            "never" if s.reported_ms is None else f"{(now_ms - s.reported_ms) / 1000:.0f} s"
        ),
    )


async def session_alive(_request: Request, _gateway: Gateway, _who: Who) -> Response:
    """204 while the session is valid (without one: the login page's redirect): how the
    page tells a live feed refused for good because the session ended."""
    return Response(status_code=204)


def map_area(gateway: Gateway, shown: list[Summary]) -> dict[str, Any]:
    """What the map's plain basemap outlines: the simulated city, else the box around the
    vehicles' fixes, else the default city."""
    city = gateway.config.city
    fixes = [(s.lat, s.lng) for s in shown if s.lat is not None and s.lng is not None]
    if gateway.config.simulate or not fixes:
        return {
            "name": city.name,
            "south": city.south,
            "west": city.west,
            "north": city.north,
            "east": city.east,
        }
    lats, lngs = [lat for lat, _ in fixes], [lng for _, lng in fixes]
    return {
        "name": "fleet area",
        "south": min(lats),
        "west": min(lngs),
        "north": max(lats),
        "east": max(lngs),
    }


async def zones(gateway: Gateway, who: Who) -> list[dict[str, Any]]:
    """The no-parking zones the session sees, as GeoJSON for the map."""
    return [
        {"platform": zone.platform_code, "name": zone.name, "geometry": zone.geometry}
        for zone in await gateway.db.geofences.list_all(None if who.is_admin else who.platform_code)
    ]


router.add_api_route("/", root, methods=["GET"])
router.add_api_route("/console", console, methods=["GET"])
router.add_api_route("/console/login", login, methods=["POST"])
router.add_api_route("/console/logout", logout, methods=["POST"])
router.add_api_route("/console/live", logged_in(live.stream, script=True), methods=["GET"])
router.add_api_route("/console/session", logged_in(session_alive), methods=["GET"])
