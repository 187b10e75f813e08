"""Device links: how commands reach vehicles and telemetry reaches the gateway."""

from segway_gateway.devicelink.base import DeviceLink, LinkError, TelemetrySink
from segway_gateway.devicelink.memory import MemoryLink

__all__ = ["DeviceLink", "LinkError", "MemoryLink", "TelemetrySink"]
