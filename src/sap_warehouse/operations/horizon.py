"""How far ahead the warehouse's calendar reaches: dims.dim_date and the monthly partitions, and the
public holidays in it.

The migrations make both for 2020-01-01..2030-12-31; the maintenance DAG keeps them
``warehouse_horizon_months`` (default 24) months ahead of its run date through
operations.extend_horizon, and the calendar's public holidays as the ``holidays`` library gives them
for the country of site.yaml (lunar Tet and Hung Kings' day included) through sync_holidays. A daily
run checks that its business date is inside dims.dim_date before it loads anything, so a lapsed
horizon is one clear error, not a failure deep in a fact build.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

import pendulum
import psycopg

from sap_warehouse.core import settings
from sap_warehouse.core.db import OWNER_CONN_ID, connect, first_row
from sap_warehouse.core.registry import site, sql_file

log = logging.getLogger(__name__)

DEFAULT_MONTHS = settings.default("warehouse_horizon_months")


class HorizonError(RuntimeError):
    """A business date lies beyond the warehouse's calendar."""


def extend(today: dt.date, months: int = DEFAULT_MONTHS, *, conninfo: str | None = None) -> dict:
    """Calendar days and monthly partitions through the end of the month ``months`` after ``today``."""
    through = pendulum.date(today.year, today.month, 1).add(months=months + 1).subtract(days=1)
    with connect(conninfo, conn_id=OWNER_CONN_ID) as conn:  # partitions are the owner's to make
        made, added, ends = first_row(
            conn.execute(
                "SELECT * FROM operations.extend_horizon(%s)", (dt.date(through.year, through.month, through.day),)
            )
        )
        starts = conn.execute("SELECT min(calendar_date) FROM dims.dim_date").fetchone()[0]
        holidays = sync_holidays(conn, starts.year, ends.year)
    log.info("horizon: %s partitions and %s calendar days added; the calendar ends %s", made, added, ends)
    return {"partitions_made": made, "dates_added": added, "calendar_ends": ends.isoformat(), **holidays}


def check(day: dt.date, *, conninfo: str | None = None) -> None:
    """Raise HorizonError unless ``day`` is a date of dims.dim_date."""
    with connect(conninfo) as conn:
        first, last = first_row(conn.execute("SELECT min(calendar_date), max(calendar_date) FROM dims.dim_date"))
    if first is None or not first <= day <= last:
        raise HorizonError(
            f"business date {day} is outside the warehouse calendar ({first}..{last}, dims.dim_date and the "
            f"monthly partitions). Trigger warehouse_maintenance, whose extend_horizon task keeps the calendar "
            f"{DEFAULT_MONTHS} months ahead (Variable warehouse_horizon_months), then re-run this date."
        )


def public_holidays(years: Iterable[int], config: dict | None = None) -> list[tuple[dt.date, str]]:
    """(date, name) of every public holiday of ``years`` in the country of site.yaml ``holidays``
    (default Vietnam), from the ``holidays`` library: lunar ones (Tet, Hung Kings) and the days off
    the government substitutes included; a date with two holidays gives two rows."""
    import holidays

    settings = (config if config is not None else site()).get("holidays") or {}
    calendar = holidays.country_holidays(
        settings.get("country", "VN"), subdiv=settings.get("subdivision"), years=sorted(set(years))
    )
    return sorted((day, name) for day in calendar for name in calendar.get_list(day))


def sync_holidays(conn: psycopg.Connection, first_year: int, last_year: int, config: dict | None = None) -> dict:
    """Make the library's rows of dims.holiday_calendar (source 'library') for ``first_year`` ..
    ``last_year`` what the library says now, leave the plant's own rows (source 'plant': company
    holidays, shutdowns, events) alone, and bring dims.dim_date up to date. Inside the caller's
    transaction."""
    rows = public_holidays(range(first_year, last_year + 1), config)
    conn.execute("CREATE TEMP TABLE library_holiday (calendar_date date, holiday_name text) ON COMMIT DROP")
    with conn.cursor().copy("COPY library_holiday (calendar_date, holiday_name) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    removed = conn.execute(
        """DELETE FROM dims.holiday_calendar h
            WHERE h.source = 'library'
              AND h.calendar_date BETWEEN make_date(%(first)s, 1, 1) AND make_date(%(last)s, 12, 31)
              AND NOT EXISTS (SELECT FROM library_holiday l
                               WHERE l.calendar_date = h.calendar_date AND l.holiday_name = h.holiday_name)""",
        {"first": first_year, "last": last_year},
    ).rowcount
    added = conn.execute(
        """INSERT INTO dims.holiday_calendar (calendar_date, holiday_name, kind, source)
           SELECT calendar_date, holiday_name, 'public_holiday', 'library' FROM library_holiday
           ON CONFLICT (calendar_date, holiday_name) DO NOTHING"""
    ).rowcount
    conn.execute("DROP TABLE library_holiday")
    dates = conn.execute(sql_file("dims/dim_date.sql")).rowcount
    log.info(
        "holidays %s..%s: %s added, %s removed; %s calendar dates changed", first_year, last_year, added, removed, dates
    )
    return {"holidays_added": added, "holidays_removed": removed, "dates_changed": dates}
