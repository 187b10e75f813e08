"""How many simulated vehicles one core keeps on schedule at the document's intervals.

For each fleet size, `segway-gateway sim run --riding` runs pinned to one
core (taskset) against a private Mosquitto: every vehicle has its own MQTT
session and rides, so it reports status and location every 10 s each (the
document's riding intervals, the most traffic a vehicle makes). After all
are connected and two windows of settling (riders setting off, their
locations falling due at the riding interval),
the fleet's own schedule lines are read for a few windows. A size
is kept on schedule when in every window no tick started late by a full
tick (500 ms) or more, and over the windows at least 95 % of the due
reports went out. The
figure is the largest size kept; goal >= 10,000. There is no baseline to
divide by here: the goal is absolute, and the steal time is printed beside it.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench import harness
from bench.broker import mosquitto
from bench.harness import BenchError, say

GOAL = 10_000
TICK_SECONDS = 0.5
REPORTS_PER_VEHICLE_PER_SECOND = 2 / 10
FIRST_VEHICLE = 863_000_000_000_000
WARMUP_WINDOWS = 2
_SCHEDULE = re.compile(
    r"schedule: (?P<ticks>\d+) ticks, work p50 (?P<p50>[\d.]+) ms p99 (?P<p99>[\d.]+) ms,"
    r" start late by at most (?P<late>[\d.]+) ms; (?P<rate>\d+) messages/s published;"
    r" (?P<online>\d+) vehicles online"
)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench fleet", description=__doc__)
    parser.add_argument(
        "--sizes", default="2500,5000,10000,15000,20000", help="fleet sizes to try, ascending"
    )
    parser.add_argument(
        "--window", type=float, default=20.0, help="seconds per window, a multiple of 10 (20)"
    )
    parser.add_argument("--windows", type=int, default=4, help="windows per size (4)")
    parser.add_argument("--core", type=int, default=1, help="the core to pin the fleet to (1)")
    return parser.parse_args(argv)


@dataclass(frozen=True)
class Window:
    ticks: int
    work_p50_ms: float
    work_p99_ms: float
    late_ms: float
    rate: float
    online: int


@dataclass(frozen=True)
class Outcome:
    size: int
    connect_seconds: float
    windows: list[Window]
    cpu_percent: float

    def kept(self, window_seconds: float) -> bool:
        due = self.size * REPORTS_PER_VEHICLE_PER_SECOND
        sent = sum(w.rate for w in self.windows) / len(self.windows)
        return sent >= 0.95 * due and all(
            w.late_ms < TICK_SECONDS * 1000 and w.ticks >= 0.9 * window_seconds / TICK_SECONDS
            for w in self.windows
        )

    def describe(self) -> str:
        worst_late = max(w.late_ms for w in self.windows)
        p99 = max(w.work_p99_ms for w in self.windows)
        rates = "/".join(f"{w.rate:.0f}" for w in self.windows)
        online = min(w.online for w in self.windows)
        return (
            f"{self.size:6d} vehicles: connected in {self.connect_seconds:.1f} s, tick work p99"
            f" {p99:.0f} ms, worst start {worst_late:.0f} ms late, {rates} msg/s"
            f" (due {self.size * REPORTS_PER_VEHICLE_PER_SECOND:.0f}), at least {online} online,"
            f" CPU {self.cpu_percent:.0f} %"
        )


class _Lines:
    """The fleet process's stdout, read on a thread so waits can time out."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._process = process
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self.lines.append(line.rstrip())

    def wait_for(self, pattern: str, timeout: float, start: int = 0) -> tuple[int, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for index in range(start, len(self.lines)):
                if re.search(pattern, self.lines[index]):
                    return index, self.lines[index]
            if self._process.poll() is not None:
                break
            time.sleep(0.2)
        tail = "\n".join(self.lines[-10:])
        raise BenchError(f"the fleet never printed {pattern!r}:\n{tail}")


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_size(size: int, args: argparse.Namespace, workdir: Path) -> Outcome:
    taskset = shutil.which("taskset")
    pin = [taskset, "-c", str(args.core)] if taskset else []
    with mosquitto(workdir) as broker:
        command = [
            *pin,
            *harness.serve_command(),
            "sim",
            "run",
            "--broker",
            broker,
            "--count",
            str(size),
            "--first",
            str(FIRST_VEHICLE),
            "--riding",
            "--report-every",
            str(args.window),
            "--db",
            f"sqlite:///{workdir / f'fleet-{size}.db'}",
        ]
        process = subprocess.Popen(
            command, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            lines = _Lines(process)
            index, line = lines.wait_for(r"vehicles online after", timeout=600)
            if not line.startswith(f"{size} of {size}"):
                raise BenchError(f"not every vehicle connected: {line}")
            connect_seconds = float(re.findall(r"after ([\d.]+) s", line)[0])
            for _ in range(WARMUP_WINDOWS):  # rides starting, locations falling due
                index, _ = lines.wait_for(r"^schedule:", args.window * 3 + 60, index + 1)
            cpu_before, started = _cpu_seconds(process.pid), time.monotonic()
            windows = []
            for _ in range(args.windows):
                index, line = lines.wait_for(r"^schedule:", args.window * 3 + 60, index + 1)
                match = _SCHEDULE.search(line)
                if match is None:
                    raise BenchError(f"unexpected schedule line: {line}")
                windows.append(
                    Window(
                        int(match["ticks"]),
                        float(match["p50"]),
                        float(match["p99"]),
                        float(match["late"]),
                        float(match["rate"]),
                        int(match["online"]),
                    )
                )
            cpu = 100 * (_cpu_seconds(process.pid) - cpu_before) / (time.monotonic() - started)
            return Outcome(size, connect_seconds, windows, cpu)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=180)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)


def main(argv: list[str]) -> int:
    args = _parse(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    kept = 0
    machine_before = harness.cpu_times()
    try:
        with tempfile.TemporaryDirectory(prefix="segway-bench-fleet-") as tmp:
            for size in sizes:
                outcome = run_size(size, args, Path(tmp))
                on_time = outcome.kept(args.window)
                say(f"{outcome.describe()}: {'on schedule' if on_time else 'BEHIND'}")
                if not on_time:
                    break
                kept = size
    except BenchError as err:
        print(f"bench FAILED: {err}", file=sys.stderr, flush=True)
        return 1
    steal = harness.steal_percent(machine_before, harness.cpu_times())
    if steal is not None:
        say(f"machine: {steal:.1f} % of CPU time stolen by the hypervisor")
    verdict = "met" if kept >= GOAL else "MISSED"
    say(
        f"fleet: one core keeps {kept} riding vehicles on schedule"
        f" (largest size tried that kept up; goal >= {GOAL}: {verdict})"
    )
    return 0
