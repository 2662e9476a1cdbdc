"""Level-at-a-time completion of compiled plans with batch-resolved fields.

graphql-core resolves a dataloader-backed field once per object: for a page of lines with
their account and source links that is a resolver call, a `GraphQLResolveInfo`, a
coroutine, a task and a future per line and field, about 30 µs each, far more than the
SQL. A plan (`resolvers.compiled`) whose selection reaches fields declared with a batch
resolver (`resolvers.batch`) is completed here instead, breadth first:

1. the plan's generated code builds every item's result dict from its plain attributes,
   leaving each batch-resolved field at None and noting (object, dict, item) in `Pending`;
2. each noted field is resolved for all its objects at once, one batch resolver call per
   field and level (all the fields of a level concurrently), and each value is completed
   by the slot's generated code, which notes the next level's batch fields; and so on
   until nothing is pending.

Each list or object graphql-core hands over completes its own levels; sibling root fields
(three aliased `journalEntries`, say) still share one batch per field and level when their
levels start in the same tick, since their loads meet in the request's loaders. That is why
`journalEntries` reads its page through a loader too (`EntryPageLoader`): the pages of
sibling root fields come back in one batch, and everything below them stays in step.

A batch resolver's error for one object, on a nullable field (`SourceLink.record`: the
source is down, the record is missing), leaves that field null and is reported as
graphql-core reports a field error: located at the field's nodes, with its path (found by
walking the item's result once, only when it has errors). The errors come in document
order; graphql-core lists the same errors in the order its dataloaders settle them.

An item (of the list, or the single object, graphql-core handed to the plan) for which
anything else is not the normal case — its builder gives up, a batch resolver answers an
error for a non-null field or raises, a value does not fit — is **handed back to
graphql-core** whole, as the compiled path always does: graphql-core completes it again
through the per-object resolvers (which are the same batch resolvers over one object, their
loads now answered from the request's loader caches: no statement and no source call is
repeated), so the error, its path and location and the null it propagates are
graphql-core's. Its sub-lists come back to the compiled path, so a failure is narrowed down
level by level. The items of a list are handed back as graphql-core completes a list:
their synchronous parts first, then their awaitables in order.

Authorization is the plan's (`CompiledExecutor._plan`): a plan is used only if the caller
holds every scope of every field it reads, batch-resolved ones included; data-dependent
checks (a source system's read scope) run inside the batch resolvers, as in the resolvers.
"""

from __future__ import annotations

import asyncio
from typing import Any

from graphql import located_error


class Pending:
    """Per completion: the objects noted for each slot of the plan, with the item they
    belong to (`owner`: set before each item is built, and before each value completed),
    and the errors of nullable batch fields, per item (`errors`: the dict holding the
    field, the slot, the error)."""

    __slots__ = ("errors", "owner", "slots")

    def __init__(self, count: int):
        self.slots: list[list[tuple[Any, dict, int]]] = [[] for _ in range(count)]
        self.owner = 0
        self.errors: dict[int, list[tuple[dict, Any, Exception]]] = {}


async def resolve_pending(executor, plan, pending: Pending, failed: set[int], path) -> None:
    """Resolve every noted batch field, level after level; items whose resolution does
    not fit are added to `failed`. An error for a nullable field leaves it null and is
    kept for `report_errors`; one for a non-null field fails the item (its null bubbles
    up: graphql-core's business). The objects under a failed item are resolved all the
    same, as graphql-core resolves every sibling of a failing field: when the item is
    handed back, its loads are answered from the loaders' caches."""
    slots = plan.slots
    while True:
        work = [(slot, entries) for slot, entries in zip(slots, pending.slots, strict=True) if entries]
        if not work:
            return
        pending.slots = [[] for _ in slots]
        answers = await asyncio.gather(
            *(_resolve(executor, slot, [e[0] for e in entries], path) for slot, entries in work),
            return_exceptions=True,
        )
        for (slot, entries), values in zip(work, answers, strict=True):
            if isinstance(values, BaseException):
                if not isinstance(values, Exception):
                    raise values
                failed.update(e[2] for e in entries)  # graphql-core reports it, per object
                continue
            complete, name, nullable = slot.complete, slot.response_name, slot.nullable
            for (_, result, owner), value in zip(entries, values, strict=True):
                if isinstance(value, Exception):
                    if nullable:
                        pending.errors.setdefault(owner, []).append((result, slot, value))
                    else:
                        failed.add(owner)
                    continue
                pending.owner = owner
                try:
                    result[name] = complete(value, pending)
                except Exception:  # noqa: BLE001 - does not fit: graphql-core completes the item
                    failed.add(owner)


def report_errors(executor, pending: Pending, failed: set[int], built: list, paths) -> None:
    """The errors of nullable batch fields of the items that were not handed back, as
    graphql-core reports a field error (`handle_field_error`): located at the field's
    nodes and path. `paths(owner)` is the item's path; the path below it is found by
    walking the item's result, once per item with errors."""
    for owner, errors in pending.errors.items():
        if owner in failed:
            continue  # handed back: graphql-core reports them itself
        below = _paths(built[owner], paths(owner))
        for result, slot, error in errors:
            where = below[id(result)].add_key(slot.response_name, slot.parent_type.name)
            executor.collected_errors.add(located_error(error, slot.field_nodes, where.as_list()), where)


def _paths(root, start) -> dict[int, Any]:
    """id(dict) → its `Path`, for every dict under `root` (a result: dicts and lists)."""
    found: dict[int, Any] = {}
    stack = [(root, start)]
    while stack:
        value, where = stack.pop()
        if type(value) is dict:
            found[id(value)] = where
            stack.extend((v, where.add_key(k, None)) for k, v in value.items() if type(v) in (dict, list))
        elif type(value) is list:
            stack.extend((v, where.add_key(i, None)) for i, v in enumerate(value) if type(v) in (dict, list))
    return found


async def _resolve(executor, slot, objects: list, path) -> list:
    raw = executor.build_resolve_info(slot.field_def, slot.field_nodes, slot.parent_type, path)
    info = executor.strawberry_info(raw, slot.strawberry_field)
    values = await slot.resolver(info, objects)
    if len(values) != len(objects):
        raise RuntimeError(f"{slot.parent_type.name}.{slot.field_nodes[0].name.value}: the batch "
                           f"resolver answered {len(values)} values for {len(objects)} objects")
    return values


async def complete_object(executor, plan, return_type, field_details_list, info, path, result, position_context):
    """A single object (a connection, an account) whose plan has batch-resolved fields."""
    pending = Pending(len(plan.slots))
    failed: set[int] = set()
    try:
        built = plan.build(result, pending)
    except Exception:  # noqa: BLE001 - does not fit: graphql-core completes it
        failed.add(0)
    else:
        await resolve_pending(executor, plan, pending, failed, path)
    if not failed:
        report_errors(executor, pending, failed, [built], lambda _owner: path)
        executor.plans.served += 1
        return built
    executor.plans.handed_back += 1
    completed = executor.complete_handed_back_object(
        return_type, field_details_list, info, path, result, position_context
    )
    return await completed if executor.is_awaitable(completed) else completed


async def complete_list(executor, plan, item_type, field_details_list, info, path, items, position_context):
    """A list of objects whose plan has batch-resolved fields (no awaitable items)."""
    nullable = item_type is not None and not _non_null(item_type)
    pending = Pending(len(plan.slots))
    failed: set[int] = set()
    completed: list[Any] = []
    build = plan.build
    for index, item in enumerate(items):
        if item is None and nullable:
            completed.append(None)
            continue
        pending.owner = index
        try:
            completed.append(build(item, pending))
        except Exception:  # noqa: BLE001 - does not fit: graphql-core completes it
            completed.append(None)
            failed.add(index)
    await resolve_pending(executor, plan, pending, failed, path)
    report_errors(executor, pending, failed, completed, lambda owner: path.add_key(owner, None))
    if not failed:
        executor.plans.served += 1
        return completed
    executor.plans.handed_back += 1
    executor.plans.served += len(failed) < len(items)
    # As graphql-core completes a list: every item's synchronous part first (a null in a
    # non-null field raises here, before any sibling's errors), then the awaitables, one
    # after the other, so that their errors come in document order (their loads are
    # cached: nothing waits on I/O).
    awaited: list[int] = []
    try:
        for index in sorted(failed):
            if executor.complete_handed_back_item(
                items[index], index, completed, item_type, field_details_list, info, path, position_context
            ):
                awaited.append(index)
    except Exception:
        _settle(executor, [completed[i] for i in awaited])
        raise
    for position, index in enumerate(awaited):
        try:
            completed[index] = await completed[index]
        except Exception:
            _settle(executor, [completed[i] for i in awaited[position + 1:]])
            raise
    return completed


def _settle(executor, awaitables: list) -> None:
    """The siblings of a null that bubbles up are settled aside, as graphql-core does."""
    if awaitables:
        executor.settle_in_background(awaitables)


def _non_null(gql_type) -> bool:
    from graphql import GraphQLNonNull

    return isinstance(gql_type, GraphQLNonNull)
