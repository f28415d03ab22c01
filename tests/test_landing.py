"""When to stop waiting for late files."""

import datetime as dt

import pendulum

from sap_warehouse.landing import files_due, landing_ready


def test_files_are_due_the_next_morning_in_plant_time() -> None:
    due = files_due(dt.date(2026, 1, 5), "09:00")
    assert due == pendulum.datetime(2026, 1, 6, 2, 0, tz="UTC")


def test_waiting_ends_when_every_expected_report_has_a_file_or_the_deadline_passes() -> None:
    due = pendulum.datetime(2026, 1, 6, 9, tz="Asia/Ho_Chi_Minh")
    before, after = due.subtract(minutes=1), due.add(minutes=1)
    assert not landing_ready(files=3, expected=6, due=due, now=before)
    assert landing_ready(files=6, expected=6, due=due, now=before)
    assert landing_ready(files=0, expected=6, due=due, now=after)
