"""One call over many vehicles, a bounded number at a time, each outcome kept."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from segway_gateway.client.errors import SegwayError

T = TypeVar("T")

DEFAULT_CONCURRENCY = 16

Progress = Callable[[str, T | SegwayError], None]
"""Told of each vehicle as its call ends: its iotCode and its result or error."""


@dataclass
class FleetResult(Generic[T]):
    """Per vehicle, in the order given: its result, or the API error it ended with."""

    results: dict[str, T] = field(default_factory=dict)
    errors: dict[str, SegwayError] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def _keep(self, iot_code: str, outcome: T | SegwayError) -> None:
        if isinstance(outcome, SegwayError):
            self.errors[iot_code] = outcome
        else:
            self.results[iot_code] = outcome

    def _ordered(self, iot_codes: list[str]) -> FleetResult[T]:
        return FleetResult(
            {code: self.results[code] for code in iot_codes if code in self.results},
            {code: self.errors[code] for code in iot_codes if code in self.errors},
        )


def each(
    iot_codes: Iterable[str],
    call: Callable[[str], T],
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: Progress[T] | None = None,
) -> FleetResult[T]:
    """`call(iotCode)` for every vehicle on up to `concurrency` threads."""
    codes = _distinct(iot_codes)
    outcome: FleetResult[T] = FleetResult()
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency))
    try:
        futures = {pool.submit(_outcome, call, code): code for code in codes}
        for future in as_completed(futures):
            code, result = futures[future], future.result()
            outcome._keep(code, result)
            if progress is not None:
                progress(code, result)
    except BaseException:
        # Ctrl-C (or a failure that is not the API's): start no further call, as a
        # command over a fleet must stop where it is told to.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return outcome._ordered(codes)


async def each_async(
    iot_codes: Iterable[str],
    call: Callable[[str], Awaitable[T]],
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: Progress[T] | None = None,
) -> FleetResult[T]:
    """`await call(iotCode)` for every vehicle, up to `concurrency` at once."""
    codes = _distinct(iot_codes)
    outcome: FleetResult[T] = FleetResult()
    slots = asyncio.Semaphore(max(1, concurrency))

    async def one(code: str) -> None:
        async with slots:
            try:
                result: T | SegwayError = await call(code)
            except SegwayError as err:
                result = err
        outcome._keep(code, result)
        if progress is not None:
            progress(code, result)

    await asyncio.gather(*(one(code) for code in codes))
    return outcome._ordered(codes)


def _outcome(call: Callable[[str], T], iot_code: str) -> T | SegwayError:
    try:
        return call(iot_code)
    except SegwayError as err:
        return err


def _distinct(iot_codes: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(str(code) for code in iot_codes))
