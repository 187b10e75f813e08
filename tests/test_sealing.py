"""Client secrets sealed with the gateway key: recoverable for signing pushes, by nobody else."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from segway_gateway.gateway.crypto import PBKDF2_ITERATIONS, load_key, verify_secret
from segway_gateway.gateway.sealing import SealBroken, seal, unseal
from segway_gateway.gateway.store.db import Database
from tests.processes import cli, invoke, ok, refused

KEY = b"k" * 32
SECRET = "e2651be5-12d3-48f3-ba6c-bc2b04a447b6"
OLD, NEW = "old-secret-0123456789", "new-secret-0123456789"


def test_a_sealed_secret_opens_for_its_platform_with_the_key() -> None:
    sealed = seal(KEY, "A20081", SECRET)
    assert SECRET not in sealed
    assert unseal(KEY, "A20081", sealed) == SECRET
    assert seal(KEY, "A20081", SECRET) != sealed  # a fresh nonce each time


@pytest.mark.parametrize(
    ("key", "platform", "tamper"),
    [(b"x" * 32, "A20081", False), (KEY, "A30001", False), (KEY, "A20081", True)],
    ids=["another key", "another platform", "tampered"],
)
def test_a_sealed_secret_does_not_open_otherwise(key: bytes, platform: str, tamper: bool) -> None:
    sealed = seal(KEY, "A20081", SECRET)
    if tamper:
        sealed = sealed[:-6] + ("AAAA" if not sealed.endswith("AAAA==") else "BBBB") + "=="
    with pytest.raises(SealBroken):
        unseal(key, platform, sealed)


def test_garbage_is_refused_as_broken_not_as_a_crash() -> None:
    for garbage in ("v1:%%%", "v9:abc", "", "v1:"):
        with pytest.raises(SealBroken):
            unseal(KEY, "A20081", garbage)


def stored(db_url: str, code: str) -> tuple[str, str | None]:
    """(secret hash, sealed secret) as the store holds them."""

    async def read() -> tuple[str, str | None]:
        async with Database(db_url) as db:
            platform = await db.platforms.get(code)
            assert platform is not None
            return platform.secret_hash, await db.platforms.sealed_secret(code)

    return asyncio.run(read())


def test_platform_add_keeps_the_secret_hashed_and_sealed_never_plain(tmp_path: Path) -> None:
    db_file = tmp_path / "gateway.db"
    db_url = f"sqlite:///{db_file}"
    key_file = tmp_path / "gateway.key"
    ok(cli("platform", "add", "A20081", "--secret", SECRET, "--key-file", str(key_file), db=db_url))
    secret_hash, sealed = stored(db_url, "A20081")
    assert verify_secret(SECRET, secret_hash)
    # a real process: hashed at full cost (the tests' own process hashes at less)
    assert secret_hash.split("$")[1] == str(PBKDF2_ITERATIONS)
    assert sealed is not None and unseal(load_key(key_file), "A20081", sealed) == SECRET
    for path in tmp_path.glob("gateway.db*"):
        assert SECRET.encode() not in path.read_bytes()


def test_platform_set_secret_replaces_hash_and_seal_together(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'gateway.db'}"
    key_file = str(tmp_path / "gateway.key")
    ok(invoke("platform", "add", "A20081", "--secret", OLD, "--key-file", key_file, db=db_url))
    printed = ok(
        invoke(
            "platform", "set-secret", "A20081", "--secret", NEW, "--key-file", key_file, db=db_url
        )
    )
    assert "secret replaced" in printed
    secret_hash, sealed = stored(db_url, "A20081")
    assert verify_secret(NEW, secret_hash) and not verify_secret(OLD, secret_hash)
    assert sealed is not None and unseal(load_key(Path(key_file)), "A20081", sealed) == NEW
    refused(
        invoke(
            "platform",
            "set-secret",
            "A99999",
            "--secret",
            SECRET,
            "--key-file",
            key_file,
            db=db_url,
        ),
        "no platform A99999",
    )
