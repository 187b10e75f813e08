"""The vehicle view's buttons and forms: one for every command route of the API, made from
the route's own request model (so a new command or field appears without touching the
console), plus "Find" (the sound command with controlType 2) and the queries that ask
the vehicle (bluetooth key, a fresh fix, firmware versions)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from segway_gateway.contract import paths
from segway_gateway.contract.device import CommandName
from segway_gateway.gateway.routes.console.forms import typed
from segway_gateway.gateway.routes.vendor.commands import ROUTES


@dataclass(frozen=True)
class FormField:
    """One input: its dotted wire path in the JSON body (`parkingMode.color`)."""

    path: str
    label: str
    kind: str
    """integer or string"""
    required: bool
    minimum: int | None = None
    maximum: int | None = None
    hint: str = ""

    @property
    def input_id(self) -> str:
        return self.path.replace(".", "-")


@dataclass(frozen=True)
class Control:
    key: str
    """Its part of the console's URL: `/console/vehicles/{iotCode}/commands/{key}`."""
    label: str
    """The button's accessible name."""
    path: str
    """The API path it calls (POST)."""
    group: str
    """Control, Setting, or compatibility (beyond the document)."""
    fields: tuple[FormField, ...] = ()
    preset: Mapping[str, Any] = field(default_factory=dict)
    """Body values the form sends whatever is typed (Find: controlType 2)."""

    def body(self, iot_code: str, form: Mapping[str, str]) -> dict[str, Any]:
        """The JSON body from a posted form: empty inputs are left out; a number typed into
        a number's input is sent as a number, anything else as typed."""
        body: dict[str, Any] = {"iotCode": iot_code}
        for one in self.fields:
            raw = form.get(one.path, "").strip()
            if not raw:
                continue
            value = typed(raw) if one.kind == "integer" else raw
            *parents, leaf = one.path.split(".")
            holder = body
            for parent in parents:
                holder = holder.setdefault(parent, {})
            holder[leaf] = value
        return {**body, **self.preset}


@dataclass(frozen=True)
class Query:
    key: str
    label: str
    path: str
    params: Mapping[str, str] = field(default_factory=dict)


_LABELS = {
    CommandName.UNLOCK: "Unlock",
    CommandName.LOCK: "Lock",
    CommandName.BATTERY_COVER: "Battery cover",
    CommandName.SOUND: "Sound",
    CommandName.SET_SPEED_MODE: "Speed mode",
    CommandName.SET_SCOOTER: "Speed limits",
    CommandName.LIGHT: "Lights",
    CommandName.HEADLIGHT: "Headlight",
    CommandName.POWER: "Power",
}
"""Button names where the route's summary is too long for one."""


def fields_of(model: type[BaseModel]) -> tuple[FormField, ...]:
    """The inputs of a request model, but its iotCode (the page's vehicle)."""
    schema = model.model_json_schema(by_alias=True)
    found = _walk(schema, schema.get("$defs", {}), "", required=True)
    return tuple(one for one in found if one.path != "iotCode")


def _walk(
    schema: dict[str, Any], defs: dict[str, Any], prefix: str, required: bool
) -> list[FormField]:
    found = []
    needed = set(schema.get("required", ()))
    for name, spec in schema.get("properties", {}).items():
        resolved, optional = _resolve(spec, defs)
        is_required = required and name in needed and not optional
        if "properties" in resolved:
            found += _walk(resolved, defs, f"{prefix}{name}.", is_required)
            continue
        kind = "integer" if resolved.get("type") == "integer" or "oneOf" in resolved else "string"
        found.append(
            FormField(
                path=prefix + name,
                label=prefix + name,
                kind=kind,
                required=is_required,
                minimum=resolved.get("minimum"),
                maximum=resolved.get("maximum"),
                hint=resolved.get("description", spec.get("description", "")),
            )
        )
    return found


def _resolve(spec: dict[str, Any], defs: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The schema of a property (through $ref and `X | None`), and whether null is allowed."""
    optional = False
    if "anyOf" in spec:
        options = [one for one in spec["anyOf"] if one.get("type") != "null"]
        optional = len(options) < len(spec["anyOf"])
        spec = {**spec, **options[0]} if len(options) == 1 else spec
    if "$ref" in spec:
        spec = {
            **defs[spec["$ref"].rsplit("/", 1)[-1]],
            **{k: v for k, v in spec.items() if k != "$ref"},
        }
    return spec, optional


def _controls() -> tuple[Control, ...]:
    made = []
    for path, model, name, tag, summary, _op_id in ROUTES:
        if path == paths.BATTERY_COVER_LEGACY:
            continue  # the same command as the battery cover's own path
        label = _LABELS.get(name, summary)
        made.append(Control(name.value, label, path, tag, fields_of(model)))
        if name is CommandName.SOUND:
            made.append(Control("find", "Find", path, tag, preset={"controlType": 2}))
    return tuple(made)


CONTROLS = _controls()
BY_KEY = {control.key: control for control in CONTROLS}
BUTTONS = ("unlock", "lock", "battery-cover", "find")
"""The controls shown as plain buttons, first; the others are forms."""

QUERIES = (
    Query("bluetooth-key", "Get bluetooth key", paths.BLUETOOTH_KEY),
    Query("fresh-fix", "Ask for a fresh fix", paths.LOCATION, {"realTimeLocation": "true"}),
    Query("version", "Firmware versions", paths.VERSION),
)
"""Queries that ask the vehicle itself (a round trip), so run on demand, not on load."""
QUERY_BY_KEY = {query.key: query for query in QUERIES}
