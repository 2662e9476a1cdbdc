"""How HOTELCO's POS days, month-end settlements and depreciation become ledger entries."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from ledger.drafts import EntryDraft, LineDraft, SourceRef
from sources.demo.generate import month_end
from sources.demo.records import DEMO_YEAR, DemoMaster, MonthRecords, Receipt

from .book import Book
from .chart import (
    CLASS,
    CUSTOMER,
    DEPARTMENT,
    HOTEL_CHART,
    ITEM,
    LOCATION,
    PAYMENT_ACCOUNTS,
    POS_ACCOUNTS,
    POS_CLASSES,
    POS_DEPARTMENTS,
)
from .company import Company
from .opening import HOTEL_OPENING, HOTEL_OPENING_PER_ROOM


def _tally(slots: dict[object, list], key: object, amount: int, ref: SourceRef) -> None:
    """Add to the [total, receipts] slot of `key`, naming each receipt once."""
    slot = slots.setdefault(key, [0, []])
    slot[0] += amount
    if not slot[1] or slot[1][-1] is not ref:
        slot[1].append(ref)


class Hotel(Company):
    chart = HOTEL_CHART
    payment_account = "1010"
    depreciation_label = "Depreciation and loan interest"

    def __init__(self, book: Book, master: DemoMaster, scale: float):
        super().__init__(book, master, scale)
        self.items = {i.id: i for i in self.own(master.pos_items)}

    def opening_lines(self) -> list[LineDraft]:
        lines = []
        for hotel in self.locations:
            amounts = dict(HOTEL_OPENING)
            amounts.update({a: v * hotel.rooms for a, v in HOTEL_OPENING_PER_ROOM.items()})
            lines += self.balanced_opening(amounts, ((LOCATION, hotel.id),))
        return lines

    def month(self, records: MonthRecords) -> None:
        by_day: dict[tuple[str, dt.date], list[Receipt]] = defaultdict(list)
        for receipt in self.own(records.receipts):
            by_day[(receipt.location_id, receipt.business_date)].append(receipt)
        month_totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for (hotel, day), receipts in by_day.items():
            self.pos_day(hotel, day, receipts, month_totals[hotel])
        self.close_month(records.month, month_totals)
        super().month(records)

    def pos_day(self, hotel: str, day: dt.date, receipts: Sequence[Receipt], totals: dict) -> None:
        money = self.book.money
        revenue: dict[str, list] = {}  # item → [net, receipts]
        nights: dict[str, list] = {}  # room item → [nights, receipts]
        tax: dict[Decimal, int] = defaultdict(int)
        paid: dict[tuple[str, str | None], list] = {}  # (method, customer) → [total, receipts]
        for receipt in receipts:
            ref = self.ref(receipt)
            for line in receipt.lines:
                _tally(revenue, line.item_id, line.net_minor, ref)
                tax[line.tax_rate] += line.tax_minor
                if line.item_id.startswith("ROOM-"):
                    _tally(nights, line.item_id, line.quantity, ref)
            _tally(paid, (receipt.payment_method, receipt.customer_id), receipt.total_minor, ref)
        at = (LOCATION, hotel)
        lines = []
        for (method, customer), (minor, refs) in sorted(
            paid.items(), key=lambda p: (p[0][0], p[0][1] or "")
        ):
            totals[method] += minor
            if method == "account":
                lines.append(
                    LineDraft(
                        "1100",
                        debit=money(minor),
                        dimensions=(at, (CUSTOMER, customer)),
                        sources=tuple(refs),
                        memo=f"{len(refs)} receipts on account",
                    )
                )
                totals[f"account:{customer}"] += minor
            else:
                lines.append(
                    LineDraft(
                        PAYMENT_ACCOUNTS[method],
                        debit=money(minor),
                        dimensions=(at,),
                        memo=f"{len(refs)} {method} receipts",
                    )
                )
        for item_id, (minor, refs) in sorted(revenue.items()):
            category = self.items[item_id].category
            lines.append(
                LineDraft(
                    POS_ACCOUNTS[category],
                    credit=money(minor),
                    sources=tuple(refs),
                    dimensions=(
                        at,
                        (DEPARTMENT, POS_DEPARTMENTS[category]),
                        (ITEM, item_id),
                        (CLASS, POS_CLASSES[category]),
                    ),
                    memo=f"{len(refs)} receipts",
                )
            )
        for rate, minor in sorted(tax.items()):
            if minor:
                totals["vat"] += minor
                lines.append(
                    LineDraft(
                        "2300", credit=money(minor), dimensions=(at,), memo=f"VAT {rate * 100:g}%"
                    )
                )
        self.book.add(
            f"pos:{hotel}:{day.isoformat()}",
            EntryDraft(
                "POS",
                day,
                tuple(lines),
                f"POS day summary {hotel} {day.isoformat()} ({len(receipts)} receipts)",
            ),
        )
        if nights:
            stat = tuple(
                LineDraft(
                    "9100",
                    quantity=Decimal(n),
                    sources=tuple(refs),
                    dimensions=(at, (DEPARTMENT, "ROOMS"), (ITEM, item_id)),
                )
                for item_id, (n, refs) in sorted(nights.items())
            )
            self.book.add(
                f"room-nights:{hotel}:{day.isoformat()}",
                EntryDraft("STAT", day, stat, f"Room-nights sold {hotel} {day.isoformat()}"),
            )

    def close_month(self, month: int, month_totals: dict[str, dict[str, int]]) -> None:
        last = month_end(month)
        available = tuple(
            LineDraft(
                "9110",
                quantity=Decimal(hotel.rooms * last.day),
                dimensions=((LOCATION, hotel.id),),
                sources=(self.ref(hotel),),
            )
            for hotel in self.locations
        )
        self.book.add(
            f"rooms-available:{self.code}:{month:02d}",
            EntryDraft("STAT", last, available, f"Room-nights available {last:%Y-%m}"),
        )
        sweep, vat, city_ledger = [], [], []
        for hotel in self.locations:
            totals = month_totals.get(hotel.id, {})
            at = ((LOCATION, hotel.id),)
            for method, account in (("card", "1050"), ("cash", "1000")):
                if totals.get(method):
                    sweep += self.transfer(
                        "1010", account, totals[method], at, memo=f"{method} settlement"
                    )
            if totals.get("vat"):
                vat += self.transfer("2300", "1010", totals["vat"], at)
            for key, minor in sorted(totals.items()):
                if key.startswith("account:") and minor:
                    customer = self.customers[key.split(":", 1)[1]]
                    city_ledger += self.transfer(
                        "1010",
                        "1100",
                        minor,
                        (*at, (CUSTOMER, customer.id)),
                        sources=(self.ref(customer),),
                    )
        self.book.add(
            f"gj:settlements:{self.code}:{month:02d}",
            EntryDraft(
                "GJ", last, tuple(sweep), f"Card settlements and cash deposits {last:%Y-%m}"
            ),
        )
        if month < 12:
            self.book.add(
                f"gj:vat:{self.code}:{month:02d}",
                EntryDraft(
                    "GJ",
                    dt.date(DEMO_YEAR, month + 1, 10),
                    tuple(vat),
                    f"VAT remittance {last:%Y-%m}",
                ),
            )
            # One transfer (two lines) per hotel and corporate customer: large at scale.
            self.book.add_in_parts(
                f"gj:city-ledger:{self.code}:{month:02d}",
                EntryDraft(
                    "AR",
                    dt.date(DEMO_YEAR, month + 1, 20),
                    tuple(city_ledger),
                    f"City-ledger collections for {last:%Y-%m}",
                ),
                step=2,
            )

    def depreciation_lines(self) -> list[LineDraft]:
        lines = []
        for hotel in self.locations:
            at = ((LOCATION, hotel.id),)
            charged = (*at, (DEPARTMENT, "HADM"))
            for contra, asset, years in (("1510", "1500", 40), ("1530", "1520", 10)):
                minor = (
                    HOTEL_OPENING_PER_ROOM[asset]
                    * hotel.rooms
                    * 10**self.book.scale
                    // (years * 12)
                )
                lines += self.transfer("6600", contra, minor, at, debit_dimensions=charged)
            interest = (
                -HOTEL_OPENING_PER_ROOM["2500"] * hotel.rooms * 10**self.book.scale * 4 // 100 // 12
            )
            lines += self.transfer("6700", "1010", interest, at, debit_dimensions=charged)
        return lines
