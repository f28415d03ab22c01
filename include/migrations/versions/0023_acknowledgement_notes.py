"""Acknowledging an alert can say why, and can be taken back.

facts.fact_alert.acknowledged_note: what the person who acknowledged the alert wrote ("supplier
called, delivery tomorrow"). Taking an acknowledgement back (the alert is active again) clears the
three acknowledgement columns.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE facts.fact_alert ADD COLUMN acknowledged_note text")
    op.execute(
        "COMMENT ON COLUMN facts.fact_alert.acknowledged_note IS "
        "'What the person who acknowledged the alert wrote: what is being done, by when.'"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE facts.fact_alert DROP COLUMN acknowledged_note")
