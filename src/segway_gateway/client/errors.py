"""What the SDK raises: one root, one class per family of the API's codes.

    SegwayError
    ├── AuthenticationError   15100 15101, and the token endpoint's refusals
    ├── ParameterError        15004, and arguments refused before sending
    ├── DeviceNotFoundError   15102 15300 (unknown, another platform's, inactive)
    ├── DeviceUnavailableError 15301 15302 15303 15400 15500
    ├── DeviceRefusedError    15600 15601 15602 15603 15611 15612 15635 15638
    │                         15707 15996 15997 (the vehicle would not or could not)
    ├── RestrictedError       15990
    ├── ServerError           15001, codes the SDK does not know, answers that are
    │                         not the API's (an HTTP error page, data of another shape)
    └── TransportError        no answer: connection refused or broken, timeout

Every error carries the remote `code` (None when there was none), `msg`,
`op_id` and, when an answer came, its `http_status`; `str()` shows the first
three. Messages never repeat a body the SDK could not read (it might hold a
token).
"""

from __future__ import annotations

from segway_gateway.contract.codes import Code


class SegwayError(Exception):
    """Any failure of an API call."""

    def __init__(
        self,
        msg: str,
        code: int | None = None,
        op_id: str | None = None,
        http_status: int | None = None,
    ) -> None:
        self.code = code
        self.msg = msg
        self.op_id = op_id
        self.http_status = http_status
        super().__init__(msg)

    def __str__(self) -> str:
        parts = [f"{self.code}: {self.msg}" if self.code is not None else self.msg]
        if self.op_id:
            parts.append(f"(opId {self.op_id})")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, msg={self.msg!r}, op_id={self.op_id!r})"


class AuthenticationError(SegwayError):
    """The credentials or the token were refused, or the platform is in another region."""


class ParameterError(SegwayError):
    """A request parameter is missing or out of range."""


class DeviceNotFoundError(SegwayError):
    """No such vehicle for this platform, or it is inactive."""


class DeviceUnavailableError(SegwayError):
    """The vehicle cannot be reached now: offline, silent, upgrading, or without a fix."""


class DeviceRefusedError(SegwayError):
    """The vehicle got the command and could not or would not carry it out."""


class RestrictedError(SegwayError):
    """Calls to this vehicle are restricted by the operator of the cloud."""


class ServerError(SegwayError):
    """The server failed, or answered with something the API does not define."""


class TransportError(SegwayError):
    """No usable answer: the connection failed, timed out or broke."""


FAMILIES: dict[Code, type[SegwayError]] = {
    Code.SERVER_ERROR: ServerError,
    Code.PARAMETER_ERROR: ParameterError,
    Code.INCORRECT_PLATFORM: AuthenticationError,
    Code.TOKEN_INVALID: AuthenticationError,
    Code.DEVICE_NOT_FOUND: DeviceNotFoundError,
    Code.DEVICE_INACTIVE: DeviceNotFoundError,
    Code.DEVICE_OFFLINE: DeviceUnavailableError,
    Code.DEVICE_TIMEOUT: DeviceUnavailableError,
    Code.SEND_FAILED: DeviceUnavailableError,
    Code.NO_LOCATION: DeviceUnavailableError,
    Code.UPGRADING: DeviceUnavailableError,
    Code.LOCK_RIDING: DeviceRefusedError,
    Code.LOCK_FAILED: DeviceRefusedError,
    Code.LOCK_NETWORK: DeviceRefusedError,
    Code.HANDLEBAR_LOCK_FAILED: DeviceRefusedError,
    Code.UNLOCK_FAILED: DeviceRefusedError,
    Code.UNLOCK_NETWORK: DeviceRefusedError,
    Code.BATTERY_COVER_LOCKED: DeviceRefusedError,
    Code.EXECUTE_FAILED: DeviceRefusedError,
    Code.NOT_SUPPORTED: DeviceRefusedError,
    Code.RESTRICTED: RestrictedError,
    Code.LOCK_GEOFENCE: DeviceRefusedError,
    Code.LOCK_RIDING_UNABLE: DeviceRefusedError,
}
"""Every error code of the document, and the family it is raised as."""


def error_for(code: int, msg: str, op_id: str | None, http_status: int) -> SegwayError:
    """The exception for an answer with a non-zero `code` (unknown codes: ServerError)."""
    try:
        family = FAMILIES[Code(code)]
    except (ValueError, KeyError):
        family = ServerError
    return family(msg, code, op_id, http_status)
