"""run.py caps glibc's malloc arenas before the server's threads start, unless MALLOC_ARENA_MAX is set
(glibc then reads it itself)."""
import sys

import pytest

import run


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_arenas_are_capped_unless_the_environment_says_otherwise(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert run.cap_malloc_arenas() == run.DEFAULT_ARENAS == 2
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert run.cap_malloc_arenas() == 0
