"""The warehouse model built from generated exports of every report, through the functions the
daily DAG's tasks call, checked against figures computed here from the generator's truth."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections import defaultdict
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import psycopg
import pytest

from sap_warehouse.build import genealogy, layers
from sap_warehouse.core import model as warehouse_model
from sap_warehouse.core.business_date import DateSpan
from sap_warehouse.signals import alerts
from sap_warehouse_kit import exports
from sap_warehouse_kit.generator import DC, MATERIALS
from sap_warehouse_kit.scratch_db import create_database, drop_database
from tests.helpers import WAREHOUSE_TABLES, build_day, load_day, warehouse_checksums

DAYS = [dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)]
SEED = 23
UNKNOWN = "5000000999"  # billed, but not in the material master
LEVEL_TYPE = {"FG": "FERT", "SFG": "HALB", "RAW": "ROH", "PACK": "VERP"}  # written out, not read from site.yaml


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def kg3(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def has_order_column(day: dt.date) -> bool:
    return day.toordinal() % 2 == 1


def write_days(landing: Path) -> dict[dt.date, dict[str, list]]:
    # The first day also has an order finished at 60 % (a healthy plant's yields are 91-102 %).
    truth = {
        day: exports.write_day(landing, day, rows=60, seed=SEED, inject=("low_yield",) if day == DAYS[0] else ())
        for day in DAYS
    }
    # One billing line of a material the master data lacks (an inferred member), on the middle day.
    day = DAYS[1]
    line = dict(exports.zrsd002_rows(day, exports.zrsd004_rows(day, 60, SEED), SEED)[0])
    line.update(billing_document="9099999999", material=UNKNOWN, description="Sơn mẫu thử", cancelled="", doc_cancel="")
    (landing / day.isoformat() / "extra-billing.xlsx").write_bytes(exports.render("zrsd002", [line], SEED))
    truth[day]["zrsd002"] = truth[day]["zrsd002"] + exports.truth([line])
    return truth


@pytest.fixture(scope="module")
def model(migrated_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict]]:
    """A warehouse with three business dates of every report loaded and built, in date order."""
    name = f"wh_model_{uuid.uuid4().hex[:10]}"
    url = create_database(name, template=migrated_template)
    landing = tmp_path_factory.mktemp("landing")
    truth = write_days(landing)
    assert {has_order_column(d) for d in DAYS} == {True, False}, "fixture needs both MB51 layouts"
    for day in DAYS:
        load_day(url, landing / day.isoformat(), day)
        build_day(url, day)
    yield url, truth
    drop_database(name)


def cogs_cost(truth: dict, material: str, plant: str) -> Decimal | None:
    rows = [r for r in truth[DAYS[0]]["cogs"] if r["material"] == material and r["plant"] == plant]
    return rows[0]["moving_average_cost"] if rows else None


def query(url: str, text: str, params=None) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(text, params).fetchall()


def test_billing_fact_has_revenue_cost_and_margin_of_non_cancelled_lines(model) -> None:
    url, truth = model
    expected_sales: dict[tuple, Decimal] = defaultdict(Decimal)
    expected_cost: dict[tuple, Decimal] = defaultdict(Decimal)
    lines, cancelled = 0, 0
    for day in DAYS:
        for line in truth[day]["zrsd002"]:
            if line["cancelled"] or line["doc_cancel"]:
                cancelled += 1
                continue
            lines += 1
            key = (line["billing_date"], line["curr"])
            expected_sales[key] += line["net_value"]
            cost = cogs_cost(truth, line["material"], DC)
            if cost is not None:
                rate = line["exchange_rate"] if line["curr"] != "VND" else Decimal(1)
                expected_cost[key] += cents(line["billing_qty"] * cost / rate)
    assert cancelled > 0, "fixture needs cancelled invoices"
    assert {c for _, c in expected_sales} == {"VND", "USD"}

    rows = query(
        url,
        "SELECT billing_date, currency, sum(sales_amount), sum(cost_amount), count(*), "
        "count(*) FILTER (WHERE gross_margin <> sales_amount - cost_amount) "
        "FROM facts.fact_billing GROUP BY 1, 2",
    )
    assert {(r[0], r[1]): r[2] for r in rows} == dict(expected_sales)
    assert {(r[0], r[1]): r[3] for r in rows} == dict(expected_cost)
    assert sum(r[4] for r in rows) == lines
    assert sum(r[5] for r in rows) == 0
    unknown = query(url, "SELECT cost_amount, plant FROM facts.fact_billing WHERE material_code = %s", (UNKNOWN,))
    assert unknown == [(None, DC)], "a line of an unknown material is kept, without a cost"


def test_production_fact_has_one_row_per_order_with_yield_and_status(model) -> None:
    url, truth = model
    expected = {}
    for day in DAYS:
        for order in truth[day]["cooispi"]:
            yield_pct = cents(100 * order["delivered_quantity"] / order["order_quantity"])
            status = "technically_completed" if "TECO" in order["system_status"] else "partially_confirmed"
            expected[order["order_number"]] = (order["order_number"].lstrip("0"), order["batch"], yield_pct, status)
    rows = query(url, "SELECT order_number, order_number_norm, batch, yield_pct, status FROM facts.fact_production")
    assert {r[0]: r[1:] for r in rows} == expected


# site.yaml's channel names and yield bands, written out here rather than read from it.
CHANNEL_NAMES = {"10": "Direct Sales", "20": "Distributor", "30": "Retail"}
YIELD_BANDS = ((Decimal(95), "Excellent"), (Decimal(85), "Good"), (Decimal(75), "Fair"), (Decimal(0), "Poor"))


def test_sales_view_has_one_row_per_billed_line_with_names_and_channels(model) -> None:
    url, truth = model
    names = {c[0]: c[1] for c in exports.CUSTOMERS}
    expected, monthly = {}, defaultdict(Decimal)
    for day in DAYS:
        for line in truth[day]["zrsd002"]:
            if line["cancelled"] or line["doc_cancel"]:
                continue
            channel = line["dist_channel"]
            expected[(line["billing_document"], line["billing_item"])] = (
                line["so_no"],
                line["billing_date"],
                names[line["sold_to"]],
                line["material"],
                line["net_value"],
                line["curr"],
                line["billing_qty"],
                channel,
                CHANNEL_NAMES.get(channel, f"Other ({channel})"),
            )
            monthly[(line["billing_date"].replace(day=1), line["curr"])] += line["net_value"]
    rows = query(
        url,
        "SELECT billing_document, billing_item, sales_order, billing_date, customer_name, material_code, "
        "sales_amount, currency, billing_qty, distribution_channel, channel_name FROM marts.view_sales_performance",
    )
    assert {(r[0], r[1]): r[2:] for r in rows} == expected
    assert {r[10] for r in rows} == {"Direct Sales", "Distributor", "Other (15)"}  # 15: customer-defined
    assert all(r[2] for r in rows), "every generated line names its sales order"
    # The monthly aggregate (view_sales_monthly) adds up to the same revenue.
    months = query(url, "SELECT billing_month, currency, sum(sales_amount) FROM marts.view_sales_monthly GROUP BY 1, 2")
    assert {(r[0], r[1]): r[2] for r in months} == dict(monthly)


def test_an_unnamed_channel_is_a_data_alert(model) -> None:
    url, truth = model
    lines = sum(
        1
        for day in DAYS
        for line in truth[day]["zrsd002"]
        if line["dist_channel"] == "15" and not (line["cancelled"] or line["doc_cancel"])
    )
    name = f"wh_channel_{uuid.uuid4().hex[:10]}"
    copy = create_database(name, template=url.rsplit("/", 1)[1])
    try:
        alerts.evaluate(DAYS[-1], conninfo=copy)
        found = query(
            copy,
            "SELECT entity_key, severity, current_value FROM facts.fact_alert "
            "WHERE rule_code = 'unmapped_channel' AND status = 'active'",
        )
        assert found == [("channel:15", "warning", lines)]
    finally:
        drop_database(name)


def test_production_yield_view_rates_each_order_that_delivered(model) -> None:
    url, truth = model
    expected = {}
    for day in DAYS:
        for order in truth[day]["cooispi"]:
            if not order["delivered_quantity"]:
                continue  # not produced yet: not in the view
            pct = cents(100 * order["delivered_quantity"] / order["order_quantity"])
            rating = next(name for floor, name in YIELD_BANDS if pct >= floor)
            expected[order["order_number"]] = (order["batch"], order["actual_finish_date"], pct, rating)
    rows = query(
        url, "SELECT order_number, batch, production_date, yield_pct, yield_rating FROM marts.view_production_yield"
    )
    assert {r[0]: r[1:] for r in rows} == expected
    assert {r[4] for r in rows} >= {"Excellent", "Good", "Poor"}

    # An order that delivered but is not finished is listed and not rated.
    name = f"wh_yield_{uuid.uuid4().hex[:10]}"
    copy = create_database(name, template=url.rsplit("/", 1)[1])
    try:
        order = rows[0][0]
        with psycopg.connect(copy) as conn:
            conn.execute("UPDATE facts.fact_production SET actual_finish_date = NULL WHERE order_number = %s", (order,))
        layers.refresh_views(DateSpan.of(DAYS[-1]), conninfo=copy)
        assert query(
            copy, "SELECT is_finished, yield_rating FROM marts.view_production_yield WHERE order_number = %s", (order,)
        ) == [(False, None)]
    finally:
        drop_database(name)


def test_ar_aging_keeps_one_snapshot_per_business_date(model) -> None:
    url, truth = model
    rows = query(
        url,
        "SELECT snapshot_date, count(*), sum(total_amount), sum(days_over_180_amount), "
        "sum(collected_total_amount) FROM facts.fact_ar_aging GROUP BY 1 ORDER BY 1",
    )
    expected = [
        (
            day,
            len(truth[day]["zrfi005"]),
            sum(r["total_target"] for r in truth[day]["zrfi005"]),
            sum(r["target_over_180_days"] for r in truth[day]["zrfi005"]),
            sum(r["total_realization"] for r in truth[day]["zrfi005"]),
        )
        for day in DAYS
    ]
    assert rows == expected
    view = query(url, "SELECT count(DISTINCT snapshot_date), sum(outstanding_amount) FROM marts.view_ar_aging")
    outstanding = sum(r["total_target"] - r["total_realization"] for d in DAYS for r in truth[d]["zrfi005"])
    assert view == [(len(DAYS), outstanding)]


def test_inventory_fact_is_valued_at_cogs(model) -> None:
    url, truth = model
    net: dict[tuple, Decimal] = defaultdict(Decimal)
    for day in DAYS:
        for m in truth[day]["mb51"]:
            net[(m.posting_date, m.material, m.plant, m.storage_location or "#", m.unit)] += m.quantity
    expected = {}
    for key, qty in net.items():
        cost = cogs_cost(truth, key[1], key[2]) if key[0] >= DAYS[0].replace(day=1) else None  # COGS from the 1st
        expected[key] = (qty, cents(qty * cost) if cost is not None else None)
    rows = query(
        url,
        "SELECT movement_date, material_code, plant, storage_location, unit, net_qty, stock_value "
        "FROM facts.fact_inventory",
    )
    assert {r[:5]: r[5:] for r in rows} == expected
    assert all(v[1] is not None for k, v in expected.items() if k[2] in ("1201", "1401") and k[0] >= DAYS[0])


def test_dimensions_map_types_name_customers_and_flag_inferred_members(model) -> None:
    url, truth = model
    materials = {
        r[0]: r[1:]
        for r in query(
            url,
            "SELECT material_code, material_type, site_material_type, is_inferred, source_report, mrp_controller "
            "FROM dims.dim_material",
        )
    }
    for code, _, _, level in MATERIALS:
        assert materials[code][:4] == (LEVEL_TYPE[level], exports.SITE_MATERIAL_TYPE[level], False, "zrsd006"), code
    assert materials[UNKNOWN][2:4] == (True, "zrsd002")
    assert materials[UNKNOWN][0] == "FERT", "the billing line's site type still maps"
    made = {o["material_number"]: o["mrp_controller"] for d in DAYS for o in truth[d]["cooispi"]}
    assert {code: materials[code][4] for code in made} == made

    customers = {
        r[0]: r[1:] for r in query(url, "SELECT customer_code, customer_name, city, is_inferred FROM dims.dim_customer")
    }
    assert customers == {c[0]: (c[1], c[2], False) for c in exports.CUSTOMERS}

    kg = dict(
        ((r[0], r[1]), r[2])
        for r in query(url, "SELECT material_code, unit, kg_per_unit FROM dims.dim_unit_conversion")
    )
    finished = [code for code, _, unit, level in MATERIALS if level == "FG"]
    assert {kg[(code, "PC")] for code in finished} == {exports.KG_PER_UNIT["PC"]}
    plants = {
        r[0]: r[1:]
        for r in query(url, "SELECT plant, plant_type, is_inferred FROM dims.dim_location WHERE storage_location = '#'")
    }
    assert plants["1201"] == ("factory", False)
    assert plants["1401"] == ("distribution_centre", False)


def expected_links(truth: dict) -> dict[tuple, tuple]:
    """(parent batch, child batch) -> (rule, yield %) from the generated orders, by the rules of
    docs/sap_exports.md: MB51 261 lines name their order only in the layout with the Order column.
    Yield = produced kg / consumed kg (each rounded to grams); PC weighs what billing says."""
    links = {}
    kg_pc = exports.KG_PER_UNIT["PC"]
    units = {code: unit for code, _, unit, _ in MATERIALS}
    for day in DAYS:
        orders = truth[day]["cooispi"]
        for p03, p02, p01 in (orders[i : i + 3] for i in range(0, len(orders) - 2, 3)):
            made_kg = kg3(p01["delivered_quantity"] * kg_pc)
            if has_order_column(day):
                consumed = p03["delivered_quantity"] or p03["order_quantity"]
                weighed = units[p03["material_number"]] == "KG"
                links[(p03["batch"], p02["batch"])] = (
                    "mb51_261_order",
                    cents(100 * p02["delivered_quantity"] / consumed) if weighed else None,
                )
                liquid = p02["delivered_quantity"] or p02["order_quantity"]
                links[(p02["batch"], p01["batch"])] = ("mb51_261_order", cents(100 * made_kg / liquid))
            else:
                filled = kg3(p01["order_quantity"] * kg_pc)
                links[(p02["batch"], p01["batch"])] = ("zrpp062_sfg_liquid", cents(100 * made_kg / filled))
    return links


def test_genealogy_links_p03_p02_p01_by_the_most_reliable_rule(model) -> None:
    url, truth = model
    rows = query(url, "SELECT parent_batch, child_batch, link_rule, yield_pct FROM facts.fact_production_chain")
    assert {(r[0], r[1]): (r[2], r[3]) for r in rows} == expected_links(truth)


def traced_chain(truth: dict) -> tuple[dict, dict, dict, set[str]]:
    """A chain of an Order-column day whose finished batch was shipped, and the customers it reached."""
    day = next(d for d in DAYS if has_order_column(d))
    orders = truth[day]["cooispi"]
    shipped = {m.batch: m.reference for m in truth[day]["mb51"] if m.movement_type == "601" and m.reference}
    for p03, p02, p01 in (orders[i : i + 3] for i in range(0, len(orders) - 2, 3)):
        if p01["batch"] in shipped:
            deliveries = {m.reference for m in truth[day]["mb51"] if m.batch == p01["batch"] and m.reference}
            ship_to = {d["ship_to_party"] for d in truth[day]["zrsd004"] if d["delivery"] in deliveries}
            billed = {
                b["sold_to"]
                for b in truth[day]["zrsd002"]
                if b["doc_reference_od"] in deliveries and not b["cancelled"]
            }
            return p03, p02, p01, ship_to | billed
    raise AssertionError("fixture needs a shipped finished batch")


def test_trace_answers_the_recall_question(model, monkeypatch: pytest.MonkeyPatch) -> None:
    url, truth = model
    p03, p02, p01, customers = traced_chain(truth)

    backward = genealogy.trace_backward(p01["batch"], p01["material_number"], conninfo=url)
    assert {(r["depth"], r["parent_batch"], r["parent_level"]) for r in backward} == {
        (1, p02["batch"], "P02"),
        (2, p03["batch"], "P03"),
    }
    forward = genealogy.trace_forward(p03["batch"], p03["material_number"], conninfo=url)
    assert {r["batch"] for r in forward if r["kind"] == "link"} == {p02["batch"], p01["batch"]}
    assert genealogy.customers_of(p03["batch"], p03["material_number"], conninfo=url) == sorted(customers)
    # A batch typed on the command line is a value everywhere, never SQL (quotes, a line break).
    assert genealogy.trace_forward("X'\n); SELECT 1; --", conninfo=url) == []

    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DB", url)
    out = io.StringIO()
    assert genealogy.main(["--batch", p03["batch"], "--material", p03["material_number"]], out=out) == 0
    assert all(code in out.getvalue() for code in customers)
    assert genealogy.main(["--batch", "NO-SUCH-BATCH"], out=io.StringIO()) == 1


def test_reconciliation_counts_exclusions_and_fails_on_a_mismatch(model) -> None:
    url, truth = model
    day = DAYS[0]
    checks = layers.reconcile(DateSpan.of(day), conninfo=url)
    cancelled = sum(1 for line in truth[day]["zrsd002"] if line["cancelled"])
    assert [c["excluded"] for c in checks if c["check_name"] == "billing_lines"] == [cancelled]
    assert {c["check_name"] for c in checks} == {
        "billing_revenue",
        "billing_lines",
        "inventory_lines",
        "inventory_quantity",
        "production_orders",
        "ar_aging_rows",
        "stock_count_lines",
    }
    with psycopg.connect(url) as conn:
        conn.execute(
            "DELETE FROM facts.fact_billing WHERE ctid IN "
            "(SELECT ctid FROM facts.fact_billing WHERE billing_date = %s LIMIT 1)",
            (day,),
        )
    with pytest.raises(layers.ReconciliationError, match="billing_revenue") as failure:
        layers.reconcile(DateSpan.of(day), conninfo=url)
    assert str(day) in str(failure.value)
    layers.build_fact("fact_billing", DateSpan.of(day), conninfo=url)
    assert all(c["ok"] for c in layers.reconcile(DateSpan.of(day), conninfo=url))


def billing_lines(url: str) -> dict[tuple, tuple]:
    rows = query(
        url, "SELECT billing_date, billing_document, billing_item, sales_amount, gross_margin FROM facts.fact_billing"
    )
    return {r[:3]: r[3:] for r in rows}


def test_rebuilding_in_any_order_leaves_every_table_identical(model, migrated_template: str, tmp_path: Path) -> None:
    url, _ = model
    before = warehouse_checksums(url)
    for day in reversed(DAYS):
        build_day(url, day)
    assert warehouse_checksums(url) == before

    # The same dates loaded and built from scratch, newest first (a backfill in another order).
    name = f"wh_reverse_{uuid.uuid4().hex[:10]}"
    other = create_database(name, template=migrated_template)
    try:
        write_days(tmp_path)
        for day in reversed(DAYS):
            load_day(other, tmp_path / day.isoformat(), day)
            build_day(other, day)
        assert warehouse_checksums(other) == before
    finally:
        drop_database(name)


def test_rebuilding_a_range_at_once_equals_building_its_dates_one_by_one(
    model, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = model
    name = f"wh_range_{uuid.uuid4().hex[:10]}"
    copy = create_database(name, template=url.rsplit("/", 1)[1])
    try:
        before = warehouse_checksums(copy)
        # Every dimension the build makes (dim_date's calendar rows are the migration's).
        built = [f"dims.{d.name}" for d in warehouse_model.dimensions()]
        built.remove("dims.dim_date")
        with psycopg.connect(copy) as conn:
            conn.execute(f"TRUNCATE {', '.join(built + [f'facts.{f}' for f in warehouse_model.facts()])}")
        emptied = warehouse_checksums(copy)
        assert all(emptied[table] == "empty" for table in built), "the dimensions were not emptied"

        monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DB", copy)
        assert layers.main(["--from", DAYS[0].isoformat(), "--to", DAYS[-1].isoformat()]) == 0
        assert warehouse_checksums(copy) == before
        with psycopg.connect(copy) as conn:
            logged = conn.execute(
                "SELECT step, details ->> 'through' FROM operations.etl_run_log WHERE dag_id = 'rebuild' "
                "AND run_id = %s AND business_date = %s ORDER BY run_log_id",
                (f"rebuild {DAYS[0]}..{DAYS[-1]}", DAYS[0]),
            ).fetchall()
        assert [step for step, _ in logged] == [
            "build_dimensions",
            *(f"build_{fact}" for fact in warehouse_model.facts()),
            "reconcile",
            "refresh_views",
        ]
        assert {through for _, through in logged} == {DAYS[-1].isoformat()}
        assert layers.main(["--from", DAYS[-1].isoformat(), "--to", DAYS[0].isoformat()]) == 1
    finally:
        drop_database(name)


def test_a_corrected_billing_file_changes_exactly_the_affected_facts(model, tmp_path: Path) -> None:
    url, _ = model
    name = f"wh_corrected_{uuid.uuid4().hex[:10]}"
    copy = create_database(name, template=url.rsplit("/", 1)[1])
    try:
        day = DAYS[1]
        before = warehouse_checksums(copy)
        billing_before = billing_lines(copy)
        lines = [dict(line) for line in exports.zrsd002_rows(day, exports.zrsd004_rows(day, 60, SEED), SEED)]
        target = next(line for line in lines if not line["cancelled"] and line["curr"] == "VND")
        target["net_value"] += Decimal("1000.00")
        folder = tmp_path / day.isoformat()
        folder.mkdir()
        (folder / "corrected.xlsx").write_bytes(exports.render("zrsd002", lines, SEED + 1))
        load_day(copy, folder, day)
        build_day(copy, day)

        after = warehouse_checksums(copy)
        changed = {table for table in WAREHOUSE_TABLES if after[table] != before[table]}
        assert changed == {
            "raw.raw_zrsd002",
            "facts.fact_billing",
            "marts.view_sales_performance",
            "marts.view_sales_monthly",
        }
        billing_after = billing_lines(copy)
        key = (day, target["billing_document"], target["billing_item"])
        assert {k for k in billing_after if billing_after[k] != billing_before[k]} == {key}
        assert billing_after[key][0] == billing_before[key][0] + Decimal("1000.00")
    finally:
        drop_database(name)
