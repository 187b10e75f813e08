"""Option values of the settings: on|off, a lamp effect MODE:COLOR, sounds NAME=on|off|keep.

Click callbacks rather than `click.ParamType` subclasses: those became generic
only in recent click, and this works with any click >= 8.1.
"""

from __future__ import annotations

import click
from pydantic import ValidationError

from segway_gateway.contract.models import LampEffect, SoundMask

ON_OFF = click.Choice(["on", "off"])
SOUNDS = tuple(SoundMask.model_fields)
"""The single sounds the sound setting can switch, by the SDK's snake_case names."""
_STATES = {"on": True, "off": False, "keep": None}


def on_off(_ctx: click.Context, _param: click.Parameter, value: str | None) -> bool | None:
    """`on` or `off` as True or False; None when not given (no change)."""
    return None if value is None else value == "on"


def lamp_effect(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> LampEffect | None:
    """`MODE:COLOR`, e.g. `2:3`, checked by the contract's model."""
    if value is None:
        return None
    mode, _, color = value.partition(":")
    if not (mode.isdigit() and color.isdigit()):
        raise click.BadParameter(f"{value!r}: use MODE:COLOR, e.g. 2:3")
    try:
        return LampEffect(mode=int(mode), color=int(color))
    except ValidationError as err:
        problem = err.errors()[0]
        raise click.BadParameter(f"{value!r}: {problem['loc'][0]}: {problem['msg']}") from None


def sounds_by_name(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> dict[str, bool | None] | None:
    """Repeated `NAME=on|off|keep` as the SDK's `sounds` (None: none given)."""
    sounds: dict[str, bool | None] = {}
    for value in values:
        name, _, state = value.partition("=")
        if name not in SOUNDS:
            raise click.BadParameter(f"{name!r} is not a sound; one of {', '.join(SOUNDS)}")
        if state not in _STATES:
            raise click.BadParameter(f"{value!r}: use {name}=on, {name}=off or {name}=keep")
        sounds[name] = _STATES[state]
    return sounds or None
