"""A billing line is one row whatever its billing date: raw.raw_zrsd002_line.

raw.raw_zrsd002 is partitioned by billing_date, so its unique key must include it, and a line whose
billing date an export corrected (same Billing Document + Billing Item, another date) was inserted a
second time, doubling its revenue. raw.raw_zrsd002_line holds each line's current billing date (one
row per business key, not partitioned): the loader finds a line's row in its old partition through it,
moves the line to its new date, and records the date it left (previous_billing_date, by the business
date of the file that moved it) so that date's facts are rebuilt too.
The upgrade fills the directory from the raw rows and removes the extra copies a re-dated line left
behind, keeping the one the latest delivery wrote.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE raw.raw_zrsd002_line (
    billing_document text NOT NULL,
    billing_item text NOT NULL,
    billing_date date NOT NULL,
    previous_billing_date date,
    business_date date NOT NULL,
    PRIMARY KEY (billing_document, billing_item)
);
CREATE INDEX raw_zrsd002_line_business_date_idx ON raw.raw_zrsd002_line (business_date);
GRANT ALL ON raw.raw_zrsd002_line TO warehouse_loader;
GRANT SELECT ON raw.raw_zrsd002_line TO warehouse_analyst;

INSERT INTO raw.raw_zrsd002_line (billing_document, billing_item, billing_date, business_date)
SELECT DISTINCT ON (billing_document, billing_item) billing_document, billing_item, billing_date, business_date
  FROM raw.raw_zrsd002
 ORDER BY billing_document, billing_item, business_date DESC, loaded_at DESC;

DELETE FROM raw.raw_zrsd002 r
 USING raw.raw_zrsd002_line l
 WHERE r.billing_document = l.billing_document AND r.billing_item = l.billing_item
   AND r.billing_date <> l.billing_date;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute("DROP TABLE raw.raw_zrsd002_line")
