"""The daily DAG, run for real with dag.test(), against totals computed from the generated truth."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from airflow.dag_processing.dagbag import DagBag

from sap_warehouse.generator import Movement, write_mb51_days
from tests.conftest import warehouse_checksums

PROJECT_ROOT = Path(__file__).resolve().parents[1]
FIRST, SECOND = dt.date(2026, 1, 5), dt.date(2026, 1, 6)
# What each movement type means, written out independently of include/config/site.yaml.
CATEGORY = {"101": "receipt", "102": "receipt", "261": "production_issue", "262": "production_issue",
            "601": "delivery", "602": "delivery", "311": "transfer", "351": "transfer", "413": "transfer"}  # fmt: skip


@pytest.fixture
def landing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "landing"
    monkeypatch.setenv("AIRFLOW_VAR_SAP_LANDING_PATH", f"file://{root}")
    monkeypatch.setenv("AIRFLOW_VAR_SAP_QUARANTINE_PATH", f"file://{tmp_path / 'quarantine'}")
    return root


@pytest.fixture(scope="module")
def daily_dag():
    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    assert "sap_warehouse_daily" in bag.dag_ids
    return bag.get_dag("sap_warehouse_daily")


def run(dag, day: dt.date) -> str:
    return str(dag.test(run_conf={"business_date": day.isoformat()}).state)


def expected_facts(movements: list[Movement]) -> dict[tuple, dict]:
    facts: dict[tuple, dict] = defaultdict(lambda: defaultdict(Decimal))
    for m in movements:
        row = facts[(m.posting_date, m.material, m.plant, m.storage_location, m.unit)]
        row["net_qty"] += m.quantity
        row[CATEGORY[m.movement_type] + "_qty"] += m.quantity
        row["movement_count"] += 1
    return facts


def test_daily_run_builds_fact_inventory_from_the_exports(warehouse: str, landing: Path, daily_dag) -> None:
    written = write_mb51_days(landing, FIRST, SECOND, rows=800, seed=11)
    movements = written[FIRST] + written[SECOND]
    assert any(m.posting_date < SECOND for m in written[SECOND]), "fixture needs late postings"

    assert run(daily_dag, FIRST) == "success"
    assert run(daily_dag, SECOND) == "success"

    expected = expected_facts(movements)
    with psycopg.connect(warehouse) as conn:
        rows = conn.execute(
            "SELECT movement_date, material_code, plant, storage_location, unit, net_qty, receipt_qty, "
            "production_issue_qty, delivery_qty, transfer_qty, movement_count FROM facts.fact_inventory"
        ).fetchall()
        view = dict(
            ((r[0], r[1], r[2], r[3]), r[4])
            for r in conn.execute(
                "SELECT material_code, plant, storage_location, unit, on_hand_qty FROM marts.view_inventory_summary"
            )
        )
        ledger = conn.execute(
            "SELECT business_date, status, rows_read, rows_inserted FROM operations.etl_file_ledger ORDER BY 1"
        ).fetchall()
    actual = {
        r[:5]: {"net_qty": r[5], "receipt_qty": r[6], "production_issue_qty": r[7], "delivery_qty": r[8],
                "transfer_qty": r[9], "movement_count": r[10]}
        for r in rows
    }  # fmt: skip
    assert set(actual) == set(expected)
    for key, want in expected.items():
        for measure, value in want.items():
            assert actual[key][measure] == value, (key, measure)
    on_hand: dict[tuple, Decimal] = defaultdict(Decimal)
    for m in movements:
        on_hand[(m.material, m.plant, m.storage_location, m.unit)] += m.quantity
    assert view == dict(on_hand)
    assert ledger == [(FIRST, "loaded", len(written[FIRST]), len(written[FIRST])),
                      (SECOND, "loaded", len(written[SECOND]), len(written[SECOND]))]  # fmt: skip


def test_rerunning_a_date_leaves_the_warehouse_identical(warehouse: str, landing: Path, daily_dag) -> None:
    write_mb51_days(landing, FIRST, SECOND, rows=300, seed=12)
    assert run(daily_dag, FIRST) == "success"
    assert run(daily_dag, SECOND) == "success"
    before = warehouse_checksums(warehouse)

    assert run(daily_dag, SECOND) == "success"
    assert run(daily_dag, FIRST) == "success"

    assert warehouse_checksums(warehouse) == before


def test_a_bad_file_is_quarantined_and_the_day_still_loads(warehouse: str, landing: Path, daily_dag) -> None:
    written = write_mb51_days(landing, FIRST, FIRST, rows=200, seed=13)
    (landing / FIRST.isoformat() / "0000-broken.xlsx").write_bytes(b"PK\x03\x04 truncated")

    assert run(daily_dag, FIRST) == "success"

    with psycopg.connect(warehouse) as conn:
        statuses = conn.execute(
            "SELECT file_name, status FROM operations.etl_file_ledger ORDER BY file_name"
        ).fetchall()
        raw_rows = conn.execute("SELECT count(*) FROM raw.raw_mb51").fetchone()[0]
    assert statuses[0] == ("0000-broken.xlsx", "quarantined")
    assert statuses[1][1] == "loaded"
    assert raw_rows == len(written[FIRST])
    assert (landing.parent / "quarantine" / FIRST.isoformat() / "0000-broken.xlsx").exists()
