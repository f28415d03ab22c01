"""The range gate's SQL written from the suites' expectations: every shipped suite can be screened, and
what the screen cannot judge is refused by name. No database."""

from __future__ import annotations

import datetime as dt

import pytest

from sap_warehouse.gates import quality, range_gate

DATES = [dt.date(2026, 3, 2), dt.date(2026, 3, 3)]
FUTURE_DAYS = 1
BATCH = "SELECT * FROM screen_rows WHERE business_date = :business_date"


def numbered(*expectations: dict) -> list[dict]:
    return [{"severity": "critical", **e, "meta": {"number": n}} for n, e in enumerate(expectations, 1)]


def test_every_shipped_suite_is_screened_in_sql() -> None:
    """No suite falls back to GX date by date: a new expectation type or option must be taught to the
    screen (range_gate.ROW_CHECKS) before a suite may use it."""
    parameters = quality.expectation_parameters(DATES[-1], FUTURE_DAYS)
    for suite in quality.load_suites():
        statements = range_gate.screen(
            suite.numbered()["expectations"], suite.batch_query, parameters, DATES, FUTURE_DAYS
        )
        assert statements, suite.name


@pytest.mark.parametrize(
    ("expectation", "reason"),
    [
        ({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a", "mostly": 0.9}}, "mostly"),
        (
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a", "row_condition": "b>1"}},
            "row_condition",
        ),
        ({"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}}, "not a type"),
        (
            {"type": "expect_column_values_to_be_between", "kwargs": {"column": "a", "max_value": {"$PARAMETER": "x"}}},
            "parameter",
        ),
        ({"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "a", "value_set": []}}, "empty"),
    ],
)
def test_what_the_screen_cannot_judge_is_refused_by_name(expectation: dict, reason: str) -> None:
    with pytest.raises(range_gate.NotScreenable, match=reason):
        range_gate.screen(numbered(expectation), BATCH, {}, DATES, FUTURE_DAYS)
