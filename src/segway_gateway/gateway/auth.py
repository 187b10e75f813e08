"""OAuth client-credentials tokens and their verification on every API call.

The overlap rule (NOTES.md, "Tokens"): while the newest token of a platform
has more than 300 s left, a token request answers with that same token and
its remaining lifetime; within its last 300 s a request issues a new token,
and the old one stays valid until its own expiry.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections import OrderedDict
from dataclasses import dataclass

from segway_gateway.clock import Clock
from segway_gateway.contract.codes import Code
from segway_gateway.gateway import crypto
from segway_gateway.gateway.config import MAX_TOKEN_TTL, MIN_TOKEN_TTL
from segway_gateway.gateway.errors import ApiError
from segway_gateway.gateway.store.platforms import PlatformRepo
from segway_gateway.gateway.store.tokens import TokenRecord, TokenRepo

log = logging.getLogger(__name__)

OVERLAP_SECONDS = 300
_CACHE_SIZE = 100_000


class InvalidClient(Exception):
    """Unknown client id or wrong secret."""


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


class TokenService:
    def __init__(
        self,
        tokens: TokenRepo,
        platforms: PlatformRepo,
        key: bytes,
        clock: Clock,
        ttl: int,
    ) -> None:
        if not MIN_TOKEN_TTL <= ttl <= MAX_TOKEN_TTL:
            raise ValueError(f"token lifetime must be {MIN_TOKEN_TTL} to {MAX_TOKEN_TTL} seconds")
        self._tokens = tokens
        self._platforms = platforms
        self._key = key
        self._clock = clock
        self._ttl = ttl
        self._cache: OrderedDict[str, TokenRecord] = OrderedDict()
        self._verified: dict[tuple[str, str], bytes] = {}
        """(client id, stored hash) → keyed digest of the secret that matched it."""

    async def issue(self, client_id: str, client_secret: str) -> IssuedToken:
        platform = await self._platforms.get(client_id)
        if platform is None or not await self._secret_matches(
            client_id, client_secret, platform.secret_hash
        ):
            raise InvalidClient(client_id)
        now = int(self._clock())
        newest = await self._tokens.newest(client_id)
        if newest is not None and newest.expires_at - now > OVERLAP_SECONDS:
            token = crypto.derive_token(self._key, newest.token_id)
            if crypto.token_hash(token) == newest.token_hash:
                return IssuedToken(token, newest.expires_at - now)
            log.warning("gateway key changed: issuing a new token for %s", client_id)
        token_id = crypto.new_token_id()
        token = crypto.derive_token(self._key, token_id)
        record = TokenRecord(crypto.token_hash(token), token_id, client_id, now, now + self._ttl)
        await self._tokens.add(record)
        await self._tokens.prune(now)
        return IssuedToken(token, self._ttl)

    async def _secret_matches(self, client_id: str, secret: str, stored: str) -> bool:
        """PBKDF2 the first time; then a keyed digest in memory, compared in constant time."""
        digest = hmac.new(self._key, secret.encode(), hashlib.sha256).digest()
        known = self._verified.get((client_id, stored))
        if known is not None:
            return hmac.compare_digest(known, digest)
        if not await asyncio.to_thread(crypto.verify_secret, secret, stored):
            return False
        self._verified[(client_id, stored)] = digest
        return True

    async def authenticate(self, authorization: str | None) -> str:
        """The platform code a `bearer` header belongs to, or 15101.

        Tokens are looked up by their SHA-256 hash, so lookup time tells nothing
        about how much of a guessed token was right.
        """
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(Code.TOKEN_INVALID)
        digest = crypto.token_hash(token)
        record = self._cache.get(digest)
        if record is None:
            record = await self._tokens.find(digest)
            if record is None:
                raise ApiError(Code.TOKEN_INVALID)
            self._remember(digest, record)
        if record.expires_at <= self._clock():
            self._cache.pop(digest, None)
            raise ApiError(Code.TOKEN_INVALID, "token expired")
        return record.platform_code

    def retain_platforms(self, platform_codes: set[str]) -> None:
        """Forget cached tokens of platforms that no longer exist."""
        for digest, record in list(self._cache.items()):
            if record.platform_code not in platform_codes:
                del self._cache[digest]

    def _remember(self, digest: str, record: TokenRecord) -> None:
        self._cache[digest] = record
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
