"""The emulator's state process moves what survives a collection out of the generations
(braze_emulator/__main__.py), so its growing set of profiles is never rescanned."""

from __future__ import annotations

import gc
import weakref

import pytest

from braze_emulator import __main__ as cli


@pytest.fixture
def hook():
    cli.freeze_after_collections()
    try:
        yield
    finally:
        gc.callbacks.remove(cli._freeze_survivors)
        gc.unfreeze()


class Node:
    def __init__(self) -> None:
        self.me = self


def test_survivors_of_a_young_collection_leave_the_generations(hook):
    before = gc.get_freeze_count()
    kept = [[i] for i in range(50_000)]  # long-lived containers, like the profiles
    gc.collect(0)
    assert gc.get_freeze_count() - before >= len(kept)
    assert sum(gc.get_count()) < 1_000  # nothing left for a later collection to rescan
    cli.freeze_after_collections()  # installing twice keeps one hook
    assert gc.callbacks.count(cli._freeze_survivors) == 1


def test_young_cycles_are_still_collected(hook):
    node = Node()
    ref = weakref.ref(node)
    del node
    gc.collect(0)
    assert ref() is None


def test_without_the_hook_survivors_stay_in_the_generations():
    assert cli._freeze_survivors not in gc.callbacks
    before = gc.get_freeze_count()
    kept = [[i] for i in range(50_000)]
    gc.collect(0)
    assert gc.get_freeze_count() == before and kept
