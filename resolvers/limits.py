"""Query limits, checked before anything executes: tokens, depth, aliases, page size, cost.

A query over a limit is refused as a whole, with one GraphQL error per limit it exceeds:
`extensions.code` LIMIT_EXCEEDED and `extensions.limit = {name, measured, maximum}`. No
resolver runs, so no SQL statement is sent and no source system is called.

What is measured (the configured maxima are `Limits` in `resolvers.context`):

- **tokens**: the lexical tokens of the document (punctuators, names, values; comments
  are not tokens but are limited to as many). graphql-core's parser stops at the first
  token over the limit, so a huge document is refused without building its syntax tree;
  only then are its tokens counted (one regular-expression pass) to report the total.
- **depth**: the longest chain of nested fields of the operation, through fragments and
  inline fragments, introspection fields included: `{ entity { code } }` is 2.
- **aliases**: the aliased fields of the operation, each fragment counted every time it
  is spread (spreading a fragment with 3 aliases twice counts 6).
- **page_size**: the largest `first` of any connection in the operation, literal or
  variable (the resolvers refuse it too, with the same error).
- **cost**: an upper estimate of the field values the response would hold. Every field
  costs 1 plus what it selects. What a connection's `edges` select counts once per item:
  the connection's `first` times, or `default_page_size` without one. A plain list's selection is
  counted `default_list_size` times (`_entities` once per representation). Sizes multiply
  through nesting; fragments on abstract types are all counted (a bound, not a guess).
  `account { lines(first: 10000) { edges { cursor node { 8 fields } } pageInfo {
  hasNextPage endCursor } } }` costs 1 + 1 + 1 + 10,000 × 10 + 3 = 100,006.

Everything that does not depend on variables is worked out once per document text and
operation and cached with the parsed document and its validation: for a document seen
before, a request costs a few dictionary look-ups, plus one walk of a small expression
when a `first` comes from a variable. The walks are linear in the document: each fragment
is measured once, however often it is spread.

`QueryGuard` is a Strawberry schema extension doing the parsing (with the token limit),
the limit checks and the validation, each cached, in that order: a query over a limit is
never validated either. It replaces Strawberry's `ParserCache` and `ValidationCache`.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    parse,
    value_from_ast_untyped,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from .context import Limits
from .errors import limit_exceeded

# --- tokens ---------------------------------------------------------------------------------

# graphql-core 3.3 counts comments apart (`max_lexical_tokens`, `max_comments`); older
# versions count the lexical tokens only (`max_tokens`).
_SEPARATE_COMMENTS = "max_lexical_tokens" in inspect.signature(parse).parameters
_OVER_TOKENS = re.compile(r"Document contains more than \d+ (tokens|comments)\.")
# One match per lexical token (group `t`) or comment (group `c`), as graphql-core's lexer
# reads them; ignored characters (white space, line ends, commas, BOM) match nothing.
_TOKEN = re.compile(
    r'(?P<c>\#[^\n\r]*)'
    r'|(?P<t>\.\.\.|[!$&():=@\[\]{|}]'
    r'|[_A-Za-z][_0-9A-Za-z]*'
    r'|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?'
    r'|"""(?:\\"""|[^"]|"(?!""))*"""'
    r'|"(?:[^"\\\n\r]|\\.)*")'
)


def count_tokens(text: str) -> tuple[int, int]:
    """(lexical tokens, comments) of a document, as graphql-core's lexer counts them."""
    tokens = comments = 0
    for match in _TOKEN.finditer(text):
        if match.lastgroup == "t":
            tokens += 1
        else:
            comments += 1
    return tokens, comments


def parse_limited(text: str, max_tokens: int) -> DocumentNode:
    """Parse a document of at most `max_tokens` tokens (and as many comments).

    Raises a LIMIT_EXCEEDED `GraphQLError` as soon as the parser reads one token too many,
    or graphql-core's syntax error.
    """
    try:
        if _SEPARATE_COMMENTS:
            return parse(text, max_lexical_tokens=max_tokens, max_comments=max_tokens)
        return parse(text, max_tokens=max_tokens)
    except GraphQLSyntaxError as error:
        over = _OVER_TOKENS.search(error.message)
        if over is None:
            raise
        tokens, comments = count_tokens(text)
        name, counted = ("comments", comments) if over[1] == "comments" else ("tokens", tokens)
        # The count is for the message; the parser's verdict stands even if the two differ.
        raise limit_error(name, max(counted, max_tokens + 1), max_tokens) from None


def limit_error(name: str, measured: int, maximum: int) -> GraphQLError:
    coded = limit_exceeded(name, measured, maximum)
    return GraphQLError(str(coded), extensions=coded.extensions)


# --- sizes and cost expressions ---------------------------------------------------------------


class _Var:
    """A list size given by a variable: `first: $n` (its value) or `representations: $r`
    (its length); `fallback` when the variable is absent, null or not usable."""

    __slots__ = ("name", "fallback", "length")

    def __init__(self, name: str, fallback: int, length: bool = False):
        self.name, self.fallback, self.length = name, fallback, length

    def size(self, variables: Mapping[str, Any], defaults: Mapping[str, Any]) -> int:
        if self.name in variables:
            value = variables[self.name]
        elif self.name in defaults:
            value = defaults[self.name]
        else:
            return self.fallback
        if self.length:
            return len(value) if isinstance(value, list) else self.fallback
        if isinstance(value, int) and not isinstance(value, bool):
            return max(value, 0)
        return self.fallback  # null: the resolver's default; anything else fails coercion


Size = int | _Var


class _Sum:
    """`const + Σ size × part`: a cost that depends on variables. Parts are shared (a
    fragment's cost is one object however often it is spread), so evaluation memoises;
    and it uses a stack of its own, as deep as fragments spread in fragments can nest."""

    __slots__ = ("const", "terms")

    def __init__(self, const: int, terms: tuple[tuple[Size, Cost], ...]):
        self.const, self.terms = const, terms

    def evaluate(self, variables: Mapping[str, Any], defaults: Mapping[str, Any]) -> int:
        values: dict[int, int] = {}
        stack: list[_Sum] = [self]
        while stack:
            node = stack[-1]
            if id(node) in values:
                stack.pop()
                continue
            waiting = [p for _, p in node.terms if isinstance(p, _Sum) and id(p) not in values]
            if waiting:
                stack.extend(waiting)
                continue
            total = node.const
            for size, part in node.terms:
                n = size if isinstance(size, int) else size.size(variables, defaults)
                total += n * (part if isinstance(part, int) else values[id(part)])
            values[id(node)] = total
            stack.pop()
        return values[id(self)]


Cost = int | _Sum


class _Adder:
    """Accumulates a cost; `done()` folds it to an int unless a variable is involved."""

    __slots__ = ("const", "terms")

    def __init__(self) -> None:
        self.const = 0
        self.terms: list[tuple[Size, Cost]] = []

    def add(self, part: Cost, size: Size = 1) -> None:
        if isinstance(part, int) and isinstance(size, int):
            self.const += size * part
        elif isinstance(part, _Sum) and not part.terms and isinstance(size, int):
            self.const += size * part.const
        elif part != 0:
            self.terms.append((size, part))

    def done(self) -> Cost:
        return _Sum(self.const, tuple(self.terms)) if self.terms else self.const


class _Part:
    """What a selection set (of an operation, a fragment, a field) measures.

    `fixed` is its cost; on a connection type, `item` is the cost of one of its edges,
    multiplied by the page size where the connection field is selected.
    """

    __slots__ = ("depth", "aliases", "fixed", "item", "page_max", "page_vars")

    def __init__(self, depth=0, aliases=0, fixed: Cost = 0, item: Cost = 0, page_max=0, page_vars=frozenset()):
        self.depth, self.aliases, self.fixed, self.item = depth, aliases, fixed, item
        self.page_max, self.page_vars = page_max, page_vars


_EMPTY = _Part()
_ITEM_FIELDS = frozenset({"edges", "nodes"})


def _is_connection(named) -> bool:
    fields = getattr(named, "fields", None)
    return bool(fields) and "edges" in fields and "pageInfo" in fields


def _is_list(type_) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


class _Measurer:
    """Measures the selection sets of one document against one schema."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, page_default: int, list_default: int,
                 field_costs: tuple[tuple[str, int], ...] = ()):
        self.schema = schema
        self.page_default = page_default
        self.list_default = list_default
        self.weights = {tuple(name.split(".", 1)): weight for name, weight in field_costs}
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.measured: dict[str, _Part] = {}
        # Fragments that spread others come after them; no recursion across fragments
        # (a chain of thousands of spreads is a few tokens each). In a cycle (invalid; the
        # validation that follows says so) the spread closing it counts as empty.
        for name in _fragment_order(self.fragments):
            fragment = self.fragments[name]
            on = self.schema.get_type(fragment.type_condition.name.value)
            self.measured[name] = self.selection_set(fragment.selection_set, on)

    def operation(self, operation: OperationDefinitionNode) -> _Part:
        root = self.schema.get_root_type(operation.operation)
        return self.selection_set(operation.selection_set, root)

    def field_def(self, parent, name: str) -> GraphQLField | None:
        if name.startswith("__"):
            if name == "__typename":
                return TypeNameMetaFieldDef
            if parent is not None and parent is self.schema.query_type:
                return {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}.get(name)
            return None
        fields = getattr(parent, "fields", None)
        return fields.get(name) if fields else None

    def selection_set(self, selection_set: SelectionSetNode, parent) -> _Part:
        depth = aliases = page_max = 0
        page_vars: frozenset[str] = frozenset()
        fixed, item = _Adder(), _Adder()
        parent_is_connection = _is_connection(parent)
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.alias is not None:
                    aliases += 1
                definition = self.field_def(parent, selection.name.value)
                named = get_named_type(definition.type) if definition is not None else None
                sub = (
                    self.selection_set(selection.selection_set, named)
                    if selection.selection_set is not None
                    else _EMPTY
                )
                depth = max(depth, 1 + sub.depth)
                aliases += sub.aliases
                page_max = max(page_max, sub.page_max)
                page_vars |= sub.page_vars
                if parent_is_connection and selection.name.value in _ITEM_FIELDS:
                    fixed.add(1)
                    item.add(sub.fixed)
                    continue
                one = _Adder()  # the cost of one value of this field's type
                one.add(sub.fixed)
                if _is_connection(named):
                    size = self.page_size(selection)
                    if isinstance(size, _Var):
                        page_vars |= {size.name}
                    else:
                        page_max = max(page_max, size)
                    one.add(sub.item, size)
                fixed.add(1 + self.weights.get((getattr(parent, "name", None), selection.name.value), 0))
                if definition is not None and _is_list(definition.type):
                    fixed.add(one.done(), self.list_size(selection))
                else:
                    fixed.add(one.done())
                continue
            if isinstance(selection, InlineFragmentNode):
                on = (
                    self.schema.get_type(selection.type_condition.name.value)
                    if selection.type_condition is not None
                    else parent
                )
                sub = self.selection_set(selection.selection_set, on)
            elif isinstance(selection, FragmentSpreadNode):
                sub = self.measured.get(selection.name.value, _EMPTY)
            else:  # pragma: no cover - no other kind of selection
                continue
            depth = max(depth, sub.depth)
            aliases += sub.aliases
            page_max = max(page_max, sub.page_max)
            page_vars |= sub.page_vars
            fixed.add(sub.fixed)
            item.add(sub.item)
        return _Part(depth, aliases, fixed.done(), item.done(), page_max, page_vars)

    def page_size(self, field: FieldNode) -> Size:
        for argument in field.arguments or ():
            if argument.name.value == "first":
                value = argument.value
                if isinstance(value, IntValueNode):  # below 1 is refused; it must not offset
                    return max(int(value.value), 0)
                if isinstance(value, VariableNode):
                    return _Var(value.name.value, self.page_default)
                return self.page_default  # null: the default page; anything else is invalid
        return self.page_default

    def list_size(self, field: FieldNode) -> Size:
        for argument in field.arguments or ():
            if argument.name.value == "representations":  # `_entities`: one per representation
                value = argument.value
                if isinstance(value, ListValueNode):
                    return len(value.values)
                if isinstance(value, VariableNode):
                    return _Var(value.name.value, self.list_default, length=True)
        return self.list_default


def _spreads(selection_set: SelectionSetNode) -> list[str]:
    names, stack = [], [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                names.append(selection.name.value)
            elif selection.selection_set is not None:
                stack.append(selection.selection_set)
    return names


def _fragment_order(fragments: Mapping[str, FragmentDefinitionNode]) -> list[str]:
    """Fragment names, each after every fragment it spreads (iterative depth-first)."""
    order: list[str] = []
    seen: set[str] = set()
    for root in fragments:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(_spreads(fragments[root].selection_set)))]
        while stack:
            name, children = stack[-1]
            for child in children:
                if child in fragments and child not in seen:
                    seen.add(child)
                    stack.append((child, iter(_spreads(fragments[child].selection_set))))
                    break
            else:
                stack.pop()
                order.append(name)
    return order


# --- per document, per operation ----------------------------------------------------------------


class OperationLimits:
    """The measures of one operation; only the cost and page size may need the variables."""

    __slots__ = ("depth", "aliases", "cost", "page_max", "page_vars", "defaults")

    def __init__(self, part: _Part, defaults: dict[str, Any]):
        self.depth, self.aliases, self.cost = part.depth, part.aliases, part.fixed
        self.page_max, self.page_vars = part.page_max, tuple(sorted(part.page_vars))
        self.defaults = defaults

    def page_size(self, variables: Mapping[str, Any]) -> int:
        largest = self.page_max
        for name in self.page_vars:
            value = variables[name] if name in variables else self.defaults.get(name)
            if isinstance(value, int) and not isinstance(value, bool) and value > largest:
                largest = value
        return largest

    def estimate(self, variables: Mapping[str, Any]) -> int:
        cost = self.cost
        return cost if isinstance(cost, int) else cost.evaluate(variables, self.defaults)

    def check(self, limits: Limits, variables: Mapping[str, Any]) -> list[GraphQLError]:
        errors = []
        if self.depth > limits.max_depth:
            errors.append(limit_error("depth", self.depth, limits.max_depth))
        if self.aliases > limits.max_aliases:
            errors.append(limit_error("aliases", self.aliases, limits.max_aliases))
        if (page := self.page_size(variables)) > limits.max_page_size:
            errors.append(limit_error("page_size", page, limits.max_page_size))
        if (cost := self.estimate(variables)) > limits.max_cost:
            errors.append(limit_error("cost", cost, limits.max_cost))
        return errors


def _variable_defaults(operation: OperationDefinitionNode) -> dict[str, Any]:
    defaults = {}
    for definition in operation.variable_definitions or ():
        if definition.default_value is not None and not isinstance(definition.default_value, NullValueNode):
            defaults[definition.variable.name.value] = value_from_ast_untyped(definition.default_value)
    return defaults


class PreparedDocument:
    """A parsed document with what is known of it without variables, filled in lazily."""

    __slots__ = ("document", "_operations", "_measurers", "_validated")

    def __init__(self, document: DocumentNode):
        self.document = document
        self._operations: dict[tuple, OperationLimits] = {}
        self._measurers: dict[tuple, _Measurer] = {}
        self._validated: tuple[Any, list[GraphQLError]] | None = None

    def operation_limits(
        self, schema: GraphQLSchema, operation_name: str | None, limits: Limits
    ) -> OperationLimits | None:
        key = (operation_name, limits.default_page_size, limits.default_list_size, limits.field_costs)
        found = self._operations.get(key)
        if found is not None:
            return found
        operation = get_operation_ast(self.document, operation_name)
        if operation is None or schema.get_root_type(operation.operation) is None:
            return None  # not cached: names a client makes up must not fill the cache
        defaults = key[1:]
        measurer = self._measurers.get(defaults)
        if measurer is None:
            measurer = self._measurers[defaults] = _Measurer(schema, self.document, *defaults)
        found = self._operations[key] = OperationLimits(
            measurer.operation(operation), _variable_defaults(operation)
        )
        return found

    def validate(self, schema: GraphQLSchema, rules: tuple) -> list[GraphQLError]:
        validated = self._validated
        if validated is None or (validated[0] is not rules and validated[0] != rules):
            from strawberry.schema.schema import validate_document  # circular at import time

            validated = self._validated = (rules, validate_document(schema, self.document, rules))
        return validated[1]


def prepared_documents(maxsize: int) -> Callable[[str, int], PreparedDocument]:
    """A bounded cache of prepared documents by (text, token limit), for one schema."""

    @lru_cache(maxsize=maxsize)
    def prepare(text: str, max_tokens: int) -> PreparedDocument:
        return PreparedDocument(parse_limited(text, max_tokens))

    return prepare


def check_limits(
    schema: GraphQLSchema,
    text: str,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
    limits: Limits | None = None,
) -> list[GraphQLError]:
    """Every limit `text` exceeds (uncached; for tools and tests)."""
    limits = limits or Limits()
    try:
        prepared = PreparedDocument(parse_limited(text, limits.max_tokens))
    except GraphQLError as error:
        if (error.extensions or {}).get("limit"):
            return [error]
        raise
    found = prepared.operation_limits(schema, operation_name, limits)
    return found.check(limits, variables or {}) if found is not None else []


class QueryGuard(SchemaExtension):
    """Parses (token limit), checks the limits and validates; each cached per document.

    Pass a factory to the schema, one cache per schema:
    `extensions=[QueryGuard.factory(512)]`. The limits are the request context's
    (`context.limits`), or the defaults.
    """

    def __init__(self, prepare: Callable[[str, int], PreparedDocument]):
        super().__init__()
        self.prepare = prepare
        self.prepared: PreparedDocument | None = None

    @classmethod
    def factory(cls, maxsize: int) -> Callable[[], QueryGuard]:
        prepare = prepared_documents(maxsize)
        return lambda: cls(prepare)

    def _limits(self) -> Limits:
        limits = getattr(self.execution_context.context, "limits", None)
        return limits if isinstance(limits, Limits) else _DEFAULT_LIMITS

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            self.prepared = self.prepare(context.query, self._limits().max_tokens)
            context.graphql_document = self.prepared.document
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        prepared = self.prepared
        if prepared is not None and context.pre_execution_errors is None:
            schema = context.schema._schema
            limits = self._limits()
            operation = prepared.operation_limits(schema, context.operation_name, limits)
            errors = operation.check(limits, context.variables or {}) if operation else []
            # Setting the errors, even none, stands for validation (Strawberry skips its own).
            context.pre_execution_errors = errors or prepared.validate(
                schema, context.validation_rules
            )
        yield


_DEFAULT_LIMITS = Limits()

__all__ = ["QueryGuard", "check_limits", "count_tokens", "parse_limited"]
