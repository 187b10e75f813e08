"""`python -m bench [NAME ...] [OPTIONS]`: run the benchmarks, each printing its figure last.

Names: status (status query vs /healthz), unlock (unlock round trip over MQTT
vs a raw ping-pong plus a hello-world call), ingest (device messages per
second vs the MQTT library's bare receive rate), fleet (simulated vehicles
one core keeps on schedule), push (pushes the gateway's dispatcher delivers
per second, and their latency, vs a raw httpx loop posting the same pushes),
sdk (status calls through the SDK's AsyncClient vs raw httpx, against the
gateway and a canned server), instances (status queries and the unlock round
trip with 1, 2 and 3 gateway instances behind round-robin on one PostgreSQL and
one Mosquitto), limits (status queries with the platform's rate limit on, far above
the load, vs without), metrics (status queries with /metrics counting on vs off, two
servers side by side), console (status queries with 10 operator consoles open on a
1,000-vehicle fleet, reading the live feed, vs none open). No name runs them all;
options go to the named benchmark (`python -m bench unlock --help`).
"""

from __future__ import annotations

import sys

from bench import (
    console_cost,
    fleet_capacity,
    ingest,
    instances,
    metrics_cost,
    push_delivery,
    rate_limit_cost,
    sdk_throughput,
    status_throughput,
    unlock_latency,
)

BENCHMARKS = {
    "status": status_throughput.main,
    "unlock": unlock_latency.main,
    "ingest": ingest.main,
    "fleet": fleet_capacity.main,
    "push": push_delivery.main,
    "sdk": sdk_throughput.main,
    "instances": instances.main,
    "limits": rate_limit_cost.main,
    "metrics": metrics_cost.main,
    "console": console_cost.main,
}


def main(argv: list[str]) -> int:
    names = [a for a in argv if a in BENCHMARKS]
    if not names and {"-h", "--help"} & set(argv):
        print(__doc__)
        return 0
    names = names or list(BENCHMARKS)
    options = [a for a in argv if a not in BENCHMARKS]
    failed = [name for name in names if BENCHMARKS[name](options) != 0]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
