"""A real gateway on loopback for tests: uvicorn in a thread, SQLite in a temp dir.

Tests talk to it over HTTP only; `call()` runs a function on the server's
event loop, which is how a test injects a fault or starts a ride.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import uvicorn

from segway_gateway.clock import JumpClock
from segway_gateway.gateway.app import create_app
from segway_gateway.gateway.config import GatewayConfig
from segway_gateway.gateway.crypto import hash_secret
from segway_gateway.gateway.runtime import Gateway
from segway_gateway.gateway.store.db import Database
from segway_gateway.gateway.store.platforms import Platform
from segway_gateway.gateway.store.vehicles import Vehicle
from segway_gateway.sim.faults import Fault

T = TypeVar("T")

DOC_SECRET = "e2651be5-12d3-48f3-ba6c-bc2b04a447b6"
WAIT = 60.0
"""Seconds a test waits for something to happen before it fails."""


def eventually(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(0.2)


@dataclass(frozen=True)
class Seed:
    """Platforms (code → secret) and vehicles (iotCode → platform, active) to start with."""

    platforms: dict[str, str]
    vehicles: dict[str, tuple[str, bool]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def seed_database(url: str, seed: Seed) -> None:
    async with Database(url) as db:
        for code, secret in seed.platforms.items():
            await db.platforms.add(Platform(code, hash_secret(secret), None, 0))
        for iot_code, (platform, active) in seed.vehicles.items():
            await db.vehicles.add(Vehicle(iot_code, platform, active, 0))


class RunningGateway:
    """A started gateway and what a test needs to reach it."""

    def __init__(self, tmp: Path, seed: Seed, **config: Any) -> None:
        url = f"sqlite:///{tmp / 'gateway.db'}"
        asyncio.run(seed_database(url, seed))
        self.clock = JumpClock()
        self.config = GatewayConfig(db_url=url, key_file=tmp / "gateway.key", **config)
        self.app = create_app(self.config, self.clock)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._server.serve()

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("gateway did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)

    @property
    def gateway(self) -> Gateway:
        gateway: Gateway = self.app.state.gateway
        return gateway

    def call(self, func: Callable[[], T]) -> T:
        """Run `func` on the server's event loop and return its result."""

        async def run() -> T:
            return func()

        return self.run(run())

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the server's event loop and return its result."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    def settle(self, seconds: float = 0.05) -> None:
        """Let messages already published on the device link be delivered."""
        time.sleep(seconds)

    def sim_settings(self, iot_code: str) -> dict[str, Any]:
        """The settings a simulated vehicle holds (what its commands changed)."""
        assert self.gateway.sim is not None
        settings: dict[str, Any] = self.gateway.sim.vehicle(iot_code).state.settings
        return settings

    def faults(self) -> Iterator[Callable[[str, Fault], None]]:
        """For a fixture: inject faults into simulated vehicles; cleared when it ends."""
        faults = self.gateway.faults
        assert faults is not None
        touched: list[str] = []

        def inject(iot_code: str, kind: Fault) -> None:
            touched.append(iot_code)
            self.call(lambda: faults.inject(iot_code, kind))

        yield inject
        for iot_code in touched:
            self.call(lambda code=iot_code: faults.clear(code))

    def break_once(self, method: str) -> None:
        """The fleet service's `method` fails once (the gateway answers 15001), then works."""
        fleet = self.gateway.fleet
        original = getattr(fleet, method)

        async def broken(*args: Any) -> Any:
            setattr(fleet, method, original)
            raise RuntimeError("injected failure")

        self.call(lambda: setattr(fleet, method, broken))


def running(tmp: Path, seed: Seed, **config: Any) -> Iterator[RunningGateway]:
    server = RunningGateway(tmp, seed, **config)
    server.start()
    try:
        yield server
    finally:
        server.stop()
