"""Device messages one gateway process ingests per second, against the MQTT library's own rate.

Measured: status messages per second that `segway-gateway serve --broker`
handles (parsed, validated, written in batches to SQLite when newer than the
vehicle's state, and acknowledged to the broker after the commit: QoS 1 both
ways, as vehicles publish), read from its admin API's `messagesReceived`, while two
load-generator processes (`bench.blaster`) offer far more than it can take
through a private Mosquitto. The messages go to 10,000 registered vehicles.
Baseline, in the same run and alternating with it: a bare gmqtt subscriber
(`bench.raw_subscriber`, the library the gateway uses) counting the same
load, sent under a topic root the gateway does not read. Goal: >= 20,000
messages/s (ten times the traffic of 10,000 riding bikes: status and
location every 10 s each); the ratio says what the gateway's own work costs
on top of receiving.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import harness
from bench.broker import mosquitto
from bench.harness import BenchError, say
from bench.raw_subscriber import ROOT as RAW_ROOT

GOAL = 20_000.0
TOPIC_ROOT = "segway/v1"
FIRST_VEHICLE = 862_000_000_000_000
ADMIN_TOKEN = "bench-admin-token"
BLASTERS = 2
IDLE_SECONDS = 3.0
POLL_SECONDS = 0.05


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench ingest", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="gateway/raw pairs (3)")
    parser.add_argument("--messages", type=int, default=200_000, help="per run (200000)")
    parser.add_argument("--vehicles", type=int, default=10_000, help="registered (10000)")
    return parser.parse_args(argv)


def _blast(
    url: str, messages: int, vehicles: int, root: str = TOPIC_ROOT
) -> list[subprocess.Popen[str]]:
    share = messages // BLASTERS
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.blaster",
                url,
                str(share),
                str(FIRST_VEHICLE),
                str(vehicles),
                root,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(BLASTERS)
    ]


def _finish(blasters: list[subprocess.Popen[str]]) -> None:
    for blaster in blasters:
        out, _ = blaster.communicate(timeout=300)
        if blaster.returncode != 0:
            raise BenchError(f"a blaster failed: {out}")


def _fields(line: str) -> dict[str, float]:
    return {k: float(v) for k, v in (kv.split("=") for kv in line.split())}


def raw_rate(url: str, messages: int, vehicles: int) -> tuple[float, int]:
    """(messages/s, received) of the bare subscriber."""
    sent = messages // BLASTERS * BLASTERS
    subscriber = subprocess.Popen(
        [sys.executable, "-m", "bench.raw_subscriber", url, str(sent)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert subscriber.stdout is not None
    if subscriber.stdout.readline().strip() != "ready":
        raise BenchError("the raw subscriber did not subscribe")
    _finish(_blast(url, messages, vehicles, RAW_ROOT))
    out, _ = subscriber.communicate(timeout=600)
    result = _fields(out.strip().splitlines()[-1])
    return result["received"] / result["seconds"], int(result["received"])


def _received(base_url: str) -> int:
    status = harness.http_json(
        f"{base_url}/admin/v1/device-link", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    return int(status["messagesReceived"])


def gateway_rate(base_url: str, url: str, messages: int, vehicles: int) -> tuple[float, int]:
    """(messages/s, handled) of the gateway, from its counter polled every 50 ms."""
    before = _received(base_url)
    blasters = _blast(url, messages, vehicles)
    started = time.monotonic()
    first = last = before
    first_at = last_at = 0.0
    while True:
        time.sleep(POLL_SECONDS)
        now, count = time.monotonic(), _received(base_url)
        if count > last:
            if last == before:
                first, first_at = count, now
            last, last_at = count, now
        elif last > before and now - last_at > IDLE_SECONDS:
            break
        elif last == before and now - started > 60:
            raise BenchError("the gateway handled no message within 60 s")
    _finish(blasters)
    return (last - first) / (last_at - first_at), last - before


def _register(workdir: Path, vehicles: int) -> None:
    db = f"sqlite:///{workdir / 'bench.db'}"
    cli = harness.serve_command()
    for args in (
        ["platform", "add", harness.DEMO_PLATFORM, "--secret", harness.DEMO_SECRET],
        [
            "vehicle",
            "add",
            *(str(FIRST_VEHICLE + n) for n in range(vehicles)),
            "--platform",
            harness.DEMO_PLATFORM,
        ],
    ):
        done = subprocess.run(
            [*cli, *args, "--db", db], cwd=workdir, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise BenchError(f"{args[:2]} failed: {done.stderr}")


def measure(args: argparse.Namespace, workdir: Path) -> tuple[float, float]:
    """Median messages/s of (gateway, raw subscriber)."""
    _register(workdir, args.vehicles)
    say(f"registered {args.vehicles} vehicles")
    with (
        mosquitto(workdir) as url,
        harness.gateway_server(
            workdir, "--broker", url, env={"SEGWAY_GATEWAY_ADMIN_TOKEN": ADMIN_TOKEN}
        ) as server,
    ):
        say(f"server: /healthz answers after {server.wait_healthy(180):.1f} s")
        gateway_rate(server.base_url, url, 20_000, args.vehicles)  # warm-up
        gateway: list[float] = []
        raw: list[float] = []
        machine_before = harness.cpu_times()
        for n in range(1, args.rounds + 1):
            rate, handled = gateway_rate(server.base_url, url, args.messages, args.vehicles)
            gateway.append(rate)
            say(
                f"round {n}/{args.rounds} gateway {rate:8.0f} msg/s"
                f" ({handled} handled of {args.messages})"
            )
            rate, received = raw_rate(url, args.messages, args.vehicles)
            raw.append(rate)
            say(
                f"round {n}/{args.rounds} raw     {rate:8.0f} msg/s"
                f" ({received} received of {args.messages})"
            )
        steal = harness.steal_percent(machine_before, harness.cpu_times())
        if steal is not None:
            say(f"machine: {steal:.1f} % of CPU time stolen by the hypervisor during the runs")
    return statistics.median(gateway), statistics.median(raw)


def main(argv: list[str]) -> int:
    args = _parse(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="segway-bench-ingest-") as tmp:
            gateway, raw = measure(args, Path(tmp))
    except BenchError as err:
        print(f"bench FAILED: {err}", file=sys.stderr, flush=True)
        return 1
    verdict = "met" if gateway >= GOAL else "MISSED"
    say(
        f"ingest: {gateway:.0f} msg/s handled by the gateway (goal >= {GOAL:.0f}: {verdict}),"
        f" {100 * gateway / raw:.1f} % of gmqtt's bare receive rate {raw:.0f} msg/s"
    )
    return 0
