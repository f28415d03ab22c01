"""What on-call reads, on a generated plant through the real daily DAG: a healthy plant opens no critical
alert and holds no negative stock; stock has its count as baseline, and without one it is unknown, not
0; each planted condition opens exactly one alert of its rule; the summary's headline follows the new
criticals."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from sap_warehouse.core.registry import daily_reports
from sap_warehouse.signals import summary
from sap_warehouse_kit import exports, stock
from sap_warehouse_kit.generator import DC, FACTORY, MATERIALS
from tests.helpers import query

FIRST = dt.date(2026, 3, 6)  # a Friday: counted on the first generated date, and again on Monday 9th
MONDAY = dt.date(2026, 3, 9)
PLANTED = dt.date(2026, 3, 10)
SEED = 23
ROWS = 40


def _run(dag, first: dt.date, last: dt.date | None = None):
    conf = {"business_date": first.isoformat(), "business_date_to": last.isoformat() if last else None}
    return dag.test(run_conf=conf)


def _opened(warehouse: str, run_id: str) -> list[tuple]:
    """(rule, entity, severity) of the alerts a run opened."""
    return query(
        warehouse,
        "SELECT a.rule_code, a.entity_key, a.severity FROM facts.fact_alert a "
        "WHERE a.first_seen_at >= (SELECT min(started_at) FROM operations.etl_run_log WHERE run_id = %s) "
        "ORDER BY 1, 2",
        run_id,
    )


@pytest.mark.usefixtures("as_loader")
def test_a_healthy_plant_is_quiet_and_each_planted_condition_opens_its_one_alert(
    warehouse: str, landing: Path, daily_dag, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_SAP_EXPECTED_REPORTS", ",".join(daily_reports()))
    for offset in range(4):
        exports.write_day(landing, FIRST + dt.timedelta(days=offset), ROWS, SEED, first=FIRST)
    exports.write_day(landing, PLANTED, ROWS, SEED, first=FIRST, inject=exports.CONDITIONS)

    healthy = _run(daily_dag, FIRST, MONDAY)
    assert str(healthy.state) == "success"
    # A healthy plant: nothing critical, no position below zero, every count agrees with its movements.
    severities = Counter(r[0] for r in query(warehouse, "SELECT severity FROM facts.fact_alert"))
    assert severities["critical"] == 0, query(warehouse, "SELECT rule_code, message FROM facts.fact_alert")
    positions = query(
        warehouse,
        "SELECT count(*), count(on_hand_qty), count(*) FILTER (WHERE on_hand_qty < 0), "
        "count(*) FILTER (WHERE stock_basis = 'counted 2026-03-09') FROM marts.view_inventory_summary",
    )[0]
    assert positions[0] > 0
    assert positions[1] == positions[0]  # every position has a baseline
    assert positions[2] == 0  # and none is below zero
    assert positions[3] == positions[0]  # every position's baseline is Monday's count
    drift = query(
        warehouse,
        "SELECT snapshot_date, count(*), count(*) FILTER (WHERE difference_qty <> 0) "
        "FROM marts.view_stock_reconciliation GROUP BY 1",
    )
    assert [(d, n > 0, off) for d, n, off in drift] == [(MONDAY, True, 0)]
    # The generated stock as of Monday is the plant's level: count + movements of every day between.
    on_hand = dict(
        ((m, p, s), q)
        for m, p, s, q in query(
            warehouse, "SELECT material_code, plant, storage_location, on_hand_qty FROM marts.view_inventory_summary"
        )
    )
    for position in stock.STOCKED:
        assert on_hand[position] == stock.level(position, MONDAY, SEED), position
    headline = summary.collect(MONDAY, run_id=healthy.run_id, expected=daily_reports(), conninfo=warehouse)
    assert headline["headline"] == "OK"

    planted = _run(daily_dag, PLANTED)
    assert str(planted.state) == "success"
    opened = _opened(warehouse, planted.run_id)
    assert Counter(rule for rule, _, _ in opened) == Counter(exports.CONDITIONS), opened
    entities = {rule: (entity, severity) for rule, entity, severity in opened}
    goods = [code for code, _, _, level in MATERIALS if level == "FG"]
    assert entities["low_stock"] == (f"{goods[0]}@{DC}", "critical")
    assert entities["negative_stock"] == (f"{goods[1]}@{DC}/1002/PC", "warning")
    assert entities["stock_drift"] == (f"{goods[0]}@{FACTORY}/0101/PC", "warning")
    assert entities["stuck_transit"] == ("sto:4599999801/00010", "critical")
    assert entities["low_yield"][1] == "critical"
    assert entities["ar_overdue"][1] == "critical"
    # Drift where planted and nowhere else: the count found a tenth and 50 more than the books expect.
    (found,) = query(
        warehouse,
        "SELECT material_code, plant, storage_location, expected_qty, counted_qty FROM marts.view_stock_reconciliation "
        "WHERE snapshot_date = %s AND difference_qty <> 0",
        PLANTED,
    )
    expected = stock.level((goods[0], FACTORY, "0101"), PLANTED, SEED)
    assert found[:4] == (goods[0], FACTORY, "0101", expected)
    assert found[4] - expected >= Decimal(50)
    criticals = sum(severity == "critical" for _, _, severity in opened)
    since = query(warehouse, "SELECT min(started_at) FROM operations.etl_run_log WHERE run_id = %s", planted.run_id)
    told = summary.collect(
        PLANTED, run_id=planted.run_id, expected=daily_reports(), since=since[0][0], conninfo=warehouse
    )
    assert told["headline"] == f"ATTENTION: {criticals} new critical"


@pytest.mark.usefixtures("as_loader")
def test_stock_without_a_count_is_unknown_and_judged_by_no_rule(warehouse: str, landing: Path, daily_dag) -> None:
    """Movements alone (no MB52 yet): every position's on-hand is NULL ("no baseline") with its net
    movement beside it, never 0 and never negative; no stock alert opens."""
    written = exports.write_day(landing, FIRST, ROWS, SEED, inject=("negative_stock",))
    assert "mb52" not in written
    assert str(_run(daily_dag, FIRST).state) == "success"
    net: dict[tuple, Decimal] = {}
    for m in written["mb51"]:
        key = (m.material, m.plant, m.storage_location or "#")
        net[key] = net.get(key, Decimal(0)) + m.quantity
    rows = query(
        warehouse,
        "SELECT material_code, plant, storage_location, on_hand_qty, stock_value, stock_basis, window_net_qty "
        "FROM marts.view_inventory_summary",
    )
    assert {(m, p, s): w for m, p, s, _, _, _, w in rows} == net
    assert {(q, v, basis) for _, _, _, q, v, basis, _ in rows} == {(None, None, "no baseline")}
    assert min(net.values()) < 0  # the planted issue: a sum of movements below zero, which is no stock
    rules = {r[0] for r in query(warehouse, "SELECT rule_code FROM facts.fact_alert")}
    assert not rules & {"low_stock", "negative_stock", "stock_drift"}
