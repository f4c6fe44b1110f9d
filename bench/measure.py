"""Run a command as a child process and report wall time and peak resident memory.

Why a child process: DuckDB allocates outside Python's allocator, so the honest peak memory of a
step is the child's max RSS (from wait4), not tracemalloc."""
from __future__ import annotations

import os
import subprocess
import sys
import time


def run(cmd: list[str], env: dict | None = None, quiet: bool = True) -> tuple[float, float, str]:
    """→ (seconds, peak MB, stdout)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})})
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stderr.write(out)
        raise SystemExit(f"command failed ({code}): {' '.join(cmd)}")
    if not quiet:
        sys.stdout.write(out)
    return seconds, usage.ru_maxrss / 1024.0, out


def du_mb(path) -> float:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total / 1e6
