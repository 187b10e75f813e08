"""uvicorn's HTTP protocol with a deadline on request heads, for clients that send slowly.

uvicorn waits for a request head as long as the client likes: a few hundred
connections that each send half a head and stop (slowloris) hold as many file
descriptors, and once the process's limit is reached nobody else connects. So a head
must be complete within `head_timeout` seconds (`serve --head-timeout`) of its first byte (or of the
connection, for a client that sends nothing), or the connection is closed. And near
the descriptor limit (RESERVE short of it) a new connection closes the oldest
unfinished head of the address that has the most of them, so that while one address
holds hundreds, clients elsewhere that send whole requests are served. An idle
keep-alive connection is uvicorn's affair (its keep-alive timeout).
"""

from __future__ import annotations

import asyncio
import logging
import resource
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)

RESERVE = 64
"""Descriptors kept free of client connections for everything else (database, broker,
pushes, files) and for the next client to connect."""


class _HeadDeadline(HttpToolsProtocol):
    head_timeout: float
    most_connections: int = 1024 - RESERVE
    waiting: dict[str, dict[_HeadDeadline, None]]
    """Connections whose request head is unfinished, by client address, the
    longest-waiting first (shared by the class a `head_deadline_protocol` call makes)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()
        self._shed()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_done()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._await_head()

    def on_headers_complete(self) -> None:
        self._head_done()
        super().on_headers_complete()

    @property
    def _address(self) -> str:
        return self.client[0] if self.client else ""

    def _await_head(self) -> None:
        if self._deadline is None:
            self.waiting.setdefault(self._address, {})[self] = None
            self._deadline = self.loop.call_later(self.head_timeout, self._head_late)

    def _head_done(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
            self._forget()

    def _head_late(self) -> None:
        self._deadline = None
        self._forget()
        self.transport.close()

    def _forget(self) -> None:
        mine = self.waiting.get(self._address, {})
        mine.pop(self, None)
        if not mine:
            self.waiting.pop(self._address, None)

    def _shed(self) -> None:
        """One connection more than there should be: close the oldest unfinished head of
        the address with the most of them. One for one, since a connection closed now
        leaves `connections` only on a later turn of the loop."""
        if len(self.connections) > self.most_connections and self.waiting:
            crowd = max(self.waiting.values(), key=len)
            oldest = next((c for c in crowd if c is not self), None)
            if oldest is not None:
                oldest._head_late()


def head_deadline_protocol(head_timeout: float) -> type[asyncio.Protocol]:
    """The HTTP protocol class for uvicorn (`http=`), with its own registry of waiting
    connections and the descriptor limit of this process as it is now."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = 1 << 20 if soft == resource.RLIM_INFINITY else soft
    return type(
        "HeadDeadlineProtocol",
        (_HeadDeadline,),
        {
            "head_timeout": head_timeout,
            "most_connections": max(limit - RESERVE, 1),
            "waiting": {},
        },
    )
