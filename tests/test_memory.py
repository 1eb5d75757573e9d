"""Pausing the cyclic garbage collector for bulk work."""

from __future__ import annotations

import gc

from closedloop.lib.memory import collector_paused


def test_the_collector_is_paused_inside_and_resumed_after_even_on_error():
    assert gc.isenabled()
    try:
        with collector_paused():
            assert not gc.isenabled()
            raise RuntimeError("the bulk step failed")
    except RuntimeError:
        pass
    assert gc.isenabled()


def test_a_collector_paused_already_stays_paused():
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # whoever paused it resumes it
    finally:
        gc.enable()
