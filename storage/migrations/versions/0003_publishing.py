"""publishing: platform tokens (encrypted), trends, platform metrics

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "platform_tokens",
        sa.Column("owner", sa.String(200), primary_key=True),
        sa.Column("platform", sa.String(20), primary_key=True),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False))
    op.create_table(
        "trends",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(30), nullable=False),
        sa.Column("region", sa.String(10), nullable=False),
        sa.Column("category", sa.String(20), nullable=True),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("volume", sa.Float(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False))
    op.create_index("ix_trends_region_time", "trends", ["region", "fetched_at"])
    op.create_table(
        "platform_metrics",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("artifact_id", sa.String(36), nullable=False),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("video_id", sa.String(200), nullable=False),
        sa.Column("views", sa.Integer(), nullable=True),
        sa.Column("likes", sa.Integer(), nullable=True),
        sa.Column("comments", sa.Integer(), nullable=True),
        sa.Column("shares", sa.Integer(), nullable=True),
        sa.Column("watch_minutes", sa.Float(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False))
    op.create_index("ix_platform_metrics_artifact", "platform_metrics",
                    ["artifact_id", "platform"])


def downgrade() -> None:
    op.drop_index("ix_platform_metrics_artifact", "platform_metrics")
    op.drop_table("platform_metrics")
    op.drop_index("ix_trends_region_time", "trends")
    op.drop_table("trends")
    op.drop_table("platform_tokens")
