"""Trigger rules against Airflow 2.10's ``TriggerRuleDep`` (with ``flag_upstream_failed``).

Each row: rule, the states of the direct upstream task instances, Airflow's verdict.
``None``/``running``/``up_for_retry`` upstreams are not done; ``removed`` ones do
not count at all.
"""

from __future__ import annotations

import pytest

from tradewind.errors import DagDefinitionError
from tradewind.sdk.states import TaskInstanceState
from tradewind.sdk.trigger_rules import TriggerRule, UpstreamStates, Verdict, evaluate

S = TaskInstanceState.SUCCESS
F = TaskInstanceState.FAILED
K = TaskInstanceState.SKIPPED
U = TaskInstanceState.UPSTREAM_FAILED
X = TaskInstanceState.REMOVED
R = TaskInstanceState.RUNNING
Y = TaskInstanceState.UP_FOR_RETRY
N = None

TR = TriggerRule
RUN, WAIT, SKIP, UPSTREAM_FAILED = Verdict.RUN, Verdict.WAIT, Verdict.SKIP, Verdict.UPSTREAM_FAILED

TABLE = [
    # all_success: any failure fails downstream at once, any skip skips it at once.
    (TR.ALL_SUCCESS, [S, S], RUN),
    (TR.ALL_SUCCESS, [S, R], WAIT),
    (TR.ALL_SUCCESS, [S, Y], WAIT),
    (TR.ALL_SUCCESS, [S, N], WAIT),
    (TR.ALL_SUCCESS, [S, F], UPSTREAM_FAILED),
    (TR.ALL_SUCCESS, [S, U], UPSTREAM_FAILED),
    (TR.ALL_SUCCESS, [R, F], UPSTREAM_FAILED),
    (TR.ALL_SUCCESS, [S, K], SKIP),
    (TR.ALL_SUCCESS, [R, K], SKIP),
    (TR.ALL_SUCCESS, [K, F], UPSTREAM_FAILED),
    (TR.ALL_SUCCESS, [S, X], RUN),
    # all_failed
    (TR.ALL_FAILED, [F, F], RUN),
    (TR.ALL_FAILED, [F, U], RUN),
    (TR.ALL_FAILED, [F, R], WAIT),
    (TR.ALL_FAILED, [F, S], SKIP),
    (TR.ALL_FAILED, [F, K], SKIP),
    (TR.ALL_FAILED, [R, S], SKIP),
    # all_done and all_done_setup_success (no setup tasks)
    (TR.ALL_DONE, [S, F, K, U], RUN),
    (TR.ALL_DONE, [S, R], WAIT),
    (TR.ALL_DONE, [F, N], WAIT),
    (TR.ALL_DONE_SETUP_SUCCESS, [F, K], RUN),
    (TR.ALL_DONE_SETUP_SUCCESS, [S, R], WAIT),
    # one_success
    (TR.ONE_SUCCESS, [S, R], RUN),
    (TR.ONE_SUCCESS, [F, S], RUN),
    (TR.ONE_SUCCESS, [F, R], WAIT),
    (TR.ONE_SUCCESS, [R, R], WAIT),
    (TR.ONE_SUCCESS, [F, F], UPSTREAM_FAILED),
    (TR.ONE_SUCCESS, [F, K], UPSTREAM_FAILED),
    (TR.ONE_SUCCESS, [U, K], UPSTREAM_FAILED),
    (TR.ONE_SUCCESS, [K, K], SKIP),
    # one_failed
    (TR.ONE_FAILED, [F, R], RUN),
    (TR.ONE_FAILED, [U, R], RUN),
    (TR.ONE_FAILED, [S, R], WAIT),
    (TR.ONE_FAILED, [S, K], SKIP),
    (TR.ONE_FAILED, [S, S], SKIP),
    # one_done: success or failed counts, upstream_failed and skipped do not
    (TR.ONE_DONE, [S, R], RUN),
    (TR.ONE_DONE, [F, R], RUN),
    (TR.ONE_DONE, [K, R], WAIT),
    (TR.ONE_DONE, [U, R], WAIT),
    (TR.ONE_DONE, [K, K], SKIP),
    (TR.ONE_DONE, [U, K], SKIP),
    # none_failed
    (TR.NONE_FAILED, [S, K], RUN),
    (TR.NONE_FAILED, [K, K], RUN),
    (TR.NONE_FAILED, [S, R], WAIT),
    (TR.NONE_FAILED, [F, R], UPSTREAM_FAILED),
    (TR.NONE_FAILED, [U, S], UPSTREAM_FAILED),
    # none_failed_min_one_success and its deprecated name
    (TR.NONE_FAILED_MIN_ONE_SUCCESS, [S, K], RUN),
    (TR.NONE_FAILED_MIN_ONE_SUCCESS, [K, K], SKIP),
    (TR.NONE_FAILED_MIN_ONE_SUCCESS, [K, R], WAIT),
    (TR.NONE_FAILED_MIN_ONE_SUCCESS, [S, R], WAIT),
    (TR.NONE_FAILED_MIN_ONE_SUCCESS, [F, S], UPSTREAM_FAILED),
    (TR.NONE_FAILED_MIN_ONE_SUCCESS, [U, K], UPSTREAM_FAILED),
    (TR.NONE_FAILED_OR_SKIPPED, [S, K], RUN),
    (TR.NONE_FAILED_OR_SKIPPED, [K, K], SKIP),
    (TR.NONE_FAILED_OR_SKIPPED, [F, S], UPSTREAM_FAILED),
    # none_skipped: failures do not matter
    (TR.NONE_SKIPPED, [S, S], RUN),
    (TR.NONE_SKIPPED, [S, F], RUN),
    (TR.NONE_SKIPPED, [S, U], RUN),
    (TR.NONE_SKIPPED, [S, R], WAIT),
    (TR.NONE_SKIPPED, [S, K], SKIP),
    (TR.NONE_SKIPPED, [K, R], SKIP),
    # all_skipped
    (TR.ALL_SKIPPED, [K, K], RUN),
    (TR.ALL_SKIPPED, [K, R], WAIT),
    (TR.ALL_SKIPPED, [K, S], SKIP),
    (TR.ALL_SKIPPED, [K, F], SKIP),
    (TR.ALL_SKIPPED, [K, U], SKIP),
    (TR.ALL_SKIPPED, [R, S], SKIP),
    # always and its deprecated name dummy
    (TR.ALWAYS, [F, R], RUN),
    (TR.ALWAYS, [U, K], RUN),
    (TR.DUMMY, [N], RUN),
]


@pytest.mark.parametrize(
    ("rule", "states", "verdict"),
    TABLE,
    ids=[f"{rule}-{'-'.join(str(s) for s in states)}" for rule, states, _ in TABLE],
)
def test_rule_verdict_matches_airflow(
    rule: TriggerRule, states: list[TaskInstanceState | None], verdict: Verdict
) -> None:
    assert evaluate(rule, UpstreamStates.count(states)) == verdict


def test_every_rule_is_covered_by_the_table() -> None:
    assert {rule for rule, _, _ in TABLE} == set(TriggerRule)


@pytest.mark.parametrize("rule", list(TriggerRule))
def test_task_without_upstreams_always_runs(rule: TriggerRule) -> None:
    assert evaluate(rule, UpstreamStates()) == Verdict.RUN


@pytest.mark.parametrize("rule", list(TriggerRule))
def test_only_removed_upstreams_count_as_none(rule: TriggerRule) -> None:
    assert evaluate(rule, UpstreamStates.count([X, X])) == Verdict.RUN


def test_count_accepts_state_strings() -> None:
    counted = UpstreamStates.count(["success", "failed", "skipped", "upstream_failed", None])
    assert counted == UpstreamStates(total=5, success=1, skipped=1, failed=1, upstream_failed=1)
    assert (counted.done, counted.all_done, counted.failures) == (4, False, 2)


def test_parse_accepts_names_and_members() -> None:
    assert TriggerRule.parse("one_failed") is TriggerRule.ONE_FAILED
    assert TriggerRule.parse(TriggerRule.ALWAYS) is TriggerRule.ALWAYS


def test_parse_rejects_unknown_rule_listing_valid_ones() -> None:
    with pytest.raises(DagDefinitionError) as caught:
        TriggerRule.parse("sometimes")
    message = str(caught.value)
    assert message.startswith("The trigger_rule must be one of all_success, all_failed,")
    assert message.endswith("; got 'sometimes'.")
