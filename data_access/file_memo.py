"""Small values read from files (the snapshot list, the operational store's versions, the
campaign, the SQL fingerprint), remembered until one of those files changes.

Why: every page view needs them, and on deadline day 30 offices load pages at once. Reading
them afresh on every run (a folder listing, two SQLite opens, a TOML parse, hashing the SQL
files) cost ~30 % of the server's CPU in the load test. A stat() of each file is what they
cost now; the answer stays exact because:
- the key is (size, mtime_ns, inode) of every file the value is read from, so another process
  that imports a snapshot (atomic rename into the folder) or writes ops.sqlite (its -wal file
  grows) changes the key;
- writes made by this process bump ``generation`` (ops.py calls ``bump`` after each commit),
  which is part of every key;
- file times are only as fine as the kernel's clock tick (a few ms), so a value is also
  re-read when it is older than ``MAX_AGE`` seconds: two writes in the same tick that leave a
  file the same size are seen at most that late.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Callable, Hashable, Iterable, TypeVar

T = TypeVar("T")

MAX_AGE = 2.0   # seconds

_lock = threading.Lock()
_memo: dict[Hashable, tuple[tuple, float, object]] = {}
_generation = 0


def bump() -> None:
    """This process changed one of the files: forget every remembered value."""
    global _generation
    with _lock:
        _generation += 1
        _memo.clear()


def generation() -> int:
    """Bumped by every write of this process (``bump``): part of keys kept elsewhere."""
    return _generation


def file_key(paths: Iterable[str | Path]) -> tuple:
    """(size, mtime_ns, inode) of each path; None for a missing one."""
    out = []
    for p in paths:
        try:
            s = os.stat(p)
            out.append((s.st_size, s.st_mtime_ns, s.st_ino))
        except OSError:
            out.append(None)
    return tuple(out)


def remembered(name: Hashable, paths: Iterable[str | Path], compute: Callable[[], T],
               max_age: float = MAX_AGE) -> T:
    """``compute()``, or the value it gave last time for ``name`` if none of ``paths`` changed
    since and it is younger than ``max_age``. Callers must not mutate the value."""
    key = (_generation, file_key(paths))
    now = time.monotonic()
    with _lock:
        hit = _memo.get(name)
    if hit is not None and hit[0] == key and now - hit[1] < max_age:
        return hit[2]   # type: ignore[return-value]
    value = compute()
    with _lock:
        if key[0] == _generation:   # not invalidated while computing
            _memo[name] = (key, now, value)
    return value
