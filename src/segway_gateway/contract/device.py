"""The device link protocol between the gateway and a vehicle (ours; the document is silent).

One topic tree per vehicle, `segway/v1/{iotCode}/{kind}`. Vehicles publish
`status`, `location`, `event`, `presence` and `reply`; the gateway publishes
`cmd`. Payloads are JSON objects of the models below, with the same field
names as the API so telemetry passes through unchanged.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

MAX_PAYLOAD_BYTES = 64 * 1024
"""The largest message a vehicle may publish; the gateway refuses larger ones unread."""
MAX_BATTERY_PACKS = 8
"""More packs than any C80 carries (it has one or two): a report with more is refused."""

Int64 = Annotated[int, Field(strict=True, ge=-(2**63), le=2**63 - 1)]
"""An integer a 64-bit column holds; a JSON number with a fraction is refused."""
Count = Annotated[int, Field(strict=True, ge=0, le=2**63 - 1)]
"""A non-negative 64-bit integer: odometer, counts, epoch milliseconds."""
EpochSeconds = Annotated[int, Field(strict=True, ge=0, le=(2**63 - 1) // 1000)]
"""Epoch seconds small enough to be kept in milliseconds in a 64-bit column."""
Finite = Annotated[float, Field(allow_inf_nan=False)]
"""A finite number (NaN and Infinity are refused)."""

TOPIC_ROOT = "segway/v1"
SHARE_GROUP = "segway-gateway"
"""The shared subscription (`$share/{group}/…`) gateway instances take telemetry through
unless told another: each message reaches one of them."""


class Topic(StrEnum):
    """The last level of a vehicle's topics: what the message is."""

    STATUS = "status"
    LOCATION = "location"
    EVENT = "event"
    PRESENCE = "presence"
    REPLY = "reply"
    """Followed by one more level, the gateway instance that sent the command."""
    CMD = "cmd"
    ACK = "ack"
    """The gateway's word that messages are stored: the vehicle may forget them."""


DEVICE_PUBLISHES = (Topic.STATUS, Topic.LOCATION, Topic.EVENT, Topic.PRESENCE)
"""What a vehicle publishes besides replies; the gateway publishes `cmd` and `ack`."""
DEVICE_READS = (Topic.CMD, Topic.ACK)
"""What a vehicle subscribes to, on its own topics."""

QOS: dict[Topic, int] = {
    Topic.STATUS: 1,
    Topic.LOCATION: 1,
    Topic.EVENT: 1,
    Topic.PRESENCE: 1,
    Topic.CMD: 0,
    Topic.REPLY: 0,
    Topic.ACK: 1,
}
"""The QoS each kind is published and subscribed with. Reports, events, presence and
acknowledgements must arrive (the gateway acknowledges a report to the broker once it
has stored it); a lost command or reply is a timeout (15302), never a command sent
twice."""
RETAINED = frozenset({Topic.PRESENCE, Topic.STATUS, Topic.LOCATION})
"""Kinds published retained: a gateway that (re)subscribes learns at once who is online
and every vehicle's latest status and fix, instead of waiting up to 900 s for them."""


def topic(iot_code: str, kind: Topic) -> str:
    """The topic of one message kind of one vehicle."""
    return f"{TOPIC_ROOT}/{iot_code}/{kind.value}"


def reply_topic(iot_code: str, gateway_id: str) -> str:
    """Where a vehicle answers a command of one gateway instance."""
    return f"{TOPIC_ROOT}/{iot_code}/{Topic.REPLY.value}/{gateway_id}"


class CommandName(StrEnum):
    """What the gateway can ask a vehicle to do."""

    UNLOCK = "unlock"
    LOCK = "lock"
    BATTERY_COVER = "battery-cover"
    SOUND = "sound"
    LOCATE = "locate"
    GET_BLUETOOTH_KEY = "get-bluetooth-key"
    SET_SWITCH = "set-switch"
    SET_ABLE_SWITCH = "set-able-switch"
    SET_AMBIENT = "set-ambient"
    SET_SOUND = "set-sound"
    SET_BLUETOOTH_KEY = "set-bluetooth-key"
    SET_INTERVAL = "set-interval"
    GET_VERSION = "get-version"
    SET_SPEED_MODE = "set-speed-mode"
    SET_SCOOTER = "set-scooter"
    LIGHT = "light"
    HEADLIGHT = "headlight"
    POWER = "power"


class _Message(BaseModel):
    """A message on the device link. What comes from a vehicle is untrusted: booleans
    must be JSON booleans, integers integers within 64 bits, numbers finite."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class DeviceBatteryPack(_Message):
    """One battery pack as a vehicle reports it (`temperatrue` is the document's spelling)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)
    battery_port: Count = Field(alias="batteryPort")
    battery_percent: Int64 = Field(alias="batteryPercent")
    battery_voltage: Int64 = Field(alias="batteryVoltage")
    cycle_times: Count = Field(alias="cycleTimes")
    temperatrue: Int64


class Command(_Message):
    """A command to one vehicle; the vehicle ignores it once `deadline` (epoch ms) has passed."""

    op_id: str = Field(alias="opId")
    name: CommandName
    args: dict[str, Any] = Field(default_factory=dict)
    deadline: int
    reply_to: str = Field(default="", alias="replyTo")
    """The gateway instance awaiting the reply (the last level of the reply topic)."""


class Reply(_Message):
    """A vehicle's answer to one command: an API result code and optional data."""

    op_id: str = Field(alias="opId")
    code: Int64
    data: dict[str, Any] | None = None
    reported_at: Count | None = Field(default=None, alias="reportedAt")
    """When the vehicle carried the command out, epoch milliseconds, by its own clock as
    in its reports (optional: the gateway's clock stands in). A lock state the command set
    gives way to the reports made after it, not to those made before, whatever the
    gateway's clock says."""


class DeviceStatus(_Message):
    """What a vehicle reports as its status (the API's status and battery-info fields)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)
    locked: StrictBool
    lock_voltage: Int64 = Field(alias="lockVoltage")
    network_signal: Int64 = Field(alias="networkSignal")
    charging: StrictBool
    power_percent: Int64 = Field(alias="powerPercent")
    speed_mode: Int64 = Field(alias="speedMode")
    speed: Int64
    odometer: Count
    remaining_range: Int64 = Field(alias="remainingRange")
    total_riding_secs: Count = Field(alias="totalRidingSecs")
    status_utc_time: EpochSeconds = Field(alias="statusUtcTime")
    driving_voltage: Int64 = Field(alias="drivingVoltage")
    current_power: Int64 = Field(alias="currentPower")
    iot_percent: Int64 = Field(alias="iotPercent")
    iot_voltage: Int64 = Field(alias="iotVoltage")
    battery_data: list[DeviceBatteryPack] = Field(alias="batteryData", max_length=MAX_BATTERY_PACKS)
    ack: StrictBool = False
    """The vehicle keeps this report until a gateway acknowledges it (it sets it on a
    report that changes the lock state: every such report becomes a push)."""
    reported_at: Count | None = Field(default=None, alias="reportedAt")
    """When the vehicle made the report, epoch milliseconds (optional: a box that sends
    only `statusUtcTime` is taken at the start of that second). Orders two reports of
    one second."""

    @property
    def at_ms(self) -> int:
        """When the report was made, epoch milliseconds."""
        return self.reported_at if self.reported_at is not None else self.status_utc_time * 1000


class DeviceLocation(_Message):
    """A GPS fix as a vehicle reports it."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)
    location_status: Literal["valid", "invalid"] = Field(alias="locationStatus")
    latitude: Finite = Field(ge=-90, le=90)
    longitude: Finite = Field(ge=-180, le=180)
    satellite_number: Count = Field(alias="satelliteNumber")
    hdop: Finite = Field(ge=0)
    altitude: Finite
    gps_utc_time: EpochSeconds = Field(alias="gpsUtcTime")
    reported_at: Count | None = Field(default=None, alias="reportedAt")
    """When the vehicle took the fix, epoch milliseconds (optional, as for a status)."""

    @property
    def at_ms(self) -> int:
        """When the fix was taken, epoch milliseconds."""
        return self.reported_at if self.reported_at is not None else self.gps_utc_time * 1000


class Presence(_Message):
    """Whether a vehicle's session is live: published retained on connect, and as its will."""

    online: StrictBool
    t: Count
    """Epoch milliseconds of the change; the will, set up once per session object, carries
    the time that object was made, so a goodbye and a will can be told apart."""


class DeviceEvent(_Message):
    """An alert or fault appearing (status 0) or disappearing (status 1)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)
    kind: Literal["alert", "fault"]
    code: Count
    status: Literal[0, 1]
    status_utc_time: EpochSeconds = Field(alias="statusUtcTime")
    reported_at: Count | None = Field(default=None, alias="reportedAt")
    """When it happened, epoch milliseconds (optional): an alert that appears, goes and
    appears again within one second is three events, not one."""


def event_key(event: DeviceEvent) -> str:
    """What names an event in an acknowledgement: the same event has the same key."""
    at = event.reported_at if event.reported_at is not None else event.status_utc_time * 1000
    return f"{event.kind}/{event.code}/{event.status}/{at}"


def status_key(status: DeviceStatus) -> str:
    """What names a status report in an acknowledgement (with its lock state: a box
    without `reportedAt` may lock and unlock within one second)."""
    return f"status/{status.at_ms}/{'locked' if status.locked else 'unlocked'}"


MAX_ACKED = 1000


class Ack(_Message):
    """The gateway stored these messages (events, and status reports that asked for it,
    by `event_key` and `status_key`): the vehicle may forget them. Until then it keeps
    each and sends it again on every reconnect and every 30 s."""

    keys: list[str] = Field(max_length=MAX_ACKED)


SETTING_GROUPS: dict[CommandName, str] = {
    CommandName.SET_SWITCH: "switch",
    CommandName.SET_ABLE_SWITCH: "ableSwitch",
    CommandName.SET_AMBIENT: "ambient",
    CommandName.SET_SOUND: "sound",
    CommandName.SET_INTERVAL: "interval",
    CommandName.SET_SCOOTER: "scooter",
}
"""Setting commands and the group of the settings document each one writes."""


KEEP_AS_IS: dict[CommandName, tuple[int, frozenset[str]]] = {
    CommandName.SET_ABLE_SWITCH: (
        0,
        frozenset({"assistedMode", "kickstandCheck", "lowPowerSwitch"}),
    ),
    CommandName.SET_SOUND: (0, frozenset({"workMode"})),
}
"""Per setting: the value that means "no setting" and the fields it applies to.
`ebcqMask` members use 2 ("keep original") the same way (see `merge_setting`)."""
_MASK_KEEP = 2


def merge_setting(
    settings: dict[str, Any], name: CommandName, args: dict[str, Any]
) -> dict[str, Any]:
    """`settings` with what a setting command changes merged, deeply, into its group.

    Values that mean "no setting" or "keep original" change nothing.
    """
    group = SETTING_GROUPS[name]
    keep, fields = KEEP_AS_IS.get(name, (None, frozenset()))
    changes = {k: v for k, v in args.items() if not (k in fields and v == keep)}
    if isinstance(changes.get("ebcqMask"), dict):
        changes["ebcqMask"] = {k: v for k, v in changes["ebcqMask"].items() if v != _MASK_KEEP}
    return {**settings, group: _deep_merge(settings.get(group, {}), changes)}


def _deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict):
            merged[key] = _deep_merge(merged.get(key) or {}, value)
        elif value is not None:
            merged[key] = value
    return merged
