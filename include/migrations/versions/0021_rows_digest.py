"""The file ledger keeps a fingerprint of each loaded file's rows.

etl_file_ledger.rows_digest: the rows of a loaded file by their typed values, order ignored (see
raw_load.ledger.rows_digest). A file whose bytes differ from every loaded file but whose rows are exactly
those of a file loaded for another business date (an old export opened and saved again) is a stale
copy, like a byte-identical re-send. NULL for files loaded before this column existed, for files
without data rows, and for ledger rows that are not a load.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE operations.etl_file_ledger ADD COLUMN rows_digest char(32)")
    op.execute(
        "COMMENT ON COLUMN operations.etl_file_ledger.rows_digest IS "
        "'Fingerprint of a loaded file''s rows (typed values, order ignored): a re-saved copy of another "
        "date''s export has the same one.'"
    )
    op.execute(
        "CREATE INDEX etl_file_ledger_rows_digest ON operations.etl_file_ledger (report, rows_digest) "
        "WHERE status = 'loaded' AND rows_digest IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE operations.etl_file_ledger DROP COLUMN rows_digest")
