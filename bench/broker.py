"""A private Mosquitto for the MQTT benchmarks: anonymous, roomy queues, many sockets.

Private so a benchmark neither disturbs nor is disturbed by the machine's
shared broker, and so its limits are known: no per-client queue drops (the
ingest figure counts what the gateway handles, not what the broker threw
away) and enough file descriptors for tens of thousands of vehicles.
"""

from __future__ import annotations

import resource
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.harness import BenchError, free_port, say

OPEN_FILES = 65536


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _raise_open_files() -> None:
    """In the broker's process, before exec: room for one socket per vehicle."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = OPEN_FILES if hard == resource.RLIM_INFINITY else min(OPEN_FILES, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


@contextmanager
def mosquitto(workdir: Path) -> Iterator[str]:
    """Start Mosquitto on a free loopback port; yields its mqtt:// URL."""
    binary = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin")
    if binary is None:
        raise BenchError("mosquitto is not installed (Debian: apt-get install mosquitto)")
    port = free_port()
    conf = workdir / "mosquitto.conf"
    conf.write_text(
        "\n".join(
            [
                f"listener {port} 127.0.0.1",
                "allow_anonymous true",
                "persistence false",
                "max_queued_messages 0",
                "max_inflight_messages 0",
                "set_tcp_nodelay true",
                "",
            ]
        )
    )
    log_path = workdir / "mosquitto.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [binary, "-c", str(conf)],
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_raise_open_files,
        )
    try:
        deadline = time.monotonic() + 30
        while not _accepts(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"mosquitto did not start:\n{log_path.read_text()}")
            time.sleep(0.1)
        say(f"broker: mosquitto pid {process.pid} on 127.0.0.1:{port}")
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
