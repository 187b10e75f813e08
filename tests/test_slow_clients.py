"""Clients that send their request heads slowly, or never finish them, cannot starve the
others: a head has a deadline, and near the descriptor limit the connections that have
waited longest for an unfinished head make room (a real `serve` process)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness import eventually_async, free_port
from tests.processes import GATEWAY, ServeProcess, answers, cli_env, serving

HALF_A_HEAD = b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n"
ATTACKERS = 1000
CLIENTS = 8


def closed_by_server_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        return sock.recv(1024) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_a_head_not_finished_in_time_is_dropped_and_a_whole_one_is_served(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 'gateway.db'}"
    with serving(db, tmp_path, "--head-timeout", "1") as server:
        with socket.create_connection(("127.0.0.1", server.port)) as slow:
            slow.sendall(HALF_A_HEAD)
            started = time.monotonic()
            assert answers(f"{server.base_url}/healthz") == 200  # meanwhile
            assert closed_by_server_within(slow, 10)
            assert 0.8 <= time.monotonic() - started < 5
        with socket.create_connection(("127.0.0.1", server.port)) as silent:
            assert closed_by_server_within(silent, 10)  # nothing sent at all


@contextlib.contextmanager
def serve_with_1024_descriptors(tmp_path: Path) -> Iterator[ServeProcess]:
    """`serve` with default flags under `prlimit --nofile=1024:1024`."""
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        pytest.skip("prlimit (util-linux) is not installed")
    server = ServeProcess.__new__(ServeProcess)
    server.port = free_port()
    server.base_url = f"http://127.0.0.1:{server.port}"
    server.log_path = tmp_path / "serve.log"
    args = ["serve", "--port", str(server.port), "--db", f"sqlite:///{tmp_path / 'g.db'}"]
    with server.log_path.open("wb") as log:
        server.process = subprocess.Popen(
            [prlimit, "--nofile=1024:1024", str(GATEWAY), *args],
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=cli_env(),
        )
    try:
        server.wait_ready()
        yield server
    finally:
        server.kill()


async def hold_unfinished_heads(port: int, stop: asyncio.Event, held: list[int]) -> None:
    """Keep ATTACKERS connections from 127.0.0.1 open with half a head each, opening a
    new one whenever the server drops one."""

    async def one() -> None:
        while not stop.is_set():
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            held[0] += 1
            try:
                writer.write(HALF_A_HEAD)
                with contextlib.suppress(OSError):
                    await reader.read()  # until the server drops it
            finally:
                held[0] -= 1
                writer.close()

    tasks = [asyncio.create_task(one()) for _ in range(ATTACKERS)]
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def normal_clients(base_url: str, seconds: float) -> tuple[list[float], int]:
    """CLIENTS keep-alive clients from 127.0.0.2: latencies, and failures (a 503 too)."""
    latencies: list[float] = []
    failures = 0

    async def client() -> None:
        nonlocal failures
        transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
        async with httpx.AsyncClient(base_url=base_url, transport=transport, timeout=10) as http:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                started = time.monotonic()
                try:
                    ok = (await http.get("/healthz")).status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.monotonic() - started)
                failures += not ok

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return latencies, failures


@pytest.mark.load
def test_a_thousand_unfinished_heads_near_the_descriptor_limit_starve_nobody(
    tmp_path: Path,
) -> None:
    with serve_with_1024_descriptors(tmp_path) as server:

        async def scene() -> tuple[list[float], int, int]:
            stop, held = asyncio.Event(), [0]
            attack = asyncio.create_task(hold_unfinished_heads(server.port, stop, held))
            # the server keeps about 960 (1024 less its reserve) and drops the oldest
            await eventually_async(lambda: held[0] >= 900, "the attack holding 900", 30)
            holding = held[0]
            latencies, failures = await normal_clients(server.base_url, 3.0)
            stop.set()
            await attack
            return latencies, failures, holding

        latencies, failures, holding = asyncio.run(scene())
        assert holding >= 900, f"the attack held only {holding} connections"
        latencies.sort()
        p99 = latencies[int(len(latencies) * 0.99)]
        assert failures == 0
        assert p99 < 1.0, f"p99 {p99:.3f} s over {len(latencies)} calls"
        assert server.process.poll() is None, server.log()
