"""Index jobs by creation time (jobs panel, newest first) and tracks by root + status (scans per root).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 05:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_jobs_created_at", "jobs", ["created_at"])
    op.create_index("ix_tracks_root_status", "tracks", ["root_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_tracks_root_status", table_name="tracks")
    op.drop_index("ix_jobs_created_at", table_name="jobs")
