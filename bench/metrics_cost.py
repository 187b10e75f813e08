"""Status query throughput with /metrics counting on, as a share of the same without.

Measured: authenticated status queries per second, as in `bench status`, against two
`segway-gateway serve --demo` processes side by side, one with metrics (the default)
and one with `--no-metrics`, in alternating rounds (off, on, off, on, ...). With metrics
on, each call adds to a counter and a histogram (gateway/metrics.py). Median of each
kind. Goal: >= 90 %.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from bench import harness, status_throughput
from bench.harness import BenchError, say
from bench.status_throughput import Variant

GOAL_PERCENT = 90.0


def _parse(argv: list[str]) -> argparse.Namespace:
    description = __doc__.splitlines()[0]
    parser = status_throughput.wrk_runs("python -m bench metrics", description, "off/on")
    return status_throughput.parse_runs(parser, argv)


def measure(args: argparse.Namespace, workdir: Path) -> tuple[float, float]:
    """Median req/s of (metrics on, metrics off)."""
    wrk = harness.ensure_wrk()
    (workdir / "on").mkdir()
    (workdir / "off").mkdir()
    with (
        harness.gateway_server(workdir / "on") as on,
        harness.gateway_server(workdir / "off", "--no-metrics") as off,
    ):
        variants = []
        for name, server in (("no metrics", off), ("metrics", on)):
            say(f"{name}: /healthz after {server.wait_healthy(args.startup_timeout):.1f} s")
            token = harness.get_token(server.base_url)
            status_throughput.wait_for_status(server.base_url, token)
            url = f"{server.base_url}{harness.STATUS_PATH}?iotCode={harness.DEMO_VEHICLE}"
            script = harness.write_wrk_script(
                workdir / f"{server.process.pid}.lua", {"Authorization": f"bearer {token}"}
            )
            if args.warmup > 0:
                harness.run_wrk(wrk, url, script, args.warmup, args.connections, args.threads)
            variants.append(Variant(name, url, script, server=server))
        if harness.http_json(f"{off.base_url}/healthz") != {"status": "ok"}:
            raise BenchError("the server without metrics does not answer")
        free, counted = status_throughput.alternate(on, wrk, args, variants, lambda: None)
        if b"segway_gateway_http_requests_total" not in _scrape(on.base_url):
            raise BenchError("the server with metrics did not count")
    return statistics.median(counted), statistics.median(free)


def _scrape(base_url: str) -> bytes:
    import urllib.request

    with urllib.request.urlopen(f"{base_url}/metrics", timeout=10) as response:
        return bytes(response.read())


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    return status_throughput.run_ratio(
        lambda workdir: measure(args, workdir),
        GOAL_PERCENT,
        "status with metrics: {0} req/s vs {1} req/s without",
    )


if __name__ == "__main__":
    sys.exit(main())
