"""Device links: how commands reach vehicles and telemetry reaches the gateway."""

from segway_gateway.gateway.link.base import DeviceLink, LinkError, TelemetrySink
from segway_gateway.gateway.link.memory import MemoryLink

__all__ = ["DeviceLink", "LinkError", "MemoryLink", "TelemetrySink"]
