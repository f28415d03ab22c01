"""Operations housekeeping: the backup catalogue, database health snapshots, the retention log.

backup_log mirrors the manifests written next to each dump (the manifests stay the source of truth
for rotation and restore, so a restored database cannot forget a backup); retention reads the latest
verified backup from here. table_health and index_health hold the maintenance DAG's snapshots of
sizes, dead tuples, vacuum/analyze times and index use. retention_log records what each retention
run archived and deleted (or would have, in a dry run).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = """
CREATE TABLE operations.backup_log (
    backup_name text PRIMARY KEY,
    location text NOT NULL,
    status text NOT NULL CHECK (status IN ('dumped', 'verified', 'failed', 'deleted')),
    started_at timestamptz NOT NULL,
    dumped_at timestamptz NOT NULL,
    verified_at timestamptz,
    deleted_at timestamptz,
    size_bytes bigint NOT NULL,
    sha256 char(64) NOT NULL,
    server_version text NOT NULL,
    client_version text NOT NULL,
    table_rows jsonb NOT NULL,
    reason text
);
CREATE INDEX backup_log_verified_idx ON operations.backup_log (dumped_at DESC) WHERE status = 'verified';

CREATE TABLE operations.table_health (
    snapshot_at timestamptz NOT NULL,
    schema_name text NOT NULL,
    table_name text NOT NULL,
    total_bytes bigint NOT NULL,
    table_bytes bigint NOT NULL,
    index_bytes bigint NOT NULL,
    live_tuples bigint NOT NULL,
    dead_tuples bigint NOT NULL,
    dead_ratio numeric(6, 4),
    modified_since_analyze bigint NOT NULL,
    seq_scans bigint NOT NULL,
    index_scans bigint,
    last_vacuum timestamptz,
    last_autovacuum timestamptz,
    last_analyze timestamptz,
    last_autoanalyze timestamptz,
    PRIMARY KEY (snapshot_at, schema_name, table_name)
);

CREATE TABLE operations.index_health (
    snapshot_at timestamptz NOT NULL,
    schema_name text NOT NULL,
    table_name text NOT NULL,
    index_name text NOT NULL,
    index_bytes bigint NOT NULL,
    index_scans bigint NOT NULL,
    is_unique boolean NOT NULL,
    PRIMARY KEY (snapshot_at, schema_name, index_name)
);

CREATE TABLE operations.retention_log (
    retention_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id text NOT NULL,
    table_name text NOT NULL,
    cutoff date NOT NULL,
    dry_run boolean NOT NULL,
    action text NOT NULL CHECK (action IN ('drop_partition', 'delete_rows', 'nothing')),
    target text,
    rows_affected bigint NOT NULL,
    archive_path text,
    archive_sha256 char(64),
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
"""

GRANTS = """
GRANT ALL ON operations.backup_log, operations.table_health, operations.index_health, operations.retention_log
   TO warehouse_loader;
GRANT SELECT ON operations.backup_log, operations.table_health, operations.index_health, operations.retention_log
   TO warehouse_analyst;
"""


def upgrade() -> None:
    op.execute(TABLES)
    op.execute(GRANTS)


def downgrade() -> None:
    op.execute(
        "DROP TABLE operations.retention_log, operations.index_health, operations.table_health, operations.backup_log"
    )
