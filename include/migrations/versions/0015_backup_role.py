"""The backup role: reads everything, records its backups, owns nothing.

warehouse_backup (the warehouse_backup DAG's connection, a login with CREATEDB for the scratch
database a dump is verified in) reads every table through membership in warehouse_analyst, which
this grants the sequences and Alembic's version table besides (pg_dump reads them too), and writes
operations.backup_log. The membership itself is granted where roles are managed (scripts/dev), as
granting a role needs more than owning tables.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

SCHEMAS = ("raw", "dims", "facts", "marts", "operations")

UPGRADE = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'warehouse_backup') THEN
        CREATE ROLE warehouse_backup NOLOGIN;
    END IF;
END $$;
GRANT SELECT ON public.alembic_version TO warehouse_analyst;
GRANT SELECT, INSERT, UPDATE, DELETE ON operations.backup_log TO warehouse_backup;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA operations TO warehouse_backup;
"""


def upgrade() -> None:
    for schema in SCHEMAS:
        op.execute(f"GRANT SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO warehouse_analyst")
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute("REVOKE ALL ON operations.backup_log FROM warehouse_backup")
    op.execute("REVOKE ALL ON ALL SEQUENCES IN SCHEMA operations FROM warehouse_backup")
    op.execute("REVOKE SELECT ON public.alembic_version FROM warehouse_analyst")
    for schema in SCHEMAS:
        op.execute(f"REVOKE SELECT ON ALL SEQUENCES IN SCHEMA {schema} FROM warehouse_analyst")  # noqa: S608 schema: a constant of this file
