"""Graph computations over task ids: order, reachability and priority weights.

The scheduler and API ask these of every serialized DAG, often on each tick, so each
is linear in tasks + edges (one pass in topological order, memoised per task) rather
than a DFS per task: a 1,000-task chain must not cost a million steps. Priority
weights use Python ints as bitsets of task indexes, so "all downstream tasks of t" is
a handful of machine words OR-ed together instead of a Python set per task.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence

from tradewind.errors import CycleError
from tradewind.sdk.weight_rule import WeightRule

Edges = Mapping[str, Sequence[str]]

#: Above this many distinct weights, a task's total is summed bit by bit rather than
#: by one mask per distinct weight (the usual DAG has one or two distinct weights).
_MAX_WEIGHT_MASKS = 32


def topological_order(task_ids: Sequence[str], downstream: Edges, upstream: Edges) -> list[str]:
    """``task_ids`` ordered so every task follows its upstream tasks.

    Ties keep definition order (then sorted downstream ids), so the order is stable.

    Raises:
        CycleError: the edges contain a cycle (only possible in a hand-made document;
            the DAG processor refuses cyclic DAGs before serializing them).
    """
    waiting = {task_id: len(upstream[task_id]) for task_id in task_ids}
    ready = deque(task_id for task_id in task_ids if waiting[task_id] == 0)
    ordered: list[str] = []
    while ready:
        task_id = ready.popleft()
        ordered.append(task_id)
        for down in downstream[task_id]:
            waiting[down] -= 1
            if waiting[down] == 0:
                ready.append(down)
    if len(ordered) != len(task_ids):
        stuck = sorted(task_id for task_id, count in waiting.items() if count > 0)
        raise CycleError(f"Cycle detected among tasks: {', '.join(stuck)}")
    return ordered


def reachable(start: Iterable[str], edges: Edges) -> set[str]:
    """Every task reachable from ``start`` along ``edges`` (``start`` itself excluded
    unless a path leads back to it, which cannot happen in a DAG)."""
    found: set[str] = set()
    frontier = list(start)
    while frontier:
        for nxt in edges[frontier.pop()]:
            if nxt not in found:
                found.add(nxt)
                frontier.append(nxt)
    return found


def priority_weights(
    order: Sequence[str],
    downstream: Edges,
    upstream: Edges,
    weights: Mapping[str, int],
    rules: Mapping[str, WeightRule],
) -> dict[str, int]:
    """Each task's effective priority (Airflow's ``priority_weight_total``).

    ``downstream``: own weight + the weights of all tasks downstream of it;
    ``upstream``: own + all upstream; ``absolute``: own weight only. A task reached
    along two paths counts once.

    Args:
        order: task ids in topological order (see :func:`topological_order`).
        downstream, upstream: direct neighbours of each task.
        weights: each task's own ``priority_weight``.
        rules: each task's ``weight_rule``.
    """
    index = {task_id: i for i, task_id in enumerate(order)}
    wanted = set(rules.values())
    below = _closure(reversed(order), downstream, index) if WeightRule.DOWNSTREAM in wanted else {}
    above = _closure(order, upstream, index) if WeightRule.UPSTREAM in wanted else {}
    total_of = _mask_summer(order, weights)
    result: dict[str, int] = {}
    for task_id in order:
        rule = rules[task_id]
        own = weights[task_id]
        if rule == WeightRule.DOWNSTREAM:
            result[task_id] = own + total_of(below[task_id])
        elif rule == WeightRule.UPSTREAM:
            result[task_id] = own + total_of(above[task_id])
        else:
            result[task_id] = own
    return result


def _closure(order: Iterable[str], edges: Edges, index: Mapping[str, int]) -> dict[str, int]:
    """Bitset of every task reachable along ``edges``; ``order`` visits targets first."""
    masks: dict[str, int] = {}
    for task_id in order:
        mask = 0
        for nxt in edges[task_id]:
            mask |= masks[nxt] | (1 << index[nxt])
        masks[task_id] = mask
    return masks


def _mask_summer(order: Sequence[str], weights: Mapping[str, int]) -> Callable[[int], int]:
    """A function summing the weights of the tasks in a bitset."""
    by_weight: dict[int, int] = {}
    for i, task_id in enumerate(order):
        weight = weights[task_id]
        by_weight[weight] = by_weight.get(weight, 0) | (1 << i)
    if len(by_weight) <= _MAX_WEIGHT_MASKS:
        groups = [(weight, mask) for weight, mask in by_weight.items() if weight]
        return lambda mask: sum(weight * (mask & group).bit_count() for weight, group in groups)
    per_index = [weights[task_id] for task_id in order]

    def bit_by_bit(mask: int) -> int:
        total = 0
        while mask:
            low = mask & -mask
            total += per_index[low.bit_length() - 1]
            mask ^= low
        return total

    return bit_by_bit
