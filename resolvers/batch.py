"""Batch resolvers: a field's values for a whole list of objects at once.

A field whose value comes through dataloaders (`JournalLine.account`, `SourceLink.record`)
is declared with its batch resolver in the field's metadata:

    @strawberry.field(metadata=batched(accounts_of))
    async def account(self, info: Info) -> Account:
        return await one(accounts_of, info, self)

`accounts_of(info, lines)` returns, aligned with `lines`, each line's value, or the
exception its resolver raises for that line (`each` builds such a list). The field's own
resolver is the batch resolver over one object, so graphql-core's path (one resolver call
per object, batched by the loaders) and the compiled path (`resolvers.compiled`: one call
per field for a whole level of objects) run the same code and see the same values and
errors. A batch resolver must not depend on anything of the object but the object (its
`info` is the level's: the same field nodes, context and variables for every object; its
path is the list's, not an item's), and takes no field arguments.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
BatchResolver = Callable[[Any, Sequence[Any]], Awaitable[list[Any]]]

BATCH_KEY = "ledgergate.batch"


def batched(resolver: BatchResolver) -> dict[str, BatchResolver]:
    """Field metadata naming the field's batch resolver."""
    return {BATCH_KEY: resolver}


def batch_resolver(strawberry_field: Any) -> BatchResolver | None:
    metadata = getattr(strawberry_field, "metadata", None) or {}
    return metadata.get(BATCH_KEY)


async def one(resolver: BatchResolver, info: Any, obj: Any) -> Any:
    """The value for one object, as graphql-core's path resolves it: raised if an error."""
    [value] = await resolver(info, [obj])
    if isinstance(value, Exception):
        raise value
    return value


def each(make: Callable[[T], Any], values: Iterable[T]) -> list[Any]:
    """`make(v)` for every value, or the exception it raised, in place of that value."""
    out: list[Any] = []
    for value in values:
        try:
            out.append(make(value))
        except Exception as error:  # noqa: BLE001 - the object's own error, raised by `one`
            out.append(error)
    return out
