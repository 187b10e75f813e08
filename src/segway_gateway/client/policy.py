"""What the SDK decides without I/O: where to connect, which token to use, when to retry."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from segway_gateway.client.errors import (
    AuthenticationError,
    ParameterError,
    SegwayError,
    ServerError,
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
    """The token in use: kept until shortly before it expires, dropped when refused."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._token: Token | None = None

    def usable(self) -> Token | None:
        token = self._token
        return token if token is not None and self._clock() < token.refresh_at else None

    def store(self, answer: TokenResponse, requested_at: float) -> Token:
        """Keep a new token; its lifetime counts from when it was asked for."""
        lifetime = max(answer.expires_in, 0)
        ahead = min(REFRESH_AHEAD, lifetime / 4)
        expires_at = requested_at + lifetime
        self._token = Token(answer.access_token, expires_at, expires_at - ahead)
        return self._token

    def discard(self, value: str) -> None:
        """The server refused this token (15101): use it no more. A token fetched
        meanwhile by another caller is kept, so concurrent refusals refresh once."""
        if self._token is not None and self._token.value == value:
            self._token = None


@dataclass(frozen=True)
class RetryPolicy:
    """How queries are repeated after a transport error, 15001 or 15302: up to
    `attempts` in all, waiting a random time up to `backoff`·2ⁿ (at most `cap`) s."""

    attempts: int = 3
    backoff: float = 0.25
    cap: float = 4.0

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
        if (
            isinstance(error, AuthenticationError)
            and error.code == Code.TOKEN_INVALID
            and token is not None
            and not self._token_refreshed
        ):
            self._token_refreshed = True
            self._tokens.discard(token.value)
            return 0.0
        self._failures += 1
        if self._failures >= self._policy.attempts or not _worth_repeating(error):
            raise error
        return self._policy.wait(self._failures - 1)


def _worth_repeating(error: SegwayError) -> bool:
    if isinstance(error, TransportError):
        return True
    if isinstance(error, ServerError) and error.code is None:
        return True  # an answer that is not the API's: a proxy or a restart in between
    return error.code in _WORTH_REPEATING
