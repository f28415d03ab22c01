"""Generated exports of every SAP report, from one consistent plant, and bad files on demand.

Builds, for a business date and seed, the rows each report would hold, as the typed values the
warehouse should end up with (the truth), from shared master data: the materials and customers of
generator.py, salesmen, plants. Documents agree across reports as in SAP: COOISPI's P03/P02/P01
orders and their batches are the ones ZRPP062 links (P01 process order -> its P02 "Order SFG
Liquid", written without the leading zero COOISPI shows); ZRSD002 bills the ZRSD004 deliveries of
the day; ZRMM024 moves finished goods from the factory to the distribution centre; ZRFI005 ages
the balances of the same customers. Any report is rendered by one registry-driven writer that
writes cells the way real exports do (serial or text dates, numbers as numbers or SAP text, NFD
text, placeholders such as ``Summary``/``@5B@``, a trailing ``*`` on status lists). Deterministic.

    sapwh exports --landing DIR --from 2026-01-05 --to 2026-01-07 --rows 200 \
        [--inject wrong_type,truncated,...,low_stock,stock_drift,...]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import itertools
import random
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from sap_warehouse.core.registry import Column, reports
from sap_warehouse_kit import stock
from sap_warehouse_kit.generator import (
    DC,
    FACTORY,
    MATERIALS,
    SITE_MATERIAL_TYPE,
    SLOCS,
    Movement,
    excel_serial,
    export_name,
    finalise_workbook,
    mb51_movements,
    mb51_workbook,
    sap_number_text,
)

CUSTOMERS = [
    # code, name, city, customer group, distribution channel, salesman
    ("0010000123", "Công ty TNHH Sơn Hà", "Hà Nội", "Z1", "10", "S001"),
    ("0010000124", "Cửa hàng Vật liệu Xây dựng Minh Phát", "Hải Phòng", "Z2", "10", "S001"),
    ("0010000125", "Công ty CP Xây dựng Đại Việt", "Đà Nẵng", "Z1", "10", "S002"),
    ("0010000126", "Đại lý Sơn Phương Nam", "TP. Hồ Chí Minh", "Z3", "10", "S002"),
    ("0010000127", "Công ty TNHH Thương mại Hoàng Long", "Cần Thơ", "Z2", "20", "S003"),
    # Channel 15: customer-defined, as real exports carry (11, 13, 15); site.yaml does not name it.
    ("0010000128", "PT Cat Indonesia (export)", "Jakarta", "Z9", "15", "S003"),
]
SALESMEN = {"S001": "Nguyễn Văn An", "S002": "Trần Thị Bình", "S003": "Lê Hoàng Cường"}
KG_PER_UNIT = {"PC": Decimal("18.5"), "KG": Decimal("1"), "L": Decimal("0.87")}
DISCOUNT_CONDITIONS = (
    "|Cash Discount (10.00 %) |Program Disc 2 (2.50 %)",
    "|Cash Discount (12.50 %)",
    "|Cash Discount (8.00 %) |Program Disc 3 (12.00 %)",
)
# SAP list totals at the end of a list: one row per value of this column, summing the number columns.
TOTALS_BY = {
    "cooispi": "unit_of_measure",
    "zrsd002": "sales_unit",
    "zrsd004": "sales_unit",
    "zrmm024": "uom_od",
    "zrpp062": "mrp_controller",
    "mb52": "base_unit_of_measure",
}
# Subtotal rows SAP writes inside a list, after each run of lines sharing these columns (ZRPP062: the
# MRP controller and the product group): the spaced word in Material Description, the grouping columns
# (the product group on every other one, as real lists do), the sums of the number columns.
SUBTOTALS_BY = {"zrpp062": ("mrp_controller", "product_group_1")}
SUBTOTAL_TEXT = "S U B T O T A L"
BAD_INPUTS = (
    "wrong_type", "truncated", "zip_bomb", "entity_bomb", "empty_sheet", "missing_column",
    "unknown_layout", "text_in_number", "bad_date", "cell_issue",
)  # fmt: skip
# Conditions an alert rule looks for, planted into the day's good exports (plant_condition): each
# raises exactly one alert of its rule.
CONDITIONS = ("low_stock", "negative_stock", "stock_drift", "stuck_transit", "low_yield", "ar_overdue")
INJECTIONS = BAD_INPUTS + CONDITIONS


GROWTH_ANCHOR = dt.date(2026, 1, 1)


@dataclass(frozen=True)
class Volume:
    """How many lines a date's exports hold: ``--rows`` times the weekday's factor, the month's factor
    and the growth since GROWTH_ANCHOR (compounded per year). The default is a plant that works
    Monday to Friday, half of Saturday and hardly on Sunday, sells most before Tet (January) and at
    the year's end, least in the Tet month and the rainy season, and grows 8% a year."""

    weekly: tuple[float, ...] = (1.1, 1.0, 1.0, 1.0, 1.05, 0.55, 0.1)  # Monday .. Sunday
    monthly: tuple[float, ...] = (1.25, 0.7, 0.95, 1.0, 1.0, 0.9, 0.85, 0.9, 1.0, 1.05, 1.1, 1.2)
    growth: float = 0.08

    def __post_init__(self) -> None:
        if len(self.weekly) != 7 or len(self.monthly) != 12:
            raise ValueError("a volume needs 7 weekday factors (Monday first) and 12 month factors")
        if min(self.weekly + self.monthly) < 0 or self.growth <= -1:
            raise ValueError("volume factors must be >= 0 and growth > -1")

    def factor(self, day: dt.date) -> float:
        years = (day - GROWTH_ANCHOR).days / 365.25
        return self.weekly[day.weekday()] * self.monthly[day.month - 1] * (1 + self.growth) ** years

    def rows(self, day: dt.date, base: int) -> int:
        """Lines of ``day`` for ``base`` lines on an average day (at least one)."""
        return max(1, round(base * self.factor(day)))


FLAT = Volume(weekly=(1.0,) * 7, monthly=(1.0,) * 12, growth=0.0)
PLANT = Volume()


def _money(rnd: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rnd.randint(low * 100, high * 100)) / 100


def _q3(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.001"))


def _order_no(day: dt.date, i: int) -> str:
    return f"{10000100000 + (day.toordinal() % 1000) * 1000 + i}"


def cooispi_rows(day: dt.date, rows: int, seed: int) -> list[dict]:
    """Production orders in P03 -> P02 -> P01 triples: premix, liquid, filled finished goods."""
    rnd = random.Random(f"cooispi:{day}:{seed}")
    by_level = {level: [m for m in MATERIALS if m[3] == level] for level in ("RAW", "SFG", "FG")}
    out = []
    for i in range(rows):
        level, mrp = [("RAW", "P03"), ("SFG", "P02"), ("FG", "P01")][i % 3]
        code, desc, unit, _ = rnd.choice(by_level[level])
        qty = Decimal(rnd.randint(50, 400)) if unit == "PC" else _money(rnd, 500, 5000)
        done = rnd.random() < 0.8
        # Yields of a healthy plant: 91-102 % (the low_yield alert starts below 85 %).
        delivered = (qty * Decimal(rnd.randint(91, 102)) / 100).quantize(Decimal("0.001")) if done else Decimal(0)
        status = "TECO MSPT PRT  PCNF DLV" if done else "REL PRT  PCNF"
        out.append(
            {
                "plant": FACTORY,
                "sales_order": "",
                "order_number": "0" + _order_no(day, i),
                "order_type": "ZP01",
                "material_number": code,
                "basic_start_date": day - dt.timedelta(days=2),
                "release_date_actual": day - dt.timedelta(days=1),
                "actual_finish_date": day if done else None,
                "material_description": desc,
                "bom_alternative": "1",
                "batch": f"{day:%y%j}{mrp}{i:04d}",
                "system_status": status,
                "mrp_controller": mrp,
                "order_quantity": qty,
                "delivered_quantity": delivered,
                "unit_of_measure": unit,
                "created_on": day - dt.timedelta(days=3),
                "basic_finish_date": day,
                "__cells__": {"system_status": status + "*"} if rnd.random() < 0.3 else {},
            }
        )
    for chain in _chains(out):
        _size_chain(chain, rnd)
    return out


def _size_chain(chain: tuple[dict, dict, dict], rnd: random.Random) -> None:
    """Size each order of a P03 -> P02 -> P01 chain from what the order before it delivered (2-5%
    process loss), keeping each order's own delivered/ordered ratio: the genealogy yields of the
    generated plant are plausible (mostly 75-100%)."""
    for source, order in itertools.pairwise(chain):
        ratio = order["delivered_quantity"] / order["order_quantity"]
        available = source["delivered_quantity"] or source["order_quantity"]
        if order["unit_of_measure"] == "PC":
            kg = KG_PER_UNIT["PC"]
            order["order_quantity"] = Decimal(max(1, int(available * Decimal(rnd.randint(95, 98)) / 100 / kg)))
        else:
            order["order_quantity"] = _q3(available * Decimal(rnd.randint(95, 98)) / 100)
        order["delivered_quantity"] = _q3(order["order_quantity"] * ratio)


def _chains(orders: list[dict]) -> list[tuple[dict, dict, dict]]:
    """The (P03, P02, P01) orders that make one product: COOISPI lists them in threes."""
    return [tuple(orders[i : i + 3]) for i in range(0, len(orders) - 2, 3)]


def zrpp062_rows(day: dt.date, orders: list[dict], seed: int) -> list[dict]:
    """Variance lines of the P01 filling orders, each naming the P02 liquid order of its chain
    (without the leading zero COOISPI shows)."""
    rnd = random.Random(f"zrpp062:{day}:{seed}")
    liquid_of = {p01["order_number"]: p02 for _, p02, p01 in _chains(orders)}
    out = []
    for order in (o for o in orders if o["mrp_controller"] == "P01"):
        sfg = liquid_of.get(order["order_number"])
        qty = order["order_quantity"]
        # SG Actual is text with a decimal comma in real exports, "?" where the density is unknown.
        roll = rnd.random()
        sg_actual = Decimal(rnd.randint(1220, 1280)) / 1000 if roll >= 0.05 else None
        sg_cell = "?" if roll < 0.03 else ("" if sg_actual is None else f"{sg_actual:.3f}".replace(".", ","))
        out.append(
            {
                "mrp_controller": "P01",
                "product_group_1": _product_group(order["material_number"]),
                "product_group_2": "Interior",
                "material": order["material_number"],
                "material_description": order["material_description"],
                "batch": order["batch"],
                "process_order": order["order_number"].lstrip("0"),
                "order_sfg_liquid": sfg["order_number"].lstrip("0") if sfg else None,
                "qty_order_sfg_liquid": sfg["order_quantity"] if sfg else None,
                "tb": "",
                "pv": "0001",
                "bom_alt": "1",
                "bom_text": "Công thức chuẩn",
                "group_recipe": "GR-01",
                "process_order_qty": qty,
                "process_order_qty_uom": order["unit_of_measure"],
                "tonase_pos": _q3(qty * KG_PER_UNIT["PC"] / 1000),
                "uom_tonase": "TO",
                "system_status": order["system_status"],
                "ud_status": "UD A",
                "gi_packaging_to_order_lbl": qty,
                "gi_packaging_to_order_lbl_uom": "PC",
                "gi_sfg_liquid_to_order_filling": _q3(qty * KG_PER_UNIT["PC"]),
                "gi_sfg_liquid_to_order_filling_uom": "KG",
                "gr_qty_to_0201": order["delivered_quantity"],
                "tonase_alkana_0201": _q3(order["delivered_quantity"] * KG_PER_UNIT["PC"] / 1000),
                "tonase_alkana_0201_uom": "TO",
                "gr_by_product": Decimal(0),
                "gr_by_product_uom": "KG",
                "bar_sfg": _money(rnd, 0, 50),
                "qty_allowance": _money(rnd, 0, 20),
                "sg_theoretical": Decimal("1.2500"),
                "sg_actual": sg_actual,
                "variant_prod_sfg_result_pct": Decimal(rnd.randint(-300, 300)) / 100,
                "variant_fg_pc": Decimal(rnd.randint(-5, 5)),
                "variant_fg_pct": Decimal(rnd.randint(-200, 200)) / 100,
                "losses_fg_result_kg": _money(rnd, 0, 40),
                "losses_fg_result_pct": Decimal(rnd.randint(0, 300)) / 100,
                "pc_to_kg_actual": KG_PER_UNIT["PC"],
                "pd_manager": "Phạm Minh Đức",
                "pd_leader": "Vũ Thị Hoa",
                "__cells__": {"sg_actual": sg_cell},
            }
        )
    # Listed by product group, as the report sorts them (its subtotals follow each group).
    return sorted(out, key=lambda row: row["product_group_1"])


def _product_group(material: str) -> str:
    return ("Decorative", "Protective", "Wood coatings")[int(material[-2:]) % 3]


def zrsd004_rows(day: dt.date, rows: int, seed: int) -> list[dict]:
    """Deliveries of finished goods from the distribution centre, two lines to a delivery."""
    rnd = random.Random(f"zrsd004:{day}:{seed}")
    goods = [m for m in MATERIALS if m[3] == "FG"]
    out = []
    for i in range(rows):
        delivery = f"80{day.toordinal() % 10000:04d}{i // 2:04d}"  # ten digits up to 20,000 lines a day
        customer = CUSTOMERS[(i // 2) % len(CUSTOMERS)]
        code, desc, unit, _ = rnd.choice(goods)
        qty = Decimal(rnd.randint(1, 300))
        out.append(
            {
                "delivery_date": day,
                "actual_gi_date": day,
                "delivery": delivery,
                "so_reference": f"11{delivery[2:]}",
                "req_type": "ZS",
                "delivery_type": "ZLF",
                "shipping_point": DC,
                "sloc": "1001",
                "sales_office": "VN01",
                "dist_channel": customer[4],
                "cust_group": customer[3],
                "sold_to_party": customer[0],
                "ship_to_party": customer[0],
                "name_of_ship_to": customer[1],
                "city_of_ship_to": customer[2],
                "regional_stru_grp": "R1",
                "transportation_zone": "TZ01",
                "salesman_id": customer[5],
                "salesman_name": SALESMEN[customer[5]],
                "material": code,
                "description": desc,
                "delivery_qty": qty,
                "tonase": _q3(qty * KG_PER_UNIT[unit] / 1000),
                "tonase_unit": "TO",
                "actual_delivery_qty": qty,
                "sales_unit": unit,
                "net_weight": qty * KG_PER_UNIT[unit],
                "weight_unit": "KG",
                "volume": qty * 18,
                "volume_unit": "L",
                "created_by": "SDUSER01",
                "product_hierarchy": "0102030405",
                "line_item": f"{(i % 2 + 1) * 10:06d}",
                "total_movement_goods_stat": "C",
            }
        )
    return out


def zrsd002_rows(day: dt.date, deliveries: list[dict], seed: int) -> list[dict]:
    """One billing line per delivery line of the day; a few invoices are cancelled."""
    rnd = random.Random(f"zrsd002:{day}:{seed}")
    out = []
    for i, line in enumerate(deliveries):
        customer = next(c for c in CUSTOMERS if c[0] == line["sold_to_party"])
        export = customer[4] == "20"
        price = _money(rnd, 150_000, 1_500_000) if not export else _money(rnd, 8, 60)
        net = (price * line["delivery_qty"]).quantize(Decimal("0.01"))
        tax = (net / 10).quantize(Decimal("0.01"))
        cancelled = rnd.random() < 0.03
        # Discount holds the pricing conditions as text on about a quarter of the lines (real exports).
        discount = rnd.choice(DISCOUNT_CONDITIONS) if rnd.random() < 0.25 else None
        out.append(
            {
                "billing_date": day,
                "billing_document": f"90{line['delivery'][2:]}",
                "sloc": line["sloc"],
                "tax_classification": "1",
                "top": "Z030",
                "billing_type": "ZF2",
                "sales_organization": "VN10",
                "sales_office": "VN01",
                "dist_channel": customer[4],
                "sold_to": customer[0],
                "payer": customer[0],
                "bill_to": customer[0],
                "name_of_bill_to": customer[1],
                "cust_city": customer[2],
                "cust_group": customer[3],
                "trans_zone": "TZ01",
                "reg_stru_group": "R1",
                "ship_to": customer[0],
                "name_of_ship_to": customer[1],
                "address_of_ship_to": f"Số {i + 1} đường Lê Lợi, {customer[2]}",
                "usage": "",
                "salesman_id": customer[5],
                "salesman_name": SALESMEN[customer[5]],
                "billing_item": line["line_item"],
                "material": line["material"],
                "material_type": "ZFGD",
                "description": line["description"],
                "item_proposal": "",
                "prod_hierarchy": "0102030405",
                "billing_qty": line["delivery_qty"],
                "sales_unit": line["sales_unit"],
                "curr": "USD" if export else "VND",
                "exchange_rate": Decimal("25350.0000") if export else Decimal(1),
                "cust_pricing_proc": "1",
                "price": price,
                "total_price": net,
                "discount_item": Decimal(0),
                "discount_header": Decimal(0),
                "dp": Decimal(0),
                "discount": discount,
                "net_value": net,
                "tax": tax,
                "total": net + tax,
                "net_weight": line["net_weight"],
                "weight_unit": "KG",
                "volum": line["volume"],
                "volum_unit": "L",
                "cust_formula_reason": "",
                "so_no": line["so_reference"],
                "so_date": day - dt.timedelta(days=2),
                "doc_reference_od": line["delivery"],
                "cancelled": "X" if cancelled else "",
                "doc_cancel": f"91{line['delivery'][2:]}" if cancelled else "",
                "tonase": line["tonase"],
                "tonase_unit": "TO",
                "created_by": "SDUSER02",
                "pos_status": "C",
                "ins_freight_export": _money(rnd, 10, 200) if export else Decimal(0),
            }
        )
    return out


def zrsd006_rows() -> list[dict]:
    """The material master: every material in both distribution channels."""
    out = []
    for code, desc, unit, level in MATERIALS:
        for channel in ("10", "20"):
            out.append(
                {
                    "sorg": "VN10",
                    "distribution_channel": channel,
                    "material_code": code,
                    "mat_description": desc,
                    "mat_type": SITE_MATERIAL_TYPE[level],
                    "uom": unit,
                    "ph_1": "01",
                    "division": "Sơn trang trí",
                    "ph_2": "0102",
                    "business": "Decorative",
                    "ph_3": "010203",
                    "sub_business": "Nội thất",
                    "ph_4": "01020304",
                    "product_group": "Sơn nước",
                    "ph_5": "0102030405",
                    "product_group_1": "Premium",
                    "ph_6": "010203040506",
                    "product_group_2": "Bóng mờ",
                    "ph_7": "01020304050607",
                    "series": "Series A",
                    "ph_8": "0102030405060708",
                    "color": "Trắng",
                    "ph_9": "010203040506070809",
                    "item": desc,
                    "material_group_1": level,
                }
            )
    return out


def zrfi005_rows(day: dt.date, seed: int) -> list[dict]:
    """One AR aging line per customer; the snapshot date is the business date (not in the file)."""
    rnd = random.Random(f"zrfi005:{day}:{seed}")
    out = []
    for code, name, _, group, channel, salesman in CUSTOMERS:
        # A healthy book: nothing overdue beyond 90 days (the ar_overdue alert's buckets).
        buckets = [_money(rnd, 0, 900_000_000) if rnd.random() < 0.6 and i < 3 else Decimal(0) for i in range(6)]
        if code == CUSTOMERS[-1][0] and rnd.random() < 0.5:
            channel = None  # real receivable lines without a distribution channel
        realised = [(b * Decimal(rnd.randint(0, 100)) / 100).quantize(Decimal("0.01")) for b in buckets]
        out.append(
            {
                "snapshot_date": day,
                "company_code": "VN10",
                "profit_center": "PC1201",
                "distribution_channel": channel,
                "customer_hierarchy": "Khách hàng miền Bắc",
                "customer_group": group,
                "salesman_code": salesman,
                "salesman_name": SALESMEN[salesman],
                "customer_code": code,
                "customer_name": name,
                "currency": "VND",
                "target_1_30_days": buckets[0],
                "target_31_60_days": buckets[1],
                "target_61_90_days": buckets[2],
                "target_91_120_days": buckets[3],
                "target_121_180_days": buckets[4],
                "target_over_180_days": buckets[5],
                "total_target": sum(buckets),
                "realization_not_due": _money(rnd, 0, 100_000_000),
                "realization_1_30_days": realised[0],
                "realization_31_60_days": realised[1],
                "realization_61_90_days": realised[2],
                "realization_91_120_days": realised[3],
                "realization_121_180_days": realised[4],
                "realization_over_180_days": realised[5],
                "total_realization": sum(realised),
            }
        )
    return out


# Days a finished batch takes from the factory to the distribution centre (0 = received the day it was
# made), and days an STO item stays in transit after its goods issue: a healthy plant's goods arrive
# within the stuck_transit alert's limits (48 h for a batch, 7 days for a transport order); a late or
# lost shipment is planted with ``--inject stuck_transit``.
TRANSIT_DAYS = ((0, 35), (1, 45), (2, 20))
STO_TRANSIT_DAYS = ((1, 50), (2, 25), (3, 13), (5, 8), (6, 4))
LATEST_ARRIVAL = 6


def _transit_days(rnd: random.Random, table: tuple) -> int | None:
    days, weights = zip(*table, strict=True)
    return rnd.choices(days, weights=weights)[0]


def sto_rows(day: dt.date, rows: int, seed: int) -> list[dict]:
    """Stock transport orders created on ``day``, factory -> distribution centre, as first exported;
    each with the day its goods arrive (``__arrives__``, None for never)."""
    rnd = random.Random(f"zrmm024:{day}:{seed}")
    goods = [m for m in MATERIALS if m[3] == "FG"]
    out = []
    for i in range(rows):
        code, desc, unit, _ = rnd.choice(goods)
        qty = Decimal(rnd.randint(20, 500))
        gi = rnd.random() < 0.9
        gi_date = day - dt.timedelta(days=rnd.randint(0, 4)) if gi else None
        lag = _transit_days(rnd, STO_TRANSIT_DAYS)
        row = {
            "purch_order": f"45{day.toordinal() % 100000:05d}{i // 3:03d}",
            "item": f"{(i % 3 + 1) * 10:05d}",
            "purch_date": day - dt.timedelta(days=rnd.randint(1, 6)),
            "suppl_plant": FACTORY,
            "dest_plant": DC,
            "material": code,
            "material_description": desc,
            "qty_order": qty,
            "free_on_mm": "",
            "gross_weight": qty * KG_PER_UNIT[unit],
            "tonnage_order": _q3(qty * KG_PER_UNIT[unit] / 1000),
            "tolerance_pct": Decimal("5.0000"),
            "qty_tolerance": qty * 5 / 100,
            "qty_order_plus_tol": qty * 105 / 100,
            "delivery_date": day,
            "qty_gi": qty if gi else Decimal(0),
            "tonnage_gi": _q3(qty * KG_PER_UNIT[unit] / 1000) if gi else Decimal(0),
            "mat_doc_gi": f"49{rnd.randint(10**7, 10**8 - 1)}" if gi else None,
            "year_gi": f"{day.year}" if gi else "",
            "gi_date": gi_date,
            "qty_receipt": Decimal(0),
            "tonnage_receipt": Decimal(0),
            "mat_doc_receipt": "",
            "year_gr": "",
            "gr_date": None,
            "qty_intransit": qty if gi else Decimal(0),
            "tonnage_intransit": _q3(qty * KG_PER_UNIT[unit] / 1000) if gi else Decimal(0),
            "gr_status": None,
            "pr_number": f"10{i:08d}",
            "pr_item": "00010",
            "requester": "Kho Bình Dương",
            "contract_number": "",
            "contract_item": "",
            "compl_delv_pct": Decimal(0),
            "final_delv_pct": Decimal(0),
            "compl_delv": "",
            "so_number": None,
            "so_item": "",
            "od_number": f"81{i:08d}",
            "od_item": "000010",
            "qty_od": qty,
            "tonnage_od": _q3(qty * KG_PER_UNIT[unit] / 1000),
            "uom_od": unit,
            "od_date": day - dt.timedelta(days=1),
            "do_number": "",
            "sold_to": "",
            "sold_to_cust_name": "",
            "ship_to": "",
            "ship_to_cust_name": "",
            "ship_to_address": "",
            "ship_to_city": "",
            "ph_level_7": "01020304050607",
            "dc_1": "",
            "dc_2": "",
            "dc_3": "",
            "safety_stock": Decimal(rnd.randint(0, 100)),
            "mts_mto": "MTS",
            "size_dimension_od": "18L",
            "__arrives__": max(day, gi_date + dt.timedelta(days=lag)) if gi and lag is not None else None,
            "__receipt_doc__": f"50{rnd.randint(10**7, 10**8 - 1)}",
        }
        out.append(row)
    return out


def sto_received(row: dict, on: dt.date) -> dict:
    """The export row of an STO item whose goods arrived at the distribution centre on ``on``."""
    received = dict(row)
    received.update(
        qty_receipt=row["qty_gi"],
        tonnage_receipt=row["tonnage_gi"],
        mat_doc_receipt=row["__receipt_doc__"],
        year_gr=f"{on.year}",
        gr_date=on,
        qty_intransit=Decimal(0),
        tonnage_intransit=Decimal(0),
        compl_delv_pct=Decimal(100),
        final_delv_pct=Decimal(100),
        compl_delv="X",
    )
    return received


def zrmm024_rows(day: dt.date, rows: int, seed: int) -> list[dict]:
    """The day's ZRMM024 export: stock transport orders factory -> distribution centre created that day
    (in transit from their goods issue until received), plus the earlier orders whose goods arrived
    that day, exported again with their receipt (the same key: the load updates them)."""
    out = []
    for back in range(LATEST_ARRIVAL + 5):
        created = day - dt.timedelta(days=back)
        for row in sto_rows(created, rows, seed):
            if row["__arrives__"] == day:
                out.append(sto_received(row, day))
            elif back == 0:
                out.append(row)
    for row in out:
        # Real exports: "Summary" where a document is not yet known, an icon code for the GR light.
        row["__cells__"] = {
            "mat_doc_gi": row["mat_doc_gi"] or "Summary",
            "so_number": "Summary",
            "gr_status": "@5B@" if row["gr_date"] else "",
        }
    return out


def transfer_movements(day: dt.date, rows: int, seed: int) -> list[Movement]:
    """Finished batches moving from the factory to the distribution centre: the goods issue (351) on
    the day the batch was made or the day after, the receipt at the distribution centre (101 against
    the transport order) when it arrives -- for the batches of the last days that ship or arrive on
    ``day``."""
    units = {code: unit for code, _, unit, _ in MATERIALS}
    lines: list[Movement] = []
    doc = 4970000000 + (day.toordinal() % 1000) * 10000
    for back in range(5):
        made = day - dt.timedelta(days=back)
        for order in cooispi_rows(made, max(3, rows // 4), seed):
            if order["mrp_controller"] != "P01" or not order["delivered_quantity"]:
                continue
            rnd = random.Random(f"transfer:{order['batch']}:{seed}")
            arrives = _transit_days(rnd, TRANSIT_DAYS)
            ships = 0 if arrives in (0, None) else min(rnd.choice((0, 1)), arrives)
            sto = f"46{made.toordinal() % 100000:05d}{rnd.randint(0, 999):03d}"
            moves = [("351", FACTORY, "0201", -1, "")] if ships == back else []
            if arrives == back:
                moves.append(("101", DC, "1001", 1, sto))
            for mvt, plant, sloc, sign, po in moves:
                doc += 1
                lines.append(
                    Movement(
                        posting_date=day,
                        movement_type=mvt,
                        plant=plant,
                        storage_location=sloc,
                        material=order["material_number"],
                        unit=units[order["material_number"]],
                        quantity=sign * order["delivered_quantity"],
                        material_document=str(doc),
                        batch=order["batch"],
                        text="Chuyển hàng về kho phân phối",
                        purchase_order=po,
                    )
                )
    return lines


def cogs_rows(day: dt.date, seed: int) -> list[dict]:
    """Standard and moving-average cost per material and plant, effective from the first of the month."""
    rnd = random.Random(f"cogs:{day:%Y-%m}:{seed}")
    return [
        {
            "material": code,
            "plant": plant,
            "standard_cost": cost,
            "moving_average_cost": cost + _money(rnd, -500, 500),
            "currency": "VND",
            "effective_date": day.replace(day=1),
        }
        for code, _, _, _ in MATERIALS
        for plant in (FACTORY, DC)
        for cost in [_money(rnd, 20_000, 900_000)]
    ]


def target_rows(day: dt.date, seed: int) -> list[dict]:
    rnd = random.Random(f"target:{day.year}:{seed}")
    return [
        {"salesman_name": name, "semester": str(semester), "year": str(day.year), "target": _money(rnd, 10**9, 10**10)}
        for name in SALESMEN.values()
        for semester in (1, 2)
    ]


def day_rows(day: dt.date, rows: int, seed: int) -> dict[str, list[dict]]:
    """The truth rows of every report except MB51 (see generator.mb51_movements) for one date; MB52's
    are the plant's count at the end of the date (exported on count days only: day_plan)."""
    orders = cooispi_rows(day, max(3, rows // 4), seed)
    deliveries = zrsd004_rows(day, rows, seed)
    costs = cogs_rows(day, seed)
    return {
        "cooispi": orders,
        "zrpp062": zrpp062_rows(day, orders, seed),
        "zrsd004": deliveries,
        "zrsd002": zrsd002_rows(day, deliveries, seed),
        "zrsd006": zrsd006_rows(),
        "zrfi005": zrfi005_rows(day, seed),
        "zrmm024": zrmm024_rows(day, max(3, rows // 4), seed),
        "cogs": costs,
        "target": target_rows(day, seed),
        "mb52": stock.mb52_rows(day, seed, {(c["material"], c["plant"]): c["moving_average_cost"] for c in costs}),
    }


_DUPLICATE_SUFFIX = re.compile(r" \(\d+\)$")


def file_header(column: Column) -> str:
    """The header a real export writes for a column (duplicates such as ZRPP062's UoM unnumbered)."""
    return _DUPLICATE_SUFFIX.sub("", column.headers[0])


def _cell(value, kind: str, rnd: random.Random, sheet):
    if value is None or value == "":
        return ""
    if kind == "date":
        if rnd.random() < 0.15:
            return value.strftime("%d.%m.%Y")
        cell = WriteOnlyCell(sheet, value=excel_serial(value))
        cell.number_format = "dd.mm.yyyy"
        return cell
    if kind == "number":
        roll = rnd.random()
        if roll < 0.1:
            return sap_number_text(value)
        return float(value)
    if kind == "text" and rnd.random() < 0.2:
        return unicodedata.normalize("NFD", value)
    return value


def list_totals(report_code: str, rows: list[dict]) -> list[dict]:
    """SAP's list totals of ``rows``: per value of the report's grouping column (TOTALS_BY), the sum of
    every number column, and nothing else (no identity, no dates, no codes)."""
    by = TOTALS_BY.get(report_code)
    if by is None:
        return []
    numbers = [c.name for c in reports()[report_code].file_columns if c.type == "number"]
    groups: dict = {}
    for row in rows:
        total = groups.setdefault(row.get(by), {by: row.get(by)})
        for name in numbers:
            if isinstance(row.get(name), Decimal):
                total[name] = total.get(name, Decimal(0)) + row[name]
    return [groups[k] for k in sorted(groups, key=str) if k is not None]


def with_subtotals(report_code: str, rows: list[dict]) -> list[dict]:
    """``rows`` with SAP's subtotal rows inside the list (SUBTOTALS_BY), each marked ``__subtotal__``."""
    by = SUBTOTALS_BY.get(report_code)
    if by is None or not rows:
        return rows
    numbers = [c.name for c in reports()[report_code].file_columns if c.type == "number"]
    out: list[dict] = []
    run: list[dict] = []
    for row in [*rows, None]:
        if run and (row is None or tuple(row.get(k) for k in by) != tuple(run[0].get(k) for k in by)):
            total = {"__subtotal__": True, "material_description": SUBTOTAL_TEXT, by[0]: run[0].get(by[0])}
            if sum(1 for r in out if r.get("__subtotal__")) % 2 == 0:
                total.update({k: run[0].get(k) for k in by[1:]})
            for name in numbers:
                values = [r[name] for r in run if isinstance(r.get(name), Decimal)]
                if values:
                    total[name] = sum(values, Decimal(0))
            out.append(total)
            run = []
        if row is not None:
            out.append(row)
            run.append(row)
    return out


def render(
    report_code: str,
    rows: list[dict],
    seed: int,
    *,
    header_row_zero: bool = False,
    title: bool = False,
    totals: bool = True,
) -> bytes:
    """An .xlsx export of ``rows`` with the report's real header row, written as SAP writes cells;
    with ``totals``, SAP's list totals below the lines (see list_totals)."""
    report = reports()[report_code]
    columns = report.file_columns
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Sheet1")
    if title:
        sheet.append([report.title])
        sheet.append([])
    sheet.append([file_header(c) for c in columns])
    for row in with_subtotals(report_code, rows) if totals else rows:
        if row.get("__subtotal__"):
            sheet.append(
                [float(row[c.name]) if c.type == "number" and c.name in row else row.get(c.name, "") for c in columns]
            )
            continue
        rnd = random.Random(f"{report_code}-cells:{seed}:{sorted(row.items(), key=str)!r}")
        cells = row.get("__cells__", {})
        sheet.append(
            [cells[c.name] if c.name in cells else _cell(row.get(c.name), c.type, rnd, sheet) for c in columns]
        )
    for total in list_totals(report_code, rows) if totals else []:
        sheet.append(
            [float(total[c.name]) if c.name in total and c.type == "number" else total.get(c.name, "") for c in columns]
        )
    buf = io.BytesIO()
    book.save(buf)
    return finalise_workbook(buf.getvalue(), header_row_zero=header_row_zero and not title)


def render_text(report_code: str, rows: list[dict], *, delimiter: str = ";", encoding: str = "utf-8-sig") -> bytes:
    """The same export as SAP's text downloads write it: dd.mm.yyyy dates, comma-decimal numbers
    with a trailing minus; delimiter "|" gives SAP's framed list layout with a dashed rule."""
    columns = reports()[report_code].file_columns
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")

    def text(value, kind: str) -> str:
        if value is None:
            return ""
        if kind == "date":
            return value.strftime("%d.%m.%Y")
        if kind == "number":
            return sap_number_text(value)
        return value

    header = [file_header(c) for c in columns]
    body = [[row.get("__cells__", {}).get(c.name, text(row.get(c.name), c.type)) for c in columns] for row in rows]
    if delimiter == "|":
        rule = "-" * 40
        buf.write(rule + "\n")
        for line in [header, *body]:
            writer.writerow(["", *line, ""])
        buf.write(rule + "\n")
    else:
        writer.writerows([header, *body])
    return buf.getvalue().encode(encoding)


def truth(rows: list[dict]) -> list[dict]:
    """The rows as the warehouse should hold them: without the cell overrides, text in NFC, '' as NULL."""
    clean = []
    for row in rows:
        values = {}
        for key, value in row.items():
            if key.startswith("__"):  # cell overrides and generator bookkeeping
                continue
            if isinstance(value, str):
                value = unicodedata.normalize("NFC", value).strip() or None
            values[key] = value
        clean.append(values)
    return clean


def bad_file(kind: str, day: dt.date, seed: int) -> bytes:
    """A file of one kind of bad input, as users really drop them."""
    good = render("zrsd006", zrsd006_rows(), seed)
    if kind == "wrong_type":
        return b"%PDF-1.4\n% a PDF saved with an .xlsx name\n"
    if kind == "truncated":
        return good[: len(good) // 2]
    if kind == "zip_bomb":
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("xl/worksheets/sheet1.xml", b"<row>" + b" " * (50 * 1024 * 1024) + b"</row>")
        return out.getvalue()
    if kind == "entity_bomb":
        # "Billion laughs": nested entities declared in the sheet's DOCTYPE, referenced by a cell.
        entities = b"".join(
            b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1)) * 10 if i > 1 else b"lol" * 10) for i in range(1, 10)
        )
        with zipfile.ZipFile(io.BytesIO(good)) as zf:
            sheet = zf.read("xl/worksheets/sheet1.xml")
        sheet = sheet.replace(b"<worksheet", b"<!DOCTYPE worksheet [" + entities + b"]><worksheet", 1)
        sheet = re.sub(rb"<t>[^<]*</t>", b"<t>&lol9;</t>", sheet, count=1)
        return _replace_member(good, "xl/worksheets/sheet1.xml", sheet)
    if kind == "empty_sheet":
        book = Workbook()
        book.active.title = "Sheet1"
        buf = io.BytesIO()
        book.save(buf)
        return buf.getvalue()
    if kind == "missing_column":
        rows = [{k: v for k, v in r.items() if k != "material_code"} for r in zrsd006_rows()]
        report = reports()["zrsd006"]
        book = Workbook(write_only=True)
        sheet = book.create_sheet("Sheet1")
        columns = [c for c in report.file_columns if c.name != "material_code"]
        sheet.append([file_header(c) for c in columns])
        for row in rows:
            sheet.append([row.get(c.name) or "" for c in columns])
        buf = io.BytesIO()
        book.save(buf)
        return buf.getvalue()
    if kind == "unknown_layout":
        book = Workbook()
        book.active.append(["Kunde", "Betrag", "Datum"])
        book.active.append(["A", 1, "02.01.2026"])
        buf = io.BytesIO()
        book.save(buf)
        return buf.getvalue()
    if kind in ("text_in_number", "bad_date"):
        # One bad value in forty rows. text_in_number: an order quantity (fact-critical) that is not a
        # number, so that row is rejected and the file loads (under the reject ratio); bad_date: an
        # impossible start date, a cell issue (no fact needs it), so every row loads. Orders of the
        # day under numbers and batches of their own, so the file does not overlap the day's export.
        rows = _renumbered_orders(cooispi_rows(day, 40, seed), "2", "Q")
        column, value = ("order_quantity", "n/a") if kind == "text_in_number" else ("basic_start_date", "31.02.2026")
        rows[0]["__cells__"] = {column: value}
        return render("cooispi", rows, seed)
    if kind == "cell_issue":
        # Text in a number column that no fact is computed from: every row loads, the cell is NULL
        # and recorded. Transport orders of the day under numbers of their own (47...), so the file
        # does not overlap the day's real export; received on their goods-issue day, so none is in
        # transit (stuck_transit is not what this bad input is about).
        rows = [sto_received(row, row["gi_date"]) if row["gi_date"] else row for row in sto_rows(day, 30, seed)]
        for row in rows:
            row["purch_order"] = "47" + row["purch_order"][2:]
        for row in rows[::3]:
            row["__cells__"] = {"gross_weight": "see packing list"}
        return render("zrmm024", rows, seed)
    raise ValueError(f"unknown bad input {kind!r}; choose from {', '.join(BAD_INPUTS)}")


def _renumbered_orders(orders: list[dict], prefix: str, batch_mark: str) -> list[dict]:
    """``orders`` under order numbers starting with ``prefix`` (instead of 1) and batches marked
    ``batch_mark`` (instead of the MRP controller): the same day's orders, overlapping no real one."""
    for order in orders:
        order["order_number"] = "0" + prefix + order["order_number"][2:]
        order["batch"] = order["batch"][:5] + batch_mark + order["batch"][8:]
    return orders


def _replace_member(data: bytes, member: str, body: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        names = src.namelist()
        for info in src.infolist():
            dst.writestr(info, body if info.filename == member else src.read(info.filename))
        if member not in names:
            dst.writestr(member, body)
    return out.getvalue()


def production_movements(day: dt.date, orders: list[dict]) -> list[Movement]:
    """The MB51 lines of the day's production: each finished order receives its output batch (101),
    and each P02/P01 order issues the batch of the order before it in its chain (261) -- the
    P03 -> P02 -> P01 genealogy the warehouse links."""
    units = {code: unit for code, _, unit, _ in MATERIALS}
    lines: list[Movement] = []
    doc = 4990000000 + (day.toordinal() % 1000) * 10000
    for chain in _chains(orders):
        for source, consumer in ((chain[0], chain[1]), (chain[1], chain[2])):
            doc += 1
            lines.append(
                Movement(
                    posting_date=day,
                    movement_type="261",
                    plant=FACTORY,
                    storage_location="0101",
                    material=source["material_number"],
                    unit=units[source["material_number"]],
                    quantity=-(source["delivered_quantity"] or source["order_quantity"]),
                    material_document=str(doc),
                    batch=source["batch"],
                    text="Xuất cho lệnh sản xuất",
                    purchase_order="",
                    order=consumer["order_number"].lstrip("0"),
                )
            )
        for order in (o for o in chain if o["delivered_quantity"]):
            doc += 1
            lines.append(
                Movement(
                    posting_date=day,
                    movement_type="101",
                    plant=FACTORY,
                    storage_location="0201",
                    material=order["material_number"],
                    unit=order["unit_of_measure"],
                    quantity=order["delivered_quantity"],
                    material_document=str(doc),
                    batch=order["batch"],
                    text="Nhập kho thành phẩm",
                    purchase_order="",
                    order=order["order_number"].lstrip("0"),
                )
            )
    return lines


def delivery_movements(day: dt.date, orders: list[dict], deliveries: list[dict]) -> list[Movement]:
    """The MB51 goods issues (601) of the day's deliveries that shipped a finished batch made that
    day: Reference holds the delivery number, so a batch traces forward to its customers."""
    made = {}
    for order in orders:
        if order["mrp_controller"] == "P01" and order["delivered_quantity"]:
            made.setdefault(order["material_number"], order)
    lines: list[Movement] = []
    doc = 4980000000 + (day.toordinal() % 1000) * 10000
    for line in deliveries:
        order = made.get(line["material"])
        if order is None:
            continue
        doc += 1
        lines.append(
            Movement(
                posting_date=day,
                movement_type="601",
                plant=DC,
                storage_location=line["sloc"],
                material=line["material"],
                unit=line["sales_unit"],
                quantity=-line["delivery_qty"],
                material_document=str(doc),
                batch=order["batch"],
                text="Giao hàng cho khách",
                purchase_order="",
                reference=line["delivery"],
            )
        )
    return lines


def day_plan(
    day: dt.date,
    rows: int,
    seed: int,
    volume: Volume = FLAT,
    *,
    first: dt.date | None = None,
    conditions: tuple[str, ...] = (),
) -> list[tuple[str, str, int, list]]:
    """The exports of one business date: (report, file name, part, rows) each; MB51's rows are its
    movements: the day's own, its production (101/261), the goods issues of its deliveries (601), the
    transfers to the distribution centre, and the lines that keep each position's stock at its level
    (stock.balancing). With ``first`` (the first generated date), MB52 counts on that date and weekly
    after (stock.is_count_day). ``rows`` is scaled by ``volume`` for the date; ``conditions`` (one of
    CONDITIONS each) plant what an alert rule looks for."""
    scaled = volume.rows(day, rows)
    reports_of_day = day_rows(day, scaled, seed)
    flows = (
        stock.late_redated(mb51_movements(day, scaled, seed), day, first)
        + production_movements(day, reports_of_day["cooispi"])
        + delivery_movements(day, reports_of_day["cooispi"], reports_of_day["zrsd004"])
        + transfer_movements(day, scaled, seed)
    )
    movements = flows + stock.balancing(day, flows, seed)
    count = reports_of_day.pop("mb52")
    if first is not None and stock.is_count_day(day, first):
        reports_of_day["mb52"] = count
    elif "stock_drift" in conditions:
        # A planted drift outside the weekly count: an extra count of the factory alone.
        reports_of_day["mb52"] = [r for r in count if r["plant"] == FACTORY]
    for condition in conditions:
        plant_condition(condition, day, reports_of_day, movements, seed)
    plan = [("mb51", export_name("mb51", day, seed), 0, movements)]
    for part, (code, report_rows) in enumerate(reports_of_day.items(), start=1):
        plan.append((code, export_name(code, day, seed, part), part, report_rows))
    return plan


def plant_condition(condition: str, day: dt.date, reports_of_day: dict[str, list], movements: list, seed: int) -> None:
    """Change the day's rows so that exactly one condition of the alert rule ``condition`` holds."""
    goods = [code for code, _, _, level in MATERIALS if level == "FG"]
    if condition == "low_stock":
        # A transport order to the distribution centre raises a finished good's safety stock to twice
        # (plus two) what the centre holds: critical (at or below half the safety stock).
        held = sum(stock.level((goods[0], DC, sloc), day, seed) for sloc in SLOCS[DC])
        row = sto_received(sto_rows(day, 1, seed)[0], day)
        row.update(
            purch_order="4599999901",
            item="00010",
            material=goods[0],
            safety_stock=held * 2 + 2,
            uom_od="PC",
            __cells__={"so_number": "Summary", "gr_status": "@5B@"},
        )
        reports_of_day["zrmm024"].append(row)
    elif condition == "negative_stock":
        # A goods issue at the distribution centre of 100 more of a finished good than its returns
        # location holds: one position below zero (the total at the centre stays above any safety stock).
        qty = stock.level((goods[1], DC, "1002"), day, seed) + 100
        movements.append(
            Movement(
                posting_date=day,
                movement_type="601",
                plant=DC,
                storage_location="1002",
                material=goods[1],
                unit="PC",
                quantity=-qty,
                material_document="4969999999",
                batch="",
                text="Xuất vượt tồn",
                purchase_order="",
            )
        )
    elif condition == "stock_drift":
        # The count finds a tenth (and 50) more of one finished good than the books expect.
        row = next(r for r in reports_of_day["mb52"] if r["material"] == goods[0] and r["plant"] == FACTORY)
        row["unrestricted"] += (row["unrestricted"] / 10).quantize(Decimal(1)) + 50
    elif condition == "stuck_transit":
        # A transport order whose goods left the factory 15 days ago and never arrived: critical.
        left = day - dt.timedelta(days=15)
        row = dict(sto_rows(left, 1, seed)[0])
        cells = {"so_number": "Summary", "gr_status": "", "mat_doc_gi": row["mat_doc_gi"] or "Summary"}
        row.update(
            purch_order="4599999801",
            item="00010",
            gi_date=left,
            qty_gi=row["qty_order"],
            qty_intransit=row["qty_order"],
            __cells__=cells,
        )
        reports_of_day["zrmm024"].append(row)
    elif condition == "low_yield":
        # A raw-material (P03) order, outside any chain, finished today with 60 % of its quantity.
        order = dict(next(o for o in reports_of_day["cooispi"] if o["mrp_controller"] == "P03"))
        order.update(
            order_number="0" + _order_no(day, 999),
            batch=f"{day:%y%j}P03Y999",
            actual_finish_date=day,
            order_quantity=Decimal(1000),
            delivered_quantity=Decimal(600),
            system_status="TECO MSPT PRT  PCNF DLV",
            __cells__={},
        )
        reports_of_day["cooispi"].append(order)
    elif condition == "ar_overdue":
        # One customer owes an amount overdue for more than 180 days: critical.
        line = reports_of_day["zrfi005"][0]
        line["target_over_180_days"] = Decimal("250000000.00")
        line["total_target"] += line["target_over_180_days"]
    else:
        raise ValueError(f"unknown condition {condition!r}; choose from {', '.join(CONDITIONS)}")


def write_day(
    landing: Path,
    day: dt.date,
    rows: int,
    seed: int,
    *,
    inject: tuple[str, ...] = (),
    volume: Volume = FLAT,
    first: dt.date | None = None,
) -> dict[str, list]:
    """Write one export of every report (and the chosen bad files and planted conditions) into
    ``landing/<day>/``. Returns the truth per report (MB51: its movements). On odd days MB51's layout
    has the optional ``Order`` column; every other file has its header at r="0". ``first``: the first
    date of the generated range (MB52 counts on it and weekly after; without it, none)."""
    unknown = sorted(set(inject) - set(BAD_INPUTS) - set(CONDITIONS))
    if unknown:
        raise ValueError(f"unknown injection(s) {', '.join(unknown)}; choose from {', '.join(INJECTIONS)}")
    folder = landing / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, list] = {}
    conditions = tuple(k for k in inject if k in CONDITIONS)
    for code, name, part, report_rows in day_plan(day, rows, seed, volume, first=first, conditions=conditions):
        if code == "mb51":
            odd = day.toordinal() % 2 == 1
            data = mb51_workbook(report_rows, seed, header_row_zero=not odd, with_order=odd)
            written[code] = report_rows
        else:
            data = render(code, report_rows, seed, header_row_zero=part % 2 == 0)
            written[code] = truth(report_rows)
        (folder / name).write_bytes(data)
    for kind in inject:
        if kind in BAD_INPUTS:
            (folder / f"bad-{kind}.xlsx").write_bytes(bad_file(kind, day, seed))
    return written


def _factors(count: int):
    def parse(text: str) -> tuple[float, ...]:
        values = tuple(float(v) for v in text.split(","))
        if len(values) != count:
            raise argparse.ArgumentTypeError(f"give {count} comma-separated factors, not {len(values)}")
        return values

    return parse


def add_volume_arguments(parser: argparse.ArgumentParser) -> None:
    """--volume and its overrides, for every command that generates exports."""
    group = parser.add_argument_group("volume per date", Volume.__doc__.split(". ")[0] + ".")
    group.add_argument(
        "--volume",
        choices=("plant", "flat"),
        default="plant",
        help="plant: weekly and seasonal patterns and growth (default); flat: --rows every date",
    )
    group.add_argument("--weekly", type=_factors(7), help=f"Monday..Sunday factors (default {PLANT.weekly})")
    group.add_argument("--monthly", type=_factors(12), help=f"January..December factors (default {PLANT.monthly})")
    group.add_argument("--growth", type=float, help=f"growth per year from {GROWTH_ANCHOR} (default {PLANT.growth})")


def volume_from_arguments(args: argparse.Namespace) -> Volume:
    base = PLANT if args.volume == "plant" else FLAT
    return Volume(
        weekly=args.weekly or base.weekly,
        monthly=args.monthly or base.monthly,
        growth=base.growth if args.growth is None else args.growth,
    )


def main(argv: list[str] | None = None) -> None:
    from sap_warehouse.cli import command_parser

    parser = command_parser("exports", __doc__.split("\n\n")[0])
    parser.add_argument("--landing", type=Path, required=True, help="landing zone root directory")
    parser.add_argument("--from", dest="start", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--to", dest="end", type=dt.date.fromisoformat, required=True)
    parser.add_argument(
        "--rows", type=int, default=200, help="lines per report on an average day (MB51, ZRSD004, ZRSD002)"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--inject",
        default="",
        help=f"comma-separated bad files ({', '.join(BAD_INPUTS)}) and planted alert conditions "
        f"({', '.join(CONDITIONS)}), into every date",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the files and rows per report; write nothing")
    add_volume_arguments(parser)
    args = parser.parse_args(argv)
    inject = tuple(k for k in args.inject.split(",") if k)
    unknown = sorted(set(inject) - set(INJECTIONS))
    if unknown:
        parser.error(f"unknown injection(s) {', '.join(unknown)}; choose from {', '.join(INJECTIONS)}")
    volume = volume_from_arguments(args)
    day = args.start
    while day <= args.end:
        if args.dry_run:
            conditions = tuple(k for k in inject if k in CONDITIONS)
            plan = day_plan(day, args.rows, args.seed, volume, first=args.start, conditions=conditions)
            files = [f"{code} {name} ({len(rows)} rows)" for code, name, _, rows in plan]
            files += [f"bad-{kind}.xlsx ({kind})" for kind in inject if kind in BAD_INPUTS]
            print(
                f"{day} (x{volume.factor(day):.2f}): would write to {args.landing / day.isoformat()}: "
                + ", ".join(files)
            )
        else:
            written = write_day(args.landing, day, args.rows, args.seed, inject=inject, volume=volume, first=args.start)
            print(f"{day}: " + ", ".join(f"{code} {len(rows)}" for code, rows in written.items()))
        day += dt.timedelta(days=1)
    if args.dry_run:
        print("dry run: nothing written")


if __name__ == "__main__":
    main()
