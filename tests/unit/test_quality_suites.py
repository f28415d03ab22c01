"""The quality suites as files: every table has a valid GX suite with a severity on each expectation, raw
suites take their structural checks from the registry, a broken or disagreeing suite is refused by
name, and a Data Docs location becomes a GX site. No database."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from sap_warehouse.core import model
from sap_warehouse.core.registry import formats, reports
from sap_warehouse.gates import quality

DAYS = [dt.date(2026, 5, 4), dt.date(2026, 5, 5)]
D = DAYS[0]  # every report delivers new rows on the first day (master data, targets, costs too)
RAW_TABLES = {r.raw_table: r.code for r in reports().values()}
LEDGER_SUITE = "etl_file_ledger"


def test_every_table_has_a_valid_suite_with_a_severity_on_each_expectation() -> None:
    suites = quality.load_suites()
    assert {s.name for s in suites} == set(RAW_TABLES) | set(model.facts()) | {LEDGER_SUITE}
    assert {s.name for s in quality.load_suites("raw")} == set(RAW_TABLES) | {LEDGER_SUITE}
    assert {s.name for s in quality.load_suites("facts")} == set(model.facts())
    for suite in suites:
        severities = [e.get("severity") for e in suite.spec["expectations"]]  # the file and the registry's
        assert set(severities) <= {"critical", "warning"}, suite.name
        assert ("critical" in severities) is (suite.name != LEDGER_SUITE), suite.name
        assert len(suite.for_date(D).expectations) == len(suite.spec["expectations"])  # GX dropped none


def test_raw_suites_take_required_key_and_formats_from_the_registry() -> None:
    for code, report in reports().items():
        suite = quality.load_suite(quality.SUITES_DIR / f"{report.raw_table}.json")
        assert suite.batch_query.split()[3] == f"raw.{report.raw_table}"
        assert suite.batch_query.endswith(" WHERE business_date = :business_date")
        expectations = suite.spec["expectations"]
        checks = {(e["type"], json.dumps(e["kwargs"], sort_keys=True)): e["severity"] for e in expectations}
        for col in report.columns:
            not_null = ("expect_column_values_to_not_be_null", json.dumps({"column": col.name}))
            if col.required and col.name != report.partition_column:
                assert checks[not_null] == "critical", (code, col.name)
            if col.format:
                regex = {"column": col.name, "regex": formats()[col.format].regex}
                shape = ("expect_column_values_to_match_regex", json.dumps(regex, sort_keys=True))
                assert checks[shape] == formats()[col.format].severity, (code, col.name)
        key = [*report.key, "row_hash", "occurrence", "posting_date"] if code == "mb51" else list(report.key)
        unique = (
            ("expect_compound_columns_to_be_unique", json.dumps({"column_list": key}))
            if len(key) > 1
            else ("expect_column_values_to_be_unique", json.dumps({"column": key[0]}))
        )
        assert checks[unique] == "critical", code
        assert "rows_match_ledger" in [e["meta"].get("check") for e in suite.spec["expectations"]], code


@pytest.mark.parametrize(
    ("expectation", "message"),
    [
        (
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "plant"}},
            "expectation 1 (expect_column_values_to_not_be_null on plant) is the registry's to say",
        ),
        (
            {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "currency", "regex": "^[A-Z]+$"}},
            "(expect_column_values_to_match_regex on currency) is the registry's to say",
        ),
        (
            {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["material", "plant"]}},
            "on material, plant) is the registry's to say",
        ),
        (
            {"type": "expect_column_values_to_be_between", "kwargs": {"column": "standard_costs", "min_value": 0}},
            "names standard_costs, which include/config/sap_reports.yaml does not list for cogs",
        ),
    ],
)
def test_a_raw_suite_that_disagrees_with_the_registry_is_refused(
    tmp_path: Path, expectation: dict, message: str
) -> None:
    spec = json.loads((quality.SUITES_DIR / "raw_cogs.json").read_text())
    spec["expectations"].insert(0, {**expectation, "severity": "critical", "meta": {"why": "planted"}})
    (tmp_path / "raw_cogs.json").write_text(json.dumps(spec))
    with pytest.raises(quality.SuiteError, match=re.escape(message)):
        quality.load_suites(directory=tmp_path)


def test_every_critical_expectation_says_why_a_violation_means_wrong_numbers() -> None:
    for suite in quality.load_suites():
        for number, expectation in enumerate(suite.spec["expectations"], 1):
            if expectation["severity"] == "critical":
                why = expectation.get("meta", {}).get("why", "")
                # A sentence on the consequence, not a restatement such as "plant is required".
                assert len(why.split()) >= 8, (suite.name, number, why)
                assert not why.endswith(" is required"), (suite.name, number, why)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s["expectations"][0].pop("severity"), 'needs "severity"'),
        (
            lambda s: s["expectations"][0].update(type="expect_column_values_to_be_purple"),
            "expectation 1 (expect_column_values_to_be_purple) is not a valid",
        ),
        (lambda s: s["expectations"][0]["kwargs"].pop("column"), "column\n  field required"),
        (lambda s: s.update(expectations={"a": 1}), "a JSON object with a list of expectations"),
        (lambda s: s["meta"].update(gate="marts"), "meta.gate must be one of raw, facts"),
        (lambda s: s["meta"].update(batch_query="SELECT * FROM raw.raw_cogs"), "meta.batch_query"),
    ],
)
def test_a_broken_suite_file_is_refused_with_its_name(tmp_path: Path, change, message: str) -> None:
    spec = json.loads((quality.SUITES_DIR / "raw_cogs.json").read_text())
    change(spec)
    (tmp_path / "raw_cogs.json").write_text(json.dumps(spec))
    with pytest.raises(quality.SuiteError, match=re.escape(message)) as error:
        quality.load_suites(directory=tmp_path)
    assert "raw_cogs.json" in str(error.value)


@pytest.mark.parametrize(
    ("url", "backend"),
    [
        ("file:///srv/docs", {"class_name": "TupleFilesystemStoreBackend", "base_directory": "/srv/docs"}),
        ("/srv/docs", {"class_name": "TupleFilesystemStoreBackend", "base_directory": "/srv/docs"}),
        (
            "s3://plant-dq/docs/site/",
            {"class_name": "TupleS3StoreBackend", "bucket": "plant-dq", "prefix": "docs/site"},
        ),
    ],
)
def test_a_data_docs_location_becomes_a_gx_site(url: str, backend: dict) -> None:
    from sap_warehouse.gates import data_docs

    site = data_docs.site_config(url)
    assert site["class_name"] == "SiteBuilder"
    assert site["store_backend"] == backend
