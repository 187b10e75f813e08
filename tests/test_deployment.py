"""The deployment files (Dockerfile, compose.yaml, deploy/nginx/), and their topology run
from processes: nginx (Debian's) in front of two `serve` on PostgreSQL and Mosquitto,
with `sim run`. No container can be built here, so the Dockerfile is linted (hadolint)
and compose.yaml checked against the Compose specification's schema and against the
gateway's own flags."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from ruamel.yaml import YAML
from sqlalchemy import select

from segway_gateway.cli.serve import serve
from segway_gateway.gateway.store.db import Database
from segway_gateway.gateway.store.tables import login_failures
from tests.brokers import PrivateBroker
from tests.conftest import PLATFORM, get_token
from tests.harness import DOC_SECRET, eventually, free_port
from tests.processes import BackgroundProcess, ServeProcess, answers, invoke, ok, refused

ROOT = Path(__file__).parent.parent
NGINX_CONF = ROOT / "deploy" / "nginx" / "segway-gateway.conf"
BIN = Path(sys.executable).parent
FLEET = [str(861_477_038_760_001 + n) for n in range(3)]
STATUS = "/api/v2/vehicle/query/current/status"


def test_the_dockerfile_passes_hadolint() -> None:
    done = subprocess.run(
        [str(BIN / "hadolint"), str(ROOT / "Dockerfile")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe").load((ROOT / "compose.yaml").read_text())
    return loaded


def test_compose_yaml_follows_the_compose_specification() -> None:
    done = subprocess.run(
        [
            str(BIN / "check-jsonschema"),
            "--builtin-schema",
            "vendor.compose-spec",
            str(ROOT / "compose.yaml"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_yaml_speaks_the_gateways_language() -> None:
    """Every SEGWAY_GATEWAY_* variable it sets is one `serve` reads (or the key), the
    setup script is valid shell, and the files it mounts exist."""
    known = {"SEGWAY_GATEWAY_KEY", "SEGWAY_GATEWAY_ADMIN_TOKEN"}
    for option in serve.params:
        envvar = getattr(option, "envvar", None)
        known.update(envvar if isinstance(envvar, list) else [envvar] if envvar else [])
    services = compose()["services"]
    for name, service in services.items():
        used = {k for k in service.get("environment", {}) if k.startswith("SEGWAY_GATEWAY_")}
        assert used <= known, (name, used - known)
    script = services["setup"]["command"][0].replace("$$", "$")
    syntax = subprocess.run(["sh", "-n", "-c", script], capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).is_file(), source
    gateways = [s for s in services.values() if s.get("stop_grace_period")]
    assert len(gateways) == 2


@dataclass
class Topology:
    nginx_url: str
    gateways: list[ServeProcess]
    db_url: str


def nginx_binary() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is not installed (.ci/run installs Debian's nginx-light)")
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    return found


class Nginx(BackgroundProcess):
    """nginx in the foreground, one process, with the shipped site config pointed at the
    given upstream ports and listening on `port`."""

    def __init__(self, workdir: Path, port: int, upstreams: list[int]) -> None:
        site = NGINX_CONF.read_text().replace("listen 80;", f"listen 127.0.0.1:{port};")
        for n, upstream in enumerate(upstreams, start=1):
            site = site.replace(f"gateway-{n}:8080", f"127.0.0.1:{upstream}")
        assert "gateway-" not in site.split("upstream", 1)[1].split("}", 1)[0]
        workdir.mkdir()
        (workdir / "site.conf").write_text(site)
        temp = workdir / "temp"
        temp.mkdir()
        (workdir / "nginx.conf").write_text(
            f"""daemon off;
master_process off;
pid {workdir / "nginx.pid"};
error_log {workdir / "error.log"} warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    include {workdir / "site.conf"};
}}
"""
        )
        binary = nginx_binary()
        check = subprocess.run(
            [binary, "-t", "-p", str(workdir), "-c", str(workdir / "nginx.conf")],
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stderr
        self.log_path = workdir / "nginx.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [binary, "-p", str(workdir), "-c", str(workdir / "nginx.conf")],
                stdout=log,
                stderr=subprocess.STDOUT,
            )


@pytest.fixture
def topology(tmp_path: Path, postgres_url: str) -> Iterator[Topology]:
    # every command runs in tmp_path, where they share the gateway key var/gateway.key
    ok(invoke("platform", "add", PLATFORM, "--secret", DOC_SECRET, db=postgres_url, cwd=tmp_path))
    ok(invoke("vehicle", "add", *FLEET, "--platform", PLATFORM, db=postgres_url))
    port = free_port()
    config = ("mqtt", "broker-config", "--out", str(tmp_path / "broker"), "--port", str(port))
    ok(invoke(*config, db=postgres_url, cwd=tmp_path))
    broker = PrivateBroker(tmp_path / "broker" / "mosquitto.conf", port)
    broker.start()
    processes: list[BackgroundProcess] = []
    try:
        gateways = []
        for n in (1, 2):
            drain = ("--drain-timeout", "10", "--command-timeout", "2")  # as in production
            drain += ("--trusted-proxies", "127.0.0.1")  # nginx
            gateway = ServeProcess(
                postgres_url,
                tmp_path,
                "--broker",
                broker.url,
                "--gateway-id",
                f"gateway-{n}",
                *drain,
            )
            processes.append(gateway)
            gateways.append(gateway)
        sim_db = f"sqlite:///{tmp_path / 'sim.db'}"
        fleet = ["--count", str(len(FLEET)), "--first", FLEET[0], "--db", sim_db]
        processes.append(
            BackgroundProcess("sim", ["sim", "run", "--broker", broker.url, *fleet], tmp_path)
        )
        for gateway in gateways:
            gateway.wait_ready()
        nginx_port = free_port()
        nginx = Nginx(tmp_path / "nginx", nginx_port, [g.port for g in gateways])
        processes.append(nginx)
        nginx_url = f"http://127.0.0.1:{nginx_port}"
        nginx.wait_until(lambda: answers(f"{nginx_url}/healthz") == 200, "nginx up", 30)
        yield Topology(nginx_url, gateways, postgres_url)
    finally:
        for process in reversed(processes):
            process.kill()
        broker.stop()


def failure_sources(db_url: str) -> set[str]:
    """The source addresses token failures were counted for (the throttle's table)."""

    async def read() -> set[str]:
        async with Database(db_url) as db, db.engine.connect() as conn:
            rows = await conn.execute(select(login_failures.c.source).distinct())
            return {row.source for row in rows}

    return asyncio.run(read())


def status_code(client: httpx.Client, base: str, token: str) -> int:
    answer = client.get(
        f"{base}{STATUS}",
        params={"iotCode": FLEET[0]},
        headers={"Authorization": f"bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    code: int = answer.json()["code"]
    return code


def test_through_nginx_tokens_work_everywhere_and_a_stopping_gateway_loses_nothing(
    tmp_path: Path, topology: Topology
) -> None:
    nginx, (first, second) = topology.nginx_url, topology.gateways
    with httpx.Client(timeout=30) as client:
        token = get_token(first.base_url)  # issued by the first instance
        eventually(lambda: status_code(client, second.base_url, token) == 0, "fleet reported")
        assert status_code(client, nginx, token) == 0, "through nginx"
        assert get_token(nginx) == token, "the same token through the other instance"
        assert {status_code(client, nginx, token) for _ in range(20)} == {0}
        spoofed = client.post(
            f"{nginx}/oauth/token",
            data={
                "client_id": PLATFORM,
                "client_secret": "not-it",
                "grant_type": "client_credentials",
            },
            headers={"X-Forwarded-For": "6.6.6.6"},
        )
        assert spoofed.status_code == 401
        assert failure_sources(topology.db_url) == {"127.0.0.1"}, "nginx's word, not the client's"
        console = client.post(
            f"{nginx}/console/login",
            data={"client_id": PLATFORM, "client_secret": DOC_SECRET},
            headers={"Origin": nginx},  # as a browser sends it: the port included
        )
        assert console.status_code == 303, "the console's own form, through nginx"

        answers_seen: list[int] = []
        failures: list[str] = []
        stop = threading.Event()

        def keep_asking() -> None:
            with httpx.Client(timeout=30) as own:
                while not stop.is_set():
                    try:
                        answers_seen.append(status_code(own, nginx, token))
                    except (AssertionError, httpx.HTTPError) as err:
                        failures.append(repr(err))

        asking = [threading.Thread(target=keep_asking) for _ in range(4)]
        for thread in asking:
            thread.start()
        time.sleep(0.5)
        first.process.send_signal(signal.SIGTERM)  # drains, then stops
        exit_code = first.process.wait(timeout=60)
        time.sleep(1.0)  # and a while with one instance left
        stop.set()
        for thread in asking:
            thread.join(timeout=30)
    assert exit_code == 0, first.log()
    assert failures == [], failures[:5]
    assert len(answers_seen) > 50 and set(answers_seen) == {0}, len(answers_seen)


def test_broker_config_for_a_broker_in_another_container(tmp_path: Path) -> None:
    """compose.yaml's setup writes the broker's config where the plugin is not: the path
    is written as given, not looked for; --plugin and --broker-plugin exclude each other."""
    db = f"sqlite:///{tmp_path / 'broker.db'}"
    path = "/usr/lib/mosquitto_dynamic_security.so"
    out = tmp_path / "broker"
    ok(invoke("mqtt", "broker-config", "--out", str(out), "--broker-plugin", path, db=db))
    assert f"plugin {path}\n" in (out / "mosquitto.conf").read_text()
    both = invoke(
        "mqtt", "broker-config", "--out", str(out), "--plugin", path, "--broker-plugin", path, db=db
    )
    refused(both, "not both")
