"""Page runs take turns (app_state.run_slot): never more than the slots at once, every waiting
run gets its turn, and a run that ends in an exception (st.stop, st.rerun, an error) frees its
slot."""
from __future__ import annotations

import threading
import time

import pytest

import app_state


def test_at_most_the_slots_run_at_once_and_all_get_their_turn():
    slots = app_state._RUN_SLOTS._initial_value
    assert slots == 2                      # the default (TIENDO_RUN_SLOTS unset in tests)
    lock, running, peak, done = threading.Lock(), [0], [0], []

    def page(i):
        with app_state.run_slot():
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.03)
            with lock:
                running[0] -= 1
            done.append(i)

    threads = [threading.Thread(target=page, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(done) == list(range(8))
    assert peak[0] == slots


def test_an_exception_frees_the_slot():
    for _ in range(5):                     # more times than there are slots
        with pytest.raises(RuntimeError):
            with app_state.run_slot():
                raise RuntimeError("st.stop() or an error in a page")
    got = [app_state._RUN_SLOTS.acquire(blocking=False) for _ in range(2)]
    try:
        assert got == [True, True]
    finally:
        for ok in got:
            if ok:
                app_state._RUN_SLOTS.release()
