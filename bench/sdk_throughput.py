"""SDK status calls per second, as a share of raw httpx doing the same requests.

Measured, in one client process (asyncio's default loop): status queries per
second through `AsyncClient.status` and through a bare `httpx.AsyncClient`
sending the same GET (same path, iotCode rotating over the demo fleet, same
bearer token, --concurrency tasks in flight, 8 by default). Each side has its
own `httpx.AsyncClient` built by the same function (same limits and timeout);
the SDK gets its one through `http=`. Rounds alternate (raw, sdk, then sdk,
raw, ...; 10 rounds of 3 s by default, after a warm-up of each): many short
rounds, because on a shared machine the noise comes in bursts of seconds. The
medians are compared, and so is the client's CPU per call (raw / sdk), which
other load on the machine disturbs less than req/s.

Every answer is checked on both sides, else the run fails. Raw: HTTP 200,
JSON parsed, `code == 0`, `data.iotCode` is the vehicle asked for. SDK: what
`status` does (the envelope and `StatusData` validated by pydantic, errors
raised by code; retries off, so none is hidden), and the same iotCode check.

Two servers, one after the other. `gateway`: `segway-gateway serve --demo`
(one uvicorn worker, a temporary SQLite database), the real thing; if its CPU
set the pace, both sides would wait on it and the ratio would say little about
the SDK. `canned`: a bare ASGI app under uvicorn (`bench.canned_status`)
replaying the answers captured from that gateway, so cheap that the client
process is the bottleneck and the ratio shows what the SDK costs per call.
Each run prints both processes' CPU (from /proc), and which one is the
bottleneck is stated. Goal: >= 80 % in both scenarios.

Why 8 in flight: each run also prints how many connections its pool holds.
httpcore's (1.0.9) bookkeeping per request grows with the idle connections in
the pool, so from 16 in flight on a client-bound process makes about half as
many calls per second as at 8, the cost of a call swings 2x with the pool's
size, and the ratio swings between 50 and 250 % from round to round, whatever
the SDK does (see it with --concurrency 32).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from bench import harness
from bench.harness import BenchError, say
from segway_gateway import AsyncClient
from segway_gateway.cli.demo import DEMO_FIRST_VEHICLE, DEMO_FLEET_SIZE
from segway_gateway.client.clients import DEFAULT_TIMEOUT
from segway_gateway.client.policy import NO_RETRY

GOAL_PERCENT = 80.0
FLEET = [str(DEMO_FIRST_VEHICLE + n) for n in range(DEMO_FLEET_SIZE)]
SATURATED = 90.0
"""Percent of one core from which a process counts as saturated."""
KEEPALIVE_EXPIRY = 4.0
"""Seconds a pooled connection is kept idle: under uvicorn's 5 s, the servers' idle
timeout, so the client drops it first (at httpx's default, also 5 s, they can race
when rounds alternate, and a request on a connection just closed fails)."""


@dataclass(frozen=True)
class Side:
    """One way of asking: `call(iotCode)` checks the answer; `http` carries it."""

    name: str
    call: Callable[[str], Awaitable[None]]
    http: httpx.AsyncClient


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench sdk", description=__doc__)
    parser.add_argument("--rounds", type=int, default=10, help="raw/sdk pairs per server (10)")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per run (3)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up each (2)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight (8)")
    parser.add_argument("--only", choices=["gateway", "canned"], help="measure one server only")
    parser.add_argument(
        "--startup-timeout", type=float, default=180.0, help="seconds to wait for /healthz (180)"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.duration <= 0 or args.concurrency < 1:
        parser.error("rounds, duration and concurrency must be positive")
    return args


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    client_cpu: float
    server_cpu: float | None
    connections: int | None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def load(self, cpu: float | None) -> float | None:
        """Percent of one core."""
        return None if cpu is None else 100 * cpu / self.seconds

    def describe(self) -> str:
        return (
            f"{self.rps:7.0f} req/s ({self.requests} in {self.seconds:.1f} s);"
            f" CPU % of a core: client {_num(self.load(self.client_cpu))}"
            f" ({1e6 * self.client_cpu / self.requests:.0f} us/req),"
            f" server {_num(self.load(self.server_cpu))}; pool {_num(self.connections)} conns"
        )


def _num(value: float | None) -> str:
    return "?" if value is None else f"{value:.0f}"


def _http(concurrency: int) -> httpx.AsyncClient:
    """Both sides' HTTP client: one connection per task in flight, kept alive."""
    limits = httpx.Limits(
        max_connections=concurrency,
        max_keepalive_connections=concurrency,
        keepalive_expiry=KEEPALIVE_EXPIRY,
    )
    return httpx.AsyncClient(timeout=DEFAULT_TIMEOUT, limits=limits)


def _connections(http: httpx.AsyncClient) -> int | None:
    """Connections in the client's pool (a peek at httpx internals; None if they moved)."""
    pool = getattr(getattr(http, "_transport", None), "_pool", None)
    connections = getattr(pool, "connections", None)
    return len(connections) if isinstance(connections, list) else None


async def _drive(side: Side, concurrency: int, seconds: float, server: harness.Server) -> Run:
    """`concurrency` tasks calling in a loop over the fleet until `seconds` are up."""
    codes = itertools.cycle(FLEET)
    done = 0

    async def worker() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            await side.call(next(codes))
            done += 1

    server_before, client_before = server.cpu_seconds(), time.process_time()
    started = time.monotonic()
    deadline = started + seconds
    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(worker())
    except* Exception as errors:
        raise BenchError(f"{side.name}: a call failed: {errors.exceptions[0]!r}") from None
    elapsed = time.monotonic() - started
    client_cpu = time.process_time() - client_before
    server_after = server.cpu_seconds()
    server_cpu = None
    if server_before is not None and server_after is not None:
        server_cpu = server_after - server_before
    if done == 0:
        raise BenchError("no call completed")
    return Run(done, elapsed, client_cpu, server_cpu, _connections(side.http))


async def _compare(args: argparse.Namespace, server: harness.Server) -> dict[str, list[Run]]:
    """Runs per side against one server, alternating which side goes first."""
    url = f"{server.base_url}{harness.STATUS_PATH}"
    raw_http, sdk_http = _http(args.concurrency), _http(args.concurrency)
    async with (
        raw_http,
        AsyncClient(
            harness.DEMO_PLATFORM,
            harness.DEMO_SECRET,
            server.base_url,
            retry=NO_RETRY,
            http=sdk_http,
        ) as api,
    ):
        headers = {"Authorization": f"bearer {(await api.token()).value}"}

        async def raw(code: str) -> None:
            response = await raw_http.get(url, params={"iotCode": code}, headers=headers)
            answer = json.loads(response.content)
            data = answer.get("data") or {}
            if (
                response.status_code != 200
                or answer.get("code") != 0
                or data.get("iotCode") != code
            ):
                raise BenchError(f"raw: {code}: HTTP {response.status_code} {answer}")

        async def sdk(code: str) -> None:
            if (await api.status(code)).iot_code != code:
                raise BenchError(f"sdk: asked for {code}, got another vehicle")

        sides = [Side("raw", raw, raw_http), Side("sdk", sdk, sdk_http)]
        if args.warmup > 0:
            for side in sides:
                await _drive(side, args.concurrency, args.warmup, server)
        runs: dict[str, list[Run]] = {side.name: [] for side in sides}
        for n in range(1, args.rounds + 1):
            for side in sides if n % 2 else reversed(sides):
                run = await _drive(side, args.concurrency, args.duration, server)
                runs[side.name].append(run)
                say(f"round {n}/{args.rounds} {side.name} {run.describe()}")
    return runs


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _others(before: list[int] | None, after: list[int] | None, runs: list[Run]) -> float | None:
    """Cores' worth of CPU the rest of the machine (not client, not server) used meanwhile."""
    if before is None or after is None:
        return None
    delta = [b - a for a, b in zip(before, after, strict=False)]
    busy = (sum(delta[:8]) - delta[3] - delta[4]) / os.sysconf("SC_CLK_TCK")  # minus idle, iowait
    ours = sum(r.client_cpu + (r.server_cpu or 0.0) for r in runs)
    return max(0.0, busy - ours) / sum(r.seconds for r in runs)


def _summarize(label: str, runs: dict[str, list[Run]], others: float | None) -> float:
    """Print the medians, ratio, CPU and pools; return the ratio in percent."""
    raw, sdk = runs["raw"], runs["sdk"]
    raw_rps, sdk_rps = statistics.median(r.rps for r in raw), statistics.median(r.rps for r in sdk)
    percent = 100 * sdk_rps / raw_rps
    pairs = [100 * s.rps / r.rps for r, s in zip(raw, sdk, strict=True)]
    client_us = {}
    for name, side in runs.items():
        client_us[name] = statistics.median(1e6 * r.client_cpu / r.requests for r in side)
        server_us = _median([1e6 * r.server_cpu / r.requests for r in side if r.server_cpu])
        say(
            f"{label}: {name} median CPU per call: client {client_us[name]:.0f} us,"
            f" server {_num(server_us)} us; pool {_num(_median([r.connections for r in side]))}"
            " connections"
        )
    cpu_percent = 100 * client_us["raw"] / client_us["sdk"]
    say(f"{label}: client CPU per call, raw / sdk = {cpu_percent:.1f} %")
    client = _median([r.load(r.client_cpu) for r in raw + sdk])
    server = _median([r.load(r.server_cpu) for r in raw + sdk])
    heavier = "client" if server is None or (client or 0) >= server else "SERVER"
    saturated = max(client or 0, server or 0) >= SATURATED
    state = "saturated" if saturated else "neither saturated: the machine is busy"
    say(
        f"{label}: bottleneck the {heavier} (median CPU % of a core: client {_num(client)},"
        f" server {_num(server)}; {state}; other processes used"
        f" {_num(None if others is None else 100 * others)} % of a core)"
    )
    if heavier == "SERVER":
        say(f"{label}: the server sets the pace: this ratio says little about the SDK")
    spread = f"{min(pairs):.0f}..{max(pairs):.0f} %, median {statistics.median(pairs):.0f} %"
    say(
        f"{label}: sdk {sdk_rps:.0f} req/s vs raw httpx {raw_rps:.0f} req/s = {percent:.1f} %"
        f" (per round {spread}; goal >= {GOAL_PERCENT:.0f} %)"
    )
    return percent


def _measure(label: str, args: argparse.Namespace, server: harness.Server) -> float:
    say(
        f"{label}: {args.rounds} rounds x (raw, sdk), {args.duration:g} s each,"
        f" {args.concurrency} in flight, fleet of {len(FLEET)}"
    )
    before = harness.cpu_times()
    runs = asyncio.run(_compare(args, server))
    after = harness.cpu_times()
    steal = harness.steal_percent(before, after)
    if steal is not None:
        say(f"{label}: {steal:.1f} % of machine CPU time stolen by the hypervisor")
    return _summarize(label, runs, _others(before, after, runs["raw"] + runs["sdk"]))


def _capture(base_url: str, timeout: float = 60.0) -> dict[str, Any]:
    """A token and each vehicle's status answer, once all have reported (code 0)."""
    token = harness.get_token(base_url)
    started = time.monotonic()
    answers = {}
    for code in FLEET:
        while (answer := harness.status_envelope(base_url, token, code)).get("code") != 0:
            if time.monotonic() - started > timeout:
                raise BenchError(f"the status of {code} never succeeded: {answer}")
            time.sleep(0.5)
        harness.check_status(base_url, token, code)
        answers[code] = answer
    return {"token": token, "status": answers}


@contextmanager
def _canned_server(workdir: Path, answers: dict[str, Any]) -> Iterator[harness.Server]:
    """`python -m bench.canned_status` on a free port, replaying `answers`."""
    answers_path = workdir / "answers.json"
    answers_path.write_text(json.dumps(answers))
    port = harness.free_port()
    log_path = workdir / "canned.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.canned_status", str(port), str(answers_path)],
            cwd=Path(__file__).resolve().parent.parent,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = harness.Server(process, f"http://127.0.0.1:{port}", log_path)
    say(f"canned: pid {process.pid}, {server.base_url}")
    try:
        yield server
    finally:
        server.stop()


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, float]:
    """The ratio (percent) per server measured."""
    say("raw checks: HTTP 200, JSON parsed, code == 0, data.iotCode == asked")
    say("sdk checks: AsyncClient.status (Envelope + StatusData validated), iot_code == asked")
    ratios: dict[str, float] = {}
    with harness.gateway_server(workdir) as gateway:
        say(f"gateway: /healthz answers after {gateway.wait_healthy(args.startup_timeout):.1f} s")
        answers = _capture(gateway.base_url)
        say(f"gateway: all {len(FLEET)} vehicles answer code 0")
        if args.only != "canned":
            ratios["gateway"] = _measure("gateway", args, gateway)
    if args.only != "gateway":
        with _canned_server(workdir, answers) as canned:
            canned.wait_healthy(30)
            ratios["canned"] = _measure("canned", args, canned)
    return ratios


def _terminate(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGTERM, _terminate)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="segway-bench-") as tmp:
            ratios = measure(args, Path(tmp))
    except BenchError as err:
        print(f"bench FAILED: {err}", file=sys.stderr, flush=True)
        return 1
    verdict = "met" if min(ratios.values()) >= GOAL_PERCENT else "MISSED"
    say(f"goal {verdict}; total time {time.monotonic() - started:.0f} s")
    say(
        "sdk vs raw httpx: "
        + ", ".join(f"{label} {percent:.1f} %" for label, percent in ratios.items())
        + f" (goal >= {GOAL_PERCENT:.0f} %)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
