"""Status queries and the unlock round trip with 1, 2 and 3 gateway instances behind round-robin.

Topology: one PostgreSQL database (127.0.0.1:5432, user postgres, a fresh
database per run, dropped at the end), one private Mosquitto, N x `segway-gateway
serve --db postgresql://... --broker URL --share-group bench --port P --key-file
K` (the same command but for the port; the share group so the instances consume
each telemetry message once, as the serve help says several gateways should),
and `segway-gateway sim run` as a fleet of 50 vehicles, its own process. The
platform A20081 and the fleet are seeded with `segway-gateway platform add` /
`vehicle add`. Before measuring, every vehicle must be online (status query
`data.online`) at every instance.

Measured per N, in rounds that alternate the order of N:
- status: queries per second from a load generator in its own process
  (httpx.AsyncClient, K concurrent workers, each request to the next instance in
  turn, every answer checked for code 0), vs the same generator against /healthz
  of the same instances, run beside it.
- unlock: p50/p99 of unlock/lock round trips of one vehicle, each command to the
  next instance in turn, vs a baseline sampled in turn with it: a /healthz call
  (next instance in turn) plus a raw MQTT ping-pong through the same broker
  (bench/unlock_latency.py's Pinger and bench/echo.py).
Goal checked on the last line: unlock p99 with 3 instances <= 3x the baseline.

What 2 cores allow: the N instances share 2 cores with PostgreSQL, Mosquitto,
the simulated fleet and the load generator, so more instances cannot add
throughput beyond those 2 cores: this shows the cost of the topology
(round-robin over instances that share one database and one broker, replies
routed back to the sending instance), not scale-out. One instance does not fill
its core on status queries (it waits on PostgreSQL round trips), so 2 and 3
instances overlap that waiting and status req/s rises until the cores run out
(at 3, roughly). The healthz baseline is bounded by the load generator itself,
one Python process (~2.5k req/s here; wrk gets several times that from one
instance), so status/healthz ratios are not comparable with `bench status`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench import harness
from bench.broker import mosquitto
from bench.harness import BenchError, Server, say
from bench.unlock_latency import CONTROL, Pinger, _percentile, _timed

PG_HOST, PG_PORT = "127.0.0.1", 5432
P99_GOAL = 3.0
SHARE_GROUP = "bench"
TOKEN_ENV = "BENCH_INSTANCES_TOKEN"


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench instances", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--counts", default="1,2,3", help="instance counts (1,2,3)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds over all counts (2)")
    parser.add_argument("--vehicles", type=int, default=50, help="simulated vehicles (50)")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per load run (8)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up each (2)")
    parser.add_argument("--workers", type=int, default=16, help="concurrent requests (16)")
    parser.add_argument("--samples", type=int, default=300, help="unlock/lock samples (300)")
    parser.add_argument("--unlock-warmup", type=int, default=30, help="unmeasured pairs (30)")
    args = parser.parse_args(argv)
    args.counts = [int(n) for n in args.counts.split(",")]
    if min(args.counts) < 1 or args.rounds < 1 or args.vehicles < 1 or args.samples < 2:
        parser.error("counts, rounds, vehicles and samples must be positive")
    return args


# the load generator (its own process: `python -m bench.instances URL ...`) -----------------


async def _load(urls: list[str], seconds: float, workers: int, token: str) -> dict[str, Any]:
    """Requests to `urls` in turn from `workers` tasks for `seconds`; answers checked.

    Each worker has its own client (one keep-alive connection) per instance: httpx's
    shared pool slows down sharply with tens of concurrent requests waiting on it.
    """
    status = harness.STATUS_PATH in urls[0]
    headers = {"Authorization": f"bearer {token}"} if status else {}
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    hosts = sorted({httpx.URL(url).netloc for url in urls})
    pools = [
        {h: httpx.AsyncClient(headers=headers, limits=limits, timeout=10) for h in hosts}
        for _ in range(workers)
    ]
    netlocs = [httpx.URL(url).netloc for url in urls]
    turn = itertools.count()
    latencies: list[float] = []
    failures: list[str] = []
    measuring = False
    deadline = 0.0

    async def one(pool: dict[bytes, httpx.AsyncClient]) -> None:
        i = next(turn) % len(urls)
        started = time.perf_counter()
        response = await pool[netlocs[i]].get(urls[i])
        answer = response.json()
        ok = answer.get("code") == 0 if status else answer == {"status": "ok"}
        if response.status_code != 200 or not ok:
            failures.append(f"{urls[i]}: {response.status_code} {answer}")
        elif measuring:
            latencies.append(time.perf_counter() - started)

    async def worker(pool: dict[bytes, httpx.AsyncClient]) -> None:
        while time.perf_counter() < deadline:
            await one(pool)

    try:
        for _ in hosts:  # open every worker's connection to every instance, unmeasured
            await asyncio.gather(*(one(pool) for pool in pools))
        measuring = True
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(worker(pool) for pool in pools))
        elapsed = time.perf_counter() - started
    finally:
        for pool in pools:
            for client in pool.values():
                await client.aclose()
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "failures": len(failures),
        "first_failure": failures[0] if failures else None,
        "p50_ms": 1e3 * _percentile(latencies, 0.5) if latencies else 0.0,
        "p99_ms": 1e3 * _percentile(latencies, 0.99) if latencies else 0.0,
    }


def _load_main(argv: list[str]) -> int:
    seconds, workers, urls = float(argv[0]), int(argv[1]), argv[2:]
    result = asyncio.run(_load(urls, seconds, workers, os.environ.get(TOKEN_ENV, "")))
    print(json.dumps(result), flush=True)
    return 0


def run_load(urls: list[str], seconds: float, workers: int, token: str) -> dict[str, Any]:
    """One load-generator run in a separate process; BenchError on any failed answer."""
    cmd = [sys.executable, "-m", "bench.instances", str(seconds), str(workers), *urls]
    try:
        done = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=seconds + 120,
            env={**os.environ, TOKEN_ENV: token},
        )
    except subprocess.TimeoutExpired as err:
        raise BenchError(f"the load generator did not finish: {' '.join(cmd)}") from err
    if done.returncode != 0:
        raise BenchError(f"the load generator failed (exit {done.returncode}):\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if result["failures"]:
        raise BenchError(f"{result['failures']} failed answers, first: {result['first_failure']}")
    if result["requests"] == 0:
        raise BenchError(f"the load generator made no request against {urls[0]}")
    return result


# the topology ---------------------------------------------------------------------------


async def _admin(sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database="postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards (as tests/conftest.py does); its URL."""
    name = f"segway_bench_{uuid.uuid4().hex[:16]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except Exception as err:  # OSError, or one of asyncpg's own error classes
        raise BenchError(f"PostgreSQL at {PG_HOST}:{PG_PORT}: {err}") from err
    say(f"postgres: database {name} created")
    try:
        yield f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        say(f"postgres: database {name} dropped")


def cli(workdir: Path, *args: str) -> None:
    cmd = [*harness.serve_command(), *args]
    done = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise BenchError(f"{' '.join(cmd[1:3])} failed:\n{done.stdout}{done.stderr}")


def seed(workdir: Path, db: str, key: Path, codes: list[str]) -> None:
    cli(
        workdir,
        "platform",
        "add",
        harness.DEMO_PLATFORM,
        "--secret",
        harness.DEMO_SECRET,
        "--db",
        db,
        "--key-file",
        str(key),
    )
    cli(workdir, "vehicle", "add", *codes, "--platform", harness.DEMO_PLATFORM, "--db", db)
    say(f"seeded: platform {harness.DEMO_PLATFORM}, {len(codes)} vehicles")


@contextmanager
def instances(workdir: Path, n: int, db: str, broker: str, key: Path) -> Iterator[list[Server]]:
    """N `segway-gateway serve` processes, one database and broker; stopped afterwards."""
    servers: list[Server] = []
    try:
        for i in range(1, n + 1):
            port = harness.free_port()
            home = workdir / f"gateway-{n}-{i}"
            home.mkdir(exist_ok=True)
            cmd = [
                *harness.serve_command(),
                "serve",
                "--db",
                db,
                "--broker",
                broker,
                "--share-group",
                SHARE_GROUP,
                "--port",
                str(port),
                "--key-file",
                str(key),
            ]
            log_path = home / "server.log"
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    cmd, cwd=home, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
                )
            servers.append(Server(process, f"http://127.0.0.1:{port}", log_path))
        for server in servers:
            seconds = server.wait_healthy(180)
            say(f"instance {server.base_url}: pid {server.process.pid}, healthy at {seconds:.1f} s")
        yield servers
    finally:
        for server in servers:
            server.stop()
        say(f"instances: {n} stopped")


def wait_all_online(servers: list[Server], token: str, codes: list[str], timeout: float) -> float:
    """Seconds until every vehicle answers `data.online` at every instance."""
    started = time.monotonic()
    waiting = [(s, c) for s in servers for c in codes]
    while waiting:
        still = []
        for server, code in waiting:
            answer = harness.status_envelope(server.base_url, token, code)
            data = answer.get("data")
            if not (answer.get("code") == 0 and isinstance(data, dict) and data.get("online")):
                still.append((server, code))
        waiting = still
        if waiting:
            if time.monotonic() - started > timeout:
                raise BenchError(
                    f"{len(waiting)} (instance, vehicle) pairs not online after {timeout:.0f} s,"
                    f" e.g. {waiting[0][1]} at {waiting[0][0].base_url}"
                )
            time.sleep(1)
    return time.monotonic() - started


# the measurements ---------------------------------------------------------------------


async def unlock_round_trips(
    servers: list[Server], broker: str, token: str, samples: int, warmup: int
) -> tuple[float, float, float, float]:
    """(unlock p50, unlock p99, baseline p50, baseline p99) in seconds, instances in turn."""
    pinger = Pinger()
    await pinger.connect(broker)
    headers = {"Authorization": f"bearer {token}"}
    body = {"iotCode": harness.DEMO_VEHICLE}
    clients = [httpx.AsyncClient(base_url=s.base_url, headers=headers, timeout=30) for s in servers]
    count = 0
    turn = itertools.count()

    async def command() -> None:
        nonlocal count
        count += 1
        path = CONTROL.format("unlock" if count % 2 else "lock")
        answer = (await clients[next(turn) % len(clients)].post(path, json=body)).json()
        if answer["code"] != 0:
            raise BenchError(f"{path} answered {answer}")

    async def baseline() -> None:
        (await clients[next(turn) % len(clients)].get("/healthz")).raise_for_status()
        await pinger.ping(count)

    try:
        for _ in range(warmup):
            await command()
            await baseline()
        unlock: list[float] = []
        bare: list[float] = []
        for _ in range(samples):
            unlock.append(await _timed(command))
            bare.append(await _timed(baseline))
    finally:
        for client in clients:
            await client.aclose()
        await pinger.close()
    return (
        _percentile(unlock, 0.5),
        _percentile(unlock, 0.99),
        _percentile(bare, 0.5),
        _percentile(bare, 0.99),
    )


def measure_n(
    args: argparse.Namespace, tag: str, servers: list[Server], broker: str, token: str
) -> dict[str, float]:
    codes = [str(int(harness.DEMO_VEHICLE) + i) for i in range(args.vehicles)]
    healthz_urls = [f"{s.base_url}/healthz" for s in servers]
    # each instance in turn, and a different vehicle each time round
    status_urls = [
        f"{servers[i % len(servers)].base_url}{harness.STATUS_PATH}?iotCode={code}"
        for i, code in enumerate(codes * len(servers))
    ]
    if args.warmup > 0:
        run_load(healthz_urls, args.warmup, args.workers, token)
        run_load(status_urls, args.warmup, args.workers, token)
    machine_before = harness.cpu_times()

    def measured(name: str, urls: list[str]) -> float:
        cpu_before = [s.cpu_seconds() for s in servers]
        result = run_load(urls, args.duration, args.workers, token)
        cpu_after = [s.cpu_seconds() for s in servers]
        rps = float(result["requests"] / result["seconds"])
        cpu = ""
        before = [c for c in cpu_before if c is not None]
        after = [c for c in cpu_after if c is not None]
        if len(before) == len(after) == len(servers):
            used = sum(after) - sum(before)
            cpu = f", gateways' CPU {1e3 * used / result['requests']:.2f} ms/req"
        say(
            f"{tag} {name:7s} {rps:8.0f} req/s  ({result['requests']} req in"
            f" {result['seconds']:.1f} s, p50 {result['p50_ms']:.1f} ms,"
            f" p99 {result['p99_ms']:.1f} ms){cpu}"
        )
        return rps

    healthz = measured("healthz", healthz_urls)
    status = measured("status", status_urls)
    for server in servers:
        harness.check_status(server.base_url, token)
    say(f"{tag} status/healthz {100 * status / healthz:.1f} %")
    figures = asyncio.run(
        unlock_round_trips(servers, broker, token, args.samples, args.unlock_warmup)
    )
    say(
        f"{tag} unlock p50 {figures[0] * 1e3:.2f} ms p99 {figures[1] * 1e3:.2f} ms;"
        f" baseline p50 {figures[2] * 1e3:.2f} ms p99 {figures[3] * 1e3:.2f} ms"
        f" = {figures[0] / figures[2]:.2f}x / {figures[1] / figures[3]:.2f}x"
    )
    steal = harness.steal_percent(machine_before, harness.cpu_times())
    if steal is not None:
        say(f"{tag} machine: {steal:.1f} % of CPU time stolen by the hypervisor")
    return {
        "status": status,
        "healthz": healthz,
        "p50": figures[0],
        "p99": figures[1],
        "base_p50": figures[2],
        "base_p99": figures[3],
        "steal": -1.0 if steal is None else steal,
    }


def measure(args: argparse.Namespace, workdir: Path) -> dict[int, list[dict[str, float]]]:
    codes = [str(int(harness.DEMO_VEHICLE) + i) for i in range(args.vehicles)]
    key = workdir / "gateway.key"
    results: dict[int, list[dict[str, float]]] = {n: [] for n in args.counts}
    with ExitStack() as stack:
        db = stack.enter_context(fresh_postgres())
        broker = stack.enter_context(mosquitto(workdir))
        seed(workdir, db, key, codes)
        sim_log = stack.enter_context((workdir / "sim.log").open("wb"))
        sim_cmd = [
            *harness.serve_command(),
            "sim",
            "run",
            "--broker",
            broker,
            "--count",
            str(args.vehicles),
            "--first",
            harness.DEMO_VEHICLE,
            "--db",
            f"sqlite:///{workdir / 'sim.db'}",
            "--key-file",
            str(key),
        ]
        fleet = subprocess.Popen(sim_cmd, cwd=workdir, stdout=sim_log, stderr=subprocess.STDOUT)
        echo = subprocess.Popen(
            [sys.executable, "-m", "bench.echo", broker], stdout=subprocess.PIPE, text=True
        )
        for process in (fleet, echo):
            stack.callback(process.wait, timeout=60)
            stack.callback(process.terminate)
        say(f"fleet: sim run pid {fleet.pid}, {args.vehicles} vehicles; echo pid {echo.pid}")
        assert echo.stdout is not None
        if echo.stdout.readline().strip() != "ready":
            raise BenchError("the echo process did not start")
        for r in range(1, args.rounds + 1):
            # alternate the order so no N always runs first (or last) in a round
            order = args.counts if r % 2 else list(reversed(args.counts))
            for n in order:
                tag = f"round {r}/{args.rounds} N={n}"
                with instances(workdir, n, db, broker, key) as servers:
                    token = harness.get_token(servers[0].base_url)
                    online = wait_all_online(servers, token, codes, 180)
                    say(f"{tag}: {len(codes)} vehicles online at all {n} after {online:.1f} s")
                    results[n].append(measure_n(args, tag, servers, broker, token))
                if fleet.poll() is not None:
                    raise BenchError(f"sim run exited with {fleet.returncode}")
    return results


def main(argv: list[str]) -> int:
    args = _parse(argv)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="segway-bench-instances-") as tmp:
            results = measure(args, Path(tmp))
    except BenchError as err:
        print(f"bench FAILED: {err}", file=sys.stderr, flush=True)
        return 1
    parts = []
    summary: dict[int, dict[str, float]] = {}
    for n, runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        med["status_pct"] = statistics.median(100 * r["status"] / r["healthz"] for r in runs)
        med["p50x"] = statistics.median(r["p50"] / r["base_p50"] for r in runs)
        med["p99x"] = statistics.median(r["p99"] / r["base_p99"] for r in runs)
        summary[n] = med
        steal = f", steal {med['steal']:.1f} %" if med["steal"] >= 0 else ""
        say(
            f"N={n} ({len(runs)} rounds, medians): status {med['status']:.0f} req/s"
            f" = {med['status_pct']:.1f} % of healthz {med['healthz']:.0f} req/s;"
            f" unlock p50 {med['p50'] * 1e3:.2f} ms = {med['p50x']:.2f}x,"
            f" p99 {med['p99'] * 1e3:.2f} ms = {med['p99x']:.2f}x the baseline{steal}"
        )
        parts.append(
            f"N={n}: status {med['status']:.0f} req/s ({med['status_pct']:.0f} % of healthz),"
            f" unlock p50 {med['p50'] * 1e3:.1f} ms ({med['p50x']:.2f}x)"
            f" p99 {med['p99'] * 1e3:.1f} ms ({med['p99x']:.2f}x)"
        )
    last = max(summary)
    verdict = "met" if summary[last]["p99x"] <= P99_GOAL else "MISSED"
    say(f"total time {time.monotonic() - started:.0f} s")
    say(
        f"instances: {'; '.join(parts)}; unlock p99 with {last} instances"
        f" <= {P99_GOAL:g}x the baseline: {verdict}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(_load_main(sys.argv[1:]))
