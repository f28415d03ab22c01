"""Table-level restore ledger and the database monitoring snapshots.

table_restore_log records each table restored from a backup into the live warehouse (which backup,
rows before and after, who). database_health, session_health and statement_health extend the
maintenance DAG's health snapshots: database size and connections by state, the sessions running
long or waiting on a lock, and the slowest statements of pg_stat_statements where the server has it.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TABLES = """
CREATE TABLE operations.table_restore_log (
    restore_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    restored_at timestamptz NOT NULL DEFAULT now(),
    restored_by text NOT NULL DEFAULT current_user,
    backup_name text NOT NULL,
    table_name text NOT NULL,
    rows_before bigint NOT NULL,
    rows_restored bigint NOT NULL
);
COMMENT ON TABLE operations.table_restore_log IS
    'Tables restored from a verified backup into the live warehouse (python -m sap_warehouse.backup restore-tables).';

CREATE TABLE operations.database_health (
    snapshot_at timestamptz PRIMARY KEY,
    database_bytes bigint NOT NULL,
    max_connections integer NOT NULL,
    connections jsonb NOT NULL,
    statements_tracked boolean NOT NULL
);
COMMENT ON COLUMN operations.database_health.connections IS
    'Client connections to this database by state, e.g. {"active": 2, "idle": 5, "idle in transaction": 1}.';

CREATE TABLE operations.session_health (
    snapshot_at timestamptz NOT NULL,
    pid integer NOT NULL,
    concern text NOT NULL CHECK (concern IN ('long_running', 'waiting')),
    user_name text,
    application_name text,
    state text,
    wait_event_type text,
    wait_event text,
    blocked_by integer[] NOT NULL,
    running_seconds numeric(12, 1),
    query text,
    PRIMARY KEY (snapshot_at, pid)
);

CREATE TABLE operations.statement_health (
    snapshot_at timestamptz NOT NULL,
    rank integer NOT NULL,
    query_id bigint,
    user_name text,
    calls bigint NOT NULL,
    total_ms double precision NOT NULL,
    mean_ms double precision NOT NULL,
    max_ms double precision NOT NULL,
    rows bigint NOT NULL,
    query text NOT NULL,
    PRIMARY KEY (snapshot_at, rank)
);
GRANT SELECT ON operations.table_restore_log, operations.database_health, operations.session_health,
    operations.statement_health TO warehouse_analyst;
-- pg_dump (the backup role, through warehouse_analyst) reads every sequence, the new identity's too.
GRANT SELECT ON SEQUENCE operations.table_restore_log_restore_id_seq TO warehouse_analyst;
"""


def upgrade() -> None:
    op.execute(TABLES)


def downgrade() -> None:
    op.execute(
        "DROP TABLE operations.table_restore_log, operations.database_health, operations.session_health, "
        "operations.statement_health"
    )
