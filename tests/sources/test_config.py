"""The sources config: what a TOML file declares, every way it can be wrong, and the
sources built from it."""

import asyncio
import dataclasses
import sys
import types
from decimal import Decimal
from pathlib import Path

import pytest

from sources.base import FetchRequest, FetchResult, FieldSpec, Ownership, RecordType, Source
from sources.config import build_sources, load_sources_config, parse_sources_config
from sources.errors import SourceConfigError, SourceUnavailable
from sources.registry import BUILTIN_KINDS, SourceRegistry
from sources.resilience import Policy, ResilientSource

CONFIGS = Path(__file__).parent / "configs"
KINDS = SourceRegistry(plugins=[])


class FakeKind(Source):
    """A kind that keeps what it was built with."""

    built: list["FakeKind"] = []

    def __init__(self, name, options, record_types, secrets, *, transport=None):
        if options.get("fail"):
            raise ValueError(f"option fail: {options['fail']}")
        self.name, self.options, self.record_types = name, options, record_types
        self.secrets, self.transport, self.closed = secrets, transport, False
        FakeKind.built.append(self)

    async def fetch(self, request: FetchRequest) -> FetchResult:
        return FetchResult()

    async def aclose(self) -> None:
        self.closed = True


@pytest.fixture
def fake_kinds():
    FakeKind.built = []
    here = f"{__name__}:FakeKind"
    return SourceRegistry(builtins={**BUILTIN_KINDS, "rest": here, "graphql": here}, plugins=[])


EMPLOYEE = RecordType(
    system="hr",
    name="Employee",
    graphql_name="HrEmployee",
    key="id",
    fields=(FieldSpec("id", "ID", nullable=False), FieldSpec("salary", "Decimal", sensitive=True)),
    url_template="http://127.0.0.1:8103/employees/{id}",
)
# As the gateway serves it after discovery: with its system's `shared = true`.
SHARED_EMPLOYEE = dataclasses.replace(EMPLOYEE, ownership=Ownership(shared=True))


def discovering(*record_types, seen=None):
    async def discover(system, url, *, transport=None, url_templates=None):
        if seen is not None:
            seen.append((system, url, transport, url_templates))
        return list(record_types)

    return discover


# --- what a config declares -------------------------------------------------------------


def test_the_example_config_declares_systems_policies_and_typed_record_types():
    config = load_sources_config(CONFIGS / "crm_and_hr.toml", registry=KINDS)

    assert config.file == str(CONFIGS / "crm_and_hr.toml")
    crm, hr = config.systems
    assert (crm.name, crm.kind, crm.credentials) == ("crm", "rest", "crm")
    assert crm.options == {"base_url": "http://127.0.0.1:8101"}
    assert crm.policy == Policy(timeout=2.0, retries=2)
    sales_order, customer = crm.record_types
    assert sales_order == RecordType(
        system="crm",
        name="SalesOrder",
        graphql_name="CrmSalesOrder",
        key="id",
        fields=(
            FieldSpec("id", "ID", nullable=False),
            FieldSpec("amount", "Decimal", nullable=False),
            FieldSpec("customerId", "String", source_name="customer_id"),
            FieldSpec("salary", "Decimal", sensitive=True),
        ),
        url_template="http://127.0.0.1:8101/crm/sales-orders/{id}",
        options={"batch_path": "/crm/sales-orders"},
        ownership=Ownership(shared=True),
    )
    assert (customer.graphql_name, customer.key, customer.options) == ("CrmCustomer", "id", {})
    assert (hr.name, hr.kind, hr.credentials, hr.record_types) == ("hr", "graphql", None, ())
    assert hr.options == {"url": "http://127.0.0.1:8103/graphql"}
    assert hr.url_templates == {"Employee": "http://127.0.0.1:8103/employees/{id}"}
    assert hr.policy == Policy()
    assert config.system("hr") is hr
    assert [t.graphql_name for t in config.record_types] == ["CrmSalesOrder", "CrmCustomer"]


def test_the_default_graphql_name_joins_the_system_and_the_type_in_pascal_case():
    config = parse_sources_config(
        """
        [systems.bill_pay]
        shared = true
        kind = "rest"
        [systems.bill_pay.types.Bill.fields]
        id = "ID!"
        """,
        registry=KINDS,
    )

    assert config.record_types[0].graphql_name == "BillPayBill"


# --- every way it can be wrong ----------------------------------------------------------

KNOWN_TYPES = "ID, String, Int, Boolean, Decimal, Date, DateTime"
NAME_RULE = "letters, digits and _, not starting with a digit or __"
ORDER = """
[systems.crm]
shared = true
kind = "rest"
[systems.crm.types.SalesOrder.fields]
id = "ID!"
"""

CONFIG_ERRORS = {
    "unknown kind": (
        '[systems.crm]\nshared = true\nkind = "soap"',
        "source 'crm': unknown kind 'soap'; known kinds: graphql, mock, rest, sql",
    ),
    "kind missing": (
        '[systems.crm]\nbase_url = "http://x"',
        "source 'crm': kind is missing; known kinds: graphql, mock, rest, sql",
    ),
    "key not among the fields": (
        ORDER + '[systems.crm.types.Customer]\nkey = "number"\n[systems.crm.types.Customer.fields]\nid = "ID!"\nname = "String"',
        "source 'crm': types.Customer: key field 'number' is not among its fields (id, name)",
    ),
    "default key missing": (
        '[systems.crm]\nshared = true\nkind = "rest"\n[systems.crm.types.SalesOrder.fields]\nnumber = "ID!"',
        "source 'crm': types.SalesOrder: key field 'id' is not among its fields (number)",
    ),
    "key of a non-key type": (
        '[systems.crm]\nshared = true\nkind = "rest"\n[systems.crm.types.SalesOrder]\nkey = "amount"\n'
        '[systems.crm.types.SalesOrder.fields]\namount = "Decimal!"',
        "source 'crm': types.SalesOrder: key field 'amount' must be ID, String, Int, not Decimal",
    ),
    "unknown field type": (
        ORDER + 'amount = "Money!"',
        f"source 'crm': types.SalesOrder.fields.amount: unknown type 'Money!'; known types: {KNOWN_TYPES} "
        "(a trailing ! makes a field non-nullable)",
    ),
    "unknown field type in a table": (
        ORDER + 'amount = { type = "float" }',
        f"source 'crm': types.SalesOrder.fields.amount: unknown type 'float'; known types: {KNOWN_TYPES} "
        "(a trailing ! makes a field non-nullable)",
    ),
    "field table without a type": (
        ORDER + 'amount = { source = "amt" }',
        f"source 'crm': types.SalesOrder.fields.amount: type is missing; one of {KNOWN_TYPES}",
    ),
    "unknown key of a field": (
        ORDER + 'amount = { type = "Decimal", column = "amt" }',
        "source 'crm': types.SalesOrder.fields.amount: unknown key(s) ['column']; known keys: type, source, sensitive",
    ),
    "sensitive not a boolean": (
        ORDER + 'salary = { type = "Decimal", sensitive = "yes" }',
        "source 'crm': types.SalesOrder.fields.salary: sensitive must be true or false, got 'yes'",
    ),
    "duplicate GraphQL type name across systems": (
        ORDER + '[systems.shop]\nshared = true\nkind = "rest"\n[systems.shop.types.Order]\ngraphql_name = "CrmSalesOrder"\n'
        '[systems.shop.types.Order.fields]\nid = "ID!"',
        "source 'shop': duplicate GraphQL type name 'CrmSalesOrder': types.Order here "
        "and types.SalesOrder of source 'crm'",
    ),
    "invalid system name": (
        '[systems.my-crm]\nkind = "rest"',
        f"source 'my-crm': system name 'my-crm' is not a GraphQL name ({NAME_RULE})",
    ),
    "system name reserved by GraphQL": (
        '[systems.__crm]\nshared = true\nkind = "rest"',
        f"source '__crm': system name '__crm' is not a GraphQL name ({NAME_RULE})",
    ),
    "invalid type name": (
        '[systems.crm]\nshared = true\nkind = "rest"\n[systems.crm.types."Sales Order".fields]\nid = "ID!"',
        f"source 'crm': types.Sales Order: 'Sales Order' is not a GraphQL name ({NAME_RULE})",
    ),
    "invalid field name": (
        ORDER + '"2nd_amount" = "Decimal"',
        f"source 'crm': types.SalesOrder.fields.2nd_amount: '2nd_amount' is not a GraphQL name ({NAME_RULE})",
    ),
    "field name of the SourceRecord interface": (
        ORDER + 'url = "String"',
        "source 'crm': types.SalesOrder.fields.url: 'url' is a field of every source record "
        "(system, recordType, recordId, url, ledgerLines); map it under another name with source = 'url'",
    ),
    "invalid graphql_name": (
        '[systems.crm]\nshared = true\nkind = "rest"\n[systems.crm.types.SalesOrder]\ngraphql_name = "Crm.SalesOrder"\n'
        '[systems.crm.types.SalesOrder.fields]\nid = "ID!"',
        f"source 'crm': types.SalesOrder: graphql_name 'Crm.SalesOrder' is not a GraphQL name ({NAME_RULE})",
    ),
    "deep link without {id}": (
        '[systems.crm]\nshared = true\nkind = "rest"\n[systems.crm.types.SalesOrder]\nurl = "http://crm/orders"\n'
        '[systems.crm.types.SalesOrder.fields]\nid = "ID!"',
        "source 'crm': types.SalesOrder: url must be a deep-link URL containing {id}, got 'http://crm/orders'",
    ),
    "bad policy value": (
        ORDER + "[systems.crm.policy]\ntimeout = -1",
        "source 'crm': policy: timeout must be a positive number of seconds, got -1",
    ),
    "bad policy combination": (
        ORDER + "[systems.crm.policy]\nbackoff_base = 3\nbackoff_max = 1",
        "source 'crm': policy: backoff_max (1) must not be less than backoff_base (3)",
    ),
    "unknown policy key": (
        ORDER + "[systems.crm.policy]\ntimout = 2",
        "source 'crm': policy: unknown key(s) ['timout']; known keys: backoff_base, backoff_max, "
        "breaker_reset, breaker_threshold, deadline, jitter, max_batch_size, max_concurrency, "
        "retries, timeout",
    ),
    "a secret instead of a secret's name": (
        '[systems.crm]\nshared = true\nkind = "rest"\ncredentials = { api_key = "s3cr3t" }',
        "source 'crm': credentials must be the name of a secret (a string), not the secret itself",
    ),
    "no record types": (
        '[systems.crm]\nshared = true\nkind = "rest"',
        "source 'crm': declares no record types; add [systems.crm.types.TYPE] tables",
    ),
    "no fields": (
        '[systems.crm]\nshared = true\nkind = "rest"\n[systems.crm.types.SalesOrder]\nkey = "id"',
        "source 'crm': types.SalesOrder declares no fields; add [systems.crm.types.SalesOrder.fields]",
    ),
    "record types declared for a graphql system": (
        '[systems.hr]\nshared = true\nkind = "graphql"\nurl = "http://hr/graphql"\n[systems.hr.types.Employee.fields]\nid = "ID!"',
        "source 'hr': the record types of a graphql system are read from its subgraph's SDL; "
        "remove [systems.hr.types] (deep links go in url_templates)",
    ),
    "graphql system without url": (
        '[systems.hr]\nshared = true\nkind = "graphql"',
        "source 'hr': url is missing: the subgraph's GraphQL endpoint",
    ),
    "url template without {id}": (
        '[systems.hr]\nshared = true\nkind = "graphql"\nurl = "http://hr/graphql"\nurl_templates = { Employee = "http://hr/e" }',
        "source 'hr': url_templates.Employee must be a URL containing {id}, got 'http://hr/e'",
    ),
    "unknown top-level key": (
        ORDER + '[gateway]\nport = 1',
        "unknown top-level key(s) ['gateway']; expected [systems.NAME] tables",
    ),
    "no systems": (
        "# nothing yet\n",
        "declares no source systems; add a [systems.NAME] table",
    ),
}


@pytest.mark.parametrize(("text", "problem"), CONFIG_ERRORS.values(), ids=CONFIG_ERRORS.keys())
def test_a_config_error_names_the_file_the_system_and_the_problem(text, problem):
    with pytest.raises(SourceConfigError) as caught:
        parse_sources_config(text, "sources.toml", registry=KINDS)

    assert str(caught.value) == f"sources.toml: {problem}"


def test_a_kind_from_a_plug_in_is_accepted_and_named_among_the_known_kinds():
    from importlib.metadata import EntryPoint

    kinds = SourceRegistry(plugins=[EntryPoint("ticketing", f"{__name__}:FakeKind", "ledgergate.sources")])

    config = parse_sources_config(ORDER.replace('"rest"', '"ticketing"'), registry=kinds)
    with pytest.raises(SourceConfigError, match="known kinds: graphql, mock, rest, sql, ticketing$"):
        parse_sources_config('[systems.crm]\nshared = true\nkind = "soap"', registry=kinds)
    assert config.systems[0].kind == "ticketing"


def test_a_toml_syntax_error_names_the_file_and_the_place():
    path = CONFIGS / "broken.toml"

    with pytest.raises(SourceConfigError) as caught:
        load_sources_config(path)

    assert str(caught.value) == f"{path}: not valid TOML: Illegal character '\\n' (at line 3, column 13)"
    assert (caught.value.file, caught.value.system) == (str(path), None)


def test_a_missing_file_is_named():
    with pytest.raises(SourceConfigError) as caught:
        load_sources_config(CONFIGS / "nowhere.toml")

    assert str(caught.value) == f"{CONFIGS / 'nowhere.toml'}: no such file"


# --- the sources built from it ----------------------------------------------------------


async def test_build_sources_makes_one_resilient_source_per_system():
    config = load_sources_config(CONFIGS / "mock.toml")

    sources = await build_sources(config)

    assert list(sources) == ["crm", "usage_tracker"]
    crm = sources["crm"]
    assert isinstance(crm, ResilientSource) and crm.name == "crm"
    assert crm.policy == Policy(max_batch_size=2)
    assert crm.record_types == config.system("crm").record_types
    order = crm.record_types[0]
    result = await crm.fetch(FetchRequest(order, ("SO-1", "SO-2", "SO-3"), ("amount", "customerId")))
    assert result.records == {
        "SO-1": {"id": "SO-1", "amount": Decimal("100.00"), "customerId": "C1"},
        "SO-2": {"id": "SO-2", "amount": Decimal("250.50"), "customerId": "C2"},
    }
    assert result.invalid == {"SO-3": "amount: expected Decimal, got 'not money'"}
    assert [call.ids for call in crm.inner.calls] == [("SO-1", "SO-2"), ("SO-3",)]
    usage = sources["usage_tracker"]
    day = await usage.fetch(FetchRequest(usage.record_types[0], ("7",), ("day",)))
    assert str(day.records["7"]["day"]) == "2026-03-01"
    for source in sources.values():
        await source.aclose()
    assert crm.inner.closed


async def test_build_sources_gives_each_kind_its_options_secrets_and_transport(fake_kinds):
    config = load_sources_config(CONFIGS / "crm_and_hr.toml", registry=fake_kinds)
    transport = object()
    seen = []

    sources = await build_sources(
        config,
        secrets={"crm": {"api_key": "k"}},
        transports={"crm": transport},
        discover=discovering(EMPLOYEE, seen=seen),
        registry=fake_kinds,
    )

    crm, hr = FakeKind.built
    assert (crm.name, crm.options, crm.secrets, crm.transport) == (
        "crm", {"base_url": "http://127.0.0.1:8101"}, {"api_key": "k"}, transport
    )
    assert crm.record_types == config.system("crm").record_types
    assert (hr.options, dict(hr.secrets), hr.transport) == ({"url": "http://127.0.0.1:8103/graphql"}, {}, None)
    assert hr.record_types == (SHARED_EMPLOYEE,)
    assert sources["hr"].record_types == (SHARED_EMPLOYEE,)
    assert seen == [(
        "hr", "http://127.0.0.1:8103/graphql", None,
        {"Employee": "http://127.0.0.1:8103/employees/{id}"},
    )]


async def test_discovery_uses_sources_graphql_when_no_discover_is_given(fake_kinds, monkeypatch):
    seen = []
    fake_module = types.ModuleType("sources.graphql")
    fake_module.discover_record_types = discovering(EMPLOYEE, seen=seen)
    monkeypatch.setitem(sys.modules, "sources.graphql", fake_module)
    config = load_sources_config(CONFIGS / "crm_and_hr.toml", registry=fake_kinds)

    sources = await build_sources(config, secrets={"crm": {}}, registry=fake_kinds)

    assert sources["hr"].record_types == (SHARED_EMPLOYEE,)
    assert [system for system, *_ in seen] == ["hr"]


HR = '[systems.hr]\nshared = true\nkind = "graphql"\nurl = "http://127.0.0.1:8103/graphql"\n'


async def test_a_subgraph_with_credentials_is_asked_for_its_sdl_with_them(fake_kinds):
    seen = []

    async def discover(system, url, *, transport=None, url_templates=None, headers=None):
        seen.append(headers)
        return [EMPLOYEE]

    config = parse_sources_config(
        HR + 'auth = "api_key"\napi_key_header = "X-HR-Key"\ncredentials = "hr"\n',
        "sources.toml", registry=fake_kinds,
    )
    await build_sources(config, secrets={"hr": {"api_key": "k"}}, discover=discover, registry=fake_kinds)
    assert seen == [{"X-HR-Key": "k"}]

    with pytest.raises(SourceConfigError) as caught:
        await build_sources(config, secrets={"hr": {}}, discover=discover, registry=fake_kinds)
    assert "needs the secret 'api_key'" in str(caught.value)


async def test_an_unreadable_subgraph_sdl_stops_the_start(fake_kinds):
    async def refused(system, url, **_):
        raise SourceUnavailable(system, "connection refused")

    config = parse_sources_config(HR, "sources.toml", registry=fake_kinds)

    with pytest.raises(SourceConfigError) as caught:
        await build_sources(config, discover=refused, registry=fake_kinds)

    assert str(caught.value) == (
        "sources.toml: source 'hr': cannot read the subgraph's SDL at "
        "http://127.0.0.1:8103/graphql: connection refused"
    )
    assert FakeKind.built == []


async def test_a_subgraph_that_does_not_answer_stops_the_start_within_its_budget(fake_kinds):
    async def hangs(system, url, **_):
        await asyncio.Event().wait()

    config = parse_sources_config(HR + "[systems.hr.policy]\ndeadline = 0.02", "sources.toml", registry=fake_kinds)

    with pytest.raises(SourceConfigError) as caught:
        await build_sources(config, discover=hangs, registry=fake_kinds)

    assert str(caught.value) == (
        "sources.toml: source 'hr': cannot read the subgraph's SDL at "
        "http://127.0.0.1:8103/graphql: no answer within 0.02 s"
    )


async def test_the_graphql_kind_missing_is_a_config_error(fake_kinds, monkeypatch):
    monkeypatch.setitem(sys.modules, "sources.graphql", None)  # import fails
    config = parse_sources_config(HR, "sources.toml", registry=fake_kinds)

    with pytest.raises(SourceConfigError, match="^sources.toml: source 'hr': kind 'graphql' cannot be loaded: "):
        await build_sources(config, registry=fake_kinds)


async def test_a_discovered_type_name_must_not_clash_with_a_configured_one(fake_kinds):
    clash = RecordType("hr", "Employee", "CrmSalesOrder", "id", (FieldSpec("id", "ID"),))
    config = load_sources_config(CONFIGS / "crm_and_hr.toml", registry=fake_kinds)

    with pytest.raises(SourceConfigError) as caught:
        await build_sources(config, secrets={"crm": {}}, discover=discovering(clash), registry=fake_kinds)

    assert str(caught.value) == (
        f"{config.file}: source 'hr': duplicate GraphQL type name 'CrmSalesOrder': "
        "types.Employee here and types.SalesOrder of source 'crm'"
    )


async def test_credentials_missing_from_the_secrets_are_a_config_error(fake_kinds):
    config = load_sources_config(CONFIGS / "crm_and_hr.toml", registry=fake_kinds)

    with pytest.raises(SourceConfigError) as caught:
        await build_sources(config, secrets={"pos": {"password": "p"}}, discover=discovering(), registry=fake_kinds)

    assert str(caught.value) == f"{config.file}: source 'crm': credentials 'crm' are not among the secrets"


async def test_a_kind_rejecting_its_options_fails_the_start_and_closes_what_was_built(fake_kinds):
    config = parse_sources_config(
        ORDER + '[systems.shop]\nshared = true\nkind = "rest"\nfail = "no base_url"\n[systems.shop.types.Order.fields]\nid = "ID!"',
        "sources.toml",
        registry=fake_kinds,
    )

    with pytest.raises(SourceConfigError) as caught:
        await build_sources(config, registry=fake_kinds)

    assert str(caught.value) == "sources.toml: source 'shop': option fail: no base_url"
    assert [(kind.name, kind.closed) for kind in FakeKind.built] == [("crm", True)]


async def test_mock_records_of_an_undeclared_type_fail_the_start():
    config = parse_sources_config(
        ORDER.replace('"rest"', '"mock"') + '[[systems.crm.records.Invoice]]\nid = "I-1"',
        "sources.toml",
        registry=KINDS,
    )

    with pytest.raises(SourceConfigError) as caught:
        await build_sources(config, registry=KINDS)

    assert str(caught.value) == "sources.toml: source 'crm': records of undeclared record type(s) ['Invoice']"


async def test_an_unloadable_kind_fails_the_start():
    kinds = SourceRegistry(plugins=[])
    config = parse_sources_config(ORDER, "sources.toml", registry=kinds)
    broken = SourceRegistry(builtins={**BUILTIN_KINDS, "rest": "sources.no_rest_here:RestSource"}, plugins=[])

    with pytest.raises(SourceConfigError) as caught:
        await build_sources(config, registry=broken)

    assert str(caught.value) == (
        "sources.toml: source 'crm': kind 'rest' cannot be loaded from "
        "sources.no_rest_here:RestSource: No module named 'sources.no_rest_here'"
    )


# --- which entity records belong to -----------------------------------------------------

OWNED = """
[systems.crm]
kind = "rest"
%s
[systems.crm.types.SalesOrder]
%s
[systems.crm.types.SalesOrder.fields]
id = "ID!"
company = "String!"
seats = "Int"
"""


@pytest.mark.parametrize("system,record_type,expected", [
    ('owner = "company"', "", Ownership(field="company")),
    ("", 'owner = "company"', Ownership(field="company")),
    ('entity = "HOTELCO"', "", Ownership(entity="HOTELCO")),
    ("shared = true", "", Ownership(shared=True)),
    ('owner = "company"', "shared = true", Ownership(shared=True)),  # the type's own wins
])
def test_a_record_type_says_which_entity_its_records_belong_to(system, record_type, expected):
    config = parse_sources_config(OWNED % (system, record_type), registry=KINDS)
    assert config.record_types[0].ownership == expected


@pytest.mark.parametrize("system,record_type,problem", [
    ("", "", "types.SalesOrder says no owner: set owner = \"FIELD\""),
    ('owner = "tenant"', "", "owner field 'tenant' is not among its fields (id, company, seats)"),
    ('owner = "seats"', "", "owner field 'seats' must be ID or String, not Int"),
    ("shared = false", "", "shared must be true (leave it out otherwise), got False"),
    ('owner = ""', "", "owner must be a non-empty string"),
    ('owner = "company"\nshared = true', "", "set one of owner, entity or shared, not owner, shared"),
    ("", 'entity = 7', "entity must be a non-empty string, got 7"),
])
def test_a_record_type_that_cannot_be_confined_is_refused(system, record_type, problem):
    with pytest.raises(SourceConfigError) as caught:
        parse_sources_config(OWNED % (system, record_type), registry=KINDS)
    assert problem in str(caught.value)
    assert caught.value.system == "crm"


HR_OWNED = """
[systems.hr]
kind = "graphql"
url = "http://127.0.0.1:8103/graphql"
%s
"""
COMPANY_EMPLOYEE = dataclasses.replace(
    EMPLOYEE, fields=(*EMPLOYEE.fields, FieldSpec("company", "String", nullable=False))
)


@pytest.mark.parametrize("lines,expected", [
    ('owner = "company"', Ownership(field="company")),
    ('owners = { Employee = "company" }', Ownership(field="company")),
    ("shared = true", Ownership(shared=True)),
])
async def test_discovered_record_types_take_their_owner_from_the_config(fake_kinds, lines, expected):
    config = parse_sources_config(HR_OWNED % lines, registry=fake_kinds)
    sources = await build_sources(config, discover=discovering(COMPANY_EMPLOYEE), registry=fake_kinds)
    assert sources["hr"].record_types[0].ownership == expected


@pytest.mark.parametrize("lines,problem", [
    ("", "types.Employee says no owner"),
    ('owner = "tenant"', "owner field 'tenant' is not among its fields"),
    ('owners = { Employe = "company" }', "owners: the subgraph serves no record type Employe"),
])
async def test_a_discovered_record_type_that_cannot_be_confined_stops_the_start(fake_kinds, lines, problem):
    config = parse_sources_config(HR_OWNED % lines, registry=fake_kinds)
    with pytest.raises(SourceConfigError, match=problem):
        await build_sources(config, discover=discovering(COMPANY_EMPLOYEE), registry=fake_kinds)
