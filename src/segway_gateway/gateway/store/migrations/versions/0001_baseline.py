"""The schema of 2026-11-29, made whole from any earlier database.

The schema as the gateway made it before migrations (2026-11-29), reached from any
earlier database: missing tables are created and missing nullable columns added, as
`create_all` and the start-up column check did until then; a new database gets it all.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None
CONTRACT = False

_snapshot = sa.MetaData()


def _platform_column(**options: Any) -> sa.Column[str]:
    return sa.Column(
        "platform_code",
        sa.String(64),
        sa.ForeignKey("platforms.code", ondelete="CASCADE"),
        **options,
    )


sa.Table(
    "platforms",
    _snapshot,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("secret_hash", sa.String(255), nullable=False),
    sa.Column("push_url", sa.String(2048)),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("rate", sa.Float),
    sa.Column("burst", sa.Integer),
    sa.Column("suspended", sa.Boolean),
)
sa.Table(
    "vehicles",
    _snapshot,
    sa.Column("iot_code", sa.String(32), primary_key=True),
    _platform_column(nullable=False, index=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("status", sa.JSON),
    sa.Column("location", sa.JSON),
    sa.Column("settings", sa.JSON, nullable=False),
    sa.Column("status_at", sa.BigInteger),
    sa.Column("location_at", sa.BigInteger),
    sa.Column("lock_at", sa.BigInteger),
)
sa.Table(
    "tokens",
    _snapshot,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("token_id", sa.String(64), nullable=False, unique=True),
    _platform_column(nullable=False, index=True),
    sa.Column("issued_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
)
sa.Table(
    "platform_secrets",
    _snapshot,
    _platform_column(primary_key=True),
    sa.Column("sealed", sa.String(512), nullable=False),
)
sa.Table(
    "push_policies",
    _snapshot,
    _platform_column(primary_key=True),
    sa.Column("policy", sa.String(16), nullable=False),
)
sa.Table(
    "push_outbox",
    _snapshot,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    _platform_column(nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("form", sa.JSON, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("due_at", sa.BigInteger, nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("state", sa.String(16), nullable=False, index=True),
)
sa.Table(
    "push_attempts",
    _snapshot,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "outbox_id", sa.Integer, sa.ForeignKey("push_outbox.id", ondelete="CASCADE"), index=True
    ),
    sa.Column("platform_code", sa.String(64), nullable=False, index=True),
    sa.Column("at", sa.BigInteger, nullable=False),
    sa.Column("http_status", sa.Integer),
    sa.Column("latency_ms", sa.Integer, nullable=False),
    sa.Column("excerpt", sa.String(200), nullable=False),
)
sa.Table(
    "sim_vehicles",
    _snapshot,
    sa.Column("iot_code", sa.String(32), primary_key=True),
    sa.Column("state", sa.JSON, nullable=False),
)
sa.Table(
    "geofences",
    _snapshot,
    _platform_column(nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("geometry", sa.JSON, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("platform_code", "name"),
)
sa.Table(
    "login_failures",
    _snapshot,
    sa.Column("source", sa.String(255), nullable=False),
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("window_end", sa.BigInteger, nullable=False, index=True),
    sa.Column("blocked_until", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("source", "client_id"),
)
sa.Table(
    "rate_buckets",
    _snapshot,
    _platform_column(primary_key=True),
    sa.Column("tokens", sa.Float, nullable=False),
    sa.Column("at", sa.BigInteger, nullable=False),
    sa.Column("granted", sa.Integer, nullable=False),
)


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    for table in _snapshot.sorted_tables:
        if not inspector.has_table(table.name):
            table.create(bind)
            if table.name == "rate_buckets" and bind.dialect.name == "postgresql":
                op.execute("ALTER TABLE rate_buckets SET UNLOGGED")  # a take writes no WAL
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:  # added since the table was made: nullable
                op.add_column(table.name, column.copy())


def downgrade() -> None:
    for table in reversed(_snapshot.sorted_tables):
        op.drop_table(table.name)
