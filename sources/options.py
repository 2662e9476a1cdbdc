"""Checks every kind makes of its options, so that each refuses the same way."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def refuse_unknown(options: Mapping[str, Any], known: Iterable[str], kind: str, where: str = "") -> None:
    """`ValueError` naming the options `kind` does not know (`where`: e.g. `types.Bill`)."""
    known = sorted(known)
    if unknown := sorted(set(options) - set(known)):
        prefix = f"{where}: " if where else ""
        raise ValueError(
            f"{prefix}unknown option(s) {unknown} for a {kind} system; known: {', '.join(known)}"
        )


def positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def seconds(options: Mapping[str, Any], key: str, default: float) -> float:
    """A positive duration option, in seconds."""
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"{key} must be a positive number of seconds, got {value!r}")
    return float(value)
