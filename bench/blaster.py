"""`python -m bench.blaster URL COUNT FIRST_IOTCODE VEHICLES ROOT`: publish status reports flat out
on `ROOT/{iotCode}/status`.

A load generator, not a client: it speaks just enough MQTT 3.1.1 (CONNECT,
then QoS 1 PUBLISH packets, as vehicles send their reports, encoded once and
written in large batches, the broker's PUBACKs read and dropped by a thread) to
offer the broker far more messages per second than the receiver under test
can take, whatever that receiver is. It prints `sent=N seconds=S` at the end.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import sys
import threading
import time
from urllib.parse import urlsplit

BATCH = 2000


def _remaining_length(length: int) -> bytes:
    encoded = bytearray()
    while True:
        digit, length = length % 128, length // 128
        encoded.append(digit | (0x80 if length else 0))
        if not length:
            return bytes(encoded)


def _string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("!H", len(raw)) + raw


def connect_packet(client_id: str) -> bytes:
    variable = _string("MQTT") + bytes([4, 0x02]) + struct.pack("!H", 60)
    body = variable + _string(client_id)
    return b"\x10" + _remaining_length(len(body)) + body


def publish_packet(topic: str, payload: bytes, packet_id: int) -> bytes:
    """A QoS 1 PUBLISH (packet ids cycle: the broker acknowledges each at once)."""
    body = _string(topic) + struct.pack("!H", packet_id) + payload
    return b"\x32" + _remaining_length(len(body)) + body


def _drain(sock: socket.socket) -> None:
    """Read the broker's PUBACKs until the connection closes."""
    with contextlib.suppress(OSError):
        while sock.recv(65536):
            pass


def status_payload(n: int) -> bytes:
    """A valid DeviceStatus report, different for each message."""
    return json.dumps(
        {
            "locked": False,
            "lockVoltage": 410,
            "networkSignal": 20,
            "charging": False,
            "powerPercent": 80,
            "speedMode": 2,
            "speed": 18,
            "odometer": 1000 + n,
            "remainingRange": 4800,
            "totalRidingSecs": 3600,
            "statusUtcTime": 1_790_000_000 + n,
            "drivingVoltage": 46,
            "currentPower": 216,
            "iotPercent": 100,
            "iotVoltage": 415,
            "batteryData": [
                {
                    "batteryPort": 1,
                    "batteryPercent": 80,
                    "batteryVoltage": 46,
                    "cycleTimes": 12,
                    "temperatrue": 25,
                }
            ],
        }
    ).encode()


def main(argv: list[str]) -> int:
    url, count, first, vehicles, root = argv[0], int(argv[1]), int(argv[2]), int(argv[3]), argv[4]
    parts = urlsplit(url)
    packets = [
        publish_packet(f"{root}/{first + n % vehicles}/status", status_payload(n), n % 65535 + 1)
        for n in range(min(count, BATCH * 5))
    ]
    with socket.create_connection((parts.hostname, parts.port or 1883)) as sock:
        sock.sendall(connect_packet(f"blaster-{time.monotonic_ns()}"))
        if sock.recv(4)[:1] != b"\x20":
            print("no CONNACK", file=sys.stderr)
            return 1
        acknowledgements = threading.Thread(target=_drain, args=(sock,), daemon=True)
        acknowledgements.start()
        started, sent = time.monotonic(), 0
        while sent < count:
            batch = min(BATCH, count - sent)
            start = sent % len(packets)
            chunk = (packets[start:] + packets[:start])[:batch]
            sock.sendall(b"".join(chunk))
            sent += batch
        sock.sendall(b"\xe0\x00")  # DISCONNECT
        seconds = time.monotonic() - started
        acknowledgements.join(timeout=300)  # the broker closes once it read everything
        print(f"sent={sent} seconds={seconds:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
