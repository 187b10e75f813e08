"""Settings of one gateway process (flags of `segway-gateway serve`), and their defaults.

The one place the gateway's defaults are defined: the CLI's options take theirs from
here. The CLI imports it at startup, so it imports nothing of the server's dependencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from segway_gateway.contract.device import SHARE_GROUP
from segway_gateway.contract.regions import Region
from segway_gateway.devicelink.guard import DEFAULT_RATE
from segway_gateway.sim.city import SHENZHEN, City

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
"""Where `serve` listens unless told otherwise (the admin commands' default --url)."""
MIN_TOKEN_TTL = 1
MAX_TOKEN_TTL = 86_400
MIN_COMMAND_TIMEOUT: float = 0.05
MAX_COMMAND_TIMEOUT: float = 120
MIN_SPEEDUP: float = 0.1
MAX_SPEEDUP: float = 10_000


@dataclass(frozen=True)
class GatewayConfig:
    db_url: str = "sqlite:///var/segway-gateway.db"
    db_pool_size: int = 5
    """Connections kept open to PostgreSQL (SQLite: unused, one process writes)."""
    db_max_overflow: int = 10
    """Connections opened beyond the pool at busy times, closed when given back."""
    region: Region | None = None
    """Serve only platforms of this region (others get 15100); None serves all."""
    token_ttl: int = 43_200
    """Seconds a token lives, MIN_TOKEN_TTL to MAX_TOKEN_TTL."""
    command_timeout: float = 5.0
    """Seconds a command waits for the vehicle's reply before 15302."""
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
    share_group: str | None = SHARE_GROUP
    """Consume telemetry through `$share/<group>/…`, so that several instances take each
    message once; None: this instance takes every message (and writes it)."""
    gateway_id: str | None = None
    """This instance's name on the broker (`serve` makes it `{host name}-{port}`): a
    stable one keeps its session across restarts; None: a random one, a clean session."""
    push_retention_days: float = 30.0
    """Delivered pushes (and their delivery log) older than this are deleted, hourly;
    0 keeps them all. Dead pushes stay until replayed or pruned (`push prune --dead`)."""
    vehicle_rate: float = DEFAULT_RATE
    """Messages a second one vehicle may send over the broker, after a burst of
    DEFAULT_BURST; beyond that they are dropped unread (devicelink/guard.py)."""
    head_timeout: float = 10.0
    """Seconds a client has to finish a request head before its connection is dropped
    (gateway/slow_clients.py)."""
    trusted_proxies: str | None = None
    """Addresses whose X-Forwarded-For and X-Forwarded-Proto are believed (uvicorn's
    forwarded_allow_ips); None: a client's address is its TCP peer, whatever it says."""
    migrate: bool = True
    """Apply the schema's pending revisions on start (store/schema.py); False: refuse to
    start on a schema older than this code needs."""
    metrics: bool = True
    """Count for `GET /metrics` (gateway/metrics.py); False: no counting, no /metrics."""
    console_tiles: str | None = None
    """Tile URL template (`https://tile.openstreetmap.org/{z}/{x}/{y}.png`) the console's
    map loads its basemap from; None: the built-in plain basemap, no network needed."""
    access_log: bool = False
    """Log every API call at INFO (op id, platform, method, path, result, time); else at
    DEBUG, and INFO has a once-a-minute summary instead (gateway/traffic.py)."""
