"""The console's sessions: who is logged in, in a signed cookie.

The cookie holds who (a platform's code, or the admin), until when, and a fingerprint of
the credential that logged in (the platform's stored secret hash, or the admin token),
signed with a key derived from the gateway key: any instance on the database reads it,
nothing is stored, and nobody without the key can make one. A session ends when it
expires, and as soon as its credential changes or goes (a new secret, the platform
removed, another admin token): every request compares the fingerprint with the current
one. It is HttpOnly and SameSite=Strict; the console's forms are also refused unless
their Origin is the console's own (CSRF).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

import orjson

COOKIE = "segway_console"
LIFETIME_SECONDS = 8 * 3600
ADMIN = "admin"
PLATFORM = "platform"


@dataclass(frozen=True)
class Who:
    """A logged-in console user: a platform (sees what its API token sees) or the admin."""

    kind: str
    platform_code: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.kind == ADMIN


def _signing_key(gateway_key: bytes) -> bytes:
    return hmac.new(gateway_key, b"console-session", hashlib.sha256).digest()


@dataclass(frozen=True)
class Session:
    who: Who
    fingerprint: str


def fingerprint(gateway_key: bytes, credential: str) -> str:
    """What a session keeps of the credential it was opened with: enough to tell it has
    changed, nothing to recover it from."""
    digest = hmac.new(_signing_key(gateway_key), b"credential:" + credential.encode(), "sha256")
    return digest.hexdigest()[:32]


def make_cookie(gateway_key: bytes, session: Session, now: float) -> str:
    who = session.who
    body = orjson.dumps(
        {
            "k": who.kind,
            "p": who.platform_code,
            "f": session.fingerprint,
            "e": int(now) + LIFETIME_SECONDS,
        }
    )
    payload = base64.urlsafe_b64encode(body).decode().rstrip("=")
    signature = hmac.new(_signing_key(gateway_key), payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{signature}"


def read_cookie(gateway_key: bytes, cookie: str | None, now: float) -> Session | None:
    """The session the cookie holds, if it is one of ours and not expired; else None (its
    fingerprint is for the caller to compare with the credential's now)."""
    if not cookie or cookie.count(".") != 1:
        return None
    payload, signature = cookie.split(".")
    expected = hmac.new(_signing_key(gateway_key), payload.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        return None
    try:
        body = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        kind, platform_code, expires = body["k"], body["p"], int(body["e"])
        credential = str(body["f"])
    except (ValueError, KeyError, TypeError):
        return None
    if expires <= now or kind not in (ADMIN, PLATFORM):
        return None
    return Session(Who(kind, platform_code), credential)
