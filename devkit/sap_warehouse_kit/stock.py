"""The generated plant's stock: conserved, counted, and consistent with its movements.

Every stocked position (material, plant, storage location) has a stock level at the end of each day,
a deterministic function of the position, the date and the seed (``level``): a base with a slow
four-week swing, never below three quarters of the base. Each day's MB51 export carries, besides the
plant's own movements (receipts, production, deliveries, transfers), one balancing line per position
that brings the day's net movement to exactly the change of level (``balancing``): stock is conserved
and never negative, whatever the day's flows. Positions outside the stocked set (a receipt posted at
plant level, say) hold nothing at the end of a day.

MB52 counts (``mb52_rows``) list every stocked position at its level, split into batches (materials
not managed in batches: one line, blank batch), part of it in quality inspection or blocked, with
values at the month's cost. A count agrees with the previous count plus the movements between them,
so the warehouse's drift check finds nothing unless a count is planted wrong.

Late postings: MB51 exports carry a few lines posted the day before; the balancing line of an export
counts them with the rest of the export, so stock is at its level once the export is loaded. On the
day after a count day, lines that would be posted late into the count day are posted on their own day
instead: a count is whole when its day's export arrives, and the drift check (movements after a
count, up to the next) sees every line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
from decimal import Decimal

from sap_warehouse_kit.generator import DC, FACTORY, MATERIALS, SITE_MATERIAL_TYPE, SLOCS, Movement

COUNT_WEEKDAY = 0  # Monday: the plant counts its stock weekly (and on the first generated date)
SWING_DAYS = 28
SITE_NAMES = {FACTORY: "Nhà máy Bình Dương", DC: "Kho phân phối Long An"}
SLOC_NAMES = {"0101": "Kho nguyên liệu", "0102": "Kho bao bì", "0201": "Kho thành phẩm NM",
              "1001": "Kho thành phẩm", "1002": "Kho hàng trả về"}  # fmt: skip

Position = tuple[str, str, str]  # material, plant, storage location ('' = posted at plant level)


def stocked_positions() -> list[Position]:
    """Where the plant keeps stock: every material at the factory's locations, finished goods also
    at the distribution centre's."""
    positions = [(code, FACTORY, sloc) for code, _, _, _ in MATERIALS for sloc in SLOCS[FACTORY]]
    positions += [(code, DC, sloc) for code, _, _, level in MATERIALS if level == "FG" for sloc in SLOCS[DC]]
    return positions


STOCKED = frozenset(stocked_positions())
UNITS = {code: unit for code, _, unit, _ in MATERIALS}


def is_count_day(day: dt.date, first: dt.date | None = None) -> bool:
    """Whether the plant exports an MB52 count on ``day``: weekly, and on the first generated date."""
    return day.weekday() == COUNT_WEEKDAY or day == first


def _fraction(*parts) -> float:
    digest = hashlib.sha1(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _quantum(unit: str) -> Decimal:
    return Decimal(1) if unit == "PC" else Decimal("0.001")


def level(position: Position, day: dt.date, seed: int) -> Decimal:
    """Stock at the end of ``day``: 0 outside the stocked positions."""
    if position not in STOCKED:
        return Decimal(0)
    unit = UNITS[position[0]]
    base = (2000 + 6000 * _fraction("base", *position, seed)) * (1 if unit == "PC" else 10)
    phase = _fraction("phase", *position, seed) * SWING_DAYS
    swing = 1 + 0.25 * math.sin(2 * math.pi * (day.toordinal() + phase) / SWING_DAYS)
    return Decimal(str(base * swing)).quantize(_quantum(unit))


def late_redated(movements: list[Movement], day: dt.date, first: dt.date | None = None) -> list[Movement]:
    """Lines of ``day``'s export posted the day before, re-dated to ``day`` when the day before was a
    count day (a count is whole when its day's export arrives)."""
    before = day - dt.timedelta(days=1)
    if not is_count_day(before, first):
        return movements
    return [_redate(m, day) if m.posting_date == before else m for m in movements]


def _redate(movement: Movement, day: dt.date) -> Movement:
    values = dict(vars(movement))
    values["posting_date"] = day
    return Movement(**values)


def balancing(day: dt.date, lines: list[Movement], seed: int) -> list[Movement]:
    """The lines, posted on ``day``, that bring every position's net movement in ``day``'s export
    (``lines``, whatever their posting dates) to its change of level since the day before: once the
    export is loaded, each position holds its level."""
    net: dict[Position, Decimal] = {}
    for m in lines:
        key = (m.material, m.plant, m.storage_location)
        net[key] = net.get(key, Decimal(0)) + m.quantity
    before = day - dt.timedelta(days=1)
    out = []
    doc = 4960000000 + (day.toordinal() % 1000) * 10000
    for position in sorted(set(net) | STOCKED):
        change = level(position, day, seed) - level(position, before, seed) - net.get(position, Decimal(0))
        if not change:
            continue
        material, plant, sloc = position
        doc += 1
        if change > 0:
            kind, text, po = "101", "Nhập kho theo đơn mua hàng", f"45001{doc % 100000:05d}"
        else:
            kind, text, po = ("261", "Xuất cho sản xuất", "") if plant == FACTORY else ("601", "Xuất bán lẻ", "")
        out.append(
            Movement(
                posting_date=day,
                movement_type=kind,
                plant=plant,
                storage_location=sloc,
                material=material,
                unit=UNITS[material],
                quantity=change,
                material_document=str(doc),
                batch="",
                text=text,
                purchase_order=po,
            )
        )
    return out


def mb52_rows(day: dt.date, seed: int, costs: dict[tuple[str, str], Decimal]) -> list[dict]:
    """The MB52 count of ``day``: every stocked position at its level, in batches, valued at
    ``costs`` (material, plant -> unit cost)."""
    descriptions = {code: (desc, level_) for code, desc, _, level_ in MATERIALS}
    rows = []
    for material, plant, sloc in stocked_positions():
        qty = level((material, plant, sloc), day, seed)
        desc, kind = descriptions[material]
        unit = UNITS[material]
        rnd = random.Random(f"mb52:{material}:{plant}:{sloc}:{day}:{seed}")
        parts = 1 if kind == "PACK" else rnd.choice((1, 2, 2, 3))
        shares = _split(qty, parts, rnd, _quantum(unit))
        cost = costs.get((material, plant), Decimal(0))
        for i, share in enumerate(shares):
            quality = (share * Decimal(rnd.choice((0, 0, 0, 5, 10))) / 100).quantize(_quantum(unit))
            blocked = (share * Decimal(rnd.choice((0, 0, 0, 0, 2))) / 100).quantize(_quantum(unit))
            free = share - quality - blocked
            rows.append(
                {
                    "snapshot_date": day,
                    "material": material,
                    "material_description": desc,
                    "plant": plant,
                    "plant_name": SITE_NAMES[plant],
                    "storage_location": sloc,
                    "storage_location_name": SLOC_NAMES[sloc],
                    "batch": "" if kind == "PACK" else f"{day:%y}K{int(_fraction(material, plant, sloc, i) * 1e5):05d}",
                    "base_unit_of_measure": unit,
                    "unrestricted": free,
                    "currency": "VND",
                    "value_unrestricted": (free * cost).quantize(Decimal("0.01")),
                    "transit_and_transfer": Decimal(0),
                    "value_in_transit": Decimal(0),
                    "in_quality_insp": quality,
                    "value_in_qualinsp": (quality * cost).quantize(Decimal("0.01")),
                    "restricted_use": Decimal(0),
                    "value_restricted": Decimal(0),
                    "blocked": blocked,
                    "value_blocked": (blocked * cost).quantize(Decimal("0.01")),
                    "returns": Decimal(0),
                    "value_returns": Decimal(0),
                    "material_type": SITE_MATERIAL_TYPE[kind],
                    "material_group": kind,
                }
            )
    return rows


def _split(qty: Decimal, parts: int, rnd: random.Random, quantum: Decimal) -> list[Decimal]:
    shares = []
    left = qty
    for _ in range(parts - 1):
        share = (qty * Decimal(rnd.randint(20, 50)) / 100).quantize(quantum)
        share = min(share, left)
        shares.append(share)
        left -= share
    return [*shares, left]
