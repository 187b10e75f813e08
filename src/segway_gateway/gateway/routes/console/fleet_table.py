"""The console's fleet list: one row per vehicle from the store, filtered and sorted by
the page's query string (`q`: part of an iotCode; `state`: locked, unlocked, online,
offline, riding or parked; `sort`: a column's key, `-key` for descending), `PAGE_SIZE`
rows a page (`page`, from 1): a large fleet's page stays light (the map shows them all)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from operator import attrgetter
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from segway_gateway.gateway.routes.console.summaries import Summary

STATES = ("locked", "unlocked", "online", "offline", "riding", "parked")
PAGE_SIZE = 100
_PAGE = re.compile(r"[1-9][0-9]{0,5}")


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


@dataclass(frozen=True)
class Page:
    rows: list[Summary]
    number: int
    count: int
    previous: str | None
    """The link to the page before (None on the first)."""
    next: str | None


def page_of(kept: list[Summary], query: QueryParams) -> Page:
    """The rows of the page the query asks for (the last one if it asks beyond)."""
    count = max(1, -(-len(kept) // PAGE_SIZE))
    asked = query.get("page", "1")
    number = min(int(asked), count) if _PAGE.fullmatch(asked) else 1

    def link(to: int) -> str:
        return "?" + urlencode({**dict(query), "page": str(to)})

    return Page(
        kept[(number - 1) * PAGE_SIZE : number * PAGE_SIZE],
        number,
        count,
        link(number - 1) if number > 1 else None,
        link(number + 1) if number < count else None,
    )


def headings(query: QueryParams, admin: bool) -> list[tuple[str, str, str]]:
    """Each column's (heading, link that sorts by it, ▲/▼ if it is the order now); a new
    order starts at the first page."""
    sort = query.get("sort", "iotCode")
    found = []
    for key, (head, admin_only) in COLUMNS.items():
        if admin_only and not admin:
            continue
        order = f"-{key}" if sort == key else key
        link = "?" + urlencode({**{k: v for k, v in query.items() if k != "page"}, "sort": order})
        found.append((head, link, {key: "▲", f"-{key}": "▼"}.get(sort, "")))
    return found
