"""Simulated people around the fleet (`serve --demo`): riders, the charging crew, passers-by."""

from __future__ import annotations

import random

from segway_gateway.sim.vehicle import SimVehicle

MEAN_WAIT_S = 10.0
"""A rider sets off this long, on average, after an unlock."""
MEAN_RIDE_S = 300.0
RECHARGE_BELOW_PERCENT = 15.0
"""The crew plugs in locked vehicles below this charge and unplugs them when full."""
MEAN_KNOCK_INTERVAL_S = 4 * 3600.0
"""Passers-by knock a parked vehicle this often, on average (a move or a fall)."""
MEAN_LYING_S = 600.0
"""A fallen vehicle is stood up again after this long, on average."""


def steer(vehicle: SimVehicle, seconds: float, rng: random.Random) -> None:
    """What people do to one vehicle during `seconds`."""
    state = vehicle.state
    if state.riding:
        if rng.random() < seconds / MEAN_RIDE_S:
            vehicle.stop_ride()
    elif not state.locked:
        if rng.random() < seconds / MEAN_WAIT_S:
            vehicle.start_ride()
    elif state.charging:
        if state.battery_percent >= 100:
            vehicle.unplug()
    elif state.battery_percent < RECHARGE_BELOW_PERCENT:
        vehicle.plug_in()
    if state.fallen:
        if rng.random() < seconds / MEAN_LYING_S:
            vehicle.stand_up()
    elif not vehicle.riding and rng.random() < seconds / MEAN_KNOCK_INTERVAL_S:
        vehicle.bump(rng.uniform(0.1, 2.5))
