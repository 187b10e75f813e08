"""The console's fleet list: one row per vehicle from the store, filtered and sorted by
the page's query string (`q`: part of an iotCode; `state`: locked, unlocked, online,
offline, riding or parked; `sort`: a column's key, `-key` for descending)."""

from __future__ import annotations

from operator import attrgetter
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from segway_gateway.gateway.routes.console.summaries import Summary

STATES = ("locked", "unlocked", "online", "offline", "riding", "parked")


_FIELDS = {"iotCode": "iot_code", "range": "range_m", "age": "reported_ms"}
"""Sort keys that are not the name of the summary's field."""

COLUMNS: dict[str, tuple[str, bool]] = {
    "iotCode": ("iotCode", False),
    "platform": ("Platform", True),
    "link": ("Link", False),
    "lock": ("Lock", False),
    "riding": ("Riding", False),
    "battery": ("Battery", False),
    "range": ("Range", False),
    "speed": ("Speed", False),
    "age": ("Last report", False),
}
"""Sort key → (heading, shown to the admin only)."""


def chosen(found: list[Summary], query: QueryParams) -> list[Summary]:
    """The rows the query keeps, in the order it asks for (by iotCode by default)."""
    text = query.get("q", "").strip()
    state = query.get("state", "")
    kept = [row for row in found if text in row.iot_code]
    if state in STATES:
        kept = [row for row in kept if state in (row.link, row.lock, row.riding)]
    sort = query.get("sort", "iotCode")
    key = sort.removeprefix("-")
    if key not in COLUMNS:
        key = "iotCode"
    values = attrgetter(_FIELDS.get(key, key))
    present = [row for row in kept if values(row) is not None]
    missing = [row for row in kept if values(row) is None]  # last, whichever the order
    # the age sorts the other way round from the time of the report
    present.sort(key=values, reverse=sort.startswith("-") != (key == "age"))
    return present + missing


def headings(query: QueryParams, admin: bool) -> list[tuple[str, str, str]]:
    """Each column's (heading, link that sorts by it, ▲/▼ if it is the order now)."""
    sort = query.get("sort", "iotCode")
    found = []
    for key, (head, admin_only) in COLUMNS.items():
        if admin_only and not admin:
            continue
        order = f"-{key}" if sort == key else key
        link = "?" + urlencode({**dict(query), "sort": order})
        found.append((head, link, {key: "▲", f"-{key}": "▼"}.get(sort, "")))
    return found
