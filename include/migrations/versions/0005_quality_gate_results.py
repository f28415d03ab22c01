"""Quality gate results: which gate a suite ran in, the DAG that ran it, and how many critical and
warning expectations failed.

operations.dq_validation_result (0001) holds one row per suite validation of a business date. success
is Great Expectations' own verdict (every expectation met); a row with critical_failures > 0 is one
that stopped the date at its gate, warning_failures counts what was recorded without stopping it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE operations.dq_validation_result
    ADD COLUMN gate text NOT NULL DEFAULT 'raw' CHECK (gate IN ('raw', 'facts')),
    ADD COLUMN dag_id text NOT NULL DEFAULT 'manual',
    ADD COLUMN critical_failures integer NOT NULL DEFAULT 0,
    ADD COLUMN warning_failures integer NOT NULL DEFAULT 0;
ALTER TABLE operations.dq_validation_result ALTER COLUMN gate DROP DEFAULT;
CREATE INDEX dq_validation_result_failed_idx ON operations.dq_validation_result (validated_at)
    WHERE critical_failures > 0 OR warning_failures > 0;
COMMENT ON TABLE operations.dq_validation_result IS
    'One row per Great Expectations suite validated for a business date (include/quality/suites). '
    'critical_failures > 0: the gate stopped the date; warning_failures: recorded, the run went on.';
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute("DROP INDEX operations.dq_validation_result_failed_idx")
    op.execute(
        "ALTER TABLE operations.dq_validation_result DROP COLUMN warning_failures, DROP COLUMN critical_failures, "
        "DROP COLUMN dag_id, DROP COLUMN gate"
    )
