"""A simulated fleet as its own process, connected to the gateway through an MQTT broker.

What `segway-gateway sim run` does: every vehicle opens its own session with
its own credentials, exactly as real IoT boxes would, and keeps its state in
the flash it is given (the CLI gives it the `sim_vehicles` table of a database).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable, Collection

from segway_gateway.clock import system_clock
from segway_gateway.devicelink.mqtt_session import Broker
from segway_gateway.devicelink.mqtt_vehicle import MqttPort
from segway_gateway.sim.city import SHENZHEN, City
from segway_gateway.sim.fleet import Flash, SimFleet

log = logging.getLogger(__name__)

PROGRESS_SECONDS = 5.0
CONNECT_WAIT_SECONDS = 300.0
REPORT_SECONDS = 30.0
RIDERS_SET_OFF_WITHIN = 10.0
POLL_SECONDS = 0.2


async def run_fleet(
    broker: Broker,
    key: bytes,
    flash: Flash,
    iot_codes: Collection[str],
    stop: asyncio.Event,
    *,
    speedup: float = 1.0,
    seed: int = 0,
    autopilot: bool = False,
    riding: bool = False,
    city: City = SHENZHEN,
    report_every: float = REPORT_SECONDS,
    report: Callable[[str], None] = print,
) -> None:
    """Run until `stop` is set, then save the fleet and say goodbye on every session.

    `riding` unlocks every vehicle and sets a rider on it. Every `report_every`
    seconds a line says whether the tick loop keeps its schedule.
    """
    port = MqttPort(broker, key)
    fleet = SimFleet(
        port, flash, system_clock, seed=seed, speedup=speedup, autopilot=autopilot, city=city
    )
    started = time.monotonic()
    await fleet.start(iot_codes)
    report(f"{len(iot_codes)} simulated vehicles connecting to {broker}")
    if riding:
        fleet.ride_all(within=RIDERS_SET_OFF_WITHIN)
        report(f"riders set off on every vehicle within {RIDERS_SET_OFF_WITHIN:.0f} s")
    try:
        await _report_connections(port, len(iot_codes), started, stop, report)
        gc.freeze()  # the fleet lives as long as the process: spare it full collections
        await _report_schedule(fleet, port, report_every, stop, report)
    finally:
        report("stopping: saving the fleet and closing its sessions")
        await fleet.stop()
        await port.drain()


async def _report_schedule(
    fleet: SimFleet,
    port: MqttPort,
    every: float,
    stop: asyncio.Event,
    report: Callable[[str], None],
) -> None:
    """Until `stop`: the tick loop's figures and the publish rate, every `every` seconds."""
    fleet.schedule.report()  # start counting from here, after the connection phase
    published, since = port.published(), time.monotonic()
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
        now, total = time.monotonic(), port.published()
        rate = (total - published) / (now - since)
        online = port.connected_count()
        report(
            f"schedule: {fleet.schedule.report()}; {rate:.0f} messages/s published;"
            f" {online} vehicles online"
        )
        published, since = total, now


async def _report_connections(
    port: MqttPort,
    total: int,
    started: float,
    stop: asyncio.Event,
    report: Callable[[str], None],
) -> None:
    """Say how many vehicles are connected every few seconds until all are (or refused),
    or CONNECT_WAIT_SECONDS passed (the stragglers go on trying in the background)."""
    next_report = time.monotonic()
    while not stop.is_set():
        if time.monotonic() - started > CONNECT_WAIT_SECONDS:
            report(f"{port.connected_count()} of {total} vehicles online; the rest keep trying")
            return
        connected, refused = port.connected_count(), len(port.refused)
        if connected + refused >= total:
            seconds = time.monotonic() - started
            report(f"{connected} of {total} vehicles online after {seconds:.1f} s")
            if refused:
                report(f"{refused} refused by the broker (not in its password file?)")
            return
        if time.monotonic() >= next_report:
            report(f"{connected} of {total} vehicles online")
            next_report += PROGRESS_SECONDS
        await asyncio.sleep(POLL_SECONDS)
