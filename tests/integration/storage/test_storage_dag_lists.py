"""Lists of DAGs as the API reads them: the common list's statements built once give what
a list built per request gives, and the tags of a page come back for any dag_id."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tradewind.storage.repositories import dags
from tradewind.storage.tables import DagRow, DagTagRow

pytestmark = pytest.mark.db

#: Ids a JSON array must carry intact: quotes, a backslash, non-ASCII, a comma.
IDS = ['a"quoted"', "b\\slash", "c_ünïcode", "d,comma", "e", "f", "g"]


def _add_dags(session: Session) -> None:
    for number, dag_id in enumerate(IDS):
        session.add(DagRow(dag_id=dag_id, is_active=number != 5))
        for tag in ("z", "a", f"t{number}")[: number % 3 + 1]:
            session.add(DagTagRow(dag_id=dag_id, name=tag))
    session.flush()


@pytest.mark.parametrize(("limit", "offset"), [(3, 0), (3, 3), (100, 0), (3, 6), (0, 0)])
def test_the_common_list_built_once_equals_the_list_built_per_request(
    session: Session, limit: int, offset: int
) -> None:
    _add_dags(session)
    built_once = dags.list_dag_records(session, limit=limit, offset=offset)
    # Any filter builds the statement: here one that keeps every DAG.
    built = dags.list_dag_records(session, limit=limit, offset=offset, dag_ids=set(IDS))

    assert built_once.total_entries == built.total_entries == 6
    assert built_once.items == built.items
    active = [dag_id for dag_id in IDS if dag_id != "f"]
    assert [row.dag_id for row in built_once.items] == active[offset : offset + limit]


def test_tag_names_of_any_dag_ids_sorted(session: Session) -> None:
    _add_dags(session)

    found = dags.tag_names(session, [*IDS, "unknown"])

    assert found == {
        'a"quoted"': ["z"],
        "b\\slash": ["a", "z"],
        "c_ünïcode": ["a", "t2", "z"],
        "d,comma": ["z"],
        "e": ["a", "z"],
        "f": ["a", "t5", "z"],
        "g": ["z"],
    }
    assert dags.tag_names(session, []) == {}
