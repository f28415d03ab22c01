"""The business date rule (docs/rules.md), as sap_warehouse.core.business_date implements it."""

import datetime as dt

import pendulum
import pytest

from sap_warehouse.core.business_date import MAX_RANGE_DAYS, DateSpan, resolve, resolve_span


def test_param_wins() -> None:
    start = pendulum.datetime(2026, 3, 1, 6, tz="Asia/Ho_Chi_Minh")
    assert resolve("2026-01-02", start) == dt.date(2026, 1, 2)


def test_scheduled_run_takes_the_first_day_of_its_interval_in_plant_time() -> None:
    # 23:00 UTC on 1 January is 06:00 on 2 January in Ho Chi Minh City.
    assert resolve(None, pendulum.datetime(2026, 1, 1, 23, tz="UTC")) == dt.date(2026, 1, 2)


def test_run_without_param_or_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="business_date Param"):
        resolve(None, None)


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday", "02.01.2026"])
def test_malformed_param_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        resolve(bad, None)


def test_date_before_the_date_dimension_is_refused() -> None:
    with pytest.raises(ValueError, match="before 2020-01-01"):
        resolve("2019-12-31", None)


def test_a_date_past_the_migrations_calendar_resolves() -> None:
    """The calendar's far end moves (the maintenance DAG extends it); the pure rule has no fixed end."""
    assert resolve("2031-01-01", None) == dt.date(2031, 1, 1)


def test_a_range_run_takes_every_date_from_business_date_to_business_date_to() -> None:
    span = resolve_span("2026-01-30", "2026-02-02", None)
    assert span.dates == [dt.date(2026, 1, 30), dt.date(2026, 1, 31), dt.date(2026, 2, 1), dt.date(2026, 2, 2)]
    assert (len(span), span.label) == (4, "2026-01-30..2026-02-02")
    assert resolve_span("2026-01-30", "2026-01-30", None).dates == [dt.date(2026, 1, 30)]
    one = resolve_span("2026-01-30", None, None)
    assert (one.first, one.last, one.label) == (dt.date(2026, 1, 30), dt.date(2026, 1, 30), "2026-01-30")


def test_a_span_travels_between_tasks_as_its_iso_dates_and_comes_back_the_same() -> None:
    span = DateSpan(dt.date(2026, 2, 27), dt.date(2026, 3, 2))
    assert span.iso() == ["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"]
    assert DateSpan.from_iso(span.iso()) == span
    assert DateSpan.from_iso(["2026-03-02"]) == DateSpan.of(dt.date(2026, 3, 2))
    assert list(span) == span.dates


def test_a_span_that_ends_before_it_starts_or_has_no_dates_is_refused() -> None:
    with pytest.raises(ValueError, match="ends"):
        DateSpan(dt.date(2026, 3, 2), dt.date(2026, 3, 1))
    with pytest.raises(ValueError, match="empty"):
        DateSpan.from_iso([])


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        ("2026-02-02", "2026-01-30", "before business_date"),
        (None, "2026-01-30", "needs business_date"),
        ("2026-01-01", "2026-02-30", "not a date"),
        ("2024-01-01", "2026-01-01", f"at most {MAX_RANGE_DAYS}"),
    ],
)
def test_a_range_that_is_backwards_open_malformed_or_too_long_is_refused(first, last, message: str) -> None:
    start = pendulum.datetime(2026, 3, 1, 6, tz="Asia/Ho_Chi_Minh")
    with pytest.raises(ValueError, match=message):
        resolve_span(first, last, start)
