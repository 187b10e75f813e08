"""Running the real `segway-gateway` command (or the same command line in process), and the
rule for tests that need a service."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.harness import eventually, free_port

GATEWAY = Path(sys.executable).parent / "segway-gateway"
CLI_TIMEOUT = 300
"""Seconds one CLI call may take (a cold start is slow on a loaded machine)."""


INHERITED = (
    "SEGWAY_GATEWAY_DB",
    "SEGWAY_GATEWAY_KEY",
    "SEGWAY_GATEWAY_ADMIN_TOKEN",
    "SEGWAY_BASE_URL",
    "SEGWAY_CLIENT_ID",
    "SEGWAY_CLIENT_SECRET",
)
"""Variables of the caller's environment that would pick another db, key or server."""


def cli_env() -> dict[str, str]:
    """The environment without the variables that would pick another db, key or server."""
    env = dict(os.environ)
    for name in INHERITED:
        env.pop(name, None)
    return env


def cli(
    *args: str,
    db: str | None = None,
    stdin: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `segway-gateway ARGS [--db DB]` (in `cwd`, where it finds the gateway key under
    var/), feeding it `stdin`, with `env` added to the environment, and capture what it
    printed."""
    argv = [str(GATEWAY), *args, *(["--db", db] if db is not None else [])]
    return subprocess.run(
        argv,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        env={**cli_env(), **(env or {})},
        check=False,
    )


def invoke(
    *args: str,
    db: str | None = None,
    stdin: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """`cli`, but in this process: the same `segway-gateway` command line through click's
    CliRunner (the same command objects, options, environment variables, stdin, working
    directory, exit status and the two output streams), without the half second of CPU
    an interpreter start and its imports cost, and hashing secrets at the tests' cost.

    An exception escaping the command is appended to stderr as the traceback the
    interpreter would print (exit status 1), so `refused` still catches a crash.
    Commands that configure logging or signals (`serve`, `sim run`, `push listen`) only
    run here when they are refused before they start. Every command group keeps tests
    that run it with `cli`, as a real process through its console script."""
    from click.testing import CliRunner

    from segway_gateway.cli import main

    argv = [*args, *(["--db", db] if db is not None else [])]
    environment: dict[str, str | None] = {name: None for name in INHERITED}
    environment.update(env or {})
    with contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext():
        result = CliRunner().invoke(
            main, argv, input=stdin, env=environment, prog_name=GATEWAY.name
        )
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess(
        [GATEWAY.name, *argv], result.exit_code, result.stdout, stderr
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    """The stdout of a call that must have succeeded."""
    assert result.returncode == 0, f"{result.args}: {result.stdout}{result.stderr}"
    return result.stdout


def refused(result: subprocess.CompletedProcess[str], message: str) -> None:
    """The call failed with one clean error line naming `message`, no traceback."""
    output = f"{result.args}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert result.returncode != 0, output
    assert message in result.stderr, output
    assert "Traceback" not in result.stderr + result.stdout, output


def require_service(name: str, host: str, port: int, timeout: float = 3.0) -> None:
    """Skip the calling test if `name` does not accept TCP at host:port; fail instead if CI=true.

    On CI a missing service is a broken pipeline, not a reason to pass silently.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return
    except OSError as err:
        reason = f"{name} is not reachable at {host}:{port} ({err})"
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason}; CI=true requires it", pytrace=False)
    pytest.skip(reason)


START_TIMEOUT = 600.0
"""Seconds a cold `serve` may take to answer /healthz on a slow, shared machine."""
STOP_TIMEOUT = 120.0


@functools.cache
def _prober() -> httpx.Client:
    """The client `answers` asks through: one for the process, as making one costs 15-20 ms
    of CPU (its TLS context), which a wait for `serve` paid on every look, 20 times a second.
    It keeps no connection open: each look is a new one, as a new client's was."""
    return httpx.Client(timeout=5, limits=httpx.Limits(max_keepalive_connections=0))


def answers(url: str) -> int | None:
    """The HTTP status `url` answers a GET with; None while nothing answers there."""
    try:
        return _prober().get(url).status_code
    except httpx.TransportError:
        return None


class BackgroundProcess:
    """A `segway-gateway` command running in `cwd`, its output in a log file there."""

    def __init__(
        self, name: str, args: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None
    ) -> None:
        self.log_path = cwd / f"{name}-{free_port()}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(GATEWAY), *args],
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**cli_env(), **(env or {})},
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until(self, ready: Callable[[], bool], what: str, timeout: float) -> None:
        """Wait until `ready()`; fail with the log if the process exits first or it
        takes longer than `timeout` seconds."""
        eventually(lambda: self.process.poll() is not None or ready(), what, timeout, self.log)
        if self.process.poll() is not None:
            pytest.fail(f"exited with {self.process.returncode} before {what}:\n{self.log()}")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)


class ServeProcess(BackgroundProcess):
    """`segway-gateway serve` on a free loopback port, its output in a log file in `cwd`.

    It stops at once on SIGTERM (`--drain-timeout 0`: no load balancer waits for its
    readiness here); `extra` may give a drain timeout of its own, the last one counts."""

    def __init__(
        self,
        db_url: str,
        cwd: Path,
        *extra: str,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        args = ["serve", "--host", "127.0.0.1", "--port", str(self.port), "--db", db_url]
        super().__init__("serve", [*args, "--drain-timeout", "0", *extra], cwd, env)

    def wait_ready(self) -> None:
        healthy = f"{self.base_url}/healthz"
        self.wait_until(lambda: answers(healthy) == 200, "serve answering /healthz", START_TIMEOUT)

    def stop(self) -> None:
        """SIGTERM, wait for the exit, and check the shutdown was graceful.

        uvicorn finishes its shutdown, then re-raises the signal, so the exit
        status is -SIGTERM (0 is accepted too); the lifespan's last line proves
        the state was written before the process ended.
        """
        self.process.send_signal(signal.SIGTERM)
        status = self.process.wait(timeout=STOP_TIMEOUT)
        log = self.log()
        assert status in (0, -signal.SIGTERM), f"exit status {status}:\n{log}"
        assert "Application shutdown complete" in log, log


@contextmanager
def serving(
    db_url: str, cwd: Path, *extra: str, env: Mapping[str, str] | None = None
) -> Iterator[ServeProcess]:
    """A started server (`extra` are more `serve` flags, `env` more variables); killed on
    the way out."""
    server = ServeProcess(db_url, cwd, *extra, env=env)
    try:
        server.wait_ready()
        yield server
    finally:
        server.kill()


class PushListener(BackgroundProcess):
    """`segway-gateway push listen` (`extra` are more of its flags) on a free loopback
    port, run in `cwd`; what it printed is in its log."""

    def __init__(self, cwd: Path, *extra: str, env: Mapping[str, str] | None = None) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        args = ["push", "listen", "--port", str(self.port), *extra]
        super().__init__("listen", args, cwd, env)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def wait_ready(self) -> None:
        self.wait_until(lambda: answers(self.base_url) is not None, "push listen answering", 120)

    def printed(self) -> list[dict[str, Any]]:
        """The pushes it printed with --json, accepted or refused, each a whole line."""
        whole_lines = self.log().split("\n")[:-1]
        return [json.loads(line) for line in whole_lines if line.startswith("{")]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=STOP_TIMEOUT)


@contextmanager
def listening(
    cwd: Path, *extra: str, env: Mapping[str, str] | None = None
) -> Iterator[PushListener]:
    """A started `push listen`; stopped on the way out."""
    listener = PushListener(cwd, *extra, env=env)
    try:
        listener.wait_ready()
        yield listener
    finally:
        listener.stop()
        listener.kill()
