"""segway-gateway: the Segway fleet IoT API (e-bike C80), served, simulated and called.

The SDK is importable from here; it needs only httpx and pydantic (the gateway
itself comes with the `gateway` extra).
"""

from segway_gateway.client.clients import AsyncClient, Client
from segway_gateway.client.errors import (
    AuthenticationError,
    DeviceNotFoundError,
    DeviceRefusedError,
    DeviceUnavailableError,
    ParameterError,
    RestrictedError,
    SegwayError,
    ServerError,
    TransportError,
)
from segway_gateway.client.fleet import FleetResult
from segway_gateway.client.policy import RetryPolicy, Token
from segway_gateway.contract.envelope import Envelope
from segway_gateway.contract.models import (
    BatteryInfoData,
    BatteryPack,
    BluetoothKeyData,
    LampEffect,
    LocationData,
    StatusData,
    VersionData,
)
from segway_gateway.contract.regions import Region

__all__ = [
    "AsyncClient",
    "AuthenticationError",
    "BatteryInfoData",
    "BatteryPack",
    "BluetoothKeyData",
    "Client",
    "DeviceNotFoundError",
    "DeviceRefusedError",
    "DeviceUnavailableError",
    "Envelope",
    "FleetResult",
    "LampEffect",
    "LocationData",
    "ParameterError",
    "Region",
    "RestrictedError",
    "RetryPolicy",
    "SegwayError",
    "ServerError",
    "StatusData",
    "Token",
    "TransportError",
    "VersionData",
]
