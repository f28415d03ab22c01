"""A gate over a range of business dates in one pass, with the verdict of one pass per date.

A gate judges each business date on its own slice. Date by date, Great Expectations spends most of
a gate in Python (a metric graph per expectation and batch: about 3 s a date for both gates), which
would dominate a range run's backfill. So a range's dates are screened first in plain SQL written
from the suites' own expectation definitions (never from the SQL GX emits, whose shape may change
with any GX release): per suite one statement reads each date's slice (the suite's batch_query with
that date for ``:business_date``) and counts, grouped by date, the rows each expectation finds
unexpected; each ``unexpected_rows_query`` runs once on every date's slice, in a statement of its own.
sap_warehouse.gates.quality then validates with GX, suites as written, the range's last date and each date
where the screen found an unexpected row, so a failing date stores exactly what a run of it alone
stores (counts, samples, Data Docs page), and a date the screen passed stores a success. A date whose
findings are only warnings on column values (``DESCRIBED``) is not validated again: ``described`` reads
what GX's SUMMARY result holds of them (the column's non-null count, the first unexpected values).

The screen follows GX's meaning of each expectation it knows (a NULL value is never unexpected but
to the null checks; a bound given as ``$PARAMETER`` is that date's: business_date, month_ago,
next_day, future_limit; any other parameter is a constant of the run):

  expect_column_values_to_not_be_null / _to_be_null, _to_be_in_set / _to_not_be_in_set,
  _to_match_regex / _to_not_match_regex (PostgreSQL's ``~``, as GX uses), _to_be_between,
  expect_column_value_lengths_to_be_between, expect_column_values_to_be_unique and
  expect_compound_columns_to_be_unique (within the date's slice), unexpected_rows_expectation.

A suite holding anything else (another type, ``mostly``, a ``row_condition``, an unknown option) is
not screened: ``NotScreenable`` says which expectation and why, quality logs it, and the suite is
validated date by date. tests/db/test_range_gate.py checks that every shipped suite screens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

from sap_warehouse.core.model import DATE_TOKEN

# An expectation, its kwargs or the parameters, as the suite JSON holds them.
Json = dict[str, Any]

# A date-dependent parameter -> the column of the range's dates holding it for each date.
DATE_PARAMETERS = {
    "business_date": "gate_date",
    "month_ago": "gate_month_ago",
    "next_day": "gate_next_day",
    "future_limit": "gate_future_limit",
}
# The range's dates with their bounds (the dates and future_days written as literals: the suites' SQL
# may hold a % that query parameters would take for a placeholder).
DAYS = sql.SQL(
    "(SELECT gate_date, gate_date - 31 AS gate_month_ago, gate_date + 1 AS gate_next_day, "
    "gate_date + {future_days} AS gate_future_limit FROM unnest(ARRAY[{days}]::date[]) AS g(gate_date)) AS d"
)
OPTIONS = {
    "column",
    "column_list",
    "value_set",
    "regex",
    "min_value",
    "max_value",
    "strict_min",
    "strict_max",
    "unexpected_rows_query",
}


class NotScreenable(ValueError):
    """An expectation the screen cannot judge on its own (the suite is validated date by date)."""


def _slice(batch_query: str) -> sql.Composable:
    """The suite's batch_query for each date of ``d``: ``:business_date`` is that date."""
    return sql.SQL(DATE_TOKEN.sub("d.gate_date", batch_query))


def _days(dates: list[dt.date], future_days: int) -> sql.Composed:
    listed = sql.SQL(", ").join(sql.Literal(day.isoformat()) for day in sorted(dates))
    return DAYS.format(days=listed, future_days=sql.Literal(int(future_days)))


def _value(value: Any, parameters: Json) -> sql.Composable:
    """A bound or a set: a date parameter is the date's own column, another parameter its value."""
    if isinstance(value, dict):
        name = value.get("$PARAMETER")
        if set(value) != {"$PARAMETER"} or not (name in DATE_PARAMETERS or name in parameters):
            raise NotScreenable(f"parameter {value!r} is not one the gate gives")
        if name in DATE_PARAMETERS:
            return sql.SQL("d.") + sql.Identifier(DATE_PARAMETERS[name])
        value = parameters[name]
    if isinstance(value, list | tuple):
        if not value:
            raise NotScreenable("an empty value_set")
        return sql.SQL(", ").join(_value(v, parameters) for v in value)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise NotScreenable(f"value {value!r} is not a constant the screen can compare")
    return sql.Literal(value)


def _column(kwargs: Json) -> sql.Composable:
    return sql.SQL("s.") + sql.Identifier(kwargs["column"])


def _between(kwargs: Json, parameters: Json, measure: sql.Composable) -> sql.Composable:
    sides = []
    if kwargs.get("min_value") is not None:
        below = "<=" if kwargs.get("strict_min") else "<"
        sides.append(sql.SQL("{} {} {}").format(measure, sql.SQL(below), _value(kwargs["min_value"], parameters)))
    if kwargs.get("max_value") is not None:
        above = ">=" if kwargs.get("strict_max") else ">"
        sides.append(sql.SQL("{} {} {}").format(measure, sql.SQL(above), _value(kwargs["max_value"], parameters)))
    if not sides:
        raise NotScreenable("a between without min_value or max_value")
    return sql.SQL("{} IS NOT NULL AND ({})").format(measure, sql.SQL(" OR ").join(sides))


def _in_set(kwargs: Json, parameters: Json) -> sql.Composable:
    return sql.SQL("{0} IS NOT NULL AND {0} NOT IN ({1})").format(
        _column(kwargs), _value(kwargs["value_set"], parameters)
    )


def _unique(columns: list[str]) -> sql.Composable:
    """A row whose value(s) another row of the same date's slice repeats; a row of NULLs alone is not."""
    names = [sql.SQL("s.") + sql.Identifier(c) for c in columns]
    return sql.SQL("NOT ({nulls}) AND count(*) OVER (PARTITION BY d.gate_date, {names}) > 1").format(
        nulls=sql.SQL(" AND ").join(sql.SQL("{} IS NULL").format(n) for n in names),
        names=sql.SQL(", ").join(names),
    )


# Expectation type -> the condition (on a row ``s`` of the date ``d``'s slice) that makes the row unexpected.
ROW_CHECKS: dict[str, Callable[[Json, Json], sql.Composable]] = {
    "expect_column_values_to_not_be_null": lambda k, p: sql.SQL("{} IS NULL").format(_column(k)),
    "expect_column_values_to_be_null": lambda k, p: sql.SQL("{} IS NOT NULL").format(_column(k)),
    "expect_column_values_to_be_in_set": _in_set,
    "expect_column_values_to_not_be_in_set": lambda k, p: sql.SQL("{} IN ({})").format(
        _column(k), _value(k["value_set"], p)
    ),
    "expect_column_values_to_match_regex": lambda k, p: sql.SQL("NOT ({}::text ~ {})").format(
        _column(k), sql.Literal(k["regex"])
    ),
    "expect_column_values_to_not_match_regex": lambda k, p: sql.SQL("{}::text ~ {}").format(
        _column(k), sql.Literal(k["regex"])
    ),
    "expect_column_values_to_be_between": lambda k, p: _between(k, p, _column(k)),
    "expect_column_value_lengths_to_be_between": lambda k, p: _between(
        k, p, sql.SQL("length({}::text)").format(_column(k))
    ),
    "expect_column_values_to_be_unique": lambda k, p: _unique([k["column"]]),
    "expect_compound_columns_to_be_unique": lambda k, p: _unique(k["column_list"]),
}


def _checked(expectation: Json) -> Json:
    """The expectation's kwargs, or NotScreenable when it holds an option the screen does not know."""
    kwargs: Json = expectation["kwargs"]
    unknown = set(kwargs) - OPTIONS
    if unknown:
        raise NotScreenable(f"#{expectation['meta']['number']} {expectation['type']}: option(s) {sorted(unknown)}")
    if expectation["type"] not in ROW_CHECKS and expectation["type"] != "unexpected_rows_expectation":
        raise NotScreenable(f"#{expectation['meta']['number']} {expectation['type']}: not a type the screen knows")
    return kwargs


def screen(
    expectations: list[Json], batch_query: str, parameters: Json, dates: list[dt.date], future_days: int
) -> list[sql.Composed]:
    """The statements that screen a suite (its expectations numbered in ``meta.number``) over
    ``dates``: each returns ``(gate_date, number, unexpected)`` for every date and expectation with
    unexpected rows. ``parameters``: the run's expectation parameters (the date-independent ones are
    read from it); ``future_days``: how far after a date its future_limit lies."""
    rows, queries = [], []
    for expectation in expectations:
        kwargs, number = _checked(expectation), expectation["meta"]["number"]
        if expectation["type"] == "unexpected_rows_expectation":
            queries.append((number, kwargs["unexpected_rows_query"]))
        else:
            rows.append((number, ROW_CHECKS[expectation["type"]](kwargs, parameters)))
    days = _days(dates, future_days)
    statements = [_rows_statement(rows, batch_query, days)] if rows else []
    statements += [_query_statement(number, query, batch_query, days) for number, query in queries]
    return statements


def _rows_statement(rows: list[tuple[int, sql.Composable]], batch_query: str, days: sql.Composed) -> sql.Composed:
    """One read of every date's slice: per date, each row-level expectation's unexpected rows."""
    flags = sql.SQL(", ").join(sql.SQL("({}) AS {}").format(cond, sql.Identifier(f"u{n}")) for n, cond in rows)
    counts = sql.SQL(", ").join(
        sql.SQL("count(*) FILTER (WHERE {0}) AS {0}").format(sql.Identifier(f"u{n}")) for n, _ in rows
    )
    pairs = sql.SQL(", ").join(sql.SQL("({}, t.{})").format(sql.Literal(n), sql.Identifier(f"u{n}")) for n, _ in rows)
    return sql.SQL(
        "SELECT t.gate_date, v.number, v.unexpected FROM ("
        "SELECT gate_date, {counts} FROM (SELECT d.gate_date, {flags} FROM {days}, LATERAL ({slice}) AS s) AS f "
        "GROUP BY gate_date) AS t, LATERAL (VALUES {pairs}) AS v(number, unexpected) WHERE v.unexpected > 0"
    ).format(counts=counts, flags=flags, days=days, slice=_slice(batch_query), pairs=pairs)


def _query_statement(number: int, query: str, batch_query: str, days: sql.Composed) -> sql.Composed:
    """An unexpected_rows_query on every date's slice: ``{batch}`` that slice, ``:business_date`` the date."""
    per_date = _slice(query.replace("{batch}", "(" + batch_query + ") AS gate_slice"))
    return sql.SQL(
        "SELECT d.gate_date, {number}, count(*) FROM {days}, LATERAL ({query}) AS u GROUP BY d.gate_date"
    ).format(number=sql.Literal(number), days=days, query=per_date)


# The column-value expectations whose result GX (SUMMARY) reports as the column's unexpected values
# and their share of its non-null values: what a warning of a date before a range's last stores.
DESCRIBED = {
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex",
    "expect_column_values_to_be_between",
    "expect_column_value_lengths_to_be_between",
}


def described(
    expectation: Json, batch_query: str, parameters: Json, day: dt.date, future_days: int, limit: int
) -> sql.Composed:
    """The statement that reads what GX's SUMMARY result holds of a column-value expectation on one
    date's slice: ``(nonnull, sample)``, the column's non-null values counted and the first ``limit``
    unexpected values in the slice's order (GX's ``partial_unexpected_list``)."""
    kwargs = _checked(expectation)
    if expectation["type"] not in DESCRIBED:
        raise NotScreenable(f"#{expectation['meta']['number']} {expectation['type']}: not described from SQL")
    days, column = _days([day], future_days), _column(kwargs)
    return sql.SQL(
        "SELECT (SELECT count({column}) FROM {days}, LATERAL ({slice}) AS s), "
        "ARRAY(SELECT {column} FROM {days}, LATERAL ({slice}) AS s WHERE {unexpected} LIMIT {limit})"
    ).format(
        column=column,
        days=days,
        slice=_slice(batch_query),
        unexpected=ROW_CHECKS[expectation["type"]](kwargs, parameters),
        limit=sql.Literal(int(limit)),
    )


def failing(conn: psycopg.Connection, statements: list[sql.Composed]) -> dict[dt.date, dict[int, int]]:
    """Run a suite's screen: per date with unexpected rows, expectation number -> unexpected rows."""
    found: dict[dt.date, dict[int, int]] = {}
    for statement in statements:
        with conn.cursor() as cur:
            cur.execute(statement)
            for day, number, unexpected in cur.fetchall():
                found.setdefault(day, {})[number] = unexpected
    return found
