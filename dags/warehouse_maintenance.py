"""
### Warehouse maintenance: VACUUM/ANALYZE where the statistics call for it, the calendar kept ahead, a health snapshot

Runs after each daily run has refreshed the marts views (asset `sap_warehouse_marts`), and on demand:

1. **vacuum_and_analyze**: every table or partition of the warehouse schemas with at least
   `warehouse_vacuum_min_dead_tuples` (1000) dead tuples making up at least `warehouse_vacuum_dead_ratio`
   (0.1) of it gets `VACUUM (ANALYZE)`; every other table with at least `warehouse_analyze_min_changes` (1)
   rows changed since its last analyze (what the daily run wrote) gets `ANALYZE`. One statement per call,
   in autocommit. `VACUUM FULL` (exclusive lock, rewrites the table) only with the `vacuum_full` Param.
   The `dry_run` Param lists the statements without running them.
2. **extend_horizon**: dims.dim_date and the monthly partitions of the raw and facts tables reach
   `warehouse_horizon_months` (24) months past the run date; the daily run refuses a business date
   outside the calendar, so this keeps every date of the next two years loadable. Rows that waited in
   a DEFAULT partition move into their month's new partition. The calendar's public holidays are
   brought in line with the `holidays` library (site.yaml `holidays`; the plant's own rows stay).
   Skipped by a dry run.
3. **health_snapshot**: sizes, live/dead tuples, last (auto)vacuum/analyze of every table and the scans
   of every index (operations.table_health, index_health); the database's size and connections by
   state (database_health), sessions waiting on a lock or running over 5 minutes (session_health) and
   the slowest statements of pg_stat_statements (statement_health). docs/runbook.md: Is the database healthy?
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from sap_warehouse.core.business_date import BUSINESS_TIMEZONE
from sap_warehouse.dag_support import MARTS_REFRESHED, dag_args


@dag(
    dag_id="warehouse_maintenance",
    schedule=[MARTS_REFRESHED],
    **dag_args(__doc__),
    params={
        "vacuum_full": Param(
            False,
            type="boolean",
            title="VACUUM FULL",
            description="Rewrite the tables that need a vacuum (takes an exclusive lock: readers wait).",
        ),
        "dry_run": Param(False, type="boolean", title="Dry run", description="List the statements only."),
    },
    tags=["warehouse", "operations", "maintenance"],
)
def warehouse_maintenance():
    @task
    def vacuum_and_analyze() -> list[dict]:
        """VACUUM (with ANALYZE) tables with many dead tuples, ANALYZE tables changed since their last
        analyze; FULL only with the vacuum_full Param; a dry run lists the statements."""
        from sap_warehouse.core.settings import value
        from sap_warehouse.operations import maintenance

        params = get_current_context()["params"]
        return maintenance.run(
            dead_ratio=value("warehouse_vacuum_dead_ratio"),
            min_dead=value("warehouse_vacuum_min_dead_tuples"),
            min_changes=value("warehouse_analyze_min_changes"),
            full=bool(params["vacuum_full"]),
            dry_run=bool(params["dry_run"]),
        )

    @task(multiple_outputs=False)
    def extend_horizon() -> dict:
        """Keep dims.dim_date and the monthly partitions warehouse_horizon_months ahead of today, and its
        public holidays those of the holidays library."""
        from sap_warehouse.core.settings import value
        from sap_warehouse.operations import horizon

        context = get_current_context()
        if context["params"]["dry_run"]:
            return {"dry_run": True}  # a dry run changes nothing, the calendar included
        today = pendulum.instance(context["dag_run"].run_after).in_timezone(BUSINESS_TIMEZONE).date()
        return horizon.extend(today, value("warehouse_horizon_months"))

    @task(multiple_outputs=False)
    def health_snapshot() -> dict:
        """Sizes, tuples, index use, connections, waiting and long sessions, slowest statements."""
        from sap_warehouse.operations import maintenance

        return maintenance.snapshot()

    vacuum_and_analyze() >> extend_horizon() >> health_snapshot()


warehouse_maintenance()
