"""The file ledger records how long each file took.

etl_file_ledger.seconds: from reading the landed file to writing its ledger row (parsing, staging,
typing, keying and writing; the move to the archive after the commit is not in it). NULL for rows
that are not a file's load (a missing report, a landing entry refused unread) and for rows recorded
before this column existed. The on-call page shows it per file.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE operations.etl_file_ledger ADD COLUMN seconds numeric(10, 3) CHECK (seconds >= 0)")
    op.execute(
        "COMMENT ON COLUMN operations.etl_file_ledger.seconds IS "
        "'Seconds from reading the landed file to writing this row; NULL where no file was loaded.'"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE operations.etl_file_ledger DROP COLUMN seconds")
