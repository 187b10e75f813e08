"""`python -m bench.blaster URL COUNT FIRST_IOTCODE VEHICLES ROOT`: publish status reports flat out
on `ROOT/{iotCode}/status`.

A load generator, not a client: it speaks just enough MQTT 3.1.1 (CONNECT,
then QoS 0 PUBLISH packets encoded once and written in large batches) to
offer the broker far more messages per second than the receiver under test
can take, whatever that receiver is. It prints `sent=N seconds=S` at the end.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
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


def publish_packet(topic: str, payload: bytes) -> bytes:
    body = _string(topic) + payload
    return b"\x30" + _remaining_length(len(body)) + body


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
        publish_packet(f"{root}/{first + n % vehicles}/status", status_payload(n))
        for n in range(min(count, BATCH * 5))
    ]
    with socket.create_connection((parts.hostname, parts.port or 1883)) as sock:
        sock.sendall(connect_packet(f"blaster-{time.monotonic_ns()}"))
        if sock.recv(4)[:1] != b"\x20":
            print("no CONNACK", file=sys.stderr)
            return 1
        started, sent = time.monotonic(), 0
        while sent < count:
            batch = min(BATCH, count - sent)
            start = sent % len(packets)
            chunk = (packets[start:] + packets[:start])[:batch]
            sock.sendall(b"".join(chunk))
            sent += batch
        sock.sendall(b"\xe0\x00")  # DISCONNECT
        print(f"sent={sent} seconds={time.monotonic() - started:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
