"""freeze_startup_objects: what a serving process built is left out of full collections."""

from __future__ import annotations

import gc

from tradewind.processes import freeze_startup_objects


def test_objects_built_before_serving_are_frozen() -> None:
    try:
        freeze_startup_objects()
        assert gc.get_freeze_count() > 0
        # Garbage made afterwards is still collected.
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()  # the test process goes on collecting as before
