"""Snapshot reports: a line an equal or newer file of its scope lacks is superseded, not deleted.

Adds superseded_on (the business date of the file that lacked the line) and superseded_by (that
file's name) to the raw tables of the reports whose files are snapshots of a scope (registry:
snapshot_scope). Facts, alerts and the reconciliation leave superseded lines out; the raw layer
keeps them, and a later file that lists the line again revives it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLES = ("raw_cooispi", "raw_zrsd002", "raw_zrsd004", "raw_zrfi005", "raw_zrmm024", "raw_zrpp062")


def upgrade() -> None:
    for table in TABLES:
        op.execute(f"ALTER TABLE raw.{table} ADD COLUMN superseded_on date, ADD COLUMN superseded_by text")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"ALTER TABLE raw.{table} DROP COLUMN superseded_on, DROP COLUMN superseded_by")
