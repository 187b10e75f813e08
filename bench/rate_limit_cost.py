"""Status query throughput with the platform's rate limit on, as a share of the same without.

Measured: requests per second of authenticated status queries against one `segway-gateway
serve --demo` process (as in `bench status`), in rounds that alternate between the demo
platform without a limit and with one far above the load (`--rps`, default 50,000 calls/s,
bursts as large), set and removed through the admin API between runs. With the limit on
each call takes a token: from the instance's lease in memory, and from the database's
bucket once per lease (gateway/access.py). Median of each kind; the server's log is read
afterwards to make sure no call was refused (15990). Goal: >= 90 %.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bench import harness, status_throughput
from bench.harness import BenchError, say
from bench.status_throughput import Variant

GOAL_PERCENT = 90.0
ADMIN_TOKEN = "bench-admin-token"


def _parse(argv: list[str]) -> argparse.Namespace:
    description = __doc__.splitlines()[0]
    parser = status_throughput.wrk_runs("python -m bench limits", description, "no limit/limit")
    parser.add_argument("--rps", type=float, default=50_000, help="the limit (50000 calls/s)")
    return status_throughput.parse_runs(parser, argv)


def _admin(base_url: str, method: str, path: str, body: Any = None) -> Any:
    """Call the gateway's admin API; BenchError unless it answers 200."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{base_url}/admin/v1{path}",
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise BenchError(f"admin {method} {path}: {err}") from err


def measure(args: argparse.Namespace, workdir: Path) -> tuple[float, float]:
    """Median req/s of (limited, unlimited)."""
    wrk = harness.ensure_wrk()
    env = {"SEGWAY_GATEWAY_ADMIN_TOKEN": ADMIN_TOKEN}
    limit = f"/platforms/{harness.DEMO_PLATFORM}/access/limit"
    rps = args.rps
    with harness.gateway_server(workdir, env=env) as server:
        say(f"server: /healthz answers after {server.wait_healthy(args.startup_timeout):.1f} s")
        token = harness.get_token(server.base_url)
        status_throughput.wait_for_status(server.base_url, token)
        status_url = f"{server.base_url}{harness.STATUS_PATH}?iotCode={harness.DEMO_VEHICLE}"
        authed = harness.write_wrk_script(
            workdir / "status.lua", {"Authorization": f"bearer {token}"}
        )

        def limited() -> None:
            rule = _admin(server.base_url, "PUT", limit, {"rps": rps, "burst": int(rps)})
            if rule.get("rps") != rps:
                raise BenchError(f"the limit was not set: {rule}")

        def unlimited() -> None:
            _admin(server.base_url, "DELETE", limit)

        if args.warmup > 0:
            say(f"warm-up: {args.warmup:g} s of status, limited")
            limited()
            harness.run_wrk(wrk, status_url, authed, args.warmup, args.connections, args.threads)
        free, capped = status_throughput.alternate(
            server,
            wrk,
            args,
            [
                Variant("no limit", status_url, authed, unlimited),
                Variant("limit", status_url, authed, limited),
            ],
            lambda: harness.check_status(server.base_url, token),
        )
        say(f"limit: {rps:g} calls/s, bursts of {int(rps)} (runs of 'limit')")
    refused = [line for line in server.log_path.read_text().splitlines() if "15990" in line]
    if refused:
        raise BenchError(f"calls were refused with 15990, the limit is not far above: {refused[0]}")
    say("check: no call answered 15990 (server log)")
    return statistics.median(capped), statistics.median(free)


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    return status_throughput.run_ratio(
        lambda workdir: measure(args, workdir),
        GOAL_PERCENT,
        "status with a rate limit: {0} req/s vs {1} req/s without",
    )


if __name__ == "__main__":
    sys.exit(main())
