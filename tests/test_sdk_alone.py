"""The SDK, the push kit's signing and parsing, and the CLI work without the server's
dependencies: installing `segway-gateway` without the `gateway` extra is enough."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER_ONLY = (
    "aiosqlite",
    "asyncpg",
    "cryptography",
    "fastapi",
    "gmqtt",
    "orjson",
    "sqlalchemy",
    "starlette",
    "uvicorn",
)

WITHOUT_SERVER = f"""
import sys

class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {SERVER_ONLY!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)")
        return None

sys.meta_path.insert(0, Absent())
"""

USE_THE_SDK = """
from segway_gateway import AsyncClient, Client, ParameterError
from segway_gateway.webhooks import parse_push, sign, verify
from segway_gateway.cli import main

with Client("A20081", "secret") as api:
    assert api.base_url == "https://apac-api.segwaydiscovery.com"
form = {"iotCode": "1", "code": "1", "alertStatus": "0", "statusUtcTime": "1"}
assert verify({**form, "signature": sign(form, "s")}, "s")
try:
    main(["--help"])
except SystemExit as done:
    assert done.code == 0
print("sdk alone: ok")
"""


def test_the_sdk_and_cli_import_nothing_of_the_server() -> None:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_SERVER + USE_THE_SDK],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "sdk alone: ok" in result.stdout


def test_the_blocker_does_block() -> None:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_SERVER + "import segway_gateway.gateway.app"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0 and "(blocked)" in result.stderr


def test_the_server_dependencies_come_with_the_gateway_extra_only() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = {_name(requirement) for requirement in project["dependencies"]}
    extra = {_name(requirement) for requirement in project["optional-dependencies"]["gateway"]}
    assert base == {"click", "httpx", "pydantic", "sniffio"}
    assert set(SERVER_ONLY) - {"starlette"} <= extra  # starlette comes with fastapi


def _name(requirement: str) -> str:
    return requirement.split(">")[0].split("[")[0].split("=")[0].strip().lower()
