"""Unlock round trip HTTP → gateway → MQTT → vehicle → gateway → HTTP, against its parts bare.

Measured: latency of `POST /api/v2/vehicle/control/unlock` (and lock, in
turn) from this process to `segway-gateway serve --broker`, which sends the
command through a private Mosquitto to a vehicle of `segway-gateway sim run`
(its own process) and answers when the vehicle replied. Baseline, sampled in
turn with it on the same connections: one hello-world HTTP call (`GET
/healthz` on the same server) plus one raw MQTT ping-pong through the same
broker to an echo process using the vehicles' MQTT library. Goal: p50 <=
1.5x and p99 <= 3x the baseline's.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gmqtt
import httpx
from gmqtt.mqtt.constants import MQTTv311

from bench import harness
from bench.broker import mosquitto
from bench.echo import PING, PONG
from bench.harness import BenchError, say

P50_GOAL, P99_GOAL = 1.5, 3.0
CONTROL = "/api/v2/vehicle/control/{}"


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench unlock", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="rounds (3)")
    parser.add_argument("--samples", type=int, default=500, help="pairs per round (500)")
    parser.add_argument("--warmup", type=int, default=100, help="pairs first, unmeasured (100)")
    return parser.parse_args(argv)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


class Pinger:
    """A raw MQTT client that times a round trip through the echo process."""

    def __init__(self) -> None:
        self._waiting: asyncio.Future[bytes] | None = None
        self._client = gmqtt.Client(f"bench-ping-{time.monotonic_ns()}")
        self._client.on_message = self._received

    async def connect(self, url: str) -> None:
        parts = urlsplit(url)
        subscribed = asyncio.Event()
        self._client.on_subscribe = lambda *_: subscribed.set()
        await self._client.connect(parts.hostname, parts.port or 1883, version=MQTTv311)
        self._client.subscribe(PONG, qos=0)
        await subscribed.wait()

    async def ping(self, n: int) -> None:
        self._waiting = asyncio.get_running_loop().create_future()
        self._client.publish(PING, str(n).encode(), qos=0)
        if await asyncio.wait_for(self._waiting, 10) != str(n).encode():
            raise BenchError("the echo answered another ping")

    def _received(self, _c: Any, _topic: str, payload: bytes, _qos: int, _props: Any) -> int:
        if self._waiting is not None and not self._waiting.done():
            self._waiting.set_result(payload)
        return 0

    async def close(self) -> None:
        await self._client.disconnect()


async def _timed(action: Callable[[], Awaitable[None]]) -> float:
    started = time.perf_counter()
    await action()
    return time.perf_counter() - started


async def run_rounds(
    base_url: str, broker: str, token: str, args: argparse.Namespace
) -> list[tuple[float, float, float, float]]:
    """Per round: (unlock p50, unlock p99, baseline p50, baseline p99), in seconds."""
    pinger = Pinger()
    await pinger.connect(broker)
    headers = {"Authorization": f"bearer {token}"}
    body = {"iotCode": harness.DEMO_VEHICLE}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as http:
        count = 0

        async def command() -> None:
            nonlocal count
            count += 1
            path = CONTROL.format("unlock" if count % 2 else "lock")
            answer = (await http.post(path, json=body)).json()
            if answer["code"] != 0:
                raise BenchError(f"{path} answered {answer}")

        async def baseline() -> None:
            (await http.get("/healthz")).raise_for_status()
            await pinger.ping(count)

        for _ in range(args.warmup):
            await command()
            await baseline()
        results = []
        for n in range(1, args.rounds + 1):
            unlock: list[float] = []
            bare: list[float] = []
            for _ in range(args.samples):
                unlock.append(await _timed(command))
                bare.append(await _timed(baseline))
            figures = (
                _percentile(unlock, 0.5),
                _percentile(unlock, 0.99),
                _percentile(bare, 0.5),
                _percentile(bare, 0.99),
            )
            say(
                f"round {n}/{args.rounds} unlock p50 {figures[0] * 1e3:.2f} ms"
                f" p99 {figures[1] * 1e3:.2f} ms; baseline p50 {figures[2] * 1e3:.2f} ms"
                f" p99 {figures[3] * 1e3:.2f} ms"
            )
            results.append(figures)
    await pinger.close()
    return results


def _wait_online(base_url: str, token: str, timeout: float = 120) -> None:
    started = time.monotonic()
    while harness.status_envelope(base_url, token).get("code") != 0:
        if time.monotonic() - started > timeout:
            raise BenchError("the simulated vehicle never came online")
        time.sleep(0.5)


def measure(args: argparse.Namespace, workdir: Path) -> list[tuple[float, float, float, float]]:
    with (
        mosquitto(workdir) as broker,
        harness.gateway_server(workdir, "--broker", broker) as server,
    ):
        say(f"server: /healthz answers after {server.wait_healthy(180):.1f} s")
        sim_log = (workdir / "sim.log").open("wb")
        vehicle = subprocess.Popen(
            [
                *harness.serve_command(),
                "sim",
                "run",
                "--broker",
                broker,
                "--count",
                "1",
                "--first",
                harness.DEMO_VEHICLE,
                "--db",
                f"sqlite:///{workdir / 'sim.db'}",
            ],
            cwd=workdir,
            stdout=sim_log,
            stderr=subprocess.STDOUT,
        )
        echo = subprocess.Popen(
            [sys.executable, "-m", "bench.echo", broker], stdout=subprocess.PIPE, text=True
        )
        try:
            assert echo.stdout is not None
            if echo.stdout.readline().strip() != "ready":
                raise BenchError("the echo process did not start")
            token = harness.get_token(server.base_url)
            _wait_online(server.base_url, token)
            say(f"vehicle {harness.DEMO_VEHICLE} online over MQTT; measuring")
            machine_before = harness.cpu_times()
            results = asyncio.run(run_rounds(server.base_url, broker, token, args))
            steal = harness.steal_percent(machine_before, harness.cpu_times())
            if steal is not None:
                say(f"machine: {steal:.1f} % of CPU time stolen by the hypervisor")
            return results
        finally:
            for process in (vehicle, echo):
                process.terminate()
                process.wait(timeout=60)
            sim_log.close()


def main(argv: list[str]) -> int:
    args = _parse(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="segway-bench-unlock-") as tmp:
            results = measure(args, Path(tmp))
    except BenchError as err:
        print(f"bench FAILED: {err}", file=sys.stderr, flush=True)
        return 1
    p50 = statistics.median(r[0] / r[2] for r in results)
    p99 = statistics.median(r[1] / r[3] for r in results)
    unlock_p50 = statistics.median(r[0] for r in results) * 1e3
    unlock_p99 = statistics.median(r[1] for r in results) * 1e3
    verdict = "met" if p50 <= P50_GOAL and p99 <= P99_GOAL else "MISSED"
    say(
        f"unlock round trip: p50 {unlock_p50:.2f} ms = {p50:.2f}x, p99 {unlock_p99:.2f} ms ="
        f" {p99:.2f}x the bare HTTP call + MQTT ping-pong (goal <= {P50_GOAL}x and"
        f" <= {P99_GOAL}x: {verdict})"
    )
    return 0
