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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx
import uvicorn
from sqlalchemy import select

from segway_gateway.clock import JumpClock
from segway_gateway.contract.codes import Code
from segway_gateway.contract.device import DeviceEvent
from segway_gateway.gateway.app import create_app
from segway_gateway.gateway.config import GatewayConfig
from segway_gateway.gateway.crypto import hash_secret
from segway_gateway.gateway.runtime import Gateway
from segway_gateway.gateway.store.db import Database
from segway_gateway.gateway.store.platforms import Platform
from segway_gateway.gateway.store.tables import vehicles
from segway_gateway.gateway.store.vehicles import Vehicle, VehicleState
from segway_gateway.sim.faults import Fault
from segway_gateway.sim.vehicle import SimVehicle

T = TypeVar("T")

DOC_SECRET = "e2651be5-12d3-48f3-ba6c-bc2b04a447b6"
WAIT = 60.0
"""Seconds a test waits for something to happen before it fails."""
POLL = 0.05
"""Seconds between two looks at something a test waits for."""

STATUS = "/api/v2/vehicle/query/current/status"
LOCATION = "/api/v2/vehicle/query/current/location"
UNLOCK = "/api/v2/vehicle/control/unlock"
LOCK = "/api/v2/vehicle/control/lock"
ENVELOPE_KEYS = {"code", "msg", "data", "t", "opId"}


# Waiting -------------------------------------------------------------------


def eventually(
    condition: Callable[[], bool],
    what: str,
    timeout: float = WAIT,
    detail: Callable[[], str] | None = None,
) -> None:
    """Poll `condition` until it holds; fail naming `what` (and `detail()`, say a log)
    after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        _check(deadline, what, timeout, detail)
        time.sleep(POLL)


async def eventually_async(
    condition: Callable[[], bool],
    what: str,
    timeout: float = WAIT,  # noqa: ASYNC109 (the same arguments as `eventually`)
    detail: Callable[[], str] | None = None,
) -> None:
    """`eventually` inside a coroutine: the event loop runs on while it waits."""
    deadline = time.monotonic() + timeout
    while not condition():
        _check(deadline, what, timeout, detail)
        await asyncio.sleep(POLL)


def _check(deadline: float, what: str, timeout: float, detail: Callable[[], str] | None) -> None:
    if time.monotonic() >= deadline:
        more = f":\n{detail()}" if detail is not None else ""
        raise AssertionError(f"{what} did not happen within {timeout} s{more}")


# Reading answers -----------------------------------------------------------


def code_of(response: httpx.Response) -> int:
    """The result code of an API answer, checked to be one: HTTP 200, JSON, the whole
    envelope, and the document's `msg` for its code (a success says "Success", or
    "success" on the queries NOTES.md lists; test_conformance holds each to its own)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json", response.headers
    body = response.json()
    assert set(body) >= ENVELOPE_KEYS, body
    code = Code(body["code"])
    expected = {code.message} if code else {"Success", "success"}
    assert body["msg"] in expected, body
    return int(code)


def command_code(api: httpx.Client, path: str, iot_code: str) -> int:
    """POST a command for one vehicle (`{"iotCode": …}`); the answer's result code."""
    return code_of(api.post(path, json={"iotCode": iot_code}))


# Servers in a thread ---------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThreadServer:
    """An ASGI app served by uvicorn on a free loopback port, in a thread of its own
    with its own event loop."""

    def __init__(self, app: Any, log_level: str = "warning") -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level=log_level)
        )
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def thread_id(self) -> int | None:
        """The server's thread: what its log records carry as `thread`."""
        return self._thread.ident

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._server.serve()

    def start(self) -> None:
        self._thread.start()
        eventually(
            lambda: self._server.started or not self._thread.is_alive(), "the server starting"
        )
        if not self._server.started:
            raise RuntimeError("the server did not start")

    def stop(self) -> None:
        """Ask uvicorn to shut down; it finishes the requests under way first."""
        self._server.should_exit = True
        self._thread.join(timeout=30)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the server's event loop and return its result."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)


class Startable(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


S = TypeVar("S", bound=Startable)


def started(server: S) -> Iterator[S]:
    """`server`, started, until the generator ends; stopped then, whatever happened."""
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def serving_in_thread(app: Any, log_level: str = "warning") -> Iterator[ThreadServer]:
    """`app` served in a thread while the block runs; its base URL is `.base_url`."""
    yield from started(ThreadServer(app, log_level))


# The gateway -----------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    """Platforms (code → secret) and vehicles (iotCode → platform, active) to start with."""

    platforms: dict[str, str]
    vehicles: dict[str, tuple[str, bool]]


async def seed_database(url: str, seed: Seed) -> None:
    async with Database(url) as db:
        for code, secret in seed.platforms.items():
            await db.platforms.add(Platform(code, hash_secret(secret), None, 0))
        for iot_code, (platform, active) in seed.vehicles.items():
            await db.vehicles.add(Vehicle(iot_code, platform, active, 0))


class RunningGateway:
    """A started gateway and what a test needs to reach it."""

    def __init__(self, tmp: Path, seed: Seed, db_url: str | None = None, **config: Any) -> None:
        """On `db_url` (default: SQLite in `tmp`), with `seed` added to it."""
        url = db_url or f"sqlite:///{tmp / 'gateway.db'}"
        asyncio.run(seed_database(url, seed))
        self.clock = JumpClock()
        config.setdefault("key_file", tmp / "gateway.key")
        self.config = GatewayConfig(db_url=url, **config)
        self.app = create_app(self.config, self.clock)
        self._server = ThreadServer(self.app)
        self.port = self._server.port
        self.base_url = self._server.base_url
        self.thread_id = lambda: self._server.thread_id

    def start(self) -> None:
        self._server.start()
        if self.gateway.sim is not None:
            eventually(self._first_reports_stored, "the simulated fleet's first reports stored")

    def stop(self) -> None:
        self._server.stop()

    def _first_reports_stored(self) -> bool:
        """Every vehicle online has a status in the store. The simulated vehicles report as
        they connect, at the start, and the store writes their reports a moment later: a
        test that queried one at once got 15301 "never reported" (test_sdk's first test,
        every time when its module ran first)."""

        async def unreported() -> list[str]:
            query = select(vehicles.c.iot_code).where(vehicles.c.status_at.is_(None))
            async with self.gateway.db.engine.connect() as conn:
                return list((await conn.execute(query)).scalars())

        fleet = self.gateway.fleet
        online = (fleet.entry(iot_code) for iot_code in self.run(unreported()))
        return not any(entry is not None and entry.online for entry in online)

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
        return self._server.run(coroutine)

    def stored(self, iot_code: str) -> VehicleState:
        """What the gateway's store holds of a vehicle (what every query answers from)."""
        state = self.run(self.gateway.db.vehicles.state(iot_code))
        assert state is not None, f"{iot_code} is not registered"
        return state

    def record_events(self) -> list[tuple[str, DeviceEvent]]:
        """From now on, every event the fleet service takes, in order, as (iotCode, event)."""
        fleet, taken = self.gateway.fleet, []
        on_event = fleet.on_event

        def recording(iot_code: str, event: DeviceEvent) -> None:
            taken.append((iot_code, event))
            on_event(iot_code, event)

        self.call(lambda: setattr(fleet, "on_event", recording))
        return taken

    def sim_vehicle(self, iot_code: str) -> SimVehicle:
        """The simulated vehicle (read it on the server's loop, with `call`, where it moves)."""
        sim = self.gateway.sim
        assert sim is not None, "this gateway simulates no fleet"
        return sim.vehicle(iot_code)

    def sim_settings(self, iot_code: str) -> dict[str, Any]:
        """The settings a simulated vehicle holds (what its commands changed)."""
        settings: dict[str, Any] = self.sim_vehicle(iot_code).state.settings
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
    """For a fixture (`yield from`) or a `for` block: a gateway seeded with `seed`, on
    `config`, started, and stopped at the end."""
    yield from started(RunningGateway(tmp, seed, **config))
