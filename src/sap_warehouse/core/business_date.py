"""The business date rule: every run processes one business date D, or one range of them.

- A run given the ``business_date`` Param (manual trigger, ``dags test -c``) processes that date;
  given ``business_date_to`` as well, every date from D to it, in one run (a range run).
- Otherwise D is the first day of the run's data interval, in the plant's time zone: the
  scheduled run for interval [D 06:00, D+1 06:00) runs at D+1 06:00 and processes D; a backfill
  from A to B creates one such run per D.
- D must not precede the date dimension's first day (2020-01-01). Its far end moves: the maintenance
  DAG keeps it two years ahead, and the daily run checks D against it (sap_warehouse.operations.horizon).
A run's dates travel as one ``DateSpan`` (first, last, every date between; a label for logs); tasks hand
it to each other as its ISO dates (``span.iso()``, read back by ``DateSpan.from_iso``), which the
Airflow UI shows as they are. Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pendulum

BUSINESS_TIMEZONE = "Asia/Ho_Chi_Minh"
RUN_HOUR = 6  # the scheduled run of D starts at D+1 06:00 plant time (its data interval's end)
FIRST_DATE = dt.date(2020, 1, 1)
MAX_RANGE_DAYS = 731  # two years: the calendar's reach ahead, and a bound on one run's work


@dataclass(frozen=True)
class DateSpan:
    """The business dates a run (or a step of it) works on: ``first``..``last``, both included."""

    first: dt.date
    last: dt.date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"the range ends ({self.last}) before it starts ({self.first})")

    @classmethod
    def of(cls, first: dt.date, last: dt.date | None = None) -> DateSpan:
        """``first`` alone, or ``first``..``last``."""
        return cls(first, last or first)

    @classmethod
    def from_iso(cls, dates: Sequence[str]) -> DateSpan:
        """The span of dates as tasks hand them on (ISO strings, in order)."""
        if not dates:
            raise ValueError("a run's dates cannot be empty")
        return cls(dt.date.fromisoformat(dates[0]), dt.date.fromisoformat(dates[-1]))

    @property
    def dates(self) -> list[dt.date]:
        """Every date of the span, in order."""
        return [self.first + dt.timedelta(days=i) for i in range(len(self))]

    @property
    def label(self) -> str:
        """How logs and messages name the span: ``2026-03-02`` or ``2026-03-01..2026-03-31``."""
        return str(self.first) if self.first == self.last else f"{self.first}..{self.last}"

    def iso(self) -> list[str]:
        """The dates as ISO strings: what one task returns to the next."""
        return [day.isoformat() for day in self.dates]

    def __len__(self) -> int:
        return (self.last - self.first).days + 1

    def __iter__(self) -> Iterator[dt.date]:
        return iter(self.dates)


def of_interval(data_interval_start: dt.datetime) -> dt.date:
    """The business date a data interval covers: the plant-time date its start falls on."""
    return pendulum.instance(data_interval_start).in_timezone(BUSINESS_TIMEZONE).date()


def resolve(param: str | None, data_interval_start: dt.datetime | None) -> dt.date:
    """Business date from the run's Param or, failing that, its data interval."""
    if param:
        try:
            day = dt.date.fromisoformat(param)
        except ValueError as exc:
            raise ValueError(f"business_date Param {param!r} is not a date; give it as YYYY-MM-DD") from exc
    elif data_interval_start is not None:
        day = of_interval(data_interval_start)
    else:
        raise ValueError("This run has no data interval: trigger it with the business_date Param (YYYY-MM-DD)")
    if day < FIRST_DATE:
        raise ValueError(f"business date {day} is before {FIRST_DATE}, the first day of dims.dim_date")
    return day


def resolve_span(param: str | None, param_to: str | None, data_interval_start: dt.datetime | None) -> DateSpan:
    """The business dates of a run: D alone, or D..``business_date_to`` for a range run."""
    first = resolve(param, data_interval_start)
    if not param_to:
        return DateSpan.of(first)
    if not param:
        raise ValueError("business_date_to needs business_date: give the range's first date too")
    try:
        last = dt.date.fromisoformat(param_to)
    except ValueError as exc:
        raise ValueError(f"business_date_to Param {param_to!r} is not a date; give it as YYYY-MM-DD") from exc
    days = (last - first).days + 1
    if days < 1:
        raise ValueError(f"business_date_to {last} is before business_date {first}; swap them")
    if days > MAX_RANGE_DAYS:
        raise ValueError(f"{first}..{last} is {days} dates; a range run takes at most {MAX_RANGE_DAYS}: split it")
    return DateSpan(first, last)
