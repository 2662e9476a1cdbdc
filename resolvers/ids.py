"""Opaque global IDs (`node(id)`) and keyset cursors, both base64url text."""

import base64
import binascii
import datetime as dt

import orjson

from .errors import user_input_error

_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _b64(text: str | bytes) -> str:
    # base64.urlsafe_b64encode's output, without its two extra calls: IDs and cursors are
    # made twice per line of a 10,000-line page.
    raw = text.encode() if isinstance(text, str) else text
    return binascii.b2a_base64(raw, newline=False).translate(_URLSAFE).rstrip(b"=").decode()


def _unb64(text: str) -> str:
    padded = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii")).decode()


def global_id(type_name: str, pk: int) -> str:
    return _b64(f"{type_name}:{pk}")


def parse_global_id(value: str) -> tuple[str, int]:
    try:
        type_name, _, pk = _unb64(value).partition(":")
        if not type_name or not pk.isdigit():
            raise ValueError
        return type_name, int(pk)
    except (ValueError, UnicodeError, binascii.Error):
        raise user_input_error(f"{value!r} is not a ledgergate ID") from None


def cursor(*values: object) -> str:
    # orjson writes dates as ISO strings; cursors are built once per edge of big pages.
    return _b64(orjson.dumps(values))


def parse_cursor(value: str, *kinds: type) -> tuple:
    """Decode a cursor made by `cursor` with values of the given kinds (str, int, date)."""
    try:
        raw = orjson.loads(_unb64(value))
        if not isinstance(raw, list) or len(raw) != len(kinds):
            raise ValueError
        parsed = []
        for kind, item in zip(kinds, raw):
            if kind is dt.date:
                parsed.append(dt.date.fromisoformat(item))
            elif kind is int and isinstance(item, int) and not isinstance(item, bool) or kind is str and isinstance(item, str):
                parsed.append(item)
            else:
                raise ValueError
        return tuple(parsed)
    except (ValueError, TypeError, UnicodeError, binascii.Error, orjson.JSONDecodeError):
        raise user_input_error(f"{value!r} is not a valid cursor for this list") from None
