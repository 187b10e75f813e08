"""One call over the vehicles named: checked first, sent a few at a time, then printed."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence

import click

from segway_gateway.cli.client import progress
from segway_gateway.cli.client.credentials import Credentials
from segway_gateway.cli.client.output import R, View, show
from segway_gateway.client.errors import ParameterError
from segway_gateway.client.operations import Operation


def run(
    credentials: Credentials,
    codes: Sequence[str],
    build: Callable[[str], Operation[R]],
    view: View[R],
    *,
    concurrency: int,
    show_progress: bool | None,
    as_json: bool,
) -> None:
    """Build every vehicle's request, so a bad iotCode or setting is refused (exit 2)
    before anything is sent; send them through `Client.for_each`; print one row per
    vehicle; exit 1 if any failed."""
    codes = list(dict.fromkeys(codes))
    try:
        operations = {code: build(code) for code in codes}
    except ParameterError as err:
        raise click.UsageError(str(err)) from None
    with credentials.connect() as api:
        wanted = progress.wanted(show_progress, len(codes), sys.stderr)
        bar = progress.ProgressBar(len(codes)) if wanted else None
        try:
            fleet = api.for_each(
                codes,
                lambda code: api.call(operations[code]),
                concurrency=concurrency,
                progress=bar,
            )
        finally:
            if bar is not None:
                bar.close()
    show(codes, fleet, view, as_json)
    if fleet.errors:
        raise click.ClickException(_summary(len(codes), fleet.errors))


def _summary(total: int, errors: Mapping[str, Exception]) -> str:
    if total == 1:
        ((code, err),) = errors.items()
        return f"{code}: {err}"
    return f"{len(errors)} of {total} vehicles failed"
