"""Test-only pause points of the import: ``TIENDO_TEST_PAUSE_AT=<phase>`` makes the process
stop at exactly that moment.

Why: the kill tests (tests/test_restarts.py, tests/test_ingest.py) must kill an import in a
given phase (hashing, between two tables, just before or just after the rename, while deriving)
whatever the machine's speed. A delay after a progress line landed in the wrong phase on a fast
machine (issue 14: the "Ghi snapshot" moment found the snapshot already published). At a pause
point named in the variable the process prints ``TIENDO_TEST_PAUSE <phase>`` on stderr
(flushed) and waits for SIGUSR1 (then goes on) or a kill; the test reads the line, then acts.

Phases: ``hash`` (after the first file is hashed, the others not), ``load:<table>`` (the DuckDB
file holds the tables before it, not this one), ``publish`` (built and closed, not renamed),
``published`` (renamed, content lock still held), ``derive`` (derived Parquet files written in
tmp/, not yet moved into derived/). Unset (always, outside tests) it does nothing.
"""
from __future__ import annotations

import os
import signal
import sys

ENV = "TIENDO_TEST_PAUSE_AT"


def pause(phase: str) -> None:
    wanted = os.environ.get(ENV)
    if not wanted or phase not in wanted.split(","):
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    try:
        print(f"TIENDO_TEST_PAUSE {phase}", file=sys.stderr, flush=True)
        signal.sigwait({signal.SIGUSR1})
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
