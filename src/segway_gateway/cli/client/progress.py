"""A progress bar on stderr for fleet calls, so stdout stays the table or the JSON."""

from __future__ import annotations

import sys
from typing import TextIO

from segway_gateway.client.errors import SegwayError

WIDTH = 30


def wanted(asked: bool | None, vehicles: int, stream: TextIO) -> bool:
    """`--progress`/`--no-progress`, or by default: several vehicles and a terminal."""
    return asked if asked is not None else vehicles > 1 and stream.isatty()


class ProgressBar:
    """`[#####-----]  12/40  1 failed`, redrawn in place as each vehicle's call ends.

    Given to `Client.for_each` as its `progress`; it is told of each vehicle on the
    calling thread, so it needs no lock.
    """

    def __init__(self, total: int, stream: TextIO = sys.stderr) -> None:
        self._total = total
        self._stream = stream
        self._done = 0
        self._failed = 0
        self._draw()

    def __call__(self, iot_code: str, outcome: object) -> None:
        self._done += 1
        self._failed += isinstance(outcome, SegwayError)
        self._draw()

    def close(self) -> None:
        self._stream.write("\n")
        self._stream.flush()

    def _draw(self) -> None:
        filled = WIDTH * self._done // max(self._total, 1)
        bar = "#" * filled + "-" * (WIDTH - filled)
        failed = f"  {self._failed} failed" if self._failed else ""
        self._stream.write(f"\r[{bar}]  {self._done}/{self._total}{failed}")
        self._stream.flush()
