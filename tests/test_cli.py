"""The `segway-gateway` store commands against a temp SQLite file.

Each process start costs seconds on a slow machine, so one test tells one
story (add, list, refuse, remove) instead of one test per step, what a story
only starts from is written into the database in process, and the commands run in
process (`invoke`: the same command line, exit status and output) but for one story,
the removals, which runs `platform` and `vehicle` as real processes (`cli`).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.harness import Seed, seed_database
from tests.processes import cli, invoke, ok, refused

STORY_TIMEOUT = 1800

PLATFORM = "A20081"
EUROPE_PLATFORM = "E40001"
PUSH_URL = "https://ops.example.com/segway"
VEHICLES = ("861477038719116", "861477038719117", "861477038719118")
INACTIVE = "861477038719200"


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.mark.timeout(STORY_TIMEOUT)
def test_platform_add_list_and_a_refused_second_add(db: str) -> None:
    assert ok(
        invoke("platform", "add", PLATFORM, "--secret", "s1", "--allow-weak-secret", db=db)
    ) == (f"platform {PLATFORM} added\n")
    ok(
        invoke(
            "platform",
            "add",
            EUROPE_PLATFORM,
            "--secret",
            "s2",
            "--allow-weak-secret",
            "--push-url",
            PUSH_URL,
            db=db,
        )
    )
    refused(
        invoke("platform", "add", PLATFORM, "--secret", "other", "--allow-weak-secret", db=db),
        f"platform {PLATFORM} exists already",
    )
    assert lines(ok(invoke("platform", "list", db=db))) == [
        f"{PLATFORM}\tapac\t-",
        f"{EUROPE_PLATFORM}\teurope\t{PUSH_URL}",
    ]


@pytest.mark.timeout(STORY_TIMEOUT)
def test_platform_remove_and_a_refused_second_remove(db: str) -> None:
    asyncio.run(seed_database(db, Seed({PLATFORM: "s1", EUROPE_PLATFORM: "s2"}, {})))
    assert ok(invoke("platform", "remove", EUROPE_PLATFORM, db=db)) == (
        f"platform {EUROPE_PLATFORM} removed\n"
    )
    refused(invoke("platform", "remove", EUROPE_PLATFORM, db=db), f"no platform {EUROPE_PLATFORM}")
    assert lines(ok(invoke("platform", "list", db=db))) == [f"{PLATFORM}\tapac\t-"]


@pytest.mark.timeout(STORY_TIMEOUT)
def test_vehicle_add_list_and_refusals_that_add_nothing(db: str) -> None:
    asyncio.run(seed_database(db, Seed({PLATFORM: "s1"}, {})))
    added = ok(invoke("vehicle", "add", *VEHICLES, "--platform", PLATFORM, db=db))
    assert lines(added) == [f"vehicle {code} added to {PLATFORM}" for code in VEHICLES]
    ok(invoke("vehicle", "add", INACTIVE, "--inactive", "--platform", PLATFORM, db=db))

    refused(
        invoke("vehicle", "add", "861477038719301", VEHICLES[0], "--platform", PLATFORM, db=db),
        f"vehicle {VEHICLES[0]} exists already (nothing was added)",
    )
    refused(
        invoke("vehicle", "add", "861477038719300", "--platform", "A99999", db=db),
        "no platform A99999",
    )

    listed = {
        line.split("\t")[0]: line.split("\t")
        for line in lines(ok(invoke("vehicle", "list", db=db)))
    }
    assert sorted(listed) == sorted([*VEHICLES, INACTIVE]), "a refused add added nothing"
    assert all(row[1] == PLATFORM for row in listed.values())
    assert listed[INACTIVE][2] == "inactive"
    assert all(listed[code][2:] == ["never reported", "-"] for code in VEHICLES)


@pytest.mark.timeout(STORY_TIMEOUT)
def test_vehicle_remove_and_a_removed_platform_takes_its_vehicles(db: str) -> None:
    vehicles = {code: (PLATFORM, True) for code in VEHICLES}
    asyncio.run(seed_database(db, Seed({PLATFORM: "s1"}, vehicles)))
    assert ok(cli("vehicle", "remove", VEHICLES[0], db=db)) == f"vehicle {VEHICLES[0]} removed\n"
    refused(cli("vehicle", "remove", VEHICLES[0], db=db), f"no vehicle {VEHICLES[0]}")

    ok(cli("platform", "remove", PLATFORM, db=db))
    assert lines(ok(cli("vehicle", "list", db=db))) == ["no vehicles"]


@pytest.mark.timeout(STORY_TIMEOUT)
@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("vehicle", "add", "86147703871911X", "--platform", PLATFORM),
            "iotCode must be 1 to 32 digits",
            id="iotCode-not-digits",
        ),
        pytest.param(
            ("platform", "add", "A 20081", "--secret", "s1"),
            "use 1 to 64 letters, digits, '-' or '_'",
            id="platform-code-with-space",
        ),
    ],
)
def test_invalid_argument_is_refused_before_the_database_is_touched(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    path = tmp_path / "untouched.db"
    refused(invoke(*args, db=f"sqlite:///{path}"), message)
    assert not path.exists()


@pytest.mark.timeout(STORY_TIMEOUT)
def test_unsupported_database_url_is_one_clean_error() -> None:
    refused(invoke("platform", "list", db="mysql://x"), "unsupported database 'mysql'")


@pytest.mark.timeout(STORY_TIMEOUT)
def test_serve_help_lists_its_options() -> None:
    help_text = ok(invoke("serve", "--help"))
    for option in ("--host", "--port", "--db", "--region", "--token-ttl", "--demo"):
        assert option in help_text, option
