"""`python -m bench.raw_subscriber URL EXPECTED`: the MQTT library's own receive rate.

The baseline of the ingest benchmark: the same client library the gateway
uses (gmqtt), subscribed to every vehicle's status under a topic root of its
own (`bench/v1`, so the gateway on the same broker does not take the load
too), counting messages and doing nothing else. Prints `ready` once subscribed, then `received=N
seconds=S` (first to last message) when EXPECTED arrived or 3 s passed idle.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import gmqtt
from gmqtt.mqtt.constants import MQTTv50

IDLE_SECONDS = 3.0
ROOT = "bench/v1"


async def receive(url: str, expected: int) -> None:
    parts = urlsplit(url)
    count, first, last = 0, 0.0, 0.0
    done = asyncio.Event()

    def on_message(_client: Any, _topic: str, _payload: bytes, _qos: int, _props: Any) -> int:
        nonlocal count, first, last
        last = time.monotonic()
        if count == 0:
            first = last
        count += 1
        if count >= expected:
            done.set()
        return 0

    subscribed = asyncio.Event()
    # as the gateway connects: MQTT 5, at most RECEIVE_MAXIMUM unacknowledged in flight
    client = gmqtt.Client(f"raw-subscriber-{time.monotonic_ns()}", receive_maximum=20_000)
    client.on_message = on_message
    client.on_subscribe = lambda *_: subscribed.set()
    await client.connect(parts.hostname, parts.port or 1883, version=MQTTv50)
    client.subscribe(f"{ROOT}/+/status", qos=1)  # as the gateway does
    await subscribed.wait()
    print("ready", flush=True)
    while not done.is_set():
        try:
            await asyncio.wait_for(done.wait(), IDLE_SECONDS)
        except TimeoutError:
            if count and time.monotonic() - last > IDLE_SECONDS:
                break
    print(f"received={count} seconds={last - first:.3f}", flush=True)
    await client.disconnect()


if __name__ == "__main__":
    asyncio.run(receive(sys.argv[1], int(sys.argv[2])))
