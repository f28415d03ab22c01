"""The warehouse model: the dimensions, facts and views the layers build, from include/config/model.yaml.

One list read by every part that names model objects: the daily DAG's build tasks (a task per fact,
ordered by ``after``), layers (build order, refresh order), the facts gate (each fact's slice), the
tests and the demo. A fact's slice is the rows whose ``date_column`` is one of the dates its slice
file (include/sql/slices/<dates>.sql, ``:business_date`` standing for D) gives for a business date:
the build rebuilds exactly those rows, the gate judges exactly those rows, from the same SQL.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import psycopg
import yaml
from psycopg import sql

from sap_warehouse.registry import CONFIG_DIR, sql_file

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


@functools.cache
def _spec() -> dict:
    with open(CONFIG_DIR / "model.yaml", encoding="utf-8") as fh:
        spec = yaml.safe_load(fh)
    names = [item["name"] for part in ("dimensions", "facts", "views") for item in spec[part]]
    written = names + [word for fact in spec["facts"] for word in (fact["date_column"], fact["dates"])]
    odd = [word for word in written if not NAME.fullmatch(str(word))]
    if odd:
        raise ValueError(f"include/config/model.yaml: {', '.join(map(str, odd))} is not a name (a-z, 0-9, _)")
    doubled = sorted({name for name in names if names.count(name) > 1})
    if doubled:
        raise ValueError(f"include/config/model.yaml names {', '.join(doubled)} more than once")
    facts = [fact["name"] for fact in spec["facts"]]
    for position, fact in enumerate(spec["facts"]):
        unknown = [name for name in fact.get("after", []) if name not in facts[:position]]
        if unknown:
            raise ValueError(
                f"include/config/model.yaml: {fact['name']} is built after {', '.join(unknown)}, which is not a "
                "fact listed before it: list the facts it reads first"
            )
    return spec


def dimensions() -> tuple[Dimension, ...]:
    """The dimensions in build order."""
    return tuple(Dimension(d["name"], d["about"]) for d in _spec()["dimensions"])


def facts() -> dict[str, Fact]:
    """The facts by name, in build order."""
    return {
        f["name"]: Fact(f["name"], f["about"], f["date_column"], f["dates"], tuple(f.get("after", [])))
        for f in _spec()["facts"]
    }


def views() -> tuple[View, ...]:
    """The materialized views in refresh order."""
    return tuple(View(v["name"], v["about"]) for v in _spec()["views"])


def slice_names() -> tuple[str, ...]:
    """The date sets the facts' slices use (the build parameters of those names)."""
    return tuple(dict.fromkeys(fact.dates for fact in facts().values()))


def slice_sql(dates: str) -> str:
    """include/sql/slices/<dates>.sql without its comments: one SELECT of dates, ``:business_date`` for D."""
    text = sql_file(f"slices/{dates}.sql")
    return " ".join(line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("--"))


def slice_dates(conn: psycopg.Connection, dates: str, business_dates: list) -> list:
    """Every date of the ``dates`` slice of any of ``business_dates``, in order."""
    per_date = sql.SQL(DATE_TOKEN.sub("b.business_date", slice_sql(dates)))
    query = sql.SQL(
        "SELECT DISTINCT s.day FROM unnest(%s::date[]) AS b(business_date) "
        "CROSS JOIN LATERAL ({}) AS s(day) WHERE s.day IS NOT NULL ORDER BY 1"
    ).format(per_date)
    return [row[0] for row in conn.execute(query, (list(business_dates),))]
