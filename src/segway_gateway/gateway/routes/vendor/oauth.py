"""POST /oauth/token: the client-credentials grant, answered in plain OAuth 2.0 JSON."""

from __future__ import annotations

import base64
import binascii
import logging
from urllib.parse import parse_qsl, unquote

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from segway_gateway.contract import paths
from segway_gateway.contract.models import OAuthError, TokenResponse
from segway_gateway.gateway.access import Suspended
from segway_gateway.gateway.auth import InvalidClient
from segway_gateway.gateway.routes.body import BodyRefused, read_body
from segway_gateway.gateway.runtime import Gateway
from segway_gateway.gateway.throttle import Throttled

router = APIRouter(tags=["Auth"])
log = logging.getLogger("segway_gateway.api")

_MAX_FORM_BYTES = 8 * 1024


def _oauth_error(status: int, error: str, description: str) -> Response:
    body = {"error": error, "error_description": description}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _too_many_failures(retry_after: int) -> Response:
    """HTTP 429, answered before any secret is hashed; after `Retry-After` s the pair
    (and the address) may try again."""
    response = _oauth_error(
        429,
        "slow_down",
        f"Too many failed token requests from this address: retry after {retry_after} s",
    )
    response.headers["Retry-After"] = str(retry_after)
    return response


def _repeated(pairs: list[tuple[str, str]]) -> str | None:
    """The first parameter name that comes twice, if any."""
    seen: set[str] = set()
    for name, _value in pairs:
        if name in seen:
            return name[:40]
        seen.add(name)
    return None


def _basic_credentials(authorization: str | None) -> dict[str, str]:
    """client_id and client_secret from HTTP Basic auth (RFC 6749 section 2.3.1), if sent."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return {}
    try:
        client_id, _, secret = (
            base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        )
    except (binascii.Error, UnicodeDecodeError):
        return {}
    return {"client_id": unquote(client_id), "client_secret": unquote(secret)}


async def token(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    try:
        raw = await read_body(request, _MAX_FORM_BYTES)
    except BodyRefused as err:
        return _oauth_error(400, "invalid_request", str(err))
    try:
        form = parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return _oauth_error(400, "invalid_request", "malformed form body")
    for pairs in (request.query_params.multi_items(), form):
        repeated = _repeated(pairs)
        if repeated is not None:  # RFC 6749 3.2: a parameter is sent at most once
            return _oauth_error(400, "invalid_request", f"{repeated} given more than once")
    params = {**dict(request.query_params), **dict(form)}
    params = {**params, **_basic_credentials(request.headers.get("authorization"))}
    grant_type = params.get("grant_type")
    if grant_type is None:
        return _oauth_error(400, "invalid_request", "Missing grant type")
    if grant_type != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", f"Unsupported grant type: {grant_type}")
    client_id, secret = params.get("client_id", ""), params.get("client_secret", "")
    source = request.client.host if request.client is not None else ""
    try:
        issued = await gateway.tokens.issue(client_id, secret, source)
    except Throttled as refused:
        return _too_many_failures(refused.retry_after)
    except InvalidClient:
        log.info("token refused for client %r from %s", client_id, source)
        return _oauth_error(401, "invalid_client", "Bad client credentials")
    except Suspended:
        log.info("token refused for client %r from %s: suspended", client_id, source)
        return _oauth_error(400, "unauthorized_client", "The platform is suspended")
    except Exception:
        log.exception("token request of %r failed", client_id)
        return _oauth_error(500, "server_error", "The token could not be issued")
    body = TokenResponse(access_token=issued.access_token, expires_in=issued.expires_in)
    return Response(body.model_dump_json().encode(), media_type="application/json")


router.add_api_route(
    paths.TOKEN,
    token,
    methods=["POST"],
    summary="Request a token (client credentials)",
    description=(
        "Form body as documented; the query string and HTTP Basic auth are accepted too. "
        "While the newest token has more than 300 s left the same token is returned."
    ),
    response_model=TokenResponse,
    responses={
        400: {
            "model": OAuthError,
            "description": "Missing or unsupported grant type (`invalid_request`,"
            " `unsupported_grant_type`), or a suspended platform (`unauthorized_client`)",
        },
        401: {"model": OAuthError, "description": "Unknown client or wrong secret"},
        429: {
            "model": OAuthError,
            "description": "Too many failed requests from this address (for this client id,"
            " or for all): `slow_down`, with `Retry-After` in seconds",
        },
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["client_id", "client_secret", "grant_type"],
                        "properties": {
                            "client_id": {"type": "string", "example": "A20081"},
                            "client_secret": {
                                "type": "string",
                                "example": "e2651be5-12d3-48f3-ba6c-bc2b04a447b6",
                            },
                            "grant_type": {"type": "string", "enum": ["client_credentials"]},
                        },
                    }
                }
            },
        }
    },
    operation_id="token",
)
