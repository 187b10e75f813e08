"""`platform add` and `platform set-secret` refuse a secret shorter than 16 characters
(non-zero exit, one clean line, nothing stored) unless `--allow-weak-secret`.

The commands run in process (`invoke`); test_sealing and test_cli run `platform` as a
real process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from segway_gateway.gateway.crypto import verify_secret
from segway_gateway.gateway.store.db import Database
from tests.processes import invoke, ok, refused

STORY_TIMEOUT = 1800
PLATFORM = "A20081"
SHORT = "fifteen-chars-x"
SIXTEEN = "sixteen-chars-xy"
REFUSAL = "is 15 characters long: use at least 16"


def stored_hash(db: str, code: str) -> str | None:
    async def read() -> str | None:
        async with Database(db) as store:
            platform = await store.platforms.get(code)
        return None if platform is None else platform.secret_hash

    return asyncio.run(read())


@pytest.mark.timeout(STORY_TIMEOUT)
def test_platform_add_refuses_a_short_secret_unless_allowed(tmp_path: Path) -> None:
    assert len(SHORT) == 15 and len(SIXTEEN) == 16
    path = tmp_path / "gateway.db"
    db, key = f"sqlite:///{path}", str(tmp_path / "gateway.key")
    refused(
        invoke("platform", "add", PLATFORM, "--secret", SHORT, "--key-file", key, db=db), REFUSAL
    )
    refused(
        invoke(
            "platform",
            "add",
            PLATFORM,
            "--key-file",
            key,
            db=db,
            env={"SEGWAY_PLATFORM_SECRET": SHORT},
        ),
        REFUSAL,
    )
    assert not path.exists(), "a refused secret touched the database"

    ok(invoke("platform", "add", PLATFORM, "--secret", SIXTEEN, "--key-file", key, db=db))
    secret_hash = stored_hash(db, PLATFORM)
    assert secret_hash is not None and verify_secret(SIXTEEN, secret_hash)

    ok(
        invoke(
            "platform",
            "add",
            "A20082",
            "--secret",
            "s1",
            "--allow-weak-secret",
            "--key-file",
            key,
            db=db,
        )
    )
    weak_hash = stored_hash(db, "A20082")
    assert weak_hash is not None and verify_secret("s1", weak_hash)


@pytest.mark.timeout(STORY_TIMEOUT)
def test_platform_set_secret_refuses_a_short_secret_unless_allowed(tmp_path: Path) -> None:
    db, key = f"sqlite:///{tmp_path / 'gateway.db'}", str(tmp_path / "gateway.key")
    ok(invoke("platform", "add", PLATFORM, "--secret", SIXTEEN, "--key-file", key, db=db))
    before = stored_hash(db, PLATFORM)

    refused(
        invoke("platform", "set-secret", PLATFORM, "--secret", SHORT, "--key-file", key, db=db),
        REFUSAL,
    )
    assert stored_hash(db, PLATFORM) == before, "a refused secret was stored"

    ok(
        invoke(
            "platform",
            "set-secret",
            PLATFORM,
            "--secret",
            SHORT,
            "--allow-weak-secret",
            "--key-file",
            key,
            db=db,
        )
    )
    after = stored_hash(db, PLATFORM)
    assert after is not None and verify_secret(SHORT, after)
