"""The SDK's decisions that need no server: reading answers, token lifetimes, retries."""

from __future__ import annotations

import pytest

from segway_gateway import DeviceUnavailableError, ParameterError, ServerError, TransportError
from segway_gateway.client import operations as ops
from segway_gateway.client.errors import AuthenticationError
from segway_gateway.client.policy import Attempts, RetryPolicy, TokenCache
from segway_gateway.contract.envelope import Envelope
from segway_gateway.contract.models import TokenResponse

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
