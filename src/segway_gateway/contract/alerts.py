"""Alert codes of the alert push (the document's list) and how each one disappears."""

from __future__ import annotations

from enum import IntEnum


class Alert(IntEnum):
    """`code` of the alert push."""

    ILLEGAL_MOVING = 1
    FELL_WHEN_LOCKED = 2
    ILLEGAL_DISMANTLING = 3
    FELL_WHEN_UNLOCKED = 4
    LOW_POWER = 12

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", " ")

    @property
    def disappearing_code(self) -> Alert:
        """The code its disappearance is pushed with.

        The document lists 4 only as an appearing code: "vehicle fell down"
        (2) disappears for both falls.
        """
        return Alert.FELL_WHEN_LOCKED if self is Alert.FELL_WHEN_UNLOCKED else self


def clears(code: int) -> set[int]:
    """The appearing alert codes that a disappearing `code` ends (2 ends 2 and 4)."""
    return {code} | {alert.value for alert in Alert if alert.disappearing_code == code}
