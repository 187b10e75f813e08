"""Client secrets kept recoverable, sealed with the gateway key, for signing pushes.

The push signature of the API document is an MD5 over the pushed fields and
the platform's plain `client_secret`, so the gateway must be able to recover
each secret; a hash (what token requests are checked against) cannot give it
back. The sealed copy is AES-256-GCM under a key derived from the gateway
key, with the platform code as associated data: a sealed secret copied to
another platform's row does not open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = "v1"
_NONCE_BYTES = 12


class SealBroken(Exception):
    """A sealed secret that does not open: another key, another platform, or tampering."""


def _sealing_key(gateway_key: bytes) -> bytes:
    return hmac.new(gateway_key, b"segway-gateway secret sealing v1", hashlib.sha256).digest()


def seal(gateway_key: bytes, platform_code: str, secret: str) -> str:
    """`secret` encrypted and authenticated for this platform, as printable text."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = AESGCM(_sealing_key(gateway_key)).encrypt(
        nonce, secret.encode(), platform_code.encode()
    )
    return f"{_VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def unseal(gateway_key: bytes, platform_code: str, sealed: str) -> str:
    """The secret sealed for this platform; `SealBroken` if it does not open."""
    version, _, body = sealed.partition(":")
    if version != _VERSION:
        raise SealBroken(f"unknown sealing {version!r}")
    try:
        raw = base64.urlsafe_b64decode(body.encode())
        opened = AESGCM(_sealing_key(gateway_key)).decrypt(
            raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], platform_code.encode()
        )
    except (InvalidTag, ValueError) as err:
        raise SealBroken(f"the secret of {platform_code} does not open with this key") from err
    return opened.decode()
