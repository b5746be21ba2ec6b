"""Trigger rules: when a task may run, given the states of its direct upstream tasks.

:func:`evaluate` is pure: the scheduler's planner and the in-process runner of
``tradewind dags test`` both call it with counts of upstream states, so the
semantics of the fourteen rules (Airflow 2.10's, including the deprecated
``dummy`` and ``none_failed_or_skipped``) are written once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from tradewind.errors import DagDefinitionError
from tradewind.sdk.states import TaskInstanceState


class TriggerRule(StrEnum):
    ALL_SUCCESS = "all_success"
    ALL_FAILED = "all_failed"
    ALL_DONE = "all_done"
    ALL_DONE_SETUP_SUCCESS = "all_done_setup_success"
    ONE_SUCCESS = "one_success"
    ONE_FAILED = "one_failed"
    ONE_DONE = "one_done"
    NONE_FAILED = "none_failed"
    NONE_FAILED_OR_SKIPPED = "none_failed_or_skipped"
    NONE_SKIPPED = "none_skipped"
    NONE_FAILED_MIN_ONE_SUCCESS = "none_failed_min_one_success"
    ALL_SKIPPED = "all_skipped"
    ALWAYS = "always"
    DUMMY = "dummy"

    @classmethod
    def parse(cls, value: str | TriggerRule) -> TriggerRule:
        """Return the rule named ``value``; raise DagDefinitionError listing the valid names."""
        try:
            return cls(value)
        except ValueError:
            names = ", ".join(rule.value for rule in cls)
            raise DagDefinitionError(
                f"The trigger_rule must be one of {names}; got {value!r}."
            ) from None


class Verdict(StrEnum):
    """What the rule decides for the downstream task right now."""

    RUN = "run"
    WAIT = "wait"
    SKIP = "skip"
    UPSTREAM_FAILED = "upstream_failed"


@dataclass(frozen=True)
class UpstreamStates:
    """Counts of a task's direct upstream task instances by state.

    ``removed`` upstreams are not counted in ``total``, as in Airflow: a task that
    disappeared from the DAG should not hold its downstream back.
    """

    total: int = 0
    success: int = 0
    skipped: int = 0
    failed: int = 0
    upstream_failed: int = 0

    @classmethod
    def count(cls, states: Iterable[TaskInstanceState | str | None]) -> UpstreamStates:
        total = success = skipped = failed = upstream_failed = 0
        for state in states:
            if state == TaskInstanceState.REMOVED:
                continue
            total += 1
            if state == TaskInstanceState.SUCCESS:
                success += 1
            elif state == TaskInstanceState.SKIPPED:
                skipped += 1
            elif state == TaskInstanceState.FAILED:
                failed += 1
            elif state == TaskInstanceState.UPSTREAM_FAILED:
                upstream_failed += 1
        return cls(total, success, skipped, failed, upstream_failed)

    @property
    def done(self) -> int:
        return self.success + self.skipped + self.failed + self.upstream_failed

    @property
    def all_done(self) -> bool:
        return self.done >= self.total

    @property
    def failures(self) -> int:
        return self.failed + self.upstream_failed


def evaluate(rule: TriggerRule, up: UpstreamStates) -> Verdict:
    """Decide whether a task with ``rule`` may run given its upstream states.

    A task with no upstream tasks always runs. The verdict is final except for
    ``WAIT``, which means "ask again when another upstream finishes".
    """
    if up.total == 0 or rule in (TriggerRule.ALWAYS, TriggerRule.DUMMY):
        return Verdict.RUN
    return _RULES[rule](up)


def _all_success(up: UpstreamStates) -> Verdict:
    if up.failures:
        return Verdict.UPSTREAM_FAILED
    if up.skipped:
        return Verdict.SKIP
    return Verdict.RUN if up.success == up.total else Verdict.WAIT


def _all_failed(up: UpstreamStates) -> Verdict:
    if up.success or up.skipped:
        return Verdict.SKIP
    return Verdict.RUN if up.all_done else Verdict.WAIT


def _all_done(up: UpstreamStates) -> Verdict:
    return Verdict.RUN if up.all_done else Verdict.WAIT


def _one_success(up: UpstreamStates) -> Verdict:
    if up.success:
        return Verdict.RUN
    if not up.all_done:
        return Verdict.WAIT
    return Verdict.UPSTREAM_FAILED if up.failures else Verdict.SKIP


def _one_failed(up: UpstreamStates) -> Verdict:
    if up.failures:
        return Verdict.RUN
    return Verdict.SKIP if up.all_done else Verdict.WAIT


def _one_done(up: UpstreamStates) -> Verdict:
    if up.success or up.failed:
        return Verdict.RUN
    return Verdict.SKIP if up.all_done else Verdict.WAIT


def _none_failed(up: UpstreamStates) -> Verdict:
    if up.failures:
        return Verdict.UPSTREAM_FAILED
    return Verdict.RUN if up.all_done else Verdict.WAIT


def _none_failed_min_one_success(up: UpstreamStates) -> Verdict:
    if up.failures:
        return Verdict.UPSTREAM_FAILED
    if not up.all_done:
        return Verdict.WAIT
    return Verdict.RUN if up.success else Verdict.SKIP


def _none_skipped(up: UpstreamStates) -> Verdict:
    if up.skipped:
        return Verdict.SKIP
    return Verdict.RUN if up.all_done else Verdict.WAIT


def _all_skipped(up: UpstreamStates) -> Verdict:
    if up.success or up.failures:
        return Verdict.SKIP
    return Verdict.RUN if up.all_done else Verdict.WAIT


_RULES = {
    TriggerRule.ALL_SUCCESS: _all_success,
    TriggerRule.ALL_FAILED: _all_failed,
    TriggerRule.ALL_DONE: _all_done,
    # Without setup/teardown tasks, all_done_setup_success behaves as all_done.
    TriggerRule.ALL_DONE_SETUP_SUCCESS: _all_done,
    TriggerRule.ONE_SUCCESS: _one_success,
    TriggerRule.ONE_FAILED: _one_failed,
    TriggerRule.ONE_DONE: _one_done,
    TriggerRule.NONE_FAILED: _none_failed,
    TriggerRule.NONE_FAILED_OR_SKIPPED: _none_failed_min_one_success,
    TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS: _none_failed_min_one_success,
    TriggerRule.NONE_SKIPPED: _none_skipped,
    TriggerRule.ALL_SKIPPED: _all_skipped,
}
