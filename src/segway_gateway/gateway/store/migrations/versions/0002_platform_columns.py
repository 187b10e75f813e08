"""A platform's sealed secret and push policy become columns of platforms.

A platform's sealed secret and push policy become columns of `platforms`,
copied from the side tables they had (`platform_secrets`, `push_policies`), which stay
for the instances of the version before until 0004 drops them.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
CONTRACT = False


def upgrade() -> None:
    # each step may have been done already: SQLite commits DDL at once, so a start that
    # failed half way leaves a column behind
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("platforms")}
    if "sealed_secret" not in present:
        op.add_column("platforms", sa.Column("sealed_secret", sa.String(512)))
    if "push_policy" not in present:
        op.add_column("platforms", sa.Column("push_policy", sa.String(16)))
    op.execute(
        "UPDATE platforms SET"
        " sealed_secret = (SELECT sealed FROM platform_secrets"
        " WHERE platform_secrets.platform_code = platforms.code),"
        " push_policy = (SELECT policy FROM push_policies"
        " WHERE push_policies.platform_code = platforms.code)"
    )


def downgrade() -> None:
    with op.batch_alter_table("platforms") as batch:
        batch.drop_column("push_policy")
        batch.drop_column("sealed_secret")
