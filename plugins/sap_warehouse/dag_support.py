"""What every DAG of the project shares: default task arguments and the run's identity for the logs.

Imported by the DAG files at parse time, so it touches neither the database nor Variables.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Asset

DEFAULT_ARGS = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": dt.timedelta(minutes=15),
    "pool": "warehouse_db",
}

# Updated by the daily run when the marts views have been refreshed: the maintenance DAG runs after it.
MARTS_REFRESHED = Asset(name="sap_warehouse_marts", uri="warehouse://sap/marts")
# Updated when a backup has been verified by restoring it: retention runs after it.
BACKUP_VERIFIED = Asset(name="warehouse_backup_verified", uri="warehouse://sap/backup")


def run_info() -> dict:
    """dag_id, run_id and task_id of the running task (recorded in operations.etl_run_log)."""
    from airflow.sdk import get_current_context

    context = get_current_context()
    return {"dag_id": context["dag"].dag_id, "run_id": context["run_id"], "task_id": context["task"].task_id}


def int_variable(name: str, default: int) -> int:
    """An integer Airflow Variable, with a clear error naming it when it is not a number."""
    from airflow.sdk import Variable

    value = Variable.get(name, default=str(default))
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"Airflow Variable {name} must be a whole number, not {value!r}") from None
