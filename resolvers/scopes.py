"""Field-level scopes: the names the schema declares, and their enforcement.

Every field of the schema declares the scopes it needs, printed in the SDL as
`@requiresScopes` (Federation 2.5) so a router composing ledgergate sees them:

- ledger data (accounts, entries, lines, balances, periods, dimension values, the trial
  balance, the entity, `verifyLedger`, `node`, `_entities`): `ledger:read`, declared on
  the object types and on each Query field;
- statistical quantities (`JournalLine.quantity`, `TrialBalanceRow.quantity`):
  `statistical:read` in addition; `Account.balance` of a *statistical* account is a
  quantity too, checked where it resolves (the account's type is data);
- the audit log (`auditEvents`, `AuditEvent`): `audit:read`;
- administration (`resolvers.admin`: accounts, groups, dimension values, journals,
  periods and their close, exchange rates): `admin:write`; reopening a closed period or
  fiscal year `periods:reopen`;
- sales orders (`SalesOrder`, `salesOrders`, `salesOrder`): `documents:read`; their
  changes (create, fulfil, invoice, record a payment, cancel) `documents:write`; the
  entries an order posted are ledger data (`SalesOrder.entries` needs `ledger:read` too);
- retrying dead outbox messages (`retryDeadDeliveries`): `outbox:operate`;
- mutations: `ledger:post` (checked before the resolver runs: a refused mutation writes
  nothing). Reading back the posted entry needs `ledger:read` as everywhere else;
- a source record type of system S: `source:S:read`; its fields marked sensitive
  (`FieldSpec.sensitive`: personal or compensation data) `source:S:sensitive` in addition;
- `Query.sourceRecord` and `SourceLink.record`: `source:S:read` for the record's system,
  checked where they resolve (the system is an argument or data);
- Federation's `_service { sdl }` (the whole SDL, every hidden field in it):
  `federation:compose`, a scope for supergraph composition tooling only. To a caller
  without it `_service` does not exist: absent from introspection, and a document selecting
  it is refused before execution as graphql-core refuses an unknown field (`UNNAMED`).

Connection plumbing (`edges`, `node`, `cursor`, `pageInfo`) and the `SourceRecord`
interface carry no directive: they are only reachable through guarded fields, and
Federation refuses authorization directives on interfaces.

Enforcement is one mechanism, `ScopeMiddleware`, fed by `field_scopes(schema)` (a dict
`(type name, field name) → scopes`, built once per schema). Each request first compares
the scopes its document can touch (worked out once per document text) with the caller's;
when the caller holds them all — the usual case — no resolver is wrapped and the check
costs one cached look-up and one set comparison. Otherwise every field resolves through a
check: a missing scope nulls that field with a FORBIDDEN error naming the scopes and
carrying the path (a null in a non-null field nulls its parent, per GraphQL; sensitive
source fields are nullable in the SDL for that reason), and introspection shows only the
types reachable through fields the caller may read (`build_schema(introspection="off")`
refuses introspection instead).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    visit,
)
from graphql.execution.middleware import MiddlewareManager
from strawberry.extensions import SchemaExtension

from sources.config import NAME_RULE, is_graphql_name

from .errors import FORBIDDEN, CodedError

LEDGER_READ = "ledger:read"
LEDGER_POST = "ledger:post"
STATISTICAL_READ = "statistical:read"
AUDIT_READ = "audit:read"
FEDERATION_COMPOSE = "federation:compose"
# Setting up and closing the company's books: accounts, groups, dimension values, journals,
# periods and their close, exchange rates, setup imports.
ADMIN_WRITE = "admin:write"
# Reopening a closed period (or a closed fiscal year): rarer and riskier than closing, so a
# scope of its own, given to few.
PERIODS_REOPEN = "periods:reopen"
# Business documents (sales orders): reading them, and moving them through their lifecycle
# (which posts their invoices and payments: a document writer needs no `ledger:post`).
DOCUMENTS_READ = "documents:read"
DOCUMENTS_WRITE = "documents:write"
# Sending dead outbox messages again: an operator's task, not an integration's.
OUTBOX_OPERATE = "outbox:operate"
BASE_SCOPES = frozenset({
    LEDGER_READ, LEDGER_POST, STATISTICAL_READ, AUDIT_READ, FEDERATION_COMPOSE, ADMIN_WRITE,
    PERIODS_REOPEN, DOCUMENTS_READ, DOCUMENTS_WRITE, OUTBOX_OPERATE,
})

# Fields that, to a caller short of their scopes, do not exist: refused as unknown fields
# (the message graphql-core gives one) rather than FORBIDDEN, which would confirm them.
UNNAMED = {("Query", "_service"): frozenset({FEDERATION_COMPOSE})}

def _system(system: str) -> str:
    if not is_graphql_name(system):
        shown = str(system)
        shown = repr(shown if len(shown) <= 80 else shown[:80] + "…")
        raise ValueError(f"source system name {shown} is not a GraphQL name ({NAME_RULE})")
    return system


def source_read_scope(system: str) -> str:
    """`source:<system>:read`: the records of one source system."""
    return f"source:{_system(system)}:read"


def source_sensitive_scope(system: str) -> str:
    """`source:<system>:sensitive`: the personal and compensation fields of that system's
    records (e.g. HR salaries), on top of `source:<system>:read`."""
    return f"source:{_system(system)}:sensitive"


# As printed: `@requiresScopes(scopes: [[...]])`, one alternative whose scopes are all needed.
def requires(*scopes: str) -> list[list[str]]:
    return [list(scopes)]


LEDGER = requires(LEDGER_READ)
POST = requires(LEDGER_POST)
STATISTICAL = requires(STATISTICAL_READ)
AUDIT = requires(AUDIT_READ)
ADMIN = requires(ADMIN_WRITE)
DOCUMENTS = requires(DOCUMENTS_READ)
DOCUMENT_WRITE = requires(DOCUMENTS_WRITE)
OUTBOX = requires(OUTBOX_OPERATE)
REOPEN = requires(PERIODS_REOPEN)


def holds(scopes: frozenset[str], required: Iterable[str]) -> bool:
    return scopes.issuperset(required)  # `required` may be any iterable


def forbidden(where: str, missing: Iterable[str]) -> CodedError:
    missing = sorted(missing)
    return CodedError(
        f"Missing scope {' '.join(missing)} for {where}", FORBIDDEN, scopes=missing
    )


def missing_scopes(scopes: frozenset[str], required: Iterable[str]) -> list[str]:
    return sorted(s for s in required if s not in scopes)


def check_field_scopes(info: Any, type_name: str, field_name: str) -> None:
    """Raise FORBIDDEN unless the caller holds the scopes of `type_name.field_name`, from the
    same table `ScopeMiddleware` enforces: for a subscription's root field, which
    graphql-core subscribes to rather than resolves (no middleware sees it)."""
    required = info.schema.scope_policy.table.get((type_name, field_name), ())
    if missing := missing_scopes(info.context.principal.scopes, required):
        raise forbidden(f"{type_name}.{field_name}", missing)


def check_scope(info: Any, scope: str, where: str) -> None:
    """Raise FORBIDDEN unless the caller holds `scope` (checks decided by data)."""
    if scope not in info.context.principal.scopes:
        raise forbidden(where, [scope])


# --- the (type, field) → scopes table ---------------------------------------------------------


def _directive_scopes(directives: Iterable[Any]) -> frozenset[str]:
    found: set[str] = set()
    for directive in directives or ():
        scopes = getattr(directive, "scopes", None)
        if type(directive).__name__ == "RequiresScopes" and scopes:
            # One alternative per field here (see `requires`); with several, the first.
            found.update(scopes[0])
    return frozenset(found)


def field_scopes(schema: GraphQLSchema) -> dict[tuple[str, str], frozenset[str]]:
    """Scopes each field needs: the type's @requiresScopes and the field's, combined."""
    table: dict[tuple[str, str], frozenset[str]] = {}
    for name, gql_type in schema.type_map.items():
        if name.startswith("__") or not isinstance(gql_type, GraphQLObjectType):
            continue
        definition = (gql_type.extensions or {}).get("strawberry-definition")
        type_scopes = _directive_scopes(getattr(definition, "directives", ()))
        for field_name, gql_field in gql_type.fields.items():
            field = (gql_field.extensions or {}).get("strawberry-definition")
            required = type_scopes | _directive_scopes(getattr(field, "directives", ()))
            if required:
                table[(name, field_name)] = required
    return table


def all_scopes(table: Mapping[tuple[str, str], frozenset[str]]) -> frozenset[str]:
    return frozenset(s for scopes in table.values() for s in scopes)


# --- what a document can touch ----------------------------------------------------------------


class _Collect(Visitor):
    def __init__(self, schema, type_info, table, found):
        super().__init__()
        self.schema, self.type_info, self.table, self.found = schema, type_info, table, found
        self.introspects = False
        self.unnamed: list[tuple[str, FieldNode]] = []

    def enter_field(self, node: FieldNode, *_args):
        parent = self.type_info.get_parent_type()
        name = node.name.value
        if name in ("__schema", "__type"):
            self.introspects = True
            return
        if parent is None:
            return
        parent = get_named_type(parent)
        if isinstance(parent, GraphQLObjectType):
            types = [parent]
        else:  # an interface or union: any type it may be
            types = self.schema.get_possible_types(parent)
        for possible in types:
            self.found.update(self.table.get((possible.name, name), ()))
            if (possible.name, name) in UNNAMED:
                self.unnamed.append((possible.name, node))


class DocumentScopes(tuple):
    """(scopes, introspects, unnamed): every scope a field of a document may need, whether
    it introspects, and the (type name, node) of each `UNNAMED` field it selects."""

    __slots__ = ()


def document_scopes(schema: GraphQLSchema, table, document: DocumentNode) -> DocumentScopes:
    """Every scope a field of `document` may need, whether it introspects, and the
    `UNNAMED` fields it selects."""
    found: set[str] = set()
    type_info = TypeInfo(schema)
    collector = _Collect(schema, type_info, table, found)
    visit(document, TypeInfoVisitor(type_info, collector))
    return DocumentScopes((frozenset(found), collector.introspects, tuple(collector.unnamed)))


def unknown_field(type_name: str, node: FieldNode) -> GraphQLError:
    """graphql-core's own refusal of a field a type does not have (no suggestion)."""
    return GraphQLError(f"Cannot query field '{node.name.value}' on type '{type_name}'.", node)


# --- enforcement --------------------------------------------------------------------------------


DOCUMENT_CACHE_SIZE = 512


class ScopePolicy:
    """The scope table of one schema, with a cache of what each document needs."""

    def __init__(self, schema: GraphQLSchema, introspection: str = "filtered"):
        self.schema = schema
        self.table = field_scopes(schema)
        self.every_scope = all_scopes(self.table)
        self.introspection = introspection
        # What each document needs, by its text: the document is that text parsed, so the
        # text alone is the key (keyed by the parsed document too, every look-up hashed the
        # whole syntax tree, node by node, twice a request). Bounded; oldest out first.
        self._by_text: dict[str, DocumentScopes] = {}
        self._visible: dict[tuple, frozenset[str]] = {}

    def _scopes_of(self, query: str | None, document: DocumentNode) -> DocumentScopes:
        if not query:
            return document_scopes(self.schema, self.table, document)
        found = self._by_text.get(query)
        if found is None:
            if len(self._by_text) >= DOCUMENT_CACHE_SIZE:
                del self._by_text[next(iter(self._by_text))]
            found = self._by_text[query] = document_scopes(self.schema, self.table, document)
        return found

    def unknown_to(self, query: str | None, document: DocumentNode, scopes: frozenset[str]) -> list[GraphQLError]:
        """The `UNNAMED` fields of `document` the caller may not see, refused as unknown."""
        unnamed = self._scopes_of(query, document)[2]
        return [
            unknown_field(type_name, node) for type_name, node in unnamed
            if not holds(scopes, UNNAMED[(type_name, node.name.value)])
        ]

    def needs_check(self, query: str | None, document: DocumentNode, scopes: frozenset[str]) -> bool:
        needed, introspects, _ = self._scopes_of(query, document)
        if introspects and (self.introspection == "off" or not holds(scopes, self.every_scope)):
            return True
        return not holds(scopes, needed)

    # Visibility, for introspection: the types reachable from the root types through
    # fields the caller may read (and the types of their arguments); an object type none
    # of whose fields the caller may read is not reached.
    def field_visible(self, type_name: str, field_name: str, scopes: frozenset[str]) -> bool:
        required = self.table.get((type_name, field_name))
        return required is None or holds(scopes, required)

    def visible_types(self, scopes: frozenset[str]) -> frozenset[str]:
        key = (type(scopes), scopes)
        found = self._visible.get(key)
        if found is None:
            if len(self._visible) > 256:
                self._visible.clear()
            found = self._visible[key] = self._reach(scopes)
        return found

    def _reach(self, scopes: frozenset[str]) -> frozenset[str]:
        schema = self.schema
        seen: set[str] = set()
        queue: list[Any] = []

        def own_fields_visible(gql_type) -> bool:
            if not isinstance(gql_type, GraphQLObjectType):
                return True
            return any(self.field_visible(gql_type.name, f, scopes) for f in gql_type.fields)

        def add(gql_type) -> None:
            named = get_named_type(gql_type)
            if named is not None and named.name not in seen and own_fields_visible(named):
                seen.add(named.name)
                queue.append(named)

        for root in (schema.query_type, schema.mutation_type, schema.subscription_type):
            if root is not None:
                add(root)
        # Every directive stays (none names the caller's data), so the types its arguments
        # use (`_FieldSet`, `link__Import`, `link__Purpose`, ...) stay too: a directive whose
        # argument type is missing makes the introspection unbuildable for every client.
        for directive in schema.directives:
            for arg in directive.args.values():
                add(arg.type)
        while queue:
            current = queue.pop()
            if isinstance(current, (GraphQLObjectType, GraphQLInterfaceType)):
                for name, field in current.fields.items():
                    if self.field_visible(current.name, name, scopes):
                        add(field.type)
                        for arg in field.args.values():
                            add(arg.type)
                for interface in current.interfaces:
                    add(interface)
                if isinstance(current, GraphQLInterfaceType):
                    for possible in schema.get_possible_types(current):
                        add(possible)
            elif isinstance(current, GraphQLUnionType):
                for possible in current.types:
                    add(possible)
            elif isinstance(current, GraphQLInputObjectType):
                for input_field in current.fields.values():
                    add(input_field.type)
        # Scalars the directives use, and introspection's own types, are always there.
        for name, gql_type in schema.type_map.items():
            if name.startswith("__") or isinstance(gql_type, GraphQLScalarType) and name in (
                "String", "Boolean"
            ):
                seen.add(name)
        return frozenset(seen)

    def type_visible(self, gql_type: Any, scopes: frozenset[str]) -> bool:
        named = get_named_type(gql_type)
        return named is None or named.name in self.visible_types(scopes)


class ScopeMiddleware(MiddlewareManager):
    """Per request. Leaves resolvers alone unless `enforce` was set before execution."""

    def __init__(self, policy: ScopePolicy):
        super().__init__()
        self.policy = policy
        self.enforce = False
        self.scopes: frozenset[str] = frozenset()
        self._wrapped: dict[Any, Any] = {}

    def get_field_resolver(self, field_resolver):
        if not self.enforce:
            return field_resolver
        wrapped = self._wrapped.get(field_resolver)
        if wrapped is None:
            wrapped = self._wrapped[field_resolver] = self._wrap(field_resolver)
        return wrapped

    def _wrap(self, resolver):
        table = self.policy.table
        scopes = self.scopes
        policy = self.policy

        def guarded(root, info, **args):
            type_name, field_name = info.parent_type.name, info.field_name
            required = table.get((type_name, field_name))
            if required is not None and not holds(scopes, required):
                raise forbidden(f"{type_name}.{field_name}", missing_scopes(scopes, required))
            if field_name in ("__schema", "__type") and policy.introspection == "off":
                raise CodedError("Introspection is disabled", FORBIDDEN)
            if type_name.startswith("__") or field_name == "__type":
                result = resolver(root, info, **args)
                return _filter_introspection(policy, scopes, type_name, info, result, root)
            return resolver(root, info, **args)

        return guarded


def _filter_introspection(policy: ScopePolicy, scopes, type_name: str, info, result, root):
    field = info.field_name
    if field == "__type":
        return result if result is None or policy.type_visible(result, scopes) else None
    if type_name == "__Schema":
        if field == "types":
            return [t for t in result if policy.type_visible(t, scopes)]
        if field in ("mutationType", "queryType", "subscriptionType"):
            return result if result is None or policy.type_visible(result, scopes) else None
        return result
    if type_name == "__Type":
        if field == "fields" and result is not None:
            return [
                item for item in result
                if policy.field_visible(root.name, item[0], scopes)
                and policy.type_visible(item[1].type, scopes)
            ]
        if field in ("possibleTypes", "interfaces") and result is not None:
            return [t for t in result if policy.type_visible(t, scopes)]
        if field == "ofType" and result is not None and not policy.type_visible(result, scopes):
            return None
    return result


class ScopeGuard(SchemaExtension):
    """Decides, once the document is parsed and validated, whether this request's fields
    need checking (`ScopeMiddleware.enforce`); the schema links it to the request's
    middleware (`resolvers.schema.LedgerSchema`)."""

    def __init__(self, *, execution_context=None):
        super().__init__()
        self.middleware: ScopeMiddleware | None = None

    def on_validate(self):
        # After QueryGuard's (cached, caller-independent) validation, which runs first:
        # what this caller may not see is refused as graphql-core refuses a missing field.
        context = self.execution_context
        policy = getattr(context.schema, "scope_policy", None)
        if policy is not None and context.graphql_document is not None and not context.pre_execution_errors:
            principal = getattr(context.context, "principal", None)
            scopes = principal.scopes if principal is not None else frozenset()
            unknown = policy.unknown_to(context.query, context.graphql_document, scopes)
            if unknown:
                context.pre_execution_errors = unknown
        yield

    def on_execute(self):
        context = self.execution_context
        middleware = self.middleware
        if middleware is not None and context.graphql_document is not None:
            principal = getattr(context.context, "principal", None)
            scopes = principal.scopes if principal is not None else frozenset()
            policy = middleware.policy
            if policy.needs_check(context.query, context.graphql_document, scopes):
                middleware.scopes = scopes
                middleware.enforce = True
        yield
