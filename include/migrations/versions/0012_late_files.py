"""Files waiting in the landing folders of earlier dates: operations.late_file.

A date's run moves every file it sees out of ``<landing>/<D>/`` (archive or quarantine), so a file
still there was dropped after the run, or never loaded. Each daily run lists what waits in the
folders of the dates before it; the late_file alert names each file until a run of its date records
it in the file ledger.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE operations.late_file (
            business_date date NOT NULL,
            file_name text NOT NULL,
            path text NOT NULL,
            size_bytes bigint NOT NULL,
            modified_at timestamptz NOT NULL,
            seen_by_business_date date NOT NULL,
            seen_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            PRIMARY KEY (business_date, file_name)
        );
        GRANT ALL ON operations.late_file TO warehouse_loader;
        GRANT SELECT ON operations.late_file TO warehouse_analyst;
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE operations.late_file")
