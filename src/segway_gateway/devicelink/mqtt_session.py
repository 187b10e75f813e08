"""One MQTT connection that keeps itself up, with randomised reconnects (gmqtt underneath).

Both sides of the MQTT device link use it: the gateway's one connection and
each simulated vehicle's own. It subscribes again and says so (`on_up`) on
every connect, so a broker that restarted without its sessions loses nothing
but the time it was down.

A `durable` session (the gateway's, when its client id is stable) speaks MQTT 5: the
broker keeps it `session_expiry` seconds after a disconnect, queueing what comes for
it, and a QoS 1 message is acknowledged only once what the handler returned has
completed (the gateway's ingest: once the report is written), so a message the
process took but did not store comes again when it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any
from urllib.parse import unquote, urlsplit

import gmqtt
from gmqtt.mqtt.constants import MQTTv50, MQTTv311

from segway_gateway.devicelink.backoff import Backoff
from segway_gateway.devicelink.base import Stored

log = logging.getLogger(__name__)
logging.getLogger("gmqtt").setLevel(logging.ERROR)
"""gmqtt logs every connection and warns on every failed reconnect: thousands of lines
for one broker restart of a simulated fleet. Our own messages say what matters."""

KEEPALIVE_SECONDS = 30
DEFAULT_PORT = 1883
_RETRYABLE = {3, 136, 137, 159}
"""CONNACK codes that say "not now" (unavailable, busy, rate) rather than "not you"."""
_PUBACK = struct.Struct("!BBH")
"""A PUBACK with reason Success: type, remaining length 2, packet id (MQTT 5 allows
leaving out a Success reason code)."""
RECEIVE_MAXIMUM = 20_000
"""QoS 1 messages a durable session lets the broker have in flight, unacknowledged, to
it (MQTT 5 Receive Maximum): enough for 20,000 messages per 50 ms group commit, and the
bound on what an instance holds while its database is away (the broker keeps the rest)."""


class BrokerRefused(Exception):
    """The broker refused this client for good (bad user name or password, not allowed)."""


@dataclass(frozen=True)
class Broker:
    """Where a broker listens and who we are to it."""

    host: str
    port: int = DEFAULT_PORT
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str) -> Broker:
        """`mqtt://[user[:password]@]host[:port]`; a ValueError says what is wrong
        (quoting the URL without its password)."""
        parts = urlsplit(url)
        shown = repr(url.replace(f":{parts.password}@", ":***@") if parts.password else url)
        if parts.scheme != "mqtt" or not parts.hostname:
            raise ValueError(f"{shown} is not an mqtt://host[:port] URL")
        try:
            port = parts.port or DEFAULT_PORT
        except ValueError as err:
            raise ValueError(f"{shown} has a bad port") from err
        if parts.path not in ("", "/") or parts.query:
            raise ValueError(f"{shown}: a broker URL has no path or query")
        return cls(
            parts.hostname,
            port,
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
        )

    def login(self, username: str, password: str) -> Broker:
        """This broker with these credentials, unless the URL named a user already."""
        if self.username is not None:
            return self
        return self.as_user(username, password)

    def as_user(self, username: str, password: str) -> Broker:
        """This broker with these credentials, whatever the URL said (a vehicle is
        always itself, never the account of the URL)."""
        return replace(self, username=username, password=password)

    def __str__(self) -> str:
        return f"mqtt://{self.host}:{self.port}"


MessageHandler = Callable[[str, bytes], Stored]
"""Called with the topic and the payload of every message received; on a durable
session, what it returns is awaited before the message is acknowledged."""
Subscription = tuple[str, int]
"""A topic filter and the QoS to receive it with."""


class _JitteredClient(gmqtt.Client):  # type: ignore[misc]
    """gmqtt's client with our reconnect policy (gmqtt 0.8's own waits a fixed delay,
    checks for a disconnect only before it, and reconnects with a persistent session).

    Before each attempt it waits a fresh random back-off, then gives up if the session
    was closed meanwhile. Every connection, first or not, asks for a clean session
    unless the session is durable: a persistent session whose client id is never used
    again would only be a ghost on the broker.
    """

    backoff: Backoff
    closing: asyncio.Event
    clean_start: bool

    async def reconnect(self, delay: bool = False) -> None:
        if delay:  # a close ends the wait at once, and the attempt with it
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.closing.wait(), self.backoff.next_delay())
        if not self.closing.is_set():
            await super().reconnect(delay=False)

    async def _create_connection(
        self, host: str, port: int, ssl: Any, clean_session: bool, keepalive: int
    ) -> Any:
        return await super()._create_connection(host, port, ssl, self.clean_start, keepalive)


class MqttSession:
    """An MQTT connection, its subscriptions and its will, kept up until `close()`."""

    def __init__(
        self,
        broker: Broker,
        client_id: str,
        on_message: MessageHandler,
        subscriptions: list[Subscription],
        *,
        will: tuple[str, bytes] | None = None,
        on_up: Callable[[], None] | None = None,
        on_down: Callable[[], None] | None = None,
        backoff: Backoff | None = None,
        loud: bool = True,
        session_expiry: int | None = None,
        catch_up: list[Subscription] | None = None,
    ) -> None:
        """`loud=False` keeps connection trouble at DEBUG (one vehicle among thousands).

        `session_expiry` (seconds; 0 ends the session with the connection) makes the
        session durable: MQTT 5, acknowledgements after the handler's work.
        `catch_up` filters are subscribed and at once unsubscribed on every connect, for
        the retained messages they bring (a shared subscription brings none).
        """
        self.broker = broker
        self._subscriptions = subscriptions
        self._catch_up = catch_up or []
        self._durable = session_expiry is not None
        self._pubacks: list[bytes] = []
        self._on_message = on_message
        self._on_up = on_up
        self._on_down = on_down
        self._backoff = backoff or Backoff()
        self._trouble_level = logging.WARNING if loud else logging.DEBUG
        self._opening: asyncio.Task[None] | None = None
        will_message = (
            gmqtt.Message(will[0], will[1], qos=1, retain=True) if will is not None else None
        )
        if session_expiry is None:
            self._client = _JitteredClient(client_id, will_message=will_message)
        else:
            self._client = _JitteredClient(
                client_id,
                will_message=will_message,
                session_expiry_interval=session_expiry,
                receive_maximum=RECEIVE_MAXIMUM,
            )
            # gmqtt acknowledges as a message comes (or, optimistic_acknowledgement=False,
            # runs on_message as a task per message and acknowledges when it returns);
            # this acknowledges when the handler's future completes instead
            self._client._package_handler._handle_qos_1_publish_packet = self._received_qos_1
        self._client.on_message = self._received
        self._client.clean_start = not session_expiry
        self._client.backoff = self._backoff
        self._client.closing = asyncio.Event()
        if broker.username is not None:
            self._client.set_auth_credentials(broker.username, broker.password)
        self._client.on_connect = self._connected
        self._client.on_disconnect = self._disconnected
        self._closed = False
        self.published = 0
        self.ups = 0
        """How many times the connection came up (the first connect counts)."""

    @property
    def connected(self) -> bool:
        return bool(self._client.is_connected)

    async def open(self) -> None:
        """Connect, retrying with back-off while the broker is unreachable or busy.

        Raises `BrokerRefused` at once if the broker turns the credentials down.
        """
        while True:
            try:
                await self._client.connect(
                    self.broker.host,
                    self.broker.port,
                    keepalive=KEEPALIVE_SECONDS,
                    version=MQTTv50 if self._durable else MQTTv311,
                )
                return
            except gmqtt.MQTTConnectError as err:
                await self._client.disconnect()  # gmqtt would retry on its own schedule
                if getattr(err, "_code", None) not in _RETRYABLE:
                    who = self.broker.username
                    raise BrokerRefused(f"{self.broker} refused {who}: {err}") from err
                delay = self._backoff.next_delay()
                log.log(self._trouble_level, "%s is busy (%s); retrying", self.broker, err)
                await asyncio.sleep(delay)
            except OSError as err:
                delay = self._backoff.next_delay()
                level = self._trouble_level if self._backoff.attempts == 1 else logging.DEBUG
                log.log(level, "cannot reach %s (%s); retrying with back-off", self.broker, err)
                await asyncio.sleep(delay)

    def open_in_background(self) -> asyncio.Task[None]:
        """`open()` as a task (its exception, if any, is `BrokerRefused`)."""
        self._opening = asyncio.create_task(self.open(), name=f"mqtt-open-{self.broker}")
        return self._opening

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> bool:
        """Hand a message to the connection; False if it is down (nothing is queued)."""
        if not self._client.is_connected:
            return False
        self._client.publish(topic, payload, qos=qos, retain=retain)
        self.published += 1
        return True

    async def delivered(self) -> None:
        """Return once the broker has acknowledged every QoS 1 message published so far."""
        await self._client._persistent_storage.wait_empty()

    async def close(self, last_words: tuple[str, bytes] | None = None) -> None:
        """Publish `last_words` (retained) if connected, acknowledge what is stored,
        then disconnect for good, also while a connection or a reconnect is under way.
        What is not stored yet stays unacknowledged: a durable session gets it again."""
        self._closed = True
        self._client.closing.set()
        if self._opening is not None and not self._opening.done():
            self._opening.cancel()
        if self._client.is_connected and last_words is not None:
            self._client.publish(last_words[0], last_words[1], qos=1, retain=True)
        await asyncio.sleep(0)  # the acknowledgements of what was stored just now go first
        with contextlib.suppress(Exception):  # a half-open connection may fail to say bye
            await self._client.disconnect()

    # gmqtt callbacks --------------------------------------------------------

    def _connected(self, client: Any, _flags: Any, _rc: Any, _properties: Any) -> None:
        if self._closed:  # came up while closing: leave again
            asyncio.get_running_loop().create_task(self._client.disconnect())
            return
        self._backoff.reset()
        self.ups += 1
        client.subscriptions.clear()  # gmqtt keeps adding what each connect subscribes
        if self._subscriptions:
            client.subscribe(
                [gmqtt.Subscription(topic, qos=qos) for topic, qos in self._subscriptions]
            )
        if self._catch_up:  # the broker queues the retained messages before it unsubscribes
            client.subscribe([gmqtt.Subscription(topic, qos=qos) for topic, qos in self._catch_up])
            client.unsubscribe([topic for topic, _ in self._catch_up])
        if self._on_up is not None:
            self._on_up()

    def _received(self, _client: Any, topic: str, payload: bytes, _qos: int, _props: Any) -> int:
        self._on_message(topic, payload)
        return 0

    def _received_qos_1(self, mid: int, payload: bytes, topic: str, _props: Any) -> None:
        """A QoS 1 message on a durable session: acknowledged once the handler's work is
        done, on the connection it came by (after a reconnect the broker sends it again)."""
        work = self._on_message(topic, payload)
        if work is None:
            self._acknowledge(mid, self._client._connection)
        else:
            work.add_done_callback(partial(self._stored, mid, self._client._connection))

    def _stored(self, mid: int, connection: Any, work: asyncio.Future[None]) -> None:
        if not work.cancelled():
            self._acknowledge(mid, connection)

    def _acknowledge(self, mid: int, connection: Any) -> None:
        """Queue a PUBACK; the PUBACKs of one loop iteration (a batch just committed)
        leave in one write instead of a system call each."""
        if connection is not self._client._connection:
            return
        if not self._pubacks:
            asyncio.get_running_loop().call_soon(self._send_pubacks, connection)
        self._pubacks.append(_PUBACK.pack(0x40, 2, mid))

    def _send_pubacks(self, connection: Any) -> None:
        pubacks, self._pubacks = self._pubacks, []
        if connection is self._client._connection:
            connection.send_package(b"".join(pubacks))

    def _disconnected(self, _client: Any, _packet: Any, _exc: Any = None) -> None:
        if self._on_down is not None and not self._closed:
            self._on_down()
