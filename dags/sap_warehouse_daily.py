"""
### SAP warehouse: daily load of one business date

Carries business date **D**'s SAP exports from the landing zone (`<sap_landing_path>/<D>/`, any file
names; each file's report is recognised from its header row) through the warehouse:

1. **resolve_business_date**: D = the `business_date` Param if given, else the first day of the run's
   data interval (Asia/Ho_Chi_Minh). Scheduled runs at 06:00 process the day before.
2. **discover_files**: D's files, in name order.
3. **load_raw_file** (one mapped task per file, two at a time): one transaction per file: COPY, type,
   reject bad rows, upsert changed rows by business key, file ledger row. A file already loaded
   (same sha256) is skipped; an unusable file is quarantined and the others still load.
4. **build_dimensions**: dim_movement_type, dim_date holidays, dim_material, dim_location.
5. **build_fact_inventory**: fact_inventory for D and any earlier posting dates D's files carried.
6. **refresh_views**: view_inventory_summary, `REFRESH ... CONCURRENTLY`.

Safe to re-run: every step is idempotent for D and holds D's advisory lock.
Runbook: see README.md, "On-call runbook".
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import CronDataIntervalTimetable, Param, dag, get_current_context, task

from sap_warehouse import business_date as bd

DEFAULT_ARGS = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": dt.timedelta(minutes=15),
    "pool": "warehouse_db",
}


def _run_info() -> dict:
    context = get_current_context()
    return {"dag_id": context["dag"].dag_id, "run_id": context["run_id"], "task_id": context["task"].task_id}


@dag(
    dag_id="sap_warehouse_daily",
    schedule=CronDataIntervalTimetable("0 6 * * *", timezone=bd.BUSINESS_TIMEZONE),
    start_date=pendulum.datetime(2026, 1, 1, tz=bd.BUSINESS_TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params={
        "business_date": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Business date",
            description="YYYY-MM-DD. Leave empty to process the run's data interval (the previous day).",
        ),
    },
    tags=["sap", "warehouse", "daily"],
    doc_md=__doc__,
)
def sap_warehouse_daily():
    @task
    def resolve_business_date(params=None, data_interval_start=None) -> str:
        return bd.resolve(params.get("business_date"), data_interval_start).isoformat()

    @task
    def discover_files(business_date: str) -> list[str]:
        from sap_warehouse.landing import files_for, location

        return [str(p) for p in files_for(location("landing"), dt.date.fromisoformat(business_date))]

    @task(max_active_tis_per_dagrun=2, map_index_template="{{ file_name }}")
    def load_raw_file(file_url: str, business_date: str) -> dict:
        from airflow.sdk import ObjectStoragePath, Variable

        from sap_warehouse.landing import location
        from sap_warehouse.raw_load import load_file

        path = ObjectStoragePath(file_url)
        get_current_context()["file_name"] = path.name
        result = load_file(
            path,
            dt.date.fromisoformat(business_date),
            quarantine_root=location("quarantine"),
            reject_ratio_max=float(Variable.get("sap_reject_ratio_max", default="0.05")),
            run=_run_info(),
        )
        return result.as_dict()

    @task(trigger_rule="none_failed")
    def build_dimensions(business_date: str) -> dict:
        from sap_warehouse.layers import build_dimensions as build

        return build(dt.date.fromisoformat(business_date), run=_run_info())

    @task
    def build_fact_inventory(business_date: str) -> dict:
        from sap_warehouse.layers import build_fact_inventory as build

        return build(dt.date.fromisoformat(business_date), run=_run_info())

    @task
    def refresh_views(business_date: str) -> list[str]:
        from sap_warehouse.layers import refresh_views as refresh

        return refresh(dt.date.fromisoformat(business_date), run=_run_info())

    day = resolve_business_date()
    loads = load_raw_file.partial(business_date=day).expand(file_url=discover_files(day))
    dims = build_dimensions(day)
    loads >> dims
    dims >> build_fact_inventory(day) >> refresh_views(day)


sap_warehouse_daily()
