"""Page runs take turns (app_state.run_slot): never more than the slots at once, every waiting
run gets its turn, and a run that ends in an exception (st.stop, st.rerun, an error) frees its
slot."""
from __future__ import annotations

import threading
import time

import pytest

import app_state


def _waiting_for_a_slot() -> int:
    """Threads blocked in run_slot's acquire (CPython's Condition inside the semaphore)."""
    return len(app_state._RUN_SLOTS._cond._waiters)


def _wait_until(cond, what: str, timeout: float = 10.0) -> None:
    """Poll ``cond`` until it holds; fail after ``timeout`` s (an event, not a delay)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"not reached in {timeout:.0f} s: {what}")
        time.sleep(0.005)


def test_at_most_the_slots_run_at_once_and_all_get_their_turn():
    """Each page holds its slot until the test lets it go, so the moment "the slots are full
    and every other run waits" is an event the test waits for, not something a delay inside
    the page makes likely; then the pages are let go one by one and each waiting run takes
    the freed slot."""
    slots = app_state._RUN_SLOTS._initial_value
    assert slots == 2                      # the default (TIENDO_RUN_SLOTS unset in tests)
    n = 8
    lock, inside, peak, done = threading.Lock(), set(), [0], []
    go = [threading.Event() for _ in range(n)]

    def page(i):
        with app_state.run_slot():
            with lock:
                inside.add(i)
                peak[0] = max(peak[0], len(inside))
            go[i].wait(10)
            with lock:
                inside.discard(i)
        done.append(i)

    threads = [threading.Thread(target=page, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    try:
        for k in range(n):
            left = n - k
            _wait_until(lambda: len(inside) == min(slots, left) and _waiting_for_a_slot() == max(0, left - slots),
                        f"{min(slots, left)} runs in their slots and {max(0, left - slots)} waiting "
                        f"(seen {len(inside)} and {_waiting_for_a_slot()})")
            assert peak[0] == min(slots, n), f"{peak[0]} runs at once"
            with lock:
                first = min(inside)
            go[first].set()
            _wait_until(lambda: first in done, f"run {first} ends once let go")
    finally:
        for e in go:
            e.set()
        for t in threads:
            t.join(10)
    assert sorted(done) == list(range(n))
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
