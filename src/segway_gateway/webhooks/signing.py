"""Signing pushes: the document's `sign` and `verify`, and `signed` for tests."""

from __future__ import annotations

from collections.abc import Mapping

from segway_gateway.contract.signature import sign, verify

__all__ = ["sign", "signed", "verify"]


def signed(params: Mapping[str, str], secret: str) -> dict[str, str]:
    """`params` with their `signature` added (any old one replaced), as the gateway sends them."""
    fields = {k: v for k, v in params.items() if k != "signature"}
    return {**fields, "signature": sign(fields, secret)}
