"""Request and response models of the API document, with the ranges of NOTES.md.

Attributes are snake_case; the wire names (camelCase, typos kept where clients
read them) are aliases. Request models are liberal where NOTES.md says so
(`iotCode` as string or number, unknown fields ignored) and strict elsewhere
(no numeric strings for numbers, no floats for integers).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictInt,
    computed_field,
    model_validator,
)
from pydantic.alias_generators import to_camel

from segway_gateway.contract.envelope import Envelope

IOT_CODE_MAX_LENGTH = 32
_IOT_CODE = re.compile(rf"[0-9]{{1,{IOT_CODE_MAX_LENGTH}}}")
_BLUETOOTH_KEY = re.compile(r"[A-Za-z0-9]{8}")
PLATFORM_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""What a platform code (the OAuth client_id) may look like."""


def parse_iot_code(value: object) -> str:
    """An IMEI given as a JSON string or a non-negative JSON number, as a digit string."""
    if isinstance(value, bool):
        raise ValueError("iotCode must be a string or a number")
    if isinstance(value, int) and value >= 0:
        value = str(value)
    if isinstance(value, str) and _IOT_CODE.fullmatch(value):
        return value
    raise ValueError(f"iotCode must be 1 to {IOT_CODE_MAX_LENGTH} digits")


def _parse_control_type(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("controlType must be an integer")
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    if isinstance(value, int):
        return value
    raise ValueError("controlType must be an integer")


def _parse_bluetooth_key(value: object) -> str:
    if isinstance(value, str) and _BLUETOOTH_KEY.fullmatch(value):
        return value
    raise ValueError("key must be exactly 8 ASCII letters or digits")


IotCode = Annotated[
    str,
    BeforeValidator(parse_iot_code),
    Field(json_schema_extra={"oneOf": [{"type": "string"}, {"type": "integer"}]}),
]
BluetoothKey = Annotated[str, BeforeValidator(_parse_bluetooth_key)]
Interval = Annotated[StrictInt, Field(ge=10, le=65535)]
Switch = Annotated[StrictInt, Field(ge=0, le=2)]
Level = Annotated[StrictInt, Field(ge=1, le=3)]
OnOff = Annotated[StrictInt, Field(ge=0, le=1)]
SpeedLimit = Annotated[StrictInt, Field(ge=1, le=99)]
"""A speed limit in km/h."""


class _Wire(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )


class IotCodeRequest(_Wire):
    """Body of unlock, lock and battery-cover."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"iotCode": 861477038719116}]})
    iot_code: IotCode


class SoundControlRequest(IotCodeRequest):
    """Body of the sound control: 2 finds the vehicle, 1 sounds the alarm."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"iotCode": 861477038719116, "controlType": 3}]}
    )
    control_type: Annotated[int, BeforeValidator(_parse_control_type), Field(ge=0, le=255)]


class SwitchSettingRequest(IotCodeRequest):
    """Body of the switch setting."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"iotCode": "861477038719116", "alertSensitivity": 2, "lowPowerValue": 15}]
        }
    )
    alert_sensitivity: Level | None = None
    low_power_value: Annotated[StrictInt, Field(ge=10, le=30)] | None = None


class AbleSwitchRequest(IotCodeRequest):
    """Body of the switch enable setting: 0 no setting, 1 off, 2 on."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"iotCode": "861477038719116", "kickstandCheck": 2, "lowPowerSwitch": 2}]
        }
    )
    assisted_mode: Switch | None = None
    kickstand_check: Switch | None = None
    low_power_switch: Switch | None = None


class LampEffect(_Wire):
    """One atmosphere lamp effect: mode 1 off, 2 always on; color 1 to 7."""

    mode: Annotated[StrictInt, Field(ge=1, le=2)]
    color: Annotated[StrictInt, Field(ge=1, le=7)]


class AmbientSettingRequest(IotCodeRequest):
    """Body of the atmosphere lamp setting (the table's `brightrequired` is `bright`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "iotCode": "8612345678901",
                    "bright": 1,
                    "readyMode": {"mode": 2, "color": 1},
                    "parkingMode": {"mode": 2, "color": 3},
                }
            ]
        }
    )
    bright: Level
    parking_mode: LampEffect
    cruise_mode: LampEffect | None = None
    ready_mode: LampEffect | None = None
    fault_mode: LampEffect | None = None


class SoundMask(_Wire):
    """Per-sound switches of the sound setting: 0 disable, 1 enable, 2 keep original."""

    unlocked: Switch | None = None
    locked: Switch | None = None
    open_boxes: Switch | None = None
    toot: Switch | None = None
    kickstand: Switch | None = None
    gear_up: Switch | None = None
    gear_down: Switch | None = None
    enter_cruise: Switch | None = None
    exit_cruise: Switch | None = None
    set: Switch | None = None
    battery_inserted: Switch | None = None


class SoundSettingRequest(IotCodeRequest):
    """Body of the sound setting: workMode 0 no setting, 1 off, 2 on."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"iotCode": "861477038719116", "workMode": 2, "volume": 1}]}
    )
    work_mode: Switch
    volume: Level | None = None
    ebcq_mask: SoundMask | None = None


class BluetoothKeyRequest(IotCodeRequest):
    """Body of the bluetooth key setting."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"iotCode": 861477038719116, "key": "4BKNwi77"}]}
    )
    key: BluetoothKey


class _NonEmpty(_Wire):
    @model_validator(mode="after")
    def _one_member_at_least(self) -> _NonEmpty:
        if all(value is None for value in self.__dict__.values()):
            raise ValueError(f"{type(self).__name__} needs at least one member")
        return self


class LocationInterval(_NonEmpty):
    """Location upload intervals in seconds (at least one)."""

    unlock_status: Interval | None = None
    lock_status: Interval | None = None


class StatusInterval(_NonEmpty):
    """Status upload intervals in seconds (at least one)."""

    riding_status: Interval | None = None
    non_riding: Interval | None = None
    lock_status: Interval | None = None


class IntervalSettingRequest(IotCodeRequest):
    """Body of the upload interval setting: at least one of the two objects."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "iotCode": "861477038719116",
                    "locationInterval": {"unlockStatus": 10, "lockStatus": 900},
                    "statusInterval": {"ridingStatus": 10, "nonRiding": 300, "lockStatus": 900},
                }
            ]
        }
    )
    location_interval: LocationInterval | None = None
    status_interval: StatusInterval | None = None

    @model_validator(mode="after")
    def _one_interval_at_least(self) -> IntervalSettingRequest:
        if self.location_interval is None and self.status_interval is None:
            raise ValueError("locationInterval or statusInterval is required")
        return self


# Compatibility: beyond the document (docs/compatibility.md) ------------------


class SpeedModeRequest(IotCodeRequest):
    """Body of the speed mode setting: 1 low, 2 medium, 3 high."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"iotCode": "861477038719116", "speedMode": 2}]}
    )
    speed_mode: Level


class ScooterSettingRequest(IotCodeRequest):
    """Body of the scooter setting: the speed limit of each speed mode (km/h, 1 to 99) and
    whether the rider may switch speed mode with the button (1) or not (0); one at least."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "iotCode": "861477038719116",
                    "buttonSwitchSpeedMode": 0,
                    "lowSpeedLimit": 15,
                    "mediumSpeedLimit": 20,
                    "highSpeedLimit": 25,
                }
            ]
        }
    )
    button_switch_speed_mode: OnOff | None = None
    low_speed_limit: SpeedLimit | None = None
    medium_speed_limit: SpeedLimit | None = None
    high_speed_limit: SpeedLimit | None = None

    @model_validator(mode="after")
    def _one_at_least(self) -> ScooterSettingRequest:
        if all(getattr(self, name) is None for name in _SCOOTER_FIELDS):
            raise ValueError(f"one of {', '.join(_SCOOTER_ALIASES)} at least is required")
        return self


_SCOOTER_FIELDS = (
    "button_switch_speed_mode",
    "low_speed_limit",
    "medium_speed_limit",
    "high_speed_limit",
)
_SCOOTER_ALIASES = tuple(to_camel(name) for name in _SCOOTER_FIELDS)


class LightControlRequest(IotCodeRequest):
    """Body of the light control: head and tail light, 1 on, 0 off; one at least."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"iotCode": "861477038719116", "headLight": 1, "tailLight": 1}]
        }
    )
    head_light: OnOff | None = None
    tail_light: OnOff | None = None

    @model_validator(mode="after")
    def _one_at_least(self) -> LightControlRequest:
        if self.head_light is None and self.tail_light is None:
            raise ValueError("headLight or tailLight is required")
        return self


class OnOffControlRequest(IotCodeRequest):
    """Body of the headlight and power controls: `controlType` 1 on, 0 off (a JSON integer
    or a digit string, as the sound control's)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"iotCode": "861477038719116", "controlType": 1}]}
    )
    control_type: Annotated[int, BeforeValidator(_parse_control_type), Field(ge=0, le=1)]


# Responses -----------------------------------------------------------------


class TokenResponse(BaseModel):
    """Success of POST /oauth/token (plain OAuth 2.0 JSON, not the envelope)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "83efe135-8203-404c-b489-b5fbf8050d3d",
                    "token_type": "bearer",
                    "expires_in": 43199,
                    "scope": "read write trust",
                }
            ]
        }
    )
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    scope: str = "read write trust"


class OAuthError(BaseModel):
    """Failure of POST /oauth/token (RFC 6749 section 5.2)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"error": "invalid_client", "error_description": "Bad client credentials"}]
        }
    )
    error: str
    error_description: str


class _Answer(_Wire):
    """`data` of a query; the SDK attaches the envelope it came in (op id, time)."""

    _envelope: Envelope | None = PrivateAttr(default=None)

    @property
    def envelope(self) -> Envelope:
        """The answer's `{code, msg, t, opId}`; only on results the SDK returned."""
        if self._envelope is None:
            raise AttributeError("only results returned by the SDK carry their envelope")
        return self._envelope

    def attach(self, envelope: Envelope) -> None:
        self._envelope = envelope


class StatusData(_Answer):
    """`data` of the status query; the range is sent as `remainingRange` and `remainderRange`
    (one value, the document's two names) and read from either."""

    iot_code: str
    online: bool
    locked: bool
    lock_voltage: int
    network_signal: int
    charging: bool
    power_percent: int
    speed_mode: int
    speed: int
    odometer: int
    remaining_range: int = Field(validation_alias=AliasChoices("remainingRange", "remainderRange"))
    total_riding_secs: int
    status_utc_time: int

    @computed_field(alias="remainderRange")  # type: ignore[prop-decorator]
    @property
    def remainder_range(self) -> int:
        """The range under the document's other name."""
        return self.remaining_range


class LocationData(_Answer):
    """`data` of the location query; the fix time is sent as `gpsUtcTime` and `gpsUTCTime`
    (one value, the document's two names) and read from either."""

    iot_code: str
    latitude: float
    longitude: float
    satellite_number: int
    hdop: float
    altitude: float
    gps_utc_time: int = Field(validation_alias=AliasChoices("gpsUtcTime", "gpsUTCTime"))

    @computed_field(alias="gpsUTCTime")  # type: ignore[prop-decorator]
    @property
    def gps_utc_time_compat(self) -> int:
        """The fix time under the document's other name."""
        return self.gps_utc_time


class BatteryPack(_Wire):
    """One battery pack (`temperatrue` is the document's spelling)."""

    battery_port: int
    battery_percent: int
    battery_voltage: int
    cycle_times: int
    temperatrue: int


class BatteryInfoData(_Answer):
    """`data` of the battery-info query."""

    iot_code: str
    charging: bool
    vehicle_percent: int
    battery_count: int
    driving_voltage: int
    current_power: int
    iot_percent: int
    iot_voltage: int
    battery_data: list[BatteryPack]


class BluetoothKeyData(_Answer):
    """`data` of the bluetooth-key query."""

    iot_code: str
    key: str


class VersionData(_Answer):
    """`data` of the version query (beyond the document): the firmware versions of the IoT
    module, the motor controller (ECU) and the battery management system (BMS). The SDK
    reads a server's answer without the last two as None."""

    iot_code: str
    iot_version: str
    ecu_version: str | None = None
    bms_version: str | None = None


def example_envelope(data: Any, msg: str = "Success") -> dict[str, Any]:
    """An envelope as the document shows it, for OpenAPI examples."""
    return {
        "code": 0,
        "msg": msg,
        "data": data,
        "t": 1593333694412,
        "opId": "3de041d2-7f1e-4cb2-a7be-483378727c56",
    }
