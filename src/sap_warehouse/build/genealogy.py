"""Tracing a batch through the genealogy: backward to the raw-material batches it was made from,
forward to the finished batches made from it, the deliveries that shipped them and the customers
who received and were billed for them (the recall question).

Reads facts.fact_production_chain (built by the daily run), raw MB51 goods issues, ZRSD004 and
ZRSD002, and dims.dim_customer; writes nothing. Queries are include/sql/genealogy/*.sql.

    scripts/dev exec sapwh genealogy --batch 26P0300001 [--material 000300001]
        [--direction backward|forward|both] [--json]
"""

from __future__ import annotations

import json
import sys
from typing import Any

from psycopg import ClientCursor

from sap_warehouse.core.db import column_names, connect
from sap_warehouse.core.registry import sql_file


def _trace(relative: str, upstream: bool, batch: str, material: str | None, conninfo: str | None) -> list[dict]:
    """Rows of the trace query ``relative``, which continues walk.sql (the links reachable from the
    batch, ``upstream`` or down); bound client-side, so the walk's direction is a literal."""
    statement = sql_file("genealogy/walk.sql") + sql_file(relative)
    with connect(conninfo, autocommit=True) as conn, ClientCursor(conn) as cur:
        cur.execute(statement, {"batch": batch, "material": material, "upstream": upstream})
        names = column_names(cur)
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def trace_backward(batch: str, material: str | None = None, *, conninfo: str | None = None) -> list[dict]:
    """Every genealogy link below the batch, nearest first (depth 1 = what it was made from)."""
    return _trace("genealogy/trace_backward.sql", True, batch, material, conninfo)


def trace_forward(batch: str, material: str | None = None, *, conninfo: str | None = None) -> list[dict]:
    """Rows of kind 'link' (batches made from it), 'delivery' (shipments of any of those batches,
    with the ship-to customer) and 'billing' (invoices of those deliveries, with the sold-to)."""
    return _trace("genealogy/trace_forward.sql", False, batch, material, conninfo)


def customers_of(batch: str, material: str | None = None, *, conninfo: str | None = None) -> list[str]:
    """The customers who received or were billed for product made from the batch."""
    rows = trace_forward(batch, material, conninfo=conninfo)
    return sorted({r["customer_code"] for r in rows if r["customer_code"]})


def customer_totals(forward: list[dict]) -> list[dict]:
    """Per customer (and unit), what the forward trace's deliveries shipped to them and how many
    deliveries it took, largest first: the recall's answer without reading every line."""
    totals: dict[tuple, dict] = {}
    for r in forward:
        if r["kind"] != "delivery" or not r["customer_code"]:
            continue
        key = (r["customer_code"], r["unit"])
        row = totals.setdefault(
            key,
            {
                "customer_code": r["customer_code"],
                "customer_name": r["customer_name"],
                "quantity": 0,
                "unit": r["unit"],
                "deliveries": 0,
            },
        )
        row["quantity"] += r["quantity"] or 0
        row["deliveries"] += 1
    return sorted(totals.values(), key=lambda t: (-t["quantity"], t["customer_code"]))


def _print_table(title: str, rows: list[dict], out) -> None:
    print(f"== {title}: {len(rows)} row(s)", file=out)
    if not rows:
        return
    columns = [c for c in rows[0] if any(r[c] is not None for r in rows)]
    widths = {c: max(len(c), *(len(str(r[c] if r[c] is not None else "")) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns), file=out)
    for r in rows:
        print("  ".join(str(r[c] if r[c] is not None else "").ljust(widths[c]) for c in columns), file=out)


def main(argv: list[str] | None = None, out=sys.stdout) -> int:
    from sap_warehouse.cli import command_parser

    parser = command_parser("genealogy", __doc__.split("\n\n")[0])
    parser.add_argument("--batch", required=True)
    parser.add_argument("--material", help="material code; omit to match the batch number in any material")
    parser.add_argument("--direction", choices=("backward", "forward", "both"), default="both")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {}
    if args.direction in ("backward", "both"):
        result["backward"] = trace_backward(args.batch, args.material)
    if args.direction in ("forward", "both"):
        result["forward"] = trace_forward(args.batch, args.material)
        result["customers"] = sorted({r["customer_code"] for r in result["forward"] if r["customer_code"]})
        result["per_customer"] = customer_totals(result["forward"])
    if args.json:
        json.dump(result, out, default=str, indent=2)
        print(file=out)
    else:
        for name in ("backward", "forward"):
            if name in result:
                _print_table(f"{name} from batch {args.batch}", result[name], out)
        if result.get("per_customer"):
            _print_table(f"shipped per customer, from batch {args.batch}", result["per_customer"], out)
        if "customers" in result:
            print(
                f"== customers who received product made from {args.batch}: {', '.join(result['customers']) or 'none'}",
                file=out,
            )
    found = any(result.get(k) for k in ("backward", "forward"))
    if not found:
        print(f"batch {args.batch} has no genealogy links and no shipments in the warehouse", file=sys.stderr)
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main())
