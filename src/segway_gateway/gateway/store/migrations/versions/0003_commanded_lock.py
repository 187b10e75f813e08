"""A vehicle's row keeps the lock state its last command set (commanded_lock).

With `lock_at`, the lock state a command answered 0 set. A vehicle that had never
reported has no stored status to carry it, so a report made before the command and
arriving after it used to put the old state back; the report now takes this one.
Nullable and unread by the version before: an expand revision.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None
CONTRACT = False


def upgrade() -> None:
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("vehicles")}
    if "commanded_lock" not in present:  # SQLite commits DDL at once: maybe done already
        op.add_column("vehicles", sa.Column("commanded_lock", sa.Boolean))


def downgrade() -> None:
    with op.batch_alter_table("vehicles") as batch:
        batch.drop_column("commanded_lock")
