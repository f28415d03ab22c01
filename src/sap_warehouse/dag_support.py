"""What every DAG of the project shares: default task arguments and the run's identity for the logs.

Imported by the DAG files at parse time, so it touches neither the database nor Variables.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging

import pendulum
from airflow.providers.smtp.notifications.smtp import SmtpNotifier
from airflow.sdk import Asset, BaseNotifier, Param
from airflow.sdk.definitions.callback import AsyncCallback
from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

from sap_warehouse.core import settings
from sap_warehouse.core.business_date import BUSINESS_TIMEZONE
from sap_warehouse.core.run_info import RunInfo
from sap_warehouse.signals.notify import NOTIFY_CONN_ID, connection_exists

log = logging.getLogger(__name__)


class FailureNotifier(SmtpNotifier):
    """E-mails a task failure through the SMTP connection ``warehouse_smtp`` to the addresses of the
    Variable ``warehouse_alert_emails`` (comma separated). Without that connection it only logs, so a
    development machine without mail is not an error."""

    def __call__(self, *args) -> None:
        # Rendering replaces the templates on the instance for good, and DEFAULT_ARGS shares one
        # instance between every task of a process: render a copy, so the next failure renders afresh.
        super(FailureNotifier, copy.copy(self)).__call__(*args)

    def notify(self, context) -> None:
        if not connection_exists(self.smtp_conn_id):  # e-mail not configured at all; a broken one raises below
            log.warning(
                "no Airflow connection %s: the failure of %s is not e-mailed", self.smtp_conn_id, context["ti"].task_id
            )
            return
        super().notify(context)


class MorningSummaryNotifier(BaseNotifier):
    """The daily run's callback on success and on failure: the morning summary of its business date
    (sap_warehouse.signals.summary), by e-mail and to Slack where their connections are configured."""

    def render_template_fields(self, context, jinja_env=None) -> None:
        """Nothing to render: the summary is made from the data, never from templates (a run callback's
        DAG may be the serialized one, which has no template environment)."""

    def notify(self, context) -> None:
        from sap_warehouse.signals import summary

        summary.send(context)


def failure_notifier() -> FailureNotifier:
    return FailureNotifier(
        smtp_conn_id=NOTIFY_CONN_ID,
        from_email="{{ var.value.get('warehouse_alert_from', 'airflow@localhost') }}",
        to="{{ var.value.get('warehouse_alert_emails', 'data-platform@localhost') }}",
        subject="[warehouse] {{ ti.dag_id }}.{{ ti.task_id }} failed ({{ params.get('business_date') or run_id }})",
        html_content=(
            "<p>Task <b>{{ ti.dag_id }}.{{ ti.task_id }}</b> failed on try {{ ti.try_number }} of run "
            "{{ run_id }} (business date {{ params.get('business_date') or 'from the data interval' }}).</p>"
            "<p>{{ exception }}</p><p>Log: {{ ti.log_url }}</p><p>Runbook: docs/runbook.md.</p>"
        ),
    )


class DeadlineNotifier(SmtpNotifier):
    """E-mails that a DAG run missed its deadline (Airflow's DeadlineAlert; runs in the triggerer).

    The triggerer hands a notifier only the run and the deadline (``dag_run``, ``deadline``), not the full
    task context, so the recipients come from the Variables ``warehouse_alert_emails`` and
    ``warehouse_alert_from`` here rather than from templates. Without the connection ``warehouse_smtp``
    it only logs."""

    def __init__(self, to: str | None = None, from_email: str | None = None, **kwargs) -> None:
        super().__init__(to=to or "", from_email=from_email, **kwargs)

    async def async_notify(self, context) -> None:
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException
        from asgiref.sync import sync_to_async

        run = context.get("dag_run") or {}
        try:
            await BaseHook.aget_connection(self.smtp_conn_id)
        except AirflowNotFoundException:  # e-mail not configured at all; a broken one raises below
            log.warning(
                "no Airflow connection %s: the missed deadline of %s %s is not e-mailed",
                self.smtp_conn_id,
                run.get("dag_id"),
                run.get("dag_run_id"),
            )
            return
        get = sync_to_async(settings.value)
        self.to = self.to or await get("warehouse_alert_emails")
        self.from_email = self.from_email or await get("warehouse_alert_from")
        await super().async_notify(context)


def run_deadline(setting: str) -> DeadlineAlert | None:
    """A DAG run still unfinished ``setting`` minutes (environment variable, read when the DAG is parsed)
    after it was queued e-mails the on-call address once. Counted from queueing, so backfills and
    re-runs get the same allowance as the scheduled run.

    None (no deadline) when ``SAP_WAREHOUSE_DEADLINES=off``: Airflow 3.3.2's ``dag.test()`` (and so
    ``airflow dags test``) cannot finish a run of a DAG with a deadline alert (it looks the alert up by
    its serialized form instead of its id: apache/airflow#73428, fix proposed in apache/airflow#73430), so
    the commands that run DAGs through it set that. Drop the switch once a release carries the fix."""
    if settings.value("SAP_WAREHOUSE_DEADLINES") == "off":
        return None
    minutes = settings.value(setting)
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=dt.timedelta(minutes=minutes),
        callback=AsyncCallback(
            DeadlineNotifier,
            kwargs={
                "smtp_conn_id": NOTIFY_CONN_ID,
                "subject": "[warehouse] {{ dag_run.dag_id }} run {{ dag_run.dag_run_id }} missed its deadline",
                "html_content": (
                    "<p>Run <b>{{ dag_run.dag_run_id }}</b> of <b>{{ dag_run.dag_id }}</b> (business date "
                    "{{ (dag_run.conf or {}).get('business_date') or 'from the data interval' }}) was queued at "
                    "{{ dag_run.queued_at }} and had not finished by its deadline {{ deadline.deadline_time }} "
                    f"({minutes:g} minutes, {setting}).</p>"
                    "<p>It is still running: look at its tasks in the Airflow UI.</p>"
                    "<p>Runbook: docs/runbook.md, A run missed its deadline.</p>"
                ),
            },
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

# What every DAG of the project declares alike (dag_args adds its documentation); each adds its id,
# schedule, params and tags.
DAG_ARGS = {
    "start_date": pendulum.datetime(2026, 1, 1, tz=BUSINESS_TIMEZONE),
    "catchup": False,
    "max_active_runs": 1,  # runs of one DAG never interleave (the daily DAG: DAILY_ACTIVE_RUNS)
    "default_args": DEFAULT_ARGS,
}


# The daily DAG's scheduled run waits in wait_for_files until its date's files land (hours, some
# mornings); room for two more runs beside it, so an on-call re-run or a range run starts at once. Runs
# of the same dates never interleave: every step holds the warehouse's advisory lock of its dates.
DAILY_ACTIVE_RUNS = 3


def dag_args(doc: str) -> dict:
    """DAG_ARGS plus the DAG's documentation: ``doc`` (its module docstring, Markdown) as doc_md, and
    its heading as the description the DAG list shows."""
    heading = doc.strip().splitlines()[0].lstrip("# ").strip()
    return {**DAG_ARGS, "description": heading, "doc_md": doc}


# Updated by the daily run when the marts views have been refreshed: the maintenance DAG runs after it.
MARTS_REFRESHED = Asset(name="sap_warehouse_marts", uri="warehouse://sap/marts")
# Updated when a backup has been verified by restoring it: retention runs after it.
BACKUP_VERIFIED = Asset(name="warehouse_backup_verified", uri="warehouse://sap/backup")


def optional_param(kind: str, title: str, description: str, **schema) -> Param:
    """A trigger-form field that may stay empty (None: the run decides, e.g. the previous day);
    ``kind`` is its JSON-schema type when filled, ``schema`` more of its schema (format="date")."""
    return Param(None, type=["null", kind], title=title, description=description, **schema)


def run_info() -> RunInfo:
    """The running task's DAG, run and task (what the warehouse records its work under)."""
    from airflow.sdk import get_current_context

    context = get_current_context()
    return RunInfo(context["dag"].dag_id, context["run_id"], context["task"].task_id)
