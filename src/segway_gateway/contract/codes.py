"""Result codes of the API document (Appendix 1 plus the per-endpoint tables)."""

from __future__ import annotations

from enum import IntEnum


class Code(IntEnum):
    """Every `code` the API can answer with; 0 is success."""

    SUCCESS = 0
    SERVER_ERROR = 15001
    PARAMETER_ERROR = 15004
    INCORRECT_PLATFORM = 15100
    TOKEN_INVALID = 15101
    DEVICE_NOT_FOUND = 15102
    DEVICE_INACTIVE = 15300
    DEVICE_OFFLINE = 15301
    DEVICE_TIMEOUT = 15302
    SEND_FAILED = 15303
    NO_LOCATION = 15400
    UPGRADING = 15500
    LOCK_RIDING = 15600
    LOCK_FAILED = 15601
    LOCK_NETWORK = 15602
    HANDLEBAR_LOCK_FAILED = 15603
    UNLOCK_FAILED = 15611
    UNLOCK_NETWORK = 15612
    BATTERY_COVER_LOCKED = 15635
    EXECUTE_FAILED = 15638
    NOT_SUPPORTED = 15707
    RESTRICTED = 15990
    LOCK_GEOFENCE = 15996
    LOCK_RIDING_UNABLE = 15997

    @property
    def message(self) -> str:
        """The document's text for this code, as sent in `msg`."""
        return MESSAGES[self]


MESSAGES: dict[Code, str] = {
    Code.SUCCESS: "Success",
    Code.SERVER_ERROR: "server error",
    Code.PARAMETER_ERROR: "parameter error",
    Code.INCORRECT_PLATFORM: "incorrect platform info",
    Code.TOKEN_INVALID: "token verification failed",
    Code.DEVICE_NOT_FOUND: "device not found",
    Code.DEVICE_INACTIVE: "inactive device",
    Code.DEVICE_OFFLINE: "offline device",
    Code.DEVICE_TIMEOUT: "device response timeout",
    Code.SEND_FAILED: "command send failed",
    Code.NO_LOCATION: "latest location not found via device",
    Code.UPGRADING: "device upgrading: command can not be executed",
    Code.LOCK_RIDING: "lock failed: vehicle is riding",
    Code.LOCK_FAILED: "device lock command failed",
    Code.LOCK_NETWORK: "device lock failed: network error",
    Code.HANDLEBAR_LOCK_FAILED: "handlebar lock failed",
    Code.UNLOCK_FAILED: "device unlock command failed",
    Code.UNLOCK_NETWORK: "device unlock failed: network error",
    Code.BATTERY_COVER_LOCKED: "open failed: please operate when mopeds is unlocking",
    Code.EXECUTE_FAILED: "device execute failure",
    Code.NOT_SUPPORTED: "NOT supported by this vehicle or its firmware",
    Code.RESTRICTED: "API call is restricted, please contact Segway related personnel",
    Code.LOCK_GEOFENCE: "device lock failed: denied by geofence strategy",
    Code.LOCK_RIDING_UNABLE: "device lock failed: unable to lock while riding",
}
