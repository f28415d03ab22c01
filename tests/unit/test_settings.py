"""One table of settings (sap_warehouse.core.settings): the code reads every Variable and environment
variable through it, the docs and the local Airflow's settings are that table, and a value of the
wrong type is refused with the setting's name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from sap_warehouse.core import settings
from sap_warehouse.core.registry import PROJECT_ROOT, daily_reports

CODE = [
    *(PROJECT_ROOT / "src" / "sap_warehouse").rglob("*.py"),
    *(PROJECT_ROOT / "dags").glob("*.py"),
    *(PROJECT_ROOT / "plugins").glob("*.py"),
]
START, END = (
    "<!-- settings table: generated from src/sap_warehouse/core/settings.py -->",
    "<!-- end of settings table -->",
)


def test_the_configuration_page_holds_the_table_as_it_is() -> None:
    page = (PROJECT_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    shown = page.split(START, 1)[1].split(END, 1)[0].strip().splitlines()
    assert shown == settings.markdown()


def test_no_code_reads_a_variable_or_an_environment_variable_but_through_the_table() -> None:
    direct = re.compile(r"Variable\.get\(|os\.environ\.get\(\s*\"(SAP_|WAREHOUSE_)|os\.environ\[\"(SAP_|WAREHOUSE_)")
    readers = sorted(
        str(path.relative_to(PROJECT_ROOT)) for path in CODE if direct.search(path.read_text(encoding="utf-8"))
    )
    assert readers == ["src/sap_warehouse/core/settings.py"]
    named = set()
    for path in CODE:
        text = path.read_text(encoding="utf-8")
        named |= set(re.findall(r"(?:settings\.|(?<![\w.]))(?:value|default|raw|from_environment)\(\s*\"(\w+)\"", text))
    assert named - set(settings.SETTINGS) == set(), "a name the table does not hold"


def test_the_local_airflow_gets_every_variable_with_its_default() -> None:
    """airflow_settings.yaml (applied by scripts/dev, and by the compose stack where a Variable is not set
    yet) holds each Variable at its default, but the e-mail addresses, which each site sets for itself."""
    local = yaml.safe_load((PROJECT_ROOT / "airflow_settings.yaml").read_text(encoding="utf-8"))
    given = {v["variable_name"]: v["variable_value"] for v in local["airflow"]["variables"]}
    variables = {s.name: s for s in settings.TABLE if s.source == settings.VARIABLE}
    addresses = {"warehouse_alert_emails", "warehouse_alert_from", "warehouse_summary_emails"}
    assert set(given) == set(variables) - addresses
    for name, setting in variables.items():
        if name in addresses:
            continue
        if setting.kind == "location":
            assert given[name] == setting.default.replace("{local}", "${WAREHOUSE_LOCAL_DIR}"), name
        elif name == "sap_expected_reports":
            assert settings.SETTINGS[name].parse(given[name]) == daily_reports()
        elif setting.default:
            assert setting.parse(given[name]) == setting.parse(setting.default), name


def test_every_setting_has_a_kind_a_default_of_that_kind_and_a_description() -> None:
    for setting in settings.TABLE:
        assert setting.kind in settings.KINDS, setting.name
        assert len(setting.doc) > 10, setting.name
        setting.parse(setting.default)  # a default of its own kind


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("sap_file_stable_seconds", "1m", r"Airflow Variable sap_file_stable_seconds must be a whole number, not '1m'"),
        ("sap_reject_ratio_max", "5%", r"Airflow Variable sap_reject_ratio_max must be a number"),
        ("sap_files_due_time", "9am", r"sap_files_due_time must be a time of day as HH:MM"),
        ("SAP_WAREHOUSE_LOAD_PARALLELISM", "two", r"environment variable SAP_WAREHOUSE_LOAD_PARALLELISM must be"),
    ],
)
def test_a_value_of_the_wrong_kind_is_refused_with_the_settings_name(name: str, raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        settings.SETTINGS[name].parse(raw)


def test_environment_settings_and_locations_read_as_documented(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SAP_WAREHOUSE_LOAD_PARALLELISM", " 3 ")
    monkeypatch.setenv("WAREHOUSE_LOCAL_DIR", str(tmp_path))
    monkeypatch.delenv("SAP_WAREHOUSE_DAILY_DEADLINE_MINUTES", raising=False)
    monkeypatch.setenv("AIRFLOW_VAR_SAP_ARCHIVE_PATH", "s3://bucket/archive")
    assert settings.value("SAP_WAREHOUSE_LOAD_PARALLELISM") == 3
    assert settings.value("SAP_WAREHOUSE_DAILY_DEADLINE_MINUTES") == 240.0
    assert settings.default("sap_landing_path") == f"file://{tmp_path}/landing"
    assert settings.from_environment("sap_archive_path") == "s3://bucket/archive"
    assert settings.from_environment("sap_quarantine_path") == f"file://{tmp_path}/quarantine"
    assert settings.SETTINGS["sap_expected_reports"].parse(" mb51, cooispi ,") == ["mb51", "cooispi"]
