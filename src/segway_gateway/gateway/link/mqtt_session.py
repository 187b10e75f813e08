"""One MQTT connection that keeps itself up, with randomised reconnects (gmqtt underneath).

Both sides of the MQTT device link use it: the gateway's one connection and
each simulated vehicle's own. It subscribes again and says so (`on_up`) on
every connect, so a broker that restarted without its sessions loses nothing
but the time it was down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import unquote, urlsplit

import gmqtt
from gmqtt.mqtt.constants import MQTTv311

from segway_gateway.gateway.link.backoff import Backoff

log = logging.getLogger(__name__)
logging.getLogger("gmqtt").setLevel(logging.ERROR)
"""gmqtt logs every connection and warns on every failed reconnect: thousands of lines
for one broker restart of a simulated fleet. Our own messages say what matters."""

KEEPALIVE_SECONDS = 30
DEFAULT_PORT = 1883


class BrokerRefused(Exception):
    """The broker refused this client for good (bad user name or password, not allowed)."""


@dataclass(frozen=True)
class Broker:
    """Where a broker listens and who we are to it."""

    host: str
    port: int = DEFAULT_PORT
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> Broker:
        """`mqtt://[user[:password]@]host[:port]`; a ValueError says what is wrong."""
        parts = urlsplit(url)
        if parts.scheme != "mqtt" or not parts.hostname:
            raise ValueError(f"{url!r} is not an mqtt://host[:port] URL")
        try:
            port = parts.port or DEFAULT_PORT
        except ValueError as err:
            raise ValueError(f"{url!r} has a bad port") from err
        if parts.path not in ("", "/") or parts.query:
            raise ValueError(f"{url!r}: a broker URL has no path or query")
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
        return replace(self, username=username, password=password)

    def __str__(self) -> str:
        return f"mqtt://{self.host}:{self.port}"


MessageHandler = Callable[[str, bytes], None]
"""Called with the topic and the payload of every message received."""
Subscription = tuple[str, int]
"""A topic filter and the QoS to receive it with."""


class _JitteredClient(gmqtt.Client):  # type: ignore[misc]
    """gmqtt's client, waiting a fresh random back-off before each reconnect attempt."""

    backoff: Backoff

    async def reconnect(self, delay: bool = False) -> None:
        if delay:
            self.reconnect_delay = self.backoff.next_delay()
        await super().reconnect(delay)


class MqttSession:
    """An MQTT 3.1.1 connection, its subscriptions and its will, kept up until `close()`."""

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
    ) -> None:
        """`loud=False` keeps connection trouble at DEBUG (one vehicle among thousands)."""
        self.broker = broker
        self._subscriptions = subscriptions
        self._on_message = on_message
        self._on_up = on_up
        self._on_down = on_down
        self._backoff = backoff or Backoff()
        self._trouble_level = logging.WARNING if loud else logging.DEBUG
        self._opening: asyncio.Task[None] | None = None
        will_message = (
            gmqtt.Message(will[0], will[1], qos=1, retain=True) if will is not None else None
        )
        self._client = _JitteredClient(client_id, will_message=will_message)
        self._client.backoff = self._backoff
        if broker.username is not None:
            self._client.set_auth_credentials(broker.username, broker.password)
        self._client.on_connect = self._connected
        self._client.on_message = self._received
        self._client.on_disconnect = self._disconnected
        self._closed = False
        self.published = 0
        self.ups = 0
        """How many times the connection came up (the first connect counts)."""

    @property
    def connected(self) -> bool:
        return bool(self._client.is_connected)

    async def open(self) -> None:
        """Connect, retrying with back-off while the broker is unreachable.

        Raises `BrokerRefused` at once if the broker turns the credentials down.
        """
        while True:
            try:
                await self._client.connect(
                    self.broker.host,
                    self.broker.port,
                    keepalive=KEEPALIVE_SECONDS,
                    version=MQTTv311,
                )
                return
            except gmqtt.MQTTConnectError as err:
                raise BrokerRefused(f"{self.broker} refused {self.broker.username}: {err}") from err
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

    async def close(self, last_words: tuple[str, bytes] | None = None) -> None:
        """Publish `last_words` (retained) if connected, then disconnect for good."""
        self._closed = True
        if self._opening is not None and not self._opening.done():
            self._opening.cancel()
        if self._client.is_connected:
            if last_words is not None:
                self._client.publish(last_words[0], last_words[1], qos=1, retain=True)
            await self._client.disconnect()

    # gmqtt callbacks --------------------------------------------------------

    def _connected(self, client: Any, _flags: Any, _rc: Any, _properties: Any) -> None:
        self._backoff.reset()
        self.ups += 1
        for topic, qos in self._subscriptions:
            client.subscribe(topic, qos=qos)
        if self._on_up is not None:
            self._on_up()

    def _received(self, _client: Any, topic: str, payload: bytes, _qos: int, _props: Any) -> int:
        self._on_message(topic, payload)
        return 0

    def _disconnected(self, _client: Any, _packet: Any, _exc: Any = None) -> None:
        if self._on_down is not None and not self._closed:
            self._on_down()
