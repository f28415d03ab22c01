"""Alerts with a lifecycle, on generated data with each condition planted: four business dates through
the functions the daily DAG's tasks call (load, build, evaluate), the alert table read after each."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from sap_warehouse.signals import alerts
from sap_warehouse_kit import exports, stock
from sap_warehouse_kit.generator import DC, FACTORY, Movement, mb51_workbook
from sap_warehouse_kit.scratch_db import create_database, drop_database
from tests.helpers import Inbox, build_day, free_port, load_day, table_checksum

D1, D2, D3, D4 = (dt.date(2026, 4, 6) + dt.timedelta(days=i) for i in range(4))
SEED = 31
STOCK_MAT = "1000099999"  # not in the material master until D3; safety stock 150 at the DC
NEG_MAT = "1000099998"  # issued at the DC on D2 without stock; received on D3
FG = "1000012345"
STO_WARN, STO_CRIT = ("4599990001", "00010"), ("4599990002", "00010")
WARN_KEY, CRIT_KEY = ("stuck_transit", "sto:4599990001/00010"), ("stuck_transit", "sto:4599990002/00010")
BATCH = "TBATCH0001"  # finished D1 - 2, left the factory D1, reached the DC D3
AR_CRIT, AR_WARN = "0019999991", "0019999992"


def sto(day: dt.date, order: tuple[str, str], gi_date: dt.date, **changes) -> dict:
    row = dict(exports.sto_rows(day, 1, SEED)[0])
    row.update(
        purch_order=order[0],
        item=order[1],
        gi_date=gi_date,
        qty_gi=Decimal(40),
        qty_intransit=Decimal(40),
        safety_stock=Decimal(0),
    )
    row.update(changes)
    row["__cells__"] = {"mat_doc_gi": row["mat_doc_gi"], "so_number": "Summary", "gr_status": ""}
    return row


def order(number: str, *, mrp: str, material: str, batch: str, finished: dt.date, delivered: int) -> dict:
    row = dict(exports.cooispi_rows(D1, 3, SEED)[0])
    row.update(
        order_number=number,
        mrp_controller=mrp,
        material_number=material,
        batch=batch,
        actual_finish_date=finished,
        order_quantity=Decimal(100),
        delivered_quantity=Decimal(delivered),
        unit_of_measure="PC",
        system_status="TECO DLV",
        __cells__={},
    )
    return row


def movement(
    day: dt.date, doc: str, mvt: str, plant: str, sloc: str, material: str, qty: int, batch: str = ""
) -> Movement:
    return Movement(day, mvt, plant, sloc, material, "PC", Decimal(qty), doc, batch, "kiểm thử cảnh báo", "")


def ar(day: dt.date, customer: str, *, over_180: int, days_91_120: int) -> dict:
    row = dict(exports.zrfi005_rows(day, SEED)[0])
    zero = Decimal(0)
    row.update(
        customer_code=customer,
        customer_name=f"Khách hàng {customer}",
        target_1_30_days=zero,
        target_31_60_days=zero,
        target_61_90_days=zero,
        target_91_120_days=Decimal(days_91_120),
        target_121_180_days=zero,
        target_over_180_days=Decimal(over_180),
        total_target=Decimal(over_180 + days_91_120),
        realization_1_30_days=zero,
        realization_31_60_days=zero,
        realization_61_90_days=zero,
        realization_91_120_days=zero,
        realization_121_180_days=zero,
        realization_over_180_days=zero,
        total_realization=zero,
    )
    return row


def plant(landing: Path, day: dt.date) -> None:
    """The day's planted conditions, as extra export files next to the generated ones."""
    folder = landing / day.isoformat()
    files: dict[str, bytes] = {}
    safety = sto(
        D1,
        ("4599999999", "00010"),
        D1,
        material=STOCK_MAT,
        dest_plant=DC,
        uom_od="PC",
        safety_stock=Decimal(150),
        qty_intransit=Decimal(0),
    )
    if day == D1:
        files["zrmm024"] = exports.render(
            "zrmm024",
            [sto(D1, STO_WARN, D1 - dt.timedelta(days=9)), sto(D1, STO_CRIT, D1 - dt.timedelta(days=20)), safety],
            SEED,
        )
        files["cooispi"] = exports.render(
            "cooispi",
            [
                order("0019999990001", mrp="P03", material="000300001", batch="TYIELD0001", finished=D1, delivered=60),
                order("0019999990002", mrp="P03", material="000300002", batch="TYIELD0002", finished=D1, delivered=75),
                order("0019999990003", mrp="P03", material="000300003", batch="TYIELD0003", finished=D1, delivered=83),
                order(
                    "0019999990004",
                    mrp="P01",
                    material=FG,
                    batch=BATCH,
                    finished=D1 - dt.timedelta(days=2),
                    delivered=100,
                ),
            ],
            SEED,
        )
        moves = [
            movement(D1, "4999999001", "351", FACTORY, "0201", FG, -100, BATCH),
            movement(D1, "4999999002", "101", DC, "1001", STOCK_MAT, 100),
        ]
        # The DC's stock count at the end of D1, the baseline of its stock: the generated plant's
        # positions at their levels, and the 100 STOCK_MAT received that day.
        count = [r for r in stock.mb52_rows(D1, SEED, {}) if r["plant"] == DC]
        count.append(
            dict(
                count[0],
                material=STOCK_MAT,
                storage_location="1001",
                batch="",
                unrestricted=Decimal(100),
                in_quality_insp=Decimal(0),
                blocked=Decimal(0),
            )
        )
        files["mb52"] = exports.render("mb52", count, SEED)
    elif day == D2:
        moves = [
            movement(D2, "4999999004", "601", DC, "1001", STOCK_MAT, -40),
            movement(D2, "4999999003", "601", DC, "1002", NEG_MAT, -30),
        ]
    elif day == D3:
        received = [
            exports.sto_received(sto(D1, o, D1 - dt.timedelta(days=d)), D3) for o, d in ((STO_WARN, 9), (STO_CRIT, 20))
        ]
        files["zrmm024"] = exports.render("zrmm024", received, SEED)
        files["cooispi"] = exports.render(
            "cooispi",
            [
                order("0019999990001", mrp="P03", material="000300001", batch="TYIELD0001", finished=D1, delivered=95),
            ],
            SEED,
        )
        master = [dict(exports.zrsd006_rows()[0], material_code=m) for m in (STOCK_MAT, NEG_MAT)]
        files["zrsd006"] = exports.render("zrsd006", master, SEED)
        moves = [
            movement(D3, "4999999005", "101", DC, "1001", FG, 100, BATCH),
            movement(D3, "4999999006", "101", DC, "1001", STOCK_MAT, 500),
            movement(D3, "4999999007", "101", DC, "1002", NEG_MAT, 30),
        ]
    else:
        moves = []
    if day in (D1, D2):
        rows = [
            ar(day, AR_CRIT, over_180=5_000_000, days_91_120=0),
            ar(day, AR_WARN, over_180=0, days_91_120=2_000_000),
        ]
    else:
        rows = [ar(day, AR_CRIT, over_180=0, days_91_120=0), ar(day, AR_WARN, over_180=0, days_91_120=0)]
    files["zrfi005"] = exports.render("zrfi005", rows, SEED)
    if moves:
        files["mb51"] = mb51_workbook(moves, SEED, header_row_zero=False)
    for code, data in files.items():
        (folder / f"planted-{code}.xlsx").write_bytes(data)


def alert_rows(url: str) -> dict[tuple[str, str], list[dict]]:
    """Every alert, by (rule, entity), oldest first."""
    with psycopg.connect(url) as conn:
        cur = conn.execute("SELECT * FROM facts.fact_alert ORDER BY alert_id")
        names = [c.name for c in cur.description]
        out: dict[tuple[str, str], list[dict]] = {}
        for row in cur.fetchall():
            alert = dict(zip(names, row, strict=True))
            out.setdefault((alert["rule_code"], alert["entity_key"]), []).append(alert)
    return out


def run_day(url: str, landing: Path, day: dt.date) -> dict:
    load_day(url, landing / day.isoformat(), day)
    build_day(url, day)
    return alerts.evaluate(day, conninfo=url)


@pytest.fixture(scope="module")
def history(migrated_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, dict]]:
    """Four dates run in order, the critical transport order acknowledged after the first; the
    alerts after each date."""
    name = f"wh_alerts_{uuid.uuid4().hex[:10]}"
    url = create_database(name, template=migrated_template)
    landing = tmp_path_factory.mktemp("landing")
    seen = {}
    for day in (D1, D2, D3, D4):
        exports.write_day(landing, day, rows=20, seed=SEED)
        plant(landing, day)
        run_day(url, landing, day)
        seen[day] = alert_rows(url)
        if day == D1:
            alerts.acknowledge(seen[D1][CRIT_KEY][0]["alert_id"], "oncall", conninfo=url)
    yield url, landing, seen
    drop_database(name)


def states(seen: dict, key: tuple[str, str]) -> list[tuple]:
    """(alert id, status, severity, value) of the entity's alerts on each date; None before the first."""
    out = []
    for day in (D1, D2, D3, D4):
        rows = seen[day].get(key, [])
        assert len(rows) <= 1, f"{key} has {len(rows)} alerts on {day}: one per problem"
        out.append(
            (rows[0]["alert_id"], rows[0]["status"], rows[0]["severity"], rows[0]["current_value"]) if rows else None
        )
    return out


def test_transport_orders_in_transit_too_long_alert_until_received(history) -> None:
    _, _, seen = history
    warn = states(seen, WARN_KEY)
    crit = states(seen, CRIT_KEY)
    assert [s[1:] for s in warn] == [
        ("active", "warning", 9),
        ("active", "warning", 10),
        ("resolved", "warning", 10),
        ("resolved", "warning", 10),
    ]
    assert [s[1:] for s in crit] == [
        ("active", "critical", 20),
        ("acknowledged", "critical", 21),
        ("resolved", "critical", 21),
        ("resolved", "critical", 21),
    ]
    assert len({s[0] for s in warn}) == len({s[0] for s in crit}) == 1, "the same alert from first seen to resolved"
    resolved = seen[D3][CRIT_KEY][0]
    assert (resolved["resolved_business_date"], resolved["acknowledged_by"]) == (D3, "oncall")
    assert (resolved["first_business_date"], resolved["last_business_date"]) == (D1, D2)


def test_a_batch_late_at_the_distribution_centre_escalates_and_resolves_after_arrival(history) -> None:
    _, _, seen = history
    batch = states(seen, ("stuck_transit", f"batch:{FG}/{BATCH}"))
    # Finished D1 - 2: 48 h on D1 is not late; 72 h on D2 is; it arrives on D3 after 96 h (critical).
    assert batch[0] is None
    assert [s[1:] for s in batch[1:]] == [
        ("active", "warning", 72),
        ("active", "critical", 96),
        ("resolved", "critical", 96),
    ]
    assert len({s[0] for s in batch[1:]}) == 1
    assert "reached the distribution centre" in seen[D3][("stuck_transit", f"batch:{FG}/{BATCH}")][0]["message"]


def test_low_yield_severity_follows_the_yield_and_clears_when_corrected(history) -> None:
    _, _, seen = history
    critical = states(seen, ("low_yield", "order:19999990001"))
    assert [s[1:] for s in critical] == [
        ("active", "critical", 60),
        ("active", "critical", 60),
        ("resolved", "critical", 60),
        ("resolved", "critical", 60),
    ]
    assert [s[1:] for s in states(seen, ("low_yield", "order:19999990002"))] == [("active", "warning", 75)] * 4
    assert [s[1:] for s in states(seen, ("low_yield", "order:19999990003"))] == [("active", "info", 83)] * 4


def test_low_stock_warns_then_turns_critical_then_clears(history) -> None:
    _, _, seen = history
    low = states(seen, ("low_stock", f"{STOCK_MAT}@{DC}"))
    assert [s[1:] for s in low] == [
        ("active", "warning", 100),
        ("active", "critical", 60),
        ("resolved", "critical", 60),
        ("resolved", "critical", 60),
    ]
    assert seen[D2][("low_stock", f"{STOCK_MAT}@{DC}")][0]["threshold_value"] == 150


def test_overdue_receivables_alert_by_bucket_until_paid(history) -> None:
    _, _, seen = history
    assert [s[1:] for s in states(seen, ("ar_overdue", f"{AR_CRIT}/VND"))] == [
        ("active", "critical", 5_000_000),
        ("active", "critical", 5_000_000),
        ("resolved", "critical", 5_000_000),
        ("resolved", "critical", 5_000_000),
    ]
    assert [s[1:3] for s in states(seen, ("ar_overdue", f"{AR_WARN}/VND"))] == [
        ("active", "warning"),
        ("active", "warning"),
        ("resolved", "warning"),
        ("resolved", "warning"),
    ]


def condition(seen: dict, day: dt.date, rule: str, entity: str) -> tuple | None:
    """(severity, value) of the entity's open condition on ``day``: its own alert, or its line in the
    rule's grouped alert when the rule flooded (the alert budget); None when it holds no more."""
    own = [a for a in seen[day].get((rule, entity), []) if a["status"] != "resolved"]
    if own:
        return own[0]["severity"], own[0]["current_value"]
    group = [a for a in seen[day].get((rule, "group"), []) if a["status"] != "resolved"]
    members = {m["entity_key"]: m for a in group for m in a["details"]["members"]}
    return (members[entity]["severity"], members[entity]["value"]) if entity in members else None


def test_data_alerts_for_negative_stock_and_inferred_master_data(history) -> None:
    _, _, seen = history
    assert [condition(seen, day, "negative_stock", f"{NEG_MAT}@{DC}/1002/PC") for day in (D1, D2, D3, D4)] == [
        None,
        ("warning", -30),
        None,
        None,
    ]
    # The generated plant's own positions are counted at the DC and conserved: none below zero; the
    # factory was never counted, so its positions are not judged at all.
    assert {e for d in (D1, D2, D3, D4) for r, e in seen[d] if r == "negative_stock"} == {f"{NEG_MAT}@{DC}/1002/PC"}
    # One alert for the materials MB51 named first that the master data lacks, until ZRSD006 has them.
    inferred = states(seen, ("inferred_master_data", "materials:mb51"))
    assert [s[1:3] for s in inferred] == [
        ("active", "info"),
        ("active", "info"),
        ("resolved", "info"),
        ("resolved", "info"),
    ]
    assert {STOCK_MAT, NEG_MAT} <= set(seen[D2][("inferred_master_data", "materials:mb51")][0]["details"]["codes"])


def test_rerunning_the_latest_or_an_older_date_changes_no_alert(history) -> None:
    url, landing, _ = history
    with psycopg.connect(url) as conn:
        before = table_checksum(conn, "facts.fact_alert")
    for day in (D4, D2):
        result = run_day(url, landing, day)
        assert result["as_of"] == D4.isoformat()
        assert (result["opened"], result["updated"], result["resolved"]) == (0, 0, 0)
    with psycopg.connect(url) as conn:
        assert table_checksum(conn, "facts.fact_alert") == before


@pytest.fixture
def stuck(warehouse: str, tmp_path: Path) -> tuple[str, Path]:
    """A warehouse holding one transport order in transit for 20 days (critical) and one for 10
    (warning, critical from 14) as of D1."""
    folder = tmp_path / D1.isoformat()
    folder.mkdir()
    rows = [sto(D1, STO_CRIT, D1 - dt.timedelta(days=20)), sto(D1, STO_WARN, D1 - dt.timedelta(days=10))]
    (folder / "zrmm024.xlsx").write_bytes(exports.render("zrmm024", rows, SEED))
    load_day(warehouse, folder, D1)
    return warehouse, tmp_path


def test_new_critical_alerts_are_mailed_once_in_one_message(stuck, inbox: Inbox) -> None:
    url, _ = stuck
    alerts.evaluate(D1, conninfo=url)
    sent = alerts.notify_new_critical({}, conninfo=url)
    assert len(sent) == 1
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["oncall@plant.example"]
    assert message["Subject"] == f"[warehouse] 1 new critical alert as of {D1}"
    assert CRIT_KEY[1] in message.get_body(("html", "plain")).get_content()

    assert alerts.notify_new_critical({}, conninfo=url) == []  # nothing new: nothing sent
    alerts.evaluate(D1 + dt.timedelta(days=1), conninfo=url)  # both persist
    assert alerts.notify_new_critical({}, conninfo=url) == []
    assert len(inbox.messages) == 1

    alerts.evaluate(D1 + dt.timedelta(days=4), conninfo=url)  # the warning reaches 14 days: critical
    assert len(alerts.notify_new_critical({}, conninfo=url)) == 1
    assert len(inbox.messages) == 2
    body = inbox.messages[1][1].get_body(("html", "plain")).get_content()
    assert WARN_KEY[1] in body
    assert CRIT_KEY[1] not in body


def test_without_the_smtp_connection_new_critical_alerts_stay_unannounced(
    stuck, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    url, _ = stuck
    monkeypatch.delenv("AIRFLOW_CONN_WAREHOUSE_SMTP", raising=False)
    alerts.evaluate(D1, conninfo=url)
    with caplog.at_level(logging.WARNING, logger="sap_warehouse.signals.alerts"):
        assert alerts.notify_new_critical({}, conninfo=url) == []
    assert "1 new critical alerts are not e-mailed" in caplog.text
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM facts.fact_alert WHERE notified_at IS NULL").fetchone()[0] == 2


def test_a_broken_smtp_connection_fails_and_leaves_the_alerts_unannounced(
    stuck, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Configured but unable to send (nothing listens on its port): an error, not a quiet green task."""
    url, _ = stuck
    closed = free_port()
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_SMTP", f"smtp://127.0.0.1:{closed}/?disable_ssl=true&disable_tls=true")
    alerts.evaluate(D1, conninfo=url)
    with pytest.raises(OSError, match="Connection refused"):
        alerts.notify_new_critical({}, conninfo=url)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM facts.fact_alert WHERE notified_at IS NULL").fetchone()[0] == 2


def test_acknowledging_needs_an_active_alert(stuck) -> None:
    url, _ = stuck
    alerts.evaluate(D1, conninfo=url)
    with psycopg.connect(url) as conn:
        alert_id = conn.execute("SELECT min(alert_id) FROM facts.fact_alert").fetchone()[0]
    alerts.acknowledge(alert_id, "oncall", conninfo=url)
    with pytest.raises(ValueError, match=f"alert {alert_id} is acknowledged, not active"):
        alerts.acknowledge(alert_id, "oncall", conninfo=url)
    with pytest.raises(ValueError, match="no alert 999999"):
        alerts.acknowledge(999999, "oncall", conninfo=url)


def test_a_link_is_judged_only_where_its_output_can_be_known(warehouse: str) -> None:
    """A P02 -> P01 link whose P01 order produced nothing yet and that no finished export names is
    "not produced yet", not 0 %; a link without a unit conversion has no yield; a finished order that
    delivered nothing, and a link that produced half, are low yields."""
    day = dt.date(2026, 4, 6)
    link = (
        "INSERT INTO facts.fact_production_chain (parent_material, parent_batch, parent_level, child_material, "
        "child_batch, child_order, child_level, link_rule, consumed_qty, produced_qty, consumed_kg, produced_kg, "
        "yield_pct, business_date) VALUES (%s, %s, 'P02', %s, %s, %s, 'P01', 'zrpp062_sfg_liquid', 100, %s, "
        "100, %s, %s, %s)"
    )
    with psycopg.connect(warehouse) as conn:
        for child, order_no, produced, kg, pct in (
            ("NOTYET", "0090000001", 0, 0, 0),  # the P01 order is not in any export yet
            ("FINISHED", "0090000002", 0, 0, 0),  # its order finished with nothing delivered
            ("NOUNIT", "0090000003", 40, None, None),  # no kg per unit: yield unknown
            ("HALF", "0090000004", 50, 50, 50),
        ):
            conn.execute(link, ("2000000001", f"P02{child}", "1000012345", child, order_no, produced, kg, pct, day))
        conn.execute(
            "INSERT INTO facts.fact_production (order_number, order_number_norm, plant, material_code, status, "
            "business_date, actual_finish_date) "
            "VALUES ('0090000002', '90000002', '1201', '1000012345', 'TECO', %s, %s)",
            (day, day),
        )
    alerts.evaluate(day, conninfo=warehouse)
    with psycopg.connect(warehouse) as conn:
        judged = conn.execute(
            "SELECT entity_key, severity FROM facts.fact_alert WHERE rule_code = 'low_yield' ORDER BY 1"
        ).fetchall()
    assert judged == [
        ("link:2000000001/P02FINISHED>1000012345/FINISHED", "critical"),
        ("link:2000000001/P02HALF>1000012345/HALF", "critical"),
    ]


def test_a_flood_of_one_rule_is_one_grouped_alert_listing_every_member(
    warehouse: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """25 quarantined files of one date (over the budget of 20): one quarantined_file alert for the
    group, critical like its members, naming the first ten, every member listed by `sapwh alerts show`;
    when the flood shrinks under the budget, the group resolves and each file is an alert of its own."""
    from sap_warehouse.ingest.raw_load import quarantine_entry

    day = dt.date(2026, 4, 6)
    folder = tmp_path / "landing"
    folder.mkdir()
    for n in range(25):
        path = folder / f"notes-{n:02d}.pdf"
        path.write_bytes(b"%PDF-1.4")
        quarantine_entry(path, f"{path.name}: not an export", day, quarantine_root=tmp_path / "q", conninfo=warehouse)
    result = alerts.evaluate(day, conninfo=warehouse)
    assert (result["opened"], result["grouped"]) == (1, ["quarantined_file"])
    group = alert_rows(warehouse)[("quarantined_file", "group")][0]
    assert (group["severity"], group["current_value"], group["threshold_value"]) == ("critical", 25, 20)
    assert group["message"].startswith("25 quarantined_file conditions (25 critical, 0 warning); the first: ")
    members = group["details"]["members"]
    assert sorted(m["entity_key"] for m in members) == sorted(f"{day}/notes-{n:02d}.pdf" for n in range(25))

    assert alerts.main(["show", str(group["alert_id"]), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [m["entity_key"] for m in shown] == [m["entity_key"] for m in members]

    with psycopg.connect(warehouse) as conn:  # five files were delivered again and loaded meanwhile
        conn.execute("DELETE FROM operations.etl_file_ledger WHERE file_name >= 'notes-20'")
    alerts.evaluate(day, conninfo=warehouse)
    open_now = {key for key, rows in alert_rows(warehouse).items() if rows[-1]["status"] == "active"}
    assert open_now == {("quarantined_file", f"{day}/notes-{n:02d}.pdf") for n in range(20)}


def test_two_thousand_inferred_materials_are_one_info_alert(warehouse: str) -> None:
    day = dt.date(2026, 4, 6)
    with psycopg.connect(warehouse) as conn:
        conn.execute(
            "INSERT INTO dims.dim_material (material_code, is_inferred, source_report) "
            "SELECT 'X' || lpad(n::text, 6, '0'), true, 'mb51' FROM generate_series(1, 2000) n"
        )
        conn.execute(
            "INSERT INTO facts.fact_inventory (movement_date, material_code, plant, storage_location, unit, "
            "receipt_qty, production_issue_qty, delivery_qty, transfer_qty, other_qty, reversal_qty, net_qty, "
            "movement_count) SELECT %s, material_code, '1201', '0001', 'PC', 1, 0, 0, 0, 0, 0, 1, 1 "
            "FROM dims.dim_material WHERE material_code LIKE 'X%%'",
            (day,),
        )
    result = alerts.evaluate(day, conninfo=warehouse)
    inferred = [key for key in alert_rows(warehouse) if key[0] == "inferred_master_data"]
    assert inferred == [("inferred_master_data", "materials:mb51")]
    alert = alert_rows(warehouse)[inferred[0]][0]
    assert (alert["severity"], alert["current_value"]) == ("info", 2000)
    assert alert["message"].startswith("2000 material(s) used by the facts are missing from the material master")
    assert alert["message"].endswith("X000010 and 1990 more (sapwh alerts show <#>)")
    assert len(alert["details"]["codes"]) == 2000
    assert result["conditions"] == {"info": 1}
