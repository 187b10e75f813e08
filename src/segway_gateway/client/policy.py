"""What the SDK decides without I/O: where to connect, which token to use, when to retry."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from segway_gateway.client.errors import (
    AuthenticationError,
    ParameterError,
    SegwayError,
    TransportError,
)
from segway_gateway.contract.codes import Code
from segway_gateway.contract.models import TokenResponse
from segway_gateway.contract.regions import Region

REFRESH_AHEAD = 120.0
"""Seconds before expiry a token is replaced. The server hands back the same token
until its last 300 s (NOTES.md), so refreshing inside that window gets a new one."""


def base_url_for(client_id: str, base_url: str | None) -> str:
    """`base_url` as given, or the vendor's domain of the platform code's region."""
    if base_url:
        try:
            parts = urlsplit(base_url)
            usable = parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:
            usable = False
        if not usable:
            raise ParameterError(f"base_url {base_url[:80]!r} is not an http(s)://host URL")
        return base_url.rstrip("/")
    region = Region.of_platform(client_id)
    if region is None:
        letters = ", ".join(f"{r.letter} ({r.value})" for r in Region)
        raise ParameterError(
            f"no region for platform code {client_id[:64]!r}: its first letter is one of "
            f"{letters}; or pass base_url"
        )
    return region.base_url


@dataclass(frozen=True)
class Token:
    """An access token and when (on the SDK's monotonic clock) it stops being used."""

    value: str = field(repr=False)
    expires_at: float
    refresh_at: float


class TokenCache:
    """The token in use: kept until shortly before it expires, dropped when refused.

    Callers that wait while one of them fetches a token take its outcome, a failure
    included, instead of each trying again (`ticket`, then `fetched_since`). A
    refresh ahead of expiry that fails leaves the old token in use while it lasts.
    Safe to share between threads.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._token: Token | None = None
        self._fetches = 0
        self._failure: SegwayError | None = None
        self._guard = threading.Lock()

    def usable(self) -> Token | None:
        token = self._token
        return token if token is not None and self._clock() < token.refresh_at else None

    def ticket(self) -> int:
        """Taken before waiting for the right to fetch."""
        return self._fetches

    def fetched_since(self, ticket: int) -> Token | None:
        """After waiting: None to fetch now, or what the fetch that ended meanwhile gave:
        a token, or its failure raised (the old token while it lasts, if there is one)."""
        if self._fetches == ticket or self._failure is None:
            return None
        return self._still_valid(self._failure)

    def store(self, answer: TokenResponse, requested_at: float) -> Token:
        """Keep a new token; its lifetime counts from when it was asked for."""
        lifetime = max(answer.expires_in, 0)
        ahead = min(REFRESH_AHEAD, lifetime / 4)
        expires_at = requested_at + lifetime
        token = Token(answer.access_token, expires_at, expires_at - ahead)
        with self._guard:
            self._token, self._failure = token, None
            self._fetches += 1
        return token

    def failed(self, error: SegwayError) -> Token:
        """A fetch failed: the old token while it lasts, else `error` raised."""
        with self._guard:
            self._failure = error
            self._fetches += 1
        return self._still_valid(error)

    def discard(self, value: str) -> None:
        """The server refused this token (15101): use it no more. A token fetched
        meanwhile by another caller is kept, so concurrent refusals refresh once."""
        with self._guard:
            if self._token is not None and self._token.value == value:
                self._token = None

    def _still_valid(self, error: SegwayError) -> Token:
        token = self._token
        if token is not None and self._clock() < token.expires_at:
            return token
        raise error


@dataclass(frozen=True)
class RetryPolicy:
    """How queries are repeated after a transport error, 15001 or 15302: up to
    `attempts` in all, waiting a random time up to `backoff`·2ⁿ (at most `cap`) s."""

    attempts: int = 3
    backoff: float = 0.25
    cap: float = 4.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.backoff < 0 or self.cap < 0:
            raise ValueError("attempts is 1 or more; backoff and cap are 0 or more")

    def wait(self, retry_number: int) -> float:
        """Full jitter: callers that failed together do not come back together."""
        return random.uniform(0, min(self.cap, self.backoff * 2**retry_number))


NO_RETRY = RetryPolicy(attempts=1)

_WORTH_REPEATING = {Code.SERVER_ERROR, Code.DEVICE_TIMEOUT}


class Attempts:
    """One call's attempts: after each failure, whether and when to try again."""

    def __init__(self, policy: RetryPolicy, repeat: bool, tokens: TokenCache) -> None:
        self._policy = policy if repeat else NO_RETRY
        self._tokens = tokens
        self._failures = 0
        self._token_refreshed = False

    def after(self, error: SegwayError, token: Token | None) -> float:
        """Seconds to wait before the next attempt; raises `error` when there is none.

        A refused token (15101) is dropped and the call made once more with a fresh
        one, for commands too: a refused call did nothing.
        """
        if _token_refused(error) and token is not None and not self._token_refreshed:
            self._token_refreshed = True
            self._tokens.discard(token.value)
            return 0.0
        self._failures += 1
        if self._failures >= self._policy.attempts or not _worth_repeating(error):
            raise error
        return self._policy.wait(self._failures - 1)


def _token_refused(error: SegwayError) -> bool:
    """15101, or an HTTP 401 without the API's envelope (a proxy or gateway in front)."""
    return isinstance(error, AuthenticationError) and (
        error.code == Code.TOKEN_INVALID or (error.code is None and error.http_status == 401)
    )


def _worth_repeating(error: SegwayError) -> bool:
    """Failures another attempt may not meet: no answer, 15001, 15302, HTTP 5xx."""
    if isinstance(error, TransportError):
        return True
    if error.code is None:
        return (error.http_status or 0) >= 500
    return error.code in _WORTH_REPEATING
