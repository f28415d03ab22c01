"""sapwh: the warehouse's one command-line tool (a console script of the package).

    sapwh COMMAND [options]       sapwh COMMAND --help for a command's options and their defaults

The warehouse's own commands (quality, summary, layers, genealogy, alerts, backup) come with the package; run,
exports and demo are the development kit's (devkit/) and answer where it is installed (locally, not
in the image). Each command is its module's ``main``: ``python -m sap_warehouse.<module>`` does the
same. Long work shows progress (dates done, rate, ETA); ``--json`` gives what scripts consume where a
command lists things (alerts list, backup list, genealogy).
"""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import importlib
import json
import sys

# command -> (module, what it does)
COMMANDS = {
    "quality": ("sap_warehouse.quality", "run a quality gate on a date (results stored), or show stored results"),
    "summary": ("sap_warehouse.summary", "the morning summary of a business date, as its last run left it"),
    "layers": ("sap_warehouse.layers", "rebuild dimensions, facts and views of a date range from the raw layer"),
    "genealogy": ("sap_warehouse.genealogy", "trace a batch: made from, made into, shipped and billed to"),
    "alerts": ("sap_warehouse.alerts", "list the open alerts, or acknowledge one"),
    "backup": ("sap_warehouse.backup", "list, take, verify and restore backups; restore chosen tables"),
    "run": ("sap_warehouse_kit.runner", "run the daily DAG locally for dates, or one range run (development kit)"),
    "exports": ("sap_warehouse_kit.exports", "write generated SAP exports into a landing zone (development kit)"),
    "demo": ("sap_warehouse_kit.demo", "the main job: generate days of exports and run them (development kit)"),
}


class HelpFormatter(argparse.HelpFormatter):
    """Every command's help: each option's default said once (not None, not a flag's False, not where
    its help already names its default)."""

    def _format_action(self, action: argparse.Action) -> str:
        if not action.help and action.option_strings and action.default not in (None, False, "", argparse.SUPPRESS):
            action.help = "(default: %(default)s)"  # argparse writes no line at all for an option without help
        return super()._format_action(action)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default in (None, False, "", argparse.SUPPRESS) or "default" in text or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)".strip()


def show(rows: list[dict], *, as_json: bool = False, title: str | None = None, out=None) -> None:
    """Rows as a table (rich; numbers right-aligned) for people, or as a JSON array for scripts."""
    out = out or sys.stdout
    if as_json:
        json.dump(rows, out, default=str, indent=2)
        out.write("\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in rows[0] if rows else ():
        numeric = all(isinstance(r[column], int | float | decimal.Decimal) for r in rows if r[column] is not None)
        table.add_column(column, justify="right" if numeric else "left", overflow="fold")
    for row in rows:
        table.add_row(*(_cell(value, identifier=_is_identifier(column)) for column, value in row.items()))
    Console(file=out, width=None if out.isatty() else 160).print(table if rows else "(none)")


def _is_identifier(column: str) -> bool:
    """An id is typed back as shown (``sapwh alerts ack 1234``): never grouped with separators."""
    return column == "id" or column.endswith("_id")


def _cell(value, *, identifier: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value) if identifier else f"{value:,}"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def command_parser(command: str, description: str) -> argparse.ArgumentParser:
    """The option parser of ``sapwh <command>``, in the house help format."""
    return argparse.ArgumentParser(prog=f"sapwh {command}", formatter_class=HelpFormatter, description=description)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="sapwh", description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, what) in COMMANDS.items():
        # The command's own parser reads its options (and answers its --help).
        commands.add_parser(name, help=what, add_help=False)
    return top


def main(argv: list[str] | None = None) -> int:
    args, rest = parser().parse_known_args(sys.argv[1:] if argv is None else argv)
    module_name = COMMANDS[args.command][0]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and error.name.startswith("sap_warehouse_kit"):
            print(
                f"sapwh {args.command} is part of the development kit, which is not installed here: "
                "pip install -e devkit (scripts/dev does)",
                file=sys.stderr,
            )
            return 2
        raise
    return module.main(rest) or 0


if __name__ == "__main__":
    sys.exit(main())
