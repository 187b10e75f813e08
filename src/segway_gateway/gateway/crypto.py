"""Secrets at rest: client secrets as PBKDF2 hashes, tokens as SHA-256 hashes.

A token is `HMAC(gateway key, token id)`; the store keeps the id and the
token's hash, never the token. Only a holder of the gateway key can turn an
id back into its token, which is how a token request within the overlap rule
answers with the same token again, also after a restart.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

PBKDF2_ITERATIONS = 600_000
"""OWASP's 2023 figure for PBKDF2-HMAC-SHA256."""
KEY_ENV = "SEGWAY_GATEWAY_KEY"


def hash_secret(secret: str, iterations: int = PBKDF2_ITERATIONS) -> str:
    """A salted PBKDF2-HMAC-SHA256 hash of a client secret, self-describing."""
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, iterations)
    return "$".join(["pbkdf2_sha256", str(iterations), _b64(salt), _b64(digest)])


def verify_secret(secret: str, stored: str) -> bool:
    """True if `secret` matches the stored hash (constant-time compare). CPU-heavy."""
    try:
        scheme, iterations, salt, digest = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        candidate = hashlib.pbkdf2_hmac("sha256", secret.encode(), _unb64(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(candidate, _unb64(digest))


def new_token_id() -> str:
    """128 random bits naming one token."""
    return secrets.token_hex(16)


def derive_token(key: bytes, token_id: str) -> str:
    """The opaque token for an id, shaped like the document's example (8-4-4-4-12 hex)."""
    h = hmac.new(key, token_id.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def token_hash(token: str) -> str:
    """The hash under which a token is stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


def load_key(path: Path) -> bytes:
    """The gateway key: env `SEGWAY_GATEWAY_KEY`, else a file made on first use (mode 0600)."""
    from_env = os.environ.get(KEY_ENV)
    if from_env:
        return hashlib.sha256(from_env.encode()).digest()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)
