"""The SDK's decisions that need no server: reading answers, token lifetimes, retries."""

from __future__ import annotations

import threading

import pytest

from segway_gateway import DeviceUnavailableError, ParameterError, ServerError, TransportError
from segway_gateway.client import operations as ops
from segway_gateway.client.errors import AuthenticationError
from segway_gateway.client.fleet import each
from segway_gateway.client.policy import Attempts, RetryPolicy, TokenCache, base_url_for
from segway_gateway.contract.envelope import Envelope
from segway_gateway.contract.models import TokenResponse
from tests.harness import WAIT, eventually

STATUS = {
    "iotCode": "861477038719116",
    "online": True,
    "locked": True,
    "lockVoltage": 41,
    "networkSignal": 25,
    "charging": False,
    "powerPercent": 80,
    "speedMode": 1,
    "speed": 0,
    "odometer": 1200,
    "totalRidingSecs": 3600,
    "statusUtcTime": 1_700_000_000,
}


def answer(data: object) -> Envelope:
    return Envelope(code=0, msg="Success", data=data, t=1, opId="op")


@pytest.mark.parametrize("spelling", ["remainingRange", "remainderRange"])
def test_either_spelling_of_the_range_is_read(spelling: str) -> None:
    status = ops.status("861477038719116").read(answer({**STATUS, spelling: 31}))
    assert status.remaining_range == 31 and status.envelope.op_id == "op"


def test_data_that_is_not_a_status_is_a_server_error() -> None:
    with pytest.raises(ServerError, match=r"^the answer's data is not a StatusData: online"):
        ops.status("1").read(answer({"iotCode": "1"}))


def test_an_error_answer_and_a_foreign_body_are_raised() -> None:
    with pytest.raises(DeviceUnavailableError, match="15301: offline device"):
        ops.read_envelope(200, b'{"code":15301,"msg":"offline device","t":1,"opId":"x"}')
    with pytest.raises(ServerError, match="HTTP 502, not an API answer"):
        ops.read_envelope(502, b"<html>Bad gateway</html>")
    with pytest.raises(AuthenticationError, match="invalid_client: Bad client credentials"):
        ops.read_token(
            401, b'{"error":"invalid_client","error_description":"Bad client credentials"}'
        )


def test_a_command_is_sent_without_the_unset_fields() -> None:
    operation = ops.set_interval("861477038719116", location_locked=900)
    assert operation.body == {"iotCode": "861477038719116", "locationInterval": {"lockStatus": 900}}
    assert operation.repeat is False and ops.set_interval(1, status_riding=10, retry=True).repeat
    with pytest.raises(ParameterError, match="less than or equal to 3"):
        ops.set_sound(1, enabled=True, volume=4)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_token_is_replaced_ahead_of_its_expiry_inside_the_servers_overlap() -> None:
    clock = Clock()
    tokens = TokenCache(clock)
    token = tokens.store(TokenResponse(access_token="t1", expires_in=43_200), clock.now)
    clock.now += 43_200 - 121
    assert tokens.usable() == token
    clock.now += 2  # 119 s left: within the server's last 300 s, so a request gets a new one
    assert tokens.usable() is None
    short = tokens.store(TokenResponse(access_token="t2", expires_in=60), clock.now)
    assert short.refresh_at == clock.now + 45


def test_a_refused_token_is_dropped_once_and_a_newer_one_kept() -> None:
    clock = Clock()
    tokens = TokenCache(clock)
    old = tokens.store(TokenResponse(access_token="old", expires_in=3600), clock.now)
    attempts = Attempts(RetryPolicy(), True, tokens)
    refused = AuthenticationError("token verification failed", 15101, "op")
    assert attempts.after(refused, old) == 0.0 and tokens.usable() is None
    new = tokens.store(TokenResponse(access_token="new", expires_in=3600), clock.now)
    tokens.discard(old.value)  # another caller's late refusal of the old token
    assert tokens.usable() == new
    with pytest.raises(AuthenticationError):
        attempts.after(refused, new)  # refreshed once already: the refusal stands


def test_retries_stop_after_the_policys_attempts_and_skip_what_is_not_worth_it() -> None:
    attempts = Attempts(RetryPolicy(attempts=3, backoff=1.0, cap=1.5), True, TokenCache(Clock()))
    timeout = TransportError("ReadTimeout")
    assert 0 <= attempts.after(timeout, None) <= 1.0
    assert 0 <= attempts.after(timeout, None) <= 1.5
    with pytest.raises(TransportError):
        attempts.after(timeout, None)
    once = Attempts(RetryPolicy(), True, TokenCache(Clock()))
    with pytest.raises(ParameterError):
        once.after(ParameterError("parameter error", 15004, "op"), None)
    command = Attempts(RetryPolicy(), False, TokenCache(Clock()))
    with pytest.raises(TransportError):
        command.after(timeout, None)


def test_the_documents_battery_answer_with_res_id_only_is_read() -> None:
    body = b'{"code":15302,"msg":"device response timeout","data":null,"t":1,"resId":"r1"}'
    with pytest.raises(DeviceUnavailableError) as caught:
        ops.read_envelope(200, body)
    assert caught.value.op_id == "r1" and caught.value.code == 15302


def test_http_errors_never_count_as_success_and_bodies_are_not_quoted() -> None:
    success = b'{"code":0,"msg":"Success","data":null,"t":1,"opId":"x"}'
    with pytest.raises(ServerError, match="HTTP 503 around a success envelope"):
        ops.read_envelope(503, success)
    leaky = b'{"error":"invalid_token","error_description":"Invalid access token: 83efe135"}'
    with pytest.raises(AuthenticationError) as refused:
        ops.read_envelope(401, leaky)
    assert refused.value.http_status == 401 and "83efe135" not in str(refused.value)
    with pytest.raises(ServerError) as odd:
        ops.read_token(200, b'{"access_token":"83efe135","token_type":"mac","expires_in":60}')
    assert "83efe135" not in str(odd.value)
    with pytest.raises(ServerError, match=r"HTTP 404"):
        ops.read_token(404, b"<html>not here</html>")


def test_a_token_answer_is_read_as_oauth_allows() -> None:
    answer = ops.read_token(200, b'{"access_token":"t","token_type":"Bearer","expires_in":59.5}')
    assert (answer.access_token, answer.expires_in) == ("t", 59)


def test_a_null_spelling_falls_back_to_the_other() -> None:
    data = {**STATUS, "remainingRange": None, "remainderRange": 12}
    assert ops.status("1").read(answer(data)).remaining_range == 12


def test_on_off_arguments_take_booleans_only_and_sound_names_are_checked() -> None:
    assert ops.set_able_switch(1, kickstand_check=False).body == {
        "iotCode": "1",
        "assistedMode": 0,
        "kickstandCheck": 1,
        "lowPowerSwitch": 0,
    }
    with pytest.raises(ParameterError, match=r"True \(on\), False \(off\) or None"):
        ops.set_able_switch(1, assisted_mode=1)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="no sound 'tooot'"):
        ops.set_sound(1, sounds={"tooot": False})
    with pytest.raises(ParameterError, match="nothing to set"):
        ops.set_sound(1)
    assert ops.find(1).body == {"iotCode": "1", "controlType": "2"}


@pytest.mark.parametrize("url", ["127.0.0.1:8080", "ftp://host", "http://[::1", "http://"])
def test_a_base_url_that_is_not_http_is_refused(url: str) -> None:
    with pytest.raises(ParameterError, match="not an http"):
        base_url_for("A20081", url)


def test_a_retry_policy_is_checked() -> None:
    with pytest.raises(ValueError, match="attempts is 1 or more"):
        RetryPolicy(attempts=0)


def test_a_401_without_envelope_refreshes_the_token_and_a_4xx_is_not_repeated() -> None:
    clock = Clock()
    tokens = TokenCache(clock)
    token = tokens.store(TokenResponse(access_token="t", expires_in=3600), clock.now)
    attempts = Attempts(RetryPolicy(), True, tokens)
    assert attempts.after(AuthenticationError("HTTP 401", http_status=401), token) == 0.0
    with pytest.raises(ServerError):
        attempts.after(ServerError("HTTP 404, not an API answer", http_status=404), token)


def test_a_failed_refresh_keeps_the_old_token_while_it_lasts() -> None:
    clock = Clock()
    tokens = TokenCache(clock)
    old = tokens.store(TokenResponse(access_token="old", expires_in=600), clock.now)
    clock.now += 500  # past refresh_at (450 s), 100 s before expiry
    ticket = tokens.ticket()
    unavailable = ServerError("token request refused (HTTP 503)", http_status=503)
    assert tokens.usable() is None and tokens.failed(unavailable) == old
    assert tokens.fetched_since(ticket) == old  # a waiter takes the same outcome
    clock.now += 100
    with pytest.raises(ServerError):
        tokens.failed(unavailable)


def test_ctrl_c_stops_a_fleet_call_from_starting_the_rest() -> None:
    """The other calls under way when Ctrl-C comes end; then the pool's threads are gone,
    and no call started after them."""
    started: list[str] = []
    interrupted = threading.Event()
    before = set(threading.enumerate())

    def call(iot_code: str) -> str:
        started.append(iot_code)
        if iot_code == "0":
            raise KeyboardInterrupt
        interrupted.wait(WAIT)  # still at work when Ctrl-C comes
        return iot_code

    with pytest.raises(KeyboardInterrupt):
        each([str(n) for n in range(100)], call, concurrency=2)
    pool = set(threading.enumerate()) - before
    interrupted.set()
    eventually(lambda: not any(thread.is_alive() for thread in pool), "the pool's threads ended")
    assert len(started) < 10
