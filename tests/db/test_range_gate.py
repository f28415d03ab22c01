"""The range screen's SQL, written from the suites' expectation definitions: per date it finds the rows
each expectation finds unexpected on that date's slice alone, every shipped suite can be screened, and
what it cannot judge it refuses by name. (That the stored verdicts equal a run per date on real slices:
tests/db/test_quality.py.)"""

from __future__ import annotations

import datetime as dt

import psycopg

from sap_warehouse.gates import range_gate

DATES = [dt.date(2026, 3, 2), dt.date(2026, 3, 3)]
FUTURE_DAYS = 1
BATCH = "SELECT * FROM screen_rows WHERE business_date = :business_date"


def numbered(*expectations: dict) -> list[dict]:
    return [{"severity": "critical", **e, "meta": {"number": n}} for n, e in enumerate(expectations, 1)]


# Rows of two dates' slices: (business_date, code, qty, posted, doc, item, note).
ROWS = [
    (DATES[0], "101", 5, DATES[0], "D1", 1, "ok"),
    (DATES[0], "999", 5, DATES[0], "D1", 2, None),  # unknown code
    (DATES[0], "101", -3, DATES[0] + dt.timedelta(days=3), "D1", 2, "x"),  # negative, too far ahead, key again
    (DATES[0], None, None, None, None, None, "bad"),  # nulls: only the null check finds them
    (DATES[1], "102", 7, DATES[1] + dt.timedelta(days=1), "D1", 1, "ok"),  # the same key as on day one: fine
    (DATES[1], "12A", 7, DATES[1] - dt.timedelta(days=40), "D2", 1, "ok"),  # code format, a month back
]
EXPECTATIONS = numbered(
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "code"}},
    {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "code", "value_set": {"$PARAMETER": "codes"}}},
    {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "code", "regex": "^[0-9]{3}$"}},
    {"type": "expect_column_values_to_be_between", "kwargs": {"column": "qty", "min_value": 0}},
    {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "posted", "max_value": {"$PARAMETER": "future_limit"}},
    },
    {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "posted", "min_value": {"$PARAMETER": "month_ago"}},
    },
    {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["doc", "item"]}},
    {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "note"}},
    {
        "type": "unexpected_rows_expectation",
        "kwargs": {
            "unexpected_rows_query": "SELECT * FROM {batch} WHERE note LIKE 'ba%' AND business_date = :business_date"
        },
    },
)
CODES = ["101", "102", "12A"]


def unexpected_by_python(day: dt.date) -> dict[int, int]:
    """What each expectation finds on ``day``'s rows alone, by GX's meaning, worked out in Python."""
    rows = [r for r in ROWS if r[0] == day]
    keys = [(r[4], r[5]) for r in rows if (r[4], r[5]) != (None, None)]
    notes = [r[6] for r in rows if r[6] is not None]
    found = {
        1: sum(r[1] is None for r in rows),
        2: sum(r[1] is not None and r[1] not in CODES for r in rows),
        3: sum(r[1] is not None and not (r[1].isdigit() and len(r[1]) == 3) for r in rows),
        4: sum(r[2] is not None and r[2] < 0 for r in rows),
        5: sum(r[3] is not None and r[3] > day + dt.timedelta(days=FUTURE_DAYS) for r in rows),
        6: sum(r[3] is not None and r[3] < day - dt.timedelta(days=31) for r in rows),
        7: sum(keys.count(k) > 1 for k in keys),
        8: sum(notes.count(n) > 1 for n in notes),
        9: sum(r[6] is not None and r[6].startswith("ba") for r in rows),
    }
    return {number: count for number, count in found.items() if count}


def test_the_screen_finds_per_date_what_each_expectation_finds_on_that_date_alone(warehouse: str) -> None:
    statements = range_gate.screen(EXPECTATIONS, BATCH, {"codes": CODES}, DATES, FUTURE_DAYS)
    with psycopg.connect(warehouse) as conn:
        conn.execute(
            "CREATE TEMP TABLE screen_rows (business_date date, code text, qty numeric, posted date, doc text, "
            "item integer, note text)"
        )
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO screen_rows VALUES (%s, %s, %s, %s, %s, %s, %s)", ROWS)
        found = range_gate.failing(conn, statements)
    expected = {day: unexpected_by_python(day) for day in DATES}
    assert {day: counts for day, counts in expected.items() if counts} == found
    assert set(found[DATES[0]]) == {1, 2, 4, 5, 7, 9}  # the planted defects of the first date, each seen
    assert set(found[DATES[1]]) == {3, 6, 8}
