"""Every call of the API as data, without I/O: what to send, and how to read the answer.

`Client` and `AsyncClient` only move these over HTTP, so both behave the same
by construction. Arguments are checked here, before anything is sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from segway_gateway.client.errors import (
    AuthenticationError,
    ParameterError,
    SegwayError,
    ServerError,
    error_for,
)
from segway_gateway.contract import paths
from segway_gateway.contract.envelope import Envelope
from segway_gateway.contract.models import (
    AbleSwitchRequest,
    AmbientSettingRequest,
    BatteryInfoData,
    BluetoothKeyData,
    BluetoothKeyRequest,
    IntervalSettingRequest,
    IotCodeRequest,
    LampEffect,
    LightControlRequest,
    LocationData,
    OnOffControlRequest,
    ScooterSettingRequest,
    SoundControlRequest,
    SoundMask,
    SoundSettingRequest,
    SpeedModeRequest,
    StatusData,
    SwitchSettingRequest,
    TokenResponse,
    VersionData,
    parse_iot_code,
)

T = TypeVar("T")
SOUND_NAMES = tuple(SoundMask.model_fields)
"""The single sounds `set_sound` can turn on or off."""
Answer = TypeVar("Answer", StatusData, LocationData, BatteryInfoData, BluetoothKeyData, VersionData)

FIND = 2
"""`controlType` of the sound control that makes the vehicle findable."""
ALARM = 1


@dataclass(frozen=True)
class Operation(Generic[T]):
    """One API call: the HTTP request, whether it moves the vehicle, how to read the answer."""

    method: str
    path: str
    read: Callable[[Envelope], T]
    params: Mapping[str, str] | None = None
    body: Mapping[str, Any] | None = None
    repeat: bool = True
    """Whether a failure worth it is retried: queries yes; controls and settings only
    when the caller asks (`retry=True`), since a repeated unlock can hand a bike to the
    wrong rider."""


def read_envelope(http_status: int, content: bytes) -> Envelope:
    """The envelope of an answer, or the error it reports (code, msg, opId). An answer
    that is not HTTP 2xx never counts as a success; HTTP 401 is a refused token."""
    try:
        envelope = Envelope.model_validate_json(content)
    except ValidationError:
        family = AuthenticationError if http_status == 401 else ServerError
        raise family(
            f"HTTP {http_status}, not an API answer ({len(content)} bytes)",
            http_status=http_status,
        ) from None
    if envelope.code != 0:
        raise error_for(envelope.code, envelope.msg, envelope.op_id, http_status)
    if not 200 <= http_status < 300:
        raise ServerError(
            f"HTTP {http_status} around a success envelope",
            op_id=envelope.op_id,
            http_status=http_status,
        )
    return envelope


# Queries ---------------------------------------------------------------------


def status(iot_code: str | int) -> Operation[StatusData]:
    return _query(paths.STATUS, iot_code, StatusData)


def location(iot_code: str | int, realtime: bool = False) -> Operation[LocationData]:
    """The latest fix; `realtime` asks the vehicle for a fresh one (a device round trip)."""
    extra = {"realTimeLocation": "true"} if realtime else {}
    return _query(paths.LOCATION, iot_code, LocationData, extra)


def battery(iot_code: str | int) -> Operation[BatteryInfoData]:
    return _query(paths.BATTERY_INFO, iot_code, BatteryInfoData)


def bluetooth_key(iot_code: str | int) -> Operation[BluetoothKeyData]:
    return _query(paths.BLUETOOTH_KEY, iot_code, BluetoothKeyData)


def version(iot_code: str | int) -> Operation[VersionData]:
    """The vehicle's firmware versions (beyond the document; asks the vehicle)."""
    return _query(paths.VERSION, iot_code, VersionData)


def _query(
    path: str, iot_code: str | int, model: type[Answer], extra: Mapping[str, str] | None = None
) -> Operation[Answer]:
    def read(envelope: Envelope) -> Answer:
        try:
            answer = model.model_validate(_both_spellings(envelope.data))
        except ValidationError as err:
            raise ServerError(
                f"the answer's data is not a {model.__name__}: {_first(err)}",
                op_id=envelope.op_id,
            ) from None
        answer.attach(envelope)
        return answer

    return Operation("GET", path, read, params={"iotCode": _iot(iot_code), **(extra or {})})


_SPELLINGS = (("remainingRange", "remainderRange"), ("gpsUtcTime", "gpsUTCTime"))
"""Fields the document spells two ways; a server may send either (this gateway: both)."""


def _both_spellings(data: Any) -> Any:
    if isinstance(data, dict):
        for spellings in _SPELLINGS:
            given = next((data[s] for s in spellings if data.get(s) is not None), None)
            if given is not None:
                data = {**data, **dict.fromkeys(spellings, given)}
    return data


# Controls ----------------------------------------------------------------------


def unlock(iot_code: str | int, *, retry: bool = False) -> Operation[Envelope]:
    return _command(paths.UNLOCK, IotCodeRequest, retry, iot_code=iot_code)


def lock(iot_code: str | int, *, retry: bool = False) -> Operation[Envelope]:
    return _command(paths.LOCK, IotCodeRequest, retry, iot_code=iot_code)


def open_battery_cover(
    iot_code: str | int, *, legacy_path: bool = False, retry: bool = False
) -> Operation[Envelope]:
    """Open the battery cover; `legacy_path` sends it to the older path
    `/api/vehicle/control/battery/cover` (beyond the document), which does the same."""
    path = paths.BATTERY_COVER_LEGACY if legacy_path else paths.BATTERY_COVER
    return _command(path, IotCodeRequest, retry, iot_code=iot_code)


def find(iot_code: str | int, *, retry: bool = False) -> Operation[Envelope]:
    """Make the vehicle sound so a rider finds it (the sound control, `controlType` 2)."""
    return sound(iot_code, FIND, retry=retry)


def sound(iot_code: str | int, control_type: int, *, retry: bool = False) -> Operation[Envelope]:
    """The sound control: `FIND` (2) to find the vehicle, `ALARM` (1), or another type.
    `controlType` goes as a string, as the document's table types it (servers read both)."""
    operation = _command(
        paths.SOUND, SoundControlRequest, retry, iot_code=iot_code, control_type=control_type
    )
    assert operation.body is not None
    return replace(operation, body={**operation.body, "controlType": str(control_type)})


def set_lights(
    iot_code: str | int,
    *,
    head: bool | None = None,
    tail: bool | None = None,
    retry: bool = False,
) -> Operation[Envelope]:
    """Head and tail light on (True) or off (False), None leaves one as it is; one at least
    (the light control, beyond the document)."""
    _something(head, tail)
    return _command(
        paths.LIGHT,
        LightControlRequest,
        retry,
        iot_code=iot_code,
        head_light=_one_zero(head),
        tail_light=_one_zero(tail),
    )


def headlight(iot_code: str | int, on: bool, *, retry: bool = False) -> Operation[Envelope]:
    """The headlight on or off (the headlight control, `controlType` 1 or 0; beyond the
    document)."""
    return _command(
        paths.HEADLIGHT, OnOffControlRequest, retry, iot_code=iot_code, control_type=_bit(on)
    )


def power(iot_code: str | int, on: bool, *, retry: bool = False) -> Operation[Envelope]:
    """Power the vehicle on or off (`controlType` 1 or 0; beyond the document). Powered
    off, it refuses to unlock (15611); powering off is refused while it is ridden."""
    return _command(
        paths.POWER, OnOffControlRequest, retry, iot_code=iot_code, control_type=_bit(on)
    )


# Settings ----------------------------------------------------------------------


def set_switch(
    iot_code: str | int,
    *,
    alert_sensitivity: int | None = None,
    low_power_value: int | None = None,
    retry: bool = False,
) -> Operation[Envelope]:
    """Alert sensitivity 1 to 3 and the low-power alert threshold 10 to 30 %; one at least."""
    _something(alert_sensitivity, low_power_value)
    return _command(
        paths.SWITCH_SETTING,
        SwitchSettingRequest,
        retry,
        iot_code=iot_code,
        alert_sensitivity=alert_sensitivity,
        low_power_value=low_power_value,
    )


def set_able_switch(
    iot_code: str | int,
    *,
    assisted_mode: bool | None = None,
    kickstand_check: bool | None = None,
    low_power_switch: bool | None = None,
    retry: bool = False,
) -> Operation[Envelope]:
    """Turn features on (True) or off (False); None leaves one as it is; one at least."""
    _something(assisted_mode, kickstand_check, low_power_switch)
    return _command(
        paths.ABLE_SWITCH_SETTING,
        AbleSwitchRequest,
        retry,
        iot_code=iot_code,
        assisted_mode=_switch(assisted_mode),
        kickstand_check=_switch(kickstand_check),
        low_power_switch=_switch(low_power_switch),
    )


def set_ambient(
    iot_code: str | int,
    *,
    bright: int,
    parking: LampEffect,
    cruise: LampEffect | None = None,
    ready: LampEffect | None = None,
    fault: LampEffect | None = None,
    retry: bool = False,
) -> Operation[Envelope]:
    """The atmosphere lamp: brightness 1 to 3 and an effect per mode (parking required)."""
    return _command(
        paths.AMBIENT_SETTING,
        AmbientSettingRequest,
        retry,
        iot_code=iot_code,
        bright=bright,
        parking_mode=parking,
        cruise_mode=cruise,
        ready_mode=ready,
        fault_mode=fault,
    )


def set_sound(
    iot_code: str | int,
    *,
    enabled: bool | None = None,
    volume: int | None = None,
    sounds: Mapping[str, bool | None] | None = None,
    retry: bool = False,
) -> Operation[Envelope]:
    """Sounds on or off (None: no change), volume 1 to 3, and single sounds by their
    snake_case name (`SOUND_NAMES`: True on, False off, None keep); one at least."""
    _something(enabled, volume, *(sounds or {}).values())
    mask = None if sounds is None else {_sound(name): _keep(on) for name, on in sounds.items()}
    return _command(
        paths.SOUND_SETTING,
        SoundSettingRequest,
        retry,
        iot_code=iot_code,
        work_mode=_switch(enabled),
        volume=volume,
        ebcq_mask=mask,
    )


def set_bluetooth_key(iot_code: str | int, key: str, *, retry: bool = False) -> Operation[Envelope]:
    """A new bluetooth key: exactly 8 ASCII letters or digits."""
    return _command(
        paths.BLUETOOTH_KEY_SETTING, BluetoothKeyRequest, retry, iot_code=iot_code, key=key
    )


def set_interval(
    iot_code: str | int,
    *,
    location_unlocked: int | None = None,
    location_locked: int | None = None,
    status_riding: int | None = None,
    status_not_riding: int | None = None,
    status_locked: int | None = None,
    retry: bool = False,
) -> Operation[Envelope]:
    """Report intervals in seconds (10 to 65535); at least one."""
    location = {"unlock_status": location_unlocked, "lock_status": location_locked}
    status = {
        "riding_status": status_riding,
        "non_riding": status_not_riding,
        "lock_status": status_locked,
    }
    return _command(
        paths.INTERVAL_SETTING,
        IntervalSettingRequest,
        retry,
        iot_code=iot_code,
        location_interval=_given(location),
        status_interval=_given(status),
    )


def set_speed_mode(
    iot_code: str | int, speed_mode: int, *, retry: bool = False
) -> Operation[Envelope]:
    """Speed mode 1 (low), 2 (medium) or 3 (high); the status's `speed_mode` shows it
    (beyond the document)."""
    return _command(
        paths.SPEED_MODE_SETTING, SpeedModeRequest, retry, iot_code=iot_code, speed_mode=speed_mode
    )


def set_speed_limits(
    iot_code: str | int,
    *,
    low: int | None = None,
    medium: int | None = None,
    high: int | None = None,
    speed_mode_button: bool | None = None,
    retry: bool = False,
) -> Operation[Envelope]:
    """The speed limit of each speed mode in km/h (1 to 99), and whether the rider may
    switch speed mode with the button; None leaves one as it is; one at least (the scooter
    setting, beyond the document)."""
    _something(low, medium, high, speed_mode_button)
    return _command(
        paths.SCOOTER_SETTING,
        ScooterSettingRequest,
        retry,
        iot_code=iot_code,
        button_switch_speed_mode=_one_zero(speed_mode_button),
        low_speed_limit=low,
        medium_speed_limit=medium,
        high_speed_limit=high,
    )


def _command(path: str, model: type[BaseModel], retry: bool, **fields: Any) -> Operation[Envelope]:
    """A control or setting, its arguments checked by the contract's request model."""
    given = {name: value for name, value in fields.items() if value is not None}
    try:
        request = model.model_validate(given)
    except ValidationError as err:
        raise ParameterError(_first(err)) from None
    body = request.model_dump(mode="json", by_alias=True, exclude_none=True)
    return Operation("POST", path, _done, body=body, repeat=retry)


def _done(envelope: Envelope) -> Envelope:
    return envelope


def _switch(on: bool | None) -> int:
    """The document's 0 no setting, 1 off, 2 on."""
    return 0 if _on_off(on) is None else 2 if on else 1


def _one_zero(on: bool | None) -> int | None:
    """1 on, 0 off, None left as it is (the compatibility endpoints' numbers)."""
    return None if _on_off(on) is None else int(bool(on))


def _bit(on: bool) -> int:
    if on is None:
        raise ParameterError("say True (on) or False (off)")
    return int(bool(_on_off(on)))


def _keep(on: bool | None) -> int:
    """The sound mask's 0 disable, 1 enable, 2 keep original."""
    return 2 if _on_off(on) is None else 1 if on else 0


def _on_off(on: object) -> bool | None:
    """True, False or None, never the document's numbers (whose 1 means off or enable)."""
    if on is not None and not isinstance(on, bool):
        raise ParameterError(f"say True (on), False (off) or None (leave as is), not {on!r}")
    return on


def _sound(name: str) -> str:
    if name not in SOUND_NAMES:
        raise ParameterError(f"no sound {name!r}: one of {', '.join(SOUND_NAMES)}")
    return name


def _something(*values: object) -> None:
    if all(value is None for value in values):
        raise ParameterError("nothing to set: give one value at least")


def _given(members: dict[str, int | None]) -> dict[str, int] | None:
    chosen = {name: value for name, value in members.items() if value is not None}
    return chosen or None


def _iot(iot_code: str | int) -> str:
    try:
        return parse_iot_code(iot_code)
    except ValueError as err:
        raise ParameterError(f"{err}, not {str(iot_code)[:40]!r}") from None


def _first(err: ValidationError) -> str:
    problem = err.errors()[0]
    where = ".".join(str(part) for part in problem["loc"])
    return f"{where}: {problem['msg']}" if where else str(problem["msg"])


# Tokens ------------------------------------------------------------------------


def token_form(client_id: str, client_secret: str) -> dict[str, str]:
    return {
        "client_id": client_id,
        "client_secret": client_secret,
        "grant_type": "client_credentials",
    }


def read_token(http_status: int, content: bytes) -> TokenResponse:
    """A token answer (read as OAuth 2.0 allows: `token_type` in any case, a fractional
    `expires_in`), or the refusal: AuthenticationError for HTTP 400, 401 and 403,
    ServerError otherwise. A body that is not read is never quoted: it may hold a token."""
    try:
        body = json.loads(content)
    except ValueError:
        body = None
    if http_status == 200 and isinstance(body, dict):
        token, kind, lifetime = (body.get(k) for k in ("access_token", "token_type", "expires_in"))
        if (
            isinstance(token, str)
            and token
            and str(kind).lower() == "bearer"
            and isinstance(lifetime, int | float)
            and not isinstance(lifetime, bool)
        ):
            return TokenResponse(access_token=token, expires_in=int(lifetime))
        raise ServerError(
            "token answer without a bearer access_token and expires_in", http_status=200
        )
    reason = "no OAuth error in the answer"
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        described = body.get("error_description")
        reason = body["error"][:60] + (f": {described[:120]}" if isinstance(described, str) else "")
    family: type[SegwayError] = (
        AuthenticationError if http_status in (400, 401, 403) else ServerError
    )
    raise family(f"token request refused (HTTP {http_status}): {reason}", http_status=http_status)
