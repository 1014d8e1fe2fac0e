"""The server's garbage collector after start-up.

A built app holds a few hundred thousand long-lived objects (FAB's views, forms, SQLAlchemy mappers,
the translation catalogues). CPython's full (generation 2) collection walks all of them; with the
default thresholds about 40 % of the list requests of a big database triggered one, 100-120 ms each
(issue 11). `settle()` collects once and moves what survives into the permanent generation
(`gc.freeze()`), so a full collection walks only what requests create; the first threshold goes up
so that a list page of ORM objects does not start a collection every 700 allocations.
"""
from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 20)


def settle() -> int:
    """Freeze the start-up heap and raise the thresholds; returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    return gc.get_freeze_count()
