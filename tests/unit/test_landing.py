"""When to stop waiting for late files, and when a landed file is whole."""

import datetime as dt
import os
import threading
import time
from pathlib import Path

import pendulum

from sap_warehouse.core.registry import daily_reports
from sap_warehouse.ingest.landing import (
    files_due,
    landing_ready,
    late_files,
    quiet,
    reports_landed,
    reports_waited_for,
    settle,
)
from sap_warehouse_kit import exports, generator


def test_files_are_due_the_next_morning_in_plant_time() -> None:
    due = files_due(dt.date(2026, 1, 5), "09:00")
    assert due == pendulum.datetime(2026, 1, 6, 2, 0, tz="UTC")


def test_waiting_ends_when_every_expected_report_has_a_file_or_the_deadline_passes() -> None:
    due = pendulum.datetime(2026, 1, 6, 9, tz="Asia/Ho_Chi_Minh")
    before, after = due.subtract(minutes=1), due.add(minutes=1)
    expected = ["mb51", "zrsd002", "zrsd004"]
    assert not landing_ready({"mb51", "zrsd002"}, expected, due=due, now=before)
    assert landing_ready({"mb51", "zrsd002", "zrsd004", "cogs"}, expected, due=due, now=before)
    assert landing_ready(set(), expected, due=due, now=after)


def test_several_files_of_one_report_count_as_that_report_only(tmp_path: Path) -> None:
    """Six MB51 exports of a date (one per plant, say) are one report landed, not six: the sensor
    keeps waiting for the others. Files are told apart by their header rows (the names say nothing),
    and a file no report's header matches counts for none."""
    day = dt.date(2026, 1, 5)
    folder = tmp_path / day.isoformat()
    folder.mkdir()
    for seed in range(6):
        movements = generator.mb51_movements(day, 5, seed)
        data = generator.mb51_workbook(movements, seed, header_row_zero=seed % 2 == 0)
        (folder / generator.export_name("mb51", day, seed)).write_bytes(data)
    (folder / "notes.xlsx").write_bytes(exports.bad_file("unknown_layout", day, 1))
    files = sorted(folder.iterdir())

    landed = reports_landed(files)

    assert set(landed) == {"mb51"}
    assert len(landed["mb51"]) == 6
    expected = daily_reports()
    assert "mb51" in expected
    assert len(expected) > 1
    assert reports_waited_for(landed, expected) == [report for report in expected if report != "mb51"]
    due = pendulum.datetime(2026, 1, 6, 9, tz="Asia/Ho_Chi_Minh")
    assert not landing_ready(landed, expected, due=due, now=due.subtract(hours=1))
    exports.write_day(tmp_path, day, rows=5, seed=3)
    assert reports_waited_for(reports_landed(sorted(folder.iterdir())), expected) == []


def test_a_file_that_cannot_be_read_counts_for_no_report_and_stops_nothing(tmp_path: Path) -> None:
    class Unreadable:  # a landed entry the storage refuses to hand over
        name = "locked.xlsx"

        def read_bytes(self) -> bytes:
            raise PermissionError(13, "Permission denied", self.name)

    good = tmp_path / "mb51.xlsx"
    movements = generator.mb51_movements(dt.date(2026, 1, 5), 5, 1)
    good.write_bytes(generator.mb51_workbook(movements, 1, header_row_zero=True))
    landed = reports_landed([Unreadable(), good, tmp_path / "vanished.xlsx"])
    assert {code: [p.name for p in paths] for code, paths in landed.items()} == {"mb51": ["mb51.xlsx"]}


def test_a_file_still_being_copied_is_read_only_once_it_is_whole(tmp_path: Path) -> None:
    """A copy that writes for a while: settle() hands it over only after the last write and a quiet
    period, with its final size; an old file goes at once."""
    old = tmp_path / "old.xlsx"
    old.write_bytes(b"x" * 10)
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    growing = tmp_path / "growing.xlsx"
    growing.write_bytes(b"")
    done = threading.Event()

    def copy() -> None:
        with growing.open("ab") as fh:
            for _ in range(8):
                fh.write(b"y" * 1000)
                fh.flush()
                time.sleep(0.15)
        done.set()

    writer = threading.Thread(target=copy)
    writer.start()
    assert quiet([old, growing], 0.5) == [old], "the sensor counts only files at rest"
    ready, busy = settle([old, growing], 0.5, max_wait=30)
    writer.join()
    assert busy == []
    assert ready == [old, growing]
    assert done.is_set(), "settle() returned while the copy was still writing"
    assert growing.stat().st_size == 8000


def test_a_file_that_never_stops_growing_is_left_in_the_landing_folder(tmp_path: Path) -> None:
    clock = {"now": 1_000_000.0}
    growing = tmp_path / "growing.xlsx"

    def tick(seconds: float) -> None:  # every pause, the copy writes more
        clock["now"] += seconds
        with growing.open("ab") as fh:
            fh.write(b"z")
        os.utime(growing, (clock["now"], clock["now"]))

    tick(0)
    ready, busy = settle([growing], 60, clock=lambda: clock["now"], sleep=tick)
    assert (ready, busy) == ([], [growing])
    assert clock["now"] >= 1_000_000.0 + 5 * 60, "it waited five quiet periods before giving up"


def test_files_left_in_earlier_dates_folders_are_late(tmp_path: Path) -> None:
    day = dt.date(2026, 1, 8)
    for folder, name in (("2026-01-07", "late.xlsx"), ("2026-01-01", "too_old.xlsx"), ("2026-01-08", "today.xlsx")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / name).write_bytes(b"x")
    (tmp_path / "2026-01-06").mkdir()
    (tmp_path / "2026-01-06" / "~$lock.xlsx").write_bytes(b"x")  # an open workbook's lock: not a delivery
    found = late_files(tmp_path, day, lookback_days=3)
    assert [(d, p.name) for d, p in found] == [(dt.date(2026, 1, 7), "late.xlsx")]
