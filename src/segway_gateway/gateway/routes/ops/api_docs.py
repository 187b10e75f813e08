"""GET /docs: Swagger UI, its scripts and styles served from the package (swagger-ui-bundle)
rather than a CDN, so that the interactive docs work on a machine with no internet."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/docs/assets"
router = APIRouter(include_in_schema=False)


def assets() -> StaticFiles:
    """What the app mounts at ASSETS: Swagger UI's own files."""
    return StaticFiles(directory=str(swagger_ui_path))


async def docs(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} - API docs",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        # no badge fetched from validator.swagger.io (the UI's default)
        swagger_ui_parameters={"validatorUrl": None},
    )


router.add_api_route("/docs", docs, methods=["GET"])
