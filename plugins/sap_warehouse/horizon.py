"""How far ahead the warehouse's calendar reaches: dims.dim_date and the monthly partitions.

The migrations make both for 2020-01-01..2030-12-31; the maintenance DAG keeps them
``warehouse_horizon_months`` (default 24) months ahead of its run date through
operations.extend_horizon. A daily run checks that its business date is inside dims.dim_date before
it loads anything, so a lapsed horizon is one clear error, not a failure deep in a fact build.
"""

from __future__ import annotations

import datetime as dt
import logging

import pendulum

from sap_warehouse.db import OWNER_CONN_ID, connect

log = logging.getLogger(__name__)

DEFAULT_MONTHS = 24


class HorizonError(RuntimeError):
    """A business date lies beyond the warehouse's calendar."""


def extend(today: dt.date, months: int = DEFAULT_MONTHS, *, conninfo: str | None = None) -> dict:
    """Calendar days and monthly partitions through the end of the month ``months`` after ``today``."""
    through = pendulum.date(today.year, today.month, 1).add(months=months + 1).subtract(days=1)
    with connect(conninfo, conn_id=OWNER_CONN_ID) as conn:  # partitions are the owner's to make
        made, added, ends = conn.execute(
            "SELECT * FROM operations.extend_horizon(%s)", (dt.date(through.year, through.month, through.day),)
        ).fetchone()
    log.info("horizon: %s partitions and %s calendar days added; the calendar ends %s", made, added, ends)
    return {"partitions_made": made, "dates_added": added, "calendar_ends": ends.isoformat()}


def check(day: dt.date, *, conninfo: str | None = None) -> None:
    """Raise HorizonError unless ``day`` is a date of dims.dim_date."""
    with connect(conninfo) as conn:
        first, last = conn.execute("SELECT min(calendar_date), max(calendar_date) FROM dims.dim_date").fetchone()
    if first is None or not first <= day <= last:
        raise HorizonError(
            f"business date {day} is outside the warehouse calendar ({first}..{last}, dims.dim_date and the "
            f"monthly partitions). Trigger warehouse_maintenance, whose extend_horizon task keeps the calendar "
            f"{DEFAULT_MONTHS} months ahead (Variable warehouse_horizon_months), then re-run this date."
        )
