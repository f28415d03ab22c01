"""The generated plant is consistent across reports, as SAP's reports are (docs/sap_exports.md)."""

import datetime as dt
import itertools
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from sap_warehouse_kit import exports, stock

DAY = dt.date(2026, 1, 7)


@pytest.fixture(scope="module")
def day(tmp_path_factory) -> dict:
    return exports.write_day(tmp_path_factory.mktemp("landing"), DAY, rows=60, seed=31)


def test_production_chains_agree_across_cooispi_zrpp062_and_mb51(day: dict) -> None:
    orders = {o["order_number"].lstrip("0"): o for o in day["cooispi"]}
    level = {o: orders[o]["mrp_controller"] for o in orders}
    batch_of = {o: orders[o]["batch"] for o in orders}
    for line in day["zrpp062"]:
        assert level[line["process_order"]] == "P01"
        assert level[line["order_sfg_liquid"]] == "P02"
        assert line["batch"] == batch_of[line["process_order"]]
    issues = [m for m in day["mb51"] if m.movement_type == "261" and m.order]
    assert issues
    for issue in issues:
        consumer = level[issue.order]
        producer = next(o for o, b in batch_of.items() if b == issue.batch)
        assert (level[producer], consumer) in {("P03", "P02"), ("P02", "P01")}
    received = {m.batch for m in day["mb51"] if m.movement_type == "101" and m.order}
    assert received == {o["batch"] for o in day["cooispi"] if o["delivered_quantity"]}
    links = {(line["order_sfg_liquid"], line["process_order"]) for line in day["zrpp062"]}
    issued = {(next(o for o, b in batch_of.items() if b == i.batch), i.order) for i in issues}
    assert links <= issued, "every ZRPP062 link is also an MB51 issue of the P02 batch to the P01 order"


def test_billing_bills_the_deliveries_of_the_day(day: dict) -> None:
    deliveries = {(d["delivery"], d["line_item"]): d for d in day["zrsd004"]}
    for bill in day["zrsd002"]:
        delivery = deliveries[(bill["doc_reference_od"], bill["billing_item"])]
        assert (bill["material"], bill["billing_qty"], bill["sold_to"]) == (
            delivery["material"],
            delivery["delivery_qty"],
            delivery["sold_to_party"],
        )


def test_every_material_and_customer_is_in_the_master_data(day: dict) -> None:
    materials = {m["material_code"] for m in day["zrsd006"]}
    used = {m.material for m in day["mb51"]} | {o["material_number"] for o in day["cooispi"]}
    used |= {b["material"] for b in day["zrsd002"]} | {s["material"] for s in day["zrmm024"]}
    assert used <= materials
    customers = {a["customer_code"] for a in day["zrfi005"]}
    assert {b["sold_to"] for b in day["zrsd002"]} <= customers


def test_a_dry_run_prints_the_files_and_rows_a_run_would_write_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    landing = tmp_path / "landing"
    exports.main(
        [
            "--landing",
            str(landing),
            "--from",
            "2026-01-05",
            "--to",
            "2026-01-06",
            "--rows",
            "20",
            "--inject",
            "truncated",
            "--dry-run",
        ]
    )
    out = capsys.readouterr().out
    assert not landing.exists()
    assert out.splitlines()[-1] == "dry run: nothing written"
    day = dt.date(2026, 1, 5)
    written = exports.write_day(tmp_path / "real", day, 20, 42, inject=("truncated",), volume=exports.PLANT)
    factor = f"(x{exports.PLANT.factor(day):.2f})"
    line = next(
        x for x in out.splitlines() if x.startswith(f"{day} {factor}: would write to {landing / day.isoformat()}: ")
    )
    for path in sorted((tmp_path / "real" / day.isoformat()).iterdir()):
        assert path.name in line, path.name
    for code, rows in written.items():
        assert f"{code} " in line
        assert f"({len(rows)} rows)" in line
    with pytest.raises(SystemExit):
        exports.main(["--landing", str(landing), "--from", "2026-01-05", "--to", "2026-01-05", "--inject", "purple"])


def test_volumes_follow_the_week_the_season_and_growth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The plant's volume: a Sunday a tenth of the Monday before it, Saturday half, the Tet month
    (February) below the pre-Tet January, the same weekday a year on 8% up; the files hold it."""
    plant, monday = exports.PLANT, dt.date(2026, 1, 5)
    sunday, saturday = monday + dt.timedelta(days=6), monday + dt.timedelta(days=5)
    assert plant.factor(sunday) / plant.factor(monday) == pytest.approx(0.1 / 1.1, rel=3e-3)  # six days of growth
    assert plant.factor(saturday) / plant.factor(monday) == pytest.approx(0.55 / 1.1, rel=3e-3)
    assert plant.factor(dt.date(2026, 2, 2)) < 0.6 * plant.factor(monday)  # a Monday in the Tet month
    a_year_on = monday + dt.timedelta(weeks=52)
    assert plant.factor(a_year_on) / plant.factor(monday) == pytest.approx(1.08 ** (364 / 365.25), rel=1e-3)
    assert exports.FLAT.rows(sunday, 200) == 200
    assert plant.rows(sunday, 5) == 1, "never an empty export"

    busy = exports.write_day(tmp_path, monday, 200, 7, volume=plant)
    quiet = exports.write_day(tmp_path, sunday, 200, 7, volume=plant)
    assert len(busy["zrsd004"]) == plant.rows(monday, 200) > 250
    assert len(quiet["zrsd004"]) == plant.rows(sunday, 200) < 30
    assert len(quiet["mb51"]) < len(busy["mb51"]) / 5

    custom = ["--landing", str(tmp_path), "--from", "2026-01-11", "--to", "2026-01-11", "--rows", "100", "--dry-run"]
    exports.main([*custom, "--weekly", "1,1,1,1,1,1,3", "--monthly", ",".join(["1"] * 12), "--growth", "0"])
    assert "(x3.00)" in capsys.readouterr().out  # 2026-01-11 is a Sunday
    exports.main([*custom, "--volume", "flat"])
    assert "(x1.00)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        exports.main([*custom, "--weekly", "1,1,1"])


def test_the_generated_plant_conserves_stock_and_its_counts_agree_with_its_movements() -> None:
    """Two weeks from a Wednesday: counts on the first date and on each Monday; every count equals the
    previous count plus the movements posted between them, position by position, no position is ever
    below zero, and positions outside the stocked set hold nothing."""
    first = dt.date(2026, 2, 4)
    counts: dict[dt.date, dict] = {}
    net: dict[tuple, Decimal] = defaultdict(Decimal)
    for offset in range(14):
        day = first + dt.timedelta(days=offset)
        for code, _, _, rows in exports.day_plan(day, 60, 5, exports.PLANT, first=first):
            if code == "mb51":
                for m in rows:
                    net[(m.posting_date, m.material, m.plant, m.storage_location)] += m.quantity
            elif code == "mb52":
                held: dict[tuple, Decimal] = defaultdict(Decimal)
                for r in rows:
                    held[(r["material"], r["plant"], r["storage_location"])] += (
                        r["unrestricted"] + r["in_quality_insp"] + r["restricted_use"] + r["blocked"] + r["returns"]
                    )
                counts[day] = held
    assert sorted(counts) == [first, dt.date(2026, 2, 9), dt.date(2026, 2, 16)]
    positions = {key[1:] for key in net} | set(stock.STOCKED)
    days = [first + dt.timedelta(days=i) for i in range(14)]
    for previous, count in itertools.pairwise(sorted(counts)):
        for position in positions:
            moved = sum((v for (d, *p), v in net.items() if tuple(p) == position and previous < d <= count), Decimal(0))
            assert counts[previous].get(position, 0) + moved == counts[count].get(position, 0), (count, position)
    for day in days[1:]:
        for position in positions:
            moved = sum((v for (d, *p), v in net.items() if tuple(p) == position and first < d <= day), Decimal(0))
            held = counts[first].get(position, Decimal(0)) + moved
            assert held >= 0, (day, position)
            if position not in stock.STOCKED:
                assert held == 0, (day, position)
