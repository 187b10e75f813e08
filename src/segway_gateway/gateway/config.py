"""Settings of one gateway process (flags of `segway-gateway serve`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from segway_gateway.contract.regions import Region
from segway_gateway.gateway.auth import DEFAULT_TTL
from segway_gateway.gateway.fleet import DEFAULT_COMMAND_TIMEOUT
from segway_gateway.gateway.store.db import DEFAULT_URL
from segway_gateway.sim.city import SHENZHEN, City


@dataclass(frozen=True)
class GatewayConfig:
    db_url: str = DEFAULT_URL
    region: Region | None = None
    """Serve only platforms of this region (others get 15100); None serves all."""
    token_ttl: int = DEFAULT_TTL
    command_timeout: float = DEFAULT_COMMAND_TIMEOUT
    key_file: Path = Path("var/gateway.key")
    simulate: bool = True
    """Embedded mode: in-process device link, every active vehicle simulated."""
    autopilot: bool = False
    """Simulated riders take unlocked vehicles for rides (the demo turns it on)."""
    admin_token: str | None = None
    """Bearer token of the admin API (fault injection); None turns that API off."""
    speedup: float = 1.0
    city: City = SHENZHEN
    """The area the simulated vehicles ride in."""
    seed: int = 0
    broker: str | None = None
    """`mqtt://host:port` of the vehicles' broker; None links vehicles in process."""
    share_group: str | None = None
    """Consume telemetry through `$share/<group>/…` (several gateway instances)."""
    push_retention_days: float = 30.0
    """Delivered pushes (and their delivery log) older than this are deleted, hourly;
    0 keeps them all. Dead pushes stay until replayed or pruned (`push prune --dead`)."""
