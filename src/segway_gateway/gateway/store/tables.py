"""The schema at the head revision. JSON columns hold documents whose shape the contract
models own."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
)

metadata = MetaData()


def _platform_column(**options: Any) -> Column[str]:
    """A row's platform: removing the platform removes the row."""
    return Column(
        "platform_code", String(64), ForeignKey("platforms.code", ondelete="CASCADE"), **options
    )


platforms = Table(
    "platforms",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("secret_hash", String(255), nullable=False),
    Column("push_url", String(2048)),
    Column("created_at", BigInteger, nullable=False),
    Column("rate", Float),
    Column("burst", Integer),
    Column("suspended", Boolean),
    Column("sealed_secret", String(512)),
    Column("push_policy", String(16)),
)
"""`secret_hash`: the client_secret, for token requests; `sealed_secret`: the same sealed
with the gateway key (gateway/sealing.py), to sign pushes (NULL: a platform added before
secrets were kept). `rate`, `burst`: at most `rate` API calls a second in bursts of
`burst` (NULL: no limit); `suspended`: none at all (NULL: not); gateway/access.py.
`push_policy`: the one it chose (`document` or `durable`; NULL: the document's).

The schema changes by migrations (store/schema.py, `migrations/versions`); this module is
what the head revision makes, and `tests/test_migrations.py` holds the two to it."""

vehicles = Table(
    "vehicles",
    metadata,
    Column("iot_code", String(32), primary_key=True),
    _platform_column(nullable=False, index=True),
    Column("active", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("status", JSON),
    Column("location", JSON),
    Column("settings", JSON, nullable=False),
    Column("status_at", BigInteger),
    Column("location_at", BigInteger),
    Column("lock_at", BigInteger),
    Column("commanded_lock", Boolean),
)
"""`status_at` and `location_at`: when the stored report was made (epoch ms, the
vehicle's clock); a report not newer is not stored. `lock_at`: when a command answered 0
last set `locked` (epoch ms, the vehicle's clock as its reply gave it, else the
gateway's); a report made before it does not change `locked` back. `commanded_lock`: the
lock state that command set (the stored status has it too, once there is one)."""

tokens = Table(
    "tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("token_id", String(64), nullable=False, unique=True),
    _platform_column(nullable=False, index=True),
    Column("issued_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)

push_outbox = Table(
    "push_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    _platform_column(nullable=False),
    Column("kind", String(16), nullable=False),
    Column("form", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("due_at", BigInteger, nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("state", String(16), nullable=False, index=True),
)
"""Pushes accepted and not yet delivered (`pending`), `delivered`, or given up (`dead`)."""

push_attempts = Table(
    "push_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("outbox_id", Integer, ForeignKey("push_outbox.id", ondelete="CASCADE"), index=True),
    Column("platform_code", String(64), nullable=False, index=True),
    Column("at", BigInteger, nullable=False),
    Column("http_status", Integer),
    Column("latency_ms", Integer, nullable=False),
    Column("excerpt", String(200), nullable=False),
)
"""The delivery log: every attempt, its HTTP status (none: no answer) and latency."""

sim_vehicles = Table(
    "sim_vehicles",
    metadata,
    Column("iot_code", String(32), primary_key=True),
    Column("state", JSON, nullable=False),
)

geofences = Table(
    "geofences",
    metadata,
    _platform_column(nullable=False),
    Column("name", String(64), nullable=False),
    Column("geometry", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("platform_code", "name"),
)
"""No-parking zones: one GeoJSON Polygon or MultiPolygon each, unique per platform and name."""

login_failures = Table(
    "login_failures",
    metadata,
    Column("source", String(255), nullable=False),
    Column("client_id", String(64), nullable=False),
    Column("failures", Integer, nullable=False),
    Column("window_end", BigInteger, nullable=False, index=True),
    Column("blocked_until", BigInteger, nullable=False),
    PrimaryKeyConstraint("source", "client_id"),
)
"""Failed token requests (gateway/throttle.py): one row per source address and client id,
and one per address alone (`client_id` ''), each counting `failures` in a window that ends
at `window_end` and refused until `blocked_until` (epoch ms; 0: not blocked). Shared by
every instance on the database; rows whose window and block are over are deleted."""

rate_buckets = Table(
    "rate_buckets",
    metadata,
    _platform_column(primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("granted", Integer, nullable=False),
)
"""The token bucket of each limited platform, shared by every instance on the database:
`tokens` left at `at` (epoch ms), and what the last take `granted`. On PostgreSQL the
table is unlogged (0001): a bucket lost in a crash starts full again, and a take writes
no WAL."""
