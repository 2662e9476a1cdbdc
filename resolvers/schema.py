"""The GraphQL schema: the domains merged into one federation-ready schema."""

import functools

import strawberry
from strawberry.federation import Schema
from strawberry.federation.schema import FederationAny
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types.info import Info

from .admin.mutations import AdminMutations
from .admin.queries import AdminQueries
from .audit.queries import AuditQueries
from .compiled import check_schema, compiled_executor
from .documents.mutations import DocumentMutations, OutboxMutations
from .documents.queries import DocumentQueries
from .documents.subscriptions import DocumentSubscriptions
from .errors import user_input_error
from .ledger.mutations import LedgerMutations
from .ledger.queries import LedgerQueries
from .ledger.types import Account, JournalEntry, JournalLine
from .limits import QueryGuard
from .rates.mutations import RateMutations
from .rates.queries import RateQueries
from .reports.queries import ReportQueries
from .scalars import SCALAR_MAP
from .scopes import LEDGER_READ, UNNAMED, ScopeGuard, ScopeMiddleware, ScopePolicy, all_scopes
from .sources.catalog import SourceCatalog
from .sources.queries import SourceQueries
from .sources.types import SourceRecord, build_record_type

Query = merge_types(
    "Query",
    (LedgerQueries, ReportQueries, SourceQueries, AuditQueries, AdminQueries, RateQueries,
     DocumentQueries),
)
Mutation = merge_types(
    "Mutation", (LedgerMutations, AdminMutations, RateMutations, DocumentMutations, OutboxMutations)
)

Subscription = merge_types("Subscription", (DocumentSubscriptions,))

# Parsing and validating are most of a small query's cost; clients send variables, so the
# same documents recur and caching them is safe (bounded, keyed by document text).
CACHE_SIZE = 512


class LedgerSchema(Schema):
    """Strawberry's federation schema, with the field scopes enforced (`resolvers.scopes`)."""

    scope_policy: ScopePolicy

    def _get_middleware_manager(self, extensions):
        # One per request: unless ScopeGuard finds the caller short of a scope the document
        # may need, it wraps no resolver at all.
        middleware = ScopeMiddleware(self.scope_policy)
        for extension in extensions:
            if isinstance(extension, ScopeGuard):
                extension.middleware = middleware
        return middleware

    def entities_resolver(self, info: Info, representations: list[FederationAny]) -> list[FederationAny]:
        # Strawberry's resolver takes each representation on trust: an unknown or non-entity
        # `__typename`, a missing or non-string `id` end in a KeyError or TypeError
        # (INTERNAL). Each is the caller's mistake, refused here with BAD_USER_INPUT.
        entities = sorted(t.name for t in self._schema.type_map["_Entity"].types)
        results: list = [None] * len(representations)
        valid, where = [], []
        for index, representation in enumerate(representations):
            problem = _representation_problem(representation, entities)
            if problem is None:
                valid.append(representation)
                where.append(index)
            else:
                results[index] = user_input_error(
                    f"representations[{index}]: {problem}", path=["representations", index]
                )
        for index, result in zip(where, super().entities_resolver(info, valid) if valid else (), strict=True):
            results[index] = result
        return results

    def process_errors(self, errors, execution_context=None) -> None:
        # Errors are logged where they are formatted (`errors.format_error`): only the
        # unexpected ones, not every refused posting.
        return None


def _representation_problem(representation, entities: list[str]) -> str | None:
    if not isinstance(representation, dict):
        return "a representation is an object with __typename and id"
    type_name = representation.get("__typename")
    if type_name not in entities:
        return f"__typename must name one of ledgergate's entities ({', '.join(entities)})"
    if not isinstance(representation.get("id"), str):
        return f"a {type_name} representation needs its id, a string (the global ID)"
    return None


@functools.cache
def core_type_names() -> frozenset[str]:
    """Every type name of the schema without sources, introspection's included: names a
    record type cannot take."""
    return frozenset(build_schema()._schema.type_map)


def build_schema(
    catalog: SourceCatalog | None = None, introspection: str = "filtered", compiled: bool = True
) -> strawberry.Schema:
    """The schema for one configuration: the core contract plus a type per record type.

    Fills `catalog.graphql_types`, which the source resolvers use to build records.
    Raises `ValueError` for a record type named like one of the core types.
    `introspection`: "filtered" (a caller sees the types and fields its scopes allow) or
    "off" (refused with FORBIDDEN to every caller).
    `compiled`: complete plain-attribute selections with generated builders
    (`resolvers.compiled`); False: graphql-core's normal path only (for diagnosis).
    """
    if introspection not in ("filtered", "off"):
        raise ValueError(f"introspection must be 'filtered' or 'off', not {introspection!r}")
    record_classes = []
    if catalog is not None and catalog.record_types:
        taken = core_type_names()
        for record_type in catalog.record_types.values():
            if record_type.graphql_name in taken:
                raise ValueError(
                    f"{record_type.system}/{record_type.name}: GraphQL type name "
                    f"{record_type.graphql_name!r} is taken by ledgergate's own schema"
                )
        for key, record_type in catalog.record_types.items():
            catalog.graphql_types[key] = build_record_type(record_type)
        record_classes = list(catalog.graphql_types.values())
    # Issue 5 hook: the compiled execution path is an executor class of this schema's own
    # (its plan cache holds this schema's types).
    executor = compiled_executor() if compiled else None
    schema = LedgerSchema(
        # 2.5: the oldest Federation version with @requiresScopes, so routers of the last
        # years compose ledgergate.
        federation_version="2.5",
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Account, JournalEntry, JournalLine, SourceRecord, *record_classes],
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        # Parsing (with the token limit), the query limits and validation, cached per
        # document: Strawberry's ParserCache and ValidationCache, with the limits between.
        extensions=[QueryGuard.factory(CACHE_SIZE), ScopeGuard],
        execution_context_class=executor,
    )
    schema.scope_policy = ScopePolicy(schema._schema, introspection)
    # Federation's entry point resolves ledger objects only (Account, JournalEntry,
    # JournalLine); it is guarded like `node` (its SDL is Federation's, not ours).
    schema.scope_policy.table[("Query", "_entities")] = frozenset({LEDGER_READ})
    # `_service` is the whole SDL: for composition tooling only (`resolvers.scopes.UNNAMED`).
    schema.scope_policy.table.update(UNNAMED)
    schema.scope_policy.every_scope = all_scopes(schema.scope_policy.table)
    if executor is not None:
        check_schema(schema._schema)
        # Each plan records the scopes of the fields it reads, from the same table the
        # middleware enforces (`resolvers.compiled`: how refused fields stay uncompiled).
        executor.plans.table = schema.scope_policy.table
    return schema


def print_sdl(schema: strawberry.Schema | None = None) -> str:
    return (schema or build_schema()).as_str() + "\n"
