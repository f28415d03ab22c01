"""A file identical to one loaded for another business date is a stale copy, not a delivery.

The file ledger's status gains 'stale_copy': the content (sha256) of a non-static report was already
loaded for another date, so the file is not that report's export of its own date; the date's
missing-report check and the stale_copy alert see it as undelivered.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _statuses(*statuses: str) -> None:
    listed = ", ".join(f"'{s}'" for s in statuses)
    op.execute(
        "ALTER TABLE operations.etl_file_ledger DROP CONSTRAINT etl_file_ledger_status_check, "
        f"ADD CONSTRAINT etl_file_ledger_status_check CHECK (status IN ({listed}))"
    )


def upgrade() -> None:
    _statuses("loaded", "duplicate", "quarantined", "missing", "stale_copy")


def downgrade() -> None:
    op.execute("UPDATE operations.etl_file_ledger SET status = 'duplicate' WHERE status = 'stale_copy'")
    _statuses("loaded", "duplicate", "quarantined", "missing")
