"""run.py freezes the start-up heap before it serves (app/heap.py, issue 11's latency spikes)."""
import gc
import sys

import run
from app import heap


def test_run_serves_with_the_start_up_heap_frozen(monkeypatch):
    seen = {}
    thresholds = gc.get_threshold()

    def serve(app, **kwargs):
        seen.update(frozen=gc.get_freeze_count(), thresholds=gc.get_threshold(), app=app, **kwargs)

    monkeypatch.setattr(run, "serve", serve)
    monkeypatch.setattr(sys, "argv", ["run.py", "--port", "8099"])
    try:
        run.main()
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
    # the objects the app was built from are in the permanent generation: a full collection skips them
    assert seen["frozen"] > 10_000
    assert seen["thresholds"] == heap.THRESHOLDS
    assert seen["port"] == 8099 and seen["app"].appbuilder is not None
