"""A command's lock state is dated by the vehicle's clock (its reply's `reportedAt`), so a
vehicle whose clock runs behind the gateway's has its reports after the command taken as
made after it."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import httpx

from segway_gateway.clock import system_clock
from segway_gateway.devicelink.mqtt_session import Broker
from segway_gateway.devicelink.mqtt_vehicle import MqttPort
from segway_gateway.gateway.crypto import load_key
from segway_gateway.sim.fleet import SimFleet
from tests.brokers import private_broker
from tests.conftest import PLATFORM, api_client
from tests.harness import DOC_SECRET, LOCK, STATUS, Seed, command_code, eventually, running

T = TypeVar("T")
VEHICLE = "869996000000001"
BEHIND_SECONDS = 300.0
"""How far the vehicle's clock runs behind the gateway's: more than the test waits, so
only the reply's time can make the vehicle's next status count."""


class MemoryFlash:
    """Nothing kept: the vehicle lives for one test."""

    async def load(self) -> dict[str, dict[str, Any]]:
        return {}

    async def save(self, states: Mapping[str, dict[str, Any]]) -> None:
        pass


class Vehicle:
    """A simulated vehicle over MQTT on its own event loop in a thread, on the real clock."""

    def __init__(self, broker_url: str, key: bytes) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._port = MqttPort(Broker.from_url(broker_url), key, system_clock)
        self.fleet = SimFleet(self._port, MemoryFlash(), system_clock, seed=3)
        self.run(self.fleet.start([VEHICLE]))

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    def unlock_by_hand(self) -> None:
        """The rider unlocks it with the Bluetooth key: its next status says so."""

        async def unlock() -> None:
            self.fleet.vehicle(VEHICLE).unlock()

        self.run(unlock())

    def close(self) -> None:
        async def close() -> None:
            await self.fleet.stop()
            await self._port.drain()

        self.run(close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()


@contextlib.contextmanager
def vehicle_on(broker_url: str, key: bytes) -> Iterator[Vehicle]:
    vehicle = Vehicle(broker_url, key)
    try:
        yield vehicle
    finally:
        vehicle.close()


def served_status(api: httpx.Client) -> dict[str, Any] | None:
    body = api.get(STATUS, params={"iotCode": VEHICLE}).json()
    data: dict[str, Any] | None = body["data"] if body["code"] == 0 else None
    return data


def test_a_status_made_after_a_lock_by_a_vehicle_whose_clock_is_behind_is_served(
    tmp_path: Path,
) -> None:
    """Locked through the API, then unlocked by the rider: the status the vehicle makes
    then is dated before the gateway's clock at the lock, yet after the lock's reply."""
    key = load_key(tmp_path / "gateway.key")
    seed = Seed(platforms={PLATFORM: DOC_SECRET}, vehicles={VEHICLE: (PLATFORM, True)})
    with (
        private_broker(tmp_path / "broker", key, [VEHICLE]) as broker,
        contextlib.contextmanager(running)(
            tmp_path, seed, broker=broker.url, simulate=False
        ) as gateway,
    ):
        gateway.clock.advance(BEHIND_SECONDS)
        with vehicle_on(broker.url, key) as vehicle, api_client(gateway.base_url) as api:
            eventually(lambda: served_status(api) is not None, "the vehicle's first status")
            assert command_code(api, LOCK, VEHICLE) == 0
            vehicle.unlock_by_hand()
            eventually(
                lambda: (served_status(api) or {}).get("locked") is False,
                "the status the vehicle made after the lock served",
                detail=lambda: f"served: {served_status(api)}",
            )
