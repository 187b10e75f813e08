"""The gateway's side of the MQTT device link: one connection to the broker.

It reads every vehicle's presence (retained, so a fresh subscription learns
who is online), telemetry and events, and the replies addressed to this
gateway instance (`segway/v1/+/reply/{gateway_id}`). With `share_group` (the
default), telemetry and events come through a shared subscription, so several
gateway instances consume each message once; presence and replies never do. A
shared subscription brings no retained messages, so on every connect the link
also subscribes to status and location alone for an instant: the retained
reports it gets are stored only if newer than what the store holds.

An instance with a stable `gateway_id` keeps its broker session (MQTT 5) for
SESSION_EXPIRY_SECONDS after it goes away: the broker queues its share of the
telemetry meanwhile and sends again what it had not acknowledged, since a QoS 1
message is acknowledged only once the store has it.

Commands go out at QoS 0: one that is lost times out (15302) like a vehicle
that did not answer, and the API never sends a command twice.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable

from pydantic import ValidationError

from segway_gateway.clock import system_clock
from segway_gateway.contract.device import (
    MAX_ACKED,
    QOS,
    SHARE_GROUP,
    TOPIC_ROOT,
    Ack,
    Command,
    DeviceEvent,
    DeviceLocation,
    DeviceStatus,
    Presence,
    Reply,
    Topic,
    topic,
)
from segway_gateway.devicelink.backoff import Backoff
from segway_gateway.devicelink.base import LinkError, Stored, TelemetrySink
from segway_gateway.devicelink.guard import INVALID, DeviceGuard
from segway_gateway.devicelink.memory import NullSink
from segway_gateway.devicelink.mqtt_session import Broker, MqttSession

log = logging.getLogger(__name__)

START_GRACE_SECONDS = 5.0
SESSION_EXPIRY_SECONDS = 900
"""How long the broker keeps an instance's session (and queues for it) while it is away."""

RECONNECT_CAP_SECONDS = 5.0
"""The longest wait between two attempts to reach the broker again: the gateway is one
client (no herd to spread, unlike a fleet's), and it is not ready until it is back."""

_Dispatch = Callable[[TelemetrySink, DeviceGuard, str, bytes], Stored]
"""Parses one kind of message and hands it to the sink; invalid payloads raise."""


def _status(sink: TelemetrySink, guard: DeviceGuard, iot_code: str, payload: bytes) -> Stored:
    status = DeviceStatus.model_validate_json(payload)
    guard.check_time(status.at_ms)
    return sink.on_status(iot_code, status)


def _location(sink: TelemetrySink, guard: DeviceGuard, iot_code: str, payload: bytes) -> Stored:
    location = DeviceLocation.model_validate_json(payload)
    guard.check_time(location.at_ms)
    return sink.on_location(iot_code, location)


def _event(sink: TelemetrySink, _guard: DeviceGuard, iot_code: str, payload: bytes) -> Stored:
    return sink.on_event(iot_code, DeviceEvent.model_validate_json(payload))


def _reply(sink: TelemetrySink, _guard: DeviceGuard, iot_code: str, payload: bytes) -> Stored:
    sink.on_reply(iot_code, Reply.model_validate_json(payload))
    return None


def _presence(sink: TelemetrySink, _guard: DeviceGuard, iot_code: str, payload: bytes) -> Stored:
    """An empty payload is a cleared retained message: nobody is there."""
    sink.on_presence(iot_code, bool(payload) and Presence.model_validate_json(payload).online)
    return None


_DISPATCH: dict[str, _Dispatch] = {
    Topic.STATUS.value: _status,
    Topic.LOCATION.value: _location,
    Topic.EVENT.value: _event,
    Topic.REPLY.value: _reply,
    Topic.PRESENCE.value: _presence,
}
_TELEMETRY = (Topic.STATUS, Topic.LOCATION, Topic.EVENT)
_RETAINED = (Topic.STATUS, Topic.LOCATION)


class MqttLink:
    """A `DeviceLink` over an MQTT broker."""

    def __init__(
        self,
        broker: Broker,
        *,
        gateway_id: str | None = None,
        share_group: str | None = SHARE_GROUP,
        backoff: Backoff | None = None,
        guard: DeviceGuard | None = None,
    ) -> None:
        """Without a `gateway_id`, a random one and a session that ends with the
        connection (one that could never be resumed would only queue in vain)."""
        self.gateway_id = gateway_id or uuid.uuid4().hex[:12]
        self.guard = guard or DeviceGuard(system_clock)
        self._sink: TelemetrySink = NullSink()
        self.refuse_sends_to: set[str] = set()
        """Fault injection: commands to these vehicles fail to be handed over (15303)."""
        self._lost = False
        share = f"$share/{share_group}/" if share_group else ""
        subscriptions = [(f"{share}{TOPIC_ROOT}/+/{kind.value}", QOS[kind]) for kind in _TELEMETRY]
        subscriptions += [
            # QoS 0: retained, so every subscription gets each vehicle's state anyway, and
            # at QoS 1 the broker's per-client queue would drop what a large fleet overflows
            (f"{TOPIC_ROOT}/+/{Topic.PRESENCE.value}", 0),
            (f"{TOPIC_ROOT}/+/{Topic.REPLY.value}/{self.gateway_id}", QOS[Topic.REPLY]),
        ]
        catch_up = [(f"{TOPIC_ROOT}/+/{kind.value}", QOS[kind]) for kind in _RETAINED]
        self._session = MqttSession(
            broker,
            f"segway-gateway-{self.gateway_id}",
            self._received,
            subscriptions,
            on_up=self._up,
            on_down=self._down,
            backoff=backoff or Backoff(cap=RECONNECT_CAP_SECONDS),
            session_expiry=SESSION_EXPIRY_SECONDS if gateway_id else 0,
            catch_up=catch_up if share_group else None,
        )

    @property
    def connected(self) -> bool:
        return self._session.connected

    async def start(self, sink: TelemetrySink) -> None:
        """Connect; `BrokerRefused` if the broker turns our credentials down.

        A broker still unreachable after a few seconds is not fatal: the
        gateway serves (every vehicle offline, 15301) and connects as soon as
        the broker is there.
        """
        self._sink = sink
        opening = self._session.open_in_background()
        done, _ = await asyncio.wait({opening}, timeout=START_GRACE_SECONDS)
        if opening in done:
            opening.result()
            return
        log.warning(
            "device link: %s is not reachable yet; vehicles are offline until it is",
            self._session.broker,
        )
        opening.add_done_callback(_log_late_refusal)

    async def stop(self) -> None:
        await self._session.close()
        self._sink = NullSink()

    async def send(self, iot_code: str, command: Command) -> None:
        if iot_code in self.refuse_sends_to:
            raise LinkError(f"cannot hand a command to {iot_code} (injected fault)")
        payload = command.model_copy(update={"reply_to": self.gateway_id}).model_dump_json(
            by_alias=True
        )
        if not self._session.publish(topic(iot_code, Topic.CMD), payload.encode(), QOS[Topic.CMD]):
            raise LinkError(f"not connected to {self._session.broker}")

    def acknowledge(self, iot_code: str, keys: list[str]) -> None:
        for start in range(0, len(keys), MAX_ACKED):
            ack = Ack(keys=keys[start : start + MAX_ACKED])
            payload = ack.model_dump_json().encode()
            self._session.publish(topic(iot_code, Topic.ACK), payload, QOS[Topic.ACK])

    def _received(self, topic_name: str, payload: bytes) -> Stored:
        levels = topic_name.split("/")
        if len(levels) < 4:
            return None
        iot_code, kind = levels[2], levels[3]
        dispatch = _DISPATCH.get(kind)
        if dispatch is None or (not payload and kind != Topic.PRESENCE.value):
            return None  # unknown kind, or a retained report being cleared
        control = kind in (Topic.REPLY.value, Topic.PRESENCE.value)
        if not self.guard.admit(iot_code, kind, topic_name, len(payload), control=control):
            return None
        try:
            return dispatch(self._sink, self.guard, iot_code, payload)
        except (ValidationError, ValueError) as err:
            self.guard.refuse(iot_code, kind, INVALID, f"{topic_name}: {_first_error(err)}")
            return None

    def _up(self) -> None:
        """Connected (subscriptions are on their way): after an outage, forget who was
        online, since the retained presence that follows is the truth now (a vehicle
        may have gone while we were away, and a restarted broker may not say so)."""
        self._lost = False
        if self._session.ups == 1:
            log.info("device link: connected to %s as %s", self._session.broker, self.gateway_id)
        else:
            self._sink.on_link_reset()
            log.info("device link: reconnected to %s", self._session.broker)

    def _down(self) -> None:
        """Log a loss once, however many attempts the reconnect takes."""
        if not self._lost:
            self._lost = True
            log.warning("device link: lost %s; reconnecting with back-off", self._session.broker)


def _first_error(err: Exception) -> str:
    """What was wrong, in one line: the first field's error, without the input echoed."""
    if isinstance(err, ValidationError):
        first = err.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "payload"
        return f"{where}: {first['msg']}"
    return str(err).splitlines()[0]


def _log_late_refusal(opening: asyncio.Task[None]) -> None:
    if not opening.cancelled() and opening.exception() is not None:
        log.error("device link: %s", opening.exception())
