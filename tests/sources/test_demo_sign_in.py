"""The demo source systems ask everyone for credentials, on every route: machines (the
gateway) with the API key or bearer token, and people, on a deep link in a browser, with
HTTP Basic, seeing only what their role may see."""

from __future__ import annotations

import base64

import httpx
import pytest
from starlette.routing import Route

from sources.demo.generate import generate_world
from sources.demo.records import AP, CRM, HR, POS, USAGE, DemoRecords
from sources.demo.services import SERVICES
from sources.demo.services.ap import ap_collections
from sources.demo.services.crm import crm_collections
from sources.demo.services.hr import hr_collections
from sources.demo.services.people import HR_MANAGER, STAFF, DemoPerson, People, demo_people
from sources.demo.services.pos import pos_collections
from sources.demo.services.usage import usage_collections

SEED, SCALE = 7, 0.05
USAGE_SECRET = "usage-test-secret"
SECRETS = {
    CRM: {"api_key": "crm-key"},
    POS: {"api_key": "pos-key"},
    HR: {"api_key": "hr-key"},
    USAGE: {"client_secret": USAGE_SECRET},
    AP: {"api_key": "ap-key"},
}
COLLECTIONS = {
    CRM: crm_collections, POS: pos_collections, HR: hr_collections,
    USAGE: usage_collections, AP: ap_collections,
}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
# What each route is asked, so that a route that served anything would serve data.
HR_QUERY = "{ employees { id name annualSalary } }"
# The CRM's write side (`crm_ledger`): what the ledger's outbox sends it.
LEDGER_ORDER = {"company": "SOFTCO", "number": "SO-000001", "version": 1, "state": "OPEN"}
LEDGER_NOTE = {"company": "SOFTCO", "number": "SO-000001", "noteId": "LG-1", "author": "a", "text": "t"}
LEDGER_REQUESTS = {
    ("POST", "/crm/ledger/sales-orders"): {"json": LEDGER_ORDER, "headers": {"Idempotency-Key": "order-1"}},
    ("POST", "/crm/ledger/sales-order-notes"): {"json": LEDGER_NOTE, "headers": {"Idempotency-Key": "note-1"}},
    ("GET", "/crm/ledger/sales-orders"): {},
    ("HEAD", "/crm/ledger/sales-orders"): {},
    ("GET", "/crm/ledger/sales-orders/{company:str}/{number:str}"): {},
    ("HEAD", "/crm/ledger/sales-orders/{company:str}/{number:str}"): {},
    # What the CRM's people do that it pushes to the ledger (`crm_deals`; no ledger here).
    ("POST", "/crm/ledger/sales-orders/{company:str}/{number:str}/notes"): {"json": {"author": "a", "text": "t"}},
    ("POST", "/crm/opportunities/{id:str}/win"): {},
}


@pytest.fixture(scope="module")
def world() -> DemoRecords:
    return generate_world(SEED, SCALE)


@pytest.fixture(scope="module")
def people() -> dict[str, tuple[DemoPerson, ...]]:
    return {name: demo_people(name) for name in SERVICES}


@pytest.fixture(scope="module")
def apps(world, people):
    return {
        name: factory(world, people=people[name], **SECRETS[name])
        for name, factory in SERVICES.items()
    }


def _client(app, **headers) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://demo.test", headers=headers
    )


def _person(people, system: str, role: str) -> DemoPerson:
    return next(p for p in people[system] if p.role == role)


def _record_ids(world, system: str) -> dict[str, str]:
    """Collection path -> the id of one of its records."""
    return {c.path: next(iter(c.by_id)) for c in COLLECTIONS[system](world)}


def _requests(app, world, system: str) -> list[tuple[str, str, dict]]:
    """One request per (route, method) of the app's router, each naming real records."""
    ids = _record_ids(world, system)
    found = []
    for route in app.routes:
        # A Mount or a WebSocketRoute would need its own requests here: fail, do not skip.
        assert type(route) is Route, f"{system}: unexpected route {route!r}"
        for method in sorted(route.methods or ()):
            path, kwargs = route.path, {}
            if (method, path) in LEDGER_REQUESTS:
                kwargs = LEDGER_REQUESTS[(method, path)]
                path = path.replace("{company:str}/{number:str}", "SOFTCO/SO-000001").replace(
                    "{id:str}", next(o.id for o in world.master.opportunities if o.stage != "lost"))
            elif path.endswith("/{id:str}") or path.endswith("/{id}"):
                base = path.rsplit("/", 1)[0]
                path = f"{base}/{ids[base]}"
            elif path in ids and method == "POST":
                kwargs = {"json": {"ids": [ids[path]]}}
            elif path in ids:
                kwargs = {"params": {"ids": ids[path]}}
            elif path == "/graphql" and method == "POST":
                kwargs = {"json": {"query": HR_QUERY}}
            elif path == "/graphql":
                kwargs = {"params": {"query": HR_QUERY}}
            elif path == "/oauth/token":
                kwargs = {"data": {"grant_type": "client_credentials"}}
            else:
                raise AssertionError(f"{system}: no request for route {method} {path}")
            found.append((method, path, kwargs))
    return found


def _with(kwargs: dict, headers: dict) -> dict:
    """A request's arguments with `headers` added to its own."""
    return {**kwargs, "headers": {**kwargs.get("headers", {}), **headers}}


def _leaks(world, system: str, body: str) -> list[str]:
    return [record_id for record_id in _record_ids(world, system).values() if record_id in body]


@pytest.mark.parametrize("system", list(SERVICES))
async def test_every_route_refuses_a_caller_without_credentials(apps, world, system):
    app = apps[system]
    requests = _requests(app, world, system)
    assert len(requests) >= 3
    async with _client(app) as anonymous:
        for method, path, kwargs in requests:
            for headers in ({}, BROWSER, {"X-API-Key": "wrong"}, {"Authorization": "Bearer forged"}):
                response = await anonymous.request(method, path, **_with(kwargs, headers))
                assert response.status_code in (401, 403), (method, path, headers, response.text)
                assert _leaks(world, system, response.text) == [], (method, path)
                assert "annualSalary" not in response.text and "salary" not in response.text.lower()
        # A path no route serves is refused the same way: what exists is not told.
        assert (await anonymous.get(f"/{system}/nothing-here")).status_code == 401


@pytest.mark.parametrize("system", list(SERVICES))
async def test_a_person_may_open_deep_links_only(apps, world, people, system):
    person = _person(people, system, STAFF)
    async with _client(apps[system]) as browser:
        for method, path, kwargs in _requests(apps[system], world, system):
            if path.startswith("/oauth/"):
                continue  # the token endpoint takes client ids, not people
            response = await browser.request(
                method, path, auth=(person.user, person.password), **_with(kwargs, {})
            )
            deep_link = (method in ("GET", "HEAD") and path.count("/") == 3
                         and not path.startswith("/crm/ledger/"))  # the write side: machines only
            if deep_link:
                assert response.status_code == 200, (method, path)
            else:
                assert response.status_code == 403, (method, path, response.text)
                assert _leaks(world, system, response.text) == []


@pytest.mark.parametrize("system", list(SERVICES))
async def test_the_machine_credentials_read_every_route(apps, world, system):
    app = apps[system]
    async with _client(app) as machine:
        if system == USAGE:
            token = await machine.post(
                "/oauth/token", data={"grant_type": "client_credentials"},
                auth=("ledgergate", USAGE_SECRET),
            )
            machine.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        else:
            machine.headers["X-API-Key"] = SECRETS[system]["api_key"]
        for method, path, kwargs in _requests(app, world, system):
            if path.startswith("/oauth/") or method == "HEAD":
                continue
            response = await machine.request(method, path, **_with(kwargs, {}))
            assert response.status_code == (201 if path.endswith("/notes") else 200), (method, path, response.text)
            if path.startswith("/crm/ledger/"):  # the ledger's orders, not the world's records
                assert '"applied":true' in response.text or "SO-000001" in response.text, response.text
            else:
                assert _leaks(world, system, response.text), (method, path)


@pytest.mark.parametrize("system", list(SERVICES))
async def test_a_browser_is_asked_to_sign_in_and_then_gets_a_page(apps, world, people, system):
    person = _person(people, system, STAFF)
    async with _client(apps[system], **BROWSER) as browser:
        for path, record_id in _record_ids(world, system).items():
            refused = await browser.get(f"{path}/{record_id}")
            assert refused.status_code == 401
            assert f'Basic realm="{system}"' in refused.headers.get_list("WWW-Authenticate")[0]
            assert record_id not in refused.text

            page = await browser.get(f"{path}/{record_id}", auth=(person.user, person.password))
            assert page.status_code == 200
            assert page.headers["content-type"].startswith("text/html")
            assert page.headers["Cache-Control"] == "no-store"
            assert "default-src 'none'" in page.headers["Content-Security-Policy"]
            assert f"<td>{record_id}</td>" in page.text and "Signed in as staff" in page.text


async def test_only_an_hr_manager_sees_salaries_and_payslips(apps, world, people):
    employee, run = world.employees[0], world.payroll_runs[0]
    salary = f"{employee.annual_salary_minor // 100}.{employee.annual_salary_minor % 100:02d}"
    staff, manager = _person(people, HR, STAFF), _person(people, HR, HR_MANAGER)
    async with _client(apps[HR]) as http:
        for headers in ({}, BROWSER):
            seen = await http.get(f"/hr/employees/{employee.id}", headers=headers,
                                  auth=(staff.user, staff.password))
            assert seen.status_code == 200 and employee.name in seen.text
            assert "annualSalary" not in seen.text and salary not in seen.text

            shown = await http.get(f"/hr/employees/{employee.id}", headers=headers,
                                   auth=(manager.user, manager.password))
            assert "annualSalary" in shown.text and salary in shown.text

            payroll = await http.get(f"/hr/payroll-runs/{run.id}", headers=headers,
                                     auth=(staff.user, staff.password))
            assert payroll.status_code == 200 and run.id in payroll.text
            assert "payslips" not in payroll.text and "gross" not in payroll.text
            managed = await http.get(f"/hr/payroll-runs/{run.id}", headers=headers,
                                     auth=(manager.user, manager.password))
            assert "payslips" in managed.text
        # The JSON a staff member gets has every other field of the employee.
        json = (await http.get(f"/hr/employees/{employee.id}", auth=(staff.user, staff.password))).json()
        assert json["id"] == employee.id and json["title"] == employee.title
        assert "annualSalary" not in json


def _basic(text: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(text).decode()}


async def test_a_wrong_password_or_an_unknown_person_is_refused(apps, world, people):
    employee = world.employees[0].id
    staff, manager = _person(people, HR, STAFF), _person(people, HR, HR_MANAGER)
    other = _person(people, CRM, STAFF)
    wrong = [
        _basic(f"{staff.user}:{staff.password}x".encode()),
        _basic(f"{staff.user}:".encode()),
        _basic(f"{staff.user}:{manager.password}".encode()),  # another person's password
        _basic(f"{other.user}:{other.password}".encode()),  # the same name in another system
        _basic(f"nobody:{staff.password}".encode()),
        _basic(staff.password.encode()),  # no colon
        {"Authorization": "Basic not-base64!"},
        {"Authorization": f"Digest {staff.password}"},
    ]
    async with _client(apps[HR], **BROWSER) as browser:
        for headers in wrong:
            response = await browser.get(f"/hr/employees/{employee}", headers=headers)
            assert response.status_code == 401, headers
            assert employee not in response.text
            assert response.headers["WWW-Authenticate"].startswith('Basic realm="hr"')
        right = await browser.get(f"/hr/employees/{employee}", auth=(staff.user, staff.password))
        assert right.status_code == 200


def test_each_start_draws_new_passwords_that_repr_does_not_show():
    first, second = demo_people(HR), demo_people(HR)
    assert [p.user for p in first] == [HR_MANAGER, STAFF]
    assert all(a.password != b.password and len(a.password) >= 16 for a, b in zip(first, second))
    assert all(p.password not in repr(p) for p in first)
    line = first[0].line(HR)
    assert line == f"demo sign-in hr: user=hr-manager password={first[0].password} (sees salaries)"
    assert first[1].line(HR) == f"demo sign-in hr: user=staff password={first[1].password}"


def test_people_without_anyone_accept_no_one():
    assert People().verify("Basic " + base64.b64encode(b":").decode()) is None
    assert not People()
