"""How outcomes are printed: an aligned table for people, JSON lines for scripts.

One row (or line) per vehicle, in the order given. A JSON line is
`{"iotCode", "ok": true, "data", "opId"}` with `data` as the API sent it, or
`{"iotCode", "ok": false, "error": {"code", "msg", "opId", "family"}}`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import click

from segway_gateway.client.errors import SegwayError
from segway_gateway.client.fleet import FleetResult
from segway_gateway.contract.envelope import Envelope
from segway_gateway.contract.models import (
    BatteryInfoData,
    BluetoothKeyData,
    LocationData,
    StatusData,
    VersionData,
)

Result = StatusData | LocationData | BatteryInfoData | BluetoothKeyData | VersionData | Envelope
"""What a call returns: a query's data (its envelope attached) or a command's envelope."""
R = TypeVar("R", bound=Result)


def error_text(err: SegwayError) -> str:
    """`ERROR 15102 device not found`; errors without a remote code show the message only."""
    return f"ERROR {err.code} {err.msg}" if err.code is not None else f"ERROR {err.msg}"


def _error_with_op_id(err: SegwayError) -> tuple[str, ...]:
    return (error_text(err) + (f" (opId {err.op_id})" if err.op_id else ""),)


@dataclass(frozen=True)
class View(Generic[R]):
    """The table columns after iotCode, and a row's cells for a result or an error
    (by default the error's text, spanning the columns)."""

    columns: tuple[str, ...]
    cells: Callable[[R], tuple[str, ...]]
    failed: Callable[[SegwayError], tuple[str, ...]] = _error_with_op_id


def show(codes: Sequence[str], fleet: FleetResult[R], view: View[R], as_json: bool) -> None:
    """Print every vehicle's outcome, in the order of `codes`."""
    if as_json:
        for code in codes:
            click.echo(json.dumps(_json(code, fleet)))
        return
    rows = [("iotCode", *view.columns)]
    for code in codes:
        if code in fleet.results:
            rows.append((code, *view.cells(fleet.results[code])))
        else:
            rows.append((code, *view.failed(fleet.errors[code])))
    click.echo(table(rows))


def table(rows: Sequence[Sequence[str]]) -> str:
    """Rows with columns aligned, two spaces apart. A row's last cell is not padded and
    sets no width, so an error message may run across the columns it replaces."""
    widths: dict[int, int] = {}
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths.get(i, 0), len(cell))
    return "\n".join(
        "  ".join([*(cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])), row[-1]])
        for row in rows
    )


def _json(code: str, fleet: FleetResult[R]) -> dict[str, Any]:
    if code in fleet.results:
        envelope = envelope_of(fleet.results[code])
        return {"iotCode": code, "ok": True, "data": envelope.data, "opId": envelope.op_id}
    err = fleet.errors[code]
    error = {"code": err.code, "msg": err.msg, "opId": err.op_id, "family": type(err).__name__}
    return {"iotCode": code, "ok": False, "error": error}


def envelope_of(result: Result) -> Envelope:
    return result if isinstance(result, Envelope) else result.envelope
