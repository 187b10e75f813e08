"""The seam between the fleet service and a transport (in-process memory, MQTT).

Gateway side: `DeviceLink` hands commands to vehicles and feeds everything
vehicles publish into a `TelemetrySink`. Vehicle side: `DevicePort.connect`
gives one vehicle a `DeviceConnection` to publish on and delivers its commands.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from segway_gateway.contract.device import (
    Command,
    DeviceEvent,
    DeviceLocation,
    DeviceStatus,
    Reply,
)


class LinkError(Exception):
    """A command could not be handed to the device link (15303)."""


Stored = asyncio.Future[None] | None
"""What a sink gives back for a report: a future completed once the report is durable
(or refused for good), after which the link may acknowledge it to the broker; None
when there is nothing to wait for."""


class TelemetrySink(Protocol):
    """Receives what vehicles publish."""

    def on_presence(self, iot_code: str, online: bool) -> None: ...
    def on_link_reset(self) -> None:
        """The link came back from an outage: every vehicle is offline until its
        presence (retained, so it follows at once) says otherwise."""
        ...

    def on_status(self, iot_code: str, status: DeviceStatus) -> Stored: ...
    def on_location(self, iot_code: str, location: DeviceLocation) -> Stored: ...
    def on_event(self, iot_code: str, event: DeviceEvent) -> Stored: ...
    def on_reply(self, iot_code: str, reply: Reply) -> None: ...


class DeviceLink(Protocol):
    """The gateway's side of a transport."""

    refuse_sends_to: set[str]
    """Fault injection: commands to these vehicles fail to be handed over (15303)."""

    @property
    def connected(self) -> bool:
        """Whether commands can be handed over now (an MQTT link may be reconnecting)."""
        ...

    async def start(self, sink: TelemetrySink) -> None: ...
    async def stop(self) -> None: ...
    async def send(self, iot_code: str, command: Command) -> None:
        """Hand a command over for delivery; raises `LinkError` if that is impossible."""
        ...

    def acknowledge(self, iot_code: str, keys: list[str]) -> None:
        """Tell the vehicle these messages are stored (best effort: an acknowledgement
        that is lost makes the vehicle send them again, and they are stored once)."""
        ...


CommandHandler = Callable[[Command], None]


class DeviceConnection(Protocol):
    """One vehicle's live session: what it publishes goes to the gateway."""

    def publish_status(self, status: DeviceStatus) -> None: ...
    def publish_location(self, location: DeviceLocation) -> None: ...
    def publish_event(self, event: DeviceEvent) -> None: ...
    def publish_reply(self, reply: Reply) -> None: ...
    def close(self) -> None:
        """End the session; the gateway sees the vehicle offline."""
        ...


class DevicePort(Protocol):
    """The vehicles' side of a transport."""

    def connect(self, iot_code: str, on_command: CommandHandler) -> DeviceConnection: ...
    async def drain(self) -> None:
        """Wait until the sessions being closed have said goodbye."""
        ...
