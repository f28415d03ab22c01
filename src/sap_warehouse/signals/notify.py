"""Where people are told: the Airflow connections the signals go through, and whether one is set up.

The e-mails (task failures, missed deadlines, new critical alerts, the morning summary) go through the
SMTP connection ``warehouse_smtp``; the summary also through the Slack webhook ``warehouse_slack``.
A channel whose connection is not configured at all is skipped with a log line; a broken one raises.
"""

from __future__ import annotations

NOTIFY_CONN_ID = "warehouse_smtp"
SLACK_CONN_ID = "warehouse_slack"


def connection_exists(conn_id: str) -> bool:
    """Whether the Airflow connection ``conn_id`` is configured at all (a broken one exists: using it
    raises, which is how a misconfiguration fails its task)."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return False
    return True
