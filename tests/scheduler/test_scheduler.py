"""The real scheduler path: the local Airflow started by `scripts/dev airflow-up`, driven through the REST API."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import psycopg
import pytest

from sap_warehouse.operations import runs
from sap_warehouse_kit import exports
from tests.helpers import Inbox

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "sap_warehouse_daily"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def local_airflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, due_time: str = "00:00") -> Iterator[httpx.Client]:
    """The local Airflow on a free port, its warehouse the test's database, its landing zone tmp_path;
    files due at ``due_time`` (plant time, the morning after)."""
    monkeypatch.setenv("AIRFLOW_VAR_SAP_LANDING_PATH", f"file://{tmp_path / 'landing'}")
    monkeypatch.setenv("AIRFLOW_VAR_SAP_ARCHIVE_PATH", f"file://{tmp_path / 'archive'}")
    monkeypatch.setenv("AIRFLOW_VAR_SAP_QUARANTINE_PATH", f"file://{tmp_path / 'quarantine'}")
    # The scheduler also starts the latest scheduled run (yesterday, no files): by default due at once.
    monkeypatch.setenv("AIRFLOW_VAR_SAP_FILES_DUE_TIME", due_time)
    port = free_port()
    monkeypatch.setenv("WAREHOUSE_AIRFLOW_PORT", str(port))
    dev = str(PROJECT_ROOT / "scripts" / "dev")
    started = dt.datetime.now(dt.UTC)
    up = subprocess.run([dev, "airflow-up"], capture_output=True, text=True, timeout=300, check=False)
    try:
        assert up.returncode == 0, up.stderr
        base = f"http://127.0.0.1:{port}"
        token = httpx.get(f"{base}/auth/token", timeout=30).json()["access_token"]
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            wait_for_parse(client, started)
            yield client
    finally:
        subprocess.run([dev, "airflow-down"], capture_output=True, timeout=120, check=False)
        run_dir = Path(os.environ["WAREHOUSE_LOCAL_DIR"]) / "airflow" / "run"
        assert not list(run_dir.glob("*.pid")), "a component was left running"


def wait_for_parse(client: httpx.Client, since: dt.datetime, timeout: float = 180) -> None:
    """Until the dag-processor has parsed the DAG file with this test's environment (this Airflow's
    metadata outlives the test and may hold an older version of the DAG)."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/api/v2/dags/{DAG_ID}")
        parsed = response.json().get("last_parsed_time") if response.status_code == 200 else None
        if parsed and dt.datetime.fromisoformat(parsed) >= since:
            return
        assert time.monotonic() < deadline, f"{DAG_ID} not parsed since {since}: {response.text}"
        time.sleep(2)


@pytest.fixture
def airflow(warehouse: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    """The local Airflow under the production executor, CeleryExecutor (Redis and two workers, each
    with its own temp dir); a run whose files have not landed waits for them all day (due at 23:59).
    The deadline test below runs on scripts/dev's default, LocalExecutor."""
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    with local_airflow(tmp_path, monkeypatch, due_time="23:59") as client:
        yield client


@pytest.fixture
def airflow_short_deadline(
    warehouse: str, inbox: Inbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[httpx.Client]:
    """The local Airflow with the daily run's deadline at 15 seconds and mail going to ``inbox``."""
    monkeypatch.setenv("SAP_WAREHOUSE_DEADLINES", "on")
    monkeypatch.setenv("SAP_WAREHOUSE_DAILY_DEADLINE_MINUTES", "0.25")
    with local_airflow(tmp_path, monkeypatch) as client:
        yield client


def wait_for(client: httpx.Client, runs: dict[str, str], timeout: float = 900) -> dict[str, str]:
    """Poll until every run id (mapped to its business date) has finished; their states."""
    deadline = time.monotonic() + timeout
    while True:
        states = {
            run_id: client.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}").json()["state"]
            for run_id in runs
        }
        if all(s in ("success", "failed") for s in states.values()):
            return states
        assert time.monotonic() < deadline, f"runs not finished: {states}"
        time.sleep(3)


def fail_stale_runs(client: httpx.Client, keep: set[str]) -> None:
    """This Airflow's metadata outlives the test: a backfill a stopped scheduler never completed, or a
    run an interrupted test left running, would take the active-run slots of this test's runs."""
    for stale in client.get("/api/v2/backfills", params={"dag_id": DAG_ID, "limit": 100}).json()["backfills"]:
        if stale["completed_at"] is None:
            client.put(f"/api/v2/backfills/{stale['id']}/cancel")
    for state in ("running", "queued"):
        listed = client.get(f"/api/v2/dags/{DAG_ID}/dagRuns", params={"state": state, "limit": 100}).json()
        for run in listed["dag_runs"]:
            if run["dag_run_id"] not in keep:
                client.patch(
                    f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(run['dag_run_id'], safe='')}", json={"state": "failed"}
                )


def test_trigger_backfill_and_range_run_on_two_celery_workers(
    airflow: httpx.Client, warehouse: str, tmp_path: Path
) -> None:
    # Dates after the DAG's start_date, unlikely to have run in this Airflow's metadata before (it
    # outlives the test).
    first = dt.date(2026, 1, 5) + dt.timedelta(days=random.randrange(270))
    days = [first + dt.timedelta(days=i) for i in range(3)]  # one triggered run, a backfill of two
    for day in days:
        exports.write_day(tmp_path / "landing", day, rows=20, seed=17)

    paused = airflow.patch(f"/api/v2/dags/{DAG_ID}", json={"is_paused": False})
    assert paused.status_code == 200, paused.text
    triggered = airflow.post(
        f"/api/v2/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": {"business_date": days[0].isoformat()}}
    )
    assert triggered.status_code == 200, triggered.text
    fail_stale_runs(airflow, keep={triggered.json()["dag_run_id"]})
    # The run of the date being lived now, whose files have not landed: it waits in wait_for_files (as a
    # scheduled run does) while every run below goes on beside it, not behind it. The day after the date
    # due: its files are due at 23:59 plant time the day after it, later than now whatever the hour (the
    # date due itself is past its 23:59 between midnight and 06:00 plant time).
    due = runs.latest_due(dt.datetime.now(dt.UTC)) + dt.timedelta(days=1)
    waiting = airflow.post(
        f"/api/v2/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": {"business_date": due.isoformat()}}
    ).json()["dag_run_id"]
    sensor = f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(waiting, safe='')}/taskInstances/wait_for_files"
    deadline = time.monotonic() + 180
    while airflow.get(sensor).json().get("state") != "up_for_reschedule":
        assert time.monotonic() < deadline, f"the run without files is not waiting: {airflow.get(sensor).text}"
        time.sleep(2)
    # A backfill of the next two dates: one run per data interval, which starts at 06:00 plant time.
    backfill = airflow.post(
        "/api/v2/backfills",
        json={
            "dag_id": DAG_ID,
            "from_date": f"{days[1]}T06:00:00+07:00",
            "to_date": f"{days[-1]}T06:00:00+07:00",
            "reprocess_behavior": "completed",
            "max_active_runs": 1,
        },
    )
    assert backfill.status_code == 200, backfill.text
    expected = {triggered.json()["dag_run_id"]: days[0]}
    deadline = time.monotonic() + 120
    while len(expected) < len(days):
        listed = airflow.get(f"/api/v2/dags/{DAG_ID}/dagRuns", params={"run_type": "backfill", "limit": 100}).json()
        for run in listed["dag_runs"]:
            start = dt.datetime.fromisoformat(run["data_interval_start"]).astimezone(dt.timezone(dt.timedelta(hours=7)))
            if start.date() in days[1:]:
                expected[run["dag_run_id"]] = start.date()
        assert time.monotonic() < deadline, f"the backfill created {len(expected) - 1} runs, not {len(days) - 1}"
        time.sleep(2)

    states = wait_for(airflow, expected)
    assert set(states.values()) == {"success"}, states
    deadline = time.monotonic() + 120
    while airflow.get(f"/api/v2/backfills/{backfill.json()['id']}").json()["completed_at"] is None:
        assert time.monotonic() < deadline, "the scheduler did not complete the backfill"
        time.sleep(2)
    with psycopg.connect(warehouse) as conn:
        loaded = {
            r[0] for r in conn.execute("SELECT business_date FROM operations.etl_file_ledger WHERE status = 'loaded'")
        }
        reconciled = {
            r[0]
            for r in conn.execute(
                "SELECT business_date FROM operations.etl_run_log WHERE step = 'reconcile' AND dag_id = %s", (DAG_ID,)
            )
        }
    assert set(days) <= loaded
    assert set(days) <= reconciled

    # A range run of the next two dates: one run, as the Params form or an on-call script starts it.
    more = [days[-1] + dt.timedelta(days=i) for i in (1, 2)]
    for day in more:
        exports.write_day(tmp_path / "landing", day, rows=20, seed=17)
    conf = {"business_date": more[0].isoformat(), "business_date_to": more[1].isoformat()}
    ranged = airflow.post(f"/api/v2/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": conf})
    assert ranged.status_code == 200, ranged.text
    assert wait_for(airflow, {ranged.json()["dag_run_id"]: more[0]}) == {ranged.json()["dag_run_id"]: "success"}
    with psycopg.connect(warehouse) as conn:
        loaded = {
            r[0]
            for r in conn.execute(
                "SELECT business_date FROM operations.etl_file_ledger WHERE status = 'loaded' AND run_id = %s",
                (ranged.json()["dag_run_id"],),
            )
        }
        built = conn.execute(
            "SELECT business_date, details->>'through' FROM operations.etl_run_log "
            "WHERE step = 'reconcile' AND run_id = %s",
            (ranged.json()["dag_run_id"],),
        ).fetchall()
    assert loaded == set(more)
    assert built == [(more[0], more[1].isoformat())]
    still = airflow.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(waiting, safe='')}").json()["state"]
    airflow.patch(f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(waiting, safe='')}", json={"state": "failed"})
    assert still == "running", "every run above finished while the run without files still waited"
    # Every run above went through the broker, and both workers took tasks: no task needed the
    # machine (or the temp dir) another task ran on.
    run_dir = Path(os.environ["WAREHOUSE_LOCAL_DIR"]) / "airflow" / "run"
    received = {n: (run_dir / f"worker-{n}.log").read_text().count("] received") for n in (1, 2)}
    assert all(received.values()), received


def test_a_run_past_its_deadline_mails_on_call_once(airflow_short_deadline: httpx.Client, inbox: Inbox) -> None:
    client = airflow_short_deadline
    assert client.patch(f"/api/v2/dags/{DAG_ID}", json={"is_paused": False}).status_code == 200
    # A date whose files are not due yet: the run waits for them (reschedule mode), past its deadline.
    day = dt.date.today() + dt.timedelta(days=30)
    triggered = client.post(
        f"/api/v2/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": {"business_date": day.isoformat()}}
    )
    assert triggered.status_code == 200, triggered.text
    run_id = triggered.json()["dag_run_id"]
    try:

        def mails() -> list:
            return [m for _, m in inbox.messages if run_id in m["Subject"]]

        deadline = time.monotonic() + 240
        while not mails():
            subjects = [m["Subject"] for _, m in inbox.messages]
            assert time.monotonic() < deadline, f"no deadline mail for {run_id}: {subjects}"
            time.sleep(2)
        time.sleep(10)  # a second scheduler loop must not send it again
        (mail,) = mails()
        assert mail["Subject"] == f"[warehouse] {DAG_ID} run {run_id} missed its deadline"
        assert f"business date {day}" in mail.get_body(("html", "plain")).get_content()
        run = client.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}").json()
        assert run["state"] in ("queued", "running"), "the deadline mail must come while the run is unfinished"
    finally:
        client.patch(f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}", json={"state": "failed"})
