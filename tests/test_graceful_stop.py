"""SIGTERM drains a real `serve` before it stops (cli/draining.py): /readyz answers 503 at
once while the listener stays open, a command under way gets its answer, new requests
are still served, an open console's live feed is closed (it would hold the drain open),
and the process exits 0 once the drain is over."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx

from tests.conftest import ADMIN_TOKEN, api_client
from tests.harness import eventually
from tests.processes import BackgroundProcess, answers, free_port

VEHICLE = "861477038719116"
"""A vehicle `serve --demo` adds."""
COMMAND_TIMEOUT = 3.0
DRAIN_TIMEOUT = 20.0
REPLY_DELAY = 2.0


def test_sigterm_drains_then_exits_0(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["serve", "--demo", "--port", str(port), "--db", f"sqlite:///{tmp_path / 'd.db'}"]
    timing = ["--command-timeout", str(COMMAND_TIMEOUT), "--drain-timeout", str(DRAIN_TIMEOUT)]
    server = BackgroundProcess(
        "serve", [*args, *timing], tmp_path, env={"SEGWAY_GATEWAY_ADMIN_TOKEN": ADMIN_TOKEN}
    )
    try:
        server.wait_until(lambda: answers(f"{base}/readyz") == 200, "ready", 60)
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        fault = {"kind": "slow-reply", "delay": REPLY_DELAY}
        answer = httpx.post(f"{base}/admin/v1/vehicles/{VEHICLE}/faults", json=fault, headers=admin)
        assert answer.status_code == 200, answer.text
        console = _open_console(base)
        with api_client(base) as api:
            unlocked: list[int] = []
            command = threading.Thread(
                target=lambda: unlocked.append(
                    api.post("/api/v2/vehicle/control/unlock", json={"iotCode": VEHICLE}).json()[
                        "code"
                    ]
                )
            )
            command.start()
            time.sleep(0.3)  # the command is on its way to the vehicle
            server.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            eventually(lambda: answers(f"{base}/readyz") == 503, "not ready while draining", 3)
            assert httpx.get(f"{base}/readyz").json()["checks"]["gateway"] == "stopping"
            status = api.get("/api/v2/vehicle/query/current/status", params={"iotCode": VEHICLE})
            assert status.json()["code"] == 0, "a request during the drain is still served"
            command.join(timeout=30)
            assert unlocked == [0], "the command under way got its answer"
            console.join(timeout=DRAIN_TIMEOUT)
            assert not console.is_alive(), "the console's live feed ended with the drain"
        exit_code = server.process.wait(timeout=DRAIN_TIMEOUT + 15)
        drained = time.monotonic() - signalled
    finally:
        server.kill()
    assert exit_code == 0, server.log()
    assert COMMAND_TIMEOUT <= drained < DRAIN_TIMEOUT, drained
    assert "Application shutdown complete" in server.log()


def _open_console(base: str) -> threading.Thread:
    """A console logged in as the admin, its live feed read in a thread until it ends."""
    login = httpx.post(
        f"{base}/console/login", data={"admin_token": ADMIN_TOKEN}, headers={"Origin": base}
    )
    cookies = {"segway_console": login.cookies["segway_console"]}
    opened = threading.Event()

    def read() -> None:
        with httpx.stream("GET", f"{base}/console/live", cookies=cookies, timeout=60) as feed:
            opened.set()
            for _ in feed.iter_lines():
                pass

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert opened.wait(10), "the live feed opened"
    return reader
