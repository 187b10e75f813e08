"""Reading the console's posted forms: their fields, and the numbers typed into them."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from segway_gateway.gateway.routes.body import BodyRefused, read_body

MAX_FORM = 16 * 1024
"""Bytes a form may have (the geofence form takes more: admin_pages.py)."""

_NUMBER = re.compile(r"-?[0-9]{1,12}(\.[0-9]{1,12})?")


async def read_form(request: Request, max_bytes: int = MAX_FORM) -> dict[str, str]:
    """A posted form's fields (the last of a name given twice); ValueError if unreadable."""
    try:
        raw = await read_body(request, max_bytes)
        return dict(parse_qsl(raw.decode(), max_num_fields=100))
    except (BodyRefused, UnicodeDecodeError) as err:
        raise ValueError(f"the form could not be read ({err})") from err


def typed(raw: str) -> Any:
    """A number as a JSON number; anything else as typed, so that the API, not the console,
    says what is wrong with it."""
    raw = raw.strip()
    if not _NUMBER.fullmatch(raw):
        return raw
    return float(raw) if "." in raw else int(raw)


def number(name: str, raw: str) -> float:
    """A number the console itself needs; ValueError naming the field otherwise."""
    if not _NUMBER.fullmatch(raw.strip()):
        raise ValueError(f"{name} must be a number, not {raw[:40]!r}")
    return float(raw)
