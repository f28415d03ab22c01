"""Alert rules and thresholds as files and settings: each rule is a file headed by its name and
documented, thresholds come from Variables with defaults and clear errors, the local settings hold
every default. No database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from sap_warehouse.signals import alerts

D1, D2, D3, D4 = (dt.date(2026, 4, 6) + dt.timedelta(days=i) for i in range(4))
STO_WARN, STO_CRIT = ("4599990001", "00010"), ("4599990002", "00010")
WARN_KEY, CRIT_KEY = ("stuck_transit", "sto:4599990001/00010"), ("stuck_transit", "sto:4599990002/00010")
AR_CRIT, AR_WARN = "0019999991", "0019999992"


def test_thresholds_come_from_variables_with_defaults_and_clear_errors() -> None:
    limits = alerts.thresholds({"alert_transit_days": "3", "alert_low_stock_critical_ratio": "0.25"})
    assert (limits["transit_days"], limits["low_stock_critical_ratio"], limits["yield_pct"]) == (3, 0.25, 85)
    with pytest.raises(ValueError, match=r"Airflow Variable alert_transit_days must be a whole number, not '3\.5'"):
        alerts.thresholds({"alert_transit_days": "3.5"})


def test_local_settings_hold_every_threshold_at_its_default() -> None:
    settings = yaml.safe_load((Path(__file__).parents[2] / "airflow_settings.yaml").read_text())
    local = {v["variable_name"]: v["variable_value"] for v in settings["airflow"]["variables"]}
    assert alerts.thresholds({name: local[name] for name in alerts.THRESHOLDS}) == alerts.thresholds()


def test_every_rule_file_is_a_rule_headed_by_its_name_and_the_docs_document_each() -> None:
    """A rule is a file of include/sql/alerts/: the list follows the folder, and docs/alerts.md's table
    follows the list."""
    table = (Path(__file__).parents[2] / "docs" / "alerts.md").read_text(encoding="utf-8")
    documented = {line.split("`")[1] for line in table.splitlines() if line.startswith("| `")}
    assert set(alerts.RULES) == documented
    assert {"stuck_transit", "missing_report", "unmapped_channel"} <= set(alerts.RULES)
    for rule in alerts.RULES:
        assert alerts.sql_file(f"alerts/rules/{rule}.sql").startswith(f"-- {rule}"), rule
