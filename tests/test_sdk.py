"""The SDK against a running gateway on loopback: every method, both twins, every error
family, tokens under concurrency, retries and regions."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import segway_gateway
from segway_gateway import (
    AsyncClient,
    AuthenticationError,
    Client,
    DeviceNotFoundError,
    DeviceRefusedError,
    DeviceUnavailableError,
    LampEffect,
    LocationData,
    ParameterError,
    RestrictedError,
    RetryPolicy,
    SegwayError,
    ServerError,
    TransportError,
)
from segway_gateway.client import operations as ops
from segway_gateway.client.errors import FAMILIES
from segway_gateway.contract import paths
from segway_gateway.contract.codes import Code
from segway_gateway.sim.faults import Fault
from tests.conftest import (
    ADMIN_TOKEN,
    EUROPE_PLATFORM,
    FIRST_VEHICLE,
    FLEET_SIZE,
    INACTIVE_VEHICLE,
    OTHER_SECRET,
    OTHER_VEHICLE,
    PLATFORM,
    SEED,
)
from tests.harness import DOC_SECRET, RunningGateway, free_port, running

QUICK = RetryPolicy(attempts=3, backoff=0.01, cap=0.05)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    """A gateway of its own: tests here move its clock and break its services."""
    yield from running(
        tmp_path_factory.mktemp("sdk"), SEED, command_timeout=1.0, admin_token=ADMIN_TOKEN
    )


@pytest.fixture
def client(gateway: RunningGateway) -> Iterator[Client]:
    with Client(PLATFORM, DOC_SECRET, gateway.base_url, retry=QUICK) as api:
        yield api


class Counting:
    """httpx event hooks that count requests per path (the SDK's real traffic)."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, request: httpx.Request) -> None:
        self.paths.append(request.url.path)

    async def hook(self, request: httpx.Request) -> None:
        self(request)

    def count(self, path: str) -> int:
        return self.paths.count(path)

    @contextlib.contextmanager
    def client(self, base_url: str, secret: str = DOC_SECRET, **options: Any) -> Iterator[Client]:
        """A `Client` of PLATFORM whose requests are counted."""
        with (
            httpx.Client(event_hooks={"request": [self]}) as http,
            Client(PLATFORM, secret, base_url, http=http, **options) as api,
        ):
            yield api

    @contextlib.asynccontextmanager
    async def async_client(self, base_url: str, **options: Any) -> AsyncIterator[AsyncClient]:
        """An `AsyncClient` of PLATFORM whose requests are counted."""
        async with (
            httpx.AsyncClient(event_hooks={"request": [self.hook]}) as http,
            AsyncClient(PLATFORM, DOC_SECRET, base_url, http=http, **options) as api,
        ):
            yield api


@pytest.fixture
def fault(gateway: RunningGateway) -> Iterator[Callable[[str, Fault], None]]:
    """Inject a fault into a simulated vehicle; cleared after the test."""
    yield from gateway.faults()


# Every method, both twins ------------------------------------------------------


class Awaiting:
    """A `Client` whose methods are awaited like `AsyncClient`'s, so one story runs on both."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        async def awaited(*args: Any, **kwargs: Any) -> Any:
            return method(*args, **kwargs)

        return awaited


async def every_method(api: Any, gateway: RunningGateway, iot_code: str) -> None:
    status = await api.status(iot_code)
    assert status.iot_code == iot_code and status.locked is True and status.online is True
    assert 0 <= status.power_percent <= 100 and status.remaining_range >= 0
    assert status.envelope.code == 0 and status.envelope.msg == "Success"
    assert len(status.envelope.op_id) == 36 and status.envelope.t > 1_700_000_000_000

    fix = await api.location(iot_code)
    assert fix.iot_code == iot_code and -90 <= fix.latitude <= 90
    fresh = await api.location(iot_code, realtime=True)
    assert fresh.gps_utc_time >= fix.gps_utc_time and fresh.envelope.msg == "success"

    battery = await api.battery(iot_code)
    assert battery.battery_data and battery.battery_count == len(battery.battery_data)
    assert 0 <= battery.battery_data[0].battery_percent <= 100

    assert (await api.unlock(iot_code)).code == 0
    assert (await api.status(iot_code)).locked is False
    assert (await api.open_battery_cover(iot_code)).msg == "Success"
    assert (await api.find(iot_code)).code == 0
    assert (await api.sound(iot_code, ops.ALARM)).code == 0
    assert (await api.lock(iot_code)).code == 0
    assert (await api.status(iot_code)).locked is True

    await api.set_bluetooth_key(iot_code, "4BKNwi77")
    assert (await api.bluetooth_key(iot_code)).key == "4BKNwi77"
    await api.set_interval(iot_code, location_locked=600, status_riding=15)
    await api.set_switch(iot_code, alert_sensitivity=3, low_power_value=20)
    await api.set_able_switch(iot_code, kickstand_check=True, low_power_switch=False)
    await api.set_sound(iot_code, enabled=True, volume=2, sounds={"toot": False, "locked": None})
    await api.set_ambient(iot_code, bright=2, parking=LampEffect(mode=2, color=3))
    settings = gateway.sim_settings(iot_code)
    assert settings["interval"] == {
        "locationInterval": {"lockStatus": 600},
        "statusInterval": {"ridingStatus": 15},
    }
    assert settings["switch"] == {"alertSensitivity": 3, "lowPowerValue": 20}
    assert settings["ableSwitch"]["kickstandCheck"] == 2
    assert settings["ableSwitch"]["lowPowerSwitch"] == 1
    assert settings["sound"]["volume"] == 2 and settings["sound"]["ebcqMask"]["toot"] == 0
    assert "locked" not in settings["sound"]["ebcqMask"]  # None: sent as 2, keep original
    assert settings["ambient"]["parkingMode"] == {"mode": 2, "color": 3}


def test_every_method_of_the_blocking_client(
    client: Client, gateway: RunningGateway, vehicle: str
) -> None:
    asyncio.run(every_method(Awaiting(client), gateway, vehicle))


def test_every_method_of_the_async_client(gateway: RunningGateway, vehicle: str) -> None:
    async def story() -> None:
        async with AsyncClient(PLATFORM, DOC_SECRET, gateway.base_url) as api:
            await every_method(api, gateway, vehicle)

    asyncio.run(story())


async def compatibility_methods(api: Any, gateway: RunningGateway, iot_code: str) -> None:
    """The endpoints beyond the document (docs/compatibility.md)."""
    vehicle = gateway.sim_vehicle(iot_code)
    versions = await api.version(iot_code)
    assert versions.iot_code == iot_code and versions.iot_version == vehicle.state.iot_version
    assert versions.ecu_version and versions.bms_version and versions.envelope.code == 0

    assert (await api.set_speed_mode(iot_code, 3)).code == 0
    assert (await api.status(iot_code)).speed_mode == 3
    await api.set_speed_limits(iot_code, low=10, high=22, speed_mode_button=False)
    assert gateway.sim_settings(iot_code)["scooter"] == {
        "buttonSwitchSpeedMode": 0,
        "lowSpeedLimit": 10,
        "highSpeedLimit": 22,
    }
    await api.set_lights(iot_code, head=True, tail=True)
    await api.headlight(iot_code, False)
    assert (vehicle.state.head_light, vehicle.state.tail_light) == (False, True)

    with pytest.raises(DeviceRefusedError) as refused:
        await api.open_battery_cover(iot_code, legacy_path=True)
    assert refused.value.code == Code.BATTERY_COVER_LOCKED
    await api.power(iot_code, False)
    assert vehicle.state.powered is False
    with pytest.raises(DeviceRefusedError) as refused:
        await api.unlock(iot_code)
    assert refused.value.code == Code.UNLOCK_FAILED
    await api.power(iot_code, True)
    await api.unlock(iot_code)
    assert (await api.open_battery_cover(iot_code, legacy_path=True)).code == 0
    assert vehicle.state.battery_cover_open is True

    for refused_call in (
        lambda: api.set_speed_mode(iot_code, 4),
        lambda: api.set_speed_limits(iot_code),
        lambda: api.set_speed_limits(iot_code, medium=100),
        lambda: api.set_lights(iot_code),
        lambda: api.set_lights(iot_code, head=1),
        lambda: api.power(iot_code, None),
    ):
        with pytest.raises(ParameterError):
            await refused_call()


def test_the_compatibility_methods_of_the_blocking_client(
    client: Client, gateway: RunningGateway, vehicle: str
) -> None:
    asyncio.run(compatibility_methods(Awaiting(client), gateway, vehicle))


def test_the_compatibility_methods_of_the_async_client(
    gateway: RunningGateway, vehicle: str
) -> None:
    async def story() -> None:
        async with AsyncClient(PLATFORM, DOC_SECRET, gateway.base_url) as api:
            await compatibility_methods(api, gateway, vehicle)

    asyncio.run(story())


def test_the_twins_offer_the_same_methods_with_the_same_arguments() -> None:
    def public(cls: type) -> dict[str, inspect.Signature]:
        return {
            name: inspect.signature(member)
            for name, member in vars(cls).items()
            if callable(member) and not name.startswith("_")
        }

    blocking, awaitable = public(Client), public(AsyncClient)
    assert blocking.keys() - {"close"} == awaitable.keys() - {"aclose"}
    for name in ("status", "location", "unlock", "set_interval", "set_ambient"):
        assert blocking[name] == awaitable[name]


# Fleet helpers -----------------------------------------------------------------

FLEET = [str(FIRST_VEHICLE + FLEET_SIZE - 1 - n) for n in range(40)]
"""Vehicles of the seeded fleet that the tests here only read."""


def test_for_each_keeps_every_vehicles_result_or_error_in_order(client: Client) -> None:
    asked = [*FLEET[:10], "861477000000000", INACTIVE_VEHICLE, *FLEET[10:20]]
    seen: list[str] = []
    outcome = client.for_each(
        asked, client.status, concurrency=4, progress=lambda code, _: seen.append(code)
    )
    assert list(outcome.results) == [*FLEET[:20]]
    assert {code: error.code for code, error in outcome.errors.items()} == {
        "861477000000000": Code.DEVICE_NOT_FOUND,
        INACTIVE_VEHICLE: Code.DEVICE_INACTIVE,
    }
    assert not outcome.ok and sorted(seen) == sorted(asked)
    assert all(outcome.results[code].iot_code == code for code in outcome.results)


def test_for_each_of_the_async_client_holds_its_concurrency(gateway: RunningGateway) -> None:
    in_flight, most = 0, 0

    async def story() -> None:
        async with AsyncClient(PLATFORM, DOC_SECRET, gateway.base_url) as api:
            await api.token()

            async def located(iot_code: str) -> LocationData:
                nonlocal in_flight, most
                in_flight += 1
                most = max(most, in_flight)
                try:
                    return await api.location(iot_code, realtime=True)
                finally:
                    in_flight -= 1

            outcome = await api.for_each(FLEET, located, concurrency=5)
            assert outcome.ok and list(outcome.results) == FLEET

    asyncio.run(story())
    assert most == 5


# Errors ------------------------------------------------------------------------


def test_every_documented_code_belongs_to_one_family() -> None:
    assert set(FAMILIES) == set(Code) - {Code.SUCCESS}
    families = {
        segway_gateway.AuthenticationError,
        DeviceNotFoundError,
        DeviceRefusedError,
        DeviceUnavailableError,
        ParameterError,
        RestrictedError,
        ServerError,
    }
    assert set(FAMILIES.values()) == families
    assert all(issubclass(family, SegwayError) for family in (*families, TransportError))


def test_each_family_is_raised_for_a_real_answer(
    client: Client,
    gateway: RunningGateway,
    vehicle: str,
    fault: Callable[[str, Fault], None],
) -> None:
    def raised(call: Callable[[], object]) -> SegwayError:
        with pytest.raises(SegwayError) as caught:
            call()
        return caught.value

    missing = raised(lambda: client.status("861477000000000"))
    assert type(missing) is DeviceNotFoundError and missing.code == Code.DEVICE_NOT_FOUND
    assert str(missing) == f"15102: device not found (opId {missing.op_id})"
    assert len(missing.op_id or "") == 36
    foreign = raised(lambda: client.status(OTHER_VEHICLE))
    assert type(foreign) is DeviceNotFoundError and foreign.code == Code.DEVICE_NOT_FOUND
    inactive = raised(lambda: client.status(INACTIVE_VEHICLE))
    assert type(inactive) is DeviceNotFoundError and inactive.code == Code.DEVICE_INACTIVE

    not_digits = ops.Operation("GET", paths.STATUS, lambda answer: answer, {"iotCode": "x1"})
    server_side = raised(lambda: client.call(not_digits))
    assert type(server_side) is ParameterError and server_side.code == Code.PARAMETER_ERROR

    fault(vehicle, Fault.UNLOCK_FAIL)
    refused = raised(lambda: client.unlock(vehicle))
    assert type(refused) is DeviceRefusedError and refused.code == Code.UNLOCK_FAILED
    fault(vehicle, Fault.OFFLINE)
    offline = raised(lambda: client.unlock(vehicle))
    assert type(offline) is DeviceUnavailableError and offline.code == Code.DEVICE_OFFLINE
    fault(vehicle, Fault.RESTRICTED)  # checked before the link: restricted, though offline
    restricted = raised(lambda: client.lock(vehicle))
    assert type(restricted) is RestrictedError and restricted.code == Code.RESTRICTED


def test_arguments_out_of_range_are_refused_before_anything_is_sent(
    gateway: RunningGateway, vehicle: str
) -> None:
    counting = Counting()
    with counting.client(gateway.base_url) as api:
        for call, problem in [
            (lambda: api.set_interval(vehicle, location_locked=5), "greater than or equal to 10"),
            (lambda: api.set_interval(vehicle), "locationInterval or statusInterval"),
            (lambda: api.set_switch(vehicle, low_power_value=31), "less than or equal to 30"),
            (lambda: api.set_bluetooth_key(vehicle, "short"), "exactly 8"),
            (
                lambda: api.set_ambient(vehicle, bright=4, parking=LampEffect(mode=1, color=1)),
                "bright: Input should be less than or equal to 3",
            ),
            (lambda: api.set_able_switch(vehicle, assisted_mode=1), r"True \(on\), False"),  # type: ignore[arg-type]
            (lambda: api.set_sound(vehicle, sounds={"tooot": False}), "no sound 'tooot'"),
            (lambda: api.set_switch(vehicle), "nothing to set"),
            (lambda: api.status("86147703871911x"), "1 to 32 digits"),
        ]:
            with pytest.raises(ParameterError, match=problem) as caught:
                call()
            assert caught.value.code is None and caught.value.op_id is None
    assert counting.paths == []


def test_wrong_credentials_and_another_region_are_authentication_errors(
    gateway: RunningGateway, tmp_path: Path
) -> None:
    with (
        Client(PLATFORM, "wrong", gateway.base_url) as api,
        pytest.raises(AuthenticationError, match=r"HTTP 401\): invalid_client"),
    ):
        api.status(OTHER_VEHICLE)

    for server in running(tmp_path, SEED, region=segway_gateway.Region.APAC):
        with (
            Client(EUROPE_PLATFORM, OTHER_SECRET, server.base_url) as api,
            pytest.raises(AuthenticationError) as caught,
        ):
            api.status(OTHER_VEHICLE)
        assert caught.value.code == Code.INCORRECT_PLATFORM


def test_no_server_is_a_transport_error_after_the_retries() -> None:
    counting = Counting()
    closed = f"http://127.0.0.1:{free_port()}"
    with (
        counting.client(closed, retry=QUICK) as api,
        pytest.raises(TransportError, match="ConnectError"),
    ):
        api.status(OTHER_VEHICLE)
    assert counting.count(paths.TOKEN) == 3


# Retries -----------------------------------------------------------------------


def test_a_query_is_retried_after_15001_and_a_command_is_not(
    gateway: RunningGateway, vehicle: str
) -> None:
    counting = Counting()
    with counting.client(gateway.base_url, retry=QUICK) as api:
        gateway.break_once("vehicle")
        assert api.status(vehicle).iot_code == vehicle
        assert counting.count(paths.STATUS) == 2

        gateway.break_once("vehicle")
        with pytest.raises(ServerError) as caught:
            api.unlock(vehicle)
        assert caught.value.code == Code.SERVER_ERROR
        assert counting.count(paths.UNLOCK) == 1

        gateway.break_once("vehicle")
        assert api.unlock(vehicle, retry=True).code == 0
        assert counting.count(paths.UNLOCK) == 3


def test_a_silent_vehicle_is_asked_again_for_a_query_only(
    gateway: RunningGateway, vehicle: str, fault: Callable[[str, Fault], None]
) -> None:
    fault(vehicle, Fault.NO_REPLY)
    counting = Counting()

    async def story() -> None:
        async with counting.async_client(gateway.base_url, retry=QUICK) as api:
            with pytest.raises(DeviceUnavailableError) as caught:
                await api.location(vehicle, realtime=True)
            assert caught.value.code == Code.DEVICE_TIMEOUT
            with pytest.raises(DeviceUnavailableError) as caught:
                await api.unlock(vehicle)
            assert caught.value.code == Code.DEVICE_TIMEOUT

    asyncio.run(story())
    assert counting.count(paths.LOCATION) == 3  # the policy's three attempts
    assert counting.count(paths.UNLOCK) == 1


def test_callers_waiting_for_a_token_share_the_failure_of_its_request(
    gateway: RunningGateway,
) -> None:
    counting = Counting()
    with (
        counting.client(gateway.base_url, "wrong") as api,
        concurrent.futures.ThreadPoolExecutor(10) as pool,
    ):
        calls = [pool.submit(api.status, OTHER_VEHICLE) for _ in range(10)]
        for call in calls:
            with pytest.raises(AuthenticationError, match="invalid_client"):
                call.result()
    assert counting.count(paths.TOKEN) < 10  # those that waited took the failure


# Tokens ------------------------------------------------------------------------


def test_100_concurrent_callers_share_one_token_request(
    gateway: RunningGateway, vehicle: str
) -> None:
    counting = Counting()

    async def story() -> None:
        async with counting.async_client(gateway.base_url) as api:
            answers = await asyncio.gather(*(api.status(vehicle) for _ in range(100)))
            assert {answer.iot_code for answer in answers} == {vehicle}

    asyncio.run(story())
    assert counting.count(paths.TOKEN) == 1
    assert counting.count(paths.STATUS) == 100


def test_an_expired_token_is_refreshed_and_the_call_made_again(
    gateway: RunningGateway, vehicle: str
) -> None:
    counting = Counting()
    with counting.client(gateway.base_url) as api:
        first = api.token()
        api.status(vehicle)
        gateway.clock.advance(86_400 + 1)  # the server's token expires; the SDK's clock did not
        assert api.unlock(vehicle).code == 0  # refused with 15101, refreshed, sent again
        assert api.token() != first
        assert counting.count(paths.TOKEN) == 2
        assert counting.count(paths.UNLOCK) == 2


def test_secrets_and_tokens_stay_out_of_repr(client: Client) -> None:
    token = client.token()
    assert DOC_SECRET not in repr(client) and "client_id='A20081'" in repr(client)
    assert token.value not in repr(token) and "expires_at" in repr(token)
    with pytest.raises(SegwayError) as caught:
        client.status("861477000000000")
    assert token.value not in str(caught.value) and DOC_SECRET not in str(caught.value)


# Regions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "domain"),
    [
        ("A20081", "https://apac-api.segwaydiscovery.com"),
        ("E40001", "https://eu-api.segwaydiscovery.com"),
        ("U10001", "https://us-api.segwaydiscovery.com"),
        ("C30001", "https://cn-api.segwaydiscovery.com"),
    ],
)
def test_the_platform_code_picks_the_region(platform: str, domain: str) -> None:
    with Client(platform, "s") as api:
        assert api.base_url == domain


def test_an_unknown_region_letter_is_refused_at_construction() -> None:
    with pytest.raises(ParameterError, match="no region for platform code 'X1'"):
        Client("X1", "s")


def test_a_base_url_overrides_the_region() -> None:
    with Client("X1", "s", base_url="http://127.0.0.1:8080/") as api:
        assert api.base_url == "http://127.0.0.1:8080"
