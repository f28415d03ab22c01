"""Real exports: cell issues, SAP list totals, text discounts, blank AR channels.

- operations.etl_cell_issue: a value that failed typing in a column that is neither key nor
  fact-critical (the row loaded, the typed column is NULL, raw_data keeps the text): file, row,
  column, value, reason. Kept for quarantined files too, like etl_row_reject.
- operations.etl_file_ledger: rows_summary (SAP list totals: counted, neither loaded nor rejected),
  cell_issues (how many) and cell_issue_columns (header -> count).
- raw.raw_zrsd002.discount is text: real exports hold the pricing conditions there
  ("|Cash Discount (10.00 %) |Program Disc 2 (2.50 %)").
- raw.raw_zrfi005's key treats a blank Distribution Channel as a value (NULLS NOT DISTINCT): real
  receivable lines carry none, and a re-delivered file must update them, not add them again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE operations.etl_cell_issue (
    cell_issue_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_id bigint NOT NULL REFERENCES operations.etl_file_ledger ON DELETE CASCADE,
    source_file text NOT NULL,
    source_row integer NOT NULL,
    column_name text NOT NULL,
    value text,
    reason text NOT NULL
);
CREATE INDEX etl_cell_issue_file_idx ON operations.etl_cell_issue (file_id);
GRANT ALL ON operations.etl_cell_issue TO warehouse_loader;
GRANT SELECT ON operations.etl_cell_issue TO warehouse_analyst;

ALTER TABLE operations.etl_file_ledger
    ADD COLUMN rows_summary integer NOT NULL DEFAULT 0 CHECK (rows_summary >= 0),
    ADD COLUMN cell_issues integer NOT NULL DEFAULT 0 CHECK (cell_issues >= 0),
    ADD COLUMN cell_issue_columns jsonb NOT NULL DEFAULT '{}';

ALTER TABLE raw.raw_zrsd002 ALTER COLUMN discount TYPE text USING discount::text;

ALTER TABLE raw.raw_zrfi005 DROP CONSTRAINT raw_zrfi005_business_key;
ALTER TABLE raw.raw_zrfi005 ADD CONSTRAINT raw_zrfi005_business_key
    UNIQUE NULLS NOT DISTINCT (customer_code, distribution_channel, salesman_code, snapshot_date);
"""

DOWNGRADE = """
ALTER TABLE raw.raw_zrfi005 DROP CONSTRAINT raw_zrfi005_business_key;
ALTER TABLE raw.raw_zrfi005 ADD CONSTRAINT raw_zrfi005_business_key
    UNIQUE (customer_code, distribution_channel, salesman_code, snapshot_date);
ALTER TABLE raw.raw_zrsd002 ALTER COLUMN discount TYPE numeric(18, 2)
    USING CASE WHEN discount ~ '^-?[0-9]+(\\.[0-9]+)?$' THEN discount::numeric END;
ALTER TABLE operations.etl_file_ledger DROP COLUMN cell_issue_columns, DROP COLUMN cell_issues,
    DROP COLUMN rows_summary;
DROP TABLE operations.etl_cell_issue;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
