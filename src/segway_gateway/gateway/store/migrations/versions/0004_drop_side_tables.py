"""Drop platform_secrets and push_policies.

Drop `platform_secrets` and `push_policies`, which only the version before
0002 reads. Applied by `db upgrade` alone, once no instance of that version runs
(docs/operations.md, rolling upgrades); `serve` never applies a contract revision to a
database that was in use.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None
CONTRACT = True


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if inspector.has_table("platform_secrets"):
        # what the version before wrote since 0002 copied it (a platform it added, a
        # secret it replaced) is copied once more
        op.execute(
            "UPDATE platforms SET sealed_secret = (SELECT sealed FROM platform_secrets"
            " WHERE platform_secrets.platform_code = platforms.code)"
            " WHERE sealed_secret IS NULL"
        )
        op.drop_table("platform_secrets")
    if inspector.has_table("push_policies"):
        op.execute(
            "UPDATE platforms SET push_policy = (SELECT policy FROM push_policies"
            " WHERE push_policies.platform_code = platforms.code)"
            " WHERE push_policy IS NULL"
        )
        op.drop_table("push_policies")


def downgrade() -> None:
    op.create_table(
        "platform_secrets",
        sa.Column(
            "platform_code",
            sa.String(64),
            sa.ForeignKey("platforms.code", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("sealed", sa.String(512), nullable=False),
    )
    op.create_table(
        "push_policies",
        sa.Column(
            "platform_code",
            sa.String(64),
            sa.ForeignKey("platforms.code", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("policy", sa.String(16), nullable=False),
    )
    op.execute(
        "INSERT INTO platform_secrets (platform_code, sealed)"
        " SELECT code, sealed_secret FROM platforms WHERE sealed_secret IS NOT NULL"
    )
    op.execute(
        "INSERT INTO push_policies (platform_code, policy)"
        " SELECT code, push_policy FROM platforms WHERE push_policy IS NOT NULL"
    )
