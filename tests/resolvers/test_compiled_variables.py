"""The compiled coercion of variables (`resolvers.compiled_variables`) gives graphql-core's
values exactly, and declines (so graphql-core reports the error) whenever graphql-core
would refuse: for every input type the schema has, on values Hypothesis makes."""

import datetime as dt
import uuid

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    parse,
)
from graphql.execution.values import get_variable_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.post import BULK, entry
from resolvers.compiled_variables import VariableCoercion
from resolvers.schema import build_schema

SCHEMA = build_schema()._schema
INPUT_TYPES = sorted(
    name for name, t in SCHEMA.type_map.items()
    if isinstance(t, GraphQLInputObjectType) and not name.startswith("__")
)
NOISE = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                  st.text(max_size=5), st.just([]), st.just({}))


def _scalar(type_: GraphQLScalarType, noisy: bool):
    good = {
        "String": st.text(max_size=8), "ID": st.one_of(st.text(max_size=8), st.integers()),
        "Int": st.integers(-(2**33), 2**33), "Float": st.floats(allow_nan=False),
        "Boolean": st.booleans(),
        "Decimal": st.one_of(st.from_regex(r"-?[0-9]{1,6}(\.[0-9]{1,4})?", fullmatch=True),
                             st.integers(-10**6, 10**6)),
        "Date": st.dates(dt.date(1990, 1, 1), dt.date(2100, 1, 1)).map(dt.date.isoformat),
    }.get(type_.name, st.text(max_size=8))
    return st.one_of(good, good, good, NOISE) if noisy else good


def values(type_, noisy: bool, depth=0, nullable=True):
    """Values for `type_`: valid ones, or (`noisy`) sometimes not: noise, a null, an
    unknown field, a missing one. A single value where a list goes is valid."""
    if isinstance(type_, GraphQLNonNull):
        return values(type_.of_type, noisy, depth, nullable=False)
    inner = _values(type_, noisy, depth)
    return st.one_of(inner, inner, inner, st.none()) if nullable or noisy else inner


def _values(type_, noisy, depth):
    if depth > 10:
        return NOISE if noisy else st.nothing()
    if isinstance(type_, GraphQLList):
        item = values(type_.of_type, noisy, depth + 1)
        return st.one_of(st.lists(item, max_size=3), item)
    if isinstance(type_, GraphQLEnumType):
        names = st.sampled_from(sorted(type_.values))
        return st.one_of(names, NOISE) if noisy else names
    if isinstance(type_, GraphQLInputObjectType):
        fields = {name: values(f.type, noisy, depth + 1) for name, f in type_.fields.items()}
        required = {n: v for n, v in fields.items()
                    if isinstance(type_.fields[n].type, GraphQLNonNull)
                    and type_.fields[n].default is None}
        optional = {n: v for n, v in fields.items() if n not in required}
        valid = st.fixed_dictionaries(required, optional=optional)
        if not noisy:
            return valid
        return st.one_of(
            valid, st.fixed_dictionaries({}, optional=fields),
            st.fixed_dictionaries(fields).map(lambda d: {**d, "unknownField": 1}), NOISE,
        )
    return _scalar(type_, noisy)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), type_name=st.sampled_from(INPUT_TYPES), non_null=st.booleans(),
       as_list=st.booleans(), noisy=st.booleans())
def test_every_input_type_coerces_as_graphql_core_does(data, type_name, non_null, as_list, noisy):
    type_text = f"[{type_name}!]" if as_list else type_name
    type_text += "!" if non_null else ""
    operation = parse(f"query Q($v: {type_text}) {{ __typename }}").definitions[0]
    type_ = SCHEMA.type_map[type_name]
    if as_list:
        type_ = GraphQLList(GraphQLNonNull(type_))
    raw = {"v": data.draw(values(type_, noisy))}
    core = get_variable_values(SCHEMA, operation.variable_definitions, raw)
    compiled = VariableCoercion(SCHEMA).variable_values(operation, raw)
    if isinstance(core, list):  # graphql-core refuses: the compiled path must decline
        assert compiled is None
    else:
        assert compiled is not None
        assert compiled.coerced == core.coerced
        assert {k: (s.signature.name, s.value) for k, s in compiled.sources.items()} == {
            k: (s.signature.name, s.value) for k, s in core.sources.items()}


def test_a_bulk_posting_is_coerced_as_graphql_core_does():
    operation = parse(BULK).definitions[0]
    run = uuid.uuid4().hex[:8]
    raw = {"inputs": [entry(10, f"{run}-{i}") for i in range(50)], "key": run}
    raw["inputs"][3]["lines"][0]["dimensions"] = {"kind": "CUSTOMER", "code": "C1"}  # a list of one
    core = get_variable_values(SCHEMA, operation.variable_definitions, raw)
    compiled = VariableCoercion(SCHEMA).variable_values(operation, raw)
    assert compiled.coerced == core.coerced
    assert compiled.coerced["inputs"][3]["lines"][0]["dimensions"][0]["code"] == "C1"


def test_a_variable_left_out_goes_to_graphql_core():
    operation = parse(BULK).definitions[0]
    assert VariableCoercion(SCHEMA).variable_values(operation, {"key": "k"}) is None
