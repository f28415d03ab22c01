"""Alert lifecycle: when an alert was e-mailed and on which business date it cleared; the log of alert
evaluations.

fact_alert keeps one open (active or acknowledged) row per rule and entity (the partial unique index of
0001). notified_at is set once the alert's critical state has been e-mailed (cleared again when a
warning escalates to critical); resolved_business_date is the as-of date of the evaluation that found
the condition gone. alert_evaluation records each evaluation: the date it judged the warehouse as of
(the latest business date evaluated so far; re-running an older date re-judges that same date) and
how many alerts it opened, updated and resolved.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE facts.fact_alert
    ADD COLUMN notified_at timestamptz,
    ADD COLUMN resolved_business_date date;
CREATE INDEX fact_alert_open_idx ON facts.fact_alert (rule_code, severity) WHERE status <> 'resolved';
CREATE INDEX fact_alert_resolved_idx ON facts.fact_alert (resolved_at) WHERE status = 'resolved';
COMMENT ON TABLE facts.fact_alert IS
    'One row per occurrence of a problem: opened when a rule first finds its entity, updated while the '
    'condition lasts, resolved when it clears. An acknowledged alert stays acknowledged until resolved.';

CREATE TABLE operations.alert_evaluation (
    evaluation_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    as_of_date date NOT NULL,
    business_date date NOT NULL,
    dag_id text NOT NULL,
    run_id text NOT NULL,
    conditions integer NOT NULL,
    opened integer NOT NULL,
    updated integer NOT NULL,
    resolved integer NOT NULL,
    thresholds jsonb NOT NULL,
    evaluated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX alert_evaluation_as_of_idx ON operations.alert_evaluation (as_of_date DESC);
GRANT ALL ON operations.alert_evaluation TO warehouse_loader;
GRANT SELECT ON operations.alert_evaluation TO warehouse_analyst;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute("DROP TABLE operations.alert_evaluation")
    op.execute("DROP INDEX facts.fact_alert_resolved_idx, facts.fact_alert_open_idx")
    op.execute("ALTER TABLE facts.fact_alert DROP COLUMN resolved_business_date, DROP COLUMN notified_at")
