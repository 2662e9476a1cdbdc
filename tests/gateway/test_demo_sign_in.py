"""`ledgergate demo` tells a person how to open a deep link: it prints a sign-in line per
demo person, fresh at each start, beside its client lines; with it, a browser opens the HR
deep link that the gateway hands out, and without it the link asks to sign in."""

from __future__ import annotations

import contextlib
import re

import httpx
import pytest

import gateway.demo.sources as demo_sources
from gateway import cli
from gateway.cli import serve as cli_serve
from sources.demo.generate import generate_world
from sources.demo.records import record_url
from sources.demo.services import SERVICES

SCALE = 0.05
SIGN_IN = re.compile(
    r"demo sign-in (?P<system>[a-z]+): user=(?P<user>[a-z-]+) password=(?P<password>[A-Za-z0-9_-]{16})"
    r"(?P<sees> \(sees salaries\))?"
)
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def _start_demo(tmp_path, monkeypatch, capsys) -> list[dict]:
    """Runs `ledgergate demo` until it would serve the gateway; returns, per start, what it
    printed and what a browser then got from the running HR system."""
    original = demo_sources.demo_systems
    starts: list[dict] = []

    @contextlib.asynccontextmanager
    async def on_free_ports(records, *, pos_db_path, ports=None, **given):
        async with original(records, pos_db_path=pos_db_path, ports=dict.fromkeys(SERVICES, 0), **given) as up:
            starts.append({"running": up[0], "given": given})
            yield up

    async def browse_instead_of_serving(settings, catalog):
        start = starts[-1]
        start["out"] = capsys.readouterr().out
        running = start["running"]
        employee = generate_world(cli.DEMO_SEED, SCALE).employees[0]
        # The deep link the gateway hands out, pointed at the port the test gave HR.
        link = record_url("hr", "Employee", employee.id).replace("http://127.0.0.1:8103", running.url("hr"))
        people = {m["user"]: m for m in SIGN_IN.finditer(start["out"]) if m["system"] == "hr"}
        async with httpx.AsyncClient(headers=BROWSER, timeout=10) as browser:
            start["anonymous"] = await browser.get(link)
            start["pages"] = {
                user: await browser.get(link, auth=(user, m["password"])) for user, m in people.items()
            }
        await catalog.aclose()

    monkeypatch.setattr(demo_sources, "demo_systems", on_free_ports)
    monkeypatch.setattr(cli_serve, "serve_app", browse_instead_of_serving)
    db = tmp_path / "demo.db"
    for _ in range(2):
        assert cli.main(["demo", "--db", str(db), "--scale", str(SCALE)]) == 0
    return starts


def test_the_demo_prints_sign_ins_that_open_deep_links_in_a_browser(tmp_path, monkeypatch, capsys):
    first, second = _start_demo(tmp_path, monkeypatch, capsys)

    printed = [m.groupdict() for m in SIGN_IN.finditer(first["out"])]
    assert sorted((p["system"], p["user"]) for p in printed) == sorted(
        [(system, "staff") for system in SERVICES] + [("hr", "hr-manager")]
    )
    assert [p["user"] for p in printed if p["sees"]] == ["hr-manager"]
    assert "demo client " in first["out"]  # beside the client lines
    again = {(m["system"], m["user"]): m["password"] for m in SIGN_IN.finditer(second["out"])}
    assert all(again[(p["system"], p["user"])] != p["password"] for p in printed)
    # The CRM's key for the README's walkthrough, fresh at each start; the CRM pushes to the
    # gateway's hook and keeps its state beside the ledger.
    keys = [re.search(r"^demo system crm: X-API-Key=(\S{32})$", s["out"], re.M) for s in (first, second)]
    assert all(keys) and keys[0][1] != keys[1][1]
    assert first["given"] == {"crm_state_path": tmp_path / "demo-crm.json",
                              "hooks_url": "http://127.0.0.1:8000/hooks/crm"}

    refused = first["anonymous"]
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith('Basic realm="hr"')
    assert "EMP-" not in refused.text
    manager, staff = first["pages"]["hr-manager"], first["pages"]["staff"]
    assert manager.status_code == staff.status_code == 200
    assert manager.headers["content-type"].startswith("text/html")
    assert "annualSalary" in manager.text and "annualSalary" not in staff.text


@pytest.mark.parametrize(("host", "url"), [
    ("127.0.0.1", "http://127.0.0.1:8000/hooks/crm"),
    ("0.0.0.0", "http://127.0.0.1:8000/hooks/crm"),  # every address: the CRM pushes on loopback
    ("::", "http://[::1]:8000/hooks/crm"),
    ("::1", "http://[::1]:8000/hooks/crm"),
])
def test_the_demo_crm_pushes_to_the_gateway_wherever_it_listens(host, url):
    from gateway.cli.demo import _hooks_url

    assert _hooks_url(host, 8000) == url
