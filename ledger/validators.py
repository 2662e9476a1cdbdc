"""Posting rules as small pure functions that return violations.

Each validator takes the draft and the references resolved for it (`PostingRefs`) and
returns the rules it breaks; `validate_entry` runs them all so the caller hears every
problem at once. `check_balanced` is the rule that can never be skipped.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlsplit

from .drafts import EntryDraft, LineDraft, SourceRef
from .errors import Violation
from .model import Account, AccountType, DimensionKind, DimensionValue, Journal, Period
from .money import MAX_MINOR_UNITS, decimals_of

# The default most lines an entry may have; a deployment sets its own (`[limits]
# max_entry_lines`), passed in through `PostingRefs.max_lines`.
MAX_LINES = 10_000
MAX_TEXT = 500
MAX_URL = 1000


@dataclass
class PostingRefs:
    """What the draft's codes resolved to, inside the caller's entity only."""

    currency: str
    currency_scale: int
    journal: Journal | None
    period: Period | None
    accounts: dict[str, Account] = field(default_factory=dict)
    dimensions: dict[tuple[str, str], DimensionValue] = field(default_factory=dict)
    # Reversals re-post what once was valid: inactive accounts or values do not block them.
    allow_inactive: bool = False
    max_lines: int = MAX_LINES
    # The year-end close posts into the year's last period, which it requires closed.
    allow_closed_period: bool = False
    # SPOT rates of the transaction currencies the drafts need (`ledger.currency`).
    rates: dict = field(default_factory=dict)


Validator = Callable[[EntryDraft, PostingRefs], Iterable[Violation]]


def _is_statistical(account: Account | None) -> bool:
    return account is not None and account.type == AccountType.STATISTICAL.value


def check_lines_present(draft: EntryDraft, refs: PostingRefs) -> Iterable[Violation]:
    if not draft.lines:
        yield Violation("lines", "an entry needs at least one line")
    elif len(draft.lines) > refs.max_lines:
        yield Violation("lines", f"{len(draft.lines)} lines; at most {refs.max_lines} per entry")


def check_journal(draft: EntryDraft, refs: PostingRefs) -> Iterable[Violation]:
    if refs.journal is None:
        yield Violation("journal", f"unknown journal {draft.journal!r}")
    elif not refs.journal.active and not refs.allow_inactive:
        yield Violation("journal", f"journal {draft.journal!r} is inactive")


def check_period_open(draft: EntryDraft, refs: PostingRefs) -> Iterable[Violation]:
    if refs.period is None:
        yield Violation("date", f"no fiscal period covers {draft.date.isoformat()}")
    elif refs.period.closed and not refs.allow_closed_period:
        yield Violation("date", f"period {refs.period.name} is closed")


def check_accounts(draft: EntryDraft, refs: PostingRefs) -> Iterable[Violation]:
    for i, line in enumerate(draft.lines):
        account = refs.accounts.get(line.account)
        if account is None:
            yield Violation(f"lines[{i}].account", f"unknown account {line.account!r}")
        elif not account.active and not refs.allow_inactive:
            yield Violation(f"lines[{i}].account", f"account {line.account!r} is inactive")


def _check_positive_amount(
    path: str, value: Decimal, scale: int, currency: str
) -> Iterable[Violation]:
    if value <= 0:
        yield Violation(path, f"must be greater than zero, got {value}")
    elif decimals_of(value) > scale:
        yield Violation(path, f"{value} has more decimals than {currency} allows ({scale})")
    elif value.scaleb(scale) >= MAX_MINOR_UNITS:
        yield Violation(path, f"{value} exceeds the largest amount a line may carry")


def _check_money_line(i: int, line: LineDraft, refs: PostingRefs) -> Iterable[Violation]:
    if line.quantity is not None:
        yield Violation(f"lines[{i}].quantity", "quantities belong on statistical accounts")
    if (line.debit is None) == (line.credit is None):
        yield Violation(f"lines[{i}]", "a line carries exactly one of debit or credit")
        return
    name = "debit" if line.debit is not None else "credit"
    value = line.debit if line.debit is not None else line.credit
    yield from _check_positive_amount(
        f"lines[{i}].{name}", value, refs.currency_scale, refs.currency
    )


def _check_statistical_line(
    i: int, line: LineDraft, account: Account, reversal: bool = False
) -> Iterable[Violation]:
    if line.debit is not None or line.credit is not None:
        yield Violation(f"lines[{i}]", f"statistical account {account.code!r} takes a quantity, not money")
    if line.quantity is None:
        yield Violation(f"lines[{i}].quantity", "a statistical line needs a quantity")
    elif line.quantity == 0 and account.aggregation != "STOCK":
        # A level of zero is a fact (nobody left in a department); a flow of zero is noise.
        yield Violation(f"lines[{i}].quantity", "must not be zero")
    elif line.quantity < 0 and account.aggregation == "STOCK" and not reversal:
        # A reversal mirrors the level it withdraws; the reports drop both (`ledger.reports`).
        yield Violation(
            f"lines[{i}].quantity",
            f"{account.code!r} records a level ({account.unit or 'units'} on the date), "
            "which cannot be negative",
        )
    elif decimals_of(line.quantity) > account.quantity_scale:
        yield Violation(
            f"lines[{i}].quantity",
            f"{line.quantity} has more decimals than {account.unit or 'the unit'} allows "
            f"({account.quantity_scale})",
        )
    elif abs(line.quantity.scaleb(account.quantity_scale)) >= MAX_MINOR_UNITS:
        yield Violation(f"lines[{i}].quantity", f"{line.quantity} is too large")


def check_line_amounts(draft: EntryDraft, refs: PostingRefs) -> Iterable[Violation]:
    for i, line in enumerate(draft.lines):
        account = refs.accounts.get(line.account)
        if _is_statistical(account):
            yield from _check_statistical_line(i, line, account, draft.reverses_id is not None)
        else:
            yield from _check_money_line(i, line, refs)


def check_not_mixed(draft: EntryDraft, refs: PostingRefs) -> Iterable[Violation]:
    kinds = {
        _is_statistical(refs.accounts[line.account])
        for line in draft.lines
        if line.account in refs.accounts
    }
    if len(kinds) > 1:
        yield Violation(
            "lines", "statistical and financial lines cannot be mixed in one entry"
        )


def check_balanced(draft: EntryDraft, refs: PostingRefs) -> Iterable[Violation]:
    """Debits equal credits per currency. The rule that can never be skipped."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    financial = False
    for line in draft.lines:
        if _is_statistical(refs.accounts.get(line.account)):
            continue
        financial = True
        totals[refs.currency] += (line.debit or 0) - (line.credit or 0)
    if financial:
        for currency, difference in totals.items():
            if difference != 0:
                yield Violation(
                    "lines",
                    f"debits and credits differ by {difference} {currency}; an entry must balance",
                )


def check_dimensions(draft: EntryDraft, refs: PostingRefs) -> Iterable[Violation]:
    kinds = {k.value for k in DimensionKind}
    for i, line in enumerate(draft.lines):
        seen: set[str] = set()
        for j, (kind, code) in enumerate(line.dimensions):
            path = f"lines[{i}].dimensions[{j}]"
            if kind not in kinds:
                yield Violation(path, f"unknown dimension kind {kind!r}")
                continue
            if kind in seen:
                yield Violation(path, f"{kind} given more than once on one line")
            seen.add(kind)
            value = refs.dimensions.get((kind, code))
            if value is None:
                yield Violation(path, f"unknown {kind} {code!r}")
            elif not value.active and not refs.allow_inactive:
                yield Violation(path, f"{kind} {code!r} is inactive")


def _check_source(path: str, ref: SourceRef) -> Iterable[Violation]:
    for name, value, limit in (
        ("system", ref.system, 64),
        ("recordType", ref.record_type, 64),
        ("recordId", ref.record_id, 128),
    ):
        if not value or not value.strip():
            yield Violation(f"{path}.{name}", "must not be empty")
        elif len(value) > limit:
            yield Violation(f"{path}.{name}", f"longer than {limit} characters")
    if ref.url is not None:
        if len(ref.url) > MAX_URL:
            yield Violation(f"{path}.url", f"longer than {MAX_URL} characters")
        elif not is_web_url(ref.url):
            # The URL is served back to people as a deep link: `javascript:` and the like
            # would run in their browser.
            yield Violation(f"{path}.url", "must be an absolute http or https URL")


def is_web_url(url: str) -> bool:
    """An absolute http(s) URL with a host, of printable ASCII only (no spaces)."""
    if not url.isascii() or not url.isprintable() or " " in url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def check_sources_and_text(draft: EntryDraft, refs: PostingRefs) -> Iterable[Violation]:
    for path, ref in draft.links():
        yield from _check_source(path, ref)
    if draft.description is not None and len(draft.description) > MAX_TEXT:
        yield Violation("description", f"longer than {MAX_TEXT} characters")
    for i, line in enumerate(draft.lines):
        if line.memo is not None and len(line.memo) > MAX_TEXT:
            yield Violation(f"lines[{i}].memo", f"longer than {MAX_TEXT} characters")


VALIDATORS: list[Validator] = [
    check_lines_present,
    check_journal,
    check_period_open,
    check_accounts,
    check_line_amounts,
    check_not_mixed,
    check_dimensions,
    check_sources_and_text,
    check_balanced,
]


def validate_entry(draft: EntryDraft, refs: PostingRefs) -> list[Violation]:
    return [v for validator in VALIDATORS for v in validator(draft, refs)]
