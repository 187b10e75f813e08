"""Status query throughput, as a share of the same server's bare /healthz throughput.

Measured: requests per second of authenticated status queries
(`GET /api/v2/vehicle/query/current/status?iotCode=...` with `Authorization:
bearer TOKEN`) and of `GET /healthz`, which answers a constant through the
same uvicorn + FastAPI stack and nothing else. One `segway-gateway serve
--demo` process (one uvicorn worker, default flags and log level, a temporary
SQLite database) serves both; `wrk` loads it from a separate process over
loopback. Runs alternate (healthz, status, healthz, status, ...; 5 rounds of
8 s by default) and the median of each kind is taken; each run also prints
the server's CPU time per request, read from /proc.

Why a ratio: absolute req/s on a shared, noisy machine (2 cores, high steal
time) swing by tens of percent from minute to minute, and differ from machine
to machine. Both figures swing together, so status / healthz says what the
API's own work (auth, lookup, envelope, logging) costs on top of serving any
request at all, which is the part this project controls. Goal: >= 50 %.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from bench import harness
from bench.harness import BenchError, say

GOAL_PERCENT = 50.0


def wrk_runs(prog: str, description: str, pairs: str) -> argparse.ArgumentParser:
    """The options of a benchmark of alternating wrk runs (`pairs` names a round's runs);
    parse with `parse_runs`."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--rounds", type=int, default=5, help=f"{pairs} pairs (default 5)")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per run (8)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up each (3)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (1)")
    parser.add_argument(
        "--startup-timeout", type=float, default=180.0, help="seconds to wait for /healthz (180)"
    )
    return parser


def parse_runs(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.duration <= 0 or args.connections < 1 or args.threads < 1:
        parser.error("rounds, duration, connections and threads must be positive")
    return args


def _parse(argv: list[str]) -> argparse.Namespace:
    description = __doc__.splitlines()[0]
    return parse_runs(wrk_runs("python -m bench", description, "healthz/status"), argv)


def terminate(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def wait_for_status(base_url: str, token: str, timeout: float = 60.0) -> None:
    """Until the demo vehicle has reported once (before that the query answers 'offline')."""
    started = time.monotonic()
    while True:
        answer = harness.status_envelope(base_url, token)
        if answer.get("code") == 0:
            harness.check_status(base_url, token)
            return
        if time.monotonic() - started > timeout:
            raise BenchError(f"the status query never succeeded: {answer}")
        time.sleep(0.5)


@dataclass(frozen=True)
class Variant:
    """One kind of run: wrk against `url` with `script`, after `prepare()`; `server` (if
    not the one all runs go to) is the one whose CPU time is read."""

    name: str
    url: str
    script: Path
    prepare: Callable[[], None] = lambda: None
    server: harness.Server | None = None


def alternate(
    server: harness.Server,
    wrk: str,
    args: argparse.Namespace,
    variants: list[Variant],
    check: Callable[[], None],
) -> list[list[float]]:
    """`args.rounds` rounds, each running every variant once, in order; `check()` after
    each round. The req/s of each run, per variant; the ratio of the last variant to the
    first is printed per round."""
    say(
        f"measuring: {args.rounds} rounds x ({', '.join(v.name for v in variants)}),"
        f" {args.duration:g} s each, wrk -t{args.threads} -c{args.connections}"
    )
    rates: list[list[float]] = [[] for _ in variants]
    for n in range(1, args.rounds + 1):
        for variant, measured in zip(variants, rates, strict=True):
            variant.prepare()
            measured_server = variant.server or server
            cpu_before = measured_server.cpu_seconds()
            result = harness.run_wrk(
                wrk, variant.url, variant.script, args.duration, args.connections, args.threads
            )
            cpu_after = measured_server.cpu_seconds()
            cpu = ""
            if cpu_before is not None and cpu_after is not None:
                cpu = f", server CPU {1e3 * (cpu_after - cpu_before) / result.requests:.2f} ms/req"
            say(f"round {n}/{args.rounds} {variant.name:9s} {result.describe()}{cpu}")
            measured.append(result.rps)
        check()
        say(f"round {n}/{args.rounds} ratio   {100 * rates[-1][-1] / rates[0][-1]:.1f} %")
    return rates


def measure(args: argparse.Namespace, workdir: Path) -> tuple[float, float]:
    """Median req/s of (status, healthz)."""
    wrk = harness.ensure_wrk()
    say(f"wrk: {wrk}")
    with harness.gateway_server(workdir) as server:
        say("server: waiting for /healthz (first start may take a minute) ...")
        say(f"server: /healthz answers after {server.wait_healthy(args.startup_timeout):.1f} s")
        token = harness.get_token(server.base_url)
        wait_for_status(server.base_url, token)
        say("check: status query answers code 0 (before the runs)")

        healthz_url = f"{server.base_url}/healthz"
        status_url = f"{server.base_url}{harness.STATUS_PATH}?iotCode={harness.DEMO_VEHICLE}"
        plain = harness.write_wrk_script(workdir / "healthz.lua")
        authed = harness.write_wrk_script(
            workdir / "status.lua", {"Authorization": f"bearer {token}"}
        )

        if args.warmup > 0:
            say(f"warm-up: {args.warmup:g} s each of healthz and status")
            harness.run_wrk(wrk, healthz_url, plain, args.warmup, args.connections, args.threads)
            harness.run_wrk(wrk, status_url, authed, args.warmup, args.connections, args.threads)
            harness.check_status(server.base_url, token)

        machine_before = harness.cpu_times()
        healthz, status = alternate(
            server,
            wrk,
            args,
            [Variant("healthz", healthz_url, plain), Variant("status", status_url, authed)],
            lambda: harness.check_status(server.base_url, token),
        )
        steal = harness.steal_percent(machine_before, harness.cpu_times())
        harness.check_status(server.base_url, token)
        say("check: status query answers code 0 (after the runs)")
        pair_ratios = [100 * s / h for s, h in zip(status, healthz, strict=True)]
        say(
            f"noise: healthz {min(healthz):.0f}..{max(healthz):.0f} req/s,"
            f" status {min(status):.0f}..{max(status):.0f} req/s,"
            f" per-round ratio {min(pair_ratios):.1f}..{max(pair_ratios):.1f} %"
            f" (median {statistics.median(pair_ratios):.1f} %)"
        )
        if steal is not None:
            say(f"machine: {steal:.1f} % of CPU time stolen by the hypervisor during the runs")
    return statistics.median(status), statistics.median(healthz)


def run_ratio(
    measure: Callable[[Path], tuple[float, float]], goal_percent: float, said: str
) -> int:
    """Run `measure` (a figure and its baseline, in req/s) in a temporary directory and
    print the verdict: `said` names the two, as "A: {0} req/s vs B {1} req/s"."""
    signal.signal(signal.SIGTERM, terminate)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="segway-bench-") as tmp:
            figure, baseline = measure(Path(tmp))
    except BenchError as err:
        print(f"bench FAILED: {err}", file=sys.stderr, flush=True)
        return 1
    percent = 100.0 * figure / baseline
    verdict = "met" if percent >= goal_percent else "MISSED"
    say(f"goal {verdict}; total time {time.monotonic() - started:.0f} s")
    say(
        said.format(f"{figure:.0f}", f"{baseline:.0f}")
        + f" = {percent:.1f} % (goal >= {goal_percent:.0f} %)"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    return run_ratio(
        lambda workdir: measure(args, workdir),
        GOAL_PERCENT,
        "status query: {0} req/s vs healthz {1} req/s",
    )


if __name__ == "__main__":
    sys.exit(main())
