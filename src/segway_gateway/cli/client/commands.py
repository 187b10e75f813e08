"""The vehicle commands, generated from one table: queries, controls and settings.

Each row names an SDK operation (`segway_gateway.client.operations`) whose keyword
arguments are the command's own options, spelled the same; the rest (IOTCODE...,
--file, --concurrency, --progress, --json, credentials, and --retry for whatever
moves the vehicle) every command shares, and `runner.run` does the work.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any

import click

from segway_gateway.cli.client import params, views
from segway_gateway.cli.client.credentials import Credentials, credential_options
from segway_gateway.cli.client.output import View
from segway_gateway.cli.client.runner import run
from segway_gateway.cli.client.targets import file_option, iot_codes_argument, targets
from segway_gateway.client import operations as ops
from segway_gateway.client.fleet import DEFAULT_CONCURRENCY
from segway_gateway.client.operations import Operation

Decorator = Callable[[Callable[..., None]], Callable[..., None]]


@dataclass(frozen=True)
class Call:
    """One vehicle command: its name, what it sends and shows, and its own options."""

    name: str
    help: str
    build: Callable[..., Operation[Any]]
    view: View[Any] = views.COMMAND
    options: Sequence[Decorator] = ()
    moves: bool = True
    """A control or setting (it takes --retry); False for queries."""


retry_option: Decorator = click.option(
    "--retry",
    is_flag=True,
    help="Let the SDK send the command again after a timeout (15302), a server error "
    "(15001) or a broken connection. Off by default: the first attempt may have reached "
    "the vehicle, and a repeated unlock can hand a bike to the wrong rider.",
)
fleet_options: Sequence[Decorator] = (
    iot_codes_argument,
    file_option,
    click.option(
        "--concurrency",
        default=DEFAULT_CONCURRENCY,
        show_default=True,
        type=click.IntRange(1, 256),
        help="Vehicles called at once.",
    ),
    click.option(
        "--progress/--no-progress",
        "show_progress",
        default=None,
        help="A progress bar on stderr [default: for several vehicles, on a terminal].",
    ),
    click.option("--json", "as_json", is_flag=True, help="One JSON object per vehicle per line."),
    credential_options,
)


def vehicle_command(call: Call) -> click.Command:
    """The click command for one row of the table."""

    def body(
        *,
        credentials: Credentials,
        iot_codes: tuple[str, ...],
        code_file: IO[str] | None,
        concurrency: int,
        show_progress: bool | None,
        as_json: bool,
        **options: Any,
    ) -> None:
        run(
            credentials,
            targets(iot_codes, code_file),
            functools.partial(call.build, **options),
            call.view,
            concurrency=concurrency,
            show_progress=show_progress,
            as_json=as_json,
        )

    decorators = [*call.options, *([retry_option] if call.moves else []), *fleet_options]
    command: Callable[..., None] = body
    for decorate in reversed(decorators):  # the first listed comes first, as if stacked
        command = decorate(command)
    return click.command(call.name, help=call.help)(command)


def _switch(name: str, what: str) -> Decorator:
    return click.option(
        name, type=params.ON_OFF, callback=params.on_off, help=f"Turn {what} on or off."
    )


def _on_off_argument() -> Decorator:
    return click.argument("on", type=params.ON_OFF, callback=params.on_off)


QUERIES = (
    Call("status", "The vehicles' latest status.", ops.status, views.STATUS, moves=False),
    Call(
        "location",
        "The vehicles' latest fix.",
        ops.location,
        views.LOCATION,
        [click.option("--realtime", is_flag=True, help="Ask each vehicle for a fresh fix.")],
        moves=False,
    ),
    Call("battery", "The vehicles' batteries.", ops.battery, views.BATTERY, moves=False),
    Call(
        "bluetooth-key",
        "The vehicles' bluetooth keys (asks each vehicle).",
        ops.bluetooth_key,
        views.BLUETOOTH_KEY,
        moves=False,
    ),
    Call(
        "version",
        "The vehicles' firmware versions (asks each vehicle; beyond the API document).",
        ops.version,
        views.VERSION,
        moves=False,
    ),
)
CONTROLS = (
    Call("unlock", "Unlock the vehicles.", ops.unlock),
    Call("lock", "Lock the vehicles (refused while riding or in a no-parking zone).", ops.lock),
    Call("find", "Make the vehicles sound, so a rider finds them.", ops.find),
    Call(
        "battery-cover",
        "Open the vehicles' battery covers.",
        ops.open_battery_cover,
        options=[
            click.option(
                "--legacy-path",
                is_flag=True,
                help="Send it to the older path /api/vehicle/control/battery/cover.",
            )
        ],
    ),
    Call(
        "light",
        "Turn the head and tail lights on or off (beyond the API document).",
        ops.set_lights,
        options=[_switch("--head", "the headlight"), _switch("--tail", "the tail light")],
    ),
    Call(
        "headlight",
        "Turn the headlight on or off (beyond the API document).",
        ops.headlight,
        options=[_on_off_argument()],
    ),
    Call(
        "power",
        "Power the vehicles on or off; powered off, they refuse to unlock (beyond the "
        "API document).",
        ops.power,
        options=[_on_off_argument()],
    ),
)


def _level(name: str, what: str) -> Decorator:
    return click.option(name, type=int, help=f"{what}, 1 to 3.")


def _interval(name: str, what: str) -> Decorator:
    return click.option(name, type=int, help=f"Seconds between {what} (10 to 65535).")


def _lamp(name: str, mode: str, required: bool = False) -> Decorator:
    return click.option(
        name,
        metavar="MODE:COLOR",
        callback=params.lamp_effect,
        required=required,
        help=f"The effect {mode}.",
    )


SETTINGS = (
    Call(
        "switch",
        "Set the alert sensitivity and the low-power alert threshold.",
        ops.set_switch,
        options=[
            _level("--alert-sensitivity", "How easily a moved vehicle raises the alarm"),
            click.option(
                "--low-power-value", type=int, help="Low-power alert below this %, 10 to 30."
            ),
        ],
    ),
    Call(
        "able-switch",
        "Turn features on or off (those not given stay as they are).",
        ops.set_able_switch,
        options=[
            _switch("--assisted-mode", "the assisted mode"),
            _switch("--kickstand-check", "the kickstand check"),
            _switch("--low-power-switch", "the low-power alert"),
        ],
    ),
    Call(
        "ambient",
        "Set the atmosphere lamp: brightness and an effect per riding mode, each "
        "MODE:COLOR (mode 1 off, 2 always on; color 1 to 7), e.g. --parking 2:3.",
        ops.set_ambient,
        options=[
            click.option("--bright", type=int, required=True, help="Brightness, 1 to 3."),
            _lamp("--parking", "when parked", required=True),
            _lamp("--cruise", "when cruising"),
            _lamp("--ready", "when ready to ride"),
            _lamp("--fault", "on a fault"),
        ],
    ),
    Call(
        "sound",
        "Turn sounds on or off, set the volume, switch single sounds.",
        ops.set_sound,
        options=[
            click.option("--on/--off", "enabled", default=None, help="All sounds on or off."),
            _level("--volume", "Volume"),
            click.option(
                "--sound",
                "sounds",
                metavar="NAME=on|off|keep",
                multiple=True,
                callback=params.sounds_by_name,
                help=f"One sound on, off or kept; repeatable. NAME: {', '.join(params.SOUNDS)}.",
            ),
        ],
    ),
    Call(
        "bluetooth-key",
        "Set the bluetooth key (exactly 8 ASCII letters or digits).",
        ops.set_bluetooth_key,
        options=[click.argument("key")],
    ),
    Call(
        "speed-mode",
        "Set the speed mode: 1 low, 2 medium, 3 high (beyond the API document).",
        ops.set_speed_mode,
        options=[click.argument("speed_mode", metavar="MODE", type=int)],
    ),
    Call(
        "speed-limits",
        "Set the speed limit of each speed mode, km/h 1 to 99, and whether the rider may "
        "switch speed mode with the button (beyond the API document).",
        ops.set_speed_limits,
        options=[
            click.option("--low", type=int, help="Limit of speed mode 1, km/h."),
            click.option("--medium", type=int, help="Limit of speed mode 2, km/h."),
            click.option("--high", type=int, help="Limit of speed mode 3, km/h."),
            _switch("--speed-mode-button", "switching speed mode with the button"),
        ],
    ),
    Call(
        "interval",
        "Set how often the vehicles report (at least one interval).",
        ops.set_interval,
        options=[
            _interval("--location-unlocked", "fixes while unlocked"),
            _interval("--location-locked", "fixes while locked"),
            _interval("--status-riding", "status reports while riding"),
            _interval("--status-not-riding", "status reports while unlocked, not riding"),
            _interval("--status-locked", "status reports while locked"),
        ],
    ),
)


@click.group("set")
def settings() -> None:
    """Change a setting of the vehicles; the vehicle confirms each one."""


for setting in SETTINGS:
    settings.add_command(vehicle_command(setting))

VEHICLE_COMMANDS = (*(vehicle_command(call) for call in (*QUERIES, *CONTROLS)), settings)
"""Every vehicle command, to be added to `segway-gateway`."""
