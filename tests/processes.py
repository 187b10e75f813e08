"""Running the real `segway-gateway` command, and the rule for tests that need a service."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

GATEWAY = Path(sys.executable).parent / "segway-gateway"
CLI_TIMEOUT = 300
"""Seconds one CLI call may take (a cold start is slow on a loaded machine)."""


def cli_env() -> dict[str, str]:
    """The environment without the variables that would pick another db or key."""
    env = dict(os.environ)
    for name in ("SEGWAY_GATEWAY_DB", "SEGWAY_GATEWAY_KEY"):
        env.pop(name, None)
    return env


def cli(*args: str, db: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `segway-gateway ARGS [--db DB]` and capture what it printed."""
    argv = [str(GATEWAY), *args, *(["--db", db] if db is not None else [])]
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=CLI_TIMEOUT, env=cli_env(), check=False
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
