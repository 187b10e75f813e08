"""`python -m bench.echo URL`: answer every `bench/ping` on `bench/pong` (a raw MQTT peer).

Half of the unlock benchmark's baseline: the same library the vehicles use
(gmqtt), doing nothing but bouncing the payload back. Prints `ready` once
subscribed and runs until killed.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import gmqtt
from gmqtt.mqtt.constants import MQTTv311

PING, PONG = "bench/ping", "bench/pong"


async def echo(url: str) -> None:
    parts = urlsplit(url)
    client = gmqtt.Client(f"bench-echo-{time.monotonic_ns()}")
    subscribed = asyncio.Event()

    def on_message(c: Any, _topic: str, payload: bytes, _qos: int, _props: Any) -> int:
        c.publish(PONG, payload, qos=0)
        return 0

    client.on_message = on_message
    client.on_subscribe = lambda *_: subscribed.set()
    await client.connect(parts.hostname, parts.port or 1883, version=MQTTv311)
    client.subscribe(PING, qos=0)
    await subscribed.wait()
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(echo(sys.argv[1]))
