"""Every DAG loads, is the one we expect, and follows the house rules."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from airflow.dag_processing.dagbag import DagBag

from sap_warehouse.dag_support import DAILY_ACTIVE_RUNS, FailureNotifier

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DAGS = PROJECT_ROOT / "dags"
EXPECTED_DAG_IDS = {"sap_warehouse_daily", "warehouse_backup", "warehouse_maintenance", "warehouse_retention"}


@pytest.fixture(scope="module")
def dagbag() -> DagBag:
    return DagBag(dag_folder=str(DAGS))


def test_expected_dags_load_without_errors(dagbag: DagBag) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == EXPECTED_DAG_IDS


def test_dags_have_owner_tags_docs_retries_and_pool(dagbag: DagBag) -> None:
    pools = {
        p["pool_name"] for p in yaml.safe_load((PROJECT_ROOT / "airflow_settings.yaml").read_text())["airflow"]["pools"]
    }
    for dag_id in EXPECTED_DAG_IDS:
        dag = dagbag.get_dag(dag_id)
        assert dag.tags, dag_id
        assert dag.doc_md, dag_id
        assert dag.description, f"{dag_id}: the DAG list shows its description"
        # Maintenance DAGs run one at a time. The daily DAG's scheduled run may wait hours in
        # wait_for_files: a re-run or a range run must not queue behind it (the warehouse's per-date
        # locks keep runs of the same dates apart; tests/db/test_concurrency.py).
        assert dag.max_active_runs == (DAILY_ACTIVE_RUNS if dag_id == "sap_warehouse_daily" else 1), dag_id
        for task in dag.tasks:
            assert task.doc_md, f"{dag_id}.{task.task_id}: the task's page shows its doc"
            # A dict result is one XCom (what the task returned), not a key per entry.
            assert getattr(task, "multiple_outputs", False) is False, f"{dag_id}.{task.task_id}"
            assert task.owner not in ("", "airflow"), task.task_id
            assert task.retries >= 1, task.task_id
            # Each task's own callbacks, not only DEFAULT_ARGS: a task that sets its own on_failure_callback
            # must keep the notifier.
            callbacks = task.on_failure_callback or []
            callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
            assert any(isinstance(c, FailureNotifier) for c in callbacks), f"{dag_id}.{task.task_id} fails silently"
            assert task.pool in pools, f"{task.task_id} uses pool {task.pool!r} not in airflow_settings.yaml"


def test_daily_dag_builds_every_layer_in_order(dagbag: DagBag) -> None:
    dag = dagbag.get_dag("sap_warehouse_daily")
    from sap_warehouse.core.model import facts

    for fact in facts():
        task = dag.get_task(f"build_{fact}")
        assert {"reconcile", "quality_gate_facts"} <= task.downstream_task_ids, fact
    assert dag.get_task("build_fact_production_chain").upstream_task_ids == {
        "build_fact_production",
        "resolve_business_date",
    }
    assert dag.get_task("reconcile").downstream_task_ids == {"refresh_views"}
    assert dag.get_task("quality_gate_facts").downstream_task_ids == {"refresh_views"}
    # The raw gate stands between the raw load and everything built from it.
    assert dag.get_task("record_missing_reports").downstream_task_ids == {"quality_gate_raw"}
    assert dag.get_task("report_late_files").upstream_task_ids == {"discover_files", "resolve_business_date"}
    assert dag.get_task("report_late_files").downstream_task_ids == {"quality_gate_raw"}
    assert dag.get_task("quality_gate_raw").downstream_task_ids == {"build_dimensions"}
    assert dag.get_task("refresh_views").downstream_task_ids == {"evaluate_alerts"}
    assert dag.get_task("evaluate_alerts").downstream_task_ids == {"notify_alerts"}
    first = {f"build_{name}" for name, fact in facts().items() if not fact.after}  # the facts that read no other
    assert first == dag.get_task("build_dimensions").downstream_task_ids


def test_daily_dag_takes_one_date_or_a_range_in_its_params_form(dagbag: DagBag) -> None:
    params = dagbag.get_dag("sap_warehouse_daily").params
    for name in ("business_date", "business_date_to"):
        assert params.get_param(name).schema == {
            **params.get_param(name).schema,
            "type": ["null", "string"],
            "format": "date",
        }, name
        assert params[name] is None, f"{name} defaults to empty: a scheduled run takes its data interval"
    assert "range" in params.get_param("business_date_to").schema["title"]


AUDIT = r"""
import importlib.util, json, sys
import airflow.sdk, pendulum  # what any DAG file imports; warmed before watching

# The interpreter and libraries reading their own files (time zone data, /dev/null) is not the
# DAG file doing I/O; landing files, include/ config, sockets to a database are.
SYSTEM = (sys.prefix, sys.base_prefix, "/usr/share/zoneinfo", "/dev/null", "/etc/localtime")
events = []
def hook(event, args):
    if event == "socket.connect":
        events.append([event, str(args[1])])
    elif event == "open" and isinstance(args[0], str) and not args[0].endswith((".py", ".pyc", ".so")):
        if not args[0].startswith(SYSTEM):
            events.append([event, args[0]])
sys.addaudithook(hook)
spec = importlib.util.spec_from_file_location("dag_under_test", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps(events))
"""


@pytest.mark.parametrize("dag_file", sorted(DAGS.glob("*.py")), ids=lambda p: p.name)
def test_dag_file_does_no_io_at_parse_time(dag_file: Path) -> None:
    out = subprocess.run([sys.executable, "-c", AUDIT, str(dag_file)], capture_output=True, text=True, check=True)
    events = json.loads(out.stdout.strip().splitlines()[-1])
    assert events == [], f"{dag_file.name} opens files or connects while being parsed: {events}"


def test_there_are_dag_files() -> None:
    assert sorted(p.stem for p in DAGS.glob("*.py")) == sorted(EXPECTED_DAG_IDS), "one DAG per file, named by its id"


def test_the_fact_builds_sit_in_one_task_group(daily_dag) -> None:
    from sap_warehouse.core.model import facts

    group = daily_dag.task_group_dict["facts"]
    assert {task.task_id for task in group} == {f"build_{fact}" for fact in facts()}
    assert daily_dag.get_task("build_fact_billing").task_group.group_id == "facts"


def test_scheduled_runs_name_their_business_date(dagbag: DagBag) -> None:
    """The daily DAG's timetable survives serialisation (registered by the plugin) and the run id the
    scheduler takes from it says which business date a scheduled run processes; other runs keep
    Airflow's ids (a manual run's dates may come from its Params)."""
    import pendulum
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.utils.types import DagRunType

    stored = DagSerialization.from_dict(DagSerialization.to_dict(dagbag.get_dag("sap_warehouse_daily")))
    timetable = stored.timetable
    due = pendulum.datetime(2026, 3, 11, 6, tz="Asia/Ho_Chi_Minh")  # the run of 2026-03-10
    interval = timetable.infer_manual_data_interval(run_after=due.add(hours=3))
    assert interval.start == due.subtract(days=1)
    scheduled = timetable.generate_run_id(run_type=DagRunType.SCHEDULED, run_after=due, data_interval=interval)
    assert scheduled == "scheduled__2026-03-10__at_2026-03-11T06:00:00+07:00"
    manual = timetable.generate_run_id(run_type=DagRunType.MANUAL, run_after=due, data_interval=interval)
    assert manual == "manual__2026-03-11T06:00:00+07:00"  # Airflow's own: when it may start
