"""The four pushes as typed events, parsed from their form fields (all strings on the wire).

Attributes are snake_case; the document's field names are aliases. Numbers are
parsed from decimal strings and booleans from `true`/`false` only. Unknown fields
are ignored (the signature still covers them). `eventId`, when the gateway sends
it, is the same on a retry of the same push, so a receiver can drop duplicates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails

PushKind = Literal["alert", "fault", "location", "status"]
_INTEGER = re.compile(r"-?[0-9]+")


def _form_int(value: object) -> object:
    if isinstance(value, str):
        if not _INTEGER.fullmatch(value):
            raise ValueError("expected an integer")
        return int(value)
    return value


def _form_float(value: object) -> object:
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise ValueError("expected a number") from None
        if not math.isfinite(number):
            raise ValueError("expected a finite number")
        return number
    return value


def _form_bool(value: object) -> object:
    if isinstance(value, str):
        if value not in ("true", "false"):
            raise ValueError("expected true or false")
        return value == "true"
    return value


def _form_text(value: object) -> str:
    """A field as it travels: booleans as `true`/`false`, numbers in decimal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


FormInt = Annotated[int, BeforeValidator(_form_int)]
FormFloat = Annotated[float, BeforeValidator(_form_float)]
FormBool = Annotated[bool, BeforeValidator(_form_bool)]


class InvalidPush(ValueError):
    """A push whose fields are missing or do not parse; `problems` says which."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class _Push(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )
    kind: ClassVar[PushKind]
    iot_code: str
    platform_code: str
    event_id: str | None = None

    def to_form(self) -> dict[str, str]:
        """The push's form fields as the gateway sends them (before the signature)."""
        return {
            name: _form_text(value)
            for name, value in self.model_dump(by_alias=True, exclude_none=True).items()
        }


class AlertPush(_Push):
    """`/v2/vehicle/alert`: an alert appeared (`alert_status` 0) or disappeared (1)."""

    kind: ClassVar[PushKind] = "alert"
    status_utc_time: FormInt
    alert_status: FormInt
    code: FormInt


class FaultPush(_Push):
    """`/v2/vehicle/fault`: a fault appeared (`fault_status` 0) or disappeared (1)."""

    kind: ClassVar[PushKind] = "fault"
    status_utc_time: FormInt
    fault_status: FormInt
    code: FormInt


class LocationPush(_Push):
    """`/v2/vehicle/location`: a GPS fix (WGS84)."""

    kind: ClassVar[PushKind] = "location"
    location_status: Literal["valid", "invalid"]
    latitude: FormFloat
    longitude: FormFloat
    satellite_number: FormInt
    hdop: FormFloat
    altitude: FormFloat
    gps_utc_time: FormInt


class StatusPush(_Push):
    """`/v2/vehicle/status`: the vehicle's state; range read from either of its two names."""

    kind: ClassVar[PushKind] = "status"
    online: FormBool
    locked: FormBool
    lock_voltage: FormInt
    network_signal: FormInt
    charging: FormBool
    power_percent: FormInt
    speed: FormInt
    odometer: FormInt
    remaining_range: FormInt = Field(
        validation_alias=AliasChoices("remainingRange", "remainderRange"),
        serialization_alias="remainingRange",
    )
    total_riding_secs: FormInt
    status_utc_time: FormInt

    def to_form(self) -> dict[str, str]:
        """Both names of the range, as NOTES.md says status pushes carry."""
        form = super().to_form()
        return {**form, "remainderRange": form["remainingRange"]}


PushEvent = AlertPush | FaultPush | LocationPush | StatusPush
PUSH_EVENTS: dict[PushKind, type[PushEvent]] = {
    "alert": AlertPush,
    "fault": FaultPush,
    "location": LocationPush,
    "status": StatusPush,
}


def parse_push(kind: PushKind, form: Mapping[str, str]) -> PushEvent:
    """The event of a `kind` push from its form fields; InvalidPush names every bad field."""
    try:
        return PUSH_EVENTS[kind].model_validate(dict(form))
    except ValidationError as err:
        raise InvalidPush([_problem(e) for e in err.errors()]) from None


def _problem(error: ErrorDetails) -> str:
    field = ".".join(str(part) for part in error["loc"])
    if error["type"] == "missing":
        return f"missing field {field}"
    cause = error.get("ctx", {}).get("error")
    return f"bad field {field}: {cause if cause is not None else error['msg']}"
