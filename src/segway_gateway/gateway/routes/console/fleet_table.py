"""The console's fleet list: one row per vehicle from the store, filtered and sorted by
the page's query string (`q`: part of an iotCode; `state`: locked, unlocked, online,
offline, riding or parked; `sort`: a column's key, `-key` for descending)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from operator import attrgetter
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from segway_gateway.gateway.fleet import FleetService
from segway_gateway.gateway.store.vehicles import Vehicle

STATES = ("locked", "unlocked", "online", "offline", "riding", "parked")


@dataclass(frozen=True)
class Row:
    iot_code: str
    platform: str
    link: str
    lock: str
    riding: str
    battery: int | None
    range_m: int | None
    speed: int | None
    age_s: float | None


_FIELDS = {"iotCode": "iot_code", "range": "range_m", "age": "age_s"}
"""Sort keys that are not the name of the row's field."""

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


def rows(fleet: FleetService, vehicles: list[Vehicle], now_ms: float) -> list[Row]:
    found = []
    for vehicle in vehicles:
        entry = fleet.entry(vehicle.iot_code)
        status = vehicle.status or {}
        reported = status.get("reportedAt") or 1000 * status.get("statusUtcTime", 0)
        found.append(
            Row(
                iot_code=vehicle.iot_code,
                platform=vehicle.platform_code,
                link="online" if entry is not None and entry.online else "offline",
                lock=("locked" if status["locked"] else "unlocked") if "locked" in status else "-",
                riding="riding" if status.get("speed") else "parked",
                battery=status.get("powerPercent"),
                range_m=status.get("remainingRange"),
                speed=status.get("speed"),
                age_s=(now_ms - reported) / 1000 if reported else None,
            )
        )
    return found


def chosen(found: list[Row], query: QueryParams) -> list[Row]:
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
    present.sort(key=values, reverse=sort.startswith("-"))
    return present + missing


def render(shown: list[Row], total: int, admin: bool, query: QueryParams) -> str:
    """The filter form and the table, as HTML."""
    columns = [
        (key, head) for key, (head, admin_only) in COLUMNS.items() if admin or not admin_only
    ]
    sort = query.get("sort", "iotCode")
    heads = []
    for key, head in columns:
        order = f"-{key}" if sort == key else key
        link = "?" + urlencode({**dict(query), "sort": order})
        mark = {key: " ▲", f"-{key}": " ▼"}.get(sort, "")
        heads.append(f'<th scope="col"><a href="{escape(link)}">{head}</a>{mark}</th>')
    body = []
    for row in shown:
        cells = [
            row.iot_code,
            *([row.platform] if admin else []),
            row.link,
            row.lock,
            row.riding,
            "-" if row.battery is None else f"{row.battery} %",
            "-" if row.range_m is None else f"{row.range_m / 1000:.1f} km",
            "-" if row.speed is None else f"{row.speed} km/h",
            "never" if row.age_s is None else f"{row.age_s:.0f} s",
        ]
        body.append("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in cells) + "</tr>")
    options = "".join(
        f'<option value="{s}"{" selected" if query.get("state") == s else ""}>{s}</option>'
        for s in ("", *STATES)
    )
    return f"""<form method="get" action="/console">
<label for="q">iotCode contains</label>
<input id="q" name="q" value="{escape(query.get("q", ""))}">
<label for="state">State</label><select id="state" name="state">{options}</select>
<input type="hidden" name="sort" value="{escape(sort)}">
<button type="submit">Filter</button>
</form>
<table><caption>{len(shown)} of {total} vehicles</caption>
<thead><tr>{"".join(heads)}</tr></thead><tbody>{"".join(body)}</tbody></table>"""
