"""Regions: the platform code's first letter picks the domain (document, Note 1)."""

from __future__ import annotations

from enum import StrEnum


class Region(StrEnum):
    """A region of the vendor cloud, named as in the document's table."""

    APAC = "apac"
    EUROPE = "europe"
    AMERICAS = "americas"
    CHINA = "china"

    @property
    def letter(self) -> str:
        """First letter of every platform code that belongs to this region."""
        return _LETTERS[self]

    @property
    def base_url(self) -> str:
        """The vendor's domain for this region."""
        return _DOMAINS[self]

    @classmethod
    def of_platform(cls, platform_code: str) -> Region | None:
        """The region a platform code belongs to, or None if its letter is unknown."""
        first = platform_code[:1].upper()
        return next((region for region, letter in _LETTERS.items() if letter == first), None)


_LETTERS = {Region.APAC: "A", Region.EUROPE: "E", Region.AMERICAS: "U", Region.CHINA: "C"}
_DOMAINS = {
    Region.APAC: "https://apac-api.segwaydiscovery.com",
    Region.EUROPE: "https://eu-api.segwaydiscovery.com",
    Region.AMERICAS: "https://us-api.segwaydiscovery.com",
    Region.CHINA: "https://cn-api.segwaydiscovery.com",
}
