"""Failure notifications go out through Airflow's notifier mechanism, to a real (local) SMTP server."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
from airflow.models.callback import CallbackState
from airflow.sdk import DeadlineReference
from airflow.triggers.callback import CallbackTrigger

from sap_warehouse.dag_support import DeadlineNotifier
from tests.helpers import Inbox

FAILING_DAG = """
from airflow.sdk import DAG, task
from sap_warehouse.dag_support import DEFAULT_ARGS


with DAG("notification_check", schedule=None, default_args={**DEFAULT_ARGS, "retries": 0}) as dag:

    @task
    def load_something() -> None:
        raise RuntimeError("planted failure: the landing zone is unreachable")

    load_something()
"""


def failing_dag(folder: Path):
    """A DAG with the project's default arguments whose only task fails (from a file, as Airflow
    loads DAGs)."""
    path = folder / "notification_check.py"
    path.write_text(FAILING_DAG)
    bag = DagBag(dag_folder=str(path))
    assert set(bag.dag_ids) == {"notification_check"}, bag.import_errors
    sync_bag_to_db(bag, "dags-folder", None)  # dag.test() runs serialized DAGs only
    return bag.get_dag("notification_check")


def test_a_failed_task_sends_one_mail_naming_task_and_error(inbox: Inbox, tmp_path: Path) -> None:
    run = failing_dag(tmp_path).test()
    assert str(run.state) == "failed"
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["oncall@plant.example"]
    assert "notification_check.load_something failed" in message["Subject"]
    assert "the landing zone is unreachable" in message.get_body(("html", "plain")).get_content()


def test_each_failure_renders_its_own_mail(inbox: Inbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DEFAULT_ARGS holds one notifier for every task: a failure must not leave it rendered."""
    dag = failing_dag(tmp_path)
    assert str(dag.test().state) == "failed"
    monkeypatch.setenv("AIRFLOW_VAR_WAREHOUSE_ALERT_EMAILS", "night-shift@plant.example")
    assert str(dag.test().state) == "failed"
    assert [recipients for recipients, _ in inbox.messages] == [["oncall@plant.example"], ["night-shift@plant.example"]]


def test_without_the_smtp_connection_a_failure_is_only_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_WAREHOUSE_SMTP", raising=False)
    with caplog.at_level(logging.WARNING, logger="sap_warehouse.dag_support"):
        assert str(failing_dag(tmp_path).test().state) == "failed"
    assert "no Airflow connection warehouse_smtp: the failure of load_something is not e-mailed" in caplog.text


MISSED_RUN = {
    "dag_run": {
        "dag_id": "sap_warehouse_daily",
        "dag_run_id": "manual__2026-03-05T01:00:00+00:00",
        "conf": {"business_date": "2026-03-04"},
        "queued_at": "2026-03-05T01:00:00Z",
    },
    "deadline": {"id": "0199a1b2-0000-7000-8000-000000000001", "deadline_time": "2026-03-05T05:00:00Z"},
}


def fire_deadline(alert) -> list:
    """Run a DAG's deadline callback the way the triggerer does when the scheduler finds the deadline
    missed (Airflow's CallbackTrigger, with the run and deadline the scheduler passes); its events."""

    async def collect() -> list:
        kwargs = {**alert.callback.kwargs, "context": MISSED_RUN}
        return [event async for event in CallbackTrigger(alert.callback.path, kwargs).run()]

    return asyncio.run(collect())


def daily_deadline(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SAP_WAREHOUSE_DEADLINES", "on")
    bag = DagBag(dag_folder=str(Path(__file__).parents[2] / "dags" / "sap_warehouse_daily.py"))
    dag = bag.get_dag("sap_warehouse_daily")
    assert dag is not None, bag.import_errors
    return dag.deadline[0] if isinstance(dag.deadline, list) else dag.deadline


def test_the_daily_run_has_a_deadline_counted_from_queueing(monkeypatch: pytest.MonkeyPatch) -> None:
    alert = daily_deadline(monkeypatch)
    assert alert.reference == DeadlineReference.DAGRUN_QUEUED_AT
    assert alert.interval == dt.timedelta(hours=4)
    assert alert.callback.path == f"{DeadlineNotifier.__module__}.{DeadlineNotifier.__qualname__}"


def test_a_missed_deadline_mails_the_run_and_business_date(inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    events = fire_deadline(daily_deadline(monkeypatch))
    assert events[-1].payload["state"] == CallbackState.SUCCESS, events[-1].payload
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["oncall@plant.example"]
    assert message["Subject"] == (
        "[warehouse] sap_warehouse_daily run manual__2026-03-05T01:00:00+00:00 missed its deadline"
    )
    body = message.get_body(("html", "plain")).get_content()
    assert "business date 2026-03-04" in body
    assert "had not finished by its deadline 2026-03-05T05:00:00Z (240 minutes" in body


def test_without_the_smtp_connection_a_missed_deadline_is_only_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_WAREHOUSE_SMTP", raising=False)
    with caplog.at_level(logging.WARNING, logger="sap_warehouse.dag_support"):
        events = fire_deadline(daily_deadline(monkeypatch))
    assert events[-1].payload["state"] == CallbackState.SUCCESS, events[-1].payload
    assert "the missed deadline of sap_warehouse_daily manual__2026-03-05T01:00:00+00:00 is not e-mailed" in caplog.text


def test_runs_through_dag_test_go_without_deadlines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAP_WAREHOUSE_DEADLINES", "off")
    bag = DagBag(dag_folder=str(Path(__file__).parents[2] / "dags" / "sap_warehouse_daily.py"))
    assert not bag.get_dag("sap_warehouse_daily").deadline
