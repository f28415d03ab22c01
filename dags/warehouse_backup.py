"""
### Warehouse backup: nightly pg_dump, verified by restoring it, then rotated

Daily at 02:00 plant time (before the 06:00 load):

1. **dump_warehouse**: `pg_dump --format=custom` of the warehouse, on one exported snapshot, streamed to
   `<warehouse_backup_path>/.<name>.dump.partial` and renamed to `<name>.dump` only when pg_dump
   succeeded; a manifest `<name>.json` beside it holds size, sha256, the client and server versions
   (pg_dump must be at least the server's major version) and the exact row count of every table.
2. **verify_backup**: reads the dump back (sha256 checked), `pg_restore --exit-on-error` into a scratch
   database, compares every table's row count with the manifest, drops the scratch database.
3. **rotate_backups**: keeps the newest verified backup of each of the last `warehouse_backup_keep_daily`
   days (7), `warehouse_backup_keep_weekly` weeks (4) and `warehouse_backup_keep_monthly` months (12), and
   always the newest verified one. Runs only after a verified backup, which also starts
   `warehouse_retention` (asset `warehouse_backup_verified`).

A failure at any step fails the run and leaves older backups as they were. Compression:
`warehouse_backup_compression` (pg_dump -Z, default 1: 3.4x faster than the default for a 23% larger
file). Restore: `sapwh backup restore ...` (docs/runbook.md).
"""

from __future__ import annotations

from airflow.sdk import CronTriggerTimetable, dag, get_current_context, task

from sap_warehouse.core.business_date import BUSINESS_TIMEZONE
from sap_warehouse.dag_support import BACKUP_VERIFIED, dag_args, run_deadline


@dag(
    dag_id="warehouse_backup",
    schedule=CronTriggerTimetable("0 2 * * *", timezone=BUSINESS_TIMEZONE),
    **dag_args(__doc__),
    deadline=run_deadline("SAP_WAREHOUSE_BACKUP_DEADLINE_MINUTES"),
    tags=["warehouse", "operations", "backup"],
)
def warehouse_backup():
    @task
    def dump_warehouse() -> str:
        """pg_dump (custom format) of a consistent snapshot to the backup location, with its manifest."""
        from sap_warehouse.core.settings import value
        from sap_warehouse.ingest.landing import location
        from sap_warehouse.operations import backup

        return backup.dump(location("backup"), compression=value("warehouse_backup_compression"))["name"]

    @task(outlets=[BACKUP_VERIFIED], multiple_outputs=False)
    def verify_backup(name: str) -> dict:
        """Restore the dump into a scratch database and compare every table's rows with the manifest;
        the asset event (its extra names the backup) starts the retention DAG."""
        from sap_warehouse.ingest.landing import location
        from sap_warehouse.operations import backup

        manifest = backup.verify(location("backup"), name)
        get_current_context()["outlet_events"][BACKUP_VERIFIED].extra = {"backup": name}
        return {"name": name, "tables": len(manifest["table_rows"]), "rows": sum(manifest["table_rows"].values())}

    @task(multiple_outputs=False)
    def rotate_backups(verified: dict) -> dict:
        """Keep the newest verified backup of the last 7 days, 4 weeks and 12 months; delete the rest."""
        from sap_warehouse.core.settings import value
        from sap_warehouse.ingest.landing import location
        from sap_warehouse.operations import backup

        return backup.rotate(
            location("backup"),
            daily=value("warehouse_backup_keep_daily"),
            weekly=value("warehouse_backup_keep_weekly"),
            monthly=value("warehouse_backup_keep_monthly"),
        )

    rotate_backups(verify_backup(dump_warehouse()))


warehouse_backup()
