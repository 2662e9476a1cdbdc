"""Which fields of a source record type a query selects, to forward no more than that."""

from __future__ import annotations

from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode
from strawberry.types import Info

INTERFACE_NAME = "SourceRecord"


def selected_record_fields(info: Info, type_name: str) -> frozenset[str]:
    """Field names selected on `type_name` (directly, via the interface, or in fragments).

    `@skip`/`@include` are not evaluated: a conditionally selected field is fetched anyway,
    which costs a column, never a wrong answer.
    """
    raw = info._raw_info
    names: set[str] = set()

    def walk(selection_set: SelectionSetNode | None) -> None:
        if selection_set is None:
            return
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                names.add(node.name.value)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition.name.value if node.type_condition else None
                if condition in (None, type_name, INTERFACE_NAME):
                    walk(node.selection_set)
            elif isinstance(node, FragmentSpreadNode):
                fragment = raw.fragments[node.name.value]
                if fragment.type_condition.name.value in (type_name, INTERFACE_NAME):
                    walk(fragment.selection_set)

    for field_node in raw.field_nodes:
        walk(field_node.selection_set)
    return frozenset(names)
