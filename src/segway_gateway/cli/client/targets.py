"""Which vehicles a command is for: IOTCODE arguments and `--file` (one per line)."""

from __future__ import annotations

from typing import IO

import click

iot_codes_argument = click.argument("iot_codes", metavar="IOTCODE...", nargs=-1)
file_option = click.option(
    "--file",
    "code_file",
    type=click.File("r"),
    metavar="F",
    help="Also every iotCode in this file, one per line ('-': stdin); "
    "blank lines and # comments are ignored.",
)


def targets(iot_codes: tuple[str, ...], code_file: IO[str] | None) -> list[str]:
    """The vehicles named, arguments first; at least one (the iotCodes are checked later,
    with everything else the call sends)."""
    codes = list(iot_codes)
    if code_file is not None:
        try:
            codes.extend(read_codes(code_file))
        except UnicodeDecodeError as err:
            raise click.BadParameter(
                f"{code_file.name} is not UTF-8 text ({err.reason} at byte {err.start})",
                param_hint="--file",
            ) from None
    if not codes:
        raise click.UsageError("name at least one vehicle: IOTCODE... or --file F")
    return codes


def read_codes(lines: IO[str]) -> list[str]:
    """The iotCodes of a file: one a line, anything after a # is a comment."""
    return [code for line in lines if (code := line.split("#", 1)[0].strip())]
