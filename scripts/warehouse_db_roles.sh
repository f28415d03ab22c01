#!/usr/bin/env bash
# Run once by the postgres image when the warehouse volume is first initialised
# (/docker-entrypoint-initdb.d): the logins of the four warehouse connections, and the database
# handed to its owner. docs/production.md: roles.
#   warehouse_owner   migrations, maintenance, retention; owns the tables; CREATEDB for a restore
#                     that keeps owners and grants (sapwh backup restore)
#   warehouse_loader  the daily DAG: rows only (the migrations grant them)
#   warehouse_backup  reads everything, records backups, CREATEDB for the verifying restore
#   warehouse_reader  the on-call page in the Airflow UI: reads everything (warehouse_analyst)
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v owner_pw="$WAREHOUSE_OWNER_PASSWORD" -v loader_pw="$WAREHOUSE_DB_PASSWORD" \
  -v backup_pw="$WAREHOUSE_BACKUP_PASSWORD" -v reader_pw="$WAREHOUSE_READER_PASSWORD" <<'SQL'
CREATE ROLE warehouse_owner LOGIN CREATEDB PASSWORD :'owner_pw';
CREATE ROLE warehouse_loader LOGIN PASSWORD :'loader_pw';
CREATE ROLE warehouse_backup LOGIN CREATEDB PASSWORD :'backup_pw';
CREATE ROLE warehouse_reader LOGIN PASSWORD :'reader_pw';
CREATE ROLE warehouse_analyst NOLOGIN;
GRANT warehouse_analyst TO warehouse_backup, warehouse_reader;
-- The health snapshots see every session and statement (the compose file preloads the library).
GRANT pg_read_all_stats TO warehouse_owner;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
ALTER DATABASE warehouse OWNER TO warehouse_owner;
SQL
