"""Status query throughput with operator consoles open on a 1,000-vehicle fleet, vs none open.

Fleet: one `segway-gateway serve --demo` process (as in `bench status`) whose demo
platform gets `--vehicles` in all (default 1,000: the demo's ten plus the rest added with
`segway-gateway vehicle add` while it serves, in the demo's range), all simulated in
process. The demo's riders only take unlocked vehicles out, so `--riding` of them (default
100, 10 %; never the vehicle wrk queries) are unlocked through the API: they ride and
report every 10 s, the rest stand locked and report every 15 min, and the feed has
changes to send. Measuring starts once the console's own feed shows every vehicle online
with a fix and 90 % of the unlocked ones riding (the steady state: the fleet's own load
no longer grows from run to run).

Consoles: `--consoles` sessions (default 10), each logged in once (a platform session,
POST /console/login with the demo's client id and secret), played by a separate process
(asyncio + httpx, so the bench's own interpreter stays out of the way): like a browser,
each console loads the fleet page (`GET /console`, every vehicle in the list and the map
data), opens the live feed (`GET /console/live`, Server-Sent Events: a snapshot, then the
vehicles that changed) and reads every event until the run ends (with `--reload S`, it
also reloads the page every S seconds). They are opened before each "consoles" run (page
loaded, snapshot and first change read: what opening costs is not measured, what being
open costs is) and closed after it, so "none" runs have none: the feed stops polling the
store when its last stream closes.

Measured: status queries per second with wrk, as in `bench status`, in rounds that
alternate "none" (no console open) and "consoles"; median of each kind. Printed beside
them: what the consoles received per second once open (events, vehicle summaries, bytes;
the bench fails if one received no change after its snapshot; a note if one got the
whole fleet again as its first change), the consoles' own CPU, the fleet page's size and
load time, and before the rounds the server's CPU at idle (no wrk) with and without the
consoles, i.e. what the feed's once-a-second poll of the whole fleet costs. Goal: >= 90 %.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

from bench import harness, status_throughput
from bench.harness import BenchError, say
from bench.status_throughput import Variant

GOAL_PERCENT = 90.0
COOKIE = "segway_console"
DEMO_FLEET_SIZE = 10
UNLOCK_PATH = "/api/v2/vehicle/control/unlock"
FEED_STOPS_WITHIN = 2.0
"""Seconds after the last stream closed by which the feed has stopped polling (it polls
once a second; the server sees a closed stream at once)."""
OPEN_TIMEOUT = 60.0
SETTLE_SECONDS = 3.0
STEADY_RIDING = 0.9
"""Measuring starts once this share of the unlocked vehicles ride (riders set off 10 s
after an unlock and ride 5 min on average, so about 97 % ride in the steady state): the
fleet's own load no longer grows from run to run."""


def _parse(argv: list[str]) -> argparse.Namespace:
    description = __doc__.splitlines()[0]
    parser = status_throughput.wrk_runs("python -m bench console", description, "none/consoles")
    parser.add_argument("--consoles", type=int, default=10, help="consoles open (10)")
    parser.add_argument("--vehicles", type=int, default=1000, help="fleet size (1000)")
    parser.add_argument(
        "--riding", type=int, default=100, help="vehicles unlocked for the demo's riders (100)"
    )
    parser.add_argument(
        "--reload",
        type=float,
        default=0.0,
        help="each console reloads the fleet page every this many seconds (0: once a run)",
    )
    parser.add_argument(
        "--idle", type=float, default=10.0, help="seconds of idle server CPU sampled (10; 0: no)"
    )
    parser.add_argument(
        "--fleet-timeout", type=float, default=180.0, help="seconds for all to report (180)"
    )
    args = status_throughput.parse_runs(parser, argv)
    if args.consoles < 1:
        parser.error("--consoles must be at least 1")
    if args.vehicles < DEMO_FLEET_SIZE:
        parser.error(f"--vehicles must be at least the demo's {DEMO_FLEET_SIZE}")
    if not 0 <= args.riding < args.vehicles:
        parser.error("--riding must be at least 0 and less than --vehicles")
    return args


def fleet_codes(size: int) -> list[str]:
    """The fleet: the demo's vehicles first, then the ones the bench adds, in one range."""
    first = int(harness.DEMO_VEHICLE)
    return [str(first + n) for n in range(size)]


# the consoles' process ---------------------------------------------------------------


@dataclass
class ConsoleStats:
    """What one console did while it was open."""

    page_bytes: int = 0
    page_ms: list[float] = field(default_factory=list)
    snapshot: int = 0
    """Vehicles in the feed's first event."""
    events: int = 0
    """Events after the snapshot (since all the consoles were open)."""
    summaries: int = 0
    bytes: int = 0
    keepalives: int = 0
    first: int = 0
    """Vehicles in the first event after the snapshot."""


async def _load_page(client: httpx.AsyncClient, stats: ConsoleStats) -> None:
    started = time.perf_counter()
    page = await client.get("/console")
    stats.page_ms.append(1000 * (time.perf_counter() - started))
    if page.status_code != 200 or "<h1>Fleet</h1>" not in page.text:
        raise BenchError(f"GET /console answered {page.status_code}, not the fleet page")
    stats.page_bytes = len(page.content)


async def _console(
    base_url: str, cookie: str, reload_every: float, stats: ConsoleStats, ready: asyncio.Event
) -> None:
    """One browser with the console open: the page, then the live feed read to the end;
    `ready` once it has its snapshot and the first change after it (or `SETTLE_SECONDS`
    without one)."""
    async with httpx.AsyncClient(
        base_url=base_url, cookies={COOKIE: cookie}, timeout=httpx.Timeout(30, read=60)
    ) as client:
        await _load_page(client, stats)
        async with client.stream("GET", "/console/live") as feed:
            if feed.status_code != 200 or not feed.headers.get("content-type", "").startswith(
                "text/event-stream"
            ):
                raise BenchError(f"GET /console/live answered {feed.status_code}")
            loop = asyncio.get_running_loop()
            settling: asyncio.TimerHandle | None = None
            reloading: asyncio.Task[None] | None = None
            pending = b""
            try:
                async for chunk in feed.aiter_raw():
                    pending += chunk
                    while b"\n\n" in pending:
                        event, pending = pending.split(b"\n\n", 1)
                        _take(event, stats)
                        if stats.snapshot and settling is None:
                            settling = loop.call_later(SETTLE_SECONDS, ready.set)
                        if stats.first:
                            ready.set()
                        if ready.is_set() and reload_every > 0 and reloading is None:
                            reloading = asyncio.create_task(_reload(client, reload_every, stats))
            finally:
                if settling is not None:
                    settling.cancel()
                if reloading is not None:
                    reloading.cancel()
        raise BenchError("the server ended a console's live feed")


def _take(event: bytes, stats: ConsoleStats) -> None:
    """Count one Server-Sent Event (the first with data is the snapshot)."""
    data = [line[5:].strip() for line in event.split(b"\n") if line.startswith(b"data:")]
    if not data:
        if event.startswith(b":"):
            stats.keepalives += 1
        return
    summaries = json.loads(b"\n".join(data))
    if not stats.snapshot:
        stats.snapshot = len(summaries) or -1
        return
    stats.events += 1
    stats.summaries += len(summaries)
    stats.first = stats.first or len(summaries)
    stats.bytes += len(event) + 2


async def _reload(client: httpx.AsyncClient, every: float, stats: ConsoleStats) -> None:
    while True:
        await asyncio.sleep(every)
        await _load_page(client, stats)


async def _run_consoles(
    base_url: str, cookies: list[str], reload_every: float, conn: Connection
) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def asked_to_stop() -> None:  # anything on the pipe, or its end
        loop.remove_reader(conn.fileno())
        stop.set()

    loop.add_reader(conn.fileno(), asked_to_stop)
    stats = [ConsoleStats() for _ in cookies]
    ready = [asyncio.Event() for _ in cookies]
    tasks = [
        asyncio.create_task(_console(base_url, cookie, reload_every, s, r))
        for cookie, s, r in zip(cookies, stats, ready, strict=True)
    ]
    all_ready = asyncio.create_task(asyncio.wait([asyncio.create_task(r.wait()) for r in ready]))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait([all_ready, stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
    failed = next((t for t in tasks if t.done()), None)
    if failed is None and all_ready.done():
        for opened_stats in stats:  # count from here: what the consoles get once open
            opened_stats.events = opened_stats.summaries = opened_stats.bytes = 0
            opened_stats.keepalives = 0
        opened, cpu_opened = time.monotonic(), time.process_time()
        conn.send(("ready", None))
        await asyncio.wait([stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
        failed = next((t for t in tasks if t.done()), None)
        seconds, cpu = time.monotonic() - opened, time.process_time() - cpu_opened
    for task in (*tasks, all_ready, stopping):
        task.cancel()
    await asyncio.gather(*tasks, all_ready, stopping, return_exceptions=True)
    if failed is not None:
        error = failed.exception() if not failed.cancelled() else None
        conn.send(("failed", f"a console failed: {error!r}"))
    elif not all_ready.done():
        conn.send(("failed", "stopped before every console had its snapshot"))
    else:
        conn.send(("done", {"seconds": seconds, "cpu": cpu, "stats": [vars(s) for s in stats]}))


def console_process(
    base_url: str, cookies: list[str], reload_every: float, conn: Connection
) -> None:
    """The consoles' process (spawned): opens them, says "ready", and when anything comes
    on `conn` closes them and sends back what each received."""
    try:
        asyncio.run(_run_consoles(base_url, cookies, reload_every, conn))
    except Exception as err:  # tell the bench instead of dying silently
        with contextlib.suppress(OSError):
            conn.send(("failed", f"the consoles' process failed: {err!r}"))


# the bench's side -------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsoleRun:
    """What the consoles received during one run, from opening (after their snapshots) to
    closing."""

    seconds: float
    cpu: float
    stats: list[ConsoleStats]

    def rate(self, name: str) -> float:
        return sum(getattr(s, name) for s in self.stats) / self.seconds

    def describe(self) -> str:
        return (
            f"{len(self.stats)} consoles, open {self.seconds:.1f} s, received"
            f" {self.rate('events'):.1f} events/s, {self.rate('summaries'):.1f} summaries/s,"
            f" {self.rate('bytes') / 1e3:.1f} kB/s in all; their CPU"
            f" {100 * self.cpu / self.seconds:.1f} %{self.resent()}"
        )

    def resent(self) -> str:
        """A note if consoles got their whole snapshot again as their first change."""
        again = sum(s.first >= s.snapshot > 0 for s in self.stats)
        return f"; {again} got every vehicle again right after the snapshot" if again else ""


class Consoles:
    """Logged-in sessions (their cookies), opened for a run by a spawned process and
    closed after it."""

    def __init__(self, base_url: str, cookies: list[str], reload_every: float) -> None:
        self._base_url = base_url
        self._cookies = cookies
        self._reload = reload_every
        self._context = multiprocessing.get_context("spawn")
        self._process: Any = None
        self._conn: Connection | None = None
        self.runs: list[ConsoleRun] = []

    def open(self) -> None:
        if self._process is not None:
            return
        mine, theirs = self._context.Pipe()
        self._process = self._context.Process(
            target=console_process,
            args=(self._base_url, self._cookies, self._reload, theirs),
            name="bench-consoles",
            daemon=True,
        )
        self._process.start()
        theirs.close()
        self._conn = mine
        kind, detail = self._receive(OPEN_TIMEOUT, "open")
        if kind != "ready":
            self.kill()
            raise BenchError(detail)

    def close(self) -> ConsoleRun | None:
        """Close the consoles (if open) and wait for the feed to stop; this run's figures."""
        if self._process is None or self._conn is None:
            return None
        self._conn.send("stop")
        kind, detail = self._receive(30, "close")
        self.kill(wait=10)
        if kind != "done":
            raise BenchError(detail)
        stats = [ConsoleStats(**s) for s in detail["stats"]]
        run = ConsoleRun(detail["seconds"], detail["cpu"], stats)
        self.runs.append(run)
        time.sleep(FEED_STOPS_WITHIN)
        return run

    def _receive(self, timeout: float, what: str) -> tuple[str, Any]:
        assert self._conn is not None
        if not self._conn.poll(timeout):
            self.kill()
            raise BenchError(f"the consoles did not {what} within {timeout:.0f} s")
        try:
            message: tuple[str, Any] = self._conn.recv()
        except EOFError as err:
            self.kill()
            raise BenchError(f"the consoles' process died ({what})") from err
        return message

    def kill(self, wait: float = 0) -> None:
        """End the consoles' process (after `wait` seconds for it to end by itself)."""
        if self._process is not None:
            self._process.join(wait)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(10)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(10)
            self._process = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None


@contextmanager
def consoles(base_url: str, cookies: list[str], reload_every: float) -> Iterator[Consoles]:
    opened = Consoles(base_url, cookies, reload_every)
    try:
        yield opened
    finally:
        opened.kill()


def log_in(base_url: str) -> str:
    """A console session of the demo platform, as the login form makes it: its cookie."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        answer = client.post(
            "/console/login",
            data={"client_id": harness.DEMO_PLATFORM, "client_secret": harness.DEMO_SECRET},
            headers={"Origin": base_url},
        )
    cookie = answer.cookies.get(COOKIE)
    if answer.status_code != 303 or not cookie:
        raise BenchError(f"console login answered {answer.status_code} and no session cookie")
    return cookie


def snapshot(base_url: str, cookie: str) -> list[dict[str, Any]]:
    """The live feed's first event: every vehicle the session sees, as the console does."""
    with (
        httpx.Client(base_url=base_url, cookies={COOKIE: cookie}, timeout=30) as client,
        client.stream("GET", "/console/live") as feed,
    ):
        if feed.status_code != 200:
            raise BenchError(f"GET /console/live answered {feed.status_code}")
        pending = b""
        for chunk in feed.iter_raw():
            pending += chunk
            while b"\n\n" in pending:
                event, pending = pending.split(b"\n\n", 1)
                data = [line[5:] for line in event.split(b"\n") if line.startswith(b"data:")]
                if data:
                    summaries: list[dict[str, Any]] = json.loads(b"\n".join(data))
                    return summaries
    raise BenchError("the live feed ended before its snapshot")


def grow_fleet(workdir: Path, size: int) -> None:
    """Add vehicles to the demo platform, with the CLI, while the server runs."""
    added = fleet_codes(size)[DEMO_FLEET_SIZE:]
    if not added:
        return
    db = f"sqlite:///{workdir / 'bench.db'}"
    cmd = [*harness.serve_command(), "vehicle", "add", "--platform", harness.DEMO_PLATFORM]
    done = subprocess.run(
        [*cmd, "--db", db, *added], cwd=workdir, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise BenchError(f"vehicle add failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    say(f"fleet: {len(added)} vehicles added to {harness.DEMO_PLATFORM} ({size} in all)")


def wait_fleet(
    base_url: str, cookie: str, size: int, riding: int, timeout: float
) -> list[dict[str, Any]]:
    """Until the feed's snapshot shows `size` vehicles online with a fix and a status (and
    `STEADY_RIDING` of `riding` riding: as many as the riders keep out); that snapshot."""
    started = time.monotonic()
    while True:
        vehicles = snapshot(base_url, cookie)
        reporting = [
            v
            for v in vehicles
            if v.get("link") == "online" and v.get("lat") is not None and v.get("reported_ms")
        ]
        on_the_road = sum(v.get("state") == "riding" for v in vehicles)
        if (
            len(vehicles) == size
            and len(reporting) == size
            and on_the_road >= STEADY_RIDING * riding
        ):
            return vehicles
        if time.monotonic() - started > timeout:
            raise BenchError(
                f"after {timeout:.0f} s the console sees {len(vehicles)} vehicles,"
                f" {len(reporting)} online with a fix, {on_the_road} riding"
                f" (wanted {size}, {size}, {STEADY_RIDING * riding:.0f})"
            )
        time.sleep(2)


def unlock(base_url: str, token: str, codes: list[str]) -> None:
    """Unlock these vehicles through the API (the demo's riders then take them out)."""
    headers = {"Authorization": f"bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        for code in codes:
            answer = client.post(UNLOCK_PATH, json={"iotCode": code}).json()
            if answer.get("code") != 0:
                raise BenchError(f"unlock {code} answered {answer}")


def idle_cpu(server: harness.Server, seconds: float) -> float:
    """The server's CPU use (share of one core) over `seconds` without load."""
    before, started = server.cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    after = server.cpu_seconds()
    if before is None or after is None:
        return float("nan")
    return (after - before) / (time.monotonic() - started)


def measure(args: argparse.Namespace, workdir: Path) -> tuple[float, float]:
    """Median req/s of (consoles, no consoles)."""
    wrk = harness.ensure_wrk()
    say(f"wrk: {wrk}")
    with harness.gateway_server(workdir) as server:
        say(f"server: /healthz answers after {server.wait_healthy(args.startup_timeout):.1f} s")
        base = server.base_url
        token = harness.get_token(base)
        status_throughput.wait_for_status(base, token)
        grow_fleet(workdir, args.vehicles)
        cookies = [log_in(base) for _ in range(args.consoles)]
        say(f"consoles: {len(cookies)} sessions of platform {harness.DEMO_PLATFORM} logged in")
        started = time.monotonic()
        wait_fleet(base, cookies[0], args.vehicles, 0, args.fleet_timeout)
        say(
            f"fleet: all {args.vehicles} vehicles online with a fix after"
            f" {time.monotonic() - started:.1f} s"
        )
        if args.riding:
            unlock(base, token, fleet_codes(args.vehicles)[-args.riding :])
            fleet = wait_fleet(base, cookies[0], args.vehicles, args.riding, args.fleet_timeout)
            riding = sum(v["state"] == "riding" for v in fleet)
            say(f"fleet: {args.riding} vehicles unlocked for the riders, {riding} riding now")

        status_url = f"{base}{harness.STATUS_PATH}?iotCode={harness.DEMO_VEHICLE}"
        authed = harness.write_wrk_script(
            workdir / "status.lua", {"Authorization": f"bearer {token}"}
        )
        with consoles(base, cookies, args.reload) as open_consoles:
            if args.idle > 0:
                time.sleep(FEED_STOPS_WITHIN)  # the feed the waits opened has stopped
                without = idle_cpu(server, args.idle)
                open_consoles.open()
                with_them = idle_cpu(server, args.idle)
                run = open_consoles.close()
                assert run is not None
                say(
                    f"idle (no wrk): server CPU {100 * without:.1f} % of a core without consoles,"
                    f" {100 * with_them:.1f} % with {args.consoles}: the feed costs"
                    f" {1000 * (with_them - without):.0f} ms of CPU per second"
                    f" ({run.rate('summaries'):.1f} summaries/s to send)"
                )
            if args.warmup > 0:
                say(f"warm-up: {args.warmup:g} s of status each without and with consoles")
                for opened in (False, True):
                    if opened:
                        open_consoles.open()
                    harness.run_wrk(
                        wrk, status_url, authed, args.warmup, args.connections, args.threads
                    )
                open_consoles.close()
            open_consoles.runs.clear()
            rounds = iter(range(1, args.rounds + 1))

            def close_and_check() -> None:
                run = open_consoles.close()
                assert run is not None
                say(f"round {next(rounds)}/{args.rounds} feed      {run.describe()}")
                harness.check_status(base, token)

            machine_before = harness.cpu_times()
            none, open_ = status_throughput.alternate(
                server,
                wrk,
                args,
                [
                    Variant("none", status_url, authed),
                    Variant("consoles", status_url, authed, open_consoles.open),
                ],
                close_and_check,
            )
            steal = harness.steal_percent(machine_before, harness.cpu_times())
            report_consoles(open_consoles.runs, args.vehicles)
        ratios = [100 * c / n for c, n in zip(open_, none, strict=True)]
        say(
            f"noise: none {min(none):.0f}..{max(none):.0f} req/s, consoles"
            f" {min(open_):.0f}..{max(open_):.0f} req/s, per-round ratio"
            f" {min(ratios):.1f}..{max(ratios):.1f} % (median {statistics.median(ratios):.1f} %)"
        )
        if steal is not None:
            say(f"machine: {steal:.1f} % of CPU time stolen by the hypervisor during the runs")
        harness.check_status(base, token)
    return statistics.median(open_), statistics.median(none)


def report_consoles(runs: list[ConsoleRun], size: int) -> None:
    """What the consoles received in the measured runs; BenchError if one was not live."""
    for n, run in enumerate(runs, 1):
        for i, stats in enumerate(run.stats, 1):
            if stats.snapshot != size:
                raise BenchError(f"run {n}, console {i}: a snapshot of {stats.snapshot} vehicles")
            if stats.events == 0:
                raise BenchError(f"run {n}, console {i}: no change received after its snapshot")
    pages = [ms for run in runs for s in run.stats for ms in s.page_ms]
    page_bytes = runs[0].stats[0].page_bytes if runs else 0
    say(
        f"consoles: per second open {statistics.median(r.rate('events') for r in runs):.1f}"
        f" events, {statistics.median(r.rate('summaries') for r in runs):.1f} vehicle summaries,"
        f" {statistics.median(r.rate('bytes') for r in runs) / 1e3:.1f} kB in all (median of"
        f" {len(runs)} runs); fleet page {page_bytes / 1e3:.0f} kB, loaded {len(pages)} times in"
        f" {statistics.median(pages):.0f} ms (median)"
    )


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    return status_throughput.run_ratio(
        lambda workdir: measure(args, workdir),
        GOAL_PERCENT,
        f"status with {args.consoles} consoles open on {args.vehicles} vehicles:"
        " {0} req/s vs {1} req/s without",
    )


if __name__ == "__main__":
    sys.exit(main())
