"""What every console page shares: who is logged in (a session whose credential is still
the current one, of a platform not suspended), and the refusal of forms posted from
another site (CSRF: the session cookie is also SameSite=Strict)."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from segway_gateway.gateway.console_session import ADMIN, COOKIE, Who, fingerprint, read_cookie
from segway_gateway.gateway.routes.console.templating import page
from segway_gateway.gateway.runtime import Gateway

ConsoleAction = Callable[[Request, Gateway, Who], Awaitable[Response]]


async def credential_now(gateway: Gateway, who: Who) -> str | None:
    """The fingerprint a valid session of `who` holds now; None when none is valid: the
    platform removed or suspended, no admin token configured."""
    if who.kind == ADMIN:
        credential = gateway.config.admin_token
    else:
        code = who.platform_code or ""
        platform = (
            None if gateway.access.is_suspended(code) else await gateway.db.platforms.get(code)
        )
        credential = None if platform is None else platform.secret_hash
    return None if credential is None else fingerprint(gateway.key, credential)


async def who_is(request: Request, gateway: Gateway) -> Who | None:
    """Who the request's session is, if it is valid now: a suspended platform's is not
    (it gets the login page, which says why when it tries again)."""
    cookie = read_cookie(gateway.key, request.cookies.get(COOKIE), gateway.clock())
    if cookie is None:
        return None
    current = await credential_now(gateway, cookie.who)
    if current is None or not hmac.compare_digest(current, cookie.fingerprint):
        return None
    return cookie.who


def same_origin(request: Request) -> bool:
    """A form posted from the console itself: its Origin (or Referer) is this host."""
    origin = request.headers.get("origin") or request.headers.get("referer") or ""
    host = request.headers.get("host", "")
    return bool(host) and origin.split("://", 1)[-1].split("/", 1)[0] == host


def refused_origin(request: Request, who: Who | None) -> Response:
    return page(
        request,
        "message.html",
        who,
        403,
        title="Refused",
        message="This form must be sent from the console's own page.",
    )


def logged_in(
    action: ConsoleAction, *, admin: bool = False, script: bool = False
) -> Callable[[Request], Awaitable[Response]]:
    """A console endpoint: without a session, back to the login page (for what the page's
    `script` asks for, 204: an EventSource stops there, and the script says why); a form
    (POST) from another origin is refused; with `admin`, a platform's session gets 403."""

    async def endpoint(request: Request) -> Response:
        gateway: Gateway = request.app.state.gateway
        who = await who_is(request, gateway)
        if who is None:
            return Response(status_code=204) if script else RedirectResponse("/console", 303)

        if request.method != "GET" and not same_origin(request):
            return refused_origin(request, who)
        if admin and not who.is_admin:
            return page(
                request,
                "message.html",
                who,
                403,
                title="Admin only",
                message="This page is for the admin token's session.",
            )
        return await action(request, gateway, who)

    return endpoint
