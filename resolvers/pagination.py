"""Relay connections: `edges { cursor node }` and `pageInfo { hasNextPage endCursor }`."""

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import strawberry

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo


def connection(
    rows: Sequence, has_next: bool, to_node: Callable, to_cursor: Callable[..., str]
) -> Connection:
    edges = [Edge(cursor=to_cursor(row), node=to_node(row)) for row in rows]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=has_next, end_cursor=edges[-1].cursor if edges else None),
    )
