"""What benchmarks share: a gateway subprocess on loopback, HTTP probes, and `wrk`.

The gateway runs as `segway-gateway serve` exactly as an operator starts it
(one uvicorn worker, default flags and log level), in its own temp directory
with its own SQLite database; the load comes from `wrk`, a separate process.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEMO_PLATFORM = "A20081"
DEMO_SECRET = "e2651be5-12d3-48f3-ba6c-bc2b04a447b6"
DEMO_VEHICLE = "861477038719116"
STATUS_PATH = "/api/v2/vehicle/query/current/status"


class BenchError(Exception):
    """Something failed: the benchmark's figures would mean nothing."""


def say(message: str) -> None:
    print(message, flush=True)


# wrk ----------------------------------------------------------------------


def ensure_wrk() -> str:
    """The path of `wrk`, installed with apt-get if missing (as root), or BenchError."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise BenchError("wrk is not installed; install it (Debian: apt-get install wrk)")
    say("wrk not found: installing it with apt-get ...")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run(
            "apt-get update -qq && apt-get install -y -qq wrk",
            shell=True,
            check=True,
            env=env,
            timeout=300,
            stdout=subprocess.DEVNULL,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
        raise BenchError(f"installing wrk failed ({err}); install it: apt-get install wrk") from err
    found = shutil.which("wrk")
    if not found:
        raise BenchError("apt-get installed no wrk binary; install it: apt-get install wrk")
    return found


_DONE = """\
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%.0f duration_us=%.0f status=%.0f connect=%.0f read=%.0f"
      .. " write=%.0f timeout=%.0f p50_us=%.0f p99_us=%.0f\\n",
    summary.requests, summary.duration, e.status, e.connect, e.read,
    e.write, e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_wrk_script(path: Path, headers: dict[str, str] | None = None) -> Path:
    """A wrk script: fixed headers (set once, no per-request Lua) and a parsable summary."""
    lines = ["-- written by bench.harness", 'wrk.method = "GET"']
    for name, value in (headers or {}).items():
        lines.append(f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}")
    path.write_text("\n".join(lines) + "\n" + _DONE)
    return path


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    non_2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def describe(self) -> str:
        return (
            f"{self.rps:8.0f} req/s  ({self.requests} req in {self.seconds:.1f} s,"
            f" p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms,"
            f" non-2xx {self.non_2xx}, socket errors {self.socket_errors})"
        )


_BENCH_LINE = re.compile(r"^BENCH (.*)$", re.MULTILINE)


def run_wrk(
    wrk: str, url: str, script: Path, seconds: float, connections: int, threads: int = 1
) -> WrkResult:
    """One wrk run; BenchError if wrk fails, or on any non-2xx answer or many socket errors."""
    cmd = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        url,
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    except subprocess.TimeoutExpired as err:
        raise BenchError(f"wrk did not finish: {' '.join(cmd)}") from err
    match = _BENCH_LINE.search(done.stdout)
    if done.returncode != 0 or match is None:
        raise BenchError(
            f"wrk failed (exit {done.returncode}): {' '.join(cmd)}\n{done.stdout}{done.stderr}"
        )
    fields = {k: float(v) for k, v in (kv.split("=") for kv in match.group(1).split())}
    result = WrkResult(
        requests=int(fields["requests"]),
        seconds=fields["duration_us"] / 1e6,
        non_2xx=int(fields["status"]),
        socket_errors=int(fields["connect"] + fields["read"] + fields["write"] + fields["timeout"]),
        p50_ms=fields["p50_us"] / 1e3,
        p99_ms=fields["p99_us"] / 1e3,
    )
    if result.requests == 0:
        raise BenchError(f"wrk made no request against {url}")
    if result.non_2xx:
        raise BenchError(f"{result.non_2xx} non-2xx answers from {url}")
    if result.socket_errors > max(10, result.requests // 100):
        raise BenchError(f"{result.socket_errors} socket errors against {url}")
    return result


# HTTP probes ----------------------------------------------------------------


def http_json(
    url: str, *, data: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> Any:
    """GET (or POST a form) and decode the JSON answer; BenchError on HTTP or JSON errors."""
    body = None if data is None else urllib.parse.urlencode(data).encode()
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise BenchError(f"{url}: {err}") from err


def get_token(base_url: str) -> str:
    answer = http_json(
        f"{base_url}/oauth/token",
        data={
            "client_id": DEMO_PLATFORM,
            "client_secret": DEMO_SECRET,
            "grant_type": "client_credentials",
        },
    )
    token = answer.get("access_token") if isinstance(answer, dict) else None
    if not token:
        raise BenchError(f"no access_token in the token answer: {answer}")
    return str(token)


def status_envelope(base_url: str, token: str, iot_code: str = DEMO_VEHICLE) -> dict[str, Any]:
    url = f"{base_url}{STATUS_PATH}?iotCode={iot_code}"
    answer = http_json(url, headers={"Authorization": f"bearer {token}"})
    if not isinstance(answer, dict):
        raise BenchError(f"status answer is not an envelope: {answer}")
    return answer


def check_status(base_url: str, token: str, iot_code: str = DEMO_VEHICLE) -> None:
    """BenchError unless the status query really succeeds (code 0, this vehicle's data)."""
    answer = status_envelope(base_url, token, iot_code)
    data = answer.get("data")
    if answer.get("code") != 0 or not isinstance(data, dict) or data.get("iotCode") != iot_code:
        raise BenchError(f"status query did not succeed: {answer}")


# the server -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_command() -> list[str]:
    script = Path(sys.executable).parent / "segway-gateway"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from segway_gateway.cli import main; main()"]


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_healthy(self, timeout: float) -> float:
        """Seconds until /healthz answers; BenchError if the server dies or never does."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise BenchError(
                    f"the server exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                if http_json(f"{self.base_url}/healthz") == {"status": "ok"}:
                    return time.monotonic() - started
            except BenchError:
                pass
            time.sleep(0.5)
        raise BenchError(f"/healthz did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def cpu_seconds(self) -> float | None:
        """User + system CPU time the server has used so far (from /proc), if known."""
        try:
            with open(f"/proc/{self.process.pid}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after 10 s) and reap it."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@contextmanager
def gateway_server(
    workdir: Path, *extra: str, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """`segway-gateway serve --demo [extra]` on a free port, cwd and SQLite file in `workdir`.

    Stopped when the block ends, whatever happens inside it.
    """
    port = free_port()
    cmd = [
        *serve_command(),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--db",
        f"sqlite:///{workdir / 'bench.db'}",
        "--demo",
        *extra,
    ]
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            cmd,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
    server = Server(process, f"http://127.0.0.1:{port}", log_path)
    say(f"server: pid {process.pid}, {server.base_url}, log {log_path}")
    try:
        yield server
    finally:
        server.stop()
        say(f"server: stopped (exit {process.returncode})")


# machine noise ------------------------------------------------------------------


def cpu_times() -> list[int] | None:
    """The aggregate `cpu` line of /proc/stat, or None where there is none."""
    try:
        with open("/proc/stat") as stat:
            return [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None


def steal_percent(before: list[int] | None, after: list[int] | None) -> float | None:
    """Share of CPU time stolen by the hypervisor between two `cpu_times()`."""
    if before is None or after is None or len(before) < 8 or len(after) < 8:
        return None
    delta = [b - a for a, b in zip(before, after, strict=False)]
    total = sum(delta[:8])
    return 100.0 * delta[7] / total if total else None
