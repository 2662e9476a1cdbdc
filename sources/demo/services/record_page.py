"""A record as an HTML page, for a person who opens a deep link in a browser.

Every value is escaped; the page loads nothing (``Content-Security-Policy: default-src
'none'``) and is not cached, since it may show pay.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
STYLE = (
    "body{font:15px system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}"
    "th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:left;vertical-align:top}"
    "th{background:#f4f4f4}"
)


def wants_html(request: Request) -> bool:
    """A browser navigating asks for HTML first; API clients ask for JSON or anything."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept.split(",")[0]


def record_page(
    system: str, record_type: str, record: Mapping[str, Any], signed_in: str
) -> HTMLResponse:
    title = html.escape(f"{system} · {record_type} {record.get('id', '')}")
    body = (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{title}</title>"
        f"<style>{STYLE}</style><h1>{title}</h1>"
        f"<p>Signed in as {html.escape(signed_in)}.</p>{_table(record)}</html>"
    )
    return HTMLResponse(body, headers=PAGE_HEADERS)


def _table(record: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(str(key))}</th><td>{_value(value)}</td></tr>"
        for key, value in record.items()
    )
    return f"<table>{rows}</table>"


def _value(value: Any) -> str:
    if isinstance(value, Mapping):
        return _table(value)
    if isinstance(value, list):
        if value and all(isinstance(item, Mapping) for item in value):
            return _rows(value)
        return html.escape(", ".join(str(item) for item in value))
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return html.escape(str(value))


def _rows(items: list[Mapping[str, Any]]) -> str:
    columns = list(dict.fromkeys(key for item in items for key in item))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{_value(item.get(c))}</td>" for c in columns) + "</tr>"
        for item in items
    )
    return f"<table><tr>{head}</tr>{rows}</table>"
