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


def test_long_work_gives_the_slot_back_meanwhile():
    """A run building a city workbook does not hold the others: during long_work both slots
    are free for other sessions; after it the run holds its slot again."""
    entered, release = threading.Event(), threading.Event()
    during = []

    def export_run():
        with app_state.run_slot():
            with app_state.long_work():
                entered.set()
                release.wait(5)
            during.extend(app_state._RUN_SLOTS.acquire(blocking=False) for _ in range(2))
            for ok in during:                                             # it holds one again
                if ok:
                    app_state._RUN_SLOTS.release()

    t = threading.Thread(target=export_run)
    t.start()
    assert entered.wait(5)
    got = [app_state._RUN_SLOTS.acquire(blocking=False) for _ in range(2)]   # others' turns
    for ok in got:
        if ok:
            app_state._RUN_SLOTS.release()
    release.set()
    t.join(5)
    assert got == [True, True] and during == [True, False]
    with app_state.long_work():        # outside any slot: nothing to give back, nothing taken
        pass
    got = [app_state._RUN_SLOTS.acquire(blocking=False) for _ in range(3)]
    for ok in got:
        if ok:
            app_state._RUN_SLOTS.release()
    assert got == [True, True, False]
