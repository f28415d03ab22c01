"""Least privilege at runtime: the loader reads and writes rows, and nothing more.

warehouse_loader (what the daily DAG connects as) keeps SELECT, INSERT, UPDATE and DELETE on the
tables of raw, dims, facts and operations, SELECT on the marts views, the sequences behind identity
columns, and CREATE in the operations schema only (each load stages its file in tables of its own
there). It loses TRUNCATE, REFERENCES, TRIGGER and CREATE in the other schemas; it never owns a
table, so it can neither ALTER nor DROP one. The two things the daily run needs that PostgreSQL
reserves for a table's owner go through SECURITY DEFINER functions owned by the migrating role:
operations.refresh_materialized_view (marts views only) and operations.analyze_table (warehouse
tables only). Migrations, partition maintenance and retention run as the owner; backups as a role
that can read everything and create the scratch database a restore is verified in.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

WRITTEN = ("raw", "dims", "facts", "operations")

FUNCTIONS = """
CREATE FUNCTION operations.refresh_materialized_view(target regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE c.oid = target AND c.relkind = 'm' AND n.nspname = 'marts') THEN
        RAISE EXCEPTION '% is not a materialized view of the marts schema', target;
    END IF;
    EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %s', target);
END $$;

CREATE FUNCTION operations.analyze_table(target regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE c.oid = target AND c.relkind IN ('r', 'p')
                      AND n.nspname IN ('raw', 'dims', 'facts', 'operations')) THEN
        RAISE EXCEPTION '% is not a table of the warehouse', target;
    END IF;
    EXECUTE format('ANALYZE %s', target);
END $$;

REVOKE ALL ON FUNCTION operations.refresh_materialized_view(regclass), operations.analyze_table(regclass)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION operations.refresh_materialized_view(regclass), operations.analyze_table(regclass)
    TO warehouse_loader;
"""


def upgrade() -> None:
    # Where one login runs everything as warehouse_loader, it owns the tables: revoking from it would
    # only strip the owner's own rights (REFRESH CONCURRENTLY needs them), so that is skipped there.
    single_login = op.get_bind().exec_driver_sql("SELECT current_user = 'warehouse_loader'").scalar()
    for schema in (*WRITTEN, "marts"):
        if not single_login:
            op.execute(f"REVOKE CREATE ON SCHEMA {schema} FROM warehouse_loader")
            op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM warehouse_loader")
    for schema in WRITTEN:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO warehouse_loader")
        op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO warehouse_loader")
    op.execute("GRANT SELECT ON ALL TABLES IN SCHEMA marts TO warehouse_loader")
    op.execute("GRANT CREATE ON SCHEMA operations TO warehouse_loader")  # the per-load staging tables
    op.execute(FUNCTIONS)


def downgrade() -> None:
    op.execute("DROP FUNCTION operations.refresh_materialized_view(regclass), operations.analyze_table(regclass)")
    for schema in ("raw", "dims", "facts", "marts", "operations"):
        op.execute(f"GRANT USAGE, CREATE ON SCHEMA {schema} TO warehouse_loader")
        op.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA {schema} TO warehouse_loader")
