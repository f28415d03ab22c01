"""Alembic environment for the warehouse database.

The target database is the Airflow connection ``warehouse_db``, read the way every other warehouse
connection is (sap_warehouse.core.db: a URI or JSON in AIRFLOW_CONN_WAREHOUSE_DB, or a secrets backend,
with its libpq extras), or an explicit ``sqlalchemy.url`` set by the caller, as the tests do.
Alembic keeps its own version table, ``public.alembic_version`` in the warehouse database.
"""

from alembic import context
from sqlalchemy import create_engine, pool

from sap_warehouse.core.db import OWNER_CONN_ID, sqlalchemy_url


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url") or sqlalchemy_url(conn_id=OWNER_CONN_ID)
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, version_table_schema="public", transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline (--sql) mode is not supported: migrations use PL/pgSQL blocks.")
run_migrations_online()
