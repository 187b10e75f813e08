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
from segway_gateway.contract.models import PLATFORM_CODE
from segway_gateway.gateway import crypto
from segway_gateway.gateway.access import PlatformAccess, Suspended
from segway_gateway.gateway.config import MAX_TOKEN_TTL, MIN_TOKEN_TTL
from segway_gateway.gateway.errors import ApiError
from segway_gateway.gateway.store.platforms import PlatformRepo
from segway_gateway.gateway.store.tokens import TokenRecord, TokenRepo
from segway_gateway.gateway.throttle import LoginThrottle, run_suspect

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
        throttle: LoginThrottle | None = None,
        access: PlatformAccess | None = None,
    ) -> None:
        if not MIN_TOKEN_TTL <= ttl <= MAX_TOKEN_TTL:
            raise ValueError(f"token lifetime must be {MIN_TOKEN_TTL} to {MAX_TOKEN_TTL} seconds")
        self._tokens = tokens
        self._platforms = platforms
        self._key = key
        self._clock = clock
        self._ttl = ttl
        self.throttle = throttle
        """Counts failed token requests and refuses blocked ones; None: no throttling."""
        self._access = access
        """Tells suspended platforms, which get no token; None: none is."""
        self._cache: OrderedDict[str, TokenRecord] = OrderedDict()
        self._verified: dict[tuple[str, str], bytes] = {}
        """(client id, stored hash) → keyed digest of the secret that matched it."""

    async def issue(
        self, client_id: str, client_secret: str, source: str | None = None
    ) -> IssuedToken:
        """A token for the platform; InvalidClient, or Suspended once the secret is known
        right (a wrong one tells nothing of the platform). With a throttle and the request's
        `source` address, failures are counted and a blocked address or (address, client
        id) gets Throttled before anything is hashed (gateway/throttle.py)."""
        throttle = self.throttle if source is not None else None
        counted = client_id if PLATFORM_CODE.fullmatch(client_id) else None
        had_failures = False
        if throttle is not None and source is not None:
            had_failures = await throttle.check(source, counted)
        platform = None
        if counted is not None and "\x00" not in client_secret:
            platform = await self._platforms.get(client_id)
        if platform is None:
            if throttle is not None and source is not None:
                await throttle.failed(source, counted)
            raise InvalidClient(client_id)
        if not await self._secret_matches(
            client_id, client_secret, platform.secret_hash, source, had_failures
        ):
            raise InvalidClient(client_id)
        if self._access is not None and self._access.is_suspended(client_id):
            raise Suspended(client_id)
        return await self.token_for(client_id)

    async def token_for(self, client_id: str) -> IssuedToken:
        """A token for a platform the caller has already vouched for (the console acting for
        its logged-in user): the newest one while it has time left, else a new one."""
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

    async def _secret_matches(
        self, client_id: str, secret: str, stored: str, source: str | None, suspect: bool
    ) -> bool:
        """PBKDF2 the first time; then a keyed digest in memory, compared in constant time.
        With a throttle, a secret is counted as a failure before it is hashed and forgotten
        if it is right, so the attempt counted past the limit raises Throttled unhashed,
        however many instances hash at once; PBKDF2 runs for one request of an (address,
        client id) at a time on this instance (a request that waited its turn reads the
        counters again); a `suspect` pair (failures counted in its window) is hashed in a
        low-priority thread, and its failures are forgotten when its secret is right."""
        digest = hmac.new(self._key, secret.encode(), hashlib.sha256).digest()
        known = self._verified.get((client_id, stored))
        throttle = self.throttle if source is not None else None
        if throttle is None or source is None:
            if known is not None:
                return hmac.compare_digest(known, digest)
            return await self._hash_matches(client_id, secret, stored, digest, suspect=False)
        if known is not None:
            return await self._compare_counted(known, digest, client_id, source, suspect)
        async with throttle.turn(source, client_id) as waited:
            if waited:  # the counters may have moved, or the request before was right
                suspect = await throttle.check(source, client_id)
                known = self._verified.get((client_id, stored))
            if known is not None:
                return await self._compare_counted(known, digest, client_id, source, suspect)
            await throttle.attempt(source, client_id)
            matches = await self._hash_matches(client_id, secret, stored, digest, suspect)
            if matches:
                await throttle.succeeded(source, client_id)
            else:
                await throttle.failed(source, client_id, attempted=True)
            return matches

    async def _compare_counted(
        self, known: bytes, digest: bytes, client_id: str, source: str, suspect: bool
    ) -> bool:
        """Compare with the digest of the right secret; count a mismatch, and forget the
        pair's failures on a match if it had some."""
        assert self.throttle is not None
        if hmac.compare_digest(known, digest):
            if suspect:
                await self.throttle.succeeded(source, client_id)
            return True
        await self.throttle.failed(source, client_id)
        return False

    async def _hash_matches(
        self, client_id: str, secret: str, stored: str, digest: bytes, suspect: bool
    ) -> bool:
        if suspect:
            matches = await run_suspect(crypto.verify_secret, secret, stored)
        else:
            matches = await asyncio.to_thread(crypto.verify_secret, secret, stored)
        if not matches:
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
