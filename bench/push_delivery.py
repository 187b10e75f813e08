"""Push delivery by the gateway's dispatcher, against a raw httpx loop posting the same pushes.

Both sides post to one receiver process on loopback (`bench.push_receiver`:
uvicorn, checks each signature, stamps each arrival) and run in this process
on one uvloop event loop, as `serve` runs the dispatcher. The gateway side is
the real `PushDispatcher` over a fresh SQLite outbox (per run, in a temp
dir), the platform's secret sealed and unsealed, each push signed and POSTed
with httpx. The raw side signs the same kind of status push with the same
`sign` and POSTs it with its own `httpx.AsyncClient` from PER_PLATFORM (4)
workers: the dispatcher's own concurrency for one platform, so both sides
keep as many requests in flight and differ only in the dispatcher's work
around each POST (reading the outbox, recording the attempt).

- Throughput: N pushes (5,000) written to the outbox with `enqueue` in one
  transaction and the doorbell rung for their platform as `FleetService.flush` does; timed
  from the dispatcher's start until the outbox records all N delivered. The
  raw loop is timed from its first POST to its last answer.
- Paced, at a rate both sides sustain (100/s; above about 140/s the
  dispatcher falls behind on a 2-core machine, and a backlog, not waiting,
  would be measured): pushes accepted one at a time, each written to the
  outbox in its own transaction (started on schedule, whether or not the one
  before has committed) and the doorbell rung (the raw workers take each
  from a queue the moment it is put there). Measured per push:
  - its first (only) POST, from httpx's request hook to its response hook on
    each side's client: at the same load on both sides, unlike the
    throughput runs, where the raw side sends several times as many. The
    dispatcher's own log (`push_attempts.latency_ms`) keeps whole
    milliseconds, too coarse for a loopback round trip of about one; its
    p50/p99 are printed beside.
  - end to end, from acceptance (the commit; the queue) to the receiver's
    arrival stamp, both `time.monotonic()` (one clock for every process): it
    shows whether a push waits for anything (a poll, a batch, a lock).

Runs alternate (dispatcher, raw; 3 rounds); medians are reported. Goals
(issue): throughput >= 50 % of the raw loop's, first-attempt p99 <= 2x the
raw loop's.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Collection, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvloop
from sqlalchemy import func, select

from bench import harness
from bench.harness import DEMO_PLATFORM, DEMO_SECRET, BenchError, say
from segway_gateway.clock import system_clock
from segway_gateway.contract.pushes import StatusPush
from segway_gateway.contract.signature import sign
from segway_gateway.gateway.crypto import hash_secret
from segway_gateway.gateway.push.dispatcher import PER_PLATFORM, TIMEOUT_SECONDS, PushDispatcher
from segway_gateway.gateway.push.doorbell import Doorbell
from segway_gateway.gateway.push.forms import outgoing
from segway_gateway.gateway.sealing import seal
from segway_gateway.gateway.store.db import Database
from segway_gateway.gateway.store.outbox import DELIVERED, NewPush, enqueue
from segway_gateway.gateway.store.platforms import Platform
from segway_gateway.gateway.store.tables import push_attempts, push_outbox

THROUGHPUT_GOAL, P99_GOAL = 50.0, 2.0
STALL_SECONDS = 20.0
"""No progress for this long: a push was refused or lost, and the figures would mean nothing."""
KEY = bytes(range(32))
"""The gateway key sealing the platform's secret (any 32 bytes do)."""


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench push", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="dispatcher/raw pairs (3)")
    parser.add_argument("--pushes", type=int, default=5000, help="per throughput run (5000)")
    parser.add_argument("--warmup", type=int, default=500, help="pushes per side first (500)")
    parser.add_argument("--rate", type=float, default=100.0, help="paced pushes/s (100)")
    parser.add_argument("--paced-seconds", type=float, default=10.0, help="paced run (10)")
    args = parser.parse_args(argv)
    if min(args.rounds, args.pushes, args.rate, args.paced_seconds) <= 0 or args.warmup < 0:
        parser.error("rounds, pushes, rate and paced-seconds must be positive")
    return args


def _ms(values: Sequence[float], share: float) -> float:
    """The `share` percentile of `values` (seconds), in milliseconds."""
    ordered = sorted(values)
    return 1e3 * ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def _percentiles(values: Sequence[float]) -> str:
    return f"p50 {_ms(values, 0.5):.2f} ms p99 {_ms(values, 0.99):.2f} ms"


def _status_push(n: int) -> NewPush:
    """A status push as the fleet service makes one (fresh event id, accepted now)."""
    return outgoing(
        StatusPush(
            iot_code=str(869_000_000_000_000 + n % 10_000),
            platform_code=DEMO_PLATFORM,
            event_id=str(uuid.uuid4()),
            online=True,
            locked=True,
            lock_voltage=4100,
            network_signal=28,
            charging=False,
            power_percent=87,
            speed=0,
            odometer=123_456,
            remaining_range=42_000,
            total_riding_secs=98_765,
            status_utc_time=int(time.time()),
        ),
        time.time(),
    )


class RoundTrips:
    """Each POST's round trip on a client, from httpx's request hook to its response hook
    (headers in): the same stopwatch on both sides."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self._started: dict[httpx.Request, float] = {}

    def attach(self, client: httpx.AsyncClient) -> None:
        client.event_hooks = {"request": [self._request], "response": [self._response]}

    async def _request(self, request: httpx.Request) -> None:
        self._started[request] = time.perf_counter()

    async def _response(self, response: httpx.Response) -> None:
        self.seconds.append(time.perf_counter() - self._started.pop(response.request))


@dataclass
class Accepted:
    """A paced run as its sender saw it: when each push was accepted (event id → monotonic
    seconds, in order) and each POST's round trip."""

    at: dict[str, float] = field(default_factory=dict)
    trips: RoundTrips = field(default_factory=RoundTrips)


async def paced(count: int, rate: float) -> AsyncIterator[NewPush]:
    """`count` new pushes on a steady schedule of `rate` per second; a push is late (and
    the achieved rate lower) when the caller was busy past its time."""
    start = time.monotonic()
    for n in range(count):
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        yield _status_push(n)


@dataclass(frozen=True)
class Throughput:
    """A throughput run: pushes/s, this process's CPU time per push (all its threads, so
    SQLite's too; steadier than the rate on a busy machine) and each POST's round trip."""

    rate: float
    cpu_ms: float
    round_trips: list[float]

    def describe(self) -> str:
        return (
            f"{self.rate:5.0f} pushes/s, {self.cpu_ms:.2f} ms CPU/push"
            f" (POST {_percentiles(self.round_trips)})"
        )


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """[wall seconds, CPU seconds of this process] the block took, filled in when it ends."""
    taken: list[float] = []
    wall, cpu = time.perf_counter(), time.process_time()
    yield taken
    taken += [time.perf_counter() - wall, time.process_time() - cpu]


def _throughput(pushes: int, taken: list[float], round_trips: list[float]) -> Throughput:
    wall, cpu = taken
    return Throughput(pushes / wall, 1e3 * cpu / pushes, round_trips)


@dataclass(frozen=True)
class Paced:
    """A paced run: the rate achieved, each push's acceptance → arrival and its POST (s)."""

    rate: float
    e2e: list[float]
    round_trips: list[float]

    @classmethod
    def of(cls, accepted: Accepted, arrived: dict[str, float]) -> Paced:
        times = list(accepted.at.values())
        rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
        e2e = [arrived[event_id] - at for event_id, at in accepted.at.items()]
        return cls(rate, e2e, accepted.trips.seconds)

    def describe(self) -> str:
        return (
            f"{self.rate:4.0f}/s accepted; POST {_percentiles(self.round_trips)};"
            f" end-to-end {_percentiles(self.e2e)}"
        )


# the receiver -------------------------------------------------------------------


@contextmanager
def receiver() -> Iterator[str]:
    """`bench.push_receiver` on a free port while the block runs; its base URL."""
    port = harness.free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.push_receiver", str(port), DEMO_SECRET]
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/received", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise BenchError("the push receiver did not start") from None
                time.sleep(0.1)
        say(f"receiver: pid {process.pid}, {url}")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


async def arrivals(http: httpx.AsyncClient, url: str, sent: Collection[str]) -> dict[str, float]:
    """When each push sent (by event id) reached the receiver; BenchError unless each did, once."""
    arrived = (await http.get(f"{url}/received")).json()
    times = {event_id: at for event_id, at in arrived}
    if len(times) != len(arrived) or times.keys() != set(sent):
        raise BenchError(
            f"{len(sent)} pushes sent, {len(arrived)} arrived ({len(times)} distinct),"
            f" {len(times.keys() - set(sent))} of them unknown"
        )
    return times


# the gateway's side -----------------------------------------------------------------


@asynccontextmanager
async def outbox(path: Path, url: str) -> AsyncIterator[Database]:
    """A fresh store: the platform with its push URL and sealed secret, nothing pending."""
    async with Database(f"sqlite:///{path}") as db:
        # the secret's hash is for token requests, which no one makes here: one iteration
        platform = Platform(DEMO_PLATFORM, hash_secret(DEMO_SECRET, 1), url, 0)
        await db.platforms.add(platform, seal(KEY, DEMO_PLATFORM, DEMO_SECRET))
        yield db


@asynccontextmanager
async def dispatching(db: Database, accepted: Doorbell) -> AsyncIterator[RoundTrips]:
    """The dispatcher running on `db` while the block runs; its POSTs' round trips."""
    dispatcher = PushDispatcher(db, KEY, accepted, system_clock)
    trips = RoundTrips()
    # the dispatcher owns its client; event hooks are httpx's own way to time its requests
    trips.attach(dispatcher._http)
    running = asyncio.create_task(dispatcher.run())
    try:
        yield trips
    finally:
        dispatcher.stop()
        await running
        await dispatcher.close()


async def until_delivered(db: Database, trips: RoundTrips, count: int) -> None:
    """Until the outbox records `count` pushes delivered. It is read only once every POST
    was answered, so that waiting does not load the dispatcher's event loop."""
    answered, progress_at = 0, time.monotonic()
    while answered < count:
        await asyncio.sleep(0.002)
        if len(trips.seconds) > answered:
            answered, progress_at = len(trips.seconds), time.monotonic()
        elif time.monotonic() - progress_at > STALL_SECONDS:
            raise BenchError(f"the dispatcher stalled after {answered} of {count} POSTs")
    query = select(func.count()).where(push_outbox.c.state == DELIVERED)
    async with db.engine.connect() as conn:
        while (await conn.execute(query)).scalar_one() < count:
            if time.monotonic() - progress_at > STALL_SECONDS:
                raise BenchError(f"{count} pushes answered 200, not all recorded delivered")
            await asyncio.sleep(0.002)


async def logged_latencies(db: Database, count: int) -> list[float]:
    """The dispatcher's own record of each attempt's latency (seconds, whole ms); BenchError
    unless there is one attempt per push, answered 200."""
    query = select(push_attempts.c.http_status, push_attempts.c.latency_ms)
    async with db.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    if len(rows) != count or any(status != 200 for status, _ in rows):
        raise BenchError(f"{count} pushes, {len(rows)} attempts, not all answered 200")
    return [latency / 1e3 for _, latency in rows]


async def dispatcher_throughput(workdir: Path, url: str, pushes: Sequence[NewPush]) -> Throughput:
    async with outbox(workdir / f"{uuid.uuid4()}.db", url) as db:
        async with db.engine.begin() as conn:
            await enqueue(conn, pushes)
        accepted = Doorbell(system_clock)
        accepted.ring([DEMO_PLATFORM])
        with stopwatch() as taken:
            async with dispatching(db, accepted) as trips:
                await until_delivered(db, trips, len(pushes))
        await logged_latencies(db, len(pushes))
    return _throughput(len(pushes), taken, trips.seconds)


async def dispatcher_paced(
    workdir: Path, url: str, count: int, rate: float
) -> tuple[Accepted, list[float]]:
    """The run, and the latencies the dispatcher logged."""
    run = Accepted()
    async with outbox(workdir / f"{uuid.uuid4()}.db", url) as db:
        doorbell = Doorbell(system_clock)

        async def accept(push: NewPush) -> None:
            async with db.engine.begin() as conn:
                await enqueue(conn, [push])
            run.at[push.event_id] = time.monotonic()
            doorbell.ring([DEMO_PLATFORM])

        async with dispatching(db, doorbell) as run.trips:
            # each push on its own schedule, so a commit that waits for the dispatcher's
            # (SQLite's one writer) does not make the pushes after it late
            async with asyncio.TaskGroup() as accepting:
                async for push in paced(count, rate):
                    accepting.create_task(accept(push))
            await until_delivered(db, run.trips, count)
        return run, await logged_latencies(db, count)


# the raw side -----------------------------------------------------------------------


async def post(http: httpx.AsyncClient, url: str, push: NewPush) -> None:
    """What the dispatcher does for an attempt, bare: sign, POST, read the answer."""
    form = {**push.form, "signature": sign(push.form, DEMO_SECRET)}
    response = await http.post(f"{url}/v2/vehicle/{push.kind}", data=form)
    if response.status_code != 200:
        raise BenchError(f"the receiver answered {response.status_code}: {response.text[:200]}")


async def raw_throughput(url: str, pushes: Sequence[NewPush]) -> Throughput:
    trips = RoundTrips()
    async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as http:
        trips.attach(http)
        queue = iter(pushes)

        async def worker() -> None:
            for push in queue:  # shared: each worker takes the next push
                await post(http, url, push)

        with stopwatch() as taken:
            await asyncio.gather(*(worker() for _ in range(PER_PLATFORM)))
    return _throughput(len(pushes), taken, trips.seconds)


async def raw_paced(url: str, count: int, rate: float) -> Accepted:
    run = Accepted()
    queue: asyncio.Queue[NewPush | None] = asyncio.Queue()
    async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as http:
        run.trips.attach(http)

        async def worker() -> None:
            while (push := await queue.get()) is not None:
                await post(http, url, push)

        workers = [asyncio.create_task(worker()) for _ in range(PER_PLATFORM)]
        async for push in paced(count, rate):
            run.at[push.event_id] = time.monotonic()
            queue.put_nowait(push)
        for _ in workers:
            queue.put_nowait(None)
        await asyncio.gather(*workers)
    return run


# the rounds -------------------------------------------------------------------------


@dataclass(frozen=True)
class Round:
    dispatcher: Throughput
    raw: Throughput
    dispatcher_paced: Paced
    raw_paced: Paced

    @property
    def throughput_percent(self) -> float:
        return 100 * self.dispatcher.rate / self.raw.rate

    @property
    def p99_ratio(self) -> float:
        return _ms(self.dispatcher_paced.round_trips, 0.99) / _ms(self.raw_paced.round_trips, 0.99)


async def one_round(
    n: int, args: argparse.Namespace, workdir: Path, url: str, http: httpx.AsyncClient
) -> Round:
    label = f"round {n}/{args.rounds}"
    pushes = [_status_push(i) for i in range(args.pushes)]
    dispatcher = await dispatcher_throughput(workdir, url, pushes)
    await arrivals(http, url, [p.event_id for p in pushes])
    say(f"{label} throughput dispatcher {dispatcher.describe()}")
    pushes = [_status_push(i) for i in range(args.pushes)]
    raw = await raw_throughput(url, pushes)
    await arrivals(http, url, [p.event_id for p in pushes])
    say(f"{label} throughput raw        {raw.describe()}")

    count = int(args.rate * args.paced_seconds)
    accepted, logged = await dispatcher_paced(workdir, url, count, args.rate)
    dispatcher_at_rate = Paced.of(accepted, await arrivals(http, url, accepted.at))
    say(
        f"{label} paced dispatcher {dispatcher_at_rate.describe()}"
        f" (its log, whole ms: POST p50 {_ms(logged, 0.5):.0f} p99 {_ms(logged, 0.99):.0f})"
    )
    accepted = await raw_paced(url, count, args.rate)
    raw_at_rate = Paced.of(accepted, await arrivals(http, url, accepted.at))
    say(f"{label} paced raw        {raw_at_rate.describe()}")
    for run in (dispatcher_at_rate, raw_at_rate):
        if run.rate < 0.9 * args.rate:
            say(f"{label} warning: {run.rate:.0f}/s accepted, not {args.rate:g}: behind schedule")
    result = Round(dispatcher, raw, dispatcher_at_rate, raw_at_rate)
    say(
        f"{label} throughput {result.throughput_percent:.1f} % of raw,"
        f" paced POST p99 {result.p99_ratio:.2f}x raw"
    )
    return result


async def rounds(args: argparse.Namespace, workdir: Path, url: str) -> list[Round]:
    async with httpx.AsyncClient(timeout=30) as http:
        if args.warmup:
            say(f"warm-up: {args.warmup} pushes each side")
            await dispatcher_throughput(workdir, url, [_status_push(i) for i in range(args.warmup)])
            await raw_throughput(url, [_status_push(i) for i in range(args.warmup)])
            await http.get(f"{url}/received")  # the warm-up's arrivals, dropped unchecked
        return [await one_round(n, args, workdir, url, http) for n in range(1, args.rounds + 1)]


def measure(args: argparse.Namespace, workdir: Path) -> list[Round]:
    with receiver() as url:
        machine_before = harness.cpu_times()
        results = uvloop.run(rounds(args, workdir, url))
        steal = harness.steal_percent(machine_before, harness.cpu_times())
        if steal is not None:
            say(f"machine: {steal:.1f} % of CPU time stolen by the hypervisor during the runs")
    return results


def _medians(runs: Iterable[Sequence[float]]) -> str:
    """The medians over runs of each run's p50 and p99."""
    listed = list(runs)
    p50 = statistics.median(_ms(values, 0.5) for values in listed)
    p99 = statistics.median(_ms(values, 0.99) for values in listed)
    return f"p50 {p50:.2f} ms p99 {p99:.2f} ms"


def main(argv: list[str]) -> int:
    args = _parse(argv)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="segway-bench-push-") as tmp:
            results = measure(args, Path(tmp))
    except BenchError as err:
        print(f"bench FAILED: {err}", file=sys.stderr, flush=True)
        return 1
    percent = statistics.median(r.throughput_percent for r in results)
    p99_ratio = statistics.median(r.p99_ratio for r in results)
    rate, raw_rate = (
        statistics.median(r.dispatcher.rate for r in results),
        statistics.median(r.raw.rate for r in results),
    )
    cpu, raw_cpu = (
        statistics.median(r.dispatcher.cpu_ms for r in results),
        statistics.median(r.raw.cpu_ms for r in results),
    )
    at_rate, raw_at_rate = [r.dispatcher_paced for r in results], [r.raw_paced for r in results]
    met = percent >= THROUGHPUT_GOAL and p99_ratio <= P99_GOAL
    say(f"goals {'met' if met else 'MISSED'}; total time {time.monotonic() - started:.0f} s")
    say(
        f"push delivery: {rate:.0f} pushes/s = {percent:.1f} % of a raw httpx loop's"
        f" {raw_rate:.0f} (goal >= {THROUGHPUT_GOAL:.0f} %; CPU/push {cpu:.2f} vs {raw_cpu:.2f}"
        f" ms); at {args.rate:g}/s first POST {_medians(p.round_trips for p in at_rate)}"
        f" = {p99_ratio:.2f}x raw p99 (raw {_medians(p.round_trips for p in raw_at_rate)};"
        f" goal <= {P99_GOAL:g}x), end-to-end {_medians(p.e2e for p in at_rate)}"
        f" (raw {_medians(p.e2e for p in raw_at_rate)})"
    )
    return 0
