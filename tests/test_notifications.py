"""Failure notifications go out through Airflow's notifier mechanism, to a real (local) SMTP server."""

from __future__ import annotations

import logging
import socket
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

from sap_warehouse.dag_support import DEFAULT_ARGS, FailureNotifier


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=default_policy)))
        return "250 OK"


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAREHOUSE_SMTP", f"smtp://127.0.0.1:{port}/?disable_ssl=true&disable_tls=true&timeout=10"
    )
    monkeypatch.setenv("AIRFLOW_VAR_WAREHOUSE_ALERT_EMAILS", "oncall@plant.example")
    yield handler
    controller.stop()


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


def test_every_project_task_notifies_on_failure() -> None:
    assert any(isinstance(callback, FailureNotifier) for callback in DEFAULT_ARGS["on_failure_callback"])


def test_a_failed_task_sends_one_mail_naming_task_and_error(inbox: Inbox, tmp_path: Path) -> None:
    run = failing_dag(tmp_path).test()
    assert str(run.state) == "failed"
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["oncall@plant.example"]
    assert "notification_check.load_something failed" in message["Subject"]
    assert "the landing zone is unreachable" in message.get_body(("html", "plain")).get_content()


def test_without_the_smtp_connection_a_failure_is_only_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_WAREHOUSE_SMTP", raising=False)
    with caplog.at_level(logging.WARNING, logger="sap_warehouse.dag_support"):
        assert str(failing_dag(tmp_path).test().state) == "failed"
    assert "no Airflow connection warehouse_smtp: the failure of load_something is not e-mailed" in caplog.text
