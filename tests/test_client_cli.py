"""The client commands of `segway-gateway` (token, queries, controls, settings) against a
gateway on loopback, over HTTP.

A process start costs a second or more on a loaded machine, so most commands run in
process (`invoke`: the same command line, exit status and output); the token story, the
progress bar, a refused secret and one setting run as real processes (`cli`), so the
console script, its exit statuses and its one-line errors are exercised as an operator
meets them.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, FIRST_VEHICLE, OTHER_VEHICLE, PLATFORM, SEED
from tests.harness import DOC_SECRET, RunningGateway, free_port, running
from tests.processes import cli, invoke, ok, refused

MISSING = "861477000000000"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    """A gateway of its own: a test here breaks its fleet service once."""
    yield from running(
        tmp_path_factory.mktemp("client-cli"), SEED, command_timeout=1.0, admin_token=ADMIN_TOKEN
    )


_next = iter(range(FIRST_VEHICLE + 300, FIRST_VEHICLE + 400))


def vehicles(count: int) -> list[str]:
    """Vehicles of PLATFORM (locked, online) no other test here has touched."""
    return [str(next(_next)) for _ in range(count)]


def client(
    gateway: RunningGateway, *args: str, stdin: str | None = None, process: bool = False
) -> subprocess.CompletedProcess[str]:
    """`segway-gateway ARGS` with the credentials as options, in process (`invoke`) or,
    with `process`, as a real process (`cli`)."""
    run = cli if process else invoke
    return run(
        *args,
        "--base-url",
        gateway.base_url,
        "--client-id",
        PLATFORM,
        "--client-secret",
        DOC_SECRET,
        stdin=stdin,
    )


def table(text: str) -> list[list[str]]:
    """The table's rows, split on the two-space column gaps."""
    return [[cell.strip() for cell in line.split("  ") if cell] for line in text.splitlines()]


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_token_from_the_environment_works_for_the_api(gateway: RunningGateway) -> None:
    env = {
        "SEGWAY_BASE_URL": gateway.base_url,
        "SEGWAY_CLIENT_ID": PLATFORM,
        "SEGWAY_CLIENT_SECRET": DOC_SECRET,
    }
    header, row = table(ok(cli("token", env=env)))
    assert header == ["access_token", "expires_in"] and len(row[0]) == 36
    answer = json.loads(ok(cli("token", "--json", env=env)))
    assert set(answer) == {"access_token", "expires_in"} and 0 < answer["expires_in"] <= 86_400

    (iot_code,) = vehicles(1)
    response = httpx.get(
        f"{gateway.base_url}/api/v2/vehicle/query/current/status",
        params={"iotCode": iot_code},
        headers={"Authorization": f"bearer {answer['access_token']}"},
    )
    assert response.json()["code"] == 0
    assert table(ok(cli("status", iot_code, env=env)))[1][:3] == [iot_code, "yes", "yes"]


def test_queries_show_one_row_per_vehicle_with_the_key_fields(gateway: RunningGateway) -> None:
    first, second = vehicles(2)
    rows = table(ok(client(gateway, "status", first, second)))
    assert rows[0] == ["iotCode", "online", "locked", "power", "range", "speed", "odometer"]
    assert [row[:3] for row in rows[1:]] == [[first, "yes", "yes"], [second, "yes", "yes"]]
    assert rows[1][3].endswith("%") and rows[1][4].endswith(" km")

    rows = table(ok(client(gateway, "location", "--realtime", first)))
    assert rows[0] == ["iotCode", "lat", "lon", "sats", "hdop", "gpsUtcTime"]
    assert rows[1][0] == first and -90 <= float(rows[1][1]) <= 90 and rows[1][5].endswith("Z")
    assert table(ok(client(gateway, "location", first)))[1][:3] == rows[1][:3]

    rows = table(ok(client(gateway, "battery", first)))
    assert rows[0] == ["iotCode", "percent", "packs"] and rows[1][2].startswith("1:")
    rows = table(ok(client(gateway, "bluetooth-key", first)))
    assert rows[0] == ["iotCode", "key"] and len(rows[1][1]) == 8

    (line,) = json_lines(ok(client(gateway, "status", "--json", first)))
    assert line["iotCode"] == first and line["ok"] is True and len(line["opId"]) == 36
    assert line["data"]["iotCode"] == first and line["data"]["locked"] is True
    assert {"powerPercent", "remainingRange", "remainderRange"} <= set(line["data"])


def test_controls_unlock_open_find_and_lock(gateway: RunningGateway) -> None:
    (iot_code,) = vehicles(1)
    for command in ("unlock", "battery-cover", "find"):
        rows = table(ok(client(gateway, command, iot_code)))
        assert rows[0] == ["iotCode", "result", "opId"]
        assert rows[1][:2] == [iot_code, "ok"] and len(rows[1][2]) == 36
    assert table(ok(client(gateway, "status", iot_code)))[1][2] == "no"
    (line,) = json_lines(ok(client(gateway, "lock", "--json", iot_code)))
    assert line["ok"] is True and line["iotCode"] == iot_code and "data" in line
    assert table(ok(client(gateway, "status", iot_code)))[1][2] == "yes"


def test_every_setting_reaches_the_vehicle(gateway: RunningGateway) -> None:
    (iot_code,) = vehicles(1)
    for n, setting in enumerate(
        (
            ["switch", "--alert-sensitivity", "3", "--low-power-value", "20"],
            ["able-switch", "--kickstand-check", "on", "--low-power-switch", "off"],
            ["ambient", "--bright", "2", "--parking", "2:3", "--cruise", "1:7"],
            ["sound", "--on", "--volume", "2", "--sound", "toot=off", "--sound", "locked=keep"],
            ["bluetooth-key", "4BKNwi77"],
            ["interval", "--location-locked", "600", "--status-riding", "15"],
        )
    ):
        changed = client(gateway, "set", *setting, iot_code, process=n == 0)  # the first: `cli`
        assert table(ok(changed))[1][:2] == [iot_code, "ok"]

    assert table(ok(client(gateway, "bluetooth-key", iot_code)))[1] == [iot_code, "4BKNwi77"]
    settings = gateway.sim_settings(iot_code)
    assert settings["switch"] == {"alertSensitivity": 3, "lowPowerValue": 20}
    assert settings["ableSwitch"]["kickstandCheck"] == 2
    assert settings["ableSwitch"]["lowPowerSwitch"] == 1
    assert settings["ambient"]["parkingMode"] == {"mode": 2, "color": 3}
    assert settings["ambient"]["cruiseMode"] == {"mode": 1, "color": 7}
    assert settings["sound"]["volume"] == 2 and settings["sound"]["ebcqMask"]["toot"] == 0
    assert settings["interval"] == {
        "locationInterval": {"lockStatus": 600},
        "statusInterval": {"ridingStatus": 15},
    }


def test_the_compatibility_commands_reach_the_vehicle(gateway: RunningGateway) -> None:
    """The endpoints beyond the document (docs/compatibility.md)."""
    (iot_code,) = vehicles(1)
    vehicle = gateway.sim_vehicle(iot_code)
    rows = table(ok(client(gateway, "version", iot_code)))
    assert rows[0] == ["iotCode", "iotVersion", "ecuVersion", "bmsVersion"]
    assert rows[1] == [
        iot_code,
        vehicle.state.iot_version,
        vehicle.state.ecu_version,
        vehicle.state.bms_version,
    ]
    for command in (
        ["set", "speed-mode", "3"],
        ["set", "speed-limits", "--low", "9", "--high", "21", "--speed-mode-button", "off"],
        ["light", "--head", "on", "--tail", "on"],
        ["headlight", "off"],
        ["power", "off"],
    ):
        assert table(ok(client(gateway, *command, iot_code)))[1][:2] == [iot_code, "ok"]
    assert vehicle.state.speed_mode == 3
    assert gateway.sim_settings(iot_code)["scooter"] == {
        "buttonSwitchSpeedMode": 0,
        "lowSpeedLimit": 9,
        "highSpeedLimit": 21,
    }
    assert (vehicle.state.head_light, vehicle.state.tail_light) == (False, True)
    assert vehicle.state.powered is False
    result = client(gateway, "unlock", "--json", iot_code)
    assert result.returncode == 1
    (line,) = json_lines(result.stdout)
    assert line["ok"] is False and line["error"]["code"] == 15611
    ok(client(gateway, "power", "on", iot_code))
    result = client(gateway, "battery-cover", "--legacy-path", "--json", iot_code)
    assert result.returncode == 1 and json_lines(result.stdout)[0]["error"]["code"] == 15635
    ok(client(gateway, "unlock", iot_code))
    ok(client(gateway, "battery-cover", "--legacy-path", iot_code))
    assert vehicle.state.battery_cover_open is True


def test_vehicles_come_from_a_file_or_stdin_with_comments(
    gateway: RunningGateway, tmp_path: Path
) -> None:
    first, second, third = vehicles(3)
    listing = tmp_path / "fleet.txt"
    listing.write_text(f"# depot 7\n{first}\n\n  {second}  # by the gate\n")
    rows = table(ok(client(gateway, "status", third, "--file", str(listing))))
    assert [row[0] for row in rows[1:]] == [third, first, second]

    stdin = f"{first}\n# {third} stays locked\n{second}\n"
    rows = table(ok(client(gateway, "unlock", "--file", "-", stdin=stdin)))
    assert [row[:2] for row in rows[1:]] == [[first, "ok"], [second, "ok"]]

    listing.write_bytes(b"\xff\xfe8\x006\x00")  # UTF-16, as some editors save
    refused = client(gateway, "status", "--file", str(listing))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "is not UTF-8 text" in refused.stderr


def test_one_failing_vehicle_of_many_exits_1_and_the_others_are_still_shown(
    gateway: RunningGateway,
) -> None:
    first, second, third = vehicles(3)
    result = client(gateway, "status", first, MISSING, second, third)
    assert result.returncode == 1
    rows = table(result.stdout)
    assert [row[0] for row in rows[1:]] == [first, MISSING, second, third]
    assert rows[2][1].startswith("ERROR 15102 device not found (opId ")
    assert all(row[1] == "yes" for row in (rows[1], rows[3], rows[4]))
    assert result.stderr == "Error: 1 of 4 vehicles failed\n"

    result = client(gateway, "lock", "--json", first, OTHER_VEHICLE, second)
    assert result.returncode == 1
    lines = json_lines(result.stdout)
    assert [line["ok"] for line in lines] == [True, False, True]
    error = lines[1]["error"]
    assert lines[1]["iotCode"] == OTHER_VEHICLE and error["code"] == 15102
    assert error["family"] == "DeviceNotFoundError" and error["msg"] == "device not found"
    assert len(error["opId"]) == 36


def test_a_failed_command_is_sent_again_only_with_retry(gateway: RunningGateway) -> None:
    (iot_code,) = vehicles(1)
    gateway.break_once("vehicle")
    result = client(gateway, "unlock", iot_code)
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert table(result.stdout)[1][:2] == [iot_code, "ERROR 15001 server error"]
    assert result.stderr.startswith(f"Error: {iot_code}: 15001: server error (opId ")

    gateway.break_once("vehicle")
    assert table(ok(client(gateway, "unlock", "--retry", iot_code)))[1][:2] == [iot_code, "ok"]


def test_credentials_and_server_problems_are_one_clean_line(gateway: RunningGateway) -> None:
    """The refused secret in a real process (`cli`): its exit status and one line."""
    (iot_code,) = vehicles(1)
    wrong = cli(
        "status",
        iot_code,
        "--base-url",
        gateway.base_url,
        "--client-id",
        PLATFORM,
        "--client-secret",
        "wrong",
    )
    refused(wrong, "token request refused (HTTP 401): invalid_client")
    assert wrong.returncode == 1 and wrong.stdout == ""

    closed = f"http://127.0.0.1:{free_port()}"
    unreachable = invoke(
        "unlock",
        iot_code,
        "--base-url",
        closed,
        "--client-id",
        PLATFORM,
        "--client-secret",
        DOC_SECRET,
    )
    refused(unreachable, f"cannot reach {closed}: ConnectError")
    assert unreachable.returncode == 1

    no_region = invoke("token", "--client-id", "X1", "--client-secret", "s")
    refused(no_region, "no region for platform code 'X1'")
    assert no_region.returncode == 2


def usage_error(result: subprocess.CompletedProcess[str], message: str) -> None:
    refused(result, message)
    assert result.returncode == 2


def test_a_server_that_never_answers_is_given_up_after_the_timeout() -> None:
    with socket.socket() as silent:  # takes connections (the kernel's backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        login = ("--base-url", url, "--client-id", PLATFORM, "--client-secret", DOC_SECRET)
        started = time.monotonic()
        result = invoke("token", *login, "--timeout", "0.5")
        refused(result, f"cannot reach {url}: ReadTimeout")
        assert result.returncode == 1
        result = invoke("status", str(FIRST_VEHICLE), *login, env={"SEGWAY_TIMEOUT": "0.5"})
        refused(result, f"cannot reach {url}: ReadTimeout")
        assert time.monotonic() - started < 10, "the default timeout (15 s) was used"
    usage_error(invoke("token", *login, "--timeout", "0"), "'--timeout'")


def test_bad_arguments_are_refused_before_anything_is_sent() -> None:
    """Against a closed port: a request would have failed with exit 1, not 2."""
    closed = [
        "--base-url",
        f"http://127.0.0.1:{free_port()}",
        "--client-id",
        PLATFORM,
        "--client-secret",
        DOC_SECRET,
    ]
    code = str(FIRST_VEHICLE)
    for args, message in [
        (["set", "switch", "--low-power-value", "31"], "less than or equal to 30"),
        (["set", "interval"], "locationInterval or statusInterval is required"),
        (["set", "ambient", "--bright", "2", "--parking", "3:1"], "mode: Input should be"),
        (["set", "ambient", "--bright", "2", "--parking", "red"], "use MODE:COLOR"),
        (["set", "sound", "--sound", "horn=on"], "'horn' is not a sound"),
        (["set", "bluetooth-key", "short"], "exactly 8"),
        (["set", "able-switch", "--assisted-mode", "yes"], "'yes' is not one of 'on', 'off'"),
        (["set", "speed-mode", "4"], "less than or equal to 3"),
        (["set", "speed-limits", "--low", "100"], "less than or equal to 99"),
        (["set", "speed-limits"], "nothing to set"),
        (["light"], "nothing to set"),
        (["power", "maybe"], "'maybe' is not one of 'on', 'off'"),
    ]:
        usage_error(invoke(*args, code, *closed), message)
    usage_error(invoke("status", "86147703871911x", *closed), "1 to 32 digits")
    usage_error(invoke("status", *closed), "name at least one vehicle")


def test_the_progress_bar_is_on_stderr_only_when_wanted(gateway: RunningGateway) -> None:
    """Real processes: the bar writes to the process's stderr as it was at import."""
    first, second = vehicles(2)
    shown = client(gateway, "status", "--progress", first, second, process=True)
    assert ok(shown).count("\n") == 3 and "2/2" in shown.stderr and "[#" in shown.stderr
    quiet = client(gateway, "status", first, second, process=True)
    assert ok(quiet) and quiet.stderr == ""  # not a terminal
    assert client(gateway, "status", first, process=True).stderr == ""
