"""Fixtures of the services tests: the ``etl`` DAG stored, and a maker of runs of it."""

from __future__ import annotations

import pytest
from services_support import RunMaker, build_etl, run_maker, store_dag
from sqlalchemy.orm import Session

from tradewind.serialization import SerializedDAG


@pytest.fixture
def etl(session: Session) -> SerializedDAG:
    serialized = store_dag(session, build_etl())
    session.commit()
    return serialized


@pytest.fixture
def make_run(session: Session, etl: SerializedDAG) -> RunMaker:
    return run_maker(session, etl)
