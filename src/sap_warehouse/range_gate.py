"""A gate over a range of business dates in one pass, with the verdict of one pass per date.

A gate judges each business date on its own slice. Date by date, Great Expectations spends most of
a gate in Python (a metric graph per expectation and batch: about 3 s a date for both gates), which
would dominate a range run's backfill. So a range's dates are screened together first: every suite
once, on the union of the dates' slices, each row tagged with the date whose slice it belongs to
(``gate_date``; a row in the slices of two dates is there twice), and each expectation rewritten so
that it passes on the union exactly when it would pass on every date's slice:

- a row-level expectation (not null, in a set, a format, constant bounds, ...) stays as written;
- uniqueness, of one column or compound, takes ``gate_date`` into its columns;
- a bound that depends on the date (``$PARAMETER`` business_date, month_ago, next_day, future_limit)
  becomes a comparison with that date's bound, which the tagged slice carries as a column;
- an ``unexpected_rows_query`` runs for each date (LATERAL over the dates) on that date's own slice
  (the suite's batch_query) with ``:business_date`` that date; it returns the date of each unexpected row.

The union is written once into an unlogged scratch table (only the columns the checks read) and
ANALYZEd, so GX's statements plan on real counts; the table is dropped after the screen.

A suite with an expectation outside these (an aggregate such as a row count or a mean, ``mostly``, a
date parameter elsewhere, a query with its own JOIN) is not screened: it runs date by date. For a
screened suite that fails, the dates of its unexpected rows are looked up and only those dates are
validated one by one with the expectations that failed there, as written, so a failing date stores the
same failures (counts, samples) as a run of that date alone (its Data Docs page shows those
expectations); a date that passes the screen stores a success with the screen's counts
(``statistics.range_screen``).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import re
from collections.abc import Iterator

from psycopg import sql

DATE_PARAMETERS = {  # expectation parameter -> the tagged slice's column holding it for each row's date
    "business_date": "gate_date",
    "month_ago": "gate_month_ago",
    "next_day": "gate_next_day",
    "future_limit": "gate_future_limit",
}
ROW_LEVEL = frozenset(  # each row passes or fails on its own values: the union fails where a date does
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_values_to_match_regex_list",
        "expect_column_values_to_not_match_regex_list",
        "expect_column_values_to_match_like_pattern",
        "expect_column_values_to_not_match_like_pattern",
        "expect_column_values_to_be_between",
        "expect_column_value_lengths_to_be_between",
        "expect_column_value_lengths_to_equal",
        "expect_column_pair_values_to_be_equal",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_pair_values_to_be_in_set",
        "expect_multicolumn_sum_to_equal",
        "expect_select_column_values_to_be_unique_within_record",
    }
)
JOIN = re.compile(r"\bjoin\b", re.IGNORECASE)
DATE_TOKEN = re.compile(r"(?<![:\w]):business_date\b")
# Templates filled with the suite's own SQL and the range's dates (date literals written from dt.date).
TAGGED_SLICES = (
    "SELECT gate_days.gate_date, gate_days.gate_date - 31 AS gate_month_ago, gate_days.gate_date + 1 AS gate_next_day, "
    "gate_days.gate_date + {future_days} AS gate_future_limit{columns} FROM unnest({days}) AS "
    "gate_days(gate_date), LATERAL ({query}) AS gate_slice"
)
# GX wants {batch} in an unexpected_rows_query; a screened one reads each date's own slice instead.
ROWS_PER_DATE = (
    "SELECT gate_days.gate_date FROM unnest({days}) AS gate_days(gate_date), LATERAL ({query}) AS u "
    "/* each date's own slice, not the screened batch: {{batch}} */"
)
SCRATCH_PREFIX = "gate_screen_"  # operations.gate_screen_<backend pid>_<n>: a screen's tagged unions


def _days(dates: list[dt.date]) -> str:
    return "ARRAY[" + ", ".join(f"DATE '{day.isoformat()}'" for day in sorted(dates)) + "]"


def batch_query(query: str, dates: list[dt.date], future_days: int, columns: set[str] | None = None) -> str:
    """The union of ``query``'s slices of ``dates``, each row tagged with its date and that date's
    bounds; of the slice's columns ``columns`` only (all when None)."""
    chosen = ", gate_slice.*" if columns is None else "".join(f', gate_slice."{c}"' for c in sorted(columns))
    return TAGGED_SLICES.format(
        days=_days(dates), future_days=int(future_days), columns=chosen,
        query=DATE_TOKEN.sub("gate_days.gate_date", query),
    )  # fmt: skip


def rows_query(query: str, dates: list[dt.date], batch: str) -> str:
    """``query`` (an unexpected_rows_query) for each of ``dates`` on that date's own slice (``batch``,
    the suite's batch_query): one row, the date, for each row the query returns on that date."""
    per_date = DATE_TOKEN.sub("gate_days.gate_date", query.replace("{batch}", f"({batch}) AS gate_slice"))
    return ROWS_PER_DATE.format(days=_days(dates), query=per_date)


def columns_of(expectations: list[dict]) -> set[str] | None:
    """The columns the screened row-level expectations read (None: all of them, for a row_condition)."""
    columns: set[str] = set()
    for expectation in expectations:
        kwargs = expectation["kwargs"]
        if kwargs.get("row_condition"):
            return None
        if expectation["type"] != "unexpected_rows_expectation":
            columns.update(
                kwargs.get("column_list") or [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
            )
    return columns - set(DATE_PARAMETERS.values())


@contextlib.contextmanager
def scratch_tables(conn, queries: dict[str, str]) -> Iterator[dict[str, str]]:
    """Each of ``queries`` (a tagged union) written once into an unlogged table of its own and
    ANALYZEd, so that GX's statements read real rows with real statistics (the unions' estimates are
    far off, and GX's uniqueness query reads its batch twice); by key, the SELECT of its table. ``conn``: an
    autocommit connection (GX reads through its own); the tables are dropped at the end, and those a
    killed screen left (their backend gone) at the start of the next."""
    for (drop,) in conn.execute(
        "SELECT format('DROP TABLE IF EXISTS operations.%%I', relname) FROM pg_stat_user_tables "
        "WHERE schemaname = 'operations' AND relname ~ %s AND split_part(relname, '_', 3)::int NOT IN "
        "(SELECT pid FROM pg_stat_activity)",
        (f"^{SCRATCH_PREFIX}[0-9]+_[0-9]+$",),
    ).fetchall():
        conn.execute(drop)
    tables: dict[str, sql.Identifier] = {}
    try:
        for number, (key, query) in enumerate(queries.items()):
            table = tables[key] = sql.Identifier("operations", f"{SCRATCH_PREFIX}{conn.info.backend_pid}_{number}")
            conn.execute(sql.SQL("CREATE UNLOGGED TABLE {} AS {}").format(table, sql.SQL(query.replace("%", "%%"))))
            conn.execute(sql.SQL("ANALYZE {}").format(table))
        yield {key: sql.SQL("SELECT * FROM {}").format(table).as_string(conn) for key, table in tables.items()}
    finally:
        for table in tables.values():
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))


def _parameter(value) -> str | None:
    """The date parameter ``value`` names ({"$PARAMETER": "future_limit"}), or None."""
    if isinstance(value, dict) and set(value) == {"$PARAMETER"}:
        return value["$PARAMETER"] if value["$PARAMETER"] in DATE_PARAMETERS else None
    return None


def _names_date(value) -> bool:
    if isinstance(value, dict):
        return _parameter(value) is not None or any(_names_date(v) for v in value.values())
    if isinstance(value, list):
        return any(_names_date(v) for v in value)
    return isinstance(value, str) and bool(DATE_TOKEN.search(value))


def _between(expectation: dict) -> list[dict]:
    """A between with a date-dependent bound as comparisons with the row's date's bound."""
    kwargs = expectation["kwargs"]
    column = kwargs["column"]
    keep = {k: v for k, v in kwargs.items() if k in ("row_condition", "condition_parser")}
    constant = {k: kwargs[k] for k in ("min_value", "max_value") if k in kwargs and _parameter(kwargs[k]) is None}
    parts = []
    if constant:
        strict = {k: kwargs[k] for k in ("strict_min", "strict_max") if k in kwargs}
        parts.append({"type": expectation["type"], "kwargs": {"column": column, **constant, **strict, **keep}})
    for side, strict_key in (("min_value", "strict_min"), ("max_value", "strict_max")):
        name = _parameter(kwargs.get(side))
        if name is None:
            continue
        bound = DATE_PARAMETERS[name]
        greater, smaller = (column, bound) if side == "min_value" else (bound, column)
        parts.append(
            {
                "type": "expect_column_pair_values_a_to_be_greater_than_b",
                "kwargs": {"column_A": greater, "column_B": smaller, "or_equal": not kwargs.get(strict_key, False),
                           "ignore_row_if": "either_value_is_missing", **keep},
            }
        )  # fmt: skip
    return parts


def screen_expectations(expectations: list[dict], dates: list[dt.date], batch: str) -> list[dict] | None:
    """The suite's expectations for the union of ``dates``' slices (each carrying ``meta.number``,
    the expectation it stands for), or None when one of them cannot be judged on the union.
    ``batch``: the suite's batch_query, which a screened SQL check reads each date's slice through."""
    screened = []
    for expectation in expectations:
        kind, kwargs = expectation["type"], expectation["kwargs"]
        if kwargs.get("mostly", 1) != 1:
            return None
        if kind == "unexpected_rows_expectation":
            query = kwargs.get("unexpected_rows_query")
            if not isinstance(query, str) or JOIN.search(query):
                return None
            parts = [{"type": kind, "kwargs": {**kwargs, "unexpected_rows_query": rows_query(query, dates, batch)}}]
        elif kind == "expect_column_values_to_be_between" and any(
            _parameter(kwargs.get(side)) for side in ("min_value", "max_value")
        ):
            if _names_date({k: v for k, v in kwargs.items() if k not in ("min_value", "max_value")}):
                return None
            parts = _between(expectation)
        elif _names_date(kwargs):
            return None
        elif kind == "expect_column_values_to_be_unique":
            rest = {k: v for k, v in kwargs.items() if k != "column"}
            parts = [
                {"type": "expect_compound_columns_to_be_unique",
                 "kwargs": {**rest, "column_list": ["gate_date", kwargs["column"]]}}
            ]  # fmt: skip
        elif kind == "expect_compound_columns_to_be_unique":
            parts = [{"type": kind, "kwargs": {**kwargs, "column_list": ["gate_date", *kwargs["column_list"]]}}]
        elif kind in ROW_LEVEL:
            parts = [copy.deepcopy(expectation)]
        else:
            return None
        for part in parts:
            part["severity"] = expectation["severity"]
            part["meta"] = {**(expectation.get("meta") or {}), "number": expectation["meta"]["number"]}
        screened.extend(parts)
    return screened


def unexpected_query(kind: str, kwargs: dict, batch: str) -> str | None:
    """The screened rows of ``batch`` (the tagged union) that fail a screened expectation, ``gate_date``
    first; None for a kind whose rows only GX can tell (sap_warehouse.quality then asks GX)."""
    if kwargs.get("row_condition"):
        return None
    if kind == "unexpected_rows_expectation":
        return kwargs["unexpected_rows_query"]  # its {batch} only in a comment
    if kind == "expect_compound_columns_to_be_unique":
        columns = sql.SQL(", ").join(map(sql.Identifier, kwargs["column_list"]))
        statement = sql.SQL("SELECT gate_date FROM ({}) AS screened GROUP BY {} HAVING count(*) > 1")
        return statement.format(sql.SQL(batch), columns).as_string(None)
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        greater, smaller = sql.Identifier(kwargs["column_A"]), sql.Identifier(kwargs["column_B"])
        statement = sql.SQL(
            "SELECT gate_date FROM ({}) AS screened WHERE {} IS NOT NULL AND {} IS NOT NULL AND NOT {} {} {}"
        )
        compare = sql.SQL(">=" if kwargs.get("or_equal") else ">")
        return statement.format(sql.SQL(batch), greater, smaller, greater, compare, smaller).as_string(None)
    return None


def index_query(kind: str, kwargs: dict, query, batch: str) -> str | None:
    """GX's query for the unexpected rows of a failed one-column expectation (``unexpected_index_query``:
    ``SELECT gate_date, <column> FROM <batch> WHERE <condition>``, the batch written bare), with the
    batch as a subquery; None for another kind or a query not of that form."""
    bare = f"FROM {batch}"
    if kind not in ROW_LEVEL or "column" not in kwargs or not isinstance(query, str) or query.count(bare) != 1:
        return None
    head, tail = query.split(bare)
    if not head.startswith("SELECT gate_date,") or not re.fullmatch(r"\s*(WHERE\s.*)?", tail, re.DOTALL):
        return None
    return f"{head}FROM ({batch}) AS screened{tail}".rstrip("; \n")


def failing_dates(conn, query: str) -> set[dt.date]:
    """The distinct dates in the first column (``gate_date``) of the rows ``query`` returns (by place:
    the columns of a check on ``gate_date`` itself follow it under the same name)."""
    statement = sql.SQL("SELECT DISTINCT day FROM ({}) AS unexpected(day)").format(sql.SQL(query.replace("%", "%%")))
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(statement)
        return {row[0] for row in cur.fetchall()}
