"""Faults a simulated vehicle can be told to have, and the result code each one causes."""

from __future__ import annotations

from enum import StrEnum

from segway_gateway.contract.codes import Code
from segway_gateway.contract.device import CommandName


class Fault(StrEnum):
    """A fault kind as the CLI and admin API name it."""

    NO_REPLY = "no-reply"
    SEND_FAIL = "send-fail"
    OFFLINE = "offline"
    UPGRADING = "upgrading"
    UNLOCK_FAIL = "unlock-fail"
    UNLOCK_NETWORK = "unlock-network"
    LOCK_FAIL = "lock-fail"
    LOCK_NETWORK = "lock-network"
    HANDLEBAR_FAIL = "handlebar-fail"
    EXECUTE_FAIL = "execute-fail"
    UNSUPPORTED = "unsupported"
    NO_FIX = "no-fix"
    RIDING = "riding"
    RESTRICTED = "restricted"
    SLOW_REPLY = "slow-reply"


COMMAND_FAULTS: dict[Fault, tuple[CommandName, Code]] = {
    Fault.UNLOCK_FAIL: (CommandName.UNLOCK, Code.UNLOCK_FAILED),
    Fault.UNLOCK_NETWORK: (CommandName.UNLOCK, Code.UNLOCK_NETWORK),
    Fault.LOCK_FAIL: (CommandName.LOCK, Code.LOCK_FAILED),
    Fault.LOCK_NETWORK: (CommandName.LOCK, Code.LOCK_NETWORK),
    Fault.HANDLEBAR_FAIL: (CommandName.LOCK, Code.HANDLEBAR_LOCK_FAILED),
    Fault.EXECUTE_FAIL: (CommandName.BATTERY_COVER, Code.EXECUTE_FAILED),
    Fault.UNSUPPORTED: (CommandName.SET_INTERVAL, Code.NOT_SUPPORTED),
    Fault.NO_FIX: (CommandName.LOCATE, Code.NO_LOCATION),
}
"""Faults that make one command fail with one code. Of the others, `riding`,
`slow-reply`, `no-reply`, `offline` and `upgrading` change how the vehicle
behaves; `send-fail` (15303) and `restricted` (15990) act on the gateway's side."""
