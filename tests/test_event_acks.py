"""Events, and status reports that change the lock state, survive a gateway that is away:
a vehicle keeps each until a gateway has stored it and said so on the vehicle's `ack`
topic, and sends it again meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from segway_gateway.clock import JumpClock
from segway_gateway.contract.device import DeviceEvent, DeviceStatus
from segway_gateway.contract.pushes import AlertPush, PushEvent, StatusPush
from segway_gateway.devicelink.mqtt_session import Broker
from segway_gateway.devicelink.mqtt_vehicle import RESEND_SECONDS, MqttDeviceConnection, MqttPort
from segway_gateway.gateway.crypto import load_key
from tests import test_mqtt_link as link_tests
from tests.brokers import PrivateBroker, private_broker
from tests.harness import Seed, eventually, running
from tests.test_pushes import receiving, seed_with_pushes

T = TypeVar("T")
VEHICLE = "869995000000001"
NOTHING = Seed(platforms={}, vehicles={})
ALERT = DeviceEvent(kind="alert", code=3, status=0, status_utc_time=1_790_000_000)


class Vehicle:
    """One vehicle on its own event loop in a thread, on a clock the test moves."""

    def __init__(self, broker: PrivateBroker, key: bytes) -> None:
        self.clock = JumpClock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._port = MqttPort(Broker.from_url(broker.url), key, self.clock)
        self.connection: MqttDeviceConnection = self.run(self._connect())

    async def _connect(self) -> MqttDeviceConnection:
        return self._port.connect(VEHICLE, lambda _command: None)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    def call(self, action: Any) -> Any:
        async def run() -> Any:
            return action()

        return self.run(run())

    def close(self) -> None:
        async def close() -> None:
            self.connection.close()
            await self._port.drain()

        self.run(close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()


@contextlib.contextmanager
def vehicle_on(broker: PrivateBroker, key: bytes) -> Iterator[Vehicle]:
    vehicle = Vehicle(broker, key)
    try:
        eventually(lambda: vehicle.connection.session.connected, "the vehicle connected")
        yield vehicle
    finally:
        vehicle.close()


@dataclass
class Scene:
    """A vehicle on a private broker, its platform pushing to a receiver; no gateway yet."""

    tmp_path: Path
    broker: PrivateBroker
    vehicle: Vehicle
    pushed: list[PushEvent]

    def unacknowledged(self) -> int:
        return int(self.vehicle.call(lambda: self.vehicle.connection.unacknowledged))

    def gateway_takes_it_over(self, pushed: Callable[[PushEvent], bool], what: str) -> None:
        """Start a gateway, let the vehicle's next resend come, wait for the push and for
        the gateway's acknowledgement; then stop the gateway."""
        with contextlib.contextmanager(running)(self.tmp_path, NOTHING, broker=self.broker.url):
            self.vehicle.clock.advance(RESEND_SECONDS)
            eventually(lambda: any(pushed(p) for p in self.pushed), what)
            eventually(lambda: self.unacknowledged() == 0, "the gateway's acknowledgement")


@contextlib.contextmanager
def scene(tmp_path: Path) -> Iterator[Scene]:
    taken: list[PushEvent] = []

    async def take(push: PushEvent) -> None:
        taken.append(push)

    key = load_key(tmp_path / "gateway.key")
    with (
        receiving(take) as url,
        private_broker(tmp_path / "broker", key, [VEHICLE]) as broker,
        vehicle_on(broker, key) as vehicle,
    ):
        seed_with_pushes(tmp_path, url, [VEHICLE])
        yield Scene(tmp_path, broker, vehicle, taken)


def is_alert(push: PushEvent) -> bool:
    return isinstance(push, AlertPush)


def test_an_event_raised_while_no_gateway_runs_is_pushed_once_one_starts(tmp_path: Path) -> None:
    """The broker drops the event (nobody subscribes); the vehicle sends it again at its
    next resend, the gateway stores it, pushes it once and acknowledges it."""
    with scene(tmp_path) as it:
        it.vehicle.call(lambda: it.vehicle.connection.publish_event(ALERT))
        assert it.unacknowledged() == 1
        it.gateway_takes_it_over(is_alert, "the alert push")
        alerts = [p for p in it.pushed if isinstance(p, AlertPush)]
        assert [(a.code, a.alert_status) for a in alerts] == [(3, 0)]


def test_an_event_is_kept_until_acknowledged_and_sent_again_on_reconnect(tmp_path: Path) -> None:
    """A broker restart between the event and any gateway: the vehicle still holds it,
    sends it when it is back, and the gateway that arrives later pushes it once."""
    with scene(tmp_path) as it:
        it.vehicle.call(lambda: it.vehicle.connection.publish_event(ALERT))
        it.broker.stop()
        it.broker.start()
        eventually(lambda: it.vehicle.connection.session.ups >= 2, "the vehicle reconnected")
        assert it.unacknowledged() == 1
        it.gateway_takes_it_over(is_alert, "the alert push")
        assert len([p for p in it.pushed if is_alert(p)]) == 1


def test_a_status_that_changes_the_lock_state_is_kept_until_stored_and_others_are_not(
    tmp_path: Path,
) -> None:
    """A status sent with `ack` (the simulated vehicles set it when the lock state
    changes) is kept and sent again until a gateway has stored it; a plain one is not."""
    plain = DeviceStatus.model_validate(link_tests.STATUS_REPORT)
    unlocked = plain.model_copy(update={"locked": False, "ack": True, "reported_at": 1})
    with scene(tmp_path) as it:
        it.vehicle.call(lambda: it.vehicle.connection.publish_status(plain))
        assert it.unacknowledged() == 0
        it.vehicle.call(lambda: it.vehicle.connection.publish_status(unlocked))  # nobody hears
        assert it.unacknowledged() == 1

        def unlock(push: PushEvent) -> bool:
            return isinstance(push, StatusPush) and not push.locked

        it.gateway_takes_it_over(unlock, "the status push of the unlock")
