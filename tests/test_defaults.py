"""Every default of the gateway is defined once, in gateway/config.py; the CLI shows those."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import fields
from typing import Any, cast

import click
import pytest

from segway_gateway.cli import main
from segway_gateway.cli.serve import serve
from segway_gateway.cli.sim import sim_run
from segway_gateway.gateway.auth import TokenService
from segway_gateway.gateway.config import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_URL,
    MAX_COMMAND_TIMEOUT,
    MAX_TOKEN_TTL,
    MIN_COMMAND_TIMEOUT,
    MIN_TOKEN_TTL,
    GatewayConfig,
)
from tests.processes import invoke, ok
from tests.test_sdk_alone import SERVER_ONLY

STORY_TIMEOUT = 1800
CONFIG = GatewayConfig()
OPTION_ENV = ("SEGWAY_GATEWAY_DB", "SEGWAY_GATEWAY_KEY_FILE", "SEGWAY_GATEWAY_BROKER")
"""Variables that would override the defaults under test."""


def shown_default(help_text: str, option: str) -> str:
    """What `--help` says `option` defaults to (its lines wrapped back into one)."""
    flat = " ".join(help_text.split())
    found = re.search(rf"{re.escape(option)} [^\[]*\[(?:env var: [^;]+; )?default: ([^;\]]+)", flat)
    assert found is not None, f"no default shown for {option}:\n{help_text}"
    return found.group(1)


@pytest.mark.timeout(STORY_TIMEOUT)
def test_serve_help_shows_the_config_defaults() -> None:
    help_text = ok(invoke("serve", "--help"))
    expected = {
        "--host": DEFAULT_HOST,
        "--port": DEFAULT_PORT,
        "--db": CONFIG.db_url,
        "--token-ttl": CONFIG.token_ttl,
        "--command-timeout": CONFIG.command_timeout,
        "--push-retention-days": CONFIG.push_retention_days,
        "--key-file": CONFIG.key_file,
        "--speedup": CONFIG.speedup,
        "--seed": CONFIG.seed,
    }
    for option, default in expected.items():
        assert shown_default(help_text, option) == str(default), option
    flat = " ".join(help_text.split())
    assert f"{MIN_TOKEN_TTL}<=x<={MAX_TOKEN_TTL}" in flat
    assert f"{MIN_COMMAND_TIMEOUT}<=x<={MAX_COMMAND_TIMEOUT}" in flat


@pytest.mark.timeout(STORY_TIMEOUT)
def test_sim_run_and_admin_commands_show_the_config_defaults() -> None:
    help_text = ok(invoke("sim", "run", "--help"))
    for option, default in {"--speedup": CONFIG.speedup, "--seed": CONFIG.seed}.items():
        assert shown_default(help_text, option) == str(default), option
    assert shown_default(ok(invoke("sim", "fault", "--help")), "--url") == DEFAULT_URL


@pytest.mark.parametrize(
    ("command", "args"), [(serve, []), (sim_run, ["--broker", "mqtt://broker"])]
)
def test_a_command_without_flags_is_configured_as_the_config(
    monkeypatch: pytest.MonkeyPatch, command: click.Command, args: list[str]
) -> None:
    for name in OPTION_ENV:
        monkeypatch.delenv(name, raising=False)
    params = command.make_context(command.name, args).params
    shared = {field.name for field in fields(GatewayConfig)} & params.keys()
    shared -= {"simulate", "broker"}  # serve derives simulate from --broker; sim run needs one
    assert {"db_url", "key_file", "speedup", "seed", "city"} <= shared
    for name in shared:
        assert params[name] == getattr(CONFIG, name), name


def _commands(group: click.Group) -> Iterator[click.Command]:
    for command in group.commands.values():
        yield command
        if isinstance(command, click.Group):
            yield from _commands(command)


def test_every_command_defaults_to_the_config_database_key_and_gateway() -> None:
    expected: dict[str, Any] = {
        "db_url": CONFIG.db_url,
        "key_file": CONFIG.key_file,
        "url": DEFAULT_URL,
    }
    seen = set()
    for command in _commands(main):
        for param in command.params:
            if param.name in expected:
                assert param.default == expected[param.name], (command.name, param.name)
                seen.add(param.name)
    assert seen == expected.keys()


@pytest.mark.parametrize("ttl", [MIN_TOKEN_TTL - 1, MAX_TOKEN_TTL + 1])
def test_the_token_service_refuses_a_lifetime_out_of_the_config_range(ttl: int) -> None:
    unused = cast(Any, None)
    with pytest.raises(ValueError, match="token lifetime"):
        TokenService(unused, unused, b"key", unused, ttl)


def test_the_config_imports_no_server_dependency() -> None:
    """The CLI imports it at startup: `segway-gateway --help` must stay light."""
    check = (
        "import sys, segway_gateway.gateway.config\n"
        "loaded = {name.split('.')[0] for name in sys.modules}\n"
        f"print(sorted(loaded & {set(SERVER_ONLY)!r}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
