"""The in-process device link: vehicles and gateway share one event loop.

Messages cross it as the protocol's model objects, delivered on the next
loop iteration (never re-entrantly), as a broker would deliver them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from segway_gateway.contract.device import (
    Command,
    DeviceEvent,
    DeviceLocation,
    DeviceStatus,
    Reply,
)
from segway_gateway.devicelink.base import CommandHandler, LinkError, Stored, TelemetrySink


class NullSink:
    """Where telemetry goes before the gateway starts and after it stops: nowhere."""

    def on_presence(self, iot_code: str, online: bool) -> None:
        pass

    def on_link_reset(self) -> None:
        pass

    def on_status(self, iot_code: str, status: DeviceStatus) -> Stored:
        return None

    def on_location(self, iot_code: str, location: DeviceLocation) -> Stored:
        return None

    def on_event(self, iot_code: str, event: DeviceEvent) -> Stored:
        return None

    def on_reply(self, iot_code: str, reply: Reply) -> None:
        pass


class MemoryConnection:
    """A vehicle's session on the memory link."""

    def __init__(self, link: MemoryLink, iot_code: str, on_command: CommandHandler) -> None:
        self._link = link
        self.iot_code = iot_code
        self.on_command = on_command
        self.open = True

    def publish_status(self, status: DeviceStatus) -> None:
        self._link.deliver(lambda sink: sink.on_status(self.iot_code, status), self)

    def publish_location(self, location: DeviceLocation) -> None:
        self._link.deliver(lambda sink: sink.on_location(self.iot_code, location), self)

    def publish_event(self, event: DeviceEvent) -> None:
        self._link.deliver(lambda sink: sink.on_event(self.iot_code, event), self)

    def publish_reply(self, reply: Reply) -> None:
        self._link.deliver(lambda sink: sink.on_reply(self.iot_code, reply), self)

    def close(self) -> None:
        if self.open:
            self.open = False
            self._link.disconnect(self)


class MemoryLink:
    """Both sides of the in-process link: a `DeviceLink` and a `DevicePort`."""

    def __init__(self) -> None:
        self._sink: TelemetrySink = NullSink()
        self._sessions: dict[str, MemoryConnection] = {}
        self.refuse_sends_to: set[str] = set()
        """Fault injection: commands to these vehicles fail to be handed over (15303)."""

    @property
    def connected(self) -> bool:
        return True

    async def start(self, sink: TelemetrySink) -> None:
        self._sink = sink
        for iot_code in self._sessions:
            sink.on_presence(iot_code, True)

    async def stop(self) -> None:
        self._sink = NullSink()

    async def send(self, iot_code: str, command: Command) -> None:
        session = self._sessions.get(iot_code)
        if session is None or iot_code in self.refuse_sends_to:
            raise LinkError(f"cannot hand a command to {iot_code}")
        asyncio.get_running_loop().call_soon(session.on_command, command)

    def acknowledge(self, iot_code: str, keys: list[str]) -> None:
        """Nothing to do: in process, a message is handed over by a call, not over a
        network that can lose it, and vehicle and gateway live and die together."""

    def connect(self, iot_code: str, on_command: CommandHandler) -> MemoryConnection:
        previous = self._sessions.get(iot_code)
        if previous is not None:
            previous.open = False
        session = MemoryConnection(self, iot_code, on_command)
        self._sessions[iot_code] = session
        self._sink.on_presence(iot_code, True)
        return session

    async def drain(self) -> None:
        """Sessions close at once here: nothing to wait for."""

    def disconnect(self, session: MemoryConnection) -> None:
        if self._sessions.get(session.iot_code) is session:
            del self._sessions[session.iot_code]
            self._sink.on_presence(session.iot_code, False)

    def deliver(
        self, message: Callable[[TelemetrySink], object], session: MemoryConnection
    ) -> None:
        if session.open:
            asyncio.get_running_loop().call_soon(lambda: message(self._sink))
