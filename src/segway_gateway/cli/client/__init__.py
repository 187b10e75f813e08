"""The client side of `segway-gateway`: the API's calls from a shell, through the SDK.

Only the SDK's dependencies (httpx, pydantic, click) are imported here, so these
commands work where the gateway's are not installed.
"""

from segway_gateway.cli.client.commands import VEHICLE_COMMANDS
from segway_gateway.cli.client.token import token

COMMANDS = (token, *VEHICLE_COMMANDS)
"""The client commands, to be added to `segway-gateway`."""

__all__ = ["COMMANDS"]
