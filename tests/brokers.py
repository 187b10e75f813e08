"""Real Mosquitto brokers for the MQTT tests: the machine's shared one, or a private one.

The shared broker (127.0.0.1:1883, anonymous) serves the plain round trips. A
private broker is a `mosquitto` process started from the files that
`write_broker_files` generates, so the tests exercise the project's own
credentials and ACL, and can stop and restart it without disturbing anyone.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import random
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from segway_gateway.contract.device import TOPIC_ROOT
from segway_gateway.devicelink.mosquitto import write_broker_files
from segway_gateway.devicelink.mqtt_session import Broker, MqttSession
from tests.harness import eventually, eventually_async, free_port
from tests.processes import require_service

SHARED_HOST, SHARED_PORT = "127.0.0.1", 1883
START_TIMEOUT = 60.0


def shared_broker_url() -> str:
    """The machine's Mosquitto, or skip (fail on CI) when it is not there."""
    require_service("Mosquitto", SHARED_HOST, SHARED_PORT)
    return f"mqtt://{SHARED_HOST}:{SHARED_PORT}"


def mosquitto_binary() -> str:
    """The `mosquitto` executable, or skip (fail on CI) when it is not installed."""
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        reason = "the mosquitto executable is not installed (Debian package mosquitto)"
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"{reason}; CI=true requires it", pytrace=False)
        pytest.skip(reason)
    return found


class PrivateBroker:
    """A Mosquitto process on a loopback port, from a config the project generated."""

    def __init__(self, conf: Path, port: int) -> None:
        self.port = port
        self.url = f"mqtt://127.0.0.1:{port}"
        self.conf = conf
        with conf.open("a") as out:  # as root, mosquitto would drop to a user
            out.write(f"user {getpass.getuser()}\n")  # who cannot read our 0600 files
        self.log_path = conf.parent / "mosquitto.log"
        self._binary = mosquitto_binary()
        self._process: subprocess.Popen[bytes] | None = None

    @classmethod
    def generated(cls, directory: Path, key: bytes, iot_codes: Iterable[str]) -> PrivateBroker:
        """A broker for these vehicles, its files written by `write_broker_files`."""
        port = free_port()
        return cls(write_broker_files(directory, key, iot_codes, port), port)

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [self._binary, "-c", str(self.conf)], stdout=log, stderr=subprocess.STDOUT
            )
        process = self._process
        eventually(
            lambda: process.poll() is not None or _accepts(self.port),
            "mosquitto accepting connections",
            START_TIMEOUT,
            self.log,
        )
        if process.poll() is not None:
            pytest.fail(f"mosquitto exited with {process.returncode}:\n{self.log()}")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=30)
        self._process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def private_broker(
    directory: Path, key: bytes, iot_codes: Iterable[str]
) -> Iterator[PrivateBroker]:
    broker = PrivateBroker.generated(directory, key, iot_codes)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


Message = tuple[str, bytes, int, bool]
"""What a test publishes: topic, payload, QoS, retained."""


async def publish_all(address: Broker, messages: Iterable[Message]) -> None:
    """Publish `messages` in one session and close it once the broker has taken them all.

    The last message is a fence on a topic of the session's own: a broker handles one
    client's messages in order, so the fence coming back means that every message before
    it was handled (a retained one stored); a session closed before that may take the
    last ones with it.
    """
    fence = f"{TOPIC_ROOT}/test-fence/{uuid.uuid4().hex}"
    fenced: list[str] = []
    session = MqttSession(
        address,
        f"test-publisher-{random.randrange(10**9)}",
        lambda topic, _payload: fenced.append(topic),
        [(fence, 1)],
    )
    await asyncio.wait_for(session.open(), 30)
    try:
        for topic, payload, qos, retain in messages:
            assert session.publish(topic, payload, qos=qos, retain=retain)
        assert session.publish(fence, b"fence", qos=1)
        await eventually_async(lambda: fence in fenced, "the broker handling every message")
    finally:
        await session.close()
