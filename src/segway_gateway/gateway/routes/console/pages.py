"""The console's pages: log in (a platform's client id and secret, or the admin token), the
fleet list, log out. Server-rendered HTML with no script and nothing from another host.

Only a part of the console is built: no map, vehicle view, push log or admin pages yet
(docs/console.md).
"""

from __future__ import annotations

import hmac
from html import escape
from urllib.parse import parse_qsl

from fastapi import APIRouter
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from segway_gateway.contract.models import PLATFORM_CODE
from segway_gateway.gateway.access import Suspended
from segway_gateway.gateway.auth import InvalidClient
from segway_gateway.gateway.console_session import (
    ADMIN,
    COOKIE,
    LIFETIME_SECONDS,
    PLATFORM,
    Who,
    make_cookie,
    read_cookie,
)
from segway_gateway.gateway.routes.body import BodyRefused, read_body
from segway_gateway.gateway.routes.console import fleet_table
from segway_gateway.gateway.runtime import Gateway
from segway_gateway.gateway.store.vehicles import Vehicle
from segway_gateway.gateway.throttle import Throttled

router = APIRouter(include_in_schema=False)

_MAX_FORM = 4096
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1rem; max-width: 70rem; }
form { margin: .5rem 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #ccc; }
form.login { display: grid; gap: .5rem; max-width: 22rem; }
.error { color: #a00; }
"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} - segway-gateway</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )
    return HTMLResponse(html, status, headers={"Cache-Control": "no-store"})


def _login_page(error: str = "", status: int = 200) -> HTMLResponse:
    shown = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return _page(
        "Log in",
        f"""<h1>segway-gateway console</h1>{shown}
<form class="login" method="post" action="/console/login">
<label for="client_id">Client id</label>
<input id="client_id" name="client_id" autocomplete="username">
<label for="client_secret">Client secret</label>
<input id="client_secret" name="client_secret" type="password" autocomplete="current-password">
<p>or, for every platform and the admin actions:</p>
<label for="admin_token">Admin token</label>
<input id="admin_token" name="admin_token" type="password">
<button type="submit">Log in</button>
</form>""",
        status,
    )


def _who(request: Request, gateway: Gateway) -> Who | None:
    return read_cookie(gateway.key, request.cookies.get(COOKIE), gateway.clock())


def _same_origin(request: Request) -> bool:
    """A form posted from the console itself: its Origin (or Referer) is this host."""
    origin = request.headers.get("origin") or request.headers.get("referer") or ""
    host = request.headers.get("host", "")
    return bool(host) and origin.split("://", 1)[-1].split("/", 1)[0] == host


async def root(_request: Request) -> Response:
    return RedirectResponse("/console", 307)


async def console(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    who = _who(request, gateway)
    if who is None:
        return _login_page()
    vehicles = await gateway.db.vehicles.list_all(None if who.is_admin else who.platform_code)
    return _fleet_page(gateway, who, vehicles, request.query_params)


async def login(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    if not _same_origin(request):
        return _page("Refused", "<p>Log in from the console's own page.</p>", 403)
    try:
        form = dict(parse_qsl((await read_body(request, _MAX_FORM)).decode(), max_num_fields=5))
    except (BodyRefused, UnicodeDecodeError, ValueError):
        return _login_page("The form could not be read.", 400)
    admin_token = form.get("admin_token", "")
    if admin_token:
        expected = gateway.config.admin_token
        if not expected or not hmac.compare_digest(admin_token.encode(), expected.encode()):
            return _login_page("That is not the admin token.", 401)
        return _logged_in(request, gateway, Who(ADMIN))
    client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    source = request.client.host if request.client is not None else ""
    try:
        await gateway.tokens.issue(client_id, secret, source)
    except InvalidClient:
        return _login_page("Unknown client id, or a wrong secret.", 401)
    except Throttled as refused:
        return _login_page(f"Too many failed attempts: try again in {refused.retry_after} s.", 429)
    except Suspended:
        return _login_page("This platform is suspended.", 403)
    assert PLATFORM_CODE.fullmatch(client_id)
    return _logged_in(request, gateway, Who(PLATFORM, client_id))


def _logged_in(request: Request, gateway: Gateway, who: Who) -> Response:
    response = RedirectResponse("/console", 303)
    response.set_cookie(
        COOKIE,
        make_cookie(gateway.key, who, gateway.clock()),
        max_age=LIFETIME_SECONDS,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


async def logout(request: Request) -> Response:
    if not _same_origin(request):
        return _page("Refused", "<p>Log out from the console's own page.</p>", 403)
    response = RedirectResponse("/console", 303)
    response.delete_cookie(COOKIE, path="/console")
    return response


def _fleet_page(
    gateway: Gateway, who: Who, vehicles: list[Vehicle], query: QueryParams
) -> HTMLResponse:
    found = fleet_table.rows(gateway.fleet, vehicles, gateway.clock() * 1000)
    shown = fleet_table.chosen(found, query)
    whom = "admin (every platform)" if who.is_admin else f"platform {who.platform_code}"
    return _page(
        "Fleet",
        f"""<header><h1>Fleet</h1><p>Logged in as {escape(whom)}.</p>
<form method="post" action="/console/logout"><button type="submit">Log out</button></form>
</header>
{fleet_table.render(shown, len(found), who.is_admin, query)}""",
    )


router.add_api_route("/", root, methods=["GET"])
router.add_api_route("/console", console, methods=["GET"])
router.add_api_route("/console/login", login, methods=["POST"])
router.add_api_route("/console/logout", logout, methods=["POST"])
