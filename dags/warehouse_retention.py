"""
### Warehouse retention: archive, verify the archive, then delete (never past the last verified backup)

Runs after each verified backup (asset `warehouse_backup_verified`), and on demand. For every policy of
`include/config/retention.yaml`, in order: the rows older than the policy's `keep_days` are copied to
`<sap_archive_path>/retention/<schema.table>/` (gzip CSV), the archive is read back and its records
counted, and only then are the rows deleted, in the snapshot they were archived from; monthly
partitions that lie wholly before the cutoff are dropped whole. Nothing newer than the last verified
backup is deleted, and without one nothing at all. Every action goes to operations.retention_log.

**dry_run** Param: empty = a dry run when triggered by hand, for real when started by the backup;
`true` / `false` force it. A dry run reports what would go and changes nothing.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, get_current_context, task

from sap_warehouse.core.business_date import BUSINESS_TIMEZONE
from sap_warehouse.dag_support import BACKUP_VERIFIED, dag_args, optional_param


@dag(
    dag_id="warehouse_retention",
    schedule=[BACKUP_VERIFIED],
    **dag_args(__doc__),
    params={
        "dry_run": optional_param(
            "boolean",
            "Dry run",
            "Empty: a dry run if triggered by hand, real if the backup started it. true/false force it.",
        ),
    },
    tags=["warehouse", "operations", "retention"],
)
def warehouse_retention():
    @task(multiple_outputs=False)
    def apply_retention() -> dict:
        """Archive each policy's old rows (gzip CSV, read back and counted), then delete them; a run the
        verified backup's asset event started deletes for real, a manual one only plans."""
        from sap_warehouse.ingest.landing import location
        from sap_warehouse.operations import retention

        context = get_current_context()
        dry_run = context["params"]["dry_run"]
        if dry_run is None:  # started by a verified backup (an asset event): real; by hand: a dry run
            dry_run = not context["triggering_asset_events"]
        today = pendulum.instance(context["dag_run"].run_after).in_timezone(BUSINESS_TIMEZONE).date()
        actions = retention.apply(today, location("archive"), dry_run=dry_run, run_id=context["run_id"])
        return {
            "dry_run": dry_run,
            "tables": {table: sum(a["rows"] for a in done) for table, done in actions.items() if done},
        }

    apply_retention()


warehouse_retention()
