"""The sapwh command line without a warehouse: every command answers its help under its own name with its
defaults, rows print as a table or JSON, a kit command without the kit says how to get it."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import subprocess
from decimal import Decimal

import pytest

from sap_warehouse import cli

COMMANDS = ["quality", "summary", "layers", "genealogy", "alerts", "backup", "run", "exports", "demo"]


def test_the_console_script_lists_every_command() -> None:
    sapwh = shutil.which("sapwh")
    assert sapwh, "the package's console script is not installed"
    listed = subprocess.run([sapwh, "--help"], capture_output=True, text=True, check=True).stdout
    for command in COMMANDS:
        assert f"\n    {command} " in listed or f"\n    {command}\n" in listed, command


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_answers_its_own_help_under_its_sapwh_name(command: str, capsys) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main([command, "--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: sapwh {command} ")


def test_defaults_are_shown_in_the_help(capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main(["demo", "--help"])
    assert "(default: 3)" in capsys.readouterr().out  # --days


def test_a_kit_command_without_the_kit_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """Where only the warehouse package is installed (the image), its entry points are all there are."""
    installed = cli.entry_points(group=cli.GROUP)
    monkeypatch.setattr(
        cli, "entry_points", lambda group: [p for p in installed if p.module.startswith("sap_warehouse.")]
    )
    assert cli.main(["demo"]) == 2
    assert "pip install -e devkit" in capsys.readouterr().err
    assert set(cli.commands()) == {"quality", "summary", "layers", "genealogy", "alerts", "backup"}


def hello(argv: list[str]) -> int:
    """A command another package registers: its help line is its module docstring's first sentence."""
    print("hello", *argv)
    return 0


def test_another_package_adds_a_command_through_the_entry_point_group(monkeypatch, capsys) -> None:
    from importlib.metadata import EntryPoint

    added = EntryPoint("hello", f"{__name__}:hello", cli.GROUP)
    installed = cli.entry_points(group=cli.GROUP)
    monkeypatch.setattr(cli, "entry_points", lambda group: [*installed, added])
    assert cli.main(["hello", "there"]) == 0
    assert capsys.readouterr().out == "hello there\n"
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    listed = capsys.readouterr().out
    assert "\n    hello " in listed  # with its module's first sentence as its help line
    assert "The sapwh command line without a warehouse" in listed


def test_rows_show_as_a_table_or_as_json() -> None:
    rows = [
        {
            "alert_id": 12345,
            "severity": "critical",
            "rows": 1234567,
            "amount": Decimal("10.50"),
            "since": dt.date(2026, 1, 5),
        },
        {"alert_id": 7, "severity": "warning", "rows": 3, "amount": None, "since": dt.date(2026, 1, 6)},
    ]
    table = io.StringIO()
    cli.show(rows, title="open alerts", out=table)
    text = table.getvalue()
    assert "open alerts" in text
    line = next(line for line in text.splitlines() if "critical" in line)
    assert " 12345 " in line  # an id as `sapwh alerts ack` takes it back
    assert "1,234,567" in line  # a count, grouped for reading
    assert "2026-01-05" in line
    as_json = io.StringIO()
    cli.show(rows, as_json=True, out=as_json)
    assert json.loads(as_json.getvalue()) == [
        {"alert_id": 12345, "severity": "critical", "rows": 1234567, "amount": "10.50", "since": "2026-01-05"},
        {"alert_id": 7, "severity": "warning", "rows": 3, "amount": None, "since": "2026-01-06"},
    ]
    empty = io.StringIO()
    cli.show([], out=empty)
    assert empty.getvalue().strip() == "(none)"
