"""How the bill-payment system's records become ledger entries: vendor bills and payments."""

from __future__ import annotations

from collections.abc import Callable

from ledger.drafts import EntryDraft, LineDraft, SourceRef
from sources.demo.records import AP, Bill, Payment, SourceRecord, Vendor

from .book import Book
from .chart import DEPARTMENT, LOCATION, PROJECT, SPEND_ACCOUNTS, VENDOR
from .links import link


class ApPostings:
    """Mixin of `Company`: each bill as one summarised entry, each payment as one entry."""

    book: Book
    kind: str
    vendors: dict[str, Vendor]
    payment_account: str
    ref: Callable[[SourceRecord], SourceRef]

    def bill(self, bill: Bill) -> None:
        vendor = self.vendors[bill.vendor_id]
        accounts = SPEND_ACCOUNTS[self.kind]
        summary: dict[tuple, list[int]] = {}
        for line in bill.lines:
            key = (accounts[line.category], line.department_id, line.location_id, line.project_id)
            total = summary.setdefault(key, [0, 0])
            total[0] += line.amount_minor
            total[1] += 1
        ref = self.ref(bill)
        money = self.book.money
        lines = []
        for (account, department, location, project), (minor, count) in sorted(
            summary.items(), key=lambda item: tuple(x or "" for x in item[0])
        ):
            dims = [(DEPARTMENT, department), (LOCATION, location), (VENDOR, vendor.id)]
            if project:
                dims.append((PROJECT, project))
            lines.append(
                LineDraft(
                    account,
                    debit=money(minor),
                    dimensions=tuple(dims),
                    sources=(ref,),
                    memo=f"{count} bill line{'s' if count > 1 else ''}",
                )
            )
        lines.append(
            LineDraft(
                "2000",
                credit=money(bill.total_minor),
                dimensions=((VENDOR, vendor.id),),
                sources=(ref,),
                memo=bill.vendor_invoice,
            )
        )
        self.book.add(
            bill.id,
            EntryDraft(
                "AP",
                bill.bill_date,
                tuple(lines),
                f"Bill {bill.id} from {vendor.name} ({bill.vendor_invoice})",
                ref,
            ),
        )

    def payment(self, payment: Payment) -> None:
        ref = self.ref(payment)
        bill_ref = link(AP, "Bill", payment.bill_id)
        amount = self.book.money(payment.amount_minor)
        vendor = ((VENDOR, payment.vendor_id),)
        self.book.add(
            payment.id,
            EntryDraft(
                "AP",
                payment.paid_on,
                (
                    LineDraft("2000", debit=amount, dimensions=vendor, sources=(ref, bill_ref)),
                    LineDraft(
                        self.payment_account,
                        credit=amount,
                        dimensions=vendor,
                        sources=(ref,),
                        memo=payment.method.upper(),
                    ),
                ),
                f"Payment {payment.id} of {payment.bill_id}",
                ref,
            ),
        )
