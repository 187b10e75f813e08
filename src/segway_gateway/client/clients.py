"""`Client` and `AsyncClient`: twins that differ only in `await`.

What to send and how to read the answer is in `operations`; tokens and retries
are decided in `policy`. These classes move requests over HTTP with httpx and
translate its errors at the boundary.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

import httpx

from segway_gateway.client import operations as ops
from segway_gateway.client.errors import SegwayError, TransportError
from segway_gateway.client.fleet import DEFAULT_CONCURRENCY, FleetResult, Progress, each, each_async
from segway_gateway.client.operations import Operation
from segway_gateway.client.policy import Attempts, RetryPolicy, Token, TokenCache, base_url_for
from segway_gateway.contract import paths
from segway_gateway.contract.envelope import Envelope

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_TIMEOUT = 15.0
"""Seconds per request: a command waits for the vehicle's reply (the gateway: 5 s)."""


class _Base:
    """Configuration both twins share; nothing here does I/O."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        base_url: str | None,
        retry: RetryPolicy,
        owns_http: bool,
    ) -> None:
        self.client_id = client_id
        self._secret = client_secret
        self.base_url = base_url_for(client_id, base_url)
        self.retry = retry
        self._owns_http = owns_http
        self._tokens = TokenCache(time.monotonic)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(client_id={self.client_id!r}, base_url={self.base_url!r})"

    def _token_request(self) -> dict[str, Any]:
        """`httpx` arguments of a token request."""
        return {
            "url": f"{self.base_url}{paths.TOKEN}",
            "data": ops.token_form(self.client_id, self._secret),
        }

    def _took_token(self, response: httpx.Response, asked: float) -> Token:
        """Keep the token a token request answered, or its failure (raised unless the
        old token still lasts)."""
        try:
            answer = ops.read_token(response.status_code, response.content)
        except SegwayError as err:
            return self._tokens.failed(err)
        return self._tokens.store(answer, asked)

    def _request(self, operation: Operation[T], token: Token) -> dict[str, Any]:
        """`httpx` arguments of an operation's request."""
        return {
            "method": operation.method,
            "url": f"{self.base_url}{operation.path}",
            "params": operation.params,
            "json": operation.body,
            "headers": {"Authorization": f"bearer {token.value}"},
        }


def _blocking(build: Callable[P, Operation[T]]) -> Callable[Concatenate[Client, P], T]:
    """A `Client` method that builds the operation and sends it."""

    @functools.wraps(build)
    def method(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self.call(build(*args, **kwargs))

    return method


def _awaitable(
    build: Callable[P, Operation[T]],
) -> Callable[Concatenate[AsyncClient, P], Coroutine[Any, Any, T]]:
    """An `AsyncClient` method that builds the operation and sends it."""

    @functools.wraps(build)
    async def method(self: AsyncClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.call(build(*args, **kwargs))

    return method


class Client(_Base):
    """The API over HTTP, blocking. Thread-safe; use it as a context manager.

    >>> with Client("A20081", secret, base_url="http://127.0.0.1:8080") as api:
    ...     api.status("861477038719116").locked
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        base_url: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 (frozen)
        http: httpx.Client | None = None,
    ) -> None:
        super().__init__(client_id, client_secret, base_url, retry, owns_http=http is None)
        self._http = http or httpx.Client(timeout=timeout)
        self._token_lock = threading.Lock()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP client, unless it was passed in (then it is the caller's)."""
        if self._owns_http:
            self._http.close()

    def token(self) -> Token:
        """The token in use, fetched (once, whoever else is asking) when it is due."""
        token = self._tokens.usable()
        if token is None:
            ticket = self._tokens.ticket()
            with self._token_lock:
                token = (
                    self._tokens.usable()
                    or self._tokens.fetched_since(ticket)
                    or self._fetch_token()
                )
        return token

    def _fetch_token(self) -> Token:
        asked = time.monotonic()
        try:
            response = self._http.post(**self._token_request())
        except httpx.HTTPError as err:
            return self._tokens.failed(_transport(err))
        return self._took_token(response, asked)

    def call(self, operation: Operation[T]) -> T:
        """Send one operation (retried when it is a query, or a command asked to be)."""
        attempts = Attempts(self.retry, operation.repeat, self._tokens)
        while True:
            token = None
            try:
                token = self.token()
                return operation.read(self._send(operation, token))
            except SegwayError as err:
                time.sleep(attempts.after(err, token))

    def _send(self, operation: Operation[T], token: Token) -> Envelope:
        try:
            response = self._http.request(**self._request(operation, token))
        except httpx.HTTPError as err:
            raise _transport(err) from err
        return ops.read_envelope(response.status_code, response.content)

    def for_each(
        self,
        iot_codes: Iterable[str],
        call: Callable[[str], T],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: Progress[T] | None = None,
    ) -> FleetResult[T]:
        """`call(iotCode)` over many vehicles, e.g. `api.for_each(codes, api.status)`."""
        return each(iot_codes, call, concurrency, progress)

    # The API document's calls, each built and checked in `operations`.
    status = _blocking(ops.status)
    location = _blocking(ops.location)
    battery = _blocking(ops.battery)
    bluetooth_key = _blocking(ops.bluetooth_key)
    version = _blocking(ops.version)
    unlock = _blocking(ops.unlock)
    lock = _blocking(ops.lock)
    open_battery_cover = _blocking(ops.open_battery_cover)
    find = _blocking(ops.find)
    sound = _blocking(ops.sound)
    set_switch = _blocking(ops.set_switch)
    set_able_switch = _blocking(ops.set_able_switch)
    set_ambient = _blocking(ops.set_ambient)
    set_sound = _blocking(ops.set_sound)
    set_bluetooth_key = _blocking(ops.set_bluetooth_key)
    set_interval = _blocking(ops.set_interval)
    set_speed_mode = _blocking(ops.set_speed_mode)
    set_speed_limits = _blocking(ops.set_speed_limits)
    set_lights = _blocking(ops.set_lights)
    headlight = _blocking(ops.headlight)
    power = _blocking(ops.power)


class AsyncClient(_Base):
    """The API over HTTP, for asyncio; use it as an async context manager.

    >>> async with AsyncClient("A20081", secret, base_url="http://127.0.0.1:8080") as api:
    ...     (await api.status("861477038719116")).locked
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        base_url: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 (frozen)
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(client_id, client_secret, base_url, retry, owns_http=http is None)
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self._token_lock = asyncio.Lock()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client, unless it was passed in (then it is the caller's)."""
        if self._owns_http:
            await self._http.aclose()

    async def token(self) -> Token:
        """The token in use, fetched (once, whoever else is asking) when it is due."""
        token = self._tokens.usable()
        if token is None:
            ticket = self._tokens.ticket()
            async with self._token_lock:
                token = (
                    self._tokens.usable()
                    or self._tokens.fetched_since(ticket)
                    or await self._fetch_token()
                )
        return token

    async def _fetch_token(self) -> Token:
        asked = time.monotonic()
        try:
            response = await self._http.post(**self._token_request())
        except httpx.HTTPError as err:
            return self._tokens.failed(_transport(err))
        return self._took_token(response, asked)

    async def call(self, operation: Operation[T]) -> T:
        """Send one operation (retried when it is a query, or a command asked to be)."""
        attempts = Attempts(self.retry, operation.repeat, self._tokens)
        while True:
            token = None
            try:
                token = await self.token()
                return operation.read(await self._send(operation, token))
            except SegwayError as err:
                await asyncio.sleep(attempts.after(err, token))

    async def _send(self, operation: Operation[T], token: Token) -> Envelope:
        try:
            response = await self._http.request(**self._request(operation, token))
        except httpx.HTTPError as err:
            raise _transport(err) from err
        return ops.read_envelope(response.status_code, response.content)

    async def for_each(
        self,
        iot_codes: Iterable[str],
        call: Callable[[str], Awaitable[T]],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: Progress[T] | None = None,
    ) -> FleetResult[T]:
        """`await call(iotCode)` over many vehicles: `await api.for_each(codes, api.status)`."""
        return await each_async(iot_codes, call, concurrency, progress)

    # The API document's calls, each built and checked in `operations`.
    status = _awaitable(ops.status)
    location = _awaitable(ops.location)
    battery = _awaitable(ops.battery)
    bluetooth_key = _awaitable(ops.bluetooth_key)
    version = _awaitable(ops.version)
    unlock = _awaitable(ops.unlock)
    lock = _awaitable(ops.lock)
    open_battery_cover = _awaitable(ops.open_battery_cover)
    find = _awaitable(ops.find)
    sound = _awaitable(ops.sound)
    set_switch = _awaitable(ops.set_switch)
    set_able_switch = _awaitable(ops.set_able_switch)
    set_ambient = _awaitable(ops.set_ambient)
    set_sound = _awaitable(ops.set_sound)
    set_bluetooth_key = _awaitable(ops.set_bluetooth_key)
    set_interval = _awaitable(ops.set_interval)
    set_speed_mode = _awaitable(ops.set_speed_mode)
    set_speed_limits = _awaitable(ops.set_speed_limits)
    set_lights = _awaitable(ops.set_lights)
    headlight = _awaitable(ops.headlight)
    power = _awaitable(ops.power)


def _transport(err: httpx.HTTPError) -> TransportError:
    where = f" ({err.request.method} {err.request.url.path})" if _has_request(err) else ""
    return TransportError(f"{type(err).__name__}: {err or 'no detail'}{where}")


def _has_request(err: httpx.HTTPError) -> bool:
    try:
        err.request  # noqa: B018 (raises when the error has no request)
    except RuntimeError:
        return False
    return True
