"""Record types read from a Federation subgraph's SDL (`_service { sdl }`).

Every object type with a resolvable single-field `@key` is an entity, and becomes a
`RecordType` named as in the subgraph, typed `<System><Type>` in ledgergate (`hr` /
`Employee` → `HrEmployee`). Its fields are the scalar ones ledgergate can type:

- `ID`, `String`, `Int`, `Boolean`, and the custom scalars `Decimal`, `Date`, `DateTime`;
  an enum becomes a `String`; `Float` (never on a money path), other scalars, objects and
  lists are left out, and so are fields that need an argument;
- `@external` (except the key), `@requires` and `@inaccessible` fields are left out: the
  subgraph cannot answer them from a key alone, or must not;
- `@requiresScopes`, `@policy` or `@authenticated` make a field `sensitive`;
- a field named like one of the `SourceRecord` interface's (`url`, …) is exposed as
  `remoteUrl`, … and still read from its own name.

Federation directives are recognised under their plain names, their `federation__`
namespace (or the one `@link(as:)` gives) and any `import` renaming.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from graphql import GraphQLSyntaxError, parse
from graphql.language import (
    BooleanValueNode,
    DirectiveNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    FieldDefinitionNode,
    ListTypeNode,
    ListValueNode,
    NamedTypeNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ObjectValueNode,
    ScalarTypeDefinitionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    StringValueNode,
    TypeNode,
)

from .base import FieldSpec, RecordType
from .config import KEY_TYPES, RESERVED_FIELD_NAMES, default_type_prefix

BUILTIN_SCALARS = {"ID": "ID", "String": "String", "Int": "Int", "Boolean": "Boolean"}
CUSTOM_SCALARS = ("Decimal", "Date", "DateTime")
FEDERATION_DIRECTIVES = (
    "key", "external", "requires", "inaccessible", "requiresScopes", "policy", "authenticated"
)
LEFT_OUT = {"external", "requires", "inaccessible"}
SENSITIVE = {"requiresScopes", "policy", "authenticated"}


@dataclass
class _ObjectType:
    name: str
    directives: list[DirectiveNode] = field(default_factory=list)
    fields: list[FieldDefinitionNode] = field(default_factory=list)


def record_types_from_sdl(
    system: str, sdl: str, *, url_templates: Mapping[str, str] | None = None
) -> list[RecordType]:
    """The entities of `sdl` as record types of `system`, with deep links from
    `url_templates` (record type name → URL with `{id}`). Raises `ValueError` for an SDL
    that does not parse, has no entity, or a template for a type it does not have."""
    try:
        document = parse(sdl, no_location=True)
    except GraphQLSyntaxError as error:
        raise ValueError(f"the subgraph's SDL does not parse: {error.message}") from None
    directive = _federation_names(document.definitions)
    objects: dict[str, _ObjectType] = {}
    scalars, enums = set(), set()
    for node in document.definitions:
        if isinstance(node, (ObjectTypeDefinitionNode, ObjectTypeExtensionNode)):
            found = objects.setdefault(node.name.value, _ObjectType(node.name.value))
            found.directives.extend(node.directives or ())
            found.fields.extend(node.fields or ())
        elif isinstance(node, ScalarTypeDefinitionNode):
            scalars.add(node.name.value)
        elif isinstance(node, (EnumTypeDefinitionNode, EnumTypeExtensionNode)):
            enums.add(node.name.value)

    def scalar(name: str) -> str | None:
        if name in BUILTIN_SCALARS:
            return BUILTIN_SCALARS[name]
        if name in CUSTOM_SCALARS and name in scalars:
            return name
        return "String" if name in enums else None

    record_types = []
    for obj in objects.values():
        key = _key_field(obj, directive)
        if key is None or obj.name.startswith("_"):
            continue
        fields = _fields(obj, key, directive, scalar)
        key_spec = next((f for f in fields if f.remote_name == key), None)
        if key_spec is None or key_spec.type not in KEY_TYPES:
            continue  # a key ledgergate cannot use as a record id
        record_types.append(
            RecordType(
                system=system,
                name=obj.name,
                graphql_name=default_type_prefix(system) + obj.name,
                key=key_spec.name,
                fields=fields,
                url_template=(url_templates or {}).get(obj.name),
            )
        )
    if not record_types:
        raise ValueError(
            'the subgraph\'s SDL declares no entity: no object type with a resolvable @key(fields: "id") '
            f"on a field of type {', '.join(KEY_TYPES)}"
        )
    names = [t.name for t in record_types]
    if unknown := sorted(set(url_templates or {}) - set(names)):
        raise ValueError(
            f"url_templates names {', '.join(unknown)}, not an entity of the subgraph "
            f"(entities: {', '.join(names)})"
        )
    return record_types


def _federation_names(definitions) -> dict[str, str]:
    """Local directive name → federation directive name."""
    names = {name: name for name in FEDERATION_DIRECTIVES}
    namespace = "federation"
    for node in definitions:
        if not isinstance(node, (SchemaDefinitionNode, SchemaExtensionNode)):
            continue
        for link in node.directives or ():
            arguments = {a.name.value: a.value for a in link.arguments or ()}
            url = arguments.get("url")
            if not (isinstance(url, StringValueNode) and "/federation/" in url.value):
                continue
            if isinstance(alias := arguments.get("as"), StringValueNode):
                namespace = alias.value
            imports = arguments.get("import")
            for item in imports.values if isinstance(imports, ListValueNode) else ():
                if isinstance(item, ObjectValueNode):
                    parts = {f.name.value: f.value for f in item.fields}
                    name, local = parts.get("name"), parts.get("as")
                    if isinstance(name, StringValueNode) and isinstance(local, StringValueNode):
                        names[local.value.lstrip("@")] = name.value.lstrip("@")
    names.update({f"{namespace}__{name}": name for name in FEDERATION_DIRECTIVES})
    return names


def _key_field(obj: _ObjectType, directive: Mapping[str, str]) -> str | None:
    """The field of the first resolvable single-field @key, if any."""
    for node in obj.directives:
        if directive.get(node.name.value) != "key":
            continue
        arguments = {a.name.value: a.value for a in node.arguments or ()}
        resolvable = arguments.get("resolvable")
        if isinstance(resolvable, BooleanValueNode) and not resolvable.value:
            continue
        fields = arguments.get("fields")
        if isinstance(fields, StringValueNode):
            names = fields.value.split()
            if len(names) == 1 and names[0].isidentifier():
                return names[0]
    return None


def _fields(obj: _ObjectType, key: str, directive: Mapping[str, str], scalar) -> tuple[FieldSpec, ...]:
    specs: dict[str, FieldSpec] = {}
    taken = {node.name.value for node in obj.fields}
    for node in obj.fields:
        remote = node.name.value
        marks = {directive.get(d.name.value) for d in node.directives or ()}
        if remote != key and marks & LEFT_OUT:
            continue
        if any(isinstance(a.type, NonNullTypeNode) and a.default_value is None for a in node.arguments or ()):
            continue
        nullable, named = _named(node.type)
        type_name = scalar(named) if named else None
        if type_name is None:
            continue
        name = remote
        if remote in RESERVED_FIELD_NAMES:
            name = "remote" + remote[:1].upper() + remote[1:]
            if name in taken:
                continue
        if name in specs:
            continue  # declared again in an extension
        specs[name] = FieldSpec(
            name,
            type_name,
            source_name=remote if remote != name else None,
            nullable=nullable,
            sensitive=bool(marks & SENSITIVE),
        )
    return tuple(specs.values())


def _named(node: TypeNode) -> tuple[bool, str | None]:
    """(nullable, named type) of a field type; no name for a list."""
    nullable = not isinstance(node, NonNullTypeNode)
    inner = node.type if isinstance(node, NonNullTypeNode) else node
    if isinstance(inner, ListTypeNode) or not isinstance(inner, NamedTypeNode):
        return nullable, None
    return nullable, inner.name.value
