"""The vehicles' side of the MQTT device link: one broker connection per vehicle.

Each vehicle logs in with its iotCode and its own password, leaves a retained
`presence` of `online: false` as its will and publishes `online: true` on
every connect, so the gateway sees it online exactly while a session is live.
It answers each command on the reply topic of the gateway instance that sent
it. Status and location go at QoS 0 (the next report supersedes a lost one)
and retained (a gateway that subscribes later learns them at once), events at
QoS 1, and each event (and each status sent with `ack: true`, one that changes
the lock state) is kept until a gateway acknowledges it on the vehicle's `ack`
topic: sent again on every reconnect and every RESEND_SECONDS, so what was raised
while no gateway runs, or taken by one that died before storing it, still arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from pydantic import ValidationError

from segway_gateway.clock import Clock, system_clock
from segway_gateway.contract.device import (
    DEVICE_READS,
    QOS,
    RETAINED,
    Ack,
    Command,
    DeviceEvent,
    DeviceLocation,
    DeviceStatus,
    Presence,
    Reply,
    Topic,
    event_key,
    reply_topic,
    status_key,
    topic,
)
from segway_gateway.devicelink.backoff import Backoff
from segway_gateway.devicelink.base import CommandHandler
from segway_gateway.devicelink.mosquitto import device_password, vehicle_client_id
from segway_gateway.devicelink.mqtt_session import Broker, BrokerRefused, MqttSession

log = logging.getLogger(__name__)

KEPT = 100
"""Messages a vehicle keeps until acknowledged (a real box's flash is finite too)."""
RESEND_SECONDS = 30.0
"""How often a vehicle sends its unacknowledged messages again (on its port's clock)."""


def _presence(online: bool, at: float) -> bytes:
    return Presence(online=online, t=int(at * 1000)).model_dump_json().encode()


class MqttDeviceConnection:
    """One vehicle's session with the broker (a `DeviceConnection`)."""

    def __init__(self, port: MqttPort, iot_code: str, on_command: CommandHandler) -> None:
        self.iot_code = iot_code
        self._port = port
        self._on_command = on_command
        self._reply_to: dict[str, str] = {}
        """opId → gateway instance, for commands not answered yet."""
        self._latest: dict[Topic, bytes] = {}
        """The latest status and location reported: sent again after every (re)connect, so
        a broker that restarted without its retained messages, or a gateway that missed
        them, hears them again (the gateway stores a report it already has only once)."""
        self._unacked: dict[str, tuple[Topic, bytes]] = {}
        """Messages not acknowledged yet, by key (`event_key`, `status_key`), oldest
        first: each with its kind."""
        self._presence_topic = topic(iot_code, Topic.PRESENCE)
        self._event_topic = topic(iot_code, Topic.EVENT)
        self.session = MqttSession(
            port.broker.as_user(iot_code, device_password(port.key, iot_code)),
            vehicle_client_id(iot_code),
            self._received,
            [(topic(iot_code, kind), QOS[kind]) for kind in DEVICE_READS],
            will=(self._presence_topic, _presence(False, port.clock())),
            on_up=self._up,
            backoff=Backoff(port.backoff_base, port.backoff_cap),
            loud=False,
        )
        self.session.open_in_background().add_done_callback(self._opened)

    def publish_status(self, status: DeviceStatus) -> None:
        payload = status.model_dump_json(by_alias=True).encode()
        if status.ack:
            self._keep(status_key(status), Topic.STATUS, payload)
        self._report(Topic.STATUS, payload)

    def publish_location(self, location: DeviceLocation) -> None:
        self._report(Topic.LOCATION, location.model_dump_json(by_alias=True).encode())

    def publish_event(self, event: DeviceEvent) -> None:
        payload = event.model_dump_json(by_alias=True).encode()
        self._keep(event_key(event), Topic.EVENT, payload)
        self.session.publish(self._event_topic, payload, QOS[Topic.EVENT])

    def _keep(self, key: str, kind: Topic, payload: bytes) -> None:
        self._unacked[key] = (kind, payload)
        while len(self._unacked) > KEPT:
            del self._unacked[next(iter(self._unacked))]

    @property
    def unacknowledged(self) -> int:
        """Messages sent (or to send) that no gateway has acknowledged yet."""
        return len(self._unacked)

    def resend_unacknowledged(self) -> None:
        """Send every unacknowledged message again, oldest first (if connected)."""
        for kind, payload in list(self._unacked.values()):
            if not self._send(kind, payload):
                return

    def publish_reply(self, reply: Reply) -> None:
        gateway_id = self._reply_to.pop(reply.op_id, None)
        if gateway_id is not None:
            payload = reply.model_dump_json(by_alias=True).encode()
            self.session.publish(reply_topic(self.iot_code, gateway_id), payload, QOS[Topic.REPLY])

    def close(self) -> None:
        """Say goodbye (retained `online: false`) and disconnect."""
        task = asyncio.get_running_loop().create_task(
            self.session.close(last_words=(self._presence_topic, self._offline()))
        )
        self._port.closing.add(task)
        task.add_done_callback(self._port.closing.discard)
        self._port.forget(self)

    def _offline(self) -> bytes:
        return _presence(False, self._port.clock())

    def _report(self, kind: Topic, payload: bytes) -> None:
        self._latest[kind] = payload
        self._send(kind, payload)

    def _send(self, kind: Topic, payload: bytes) -> bool:
        retain = kind in RETAINED
        return self.session.publish(topic(self.iot_code, kind), payload, QOS[kind], retain)

    def _received(self, topic_name: str, payload: bytes) -> None:
        if topic_name.endswith(f"/{Topic.ACK.value}"):
            self._acknowledged(payload)
            return
        try:
            command = Command.model_validate_json(payload)
        except ValidationError:
            log.debug("%s: ignoring a malformed command", self.iot_code)
            return
        self._reply_to[command.op_id] = command.reply_to
        if len(self._reply_to) > 64:  # unanswered (past deadline): forget the oldest
            self._reply_to.pop(next(iter(self._reply_to)))
        self._on_command(command)

    def _acknowledged(self, payload: bytes) -> None:
        try:
            ack = Ack.model_validate_json(payload)
        except ValidationError:
            log.debug("%s: ignoring a malformed acknowledgement", self.iot_code)
            return
        for key in ack.keys:
            self._unacked.pop(key, None)

    def _up(self) -> None:
        """Online (again): say so, then send the latest status and fix, and every message
        not acknowledged yet."""
        online = _presence(True, self._port.clock())
        self.session.publish(self._presence_topic, online, QOS[Topic.PRESENCE], True)
        for kind, payload in self._latest.items():
            self._send(kind, payload)
        self.resend_unacknowledged()

    def _opened(self, opening: asyncio.Task[None]) -> None:
        if opening.cancelled():
            return
        err = opening.exception()
        if isinstance(err, BrokerRefused):
            self._port.refused.add(self.iot_code)
            log.error("vehicle %s: %s", self.iot_code, err)


class MqttPort:
    """Connects simulated vehicles to a broker (a `DevicePort`)."""

    def __init__(
        self,
        broker: Broker,
        key: bytes,
        clock: Clock = system_clock,
        *,
        backoff_base: float = 1.0,
        backoff_cap: float = 30.0,
    ) -> None:
        self.broker = broker
        self.key = key
        self.clock = clock
        """The vehicles' clock (presence timestamps); reconnect back-off is real time."""
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.refused: set[str] = set()
        """Vehicles the broker turned down (not in its password file)."""
        self.closing: set[asyncio.Task[None]] = set()
        self._connections: dict[str, MqttDeviceConnection] = {}
        self._resender: asyncio.Task[None] | None = None

    def connect(self, iot_code: str, on_command: CommandHandler) -> MqttDeviceConnection:
        connection = MqttDeviceConnection(self, iot_code, on_command)
        self._connections[iot_code] = connection
        if self._resender is None:
            self._resender = asyncio.create_task(self._resend_forever(), name="mqtt-resend")
        return connection

    async def _resend_forever(self) -> None:
        while True:
            await self.clock.sleep(RESEND_SECONDS)
            for connection in list(self._connections.values()):
                try:
                    if connection.unacknowledged:
                        connection.resend_unacknowledged()
                except Exception:  # one vehicle's trouble must not end the others' resends
                    log.exception("vehicle %s: resending failed", connection.iot_code)

    def forget(self, connection: MqttDeviceConnection) -> None:
        if self._connections.get(connection.iot_code) is connection:
            del self._connections[connection.iot_code]

    def connected_count(self) -> int:
        """How many vehicles have a live session right now."""
        return sum(c.session.connected for c in self._connections.values())

    def published(self) -> int:
        """Messages the vehicles' current sessions have published so far."""
        return sum(c.session.published for c in self._connections.values())

    async def drain(self) -> None:
        """Stop resending; wait until every session being closed has said goodbye."""
        if self._resender is not None:
            self._resender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._resender
            self._resender = None
        if self.closing:
            await asyncio.gather(*self.closing, return_exceptions=True)
