"""The push signature of the API document (NOTES.md, "Push")."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping


def string_to_sign(params: Mapping[str, str], secret: str) -> str:
    """Keys but `signature` in byte order, `k=v` joined by `&`, then `&client_secret=`."""
    pairs = sorted((k, v) for k, v in params.items() if k != "signature")
    joined = "&".join(f"{k}={v}" for k, v in pairs)
    return f"{joined}&client_secret={secret}"


def sign(params: Mapping[str, str], secret: str) -> str:
    """The 32 lower-case hex digit MD5 signature of `params`."""
    text = string_to_sign(params, secret)
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def verify(params: Mapping[str, str], secret: str) -> bool:
    """True if `params["signature"]` is the signature of the other params (constant time)."""
    given = params.get("signature", "")
    return hmac.compare_digest(given.lower().encode(), sign(params, secret).encode())
