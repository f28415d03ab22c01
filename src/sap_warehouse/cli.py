"""sapwh: the warehouse's one command-line tool (a console script of the package).

    sapwh COMMAND [options]       sapwh COMMAND --help for a command's options and their defaults

A command is an entry point of the group ``sap_warehouse.commands``: the warehouse's own (quality,
summary, layers, genealogy, alerts, backup) come with this package, and another installed package adds
its own (the development kit, devkit/, adds run, exports and demo where it is installed: locally, not
in the image). Each is its module's ``main``; its help line is the first sentence of that module's
docstring. Long work shows progress (dates done, rate, ETA); ``--json`` gives what scripts consume where a
command lists things (alerts list, backup list, genealogy).
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import decimal
import importlib.util
import json
import sys
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

GROUP = "sap_warehouse.commands"


def commands() -> dict[str, EntryPoint]:
    """The installed sapwh commands by name."""
    return {point.name: point for point in sorted(entry_points(group=GROUP), key=lambda p: p.name)}


def _summary(point: EntryPoint) -> str:
    """The first sentence of the command's module docstring, read without importing the module."""
    spec = importlib.util.find_spec(point.module)
    if spec is None or not spec.origin:
        return ""
    doc = ast.get_docstring(ast.parse(Path(spec.origin).read_text(encoding="utf-8"))) or ""
    first = " ".join(doc.split("\n\n", 1)[0].split())  # the first paragraph, on one line
    sentence = first.split(". ", 1)[0].rstrip(".")
    return sentence if len(sentence) <= 90 else sentence[:87].rsplit(" ", 1)[0] + " ..."


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


def parser(found: dict[str, EntryPoint]) -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="sapwh",
        description=__doc__.split("\n\n")[0],
        epilog="The development kit's commands (run, exports, demo) are there where devkit/ is installed "
        "(pip install -e devkit; scripts/dev does).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    names = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, point in found.items():
        # The command's own parser reads its options (and answers its --help).
        names.add_parser(name, help=_summary(point), add_help=False)
    return top


def main(argv: list[str] | None = None) -> int:
    found = commands()
    given = sys.argv[1:] if argv is None else argv
    if given and not given[0].startswith("-") and given[0] not in found:
        print(
            f"sapwh: no command {given[0]!r} is installed here ({', '.join(found)}). The development kit's "
            "commands (run, exports, demo) come with devkit/ where it is installed: pip install -e devkit "
            "(scripts/dev does)",
            file=sys.stderr,
        )
        return 2
    args, rest = parser(found).parse_known_args(given)
    return found[args.command].load()(rest) or 0


if __name__ == "__main__":
    sys.exit(main())
