"""The compiled execution path: result dicts built by generated code, proven identical to
graphql-core's.

graphql-core costs about 3 µs per resolved field; a page of 10,000 lines × 8 fields
spends ~230 ms executing. Most of that is generic work repeated per object: building a
`GraphQLResolveInfo`, a `Path`, calling the resolver, dispatching on the return type. For
a selection that only reaches *plain attributes* (Strawberry "basic" fields: no custom
resolver, no dataloader, no permission class or field extension, no arguments) none of it
changes from one object to the next, so `CompiledExecutor` generates, once per
(runtime type, selection, values of the variables its @skip/@include read), a Python
function that builds the result dict directly, and caches it (`PlanCache`, bounded).

How it stays identical to graphql-core:

- **Field collection is graphql-core's own** (`Executor.collect_subfields`): aliases,
  inline and named fragments with type conditions, @skip/@include and the merging of
  fields are decided by the same code, and the builder only replays the result. The
  variables that code read (those of @skip/@include under the selection) are part of the
  plan's key, so another request with other values gets another plan.
- **Only the normal case is compiled**, behind exact checks: the object's class is the
  one the type was declared with, each scalar has the exact Python type whose
  serialisation is the identity (`str` for String and ID, `int` in range for Int, `bool`)
  or goes through the type's own `coerce_output_value` (Decimal, Date, Float…), an enum
  member is looked up in a table made by the enum type itself, a list is a list or tuple.
  Anything else (a null in a non-null field, a value of another type, an exception
  object, an awaitable) makes the builder give up on that item, which is **handed back
  to graphql-core**: the object, or the list item, is completed again by the normal path,
  so every error message, path, location and null propagation is graphql-core's. (Its
  attribute reads run twice for that item; they are plain attributes, without effects.)
- Fields declared with a batch resolver (`resolvers.batch`: the dataloader-backed ones,
  `JournalEntry.lines`, `JournalLine.account`, `SourceLink.record`…) are compiled too, as
  *slots*: the plan builds everything else and notes the objects reaching each slot, and
  `resolvers.levels` resolves each slot once for a whole level, then completes its values
  with the plan's code, level after level. An interface-typed value (`SourceRecord`) is
  dispatched on its exact class to the builder of its type, as Strawberry resolves it.
- Other fields (a custom resolver without a batch resolver, arguments, a union,
  introspection) are not compiled: the selection level holding one goes the normal way,
  and the levels below it are tried again where graphql-core completes them. So
  `accounts { edges { node { balance lines(first: 5) { … } } } }` runs graphql-core down
  to the pages of lines, which are compiled.

Authorization (`resolvers.scopes`) needs no per-object hook here either. When the caller
holds every scope the document touches (the usual case) `ScopeMiddleware` wraps nothing
and plans are used as they are. When it does not (`ScopeMiddleware.enforce`), each plan is
used only if the caller holds every scope of every field the plan reads — decided once per
plan per request, since scopes depend on the caller and never on the object. A plan that
would read a refused field is not used: that level goes through graphql-core and the
middleware, which nulls the field with FORBIDDEN exactly as without compilation, while the
levels the caller may read stay compiled. A plan holds no caller data, only code derived
from the schema and the document, so one cache serves every caller without leaking
anything: the scope decision is made per request, outside the cache. Results are never
cached.

The generated code is kept small and readable (`PlanCache.source(...)` shows it); a
function per object type and selection, with the leaves inlined.
"""

from __future__ import annotations

import keyword
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
)
from graphql.language import (
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)
from graphql.type import GraphQLBoolean, GraphQLID, GraphQLInt, GraphQLString
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import Info
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE

from . import levels
from .batch import batch_resolver
from .compiled_variables import VariableCoercion, operation_of
from .scopes import ScopeMiddleware

DEFAULT_PLAN_CACHE_SIZE = 1024

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


class Misfit(Exception):
    """Raised by generated code for a value it does not handle; never leaves this module."""


class Plan:
    """A compiled builder for one object type and selection, the scopes it reads, and its
    batch-resolved fields (`slots`, see `resolvers.levels`): a plan with slots builds with
    `build(o, pending)` and is completed by awaiting `levels.complete_level`."""

    __slots__ = ("build", "scopes", "slots", "source")

    def __init__(self, build, scopes: frozenset[str], source: str, slots: tuple[Slot, ...] = ()):
        self.build = build
        self.scopes = scopes
        self.slots = slots
        self.source = source


class Slot:
    """A batch-resolved field in a plan (`resolvers.batch`): resolved once per level for
    every object that reached it, then its values completed by `complete(v, pending)`."""

    __slots__ = ("complete", "field_def", "field_nodes", "nullable", "parent_type", "resolver", "response_name",
                 "strawberry_field")

    def __init__(self, resolver, field_def, field_nodes, parent_type, strawberry_field, response_name):
        self.resolver = resolver
        self.field_def = field_def
        self.field_nodes = field_nodes
        self.parent_type = parent_type
        self.strawberry_field = strawberry_field
        self.response_name = response_name
        self.nullable = not isinstance(field_def.type, GraphQLNonNull)
        self.complete = None  # set once the plan's code exists


class _Uncompilable(Exception):
    """The selection reaches a field that is not a plain attribute (the reason is the text)."""


# --- the cache ----------------------------------------------------------------------------


class PlanCache:
    """Plans per (runtime type, field nodes, relevant variable values), least recently used
    evicted past `size`. One per schema. The field nodes are the parsed document's own
    objects (the parser cache returns the same document for the same text), keyed by
    identity: each entry keeps its nodes alive, so no other node can take their ids while
    the entry exists.

    A selection that cannot be compiled is cached too (as None), so it is not re-examined
    on every request. Counters (`built`, `served`, `handed_back`) are for tests and
    diagnosis; they are incremented per list or object served, not per field.
    """

    def __init__(self, size: int = DEFAULT_PLAN_CACHE_SIZE):
        # The schema's field-scope table (`resolvers.scopes.field_scopes`), set by
        # `build_schema` once the schema exists: each plan records the scopes it reads.
        self.table: dict = {}
        self.size = size
        self._plans: OrderedDict[tuple, tuple[Any, Plan | None]] = OrderedDict()
        self._variables: OrderedDict[tuple, tuple[Any, tuple[str, ...]]] = OrderedDict()
        self.built = 0
        self.served = 0
        self.handed_back = 0

    def __len__(self) -> int:
        return len(self._plans)

    def _remember(self, store: OrderedDict, key, value) -> None:
        store[key] = value
        while len(store) > self.size:
            store.popitem(last=False)

    def relevant_variables(self, nodes: tuple[FieldNode, ...], fragments) -> tuple[str, ...]:
        """Names of the variables any @skip/@include under `nodes` reads (fragments included)."""
        key = tuple(map(id, nodes))
        found = self._variables.get(key)
        if found is not None:
            return found[1]
        names: list[str] = []
        _directive_variables([n.selection_set for n in nodes], fragments, names, set())
        result = tuple(dict.fromkeys(names))
        self._remember(self._variables, key, (nodes, result))
        return result

    def get(self, key: tuple):
        found = self._plans.get(key)
        if found is None:
            return None, False
        self._plans.move_to_end(key)
        return found[1], True

    def put(self, key: tuple, nodes, plan: Plan | None) -> None:
        self._remember(self._plans, key, (nodes, plan))


def _directive_variables(selection_sets: Iterable[SelectionSetNode | None], fragments, names: list[str], seen: set[str]) -> None:
    for selection_set in selection_sets:
        if selection_set is None:
            continue
        for selection in selection_set.selections:
            for directive in selection.directives or ():
                if directive.name.value in ("skip", "include"):
                    for argument in directive.arguments or ():
                        value = argument.value
                        if value.kind == "variable":
                            names.append(value.name.value)
            if isinstance(selection, FieldNode | InlineFragmentNode):
                _directive_variables([selection.selection_set], fragments, names, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    _directive_variables([fragments[name].definition.selection_set], fragments, names, seen)


# --- code generation ------------------------------------------------------------------------


def _attribute(python_name: str) -> str:
    if python_name.isidentifier() and not keyword.iskeyword(python_name):
        return f"o.{python_name}"
    return f"getattr(o, {python_name!r})"


class _Generator:
    """Writes the functions of one plan; `names` holds the objects the code refers to."""

    def __init__(self, executor, table: dict):
        self.executor = executor
        self.table = table
        self.names: dict[str, Any] = {"Misfit": Misfit, "Undefined": Undefined}
        self.functions: list[str] = []
        self.tables: list[str] = []  # module-level statements run after the functions exist
        self.scopes: set[str] = set()
        self.slots: list[tuple[Slot, str]] = []  # with the name of its completion function
        self._count = 0
        self._objects: dict[tuple, str] = {}

    def name(self, prefix: str, value: Any = None) -> str:
        self._count += 1
        name = f"{prefix}{self._count}"
        if value is not None:
            self.names[name] = value
        return name

    # An object type with the selection collected for it: a function `(o, p) -> dict`; `p`
    # (`levels.Pending`) collects the objects whose batch-resolved fields are still to come.
    def object_builder(self, gql_type: GraphQLObjectType, field_details_list) -> str:
        key = (gql_type.name, id(field_details_list))
        if key in self._objects:
            return self._objects[key]
        definition = (gql_type.extensions or {}).get("strawberry-definition")
        if definition is None:
            raise _Uncompilable(f"{gql_type.name} is not a Strawberry type")
        if definition.is_type_of is not None:
            raise _Uncompilable(f"{gql_type.name} has its own is_type_of")
        if any(fd.defer_usage is not None or fd.fragment_variable_values is not None for fd in field_details_list):
            raise _Uncompilable("@defer or fragment arguments")
        grouped, new_defer_usages, _ = self.executor.collect_subfields(gql_type, field_details_list)
        if new_defer_usages:
            raise _Uncompilable("@defer")
        function = self._objects[key] = self.name("build_")
        classes = [definition.origin]
        if definition.concrete_of is not None:  # a generic type's specialisation
            classes.append(definition.concrete_of.origin)
        lines = [f"def {function}(o, p=None):"]
        check = " and ".join(f"type(o) is not {self.name('C', c)}" for c in classes)
        lines.append(f"    if {check}: raise Misfit")
        if gql_type.is_type_of is not None:
            # Strawberry's generated is_type_of (types with interfaces): true for an
            # instance of the type's own class unless `strawberry.cast` named another.
            lines.append(f"    if getattr(o, {TYPE_CAST_ATTRIBUTE!r}, None) is not None: raise Misfit")
        results = []
        pending: list[int] = []
        for index, (response_name, sub_details) in enumerate(grouped.items()):
            if any(fd.defer_usage is not None or fd.fragment_variable_values is not None for fd in sub_details):
                raise _Uncompilable("@defer or fragment arguments")
            node = sub_details[0].node
            field_name = node.name.value
            target = f"r{index}"
            results.append(f"{response_name!r}: {target}")
            if field_name == "__typename":
                lines.append(f"    {target} = {gql_type.name!r}")
                continue
            field = gql_type.fields.get(field_name)
            if field is None:
                raise _Uncompilable(f"{gql_type.name}.{field_name} is not a field")
            strawberry_field = (field.extensions or {}).get("strawberry-definition")
            if field.args or node.arguments or strawberry_field is None:
                raise _Uncompilable(f"{gql_type.name}.{field_name} takes arguments")
            self.scopes.update(self.table.get((gql_type.name, field_name), ()))
            if _is_batched(field, strawberry_field):
                lines.append(f"    {target} = None")
                pending.append(self.slot(gql_type, field, strawberry_field, response_name, sub_details))
                continue
            if (
                not getattr(field.resolve, "_is_default", False)
                or not strawberry_field.is_basic_field
                or strawberry_field.default_resolver is not getattr
            ):
                raise _Uncompilable(f"{gql_type.name}.{field_name} is not a plain attribute")
            lines.append(f"    v = {_attribute(strawberry_field.python_name)}")
            lines.extend("    " + line for line in self.value(field.type, target, sub_details))
        if not pending:
            lines.append("    return {" + ", ".join(results) + "}")
        else:
            lines.append("    d = {" + ", ".join(results) + "}")
            lines.append("    if p is None: raise Misfit")
            lines.extend(f"    p.slots[{index}].append((o, d, p.owner))" for index in pending)
            lines.append("    return d")
        self.functions.append("\n".join(lines))
        return function

    def slot(self, parent_type, field, strawberry_field, response_name: str, field_details_list) -> int:
        """A batch-resolved field's slot, with the function completing its values."""
        function = self.name("complete_")
        slot = Slot(batch_resolver(strawberry_field), field, [fd.node for fd in field_details_list],
                    parent_type, strawberry_field, response_name)
        index = len(self.slots)
        self.slots.append((slot, function))
        body = self.value(field.type, "r", field_details_list)
        self.functions.append("\n".join([f"def {function}(v, p):", *("    " + line for line in body), "    return r"]))
        return index

    # Statements that set `target` from `v`, for a value of `gql_type`.
    def value(self, gql_type, target: str, field_details_list) -> list[str]:
        if isinstance(gql_type, GraphQLNonNull):
            # graphql-core's error for a null here is its own business: hand the item back.
            return ["if v is None: raise Misfit", *self.present(gql_type.of_type, target, field_details_list)]
        body = self.present(gql_type, target, field_details_list)
        return [f"if v is None: {target} = None", "else:", *("    " + line for line in body)]

    def present(self, gql_type, target: str, field_details_list) -> list[str]:
        """For a value that is not None."""
        if gql_type is GraphQLString or gql_type is GraphQLID:
            return ["if type(v) is not str: raise Misfit", f"{target} = v"]
        if gql_type is GraphQLInt:
            return [f"if type(v) is not int or not {_INT_MIN} <= v <= {_INT_MAX}: raise Misfit", f"{target} = v"]
        if gql_type is GraphQLBoolean:
            return ["if type(v) is not bool: raise Misfit", f"{target} = v"]
        if isinstance(gql_type, GraphQLEnumType) and isinstance(getattr(gql_type, "wrapped_cls", None), type):
            # Strawberry's enum: the names its own coerce_output_value gives each member.
            cls = gql_type.wrapped_cls
            table = {member: gql_type.coerce_output_value(member) for member in cls}
            return [f"if type(v) is not {self.name('E', cls)}: raise Misfit", f"{target} = {self.name('N', table)}[v]"]
        if isinstance(gql_type, GraphQLScalarType | GraphQLEnumType):
            # Decimal, Date, Float…: the type's own serialisation, as graphql-core calls it.
            coerce = self.name("S", gql_type.coerce_output_value)
            return [
                "if v is Undefined or isinstance(v, Exception): raise Misfit",
                f"{target} = {coerce}(v)",
                f"if {target} is None or {target} is Undefined: raise Misfit",
            ]
        if isinstance(gql_type, GraphQLObjectType):
            return [f"{target} = {self.object_builder(gql_type, field_details_list)}(v, p)"]
        if isinstance(gql_type, GraphQLInterfaceType):
            # Strawberry's own resolve_type: the type whose class the object is, unless
            # `strawberry.cast` named another; a class outside the table is handed back.
            table = self.interface_table(gql_type, field_details_list)
            return [
                f"if getattr(v, {TYPE_CAST_ATTRIBUTE!r}, None) is not None: raise Misfit",
                f"b = {table}.get(type(v))",
                "if b is None: raise Misfit",
                f"{target} = b(v, p)",
            ]
        if isinstance(gql_type, GraphQLList):
            item = self.item_expression(gql_type.of_type, field_details_list)
            return [
                "if type(v) is not list and type(v) is not tuple: raise Misfit",
                f"{target} = [{item} for x in v]",
            ]
        raise _Uncompilable(f"{gql_type} is an abstract type")

    def item_expression(self, item_type, field_details_list) -> str:
        """An expression of `x` for one item of a list."""
        inner = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        if isinstance(inner, GraphQLObjectType):
            builder = self.object_builder(inner, field_details_list)
            # A builder refuses None itself (its class check), as a non-null item must.
            return f"{builder}(x, p)" if inner is not item_type else f"None if x is None else {builder}(x, p)"
        function = self.name("item_")
        body = self.value(item_type, "r", field_details_list)
        self.functions.append("\n".join([f"def {function}(v, p):", *("    " + line for line in body), "    return r"]))
        return f"{function}(x, p)"

    def interface_table(self, gql_type: GraphQLInterfaceType, field_details_list) -> str:
        """The name of a dict: class → builder, for every type implementing `gql_type`."""
        definition = (gql_type.extensions or {}).get("strawberry-definition")
        if definition is None or definition.resolve_type is not None:
            raise _Uncompilable(f"{gql_type.name} resolves its type itself")
        entries = []
        for possible in self.executor.schema.get_possible_types(gql_type):
            possible_definition = (possible.extensions or {}).get("strawberry-definition")
            if possible_definition is None or possible_definition.is_graphql_generic:
                raise _Uncompilable(f"{possible.name} is generic")
            builder = self.object_builder(possible, field_details_list)
            entries.append(f"{self.name('C', possible_definition.origin)}: {builder}")
        table = self.name("T")
        self.tables.append(f"{table} = {{{', '.join(entries)}}}")
        return table


def _is_batched(field, strawberry_field) -> bool:
    """A field whose resolver is its batch resolver over one object (`resolvers.batch`),
    with nothing Strawberry would run around it per object."""
    return (
        batch_resolver(strawberry_field) is not None
        and not getattr(field.resolve, "_is_default", False)
        and not strawberry_field.permission_classes
        and not strawberry_field.extensions
    )


def compile_plan(executor, gql_type: GraphQLObjectType, field_details_list, table: dict) -> Plan | None:
    """The plan for `gql_type` with this selection, or None when some field it reaches is
    not a plain attribute."""
    generator = _Generator(executor, table)
    try:
        function = generator.object_builder(gql_type, field_details_list)
    except _Uncompilable:
        return None
    source = "\n\n".join([*generator.functions, *generator.tables])
    namespace = dict(generator.names)
    exec(compile(source, f"<compiled plan for {gql_type.name}>", "exec"), namespace)  # noqa: S102 - our own generated code
    for slot, name in generator.slots:
        slot.complete = namespace[name]
    slots = tuple(slot for slot, _ in generator.slots)
    return Plan(namespace[function], frozenset(generator.scopes), source, slots)


# --- the executor -----------------------------------------------------------------------------

_NOTHING = object()


class CompiledExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor (as Strawberry configures it) with compiled completion of
    objects and lists of objects. `compiled_executor(schema)` makes the subclass of one
    schema, holding that schema's `PlanCache`."""

    plans: PlanCache
    variables: VariableCoercion | None = None

    @classmethod
    def build(cls, schema, document, root_value=None, context_value=None,
              raw_variable_values=None, operation_name=None, *args: Any, **kwargs: Any):
        """graphql-core's `build`, with the variables coerced by `resolvers.compiled_variables`
        when it can: graphql-core is handed the operation without its variable definitions
        (so it coerces none) and the executor gets the values it would have made. When the
        compiled coercion declines, graphql-core coerces them as ever."""
        operation = operation_of(document, operation_name)
        values = None
        if operation is not None and operation.variable_definitions:
            if cls.variables is None or cls.variables.schema is not schema:
                cls.variables = VariableCoercion(schema)
            values = cls.variables.variable_values(operation, raw_variable_values or {})
        if values is None:
            return super().build(schema, document, root_value, context_value,
                                 raw_variable_values, operation_name, *args, **kwargs)
        bare = replace(operation, variable_definitions=())
        executor = super().build(
            schema, replace(document, definitions=tuple(
                bare if d is operation else d for d in document.definitions)),
            root_value, context_value, {}, operation_name, *args, **kwargs)
        if isinstance(executor, list):  # errors (of the document, not of the variables)
            return executor
        executor.operation = operation
        executor.variable_values = values
        return executor

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._memo: dict[tuple, tuple[Any, Plan | None]] = {}
        self._handed_back: Any = _NOTHING
        # Strawberry builds the executor after the schema extensions' `on_execute` ran, so
        # `ScopeGuard` has already decided whether this request's fields need checking.
        self._scopes = self._request_scopes()

    def _request_scopes(self):
        """None: the compiled path is off for this request; True: every plan may be used;
        else the caller's scopes, each plan's checked against them."""
        manager = self.middleware_manager
        if not self.error_propagation:  # @experimental_disableErrorPropagation: not compiled
            return None
        if manager is None:
            return True
        if type(manager) is not ScopeMiddleware:
            return None  # another middleware might hook resolvers: never skip it
        return True if not manager.enforce else manager.scopes

    def _plan(self, gql_type: GraphQLObjectType, field_details_list) -> Plan | None:
        memo_key = (gql_type, id(field_details_list))
        found = self._memo.get(memo_key)
        if found is not None:
            return found[1]
        plan = None
        scopes = self._scopes
        if scopes is not None:
            plan = self._cached_plan(gql_type, field_details_list)
            if plan is not None and scopes is not True and not scopes.issuperset(plan.scopes):
                plan = None  # the caller lacks a scope this plan reads: graphql-core decides
        self._memo[memo_key] = (field_details_list, plan)
        return plan

    def _cached_plan(self, gql_type, field_details_list) -> Plan | None:
        cache = self.plans
        nodes = tuple(fd.node for fd in field_details_list)
        names = cache.relevant_variables(nodes, self.fragments)
        coerced = self.variable_values.coerced
        try:
            values = tuple(coerced.get(name, Undefined) for name in names)
            key = (gql_type.name, tuple(map(id, nodes)), names, values)
            hash(key)
        except TypeError:  # an unhashable variable value: not worth a plan
            return None
        plan, found = cache.get(key)
        if not found:
            plan = compile_plan(self, gql_type, field_details_list, cache.table)
            cache.built += 1
            cache.put(key, nodes, plan)
        return plan

    def complete_object_value(self, return_type, field_details_list, info, path, result, position_context):
        if result is self._handed_back:
            # graphql-core completing an item the compiled list handed back: its way.
            self._handed_back = _NOTHING
        else:
            plan = self._plan(return_type, field_details_list)
            if plan is not None and plan.slots:
                return levels.complete_object(
                    self, plan, return_type, field_details_list, info, path, result, position_context
                )
            if plan is not None:
                try:
                    built = plan.build(result)
                except Exception:  # noqa: BLE001 - any surprise: graphql-core completes it
                    self.plans.handed_back += 1
                else:
                    self.plans.served += 1
                    return built
        return super().complete_object_value(return_type, field_details_list, info, path, result, position_context)

    def complete_list_value(self, return_type, field_details_list, info, path, result, position_context):
        item_type = return_type.of_type
        non_null = isinstance(item_type, GraphQLNonNull)
        named = item_type.of_type if non_null else item_type
        if not isinstance(named, GraphQLObjectType) or (type(result) is not list and type(result) is not tuple):
            return super().complete_list_value(return_type, field_details_list, info, path, result, position_context)
        plan = self._plan(named, field_details_list)
        if plan is None or plan.slots and any(map(self.is_awaitable, result)):
            return super().complete_list_value(return_type, field_details_list, info, path, result, position_context)
        if plan.slots:
            return levels.complete_list(
                self, plan, item_type, field_details_list, info, path, result, position_context
            )
        build = plan.build
        try:
            if non_null:
                completed = [build(item) for item in result]
            else:
                completed = [None if item is None else build(item) for item in result]
        except Exception:  # noqa: BLE001 - some item does not fit: item by item below
            pass
        else:
            self.plans.served += 1
            return completed
        return self._complete_items(item_type, field_details_list, info, path, result, position_context, build)

    # --- for `resolvers.levels` ---

    def strawberry_info(self, raw_info, strawberry_field) -> Info:
        return Info(_raw_info=raw_info, _field=strawberry_field)

    def complete_handed_back_object(self, return_type, field_details_list, info, path, result, position_context):
        return super().complete_object_value(return_type, field_details_list, info, path, result, position_context)

    def complete_handed_back_item(self, item, index, completed, item_type, field_details_list, info, path, position_context) -> bool:
        """graphql-core's completion of `completed[index]`; True if it is an awaitable."""
        holder: list[Any] = []
        self._handed_back = item
        try:
            awaitable = self.complete_list_item_value(
                item, holder, item_type, field_details_list, info, path.add_key(index, None), position_context
            )
        finally:
            self._handed_back = _NOTHING
        completed[index] = holder[0]
        return awaitable

    def _complete_items(self, item_type, field_details_list, info, path, items, position_context, build):
        """graphql-core's `complete_iterable_value`, with the items that fit built by the plan."""
        self.plans.handed_back += 1
        is_awaitable = self.is_awaitable
        completed: list[Any] = []
        awaitable_indices: list[int] = []
        built = 0
        try:
            for index, item in enumerate(items):
                if item is not None and not is_awaitable(item):
                    try:
                        completed.append(build(item))
                        built += 1
                        continue
                    except Exception:  # noqa: BLE001,S112 - handed back just below
                        pass
                item_path = path.add_key(index, None)
                if is_awaitable(item):
                    completed.append(self.complete_awaitable_list_item_value(
                        item, item_type, field_details_list, info, item_path, position_context
                    ))
                    awaitable_indices.append(index)
                    continue
                self._handed_back = item
                try:
                    if self.complete_list_item_value(
                        item, completed, item_type, field_details_list, info, item_path, position_context
                    ):
                        awaitable_indices.append(index)
                finally:
                    self._handed_back = _NOTHING
        except Exception:
            pending = [completed[i] for i in awaitable_indices]
            if pending:
                self.settle_in_background(pending)
            raise
        finally:
            self.plans.served += built > 0
        if not awaitable_indices:
            return completed
        return self._gather_items(completed, awaitable_indices)

    async def _gather_items(self, completed: list[Any], awaitable_indices: list[int]) -> list[Any]:
        from graphql.pyutils import gather_with_cancel

        results = await gather_with_cancel(*(completed[i] for i in awaitable_indices))
        for index, value in zip(awaitable_indices, results, strict=True):
            completed[index] = value
        return completed


def compiled_executor(size: int = DEFAULT_PLAN_CACHE_SIZE) -> type[CompiledExecutor]:
    """A `CompiledExecutor` class for one schema, with a plan cache of its own (plans hold
    the schema's types, so two schemas never share one)."""
    return type("CompiledExecutor", (CompiledExecutor,), {"plans": PlanCache(size)})


def check_schema(schema: GraphQLSchema) -> None:
    """The compiled path replays graphql-core's completion without incremental delivery:
    refuse a schema that offers @defer or @stream (graphql-core's `execute` refuses it too)."""
    if schema.get_directive("defer") is not None or schema.get_directive("stream") is not None:
        raise ValueError("the compiled execution path does not implement @defer/@stream")


__all__ = ["CompiledExecutor", "Misfit", "Plan", "PlanCache", "check_schema", "compile_plan", "compiled_executor"]
