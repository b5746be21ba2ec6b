"""``DagStatsCollectionSchema``: how many runs of each DAG are in each state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tradewind.api.schemas.base import ResponseBody
from tradewind.sdk.states import DagRunState


class DagStatsStateCollectionItem(ResponseBody):
    state: str
    count: int


class DagStatsCollectionItem(ResponseBody):
    dag_id: str
    stats: list[DagStatsStateCollectionItem] | None


class DagStatsCollectionSchema(ResponseBody):
    dags: list[DagStatsCollectionItem]
    total_entries: int

    @classmethod
    def from_counts(
        cls, dag_ids: Sequence[str], counts: Mapping[tuple[str, str], int]
    ) -> DagStatsCollectionSchema:
        """One item per DAG of ``dag_ids``, counting every run state (zero included).

        Args:
            counts: runs per ``(dag_id, state)``.
        """
        return cls(
            dags=[
                DagStatsCollectionItem(
                    dag_id=dag_id,
                    stats=[
                        DagStatsStateCollectionItem(
                            state=state.value, count=counts.get((dag_id, state.value), 0)
                        )
                        for state in DagRunState
                    ],
                )
                for dag_id in dag_ids
            ],
            total_entries=len(dag_ids),
        )
