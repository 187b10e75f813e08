"""`serve --demo` (what `make run` starts): seeded, printed, and usable as printed."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.harness import eventually
from tests.processes import cli, ok, serving

DEMO_SECRET = "e2651be5-12d3-48f3-ba6c-bc2b04a447b6"


@pytest.mark.timeout(900)
def test_demo_prints_working_credentials_and_honours_token_ttl(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'demo.db'}"
    with serving(db_url, tmp_path, "--demo", "--token-ttl", "600") as server:
        printed = server.log()
        assert "Seeded demo platform A20081 with 10 vehicles." in printed
        assert f"client_id=A20081 client_secret={DEMO_SECRET}" in printed
        assert f"{server.base_url}/api/v2/vehicle/control/unlock" in printed
        iot_code = re.search(r'"iotCode": "(\d+)"', printed)
        assert iot_code is not None

        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            form = {"client_id": "A20081", "client_secret": DEMO_SECRET}
            token = http.post("/oauth/token", data={**form, "grant_type": "client_credentials"})
            assert token.json()["expires_in"] == 600
            http.headers["Authorization"] = f"bearer {token.json()['access_token']}"
            unlock = http.post(
                "/api/v2/vehicle/control/unlock", json={"iotCode": iot_code.group(1)}
            )
            assert unlock.json()["code"] == 0
            status = http.get(
                "/api/v2/vehicle/query/current/status", params={"iotCode": iot_code.group(1)}
            )
            assert status.json()["data"]["locked"] is False
            # the platform's pushes reach the built-in receiver, signature checked, and are shown
            pushed = f"push status {iot_code.group(1)} online=True locked=False"
            eventually(
                lambda: pushed in server.log(),
                "the unlocked status shown by the receiver",
                detail=lambda: server.log()[-3000:],
            )
            fault = http.post(f"/admin/v1/vehicles/{iot_code.group(1)}/faults", json={})
            assert fault.status_code == 404, "no admin token configured: the admin API is off"

        # the client CLI's lines, run as printed
        exported = re.search(r"export (SEGWAY_BASE_URL=\S+) (\S+) (\S+)", printed)
        command = re.search(r"\.venv/bin/segway-gateway (status [\d ]+)", printed)
        assert exported is not None and command is not None
        env = dict(assignment.split("=", 1) for assignment in exported.groups())
        table = ok(cli(*command.group(1).split(), env=env))
        assert f"{iot_code.group(1)}  yes     no " in table  # online, unlocked above
        server.stop()
