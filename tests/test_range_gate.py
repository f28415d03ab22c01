"""The range screen's rewriting of expectations: each rewritten expectation fails on the union of the
dates' slices where the written one fails on a date's slice, and a suite with anything the union cannot
judge is left to be validated date by date. (That the verdicts equal a run per date on real slices:
tests/test_quality.py.)"""

from __future__ import annotations

import datetime as dt

import pytest

from sap_warehouse import quality, range_gate

DATES = [dt.date(2026, 3, 2), dt.date(2026, 3, 3)]
BATCH = "SELECT * FROM facts.fact_billing WHERE billing_date = :business_date"


def numbered(*expectations: dict) -> list[dict]:
    return [{"severity": "critical", **e, "meta": {"number": n}} for n, e in enumerate(expectations, 1)]


def test_row_level_expectations_are_kept_and_uniqueness_is_per_date() -> None:
    screened = range_gate.screen_expectations(
        numbered(
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "plant"}},
            {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "order_number"}},
            {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["doc", "item"]}},
            {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "t", "value_set": {"$PARAMETER": "kt"}}},
        ),
        DATES,
        BATCH,
    )
    assert [(e["type"], e["kwargs"], e["meta"]["number"]) for e in screened] == [
        ("expect_column_values_to_not_be_null", {"column": "plant"}, 1),
        ("expect_compound_columns_to_be_unique", {"column_list": ["gate_date", "order_number"]}, 2),
        ("expect_compound_columns_to_be_unique", {"column_list": ["gate_date", "doc", "item"]}, 3),
        ("expect_column_values_to_be_in_set", {"column": "t", "value_set": {"$PARAMETER": "kt"}}, 4),
    ]


def test_a_date_dependent_bound_becomes_a_comparison_with_the_rows_own_date() -> None:
    screened = range_gate.screen_expectations(
        numbered(
            {"type": "expect_column_values_to_be_between",
             "kwargs": {"column": "posting_date", "max_value": {"$PARAMETER": "future_limit"}}, "severity": "warning"},
            {"type": "expect_column_values_to_be_between",
             "kwargs": {"column": "snap", "min_value": {"$PARAMETER": "month_ago"}, "max_value": 9,
                        "strict_max": True}},
            {"type": "expect_column_values_to_be_between",
             "kwargs": {"column": "d", "min_value": {"$PARAMETER": "business_date"}, "strict_min": True}},
        ),
        DATES,
        BATCH,
    )  # fmt: skip
    pair = "expect_column_pair_values_a_to_be_greater_than_b"
    missing = {"ignore_row_if": "either_value_is_missing"}
    assert [(e["type"], e["kwargs"], e["severity"], e["meta"]["number"]) for e in screened] == [
        (
            pair,
            {"column_A": "gate_future_limit", "column_B": "posting_date", "or_equal": True, **missing},
            "warning",
            1,
        ),
        ("expect_column_values_to_be_between", {"column": "snap", "max_value": 9, "strict_max": True}, "critical", 2),
        (pair, {"column_A": "snap", "column_B": "gate_month_ago", "or_equal": True, **missing}, "critical", 2),
        (pair, {"column_A": "d", "column_B": "gate_date", "or_equal": False, **missing}, "critical", 3),
    ]


@pytest.mark.parametrize(
    "expectation",
    [
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}},
        {"type": "expect_column_mean_to_be_between", "kwargs": {"column": "q", "min_value": 0}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "q", "mostly": 0.95}},
        {"type": "expect_column_values_to_be_in_set",
         "kwargs": {"column": "d", "value_set": [{"$PARAMETER": "next_day"}]}},
        {"type": "unexpected_rows_expectation",
         "kwargs": {"unexpected_rows_query": "SELECT * FROM {batch} AS b JOIN dims.dim_material m USING (material)"}},
    ],
)  # fmt: skip
def test_what_the_union_cannot_judge_leaves_the_suite_to_each_date(expectation: dict) -> None:
    keep = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "plant"}}
    assert range_gate.screen_expectations(numbered(keep, expectation), DATES, BATCH) is None


def test_an_sql_check_runs_once_per_date_on_that_dates_slice() -> None:
    written = "WITH b AS (SELECT * FROM {batch}) SELECT * FROM raw.raw_zrsd002 r WHERE r.business_date = :business_date"
    (screened,) = range_gate.screen_expectations(
        numbered({"type": "unexpected_rows_expectation", "kwargs": {"unexpected_rows_query": written}}), DATES, BATCH
    )
    assert screened["kwargs"]["unexpected_rows_query"] == (
        "SELECT gate_days.gate_date FROM unnest(ARRAY[DATE '2026-03-02', DATE '2026-03-03']) AS "
        "gate_days(gate_date), LATERAL (WITH b AS (SELECT * FROM (SELECT * FROM facts.fact_billing WHERE "
        "billing_date = gate_days.gate_date) AS gate_slice) SELECT * FROM raw.raw_zrsd002 r WHERE r.business_date = "
        "gate_days.gate_date) AS u /* each date's own slice, not the screened batch: {batch} */"
    )


def test_the_union_holds_the_columns_the_screened_expectations_read() -> None:
    screened = range_gate.screen_expectations(
        numbered(
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "plant"}},
            {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["doc", "item"]}},
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "d", "max_value": {"$PARAMETER": "next_day"}},
            },
            {"type": "unexpected_rows_expectation", "kwargs": {"unexpected_rows_query": "SELECT * FROM {batch}"}},
        ),
        DATES,
        BATCH,
    )
    assert range_gate.columns_of(screened) == {"plant", "doc", "item", "d"}
    conditioned = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a", "row_condition": "b>1"}}
    assert range_gate.columns_of([*screened, conditioned]) is None  # a condition may read any column


def test_the_union_tags_each_slice_with_its_date_and_bounds() -> None:
    query = range_gate.batch_query(quality.RAW_BATCH.format(table="raw_mb51"), DATES, 2, {"plant", "doc"})
    assert query == (
        "SELECT gate_days.gate_date, gate_days.gate_date - 31 AS gate_month_ago, gate_days.gate_date + 1 AS "
        'gate_next_day, gate_days.gate_date + 2 AS gate_future_limit, gate_slice."doc", gate_slice."plant" FROM '
        "unnest(ARRAY[DATE "
        "'2026-03-02', DATE '2026-03-03']) AS gate_days(gate_date), LATERAL (SELECT * FROM raw.raw_mb51 WHERE "
        "business_date = gate_days.gate_date) AS gate_slice"
    )
    assert set(range_gate.DATE_PARAMETERS) == set(quality.expectation_parameters(DATES[0])) - {"known_movement_types"}


def test_gx_unexpected_row_query_is_used_only_in_its_one_column_shape() -> None:
    batch = "SELECT 1 AS x"
    gx_query = f"SELECT gate_date, movement_type \nFROM {batch} \nWHERE movement_type NOT IN ('101');"
    column = {"column": "movement_type"}
    assert range_gate.index_query("expect_column_values_to_be_in_set", column, gx_query, batch) == (
        f"SELECT gate_date, movement_type \nFROM ({batch}) AS screened \nWHERE movement_type NOT IN ('101')"
    )
    joined = "SELECT gate_date, a \nFROM SELECT 1 AS x, (SELECT a FROM t) AS o WHERE x"
    assert range_gate.index_query("expect_column_values_to_be_in_set", column, joined, batch) is None
    assert range_gate.index_query("expect_compound_columns_to_be_unique", {}, gx_query, batch) is None
