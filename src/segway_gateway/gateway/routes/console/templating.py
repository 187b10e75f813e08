"""How the console's pages are made: Jinja2 templates (autoescaped) and the static files,
both shipped in the package, so nothing is loaded from another host."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from segway_gateway.gateway.console_session import Who

STATIC_PATH = "/console/static"

_environment = Environment(
    loader=PackageLoader("segway_gateway.gateway.routes.console", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.globals["static"] = STATIC_PATH
_environment.filters["utc"] = lambda ms: time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000))


def static_files() -> StaticFiles:
    """The console's own script, style and the vendored map library (docs/console.md)."""
    return StaticFiles(directory=Path(__file__).with_name("static"))


def page(
    request: Request, template: str, who: Who | None, status: int = 200, **context: Any
) -> HTMLResponse:
    """A whole page: `template` within the console's layout, never cached (it shows state)."""
    gateway = request.app.state.gateway
    html = _environment.get_template(template).render(
        who=who,
        path=request.url.path,
        now_ms=int(gateway.clock() * 1000),
        tiles=gateway.config.console_tiles or "",
        **context,
    )
    return HTMLResponse(html, status, headers={"Cache-Control": "no-store"})
