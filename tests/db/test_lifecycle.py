"""Data lifecycle: the order files arrive in does not change what the warehouse says."""

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import psycopg
import pytest

from sap_warehouse.build import layers
from sap_warehouse.core.business_date import DateSpan
from sap_warehouse.gates import quality
from sap_warehouse.ingest.landing import late_files
from sap_warehouse.ingest.raw_load import load_file, record_late_files, record_missing
from sap_warehouse.signals import alerts
from sap_warehouse_kit import exports
from sap_warehouse_kit.generator import export_name
from sap_warehouse_kit.scratch_db import create_database, drop_database
from tests.helpers import PROVENANCE, RAW_TABLES, query, table_checksum

DAYS = [dt.date(2026, 1, 5), dt.date(2026, 1, 6), dt.date(2026, 1, 7)]
SEED = 21


def _load_days(url: str, landing: Path, quarantine: Path, order: list[dt.date]) -> dict[str, list]:
    ledger = {}
    for day in order:
        for path in sorted((landing / day.isoformat()).iterdir()):
            result = load_file(path, day, quarantine_root=quarantine, conninfo=url)
            ledger.setdefault(result.report, []).append(result)
    return ledger


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("landing")
    for day in DAYS:
        exports.write_day(root, day, rows=60, seed=SEED)
    return root


def test_an_older_export_never_overwrites_newer_rows(
    warehouse: str, migrated_template: str, landing: Path, tmp_path: Path
) -> None:
    """ZRMM024 exports a transport order again on the day its goods arrive: loaded in reverse order
    (a backfill from the newest date back), the older export must not bring back the stale transit."""
    in_order = warehouse
    reverse_name = f"{in_order.rsplit('/', 1)[1]}_rev"
    reverse = create_database(reverse_name, template=migrated_template)
    try:
        _load_days(in_order, landing, tmp_path / "q1", DAYS)
        ledger = _load_days(reverse, landing, tmp_path / "q2", list(reversed(DAYS)))
        with psycopg.connect(in_order) as a, psycopg.connect(reverse) as b:
            for table in RAW_TABLES:
                assert table_checksum(a, table, leave_out=PROVENANCE) == table_checksum(
                    b, table, leave_out=PROVENANCE
                ), table
            newest = b.execute("SELECT count(*) FROM raw.raw_zrmm024 WHERE business_date = %s", (DAYS[-1],)).fetchone()[
                0
            ]
        kept = [r for r in ledger["zrmm024"] if r.reason and "a later business date" in r.reason]
        assert kept, "the reverse load must meet ZRMM024 rows a later date already wrote"
        assert all(r.rows_read == r.rows_inserted + r.rows_updated + r.rows_unchanged + r.rows_rejected for r in kept)
        assert newest > 0
    finally:
        drop_database(reverse_name)


def test_a_corrected_billing_date_moves_the_line_and_revenue_counts_once(warehouse: str, tmp_path: Path) -> None:
    first, second = DAYS[0], DAYS[1]
    deliveries = exports.zrsd004_rows(first, 40, SEED)
    lines = exports.zrsd002_rows(first, deliveries, SEED)
    for line in lines:
        line["cancelled"] = line["doc_cancel"] = ""  # every line is revenue
    # The export of D+1 corrects a document's billing date (a header field: every item of it moves).
    redated = [
        dict(line, billing_date=second) for line in lines if line["billing_document"] == lines[0]["billing_document"]
    ]
    assert len(redated) > 1

    for day, rows, name in ((first, lines, "billing.xlsx"), (second, redated, "billing-corrected.xlsx")):
        folder = tmp_path / "landing" / day.isoformat()
        folder.mkdir(parents=True)
        (folder / name).write_bytes(exports.render("zrsd002", rows, SEED))
        result = load_file(folder / name, day, quarantine_root=tmp_path / "quarantine", conninfo=warehouse)
    assert (result.rows_inserted, result.rows_updated) == (0, len(redated))
    layers.rebuild(DateSpan(first, second), conninfo=warehouse)

    key = (lines[0]["billing_document"], lines[0]["billing_item"])
    copies = query(
        warehouse, "SELECT billing_date FROM raw.raw_zrsd002 WHERE billing_document = %s AND billing_item = %s", *key
    )
    assert copies == [(second,)]
    assert query(warehouse, "SELECT sum(sales_amount), count(*) FROM facts.fact_billing") == [
        (sum(line["net_value"] for line in lines), len(lines))
    ]
    on_first = query(warehouse, "SELECT count(*) FROM facts.fact_billing WHERE billing_date = %s", first)
    assert on_first == [(len(lines) - len(redated),)]


def test_the_gate_judges_the_billing_date_a_corrected_line_left(warehouse: str, tmp_path: Path) -> None:
    """D+1's export moves a document to D+1: D+1's build rewrites D's billing lines too (the date the
    document left), so D+1's facts gate judges them. A defect planted in a line of D, which D+1's files
    do not carry, is found by D+1's gate: the gate's slice is the build's (include/sql/slices/)."""
    first, second = DAYS[0], DAYS[1]
    lines = exports.zrsd002_rows(first, exports.zrsd004_rows(first, 40, SEED), SEED)
    moved = lines[0]["billing_document"]
    redated = [dict(line, billing_date=second) for line in lines if line["billing_document"] == moved]
    for day, rows in ((first, lines), (second, redated)):
        folder = tmp_path / "landing" / day.isoformat()
        folder.mkdir(parents=True)
        (folder / "billing.xlsx").write_bytes(exports.render("zrsd002", rows, SEED))
        load_file(folder / "billing.xlsx", day, quarantine_root=tmp_path / "quarantine", conninfo=warehouse)
    layers.rebuild(DateSpan(first, second), conninfo=warehouse)
    suites = tmp_path / "suites"
    suites.mkdir()
    shutil.copy(quality.SUITES_DIR / "fact_billing.json", suites)
    carried = query(warehouse, "SELECT DISTINCT billing_date FROM raw.raw_zrsd002 WHERE business_date = %s", second)
    assert carried == [(second,)], "D+1's file carries only D+1: D is in its slice through the moved line alone"
    before = quality.validate_gate("facts", second, conninfo=warehouse, directory=suites)[0]
    assert before.critical == []  # (no COGS loaded: the margin warnings are expected)

    stayed = query(
        warehouse,
        "SELECT billing_document, billing_item FROM facts.fact_billing "
        "WHERE billing_date = %s AND billing_document <> %s ORDER BY 1, 2 LIMIT 1",
        first,
        moved,
    )
    assert stayed, "lines of D that did not move"
    with psycopg.connect(warehouse) as conn:
        conn.execute(
            "UPDATE facts.fact_billing SET currency = 'usd' WHERE billing_document = %s AND billing_item = %s",
            stayed[0],
        )
    with pytest.raises(quality.QualityGateError, match=r"expect_column_values_to_match_regex on currency") as failed:
        quality.validate_gate("facts", second, conninfo=warehouse, directory=suites)
    assert "'usd'" in str(failed.value)


def test_a_file_another_run_already_archived_is_a_duplicate_not_an_error(warehouse: str, tmp_path: Path) -> None:
    """Two runs of one date race on a file: the first loads and archives it; the second (or a retry
    after the move) finds the landing copy gone and judges the archived one."""
    day = DAYS[0]
    folder, archive = tmp_path / "landing" / day.isoformat(), tmp_path / "archive"
    folder.mkdir(parents=True)
    data = exports.render("zrfi005", exports.zrfi005_rows(day, SEED), SEED)
    path = folder / "ar.xlsx"
    path.write_bytes(data)
    kwargs = {"quarantine_root": tmp_path / "quarantine", "archive_root": archive, "conninfo": warehouse}

    first = load_file(path, day, **kwargs)
    second = load_file(path, day, **kwargs)  # the landing copy is gone

    assert (first.status, second.status) == ("loaded", "duplicate")
    assert (archive / day.isoformat() / "ar.xlsx").read_bytes() == data
    assert not path.exists()


def test_an_archive_move_is_complete_or_absent_and_tolerates_a_vanished_source(tmp_path: Path) -> None:
    from sap_warehouse.ingest.landing import move_file

    source = tmp_path / "landing" / "f.xlsx"
    source.parent.mkdir()
    source.write_bytes(b"export")
    target_dir = tmp_path / "archive"
    move_file(source, target_dir, b"export", "ab" * 32)
    move_file(source, target_dir, b"export", "ab" * 32)  # a second run: nothing to move, no error
    assert sorted(p.name for p in target_dir.iterdir()) == ["f.xlsx"]  # no partial copy left behind
    assert (target_dir / "f.xlsx").read_bytes() == b"export"


def test_an_older_file_with_an_older_billing_date_leaves_the_newer_line(warehouse: str, tmp_path: Path) -> None:
    first, second = DAYS[0], DAYS[1]
    lines = exports.zrsd002_rows(first, exports.zrsd004_rows(first, 6, SEED), SEED)
    newer = [dict(lines[0], billing_date=second, net_value=lines[0]["net_value"] + 1)]
    older = [*lines, dict(lines[1])]  # the older file also repeats one line: a duplicate key
    loaded = {}
    for day, rows, name in ((second, newer, "newer.xlsx"), (first, older, "older.xlsx")):
        folder = tmp_path / "landing" / day.isoformat()
        folder.mkdir(parents=True)
        (folder / name).write_bytes(exports.render("zrsd002", rows, SEED, totals=False))
        loaded[name] = load_file(folder / name, day, quarantine_root=tmp_path / "quarantine", conninfo=warehouse)

    result = loaded["older.xlsx"]
    assert (result.rows_read, result.rows_inserted, result.rows_unchanged, result.rows_rejected) == (
        len(older),
        len(lines) - 1,
        1,
        1,
    )
    assert "a later business date" in result.reason
    key = (lines[0]["billing_document"], lines[0]["billing_item"])
    kept = query(
        warehouse,
        "SELECT billing_date, net_value FROM raw.raw_zrsd002 WHERE billing_document = %s AND billing_item = %s",
        *key,
    )
    assert kept == [(second, newer[0]["net_value"])]
    rejects = query(warehouse, "SELECT reason FROM operations.etl_row_reject")
    assert rejects == [("duplicate business key in this file; a later row wins",)]


def test_a_stale_copy_of_another_dates_export_is_not_the_days_delivery(warehouse: str, tmp_path: Path) -> None:
    """A re-send of D-1's ZRFI005 in D's folder: D has no AR snapshot, so the ledger, the missing
    check, the ledger gate and an alert say so; master data repeating byte for byte is normal."""
    landing, first, day = tmp_path / "landing", DAYS[0], DAYS[1]
    for each in (first, day):
        exports.write_day(landing, each, rows=30, seed=SEED)
    part = list(exports.day_rows(day, 30, SEED)).index("zrfi005") + 1
    own = landing / day.isoformat() / export_name("zrfi005", day, SEED, part)
    held = tmp_path / "held" / own.name
    held.parent.mkdir()
    own.rename(held)
    shutil.copy(landing / first.isoformat() / export_name("zrfi005", first, SEED, part), landing / day.isoformat())

    ledger = _load_days(warehouse, landing, tmp_path / "q", [first, day])
    assert [r.status for r in ledger["zrfi005"]] == ["loaded", "stale_copy"]
    assert f"loaded for {first}" in ledger["zrfi005"][1].reason
    assert [r.status for r in ledger["zrsd006"]] == ["loaded", "duplicate"], "master data repeats: not stale"
    assert record_missing(day, ["zrfi005", "zrsd006", "mb51"], landing="(test)", conninfo=warehouse) == ["zrfi005"]
    with psycopg.connect(warehouse) as conn:
        assert conn.execute("SELECT count(*) FROM raw.raw_zrfi005 WHERE business_date = %s", (day,)).fetchone()[0] == 0
    gate = {r.suite: r for r in quality.validate_gate("raw", day, conninfo=warehouse)}
    assert [f["check"] for f in gate["etl_file_ledger"].warnings] == ["stale_copy"]
    alerts.evaluate(day, conninfo=warehouse)
    open_alert = ("stale_copy", f"zrfi005:{day}", "active")
    with psycopg.connect(warehouse) as conn:
        query = "SELECT rule_code, entity_key, status FROM facts.fact_alert WHERE rule_code = 'stale_copy'"
        assert conn.execute(query).fetchall() == [open_alert]

    # D's own export arrives: it loads, and the alert clears at the next evaluation.
    result = load_file(held, day, quarantine_root=tmp_path / "q", conninfo=warehouse)
    assert (result.report, result.status) == ("zrfi005", "loaded")
    alerts.evaluate(day, conninfo=warehouse)
    with psycopg.connect(warehouse) as conn:
        assert conn.execute(query).fetchall() == [("stale_copy", f"zrfi005:{day}", "resolved")]


def _resaved(source: Path, target: Path) -> None:
    """The workbook opened and saved again (as a person does in Excel): other bytes, the same rows."""
    book = openpyxl.load_workbook(source)
    book.save(target)
    assert target.read_bytes() != source.read_bytes()


def test_a_resaved_copy_of_an_older_dates_export_is_a_stale_copy(warehouse: str, tmp_path: Path) -> None:
    """Files opened and saved again (other bytes, the same rows) in D's folder. D-2's MB51, while D-1's
    differed: a quiet day cannot bring back an older date's rows, so it is a stale copy. D-1's ZRFI005,
    the neighbouring delivery: a quiet day's unchanged export or a re-save, the data cannot tell, so it
    loads and says so. A re-saved copy of D's own file is D's data again; master data repeats."""
    landing, first, previous, day = tmp_path / "landing", *DAYS
    for each in DAYS:
        exports.write_day(landing, each, rows=30, seed=SEED)
    names = {each: {code: name for code, name, _, _ in exports.day_plan(each, 30, SEED)} for each in DAYS}
    folder = landing / day.isoformat()
    for code, source in (("mb51", first), ("zrfi005", previous)):
        (folder / names[day][code]).unlink()
        _resaved(landing / source.isoformat() / names[source][code], folder / f"resaved-{code}.xlsx")
    _resaved(folder / names[day]["zrsd004"], tmp_path / "own-zrsd004.xlsx")

    ledger = _load_days(warehouse, landing, tmp_path / "q", list(DAYS))
    assert [r.status for r in ledger["mb51"]] == ["loaded", "loaded", "stale_copy"]
    assert f"the same rows as {names[first]['mb51']}, loaded for {first}" in ledger["mb51"][2].reason
    unchanged = ledger["zrfi005"][2]  # D's AR snapshot: D-1's lines, now dated D
    assert (unchanged.status, unchanged.rows_inserted) == ("loaded", ledger["zrfi005"][1].rows_inserted)
    assert f"the same rows as {names[previous]['zrfi005']} of {previous}: nothing changed" in unchanged.reason
    assert [r.status for r in ledger["zrsd006"]] == ["loaded", "duplicate", "duplicate"], "master data repeats"
    assert record_missing(day, ["mb51", "zrfi005", "zrsd004"], landing="(test)", conninfo=warehouse) == ["mb51"]
    # Of the date's own export, a re-saved copy is that date's data again: loaded, nothing new.
    again = load_file(tmp_path / "own-zrsd004.xlsx", day, quarantine_root=tmp_path / "q", conninfo=warehouse)
    assert (again.status, again.rows_inserted, again.rows_updated) == ("loaded", 0, 0)
    assert again.rows_unchanged == ledger["zrsd004"][2].rows_inserted > 0


def test_a_file_dropped_after_its_dates_run_is_reported_until_that_date_is_run_again(
    warehouse: str, tmp_path: Path
) -> None:
    landing, archive, first, day = tmp_path / "landing", tmp_path / "archive", DAYS[0], DAYS[1]
    exports.write_day(landing, first, rows=20, seed=SEED)
    for path in sorted((landing / first.isoformat()).iterdir()):
        load_file(path, first, quarantine_root=tmp_path / "q", archive_root=archive, conninfo=warehouse)
    assert list((landing / first.isoformat()).iterdir()) == [], "the run of the first date moved its files"
    # After that run, a corrected billing export lands in the first date's folder.
    late = landing / first.isoformat() / "billing_corrected.xlsx"
    late.write_bytes(exports.render("zrsd002", exports.day_rows(first, 25, SEED + 1)["zrsd002"], SEED))

    assert record_late_files(day, late_files(landing, day, 7), 7, conninfo=warehouse) == [
        f"{first}/billing_corrected.xlsx"
    ]
    alerts.evaluate(day, conninfo=warehouse)
    query = "SELECT entity_key, severity, status FROM facts.fact_alert WHERE rule_code = 'late_file'"
    with psycopg.connect(warehouse) as conn:
        assert conn.execute(query).fetchall() == [(f"{first}/billing_corrected.xlsx", "critical", "active")]

    # On-call re-runs the first date: the file loads, and the alert clears.
    result = load_file(late, first, quarantine_root=tmp_path / "q", archive_root=archive, conninfo=warehouse)
    assert result.status == "loaded"
    alerts.evaluate(day, conninfo=warehouse)
    with psycopg.connect(warehouse) as conn:
        assert conn.execute(query).fetchall() == [(f"{first}/billing_corrected.xlsx", "critical", "resolved")]


def _billing_lines(day: dt.date) -> list[dict]:
    lines = exports.zrsd002_rows(day, exports.zrsd004_rows(day, 40, SEED), SEED)
    for line in lines:
        line["cancelled"] = line["doc_cancel"] = ""  # every line is revenue
    return lines


def _deliver(landing: Path, day: dt.date, name: str, lines: list[dict], layout: int = SEED) -> Path:
    folder = landing / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(exports.render("zrsd002", lines, layout))
    return folder / name


def test_a_corrected_snapshot_supersedes_the_line_it_lacks_and_a_later_file_can_revive_it(
    warehouse: str, tmp_path: Path
) -> None:
    """ZRSD002 is a snapshot of the billing documents it lists: 40 lines, then a corrected export
    with 39 (one document lost an item). The 40th stays in raw, marked superseded by the
    correction, and leaves the facts."""
    day, landing, quarantine = DAYS[0], tmp_path / "landing", tmp_path / "q"
    lines = _billing_lines(day)
    gone = lines[5]
    load_file(_deliver(landing, day, "billing.xlsx", lines), day, quarantine_root=quarantine, conninfo=warehouse)
    layers.rebuild(DateSpan.of(day), conninfo=warehouse)
    corrected = [line for line in lines if line is not gone]
    result = load_file(
        _deliver(landing, day, "billing-corrected.xlsx", corrected), day, quarantine_root=quarantine, conninfo=warehouse
    )
    assert "1 line(s) of the scopes this file covers (billing_document) are missing from it" in result.reason
    layers.rebuild(DateSpan.of(day), conninfo=warehouse)  # reconciles, or raises
    key = (gone["billing_document"], gone["billing_item"])
    with psycopg.connect(warehouse) as conn:
        revenue = conn.execute("SELECT count(*), sum(sales_amount) FROM facts.fact_billing").fetchone()
        kept = conn.execute(
            "SELECT superseded_on, superseded_by FROM raw.raw_zrsd002 "
            "WHERE billing_document = %s AND billing_item = %s",
            key,
        ).fetchone()
    assert revenue == (len(corrected), sum(line["net_value"] for line in corrected))
    assert kept == (day, "billing-corrected.xlsx")

    # The next day's export lists the line again, beside a line billed that day: it is back. (An
    # export repeating the first file's rows exactly would be a stale copy of it.)
    both = lines + _billing_lines(DAYS[1])[:1]
    again = load_file(
        _deliver(landing, DAYS[1], "billing-next.xlsx", both, layout=SEED + 1),
        DAYS[1],
        quarantine_root=quarantine,
        conninfo=warehouse,
    )
    assert again.status == "loaded"
    layers.rebuild(DateSpan(day, DAYS[1]), conninfo=warehouse)
    with psycopg.connect(warehouse) as conn:
        revenue = conn.execute("SELECT count(*), sum(sales_amount) FROM facts.fact_billing").fetchone()
    assert revenue == (len(both), sum(line["net_value"] for line in both))


def test_a_snapshot_loaded_before_an_older_one_still_supersedes_its_missing_lines(
    warehouse: str, migrated_template: str, tmp_path: Path
) -> None:
    """Reverse order (a backfill newest first) ends where date order ends: the line the newer
    export of its billing document lacks is superseded by that export either way."""
    first, second = DAYS[0], DAYS[1]
    lines = _billing_lines(first)
    files = [
        (first, _deliver(tmp_path / "a", first, "billing.xlsx", lines)),
        (second, _deliver(tmp_path / "a", second, "billing-again.xlsx", lines[:-1])),
    ]
    reverse_name = f"{warehouse.rsplit('/', 1)[1]}_rev"
    reverse = create_database(reverse_name, template=migrated_template)
    try:
        for url, order in ((warehouse, files), (reverse, list(reversed(files)))):
            for day, path in order:
                load_file(path, day, quarantine_root=tmp_path / "q", conninfo=url)
        with psycopg.connect(warehouse) as a, psycopg.connect(reverse) as b:
            assert table_checksum(a, "raw.raw_zrsd002", leave_out=PROVENANCE) == table_checksum(
                b, "raw.raw_zrsd002", leave_out=PROVENANCE
            )
            superseded = b.execute(
                "SELECT billing_item, superseded_on, superseded_by FROM raw.raw_zrsd002 WHERE superseded_on IS NOT NULL"
            ).fetchall()
        assert superseded == [(lines[-1]["billing_item"], second, "billing-again.xlsx")]
    finally:
        drop_database(reverse_name)


def test_a_snapshot_with_rejected_rows_supersedes_nothing(warehouse: str, tmp_path: Path) -> None:
    """The line a corrected export lacks may be the one it rejected: then nothing is superseded."""
    day, landing, quarantine = DAYS[0], tmp_path / "landing", tmp_path / "q"
    lines = _billing_lines(day)
    load_file(_deliver(landing, day, "billing.xlsx", lines), day, quarantine_root=quarantine, conninfo=warehouse)
    corrected = [dict(line) for line in lines if line is not lines[5]]
    corrected[0]["billing_item"] = ""  # a key value missing: the row is rejected
    result = load_file(
        _deliver(landing, day, "billing-corrected.xlsx", corrected), day, quarantine_root=quarantine, conninfo=warehouse
    )
    assert (result.status, result.rows_rejected) == ("loaded", 1)
    assert "this snapshot superseded no line" in result.reason
    with psycopg.connect(warehouse) as conn:
        assert conn.execute("SELECT count(*) FROM raw.raw_zrsd002 WHERE superseded_on IS NOT NULL").fetchone()[0] == 0
