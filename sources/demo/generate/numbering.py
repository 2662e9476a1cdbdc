"""Record numbers that run through the demo year, one sequence per kind of record."""

from ..records import DEMO_YEAR


class Numbering:
    """Sequential numbering that runs through the year."""

    def __init__(self) -> None:
        self._last: dict[object, int] = {}

    def _next(self, sequence: object) -> int:
        n = self._last[sequence] = self._last.get(sequence, 0) + 1
        return n

    def sales_order(self) -> str:
        return f"SO-{DEMO_YEAR}-{self._next('sales-order'):06d}"

    def bill(self) -> str:
        return f"BILL-{self._next('bill'):06d}"

    def payment(self) -> str:
        return f"PAY-{self._next('payment'):06d}"

    def receipt(self, hotel: str) -> str:
        """Receipts are numbered per hotel."""
        return f"R-{hotel}-{DEMO_YEAR}-{self._next(('receipt', hotel)):07d}"
