"""The ledger's error tree. Each error is safe to show to the caller."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    """One broken rule, located in the request (`lines[2].debit`)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class LedgerError(Exception):
    """Base of the errors the ledger raises on purpose."""


class Rejected(LedgerError):
    """The request breaks one or more rules, each a `Violation`; nothing was written."""

    what = "The request"

    def __init__(self, violations: list[Violation]):
        self.violations = violations
        listed = "; ".join(str(v) for v in violations)
        super().__init__(f"{self.what} was rejected: {listed}")


class InvalidEntry(Rejected):
    """The entry breaks one or more ledger rules; nothing was written."""

    what = "The entry"


class NotFound(LedgerError):
    pass


class Conflict(LedgerError):
    pass
