"""GET /readyz (gateway/readiness.py) against a real `serve` on PostgreSQL and Mosquitto.

The database is reached through a TCP relay the test controls, so that "the database is
gone" is a real network failure without stopping the PostgreSQL other tests use; the
broker is a private Mosquitto, stopped and started again. /readyz turns 503, naming the
part, within 10 s of a failure, and 200 again within 15 s of the recovery, with no
restart; /healthz answers 200 throughout.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from segway_gateway.gateway.crypto import load_key
from tests.brokers import PrivateBroker
from tests.conftest import PG_HOST, PG_PORT, fresh_postgres
from tests.harness import RunningGateway, Seed, eventually, free_port, running
from tests.processes import ServeProcess

FAILURE_SHOWN_WITHIN = 10.0
RECOVERY_SHOWN_WITHIN = 15.0


class Relay:
    """A TCP relay on a loopback port to `target`, which can be cut (listener closed and
    every connection through it dropped) and restored on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            dropped, self._open = self._open, set()
        for sock in [*([listener] if listener else []), *dropped]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    server.close()
                    return
                self._open |= {client, server}
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def readyz(base_url: str) -> tuple[int, dict[str, Any]]:
    response = httpx.get(f"{base_url}/readyz", timeout=10)
    assert response.headers["content-type"] == "application/json"
    return response.status_code, response.json()


def failing(base_url: str, part: str) -> bool:
    status, body = readyz(base_url)
    return status == 503 and body["status"] == "not ready" and part in body["failing"]


def ready(base_url: str) -> bool:
    status, body = readyz(base_url)
    return status == 200 and body == {
        "status": "ready",
        "checks": {"database": "ok", "deviceLink": "ok", "pushes": "ok"},
    }


@contextlib.contextmanager
def relay_to_postgres(started: bool) -> Iterator[tuple[Relay, str]]:
    """A fresh PostgreSQL database reached through a relay (`started` or not yet): the
    relay, and the database's URL through it."""
    with fresh_postgres() as url:
        relay = Relay((PG_HOST, PG_PORT))
        if started:
            relay.start()
        try:
            yield relay, url.replace(f"{PG_HOST}:{PG_PORT}", f"127.0.0.1:{relay.port}")
        finally:
            relay.cut()


@pytest.fixture
def relayed_postgres() -> Iterator[tuple[Relay, str]]:
    with relay_to_postgres(started=True) as relayed:
        yield relayed


def test_readyz_follows_the_database_and_the_broker(
    relayed_postgres: tuple[Relay, str], tmp_path: Path
) -> None:
    relay, db_url = relayed_postgres
    broker = PrivateBroker.generated(tmp_path / "broker", load_key(tmp_path / "gw.key"), [])
    broker.start()
    server = ServeProcess(
        db_url, tmp_path, "--broker", broker.url, "--key-file", str(tmp_path / "gw.key")
    )
    try:
        server.wait_ready()
        base = server.base_url
        eventually(lambda: ready(base), "ready at start", RECOVERY_SHOWN_WITHIN)

        relay.cut()
        eventually(lambda: failing(base, "database"), "database failure", FAILURE_SHOWN_WITHIN)
        assert httpx.get(f"{base}/healthz").status_code == 200, "alive all the same"
        relay.start()
        eventually(lambda: ready(base), "recovered database", RECOVERY_SHOWN_WITHIN)

        broker.stop()
        eventually(lambda: failing(base, "deviceLink"), "broker gone", FAILURE_SHOWN_WITHIN)
        broker.start()
        eventually(lambda: ready(base), "broker back", RECOVERY_SHOWN_WITHIN)
    finally:
        server.stop()
        broker.stop()


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[RunningGateway]:
    yield from running(tmp_path, Seed({}, {}))


def test_a_stopped_push_dispatcher_is_not_ready(gateway: RunningGateway) -> None:
    """Fault injection: the dispatcher's loop ends (as if it had crashed)."""
    assert ready(gateway.base_url)
    pushing = gateway.gateway._pushing
    assert pushing is not None
    gateway.call(pushing.cancel)
    eventually(lambda: failing(gateway.base_url, "pushes"), "dispatcher stopped", 5.0)
    _, body = readyz(gateway.base_url)
    assert body["checks"] == {"database": "ok", "deviceLink": "ok", "pushes": "dispatcher stopped"}
