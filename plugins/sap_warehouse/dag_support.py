"""What every DAG of the project shares: default task arguments and the run's identity for the logs.

Imported by the DAG files at parse time, so it touches neither the database nor Variables.
"""

from __future__ import annotations

import datetime as dt
import logging

from airflow.providers.smtp.notifications.smtp import SmtpNotifier
from airflow.sdk import Asset

log = logging.getLogger(__name__)

NOTIFY_CONN_ID = "warehouse_smtp"


class FailureNotifier(SmtpNotifier):
    """E-mails a task failure through the SMTP connection ``warehouse_smtp`` to the addresses of the
    Variable ``warehouse_alert_emails`` (comma separated). Without that connection it only logs, so a
    development machine without mail is not an error."""

    def notify(self, context) -> None:
        from airflow.sdk import BaseHook

        try:
            BaseHook.get_connection(self.smtp_conn_id)
        except Exception:  # the SDK raises its own not-found error type
            log.warning("no Airflow connection %s: the failure of %s is not e-mailed", self.smtp_conn_id,
                        context["ti"].task_id)  # fmt: skip
            return
        super().notify(context)


def failure_notifier() -> FailureNotifier:
    return FailureNotifier(
        smtp_conn_id=NOTIFY_CONN_ID,
        from_email="{{ var.value.get('warehouse_alert_from', 'airflow@localhost') }}",
        to="{{ var.value.get('warehouse_alert_emails', 'data-platform@localhost') }}",
        subject="[warehouse] {{ ti.dag_id }}.{{ ti.task_id }} failed ({{ params.get('business_date') or run_id }})",
        html_content=(
            "<p>Task <b>{{ ti.dag_id }}.{{ ti.task_id }}</b> failed on try {{ ti.try_number }} of run "
            "{{ run_id }} (business date {{ params.get('business_date') or 'from the data interval' }}).</p>"
            "<p>{{ exception }}</p><p>Log: {{ ti.log_url }}</p><p>Runbook: README.md, On-call runbook.</p>"
        ),
    )


DEFAULT_ARGS = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": dt.timedelta(minutes=15),
    "pool": "warehouse_db",
    "on_failure_callback": [failure_notifier()],
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
