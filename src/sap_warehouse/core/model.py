"""The warehouse model: the dimensions, facts and views the layers build, in the order they are built.

One list read by every part that names model objects: the daily DAG's build tasks (a task per fact,
ordered by ``after``; the list is Python, so parsing the DAG reads no file), layers (build order,
refresh order), the facts gate (each fact's slice), the tests, the demo and docs/model.md's table.
Dimensions are built from include/sql/dims/<name>.sql, facts from include/sql/facts/<name>.sql, views
from include/sql/marts/<name>.sql (refreshed in this order: a view may read only those before it). A
fact's slice is the rows whose ``date_column`` is one of the dates its slice file
(include/sql/slices/<dates>.sql, ``:business_date`` standing for D) gives for a business date: the
build rebuilds exactly those rows, the gate judges exactly those rows, from the same SQL.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import psycopg
from psycopg import sql

from sap_warehouse.core.registry import sql_file

# How a business date is written in the SQL of a slice or a suite: D, replaced before it runs.
DATE_TOKEN = re.compile(r"(?<![:\w]):business_date\b")
SLICE_QUERY = "SELECT * FROM facts.{fact} WHERE {column} = ANY (ARRAY({dates}))"
NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Dimension:
    name: str
    about: str

    @property
    def sql_file(self) -> str:
        return f"dims/{self.name}.sql"


@dataclass(frozen=True)
class Fact:
    name: str
    about: str
    date_column: str  # the column the slice selects rows by
    dates: str  # the slice: include/sql/slices/<dates>.sql, and the build's parameter of that name
    after: tuple[str, ...] = ()  # facts this one reads, built before it

    def slice_query(self) -> str:
        """D's slice of the fact (``:business_date`` standing for D): the rows its build of D rewrites."""
        return SLICE_QUERY.format(fact=self.name, column=self.date_column, dates=slice_sql(self.dates))


@dataclass(frozen=True)
class View:
    name: str
    about: str


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("dim_movement_type", "SAP movement types with their category and direction (site.yaml's movement_types)"),
    Dimension("dim_date", "the calendar, kept two years ahead by the maintenance DAG"),
    Dimension("dim_material", "materials from the material master ZRSD006; codes it lacks become inferred members"),
    Dimension("dim_customer", "customers described by billing, then AR aging, then deliveries (SAP sends no master)"),
    Dimension("dim_location", "plants and storage locations the reports name"),
    Dimension(
        "dim_unit_conversion", "kg per unit of each material, from billing net weights (deliveries when never billed)"
    ),
    Dimension("dim_distribution_channel", "distribution channels with their names (site.yaml's distribution_channels)"),
    Dimension("dim_yield_rating", "the yield bands that rate a finished order (site.yaml's yield_ratings)"),
)
FACTS: tuple[Fact, ...] = (
    Fact(
        "fact_inventory",
        "net MB51 movement per material, location, unit and movement date",
        "movement_date",
        "movement_dates",
    ),
    Fact("fact_billing", "one row per ZRSD002 billing line, cancelled lines left out", "billing_date", "billing_dates"),
    Fact(
        "fact_production",
        "one row per COOISPI production order, from its latest export",
        "business_date",
        "business_dates",
    ),
    Fact("fact_ar_aging", "the ZRFI005 AR aging snapshot of each business date", "snapshot_date", "business_dates"),
    Fact(
        "fact_stock_snapshot",
        "MB52 stock counts per material, plant, storage location and unit",
        "snapshot_date",
        "business_dates",
    ),
    Fact(
        "fact_production_chain",
        "batch genealogy links, parent batch consumed to child batch made (P03 -> P02 -> P01)",
        "business_date",
        "business_dates",
        after=("fact_production",),
    ),
)
VIEWS: tuple[View, ...] = (
    View("view_inventory_summary", "stock on hand per material, plant, storage location and unit, with its basis"),
    View("view_sales_performance", "one row per non-cancelled billing line, with channel, cost and margin"),
    View("view_sales_monthly", "billing per month, salesman, customer, material and currency"),
    View("view_production_yield", "production orders that delivered, with their yield and rating"),
    View("view_ar_aging", "AR aging per snapshot date, customer and currency"),
    View("view_stock_reconciliation", "each MB52 count against the previous count plus the movements between"),
)


def check(dimensions: tuple[Dimension, ...], facts: tuple[Fact, ...], views: tuple[View, ...]) -> None:
    """A model list that contradicts itself raises ValueError saying what to fix: a name listed twice, a
    name that is not one (it is written into SQL), a fact built after one not listed before it."""
    names = [item.name for part in (dimensions, facts, views) for item in part]
    doubled = sorted({name for name in names if names.count(name) > 1})
    if doubled:
        raise ValueError(f"the model names {', '.join(doubled)} more than once")
    odd = [word for word in names + [w for f in facts for w in (f.date_column, f.dates)] if not NAME.fullmatch(word)]
    if odd:
        raise ValueError(f"the model: {', '.join(odd)} is not a name (a-z, 0-9, _)")
    for position, fact in enumerate(facts):
        unknown = [name for name in fact.after if name not in [f.name for f in facts[:position]]]
        if unknown:
            raise ValueError(
                f"the model: {fact.name} is built after {', '.join(unknown)}, which is not a fact listed before it: "
                "list the facts it reads first"
            )


check(DIMENSIONS, FACTS, VIEWS)


def dimensions() -> tuple[Dimension, ...]:
    """The dimensions in build order."""
    return DIMENSIONS


def facts() -> dict[str, Fact]:
    """The facts by name, in build order."""
    return {fact.name: fact for fact in FACTS}


def views() -> tuple[View, ...]:
    """The materialized views in refresh order."""
    return VIEWS


def slice_names() -> tuple[str, ...]:
    """The date sets the facts' slices use (the build parameters of those names)."""
    return tuple(dict.fromkeys(fact.dates for fact in facts().values()))


def slice_sql(dates: str) -> str:
    """include/sql/slices/<dates>.sql without its comments: one SELECT of dates, ``:business_date`` for D."""
    text = sql_file(f"slices/{dates}.sql")
    return " ".join(line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("--"))


def slice_dates(conn: psycopg.Connection, dates: str, business_dates: list[dt.date]) -> list[dt.date]:
    """Every date of the ``dates`` slice of any of ``business_dates``, in order."""
    per_date = sql.SQL(DATE_TOKEN.sub("b.business_date", slice_sql(dates)))
    query = sql.SQL(
        "SELECT DISTINCT s.day FROM unnest(%s::date[]) AS b(business_date) "
        "CROSS JOIN LATERAL ({}) AS s(day) WHERE s.day IS NOT NULL ORDER BY 1"
    ).format(per_date)
    return [row[0] for row in conn.execute(query, (list(business_dates),))]
